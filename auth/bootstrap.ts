/**
 * The first administrator: created from `CAUSERIE_ADMIN_PASSWORD` (or the file
 * `CAUSERIE_ADMIN_PASSWORD_FILE` names, e.g. a Docker secret) when no admin
 * exists. There is no default password anywhere.
 *
 * @module
 */

import type { Store } from "../store/store.ts";
import { hashPassword } from "./password.ts";

/** What {@link ensureAdmin} did. */
export type BootstrapOutcome = "exists" | "created" | "promoted" | "missing";

/**
 * Makes sure an admin exists. With no admin and a password, creates user
 * `admin` (or, if an account named `admin` exists without the role, gives it
 * the role and the password). With neither, returns `"missing"`.
 */
export async function ensureAdmin(
  store: Store,
  password: string | undefined,
  now: number,
): Promise<BootstrapOutcome> {
  if (await store.hasAdmin()) return "exists";
  if (password === undefined) return "missing";
  const passwordHash = await hashPassword(password);
  const existing = await store.userByName("admin");
  if (existing) {
    await store.setPassword(existing.id, passwordHash);
    await store.setRole(existing.id, "admin");
    return "promoted";
  }
  await store.createUser({ username: "admin", alias: "admin", passwordHash, role: "admin" }, now);
  return "created";
}

/** The start-up line printed when no admin exists and none can be created. */
export const NO_ADMIN_HINT =
  "no admin account exists: set CAUSERIE_ADMIN_PASSWORD or CAUSERIE_ADMIN_PASSWORD_FILE (8 to 256 characters) and restart to create user 'admin'";
