/**
 * The write path of chat messages into MySQL/MariaDB: a batch inside one
 * transaction, each salon's ids reserved with one update of its counter
 * (which never goes back, even after a purge), direct ids from the table,
 * and the rows of the members each message mentions; then the senders'
 * read markers and the conversation rows of the directs, one statement each
 * per batch (mysql_markers.ts).
 *
 * @module
 */

import { mentionColumn, mysqlInsertMentions } from "./mentions_sql.ts";
import { afterBatch } from "./mysql_markers.ts";
import type { Sql } from "./mysql_sql.ts";
import type { NewMessage } from "./store.ts";

/** Inserts a batch inside the transaction of `sql`: the new ids, in batch order. */
export async function appendBatch(sql: Sql, batch: NewMessage[]): Promise<number[]> {
  // Reserve each salon's ids with one update of its counter, salons in id
  // order so that two batches never wait on each other crosswise.
  // LAST_INSERT_ID(expr) hands the new counter back in the update's result.
  const counts = new Map<number, number>();
  for (const m of batch) {
    if (m.kind === "salon") counts.set(m.salonId, (counts.get(m.salonId) ?? 0) + 1);
  }
  const next = await reserveSalonIds(sql, counts);
  const ids: number[] = [];
  const mentionRows: Array<[number, number, number]> = [];
  for (const m of batch) {
    if (m.kind === "salon") {
      const id = next.get(m.salonId)!;
      next.set(m.salonId, id + 1);
      await sql.run(
        "INSERT INTO messages (salon_id, id, user_id, text, created_at, mentions) VALUES (?, ?, ?, ?, ?, ?)",
        [m.salonId, id, m.userId, m.text, m.at, mentionColumn(m.mentions)],
      );
      for (const { userId } of m.mentions ?? []) mentionRows.push([userId, m.salonId, id]);
      ids.push(id);
    } else {
      const result = await sql.run(
        `INSERT INTO direct_messages (from_user_id, to_user_id, pair_low, pair_high, text, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
        [
          m.fromUserId,
          m.toUserId,
          Math.min(m.fromUserId, m.toUserId),
          Math.max(m.fromUserId, m.toUserId),
          m.text,
          m.at,
        ],
      );
      ids.push(Number(result.insertId));
    }
  }
  // The mentions of the whole batch, after their messages (the foreign key), in a few statements.
  await mysqlInsertMentions(sql, mentionRows);
  await afterBatch(sql, batch, ids);
  return ids;
}

/**
 * Reserves `counts.get(salon)` consecutive message ids in each salon, inside
 * the transaction of `sql`: one update of each salon's counter, salons in id
 * order (two batches never wait on each other crosswise); LAST_INSERT_ID(expr)
 * hands the new counter back. Resolves to each salon's first reserved id.
 */
export async function reserveSalonIds(
  sql: Sql,
  counts: ReadonlyMap<number, number>,
): Promise<Map<number, number>> {
  const next = new Map<number, number>();
  for (const salonId of [...counts.keys()].sort((a, b) => a - b)) {
    const n = counts.get(salonId)!;
    const result = await sql.run(
      "UPDATE salons SET last_message_id = LAST_INSERT_ID(last_message_id + ?) WHERE id = ?",
      [n, salonId],
    );
    if (result.affectedRows !== 1) throw new Error(`salon ${salonId} does not exist`);
    next.set(salonId, Number(result.insertId) - n + 1);
  }
  return next;
}
