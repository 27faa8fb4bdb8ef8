/**
 * History pages on SQLite: the newest messages below a cursor (or from the
 * end) here, the oldest above an id from `sqlite_markers.ts` (catching up).
 * Synchronous, like `node:sqlite`.
 *
 * @module
 */

import { page } from "./rows.ts";
import type { SqliteDb } from "./sqlite_db.ts";
import type { SqliteMarkers } from "./sqlite_markers.ts";
import type { HistoryPage, HistoryQuery } from "./store.ts";

/** A page of a salon's history (see Store.salonHistory). */
export function salonHistory(
  db: SqliteDb,
  markers: SqliteMarkers,
  salonId: number,
  { before, after, limit }: HistoryQuery,
): HistoryPage {
  if (after !== undefined) return markers.salonAfter(salonId, after, limit);
  const rows = db.q(
    `SELECT m.id AS id, m.text AS text, m.created_at AS created_at, m.mentions AS mentions,
            m.edited_at AS edited_at, m.deleted AS deleted,
            u.username AS from_username, u.alias AS from_alias
     FROM messages m JOIN users u ON u.id = m.user_id
     WHERE m.salon_id = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?`,
  ).all(salonId, before ?? Number.MAX_SAFE_INTEGER, limit + 1);
  return page(rows, limit);
}

/** A page of the direct conversation of two users, in either direction (see Store.directHistory). */
export function directHistory(
  db: SqliteDb,
  markers: SqliteMarkers,
  userA: number,
  userB: number,
  { before, after, limit }: HistoryQuery,
): HistoryPage {
  if (after !== undefined) return markers.directAfter(userA, userB, after, limit);
  const rows = db.q(
    `SELECT d.id AS id, d.text AS text, d.created_at AS created_at,
            d.edited_at AS edited_at, d.deleted AS deleted,
            f.username AS from_username, f.alias AS from_alias,
            t.username AS to_username, t.alias AS to_alias
     FROM direct_messages d
     JOIN users f ON f.id = d.from_user_id JOIN users t ON t.id = d.to_user_id
     WHERE d.pair_low = ? AND d.pair_high = ? AND d.id < ? ORDER BY d.id DESC LIMIT ?`,
  ).all(
    Math.min(userA, userB),
    Math.max(userA, userB),
    before ?? Number.MAX_SAFE_INTEGER,
    limit + 1,
  );
  return page(rows, limit);
}
