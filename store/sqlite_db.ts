/**
 * One SQLite connection as the adapter's modules use it: statements prepared
 * once and cached by their text, and writes in an explicit `BEGIN IMMEDIATE`
 * transaction, rolled back on error.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";

/** A migrated connection with its cache of prepared statements. */
export class SqliteDb {
  /** The connection itself (for the modules that keep statements of their own). */
  readonly raw: DatabaseSync;
  #statements = new Map<string, StatementSync>();

  /** Works on `raw` (migrated already). */
  constructor(raw: DatabaseSync) {
    this.raw = raw;
  }

  /** The statement for `sql`, prepared at its first use (bound parameters only). */
  q(sql: string): StatementSync {
    let st = this.#statements.get(sql);
    if (!st) {
      st = this.raw.prepare(sql);
      this.#statements.set(sql, st);
    }
    return st;
  }

  /** Runs `fn` in one `BEGIN IMMEDIATE` transaction: committed if it returns, rolled back if it throws. */
  tx<T>(fn: () => T): T {
    this.raw.exec("BEGIN IMMEDIATE");
    try {
      const result = fn();
      this.raw.exec("COMMIT");
      return result;
    } catch (e) {
      if (this.raw.isTransaction) this.raw.exec("ROLLBACK");
      throw e;
    }
  }

  /** Drops the cached statements and closes the connection. */
  close(): void {
    this.#statements.clear();
    this.raw.close();
  }
}
