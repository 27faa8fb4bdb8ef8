/**
 * Mute and slow mode on MySQL/MariaDB (PROTOCOL 5.4): mutes imposed,
 * replaced, lifted and listed, and a salon's slow mode.
 *
 * @module
 */

import { MUTE_COLUMNS, MUTE_IN_FORCE, toAuthoredMute, toMute } from "./mute_rows.ts";
import type { MysqlDb } from "./mysql_sql.ts";
import type { AuthoredMute, MuteRecord } from "./store.ts";
import { liftFilter } from "./adapter_common.ts";

/** Records a mute, lifting those in force for the same user and salon (one transaction). */
export async function addMute(
  db: MysqlDb,
  mute: Omit<MuteRecord, "id">,
  byUserId: number | null,
): Promise<{ mute: MuteRecord; replaced: number[] }> {
  return await db.tx(async (sql) => {
    const now = mute.createdAt;
    // The user's row is locked first, so that two mutes of the same user queue up.
    await sql.row("SELECT id FROM users WHERE id = ? FOR UPDATE", [mute.userId]);
    const replaced = (await sql.rows(
      `SELECT m.id AS id FROM mutes m
       WHERE m.user_id = ? AND m.salon_id <=> ? AND ${MUTE_IN_FORCE} ORDER BY m.id FOR UPDATE`,
      [mute.userId, mute.salonId, now],
    )).map((r) => Number(r.id));
    for (const id of replaced) {
      await sql.run("UPDATE mutes SET lifted_at = ? WHERE id = ?", [now, id]);
    }
    const inserted = await sql.run(
      `INSERT INTO mutes (user_id, salon_id, until_at, reason, by_user_id, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
      [mute.userId, mute.salonId, mute.until, mute.reason, byUserId, mute.createdAt],
    );
    return { mute: { ...mute, id: Number(inserted.insertId) }, replaced };
  });
}

/** The mutes in force for a user at `now`, oldest first, with their authors. */
export async function activeMutesOf(
  db: MysqlDb,
  userId: number,
  now: number,
): Promise<AuthoredMute[]> {
  return (await db.sql.rows(
    `SELECT ${MUTE_COLUMNS}, u.username AS by_username, u.role AS by_role
     FROM mutes m LEFT JOIN users u ON u.id = m.by_user_id
     WHERE m.user_id = ? AND ${MUTE_IN_FORCE} ORDER BY m.id`,
    [userId, now],
  )).map(toAuthoredMute);
}

/** Lifts those of `ids` that are mutes of the user in force at `now`; returns how many. */
export async function liftMutes(
  db: MysqlDb,
  userId: number,
  now: number,
  ids: readonly number[],
): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await db.tx((sql) =>
    sql.run(
      `UPDATE mutes SET lifted_at = ?
       WHERE user_id = ? AND lifted_at IS NULL AND until_at > ?${liftFilter(ids)}`,
      [now, userId, now, ...ids],
    )
  );
  return result.affectedRows;
}

/** Every mute in force at `now`, oldest first. */
export async function listActiveMutes(db: MysqlDb, now: number): Promise<MuteRecord[]> {
  return (await db.sql.rows(
    `SELECT ${MUTE_COLUMNS} FROM mutes m WHERE ${MUTE_IN_FORCE} ORDER BY m.id`,
    [now],
  )).map(toMute);
}

/** Sets a salon's slow mode; false when there is no such salon. */
export async function setSlowMode(db: MysqlDb, salonId: number, seconds: number): Promise<boolean> {
  const result = await db.tx((sql) =>
    sql.run("UPDATE salons SET slow_mode_seconds = ? WHERE id = ?", [seconds, salonId])
  );
  // Setting the value it already has changes no row: look the salon up instead.
  if (result.affectedRows > 0) return true;
  return (await db.sql.row("SELECT id FROM salons WHERE id = ?", [salonId])) !== undefined;
}
