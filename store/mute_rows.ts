/**
 * Mutes (PROTOCOL 5.4) as both adapters read them: the columns selected and
 * the row-to-record functions, so that SQLite and MySQL answer alike.
 *
 * @module
 */

import type { AuthoredMute, MuteRecord, Role } from "./store.ts";

/** A row as either driver returns it. */
type Row = Record<string, unknown>;

/** The columns of a mute, for `SELECT ... FROM mutes m`. */
export const MUTE_COLUMNS =
  "m.id AS id, m.user_id AS user_id, m.salon_id AS salon_id, m.until_at AS until_at, " +
  "m.reason AS reason, m.created_at AS created_at";

/** The condition "in force at ?" on `mutes m` (bound parameter: now). */
export const MUTE_IN_FORCE = "m.lifted_at IS NULL AND m.until_at > ?";

/** Row to record. */
export function toMute(row: Row): MuteRecord {
  return {
    id: Number(row.id),
    userId: Number(row.user_id),
    salonId: row.salon_id === null || row.salon_id === undefined ? null : Number(row.salon_id),
    until: Number(row.until_at),
    reason: String(row.reason),
    createdAt: Number(row.created_at),
  };
}

/** Row (with `by_username`, `by_role`) to record. */
export function toAuthoredMute(row: Row): AuthoredMute {
  return {
    ...toMute(row),
    by: row.by_username === null || row.by_username === undefined
      ? null
      : { username: String(row.by_username), role: row.by_role as Role },
  };
}
