/**
 * Edit, delete and reports on MySQL/MariaDB (PROTOCOL.md 5.4, migration 8),
 * each write one InnoDB transaction. Statements in `edits_sql.ts`.
 *
 * @module
 */

import * as q from "./edits_sql.ts";
import { mentionColumn, mysqlInsertMentions } from "./mentions_sql.ts";
import type { MysqlDb } from "./mysql_sql.ts";
import type {
  MessageEdit,
  MessageFacts,
  MessageTarget,
  NewReport,
  ReportRecord,
  ReportResolution,
} from "./store.ts";

/** See Store.messageFacts. */
export async function messageFacts(
  db: MysqlDb,
  target: MessageTarget,
): Promise<MessageFacts | undefined> {
  if (target.kind === "salon") {
    return q.toFacts(await db.sql.row(q.SALON_MESSAGE_FACTS, [target.salonId, target.id]));
  }
  const [low, high] = q.pairOf(target);
  return q.toFacts(await db.sql.row(q.DIRECT_MESSAGE_FACTS, [target.id, low, high]));
}

/** See Store.editMessage. */
export function editMessage(
  db: MysqlDb,
  target: MessageTarget,
  edit: MessageEdit,
): Promise<boolean> {
  return db.tx(async (sql) => {
    if (target.kind === "direct") {
      const [low, high] = q.pairOf(target);
      const result = await sql.run(q.EDIT_DIRECT, [
        edit.text,
        edit.at,
        target.id,
        low,
        high,
        edit.authorId,
        edit.sentAfter,
      ]);
      return result.affectedRows === 1;
    }
    const result = await sql.run(q.EDIT_SALON, [
      edit.text,
      edit.at,
      mentionColumn(edit.mentions),
      target.salonId,
      target.id,
      edit.authorId,
      edit.sentAfter,
    ]);
    if (result.affectedRows !== 1) return false;
    await sql.run(q.DROP_MENTIONS, [target.salonId, target.id]);
    await mysqlInsertMentions(
      sql,
      (edit.mentions ?? []).map((m): [number, number, number] => [
        m.userId,
        target.salonId,
        target.id,
      ]),
    );
    return true;
  });
}

/** See Store.deleteMessage. */
export function deleteMessage(db: MysqlDb, target: MessageTarget): Promise<boolean> {
  return db.tx(async (sql) => {
    if (target.kind === "direct") {
      const [low, high] = q.pairOf(target);
      return (await sql.run(q.DELETE_DIRECT, [target.id, low, high])).affectedRows === 1;
    }
    const changed = (await sql.run(q.DELETE_SALON, [target.salonId, target.id])).affectedRows === 1;
    if (changed) await sql.run(q.DROP_MENTIONS, [target.salonId, target.id]);
    return changed;
  });
}

/** See Store.addReport: a duplicate key means the user reported this message already. */
export async function addReport(
  db: MysqlDb,
  r: NewReport,
): Promise<{ report: ReportRecord; created: boolean }> {
  let created = true;
  try {
    await db.tx((sql) =>
      sql.run(q.INSERT_REPORT, [
        r.salonId,
        r.messageId,
        r.authorId,
        r.messageAt,
        r.reporterId,
        r.reason,
        r.at,
      ])
    );
  } catch (e) {
    if ((e as { code?: string }).code !== "ER_DUP_ENTRY") throw e;
    created = false;
  }
  const row = await db.sql.row(q.REPORT_BY_KEY, [r.reporterId, r.salonId, r.messageId]);
  return { report: q.toReport(row)!, created };
}

/** See Store.openReports. */
export async function openReports(db: MysqlDb, limit: number): Promise<ReportRecord[]> {
  return (await db.sql.rows(q.OPEN_REPORTS, [limit])).map((r) => q.toReport(r)!);
}

/** See Store.resolveReport. */
export function resolveReport(
  db: MysqlDb,
  id: number,
  res: ReportResolution,
): Promise<ReportRecord | undefined> {
  return db.tx(async (sql) => {
    const result = await sql.run(q.RESOLVE_REPORT, [res.at, res.byUserId, res.note, id]);
    if (result.affectedRows !== 1) return undefined;
    return q.toReport(await sql.row(q.REPORT_BY_ID, [id]));
  });
}
