/**
 * Moderation on SQLite: sanctions (kicks and bans, when they end, lifting
 * them), a ban with its token revocation, withdrawn join requests and
 * optional purge of everything the user wrote, and the audit log.
 * Synchronous, like `node:sqlite`.
 *
 * @module
 */

import { banOutcome, liftFilter } from "./adapter_common.ts";
import { SQLITE_PURGE_MENTIONS } from "./mentions_sql.ts";
import { toAudit, toAuthoredSanction, toSanction } from "./rows.ts";
import type { SqliteDb } from "./sqlite_db.ts";
import type { SqliteMarkers } from "./sqlite_markers.ts";
import type { AuditEntry, AuthoredSanction, SanctionRecord } from "./store.ts";

/** Records a sanction; returns it with its id. */
export function addSanction(
  db: SqliteDb,
  sanction: Omit<SanctionRecord, "id">,
  byUserId: number | null,
): SanctionRecord {
  const result = db.tx(() =>
    db.q(
      `INSERT INTO sanctions (user_id, kind, until_at, reason, by_user_id, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(
      sanction.userId,
      sanction.kind,
      sanction.until,
      sanction.reason,
      byUserId,
      sanction.createdAt,
    )
  );
  return { ...sanction, id: Number(result.lastInsertRowid) };
}

/** The sanction in force for a user at `now`: a ban if any, else the kick ending last. */
export function activeSanction(
  db: SqliteDb,
  userId: number,
  now: number,
): SanctionRecord | undefined {
  return toSanction(
    db.q(
      `SELECT id, user_id, kind, until_at, reason, created_at FROM sanctions
       WHERE user_id = ? AND lifted_at IS NULL AND (until_at IS NULL OR until_at > ?)
       ORDER BY (until_at IS NULL) DESC, until_at DESC LIMIT 1`,
    ).get(userId, now),
  );
}

/** The sanctions in force for a user at `now`, oldest first, with their authors. */
export function activeSanctionsOf(db: SqliteDb, userId: number, now: number): AuthoredSanction[] {
  return db.q(
    `SELECT s.id AS id, s.user_id AS user_id, s.kind AS kind, s.until_at AS until_at,
            s.reason AS reason, s.created_at AS created_at,
            u.username AS by_username, u.role AS by_role
     FROM sanctions s LEFT JOIN users u ON u.id = s.by_user_id
     WHERE s.user_id = ? AND s.lifted_at IS NULL AND (s.until_at IS NULL OR s.until_at > ?)
     ORDER BY s.id`,
  ).all(userId, now).map(toAuthoredSanction);
}

/** Lifts the sanctions in force for a user (only `ids` when given); returns how many. */
export function liftSanctions(
  db: SqliteDb,
  userId: number,
  now: number,
  ids?: readonly number[],
): number {
  const only = liftFilter(ids);
  if (only === undefined) return 0;
  const result = db.tx(() =>
    db.q(
      `UPDATE sanctions SET lifted_at = ?
       WHERE user_id = ? AND lifted_at IS NULL AND (until_at IS NULL OR until_at > ?)${only}`,
    ).run(now, userId, now, ...(ids ?? []))
  );
  return Number(result.changes);
}

/** Sanctions in force at `now` (bans, and kicks not yet over), oldest first. */
export function listActiveSanctions(db: SqliteDb, now: number): SanctionRecord[] {
  return db.q(
    `SELECT id, user_id, kind, until_at, reason, created_at FROM sanctions
     WHERE lifted_at IS NULL AND (until_at IS NULL OR until_at > ?) ORDER BY id`,
  ).all(now).map((r) => toSanction(r)!);
}

/**
 * A ban in one transaction: the sanction, every token revoked (marked as by
 * a ban), pending join requests withdrawn and, with `purge`, every message
 * the user wrote deleted (their mention rows first, then the conversation
 * rows they leave behind are corrected through `markers`).
 */
export function ban(
  db: SqliteDb,
  markers: SqliteMarkers,
  sanction: Omit<SanctionRecord, "id" | "kind" | "until">,
  byUserId: number | null,
  purge: boolean,
): { sanction: SanctionRecord; withdrawnSalonIds: number[] } {
  const result = db.tx(() => {
    const inserted = db.q(
      `INSERT INTO sanctions (user_id, kind, until_at, reason, by_user_id, created_at)
       VALUES (?, 'ban', NULL, ?, ?, ?)`,
    ).run(sanction.userId, sanction.reason, byUserId, sanction.createdAt);
    db.q("UPDATE sessions SET revoked_by_ban = 1 WHERE user_id = ?").run(sanction.userId);
    const withdrawn = db.q("SELECT salon_id FROM join_requests WHERE user_id = ?")
      .all(sanction.userId).map((r) => Number(r.salon_id));
    db.q("DELETE FROM join_requests WHERE user_id = ?").run(sanction.userId);
    if (purge) {
      db.q(SQLITE_PURGE_MENTIONS).run(sanction.userId);
      db.q("DELETE FROM messages WHERE user_id = ?").run(sanction.userId);
      db.q("DELETE FROM direct_messages WHERE from_user_id = ?").run(sanction.userId);
      markers.purged(sanction.userId);
    }
    return { id: Number(inserted.lastInsertRowid), withdrawn };
  });
  return banOutcome(sanction, result.id, result.withdrawn);
}

/** Appends to the audit log. */
export function addAudit(db: SqliteDb, entry: AuditEntry): void {
  db.tx(() =>
    db.q(
      "INSERT INTO audit_log (at, actor, action, target, reason, via) VALUES (?, ?, ?, ?, ?, ?)",
    ).run(entry.at, entry.actor, entry.action, entry.target, entry.reason, entry.via)
  );
}

/** The newest audit entries, newest first. */
export function listAudit(db: SqliteDb, limit: number): AuditEntry[] {
  return db.q(
    "SELECT at, actor, action, target, reason, via FROM audit_log ORDER BY id DESC LIMIT ?",
  ).all(limit).map(toAudit);
}
