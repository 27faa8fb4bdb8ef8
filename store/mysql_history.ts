/**
 * History pages on MySQL/MariaDB: the newest messages below a cursor (or
 * from the end) here, the oldest above an id from `mysql_markers.ts`
 * (catching up).
 *
 * @module
 */

import * as markers from "./mysql_markers.ts";
import type { MysqlDb } from "./mysql_sql.ts";
import { page } from "./rows.ts";
import type { HistoryPage, HistoryQuery } from "./store.ts";

/** A page of a salon's history (see Store.salonHistory). */
export async function salonHistory(
  db: MysqlDb,
  salonId: number,
  { before, after, limit }: HistoryQuery,
): Promise<HistoryPage> {
  if (after !== undefined) return await markers.salonAfter(db.sql, salonId, after, limit);
  const rows = await db.sql.rows(
    `SELECT m.id AS id, m.text AS text, m.created_at AS created_at, m.mentions AS mentions,
            m.edited_at AS edited_at, m.deleted AS deleted,
            u.username AS from_username, u.alias AS from_alias
     FROM messages m JOIN users u ON u.id = m.user_id
     WHERE m.salon_id = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?`,
    [salonId, before ?? Number.MAX_SAFE_INTEGER, limit + 1],
  );
  return page(rows, limit);
}

/** A page of the direct conversation of two users, in either direction (see Store.directHistory). */
export async function directHistory(
  db: MysqlDb,
  userA: number,
  userB: number,
  { before, after, limit }: HistoryQuery,
): Promise<HistoryPage> {
  if (after !== undefined) return await markers.directAfter(db.sql, userA, userB, after, limit);
  const rows = await db.sql.rows(
    `SELECT d.id AS id, d.text AS text, d.created_at AS created_at,
            d.edited_at AS edited_at, d.deleted AS deleted,
            f.username AS from_username, f.alias AS from_alias,
            t.username AS to_username, t.alias AS to_alias
     FROM direct_messages d
     JOIN users f ON f.id = d.from_user_id JOIN users t ON t.id = d.to_user_id
     WHERE d.pair_low = ? AND d.pair_high = ? AND d.id < ? ORDER BY d.id DESC LIMIT ?`,
    [
      Math.min(userA, userB),
      Math.max(userA, userB),
      before ?? Number.MAX_SAFE_INTEGER,
      limit + 1,
    ],
  );
  return page(rows, limit);
}
