/**
 * What the Store contract suites share: the clock origin, a password hash,
 * the registration of one case per adapter (a fresh store, closed after),
 * a user and the five default salons.
 *
 * @module
 */

import { DEFAULT_SALONS, parseSalons } from "../config/salons.ts";
import type { Role, SalonRecord, Store, UserRecord } from "../store/store.ts";

/** The suites' time origin, epoch ms. */
export const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);

/** A well-formed argon2id PHC string (never checked by the store). */
export const HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g";

/**
 * A registrar of contract cases for one adapter: each case gets a fresh
 * store from `open()`, closed afterwards; named `store contract (adapter):
 * prefix name`; registered but skipped with `ignore`.
 */
export function contractCases(
  adapterName: string,
  open: () => Promise<Store>,
  opts: { ignore?: boolean } = {},
  prefix = "",
): (name: string, fn: (store: Store) => Promise<void>) => void {
  return (name, fn) =>
    Deno.test(
      { name: `store contract (${adapterName}): ${prefix}${name}`, ignore: opts.ignore },
      async () => {
        const store = await open();
        try {
          await fn(store);
        } finally {
          await store.close();
        }
      },
    );
}

/** Creates a user at {@link T0} (alias defaults to the username). */
export function createUser(
  store: Store,
  username: string,
  alias = username,
  role: Role = "member",
): Promise<UserRecord> {
  return store.createUser({ username, alias, passwordHash: HASH, role }, T0);
}

/** Syncs the five default salons and returns them by name. */
export async function seededSalons(store: Store): Promise<Record<string, SalonRecord>> {
  const salons = await store.syncSalons(parseSalons(DEFAULT_SALONS), T0);
  return Object.fromEntries(salons.map((s) => [s.name, s]));
}
