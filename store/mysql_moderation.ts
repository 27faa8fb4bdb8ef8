/**
 * Moderation on MySQL/MariaDB: sanctions (kicks and bans, when they end,
 * lifting them), a ban with its token revocation, withdrawn join requests
 * and optional purge of everything the user wrote, and the audit log.
 *
 * @module
 */

import { banOutcome, liftFilter } from "./adapter_common.ts";
import { MYSQL_PURGE_MENTIONS } from "./mentions_sql.ts";
import * as markers from "./mysql_markers.ts";
import type { MysqlDb } from "./mysql_sql.ts";
import { toAudit, toAuthoredSanction, toSanction } from "./rows.ts";
import type { AuditEntry, AuthoredSanction, SanctionRecord } from "./store.ts";

/** Records a sanction; returns it with its id. */
export async function addSanction(
  db: MysqlDb,
  sanction: Omit<SanctionRecord, "id">,
  byUserId: number | null,
): Promise<SanctionRecord> {
  const result = await db.tx((sql) =>
    sql.run(
      `INSERT INTO sanctions (user_id, kind, until_at, reason, by_user_id, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
      [
        sanction.userId,
        sanction.kind,
        sanction.until,
        sanction.reason,
        byUserId,
        sanction.createdAt,
      ],
    )
  );
  return { ...sanction, id: Number(result.insertId) };
}

/** The sanction in force for a user at `now`: a ban if any, else the kick ending last. */
export async function activeSanction(
  db: MysqlDb,
  userId: number,
  now: number,
): Promise<SanctionRecord | undefined> {
  return toSanction(
    await db.sql.row(
      `SELECT id, user_id, kind, until_at, reason, created_at FROM sanctions
       WHERE user_id = ? AND lifted_at IS NULL AND (until_at IS NULL OR until_at > ?)
       ORDER BY (until_at IS NULL) DESC, until_at DESC LIMIT 1`,
      [userId, now],
    ),
  );
}

/** The sanctions in force for a user at `now`, oldest first, with their authors. */
export async function activeSanctionsOf(
  db: MysqlDb,
  userId: number,
  now: number,
): Promise<AuthoredSanction[]> {
  return (await db.sql.rows(
    `SELECT s.id AS id, s.user_id AS user_id, s.kind AS kind, s.until_at AS until_at,
            s.reason AS reason, s.created_at AS created_at,
            u.username AS by_username, u.role AS by_role
     FROM sanctions s LEFT JOIN users u ON u.id = s.by_user_id
     WHERE s.user_id = ? AND s.lifted_at IS NULL AND (s.until_at IS NULL OR s.until_at > ?)
     ORDER BY s.id`,
    [userId, now],
  )).map(toAuthoredSanction);
}

/** Lifts the sanctions in force for a user (only `ids` when given); returns how many. */
export async function liftSanctions(
  db: MysqlDb,
  userId: number,
  now: number,
  ids?: readonly number[],
): Promise<number> {
  const only = liftFilter(ids);
  if (only === undefined) return 0;
  const result = await db.tx((sql) =>
    sql.run(
      `UPDATE sanctions SET lifted_at = ?
       WHERE user_id = ? AND lifted_at IS NULL AND (until_at IS NULL OR until_at > ?)${only}`,
      [now, userId, now, ...(ids ?? [])],
    )
  );
  return result.affectedRows;
}

/** Sanctions in force at `now` (bans, and kicks not yet over), oldest first. */
export async function listActiveSanctions(db: MysqlDb, now: number): Promise<SanctionRecord[]> {
  return (await db.sql.rows(
    `SELECT id, user_id, kind, until_at, reason, created_at FROM sanctions
     WHERE lifted_at IS NULL AND (until_at IS NULL OR until_at > ?) ORDER BY id`,
    [now],
  )).map((r) => toSanction(r)!);
}

/**
 * A ban in one transaction: the sanction, every token revoked (marked as by
 * a ban), pending join requests withdrawn and, with `purge`, every message
 * the user wrote deleted (their mention rows first, then the conversation
 * rows they leave behind are corrected, `mysql_markers.ts`).
 */
export async function ban(
  db: MysqlDb,
  sanction: Omit<SanctionRecord, "id" | "kind" | "until">,
  byUserId: number | null,
  purge: boolean,
): Promise<{ sanction: SanctionRecord; withdrawnSalonIds: number[] }> {
  const result = await db.tx(async (sql) => {
    const inserted = await sql.run(
      `INSERT INTO sanctions (user_id, kind, until_at, reason, by_user_id, created_at)
       VALUES (?, 'ban', NULL, ?, ?, ?)`,
      [sanction.userId, sanction.reason, byUserId, sanction.createdAt],
    );
    await sql.run("UPDATE sessions SET revoked_by_ban = 1 WHERE user_id = ?", [sanction.userId]);
    const withdrawn = (await sql.rows(
      "SELECT salon_id FROM join_requests WHERE user_id = ? FOR UPDATE",
      [sanction.userId],
    )).map((r) => Number(r.salon_id));
    await sql.run("DELETE FROM join_requests WHERE user_id = ?", [sanction.userId]);
    if (purge) {
      await sql.run(MYSQL_PURGE_MENTIONS, [sanction.userId]);
      await sql.run("DELETE FROM messages WHERE user_id = ?", [sanction.userId]);
      await sql.run("DELETE FROM direct_messages WHERE from_user_id = ?", [sanction.userId]);
      await markers.purged(sql, sanction.userId);
    }
    return { id: Number(inserted.insertId), withdrawn };
  });
  return banOutcome(sanction, result.id, result.withdrawn);
}

/** Appends to the audit log. */
export async function addAudit(db: MysqlDb, entry: AuditEntry): Promise<void> {
  await db.tx((sql) =>
    sql.run(
      "INSERT INTO audit_log (at, actor, action, target, reason, via) VALUES (?, ?, ?, ?, ?, ?)",
      [entry.at, entry.actor, entry.action, entry.target, entry.reason, entry.via],
    )
  );
}

/** The newest audit entries, newest first. */
export async function listAudit(db: MysqlDb, limit: number): Promise<AuditEntry[]> {
  return (await db.sql.rows(
    "SELECT at, actor, action, target, reason, via FROM audit_log ORDER BY id DESC LIMIT ?",
    [limit],
  )).map(toAudit);
}
