/**
 * Reading the original server's MySQL database: one connection (mysql2,
 * bound parameters only), a check that the four tables and their columns
 * are there, and reads in pages by increasing id. Text columns are read as
 * bytes (`CAST(... AS BINARY)`) with their declared character set, so that
 * legacy/text.ts decides what they mean; times as epoch seconds
 * (`UNIX_TIMESTAMP`), so that no time zone is involved.
 *
 * @module
 */

import mysql from "mysql2/promise";
import type { Connection, RowDataPacket } from "mysql2/promise";
import { connectError, parseMysqlUrl, withoutSecret } from "../store/mysql_migrate.ts";

/** A problem with the source, said in one line (never with its password). */
export class SourceError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "SourceError";
  }
}

/** The original schema: each table and the columns the import reads. */
export const ORIGINAL_SCHEMA: Readonly<Record<string, readonly string[]>> = {
  clients: ["client_id", "username", "alias", "password_hash"],
  salons: ["salon_id", "nom_salon"],
  salons_adheres: ["id", "username", "salon_id"],
  messages: ["message_id", "client_id", "salon_id", "contenu", "timestamp"],
};

/** An original `clients` row. */
export interface SourceClient {
  /** `client_id`. */
  id: number;
  /** `username`, as stored. */
  username: Uint8Array;
  /** `alias`, as stored. */
  alias: Uint8Array;
  /** `password_hash`. */
  passwordHash: string;
}

/** An original `salons` row. */
export interface SourceSalon {
  /** `salon_id`. */
  id: number;
  /** `nom_salon`, as stored. */
  name: Uint8Array;
}

/** An original `salons_adheres` row. */
export interface SourceMembership {
  /** `id`. */
  id: number;
  /** `username`, as stored. */
  username: Uint8Array;
  /** `salon_id`. */
  salonId: number;
}

/** An original `messages` row. */
export interface SourceMessage {
  /** `message_id`. */
  id: number;
  /** `client_id`. */
  clientId: number;
  /** `salon_id`. */
  salonId: number;
  /** `contenu` as stored; `null` when NULL. */
  text: Uint8Array | null;
  /** `timestamp`, epoch ms; `null` when NULL or zero. */
  at: number | null;
}

/** The original database, open. */
export interface Source {
  /** The URL with its password replaced by `***`. */
  readonly shown: string;
  /** Declared character set of each text column, by `table.column` (e.g. `messages.contenu`). */
  readonly charsets: Readonly<Record<string, string>>;
  /** Every client, by id. */
  clients(): Promise<SourceClient[]>;
  /** Every salon, by id. */
  salons(): Promise<SourceSalon[]>;
  /** How many rows of `table` have an id above `after`. */
  countAfter(table: "salons_adheres" | "messages", after: number): Promise<number>;
  /** At most `limit` memberships with an id above `after`, by id. */
  membershipsAfter(after: number, limit: number): Promise<SourceMembership[]>;
  /** At most `limit` messages with an id above `after`, by id. */
  messagesAfter(after: number, limit: number): Promise<SourceMessage[]>;
  /** Closes the connection. */
  close(): Promise<void>;
}

type Row = RowDataPacket & Record<string, unknown>;

/** `mysql://user:***@host:port/db`. */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== "") u.password = "***";
    return u.toString();
  } catch {
    return "(an unreadable URL)";
  }
}

const bytes = (v: unknown): Uint8Array => v instanceof Uint8Array ? v : new Uint8Array();

/**
 * Connects to the original database at `url` and checks its schema. Throws
 * {@link SourceError} with one line saying what is wrong.
 */
export async function openSource(url: string): Promise<Source> {
  const shown = shownUrl(url);
  let target;
  try {
    target = parseMysqlUrl(url);
  } catch (e) {
    throw new SourceError(`--from ${shown}: ${(e as Error).message}`);
  }
  let conn: Connection;
  try {
    conn = await mysql.createConnection({
      host: target.host,
      port: target.port,
      user: target.user,
      password: target.password,
      database: target.database,
      charset: "utf8mb4",
      supportBigNumbers: true,
      connectTimeout: 10_000,
    });
  } catch (e) {
    throw new SourceError(
      `cannot read the original database ${shown}: ${connectError(e, target).message}`,
    );
  }
  try {
    const charsets = await checkSchema(conn, target.database, shown);
    return sourceOn(conn, shown, charsets);
  } catch (e) {
    await conn.end().catch(() => {});
    if (e instanceof SourceError) throw e;
    throw new SourceError(
      `cannot read the original database ${shown}: ${
        withoutSecret((e as Error).message, target.password)
      }`,
    );
  }
}

