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
export function openStore(url: string): Promise<Store> {
  if (url === "sqlite::memory:") return openSqliteStore(":memory:");
  if (url.startsWith("sqlite:")) return openSqliteStore(url.slice("sqlite:".length));
  if (url.startsWith("mysql://")) return openMysqlStore(url);
  return Promise.reject(new Error(`CAUSERIE_DB: unsupported database URL scheme`));
}
