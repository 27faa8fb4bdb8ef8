/**
 * A real MySQL/MariaDB server for tests, named by `CAUSERIE_TEST_MYSQL_URL`
 * (`mysql://user:password@host:port/prefix`; `.ci/run` starts one). Every
 * {@link freshDatabase} is a new, empty database named after the URL's
 * database plus a random suffix, created through an admin connection and
 * dropped afterwards. Without the variable, {@link mysqlTest} registers the
 * tests as ignored, so the run says they were skipped.
 *
 * @module
 */

import mysql from "mysql2/promise";
import type { Connection, RowDataPacket } from "mysql2/promise";
import { openMysqlStore } from "../store/mysql.ts";
import { parseMysqlUrl } from "../store/mysql_migrate.ts";
import type { Store } from "../store/store.ts";

/** The server URL, or `undefined` when MySQL tests are skipped. */
export const MYSQL_URL: string | undefined = Deno.env.get("CAUSERIE_TEST_MYSQL_URL") || undefined;

/** Whether MySQL tests must be skipped. */
export const MYSQL_SKIPPED = MYSQL_URL === undefined;

/**
 * Registers a test that needs the MySQL server: ignored (and named so) when
 * {@link MYSQL_URL} is unset, run and sanitized as usual otherwise.
 */
export function mysqlTest(name: string, fn: () => Promise<void>): void {
  Deno.test({
    name: MYSQL_SKIPPED ? `${name} (CAUSERIE_TEST_MYSQL_URL unset)` : name,
    ignore: MYSQL_SKIPPED,
    fn,
  });
}

/** An admin connection to the server (to `database` if given); end it after use. */
export function adminConnection(database?: string): Promise<Connection> {
  const target = parseMysqlUrl(requireUrl());
  return mysql.createConnection({
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database,
    charset: "utf8mb4",
    supportBigNumbers: true,
  });
}

/** Runs `fn` on a fresh admin connection (to `database` if given), ended afterwards. */
export async function withAdmin<T>(
  fn: (conn: Connection) => Promise<T>,
  database?: string,
): Promise<T> {
  const conn = await adminConnection(database);
  try {
    return await fn(conn);
  } finally {
    await conn.end();
  }
}

/** A fresh, empty database. */
export interface FreshDatabase {
  /** Its name (letters, digits and `_` only). */
  name: string;
  /** `CAUSERIE_TEST_MYSQL_URL` with this database instead. */
  url: string;
  /** Drops the database. Idempotent. */
  drop(): Promise<void>;
}

/** Creates a uniquely named, empty utf8mb4 database on the test server. */
export async function freshDatabase(): Promise<FreshDatabase> {
  const base = new URL(requireUrl());
  const prefix = decodeURIComponent(base.pathname.slice(1)).replace(/[^A-Za-z0-9_]/g, "_");
  const suffix = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
  const name = `${prefix}_${suffix}`.slice(0, 64);
  // An identifier cannot be a bound parameter; this one is made only of [A-Za-z0-9_].
  await withAdmin((conn) =>
    conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`)
  );
  base.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  return {
    name,
    url: base.toString(),
    drop() {
      dropped ??= withAdmin(async (conn) => {
        await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      });
      return dropped;
    },
  };
}

/**
 * Opens the MySQL store on a fresh database; closing the store also drops
 * the database (closing twice is fine).
 */
export async function openFreshMysqlStore(): Promise<Store> {
  const db = await freshDatabase();
  let store: Store;
  try {
    store = await openMysqlStore(db.url);
  } catch (e) {
    await db.drop();
    throw e;
  }
  const close = store.close.bind(store);
  return Object.assign(store, {
    async close() {
      await close();
      await db.drop();
    },
  });
}

/** Rows of a query run on `database` through an admin connection. */
export function adminRows(
  database: string,
  sql: string,
  params: (string | number)[] = [],
): Promise<RowDataPacket[]> {
  return withAdmin(async (conn) => {
    const [rows] = await conn.execute<RowDataPacket[]>(sql, params);
    return rows;
  }, database);
}

/** Runs a write on `database` through an admin connection; returns the affected rows. */
export function adminRun(
  database: string,
  sql: string,
  params: (string | number)[] = [],
): Promise<number> {
  return withAdmin(async (conn) => {
    const [result] = await conn.execute(sql, params);
    return (result as { affectedRows: number }).affectedRows;
  }, database);
}

function requireUrl(): string {
  if (MYSQL_URL === undefined) throw new Error("CAUSERIE_TEST_MYSQL_URL is not set");
  return MYSQL_URL;
}