/** Checks the four tables and their columns; returns the text columns' character sets. */
async function checkSchema(
  conn: Connection,
  database: string,
  shown: string,
): Promise<Record<string, string>> {
  const [rows] = await conn.execute<Row[]>(
    `SELECT TABLE_NAME AS t, COLUMN_NAME AS c, CHARACTER_SET_NAME AS cs
     FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ?`,
    [database],
  );
  const columns = new Map<string, string | null>();
  for (const r of rows) {
    columns.set(`${String(r.t).toLowerCase()}.${String(r.c).toLowerCase()}`, r.cs as string | null);
  }
  for (const [table, needed] of Object.entries(ORIGINAL_SCHEMA)) {
    const missing = needed.filter((c) => !columns.has(`${table}.${c}`));
    if (missing.length === needed.length) {
      throw new SourceError(
        `${shown} is not the original server's database: table ${table} is missing ` +
          `(expected clients, salons, salons_adheres and messages)`,
      );
    }
    if (missing.length > 0) {
      throw new SourceError(
        `${shown} is not the original server's database: table ${table} has no column ` +
          `${missing.join(", ")}`,
      );
    }
  }
  const charsets: Record<string, string> = {};
  for (
    const col of [
      "clients.username",
      "clients.alias",
      "salons.nom_salon",
      "salons_adheres.username",
      "messages.contenu",
    ]
  ) {
    charsets[col] = columns.get(col) ?? "binary";
  }
  return charsets;
}

function sourceOn(conn: Connection, shown: string, charsets: Record<string, string>): Source {
  const rows = async (sql: string, params: (number | string)[] = []) =>
    (await conn.execute<Row[]>(sql, params))[0];
  return {
    shown,
    charsets,
    async clients() {
      return (await rows(
        `SELECT client_id, CAST(username AS BINARY) AS username, CAST(alias AS BINARY) AS alias,
                CAST(password_hash AS BINARY) AS password_hash
         FROM clients ORDER BY client_id`,
      )).map((r) => ({
        id: Number(r.client_id),
        username: bytes(r.username),
        alias: bytes(r.alias),
        passwordHash: new TextDecoder().decode(bytes(r.password_hash)),
      }));
    },
    async salons() {
      return (await rows(
        "SELECT salon_id, CAST(nom_salon AS BINARY) AS nom_salon FROM salons ORDER BY salon_id",
      )).map((r) => ({ id: Number(r.salon_id), name: bytes(r.nom_salon) }));
    },
    async countAfter(table, after) {
      const sql = table === "messages"
        ? "SELECT COUNT(*) AS n FROM messages WHERE message_id > ?"
        : "SELECT COUNT(*) AS n FROM salons_adheres WHERE id > ?";
      return Number((await rows(sql, [after]))[0].n);
    },
    async membershipsAfter(after, limit) {
      return (await rows(
        `SELECT id, CAST(username AS BINARY) AS username, salon_id FROM salons_adheres
         WHERE id > ? ORDER BY id LIMIT ?`,
        [after, String(limit)],
      )).map((r) => ({
        id: Number(r.id),
        username: bytes(r.username),
        salonId: Number(r.salon_id),
      }));
    },
    async messagesAfter(after, limit) {
      return (await rows(
        `SELECT message_id, client_id, salon_id, CAST(contenu AS BINARY) AS contenu,
                UNIX_TIMESTAMP(\`timestamp\`) AS at
         FROM messages WHERE message_id > ? ORDER BY message_id LIMIT ?`,
        [after, String(limit)],
      )).map((r) => {
        const seconds = r.at === null ? 0 : Number(r.at);
        return {
          id: Number(r.message_id),
          clientId: Number(r.client_id),
          salonId: Number(r.salon_id),
          text: r.contenu === null ? null : bytes(r.contenu),
          at: seconds > 0 ? Math.round(seconds * 1000) : null,
        };
      });
    },
    async close() {
      await conn.end();
    },
  };
}
