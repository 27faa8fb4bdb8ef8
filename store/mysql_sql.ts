/**
 * Running statements on MySQL/MariaDB: the statement runner (prepared,
 * bound parameters), transactions on a connection of their own with their
 * deadlock retries, and the duplicate-key errors that stand for a
 * {@link ConflictError}.
 *
 * @module
 */

import type { Pool, PoolConnection, ResultSetHeader } from "mysql2/promise";
import type { MysqlRow } from "./mysql_migrate.ts";
import { ConflictError } from "./store.ts";

/** A bound parameter: never `undefined` (mysql2 refuses it). */
export type Param = string | number | null | Uint8Array;

/** How many times a transaction chosen as a deadlock victim is run again. */
const DEADLOCK_RETRIES = 5;

/** ER_LOCK_DEADLOCK: InnoDB rolled the whole transaction back; it may simply be run again. */
const ER_LOCK_DEADLOCK = 1213;

/** Runs statements: the pool (one statement, autocommit) or a transaction's connection. */
export class Sql {
  #db: Pool | PoolConnection;

  /** A runner on the pool (autocommit) or on one connection (its transaction). */
  constructor(db: Pool | PoolConnection) {
    this.#db = db;
  }

  /** Rows of a SELECT. */
  async rows(sql: string, params: Param[] = []): Promise<MysqlRow[]> {
    const [rows] = await this.#db.execute<MysqlRow[]>(sql, params);
    return rows;
  }

  /** The first row of a SELECT, if any. */
  async row(sql: string, params: Param[] = []): Promise<MysqlRow | undefined> {
    return (await this.rows(sql, params))[0];
  }

  /** Outcome of an INSERT, UPDATE or DELETE. */
  async run(sql: string, params: Param[] = []): Promise<ResultSetHeader> {
    const [result] = await this.#db.execute<ResultSetHeader>(sql, params);
    return result;
  }
}

/**
 * The {@link ConflictError} a duplicate-key error on `users` stands for, if
 * any. The key is read from the end of the message (`... for key
 * 'users_alias_key'`, or `'users.users_alias_key'` on MySQL 8), never from
 * the duplicated value, which is user input.
 */
export function conflictOf(e: unknown): ConflictError | undefined {
  const err = e as { code?: string; message?: string };
  if (err?.code !== "ER_DUP_ENTRY") return undefined;
  const key = /for key '(?:[A-Za-z0-9_]+\.)?([A-Za-z0-9_]+)'$/.exec(err.message ?? "")?.[1];
  if (key === "users_username_key") return new ConflictError("username");
  if (key === "users_alias_key") return new ConflictError("alias");
  return undefined;
}

/**
 * Runs `fn` in one transaction on a connection of its own from `pool`:
 * committed if it resolves, rolled back if it rejects. A deadlock victim is
 * run again (at most {@link DEADLOCK_RETRIES} times).
 */
export async function transaction<T>(pool: Pool, fn: (sql: Sql) => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    const conn = await pool.getConnection();
    let healthy = true;
    try {
      await conn.beginTransaction();
      const result = await fn(new Sql(conn));
      await conn.commit();
      return result;
    } catch (e) {
      try {
        await conn.rollback();
      } catch {
        healthy = false; // a connection that cannot roll back is not given back to the pool
      }
      const deadlock = (e as { errno?: number }).errno === ER_LOCK_DEADLOCK;
      if (!deadlock || attempt > DEADLOCK_RETRIES) throw e;
    } finally {
      if (healthy) conn.release();
      else conn.destroy();
    }
  }
}

/**
 * The pool as the adapter's modules use it: single statements in autocommit
 * (`sql`), and transactions on a connection of their own (`tx`).
 */
export class MysqlDb {
  /** Runs one statement on the pool (autocommit). */
  readonly sql: Sql;
  readonly #pool: Pool;

  /** Works on `pool` (migrated already). */
  constructor(pool: Pool) {
    this.#pool = pool;
    this.sql = new Sql(pool);
  }

  /**
   * Runs `fn` in one transaction on a connection of its own: committed if it
   * resolves, rolled back if it rejects. A deadlock victim is run again.
   */
  tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return transaction(this.#pool, fn);
  }
}

/**
 * Runs a multi-row statement over `rows` in chunks of 256, 128, … 1 rows:
 * `statement(n)` is the text for `n` rows, `rowsOf(chunk)` its parameters.
 * mysql2 prepares and caches every distinct text on each connection, and the
 * server caps prepared statements (`max_prepared_stmt_count`): with these
 * sizes one statement has at most nine texts, whatever the batch sizes.
 */
export async function runChunked<R>(
  sql: Sql,
  rows: readonly R[],
  statement: (n: number) => string,
  params: (chunk: readonly R[]) => Param[],
): Promise<void> {
  let done = 0;
  for (let size = 256; size >= 1; size >>= 1) {
    while (rows.length - done >= size) {
      const chunk = rows.slice(done, done + size);
      await sql.run(statement(size), params(chunk));
      done += size;
    }
  }
}
