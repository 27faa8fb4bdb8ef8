/**
 * Direct conversations in order across instances (issue 15, MySQL only):
 * a batch written by a cluster's writer first locks the conversation row of
 * each of its direct pairs (the lower user's row of `conversations`, created
 * when missing), pairs in ascending order, then appends as one process does
 * (mysql_append.ts). Two instances writing to one conversation therefore
 * commit one after the other, and within a conversation commit order is id
 * order. Read under that lock, the row's `latest_id` is the conversation's
 * previous message, published with each new one so that a receiver knows
 * whether it missed one (runtime/direct_order.ts).
 *
 * Also the two reads of the delivery's recovery: a user's baseline (the
 * newest id of all their conversations) and the conversations of users
 * online here that changed lately (the periodic check).
 *
 * @module
 */

import { placeholders } from "./adapter_common.ts";
import { appendBatch } from "./mysql_append.ts";
import { runChunked, type Sql } from "./mysql_sql.ts";
import type { NewMessage } from "./store.ts";
import type { ConversationLatest, OrderedAppend } from "./cluster_store.ts";

/** Most users asked about in one statement of {@link recentConversations}. */
const USERS_PER_STATEMENT = 500;
/** Most conversations read in one statement of {@link appendOrdered}. */
const PAIRS_PER_READ = 100;

/** The key of a direct pair, lower id first. */
function pairOf(m: { fromUserId: number; toUserId: number }): [number, number] {
  return [Math.min(m.fromUserId, m.toUserId), Math.max(m.fromUserId, m.toUserId)];
}

/**
 * Appends `batch` inside the transaction of `sql` after locking each direct
 * pair's conversation row; returns the ids and, for each direct message, the
 * id of the message before it in its conversation (0: the first). Salon
 * messages get 0 there (their order is the salon counter's).
 */
export async function appendOrdered(sql: Sql, batch: NewMessage[]): Promise<OrderedAppend> {
  const pairs = new Map<string, { low: number; high: number; at: number }>();
  for (const m of batch) {
    if (m.kind !== "direct") continue;
    const [low, high] = pairOf(m);
    const key = `${low}:${high}`;
    if (!pairs.has(key)) pairs.set(key, { low, high, at: m.at });
  }
  const sorted = [...pairs.values()].sort((a, b) => a.low - b.low || a.high - b.high);
  // The lower user's row is the conversation's lock: created when missing (latest 0,
  // rewritten by the batch below), locked for the rest of the transaction either way.
  // Rows are taken in ascending order, so two batches never wait on each other crosswise.
  await runChunked(
    sql,
    sorted,
    (n) =>
      `INSERT INTO conversations (user_id, other_id, latest_id, at, last_read) VALUES ${
        Array.from({ length: n }, () => "(?, ?, 0, ?, 0)").join(", ")
      } ON DUPLICATE KEY UPDATE latest_id = latest_id`,
    (chunk) => chunk.flatMap((p) => [p.low, p.high, p.at]),
  );
  const latest = new Map<string, number>();
  for (let i = 0; i < sorted.length; i += PAIRS_PER_READ) {
    const chunk = sorted.slice(i, i + PAIRS_PER_READ);
    // A locking read sees the newest committed rows, never the transaction's snapshot.
    const rows = await sql.rows(
      `SELECT user_id, other_id, latest_id FROM conversations WHERE ${
        chunk.map(() => "(user_id = ? AND other_id = ?)").join(" OR ")
      } FOR UPDATE`,
      chunk.flatMap((p) => [p.low, p.high]),
    );
    for (const r of rows) latest.set(`${r.user_id}:${r.other_id}`, Number(r.latest_id));
  }
  const ids = await appendBatch(sql, batch);
  const prev = batch.map((m, i) => {
    if (m.kind !== "direct") return 0;
    const key = pairOf(m).join(":");
    const before = latest.get(key) ?? 0;
    latest.set(key, Math.max(before, ids[i]));
    return before;
  });
  return { ids, prev };
}

/** The newest message id of every conversation of `userId` (0: none). */
export async function conversationBaseline(sql: Sql, userId: number): Promise<number> {
  const row = await sql.row(
    "SELECT COALESCE(MAX(latest_id), 0) AS latest FROM conversations WHERE user_id = ?",
    [userId],
  );
  return Number(row?.latest ?? 0);
}

/**
 * The conversations of `userIds` whose newest message was written at or
 * after `since` (epoch ms, the writers' clocks): an index range of
 * `conversations_recent` per user, in statements of at most 500 users.
 */
export async function recentConversations(
  sql: Sql,
  userIds: readonly number[],
  since: number,
): Promise<ConversationLatest[]> {
  const found: ConversationLatest[] = [];
  for (let i = 0; i < userIds.length; i += USERS_PER_STATEMENT) {
    const chunk = userIds.slice(i, i + USERS_PER_STATEMENT);
    const rows = await sql.rows(
      `SELECT user_id, other_id, latest_id FROM conversations
       WHERE user_id IN (${placeholders(chunk.length)}) AND at >= ? AND latest_id > 0`,
      [...chunk, since],
    );
    for (const r of rows) {
      found.push({
        userId: Number(r.user_id),
        otherId: Number(r.other_id),
        latestId: Number(r.latest_id),
      });
    }
  }
  return found;
}
