/**
 * Edit, delete and reports on SQLite (PROTOCOL.md 5.4, migration 8), on the
 * main connection like the other moderation writes, each in one
 * `BEGIN IMMEDIATE` transaction. Statements in `edits_sql.ts`.
 *
 * @module
 */

import * as q from "./edits_sql.ts";
import { mentionColumn } from "./mentions_sql.ts";
import type { Row } from "./rows.ts";
import type { SqliteDb } from "./sqlite_db.ts";
import type {
  MessageEdit,
  MessageFacts,
  MessageTarget,
  NewReport,
  ReportRecord,
  ReportResolution,
} from "./store.ts";

/** See Store.messageFacts. */
export function messageFacts(db: SqliteDb, target: MessageTarget): MessageFacts | undefined {
  if (target.kind === "salon") {
    return q.toFacts(db.q(q.SALON_MESSAGE_FACTS).get(target.salonId, target.id) as Row);
  }
  const [low, high] = q.pairOf(target);
  return q.toFacts(db.q(q.DIRECT_MESSAGE_FACTS).get(target.id, low, high) as Row);
}

/** See Store.editMessage. */
export function editMessage(db: SqliteDb, target: MessageTarget, edit: MessageEdit): boolean {
  return db.tx(() => {
    if (target.kind === "direct") {
      const [low, high] = q.pairOf(target);
      return Number(
        db.q(q.EDIT_DIRECT).run(
          edit.text,
          edit.at,
          target.id,
          low,
          high,
          edit.authorId,
          edit.sentAfter,
        ).changes,
      ) === 1;
    }
    const changed = Number(
      db.q(q.EDIT_SALON).run(
        edit.text,
        edit.at,
        mentionColumn(edit.mentions),
        target.salonId,
        target.id,
        edit.authorId,
        edit.sentAfter,
      ).changes,
    ) === 1;
    if (!changed) return false;
    db.q(q.DROP_MENTIONS).run(target.salonId, target.id);
    for (const m of edit.mentions ?? []) {
      db.q(q.INSERT_MENTION).run(m.userId, target.salonId, target.id);
    }
    return true;
  });
}

/** See Store.deleteMessage. */
export function deleteMessage(db: SqliteDb, target: MessageTarget): boolean {
  return db.tx(() => {
    if (target.kind === "direct") {
      const [low, high] = q.pairOf(target);
      return Number(db.q(q.DELETE_DIRECT).run(target.id, low, high).changes) === 1;
    }
    const changed = Number(db.q(q.DELETE_SALON).run(target.salonId, target.id).changes) === 1;
    if (changed) db.q(q.DROP_MENTIONS).run(target.salonId, target.id);
    return changed;
  });
}

/** See Store.addReport. */
export function addReport(
  db: SqliteDb,
  r: NewReport,
): { report: ReportRecord; created: boolean } {
  return db.tx(() => {
    const existing = db.q(q.REPORT_BY_KEY).get(r.reporterId, r.salonId, r.messageId) as Row;
    if (existing) return { report: q.toReport(existing)!, created: false };
    const id = db.q(q.INSERT_REPORT).run(
      r.salonId,
      r.messageId,
      r.authorId,
      r.messageAt,
      r.reporterId,
      r.reason,
      r.at,
    ).lastInsertRowid;
    return { report: q.toReport(db.q(q.REPORT_BY_ID).get(id) as Row)!, created: true };
  });
}

/** See Store.openReports. */
export function openReports(db: SqliteDb, limit: number): ReportRecord[] {
  return (db.q(q.OPEN_REPORTS).all(limit) as Row[]).map((r) => q.toReport(r)!);
}

/** See Store.resolveReport. */
export function resolveReport(
  db: SqliteDb,
  id: number,
  res: ReportResolution,
): ReportRecord | undefined {
  return db.tx(() => {
    const changed = Number(db.q(q.RESOLVE_REPORT).run(res.at, res.byUserId, res.note, id).changes);
    return changed === 1 ? q.toReport(db.q(q.REPORT_BY_ID).get(id) as Row) : undefined;
  });
}
