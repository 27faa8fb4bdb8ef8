/**
 * Catching up on MySQL/MariaDB (PROTOCOL.md 5.2): history pages `after` an
 * id, read markers (one row per user and salon in `read_markers`; per user
 * and conversation, the `last_read` of the user's row of `conversations`),
 * the marker and conversation rows written with each batch of messages (one
 * statement per batch, in the batch's transaction), and the indexed reads
 * behind `welcome.salons[]`, `welcome.directs` and `conversations`, each in
 * as few round trips as the data allows. Bound parameters only; the one
 * number written into the SQL text is the constant {@link UNREAD_MAX}.
 *
 * @module
 */

import { conversationPage, pageAfter, readOutcome, toConversation } from "./catchup_rows.ts";
import { type Param, runChunked, type Sql } from "./mysql_sql.ts";
import {
  type ConversationPage,
  type ConversationQuery,
  type HistoryPage,
  type NewMessage,
  type ReadMark,
  type ReadOutcome,
  type SalonCatchup,
  UNREAD_MAX,
} from "./store.ts";

/** Largest id a query may be asked about (no cursor: from the end). */
const NO_CURSOR = Number.MAX_SAFE_INTEGER;

/** A page of a salon's history above `after`, oldest first. */
export async function salonAfter(
  sql: Sql,
  salonId: number,
  after: number,
  limit: number,
): Promise<HistoryPage> {
  const rows = await sql.rows(
    `SELECT m.id AS id, m.text AS text, m.created_at AS created_at, m.mentions AS mentions,
            m.edited_at AS edited_at, m.deleted AS deleted,
            u.username AS from_username, u.alias AS from_alias
     FROM messages m JOIN users u ON u.id = m.user_id
     WHERE m.salon_id = ? AND m.id > ? ORDER BY m.id LIMIT ?`,
    [salonId, after, limit + 1],
  );
  return pageAfter(rows, limit);
}

/** A page of a direct conversation above `after`, oldest first. */
export async function directAfter(
  sql: Sql,
  userA: number,
  userB: number,
  after: number,
  limit: number,
): Promise<HistoryPage> {
  const rows = await sql.rows(
    `SELECT d.id AS id, d.text AS text, d.created_at AS created_at,
            d.edited_at AS edited_at, d.deleted AS deleted,
            f.username AS from_username, f.alias AS from_alias,
            t.username AS to_username, t.alias AS to_alias
     FROM direct_messages d
     JOIN users f ON f.id = d.from_user_id JOIN users t ON t.id = d.to_user_id
     WHERE d.pair_low = ? AND d.pair_high = ? AND d.id > ? ORDER BY d.id LIMIT ?`,
    [Math.min(userA, userB), Math.max(userA, userB), after, limit + 1],
  );
  return pageAfter(rows, limit);
}

/**
 * Inside the transaction of a batch whose ids are `ids`: every sender's
 * marker moves to their newest message of the batch (one upsert for the
 * salons, one for the conversations, both users' rows of each direct).
 */
export async function afterBatch(sql: Sql, batch: NewMessage[], ids: number[]): Promise<void> {
  const salonMarkers = new Map<string, [number, number, number]>();
  const conversations: Param[][] = [];
  batch.forEach((m, i) => {
    if (m.kind === "salon") {
      salonMarkers.set(`${m.userId}:${m.salonId}`, [m.userId, m.salonId, ids[i]]);
    } else {
      conversations.push([m.fromUserId, m.toUserId, ids[i], m.at, ids[i]]);
      if (m.toUserId !== m.fromUserId) {
        conversations.push([m.toUserId, m.fromUserId, ids[i], m.at, 0]);
      }
    }
  });
  const values = (n: number, row: string) => Array.from({ length: n }, () => row).join(", ");
  await runChunked(
    sql,
    [...salonMarkers.values()],
    (n) =>
      `INSERT INTO read_markers (user_id, salon_id, last_read) VALUES ${values(n, "(?, ?, ?)")}
       ON DUPLICATE KEY UPDATE last_read = GREATEST(last_read, VALUES(last_read))`,
    (chunk) => chunk.flat(),
  );
  // MySQL applies the assignments left to right: `at` is decided before latest_id changes.
  await runChunked(
    sql,
    conversations,
    (n) =>
      `INSERT INTO conversations (user_id, other_id, latest_id, at, last_read) VALUES ${
        values(n, "(?, ?, ?, ?, ?)")
      } ON DUPLICATE KEY UPDATE
         at = IF(VALUES(latest_id) > latest_id, VALUES(at), at),
         latest_id = GREATEST(latest_id, VALUES(latest_id)),
         last_read = GREATEST(last_read, VALUES(last_read))`,
    (chunk) => chunk.flat(),
  );
}

/** Applies a `read` inside the transaction of `sql` (see Store.markRead). */
export async function markRead(sql: Sql, mark: ReadMark): Promise<ReadOutcome> {
  if ("salonId" in mark) {
    const salon = await sql.row("SELECT last_message_id FROM salons WHERE id = ?", [mark.salonId]);
    const marker = await sql.row(
      "SELECT last_read FROM read_markers WHERE user_id = ? AND salon_id = ? FOR UPDATE",
      [mark.userId, mark.salonId],
    );
    const outcome = readOutcome(
      mark.id,
      Number(salon?.last_message_id ?? 0),
      Number(marker?.last_read ?? 0),
    );
    if (outcome.outcome === "moved") {
      await sql.run(
        `INSERT INTO read_markers (user_id, salon_id, last_read) VALUES (?, ?, ?)
         ON DUPLICATE KEY UPDATE last_read = GREATEST(last_read, VALUES(last_read))`,
        [mark.userId, mark.salonId, mark.id],
      );
    }
    return outcome;
  }
  const row = await sql.row(
    "SELECT latest_id, last_read FROM conversations WHERE user_id = ? AND other_id = ? FOR UPDATE",
    [mark.userId, mark.otherId],
  );
  const outcome = readOutcome(mark.id, Number(row?.latest_id ?? 0), Number(row?.last_read ?? 0));
  if (outcome.outcome === "moved") {
    await sql.run(
      `UPDATE conversations SET last_read = GREATEST(last_read, ?)
       WHERE user_id = ? AND other_id = ?`,
      [mark.id, mark.userId, mark.otherId],
    );
  }
  return outcome;
}

