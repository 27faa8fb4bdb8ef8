/**
 * What the MySQL/MariaDB adapter does before it serves: reading the
 * `mysql://` URL, connecting with a message that says what to fix, and
 * applying the pending migrations of `schema.sql`.
 *
 * @module
 */

import type { PoolConnection, PoolOptions, RowDataPacket } from "mysql2/promise";
import { aliasKey } from "../protocol/names.ts";
import { parseMigrations } from "./migrations.ts";
import {
  ALIAS_SKELETON_MIGRATION,
  aliasClashWarning,
  aliasKeyUpdates,
  planAliasKeys,
} from "./rows.ts";

/** Name of the server-wide lock held while migrating, so two servers never migrate at once. */
const MIGRATION_LOCK = "causerie_schema_migrations";

/** Longest wait for {@link MIGRATION_LOCK}, in seconds. */
const MIGRATION_LOCK_SECONDS = 60;

/** Where and as whom to connect, read from a `mysql://` URL. */
export interface MysqlTarget {
  /** Host name or address. */
  host: string;
  /** TCP port (3306 unless the URL says otherwise). */
  port: number;
  /** User name. */
  user: string;
  /** Password (never put in a message). */
  password: string;
  /** Database name. */
  database: string;
}

/**
 * Reads `mysql://user:password@host:port/database`. User, password and
 * database may be percent-encoded. Throws a message without the password.
 */
export function parseMysqlUrl(url: string): MysqlTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error("expected mysql://user:password@host:3306/database");
  }
  if (parsed.protocol !== "mysql:") throw new Error("expected a mysql:// URL");
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
  if (!parsed.hostname || database === "" || database.includes("/")) {
    throw new Error("expected mysql://user:password@host:3306/database");
  }
  if (parsed.search !== "" || parsed.hash !== "") {
    throw new Error("mysql:// URLs take no ?options or #fragment; remove them");
  }
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: parsed.port === "" ? 3306 : Number(parsed.port),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database,
  };
}

/**
 * The mysql2 options every connection of the adapter uses: utf8mb4, BIGINT
 * read as numbers (strings only past 2^53, which epoch milliseconds and ids
 * never reach), one statement per call.
 */
export function poolOptions(target: MysqlTarget): PoolOptions {
  return {
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database,
    charset: "utf8mb4",
    supportBigNumbers: true,
    bigNumberStrings: false,
    multipleStatements: false,
    connectTimeout: 10_000,
    connectionLimit: 10,
    maxIdle: 10,
    idleTimeout: 60_000,
    enableKeepAlive: true,
    waitForConnections: true,
    // Keep the session settings of SESSION_SQL_MODE when a connection goes back to the pool.
    resetOnRelease: false,
  };
}

/**
 * The session settings of every connection: strict, so that a value too long
 * for its column is an error rather than silently cut, and no fallback to
 * another engine than InnoDB. A constant: no input goes into it.
 */
export const SESSION_SQL_MODE =
  "SET SESSION sql_mode = 'STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'";

/**
 * Every transaction reads committed data and locks only the rows it touches.
 * Under REPEATABLE READ (InnoDB's default) a `DELETE ... WHERE user_id = ?`
 * that finds nothing locks the gap where such rows would go; new users all
 * land in the same last gap, so concurrent registrations (each deleting the
 * new user's stale tokens, then inserting one) deadlocked one another. No
 * transaction here relies on repeatable reads: uniqueness is the indexes',
 * counters are single-row updates.
 */
export const SESSION_ISOLATION = "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED";

/**
 * Rewrites a failure to connect as one line saying what to fix, without the
 * password (the caller adds the redacted URL).
 */
