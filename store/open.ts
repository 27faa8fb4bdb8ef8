/**
 * Opens the store named by a `CAUSERIE_DB` URL.
 *
 * @module
 */

import { openMysqlStore } from "./mysql.ts";
import { openSqliteStore } from "./sqlite.ts";
import type { Store } from "./store.ts";

/**
 * Opens `sqlite:PATH`, `sqlite::memory:` or `mysql://user:password@host:port/database`
 * and applies pending migrations. Throws with a message saying what to fix
 * (never containing a MySQL password).
 */
export async function openStore(url: string): Promise<Store> {
  if (url === "sqlite::memory:") return await openSqliteStore(":memory:");
  if (url.startsWith("sqlite:")) {
    const path = url.slice("sqlite:".length);
    await createPrivate(path);
    const store = await openSqliteStore(path);
    await makePrivate(path);
    return store;
  }
  if (url.startsWith("mysql://")) return await openMysqlStore(url);
  throw new Error(`CAUSERIE_DB: unsupported database URL scheme`);
}

/** Creates the database file empty with mode 0600 if it does not exist yet (SQLite fills it). */
async function createPrivate(path: string): Promise<void> {
  try {
    await Deno.writeFile(path, new Uint8Array(), { createNew: true, mode: 0o600 });
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists) && !(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/**
 * Database files readable and writable by their owner only (0600): files made by
 * an older version, or under a permissive umask, are fixed at each start.
 */
async function makePrivate(path: string): Promise<void> {
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      await Deno.chmod(file, 0o600);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
}
