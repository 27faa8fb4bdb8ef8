/**
 * Edit, delete and reports in both databases (PROTOCOL.md 5.4, migration 8):
 * the statements the two adapters share (plain SQL both dialects read alike,
 * bound parameters only) and the rows they read turned into records.
 *
 * A delete erases: `text` becomes '', `mentions` NULL, the `message_mentions`
 * rows go, `deleted` is set; the row stays so that its id is never reused.
 * Reports keep no copy of the text: a report shows the message as it stands.
 *
 * @module
 */

import type { Row } from "./rows.ts";
import type { MessageFacts, MessageTarget, ReportRecord } from "./store.ts";

/** A salon message with its author, for edit, delete and report. */
export const SALON_MESSAGE_FACTS =
  `SELECT m.id AS id, m.user_id AS author_id, m.text AS text, m.created_at AS created_at,
          m.edited_at AS edited_at, m.deleted AS deleted,
          u.username AS from_username, u.alias AS from_alias
   FROM messages m JOIN users u ON u.id = m.user_id WHERE m.salon_id = ? AND m.id = ?`;

/** A direct message of one conversation (pair low, pair high) with both sides. */
export const DIRECT_MESSAGE_FACTS =
  `SELECT d.id AS id, d.from_user_id AS author_id, d.to_user_id AS to_id, d.text AS text,
          d.created_at AS created_at, d.edited_at AS edited_at, d.deleted AS deleted,
          f.username AS from_username, f.alias AS from_alias,
          t.username AS to_username, t.alias AS to_alias
   FROM direct_messages d JOIN users f ON f.id = d.from_user_id JOIN users t ON t.id = d.to_user_id
   WHERE d.id = ? AND d.pair_low = ? AND d.pair_high = ?`;

/** An edit of a salon message: by its author, in the window, not deleted. */
export const EDIT_SALON = `UPDATE messages SET text = ?, edited_at = ?, mentions = ?
   WHERE salon_id = ? AND id = ? AND user_id = ? AND deleted = 0 AND created_at >= ?`;

/** An edit of a direct message: by its author, in the window, not deleted. */
export const EDIT_DIRECT = `UPDATE direct_messages SET text = ?, edited_at = ?
   WHERE id = ? AND pair_low = ? AND pair_high = ? AND from_user_id = ? AND deleted = 0
     AND created_at >= ?`;

/** Erases a salon message (its mention rows go with {@link DROP_MENTIONS}). */
export const DELETE_SALON = `UPDATE messages SET text = '', mentions = NULL, edited_at = NULL,
   deleted = 1 WHERE salon_id = ? AND id = ? AND deleted = 0`;

/** Erases a direct message. */
export const DELETE_DIRECT = `UPDATE direct_messages SET text = '', edited_at = NULL, deleted = 1
   WHERE id = ? AND pair_low = ? AND pair_high = ? AND deleted = 0`;

/** The mention rows of one salon message (replaced by an edit, dropped by a delete). */
export const DROP_MENTIONS = "DELETE FROM message_mentions WHERE salon_id = ? AND message_id = ?";

/** One mention row. */
export const INSERT_MENTION =
  "INSERT INTO message_mentions (user_id, salon_id, message_id) VALUES (?, ?, ?)";

/** Records a report (the caller handles the one-per-reporter-and-message rule). */
export const INSERT_REPORT = `INSERT INTO reports
   (salon_id, message_id, author_id, message_at, reporter_id, reason, created_at, note)
   VALUES (?, ?, ?, ?, ?, ?, ?, '')`;

/** Closes an open report. */
export const RESOLVE_REPORT = `UPDATE reports SET resolved_at = ?, resolved_by = ?, note = ?
   WHERE id = ? AND resolved_at IS NULL`;

/** Reports with their message as it stands (LEFT JOIN: a purge may have removed the row). */
const REPORTS = `SELECT r.id AS id, r.salon_id AS salon_id, r.message_id AS message_id,
          r.message_at AS message_at, r.reason AS reason, r.created_at AS created_at,
          r.resolved_at AS resolved_at,
          a.username AS author_username, a.alias AS author_alias,
          p.username AS reporter_username, p.alias AS reporter_alias,
          m.id AS present, m.text AS text, m.edited_at AS edited_at, m.deleted AS deleted
   FROM reports r JOIN users a ON a.id = r.author_id JOIN users p ON p.id = r.reporter_id
   LEFT JOIN messages m ON m.salon_id = r.salon_id AND m.id = r.message_id`;

/** One report by id. */
export const REPORT_BY_ID = `${REPORTS} WHERE r.id = ?`;

/** The report of one reporter about one message. */
export const REPORT_BY_KEY =
  `${REPORTS} WHERE r.reporter_id = ? AND r.salon_id = ? AND r.message_id = ?`;

/** The open reports, oldest first. */
export const OPEN_REPORTS = `${REPORTS} WHERE r.resolved_at IS NULL ORDER BY r.id LIMIT ?`;

/** The conversation key of a direct target: (lower id, higher id). */
export function pairOf(target: Extract<MessageTarget, { kind: "direct" }>): [number, number] {
  return [Math.min(target.userA, target.userB), Math.max(target.userA, target.userB)];
}

/** Row to record: a message for edit, delete and report. */
export function toFacts(row: Row | undefined): MessageFacts | undefined {
  if (!row) return undefined;
  const facts: MessageFacts = {
    id: Number(row.id),
    authorId: Number(row.author_id),
    from: { username: String(row.from_username), alias: String(row.from_alias) },
    text: String(row.text),
    at: Number(row.created_at),
    deleted: Number(row.deleted) !== 0,
  };
  if (row.edited_at !== null && row.edited_at !== undefined) {
    facts.editedAt = Number(row.edited_at);
  }
  if (row.to_id !== undefined) {
    facts.to = {
      id: Number(row.to_id),
      username: String(row.to_username),
      alias: String(row.to_alias),
    };
  }
  return facts;
}

/** Row to record: a report, its message as it stands ('' and deleted once erased or purged). */
export function toReport(row: Row | undefined): ReportRecord | undefined {
  if (!row) return undefined;
  const gone = row.present === null || row.present === undefined || Number(row.deleted) !== 0;
  const message: ReportRecord["message"] = {
    id: Number(row.message_id),
    from: { username: String(row.author_username), alias: String(row.author_alias) },
    text: gone ? "" : String(row.text),
    at: Number(row.message_at),
    deleted: gone,
  };
  if (!gone && row.edited_at !== null && row.edited_at !== undefined) {
    message.editedAt = Number(row.edited_at);
  }
  const report: ReportRecord = {
    id: Number(row.id),
    salonId: Number(row.salon_id),
    message,
    by: { username: String(row.reporter_username), alias: String(row.reporter_alias) },
    reason: String(row.reason),
    at: Number(row.created_at),
  };
  if (row.resolved_at !== null && row.resolved_at !== undefined) {
    report.resolvedAt = Number(row.resolved_at);
  }
  return report;
}
