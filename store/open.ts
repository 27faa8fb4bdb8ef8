/**
 * Opens the store named by a `CAUSERIE_DB` URL.
 *
 * @module
 */

import { openSqliteStore } from "./sqlite.ts";
import type { Store } from "./store.ts";

/**
 * Opens `sqlite:PATH`, `sqlite::memory:` or `mysql://...` and applies pending
 * migrations. Throws with a message saying what to fix.
 */
export function openStore(url: string): Promise<Store> {
  if (url === "sqlite::memory:") return openSqliteStore(":memory:");
  if (url.startsWith("sqlite:")) return openSqliteStore(url.slice("sqlite:".length));
  if (url.startsWith("mysql://")) {
    return Promise.reject(
      new Error(
        "CAUSERIE_DB: the MySQL/MariaDB adapter is not part of this build yet; use sqlite:PATH",
      ),
    );
  }
  return Promise.reject(new Error(`CAUSERIE_DB: unsupported database URL scheme`));
}