/** See Store.salonCatchup: two round trips whatever the number of salons. */
export async function salonCatchup(
  sql: Sql,
  userId: number,
  salonIds: readonly number[],
): Promise<SalonCatchup[]> {
  if (salonIds.length === 0) return [];
  const markers = new Map(
    (await sql.rows("SELECT salon_id, last_read FROM read_markers WHERE user_id = ?", [userId]))
      .map((r): [number, number] => [Number(r.salon_id), Number(r.last_read)]),
  );
  const block = `SELECT ? AS salon_id,
      (SELECT COALESCE(MAX(id), 0) FROM messages WHERE salon_id = ?) AS latest,
      (SELECT COUNT(*) FROM
         (SELECT 1 FROM messages WHERE salon_id = ? AND id > ? LIMIT ${UNREAD_MAX}) t) AS unread`;
  const rows = await sql.rows(
    salonIds.map(() => block).join(" UNION ALL "),
    salonIds.flatMap((id) => [id, id, id, markers.get(id) ?? 0]),
  );
  const counts = new Map(rows.map((r) => [Number(r.salon_id), r] as const));
  return salonIds.map((salonId) => {
    const r = counts.get(salonId);
    return {
      salonId,
      latest: Number(r?.latest ?? 0),
      lastRead: markers.get(salonId) ?? 0,
      unread: Number(r?.unread ?? 0),
    };
  });
}

const CONVERSATION_COLUMNS = `c.other_id AS other_id, u.username AS username, u.alias AS alias,
  u.role AS role, c.latest_id AS latest_id, c.last_read AS last_read, c.at AS at`;

/** See Store.conversations: the page, then one query for every unread count. */
export async function conversations(
  sql: Sql,
  userId: number,
  query: ConversationQuery,
): Promise<ConversationPage> {
  const rows = await sql.rows(
    `SELECT ${CONVERSATION_COLUMNS}
     FROM conversations c JOIN users u ON u.id = c.other_id
     WHERE c.user_id = ? AND c.at < ? ORDER BY c.at DESC, c.other_id DESC LIMIT ?`,
    [userId, query.before ?? NO_CURSOR, query.limit + 1],
  );
  let page = conversationPage(rows, query.limit);
  if (page.tieAt !== undefined) {
    const group = await sql.rows(
      `SELECT ${CONVERSATION_COLUMNS}
       FROM conversations c JOIN users u ON u.id = c.other_id
       WHERE c.user_id = ? AND c.at = ? ORDER BY c.other_id DESC`,
      [userId, page.tieAt],
    );
    const older = await sql.row(
      "SELECT 1 AS x FROM conversations WHERE user_id = ? AND at < ? LIMIT 1",
      [userId, page.tieAt],
    );
    page = { rows: group, more: older !== undefined };
  }
  const behind = page.rows.filter((r) => Number(r.latest_id) > Number(r.last_read));
  const unread = new Map<number, number>();
  if (behind.length > 0) {
    const block = `SELECT ? AS other_id, (SELECT COUNT(*) FROM
        (SELECT 1 FROM direct_messages WHERE pair_low = ? AND pair_high = ? AND id > ?
         LIMIT ${UNREAD_MAX}) t) AS unread`;
    const counted = await sql.rows(
      behind.map(() => block).join(" UNION ALL "),
      behind.flatMap((r) => {
        const other = Number(r.other_id);
        return [other, Math.min(userId, other), Math.max(userId, other), Number(r.last_read)];
      }),
    );
    for (const r of counted) unread.set(Number(r.other_id), Number(r.unread));
  }
  return {
    conversations: page.rows.map((r) => toConversation(r, unread.get(Number(r.other_id)) ?? 0)),
    more: page.more,
  };
}

/**
 * After `userId`'s directs were purged (a ban), inside that transaction:
 * conversations left without any message go, the others point at their
 * newest remaining message.
 */
export async function purged(sql: Sql, userId: number): Promise<void> {
  await sql.run(
    `DELETE FROM conversations WHERE (user_id = ? OR other_id = ?) AND NOT EXISTS
       (SELECT 1 FROM direct_messages d
        WHERE d.pair_low = LEAST(conversations.user_id, conversations.other_id)
          AND d.pair_high = GREATEST(conversations.user_id, conversations.other_id))`,
    [userId, userId],
  );
  await sql.run(
    `UPDATE conversations SET
       latest_id = (SELECT MAX(d.id) FROM direct_messages d
                    WHERE d.pair_low = LEAST(conversations.user_id, conversations.other_id)
                      AND d.pair_high = GREATEST(conversations.user_id, conversations.other_id)),
       at = (SELECT d.created_at FROM direct_messages d
             WHERE d.pair_low = LEAST(conversations.user_id, conversations.other_id)
               AND d.pair_high = GREATEST(conversations.user_id, conversations.other_id)
             ORDER BY d.id DESC LIMIT 1)
     WHERE user_id = ? OR other_id = ?`,
    [userId, userId],
  );
}