export function connectError(e: unknown, target: MysqlTarget): Error {
  const err = e as { code?: string; message?: string; errors?: { message?: string }[] };
  const where = `${target.host}:${target.port}`;
  let message: string;
  switch (err.code) {
    case "ECONNREFUSED":
      message = `nothing accepts connections at ${where}: is the MySQL/MariaDB server running ` +
        `and listening on that host and port?`;
      break;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      message = `host ${target.host} is unknown: check the host name`;
      break;
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      message = `cannot reach ${where} (${err.code}): check the host, the port and any firewall`;
      break;
    case "ER_ACCESS_DENIED_ERROR":
    case "ER_ACCESS_DENIED_NO_PASSWORD_ERROR":
      message = `access denied for user '${target.user}' at ${where}: ` +
        `check the user name and password`;
      break;
    case "ER_DBACCESS_DENIED_ERROR":
      message = `user '${target.user}' may not use database '${target.database}': ` +
        `GRANT it the rights listed in docs/operations.md`;
      break;
    case "ER_BAD_DB_ERROR":
      message = `database '${target.database}' does not exist: ` +
        `create it (CREATE DATABASE ... CHARACTER SET utf8mb4) or fix its name`;
      break;
    default: {
      const detail = err.message || err.errors?.map((x) => x.message).join("; ") || String(e);
      message = `cannot connect to ${where}: ${detail}`;
    }
  }
  return new Error(withoutSecret(message, target.password), { cause: e });
}

/** One line, and never the password, whatever the server or the driver put in it. */
export function withoutSecret(message: string, password: string): string {
  const line = message.replace(/\s*\n\s*/g, " ").trim();
  return password === "" ? line : line.split(password).join("***");
}

/**
 * Applies the migrations of `schema` not yet recorded in
 * `schema_migrations`, in order, holding a server-wide lock meanwhile.
 * MySQL commits every DDL statement by itself, so a migration that fails
 * half-way keeps its first statements; the version is recorded only after
 * all of them succeeded, and the error names the migration.
 *
 * Schema statements are constants read from `schema.sql`, sent as they are:
 * no input ever goes into them.
 */
export async function migrateMysql(
  conn: PoolConnection,
  schema: string,
  warn: (message: string) => void = (m) => console.warn(`causerie: ${m}`),
): Promise<void> {
  const migrations = parseMigrations(schema);
  const [locked] = await conn.execute<MysqlRow[]>("SELECT GET_LOCK(?, ?) AS got", [
    MIGRATION_LOCK,
    MIGRATION_LOCK_SECONDS,
  ]);
  if (Number(locked[0]?.got) !== 1) {
    throw new Error(
      `another server has been migrating this database for ${MIGRATION_LOCK_SECONDS} s; ` +
        `wait for it, then start again`,
    );
  }
  try {
    await conn.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version INT NOT NULL PRIMARY KEY,
         applied_at BIGINT NOT NULL
       ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
    );
    const [rows] = await conn.execute<MysqlRow[]>("SELECT version FROM schema_migrations");
    const applied = new Set(rows.map((r) => Number(r.version)));
    for (const m of migrations) {
      if (applied.has(m.version)) continue;
      try {
        for (const statement of m.statements) await conn.query(statement);
        if (m.version === ALIAS_SKELETON_MIGRATION) await rekeyAliases(conn, warn);
        await conn.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", [
          m.version,
          Date.now(),
        ]);
      } catch (e) {
        throw new Error(`migration ${m.version} failed: ${(e as Error).message}`, { cause: e });
      }
    }
  } finally {
    // Ending the connection releases the lock too: a failure here must not hide the first one.
    await conn.execute("SELECT RELEASE_LOCK(?)", [MIGRATION_LOCK]).catch(() => {});
  }
}

/**
 * Recomputes every alias key (migration {@link ALIAS_SKELETON_MIGRATION}) in
 * one transaction; a failure rolls it back and the migration runs again at the
 * next start.
 */
async function rekeyAliases(conn: PoolConnection, warn: (message: string) => void): Promise<void> {
  const [rows] = await conn.execute<MysqlRow[]>("SELECT id, alias, alias_key FROM users");
  const plan = planAliasKeys(
    rows.map((r) => ({
      id: Number(r.id),
      alias: String(r.alias),
      key: Buffer.isBuffer(r.alias_key) ? r.alias_key.toString("utf8") : String(r.alias_key),
    })),
    aliasKey,
  );
  await conn.beginTransaction();
  try {
    for (const [sql, params] of aliasKeyUpdates(plan)) {
      await conn.execute(sql, params as (string | number)[]);
    }
    await conn.commit();
  } catch (e) {
    await conn.rollback().catch(() => {});
    throw e;
  }
  for (const clash of plan.clashes) warn(aliasClashWarning(clash));
}

/** A row as mysql2 returns it. */
export type MysqlRow = RowDataPacket & Record<string, unknown>;
