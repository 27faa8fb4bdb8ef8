/**
 * Mentions in both databases (migration 5): how the mentioned usernames are
 * kept in `messages.mentions`, the rows of `message_mentions` written with a
 * message, the count of unread mentions the welcome needs, and the cleanup a
 * purge does first.
 *
 * `messages.mentions` holds the usernames in order, one space between them
 * (usernames hold no space), NULL when none: history reads them as they are.
 * `message_mentions (user_id, salon_id, message_id)` is keyed so that "the
 * messages of salon S above X that mention U" is one range of its primary key.
 *
 * @module
 */

import type { StatementSync } from "node:sqlite";
import { runChunked, type Sql } from "./mysql_sql.ts";
import { type Mention, UNREAD_MENTIONS_CAP } from "./store.ts";

/** The `messages.mentions` value of a message: usernames joined by a space, or NULL. */
export function mentionColumn(mentions: readonly Mention[] | undefined): string | null {
  if (!mentions || mentions.length === 0) return null;
  return mentions.map((m) => m.username).join(" ");
}

/** The usernames a `messages.mentions` value holds, or `undefined` when none. */
export function mentionsOfColumn(value: unknown): string[] | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value instanceof Uint8Array ? new TextDecoder().decode(value) : String(value);
  return text === "" ? undefined : text.split(" ");
}

/** The unread mentions of one user in one salon: one range of the key, read up to the cap. */
const COUNT_ONE =
  `SELECT COUNT(*) AS n FROM (SELECT 1 FROM message_mentions WHERE user_id = ? AND salon_id = ? AND message_id > ? LIMIT ${UNREAD_MENTIONS_CAP}) AS t`;

/**
 * SQLite: the unread mentions of `userId` per salon, one indexed range each
 * (`prepare` caches the statement).
 */
export function sqliteUnreadMentions(
  prepare: (sql: string) => StatementSync,
  userId: number,
  salons: ReadonlyArray<{ salonId: number; after: number }>,
): Map<number, number> {
  const counts = new Map<number, number>();
  const statement = prepare(COUNT_ONE);
  for (const { salonId, after } of salons) {
    counts.set(salonId, Number(statement.get(userId, salonId, after)?.n ?? 0));
  }
  return counts;
}

/** Salons counted by one MySQL statement (one round trip). */
const MYSQL_SALONS_PER_QUERY = 32;

/**
 * MySQL/MariaDB: the unread mentions of `userId` per salon, the ranges of up
 * to {@link MYSQL_SALONS_PER_QUERY} salons in one statement (`UNION ALL`).
 */
export async function mysqlUnreadMentions(
  sql: Sql,
  userId: number,
  salons: ReadonlyArray<{ salonId: number; after: number }>,
): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  for (let i = 0; i < salons.length; i += MYSQL_SALONS_PER_QUERY) {
    const chunk = salons.slice(i, i + MYSQL_SALONS_PER_QUERY);
    const text = chunk.map((_, k) =>
      `SELECT ${k} AS k, COUNT(*) AS n FROM (SELECT 1 FROM message_mentions ` +
      `WHERE user_id = ? AND salon_id = ? AND message_id > ? LIMIT ${UNREAD_MENTIONS_CAP}) AS t${k}`
    ).join(" UNION ALL ");
    const rows = await sql.rows(text, chunk.flatMap((s) => [userId, s.salonId, s.after]));
    for (const s of chunk) counts.set(s.salonId, 0);
    for (const r of rows) counts.set(chunk[Number(r.k)].salonId, Number(r.n));
  }
  return counts;
}

/**
 * Inserts the `message_mentions` rows of a batch inside the transaction of
 * `sql`. Rows go in statements of 256, 128, ... 1 rows, so that at most nine
 * distinct statements are ever prepared (each prepared statement is kept per
 * connection, and the server caps them all).
 */
export async function mysqlInsertMentions(
  sql: Sql,
  rows: ReadonlyArray<[userId: number, salonId: number, messageId: number]>,
): Promise<void> {
  await runChunked(
    sql,
    rows,
    (n) =>
      "INSERT INTO message_mentions (user_id, salon_id, message_id) VALUES " +
      Array.from({ length: n }, () => "(?, ?, ?)").join(", "),
    (chunk) => chunk.flat(),
  );
}

/** SQLite: before a purge deletes a user's salon messages, the mention rows of those messages. */
export const SQLITE_PURGE_MENTIONS = `DELETE FROM message_mentions WHERE (salon_id, message_id) IN
  (SELECT salon_id, id FROM messages WHERE user_id = ? AND mentions IS NOT NULL)`;

/** MySQL: before a purge deletes a user's salon messages, the mention rows of those messages. */
export const MYSQL_PURGE_MENTIONS = `DELETE mm FROM message_mentions mm
  JOIN messages m ON m.salon_id = mm.salon_id AND m.id = mm.message_id WHERE m.user_id = ?`;
