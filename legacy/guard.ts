/**
 * The import refuses to run while a Causerie server uses the target: the
 * server's actors load users, memberships and salons at start-up and would
 * not see what the import adds, and names chosen by the import could collide
 * with registrations made meanwhile.
 *
 * Two checks, both on what a running server really holds:
 * - its admin socket (`CAUSERIE_ADMIN_SOCKET`) accepts a connection (any
 *   database);
 * - for a SQLite file, another connection has it open: a live server keeps
 *   two (its own and its writer thread's), so an exclusive lock
 *   (`locking_mode=EXCLUSIVE`, `BEGIN EXCLUSIVE`, no busy wait) is refused.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { unixSocketAnswers } from "../lib/unix_socket.ts";

/** The sentence saying how to stop the server. */
export const STOP_HINT =
  "stop it first (deno task admin shutdown, or docker compose stop causerie) and run the import again";

/** Why the target cannot be imported into now, or `undefined` when it can. */
export async function targetBusy(
  db: string,
  adminSocket: string,
): Promise<string | undefined> {
  if (db === "sqlite::memory:") {
    return "CAUSERIE_DB is sqlite::memory:, which no server would ever read; name a file " +
      "(sqlite:data/causerie.db) or a MySQL database";
  }
  if (await unixSocketAnswers(adminSocket)) {
    return `a Causerie server answers on its admin socket ${adminSocket}: ${STOP_HINT}`;
  }
  if (db.startsWith("sqlite:") && sqliteInUse(db.slice("sqlite:".length))) {
    return `another process has ${db} open (a Causerie server?): ${STOP_HINT}`;
  }
  return undefined;
}

/** Whether another connection has the SQLite file at `path` open (false when there is no file). */
export function sqliteInUse(path: string): boolean {
  try {
    if (!Deno.statSync(path).isFile) return false;
  } catch {
    return false;
  }
  const db = new DatabaseSync(path);
  try {
    db.exec("PRAGMA busy_timeout = 0");
    db.exec("PRAGMA locking_mode = EXCLUSIVE");
    db.exec("BEGIN EXCLUSIVE");
    db.prepare("SELECT count(*) FROM sqlite_master").get();
    db.exec("COMMIT");
    return false;
  } catch (e) {
    if (/locked|busy/i.test((e as Error).message)) return true;
    throw e;
  } finally {
    db.close();
  }
}
