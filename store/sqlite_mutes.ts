/**
 * Mute and slow mode on SQLite (PROTOCOL 5.4): mutes imposed, replaced,
 * lifted and listed, and a salon's slow mode. Synchronous, like
 * `node:sqlite`.
 *
 * @module
 */

import { MUTE_COLUMNS, MUTE_IN_FORCE, toAuthoredMute, toMute } from "./mute_rows.ts";
import type { SqliteDb } from "./sqlite_db.ts";
import type { AuthoredMute, MuteRecord } from "./store.ts";
import { liftFilter } from "./adapter_common.ts";

/** Records a mute, lifting those in force for the same user and salon (one transaction). */
export function addMute(
  db: SqliteDb,
  mute: Omit<MuteRecord, "id">,
  byUserId: number | null,
): { mute: MuteRecord; replaced: number[] } {
  return db.tx(() => {
    const now = mute.createdAt;
    const replaced = db.q(
      `SELECT m.id AS id FROM mutes m
       WHERE m.user_id = ? AND m.salon_id IS ? AND ${MUTE_IN_FORCE} ORDER BY m.id`,
    ).all(mute.userId, mute.salonId, now).map((r) => Number(r.id));
    for (const id of replaced) db.q("UPDATE mutes SET lifted_at = ? WHERE id = ?").run(now, id);
    const inserted = db.q(
      `INSERT INTO mutes (user_id, salon_id, until_at, reason, by_user_id, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(mute.userId, mute.salonId, mute.until, mute.reason, byUserId, mute.createdAt);
    return { mute: { ...mute, id: Number(inserted.lastInsertRowid) }, replaced };
  });
}

/** The mutes in force for a user at `now`, oldest first, with their authors. */
export function activeMutesOf(db: SqliteDb, userId: number, now: number): AuthoredMute[] {
  return db.q(
    `SELECT ${MUTE_COLUMNS}, u.username AS by_username, u.role AS by_role
     FROM mutes m LEFT JOIN users u ON u.id = m.by_user_id
     WHERE m.user_id = ? AND ${MUTE_IN_FORCE} ORDER BY m.id`,
  ).all(userId, now).map(toAuthoredMute);
}

/** Lifts those of `ids` that are mutes of the user in force at `now`; returns how many. */
export function liftMutes(
  db: SqliteDb,
  userId: number,
  now: number,
  ids: readonly number[],
): number {
  if (ids.length === 0) return 0;
  const result = db.tx(() =>
    db.q(
      `UPDATE mutes SET lifted_at = ?
       WHERE user_id = ? AND lifted_at IS NULL AND until_at > ?${liftFilter(ids)}`,
    ).run(now, userId, now, ...ids)
  );
  return Number(result.changes);
}

/** Every mute in force at `now`, oldest first. */
export function listActiveMutes(db: SqliteDb, now: number): MuteRecord[] {
  return db.q(`SELECT ${MUTE_COLUMNS} FROM mutes m WHERE ${MUTE_IN_FORCE} ORDER BY m.id`)
    .all(now).map(toMute);
}

/** Sets a salon's slow mode; false when there is no such salon. */
export function setSlowMode(db: SqliteDb, salonId: number, seconds: number): boolean {
  const result = db.tx(() =>
    db.q("UPDATE salons SET slow_mode_seconds = ? WHERE id = ?").run(seconds, salonId)
  );
  return Number(result.changes) > 0;
}
