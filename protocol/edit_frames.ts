/**
 * Client frames of edit, delete and reports (PROTOCOL.md 5.4), and the bodies
 * of their admin API: `edit`, `delete`, `report` (any member), `reports`,
 * `resolve_report` (moderators). frames.ts lists them with the other frames.
 *
 * @module
 */

import { z } from "zod";
import type { ClientFrame } from "./frames.ts";
import { REASON_MAX, reasonField } from "./admin.ts";
import { nameRefField, refField, shortTextField, stringField } from "./fields.ts";

const ref = refField;
const nameRef = nameRefField;

/** A message or report id: a whole number from 1. */
export const idOf = (field: string) =>
  z.number({ error: `${field} must be a number (a message id)` })
    .int({ error: `${field} must be a whole number` })
    .min(1, { error: `${field} must be at least 1` })
    .max(Number.MAX_SAFE_INTEGER, { error: `${field} must be at most ${Number.MAX_SAFE_INTEGER}` });

/** A resolution note: like a reason, up to 500 characters, no control characters. */
export const noteField = shortTextField("note", REASON_MAX);

const oneOf = (f: { salon?: string; with?: string }) =>
  (f.salon === undefined) !== (f.with === undefined);

/** `{"type":"edit","salon"|"with","id","text"}`: the text rule is the one of `say`. */
export const EditFrame = z.object({
  type: z.literal("edit"),
  ref,
  salon: nameRef("salon").optional(),
  with: nameRef("with").optional(),
  id: idOf("id"),
  text: stringField("text"),
}).refine(oneOf, { error: "edit needs exactly one of salon or with" });

/** `{"type":"delete","salon"|"with","id","reason"?}`. */
export const DeleteFrame = z.object({
  type: z.literal("delete"),
  ref,
  salon: nameRef("salon").optional(),
  with: nameRef("with").optional(),
  id: idOf("id"),
  reason: reasonField,
}).refine(oneOf, { error: "delete needs exactly one of salon or with" });

/** `{"type":"report","salon","id","reason"?}`: salon messages only. */
export const ReportFrame = z.object({
  type: z.literal("report"),
  ref,
  salon: nameRef("salon"),
  with: z.never({
    error: "report takes a salon: direct messages cannot be reported (block or ask a moderator)",
  }).optional(),
  id: idOf("id"),
  reason: reasonField,
});

/** `{"type":"reports"}` (moderators). */
export const ReportsFrame = z.object({ type: z.literal("reports"), ref });

/** `{"type":"resolve_report","report","note"?}` (moderators). */
export const ResolveReportFrame = z.object({
  type: z.literal("resolve_report"),
  ref,
  report: idOf("report"),
  note: noteField,
});

/** The frames of this file, by type (frames.ts adds them to its table). */
export const EDIT_SCHEMAS = {
  edit: EditFrame,
  delete: DeleteFrame,
  report: ReportFrame,
  reports: ReportsFrame,
  resolve_report: ResolveReportFrame,
} as const;

/** A parsed frame of this file. */
export type MessageFrame = Extract<ClientFrame, { type: keyof typeof EDIT_SCHEMAS }>;

/** Whether a frame type is one of this file's. */
export function isMessageFrameType(type: string): boolean {
  return Object.hasOwn(EDIT_SCHEMAS, type);
}

/** Frame types of this file that only moderators and admins may send. */
export const EDIT_MODERATOR_FRAMES: ReadonlySet<string> = new Set(["reports", "resolve_report"]);

/** `POST /admin/reports/{id}/resolve`. */
export const ResolveReportBody = z.object({ note: noteField });
/** `DELETE /admin/salons/{salon}/messages/{id}` (the body is optional). */
export const DeleteMessageBody = z.object({ reason: reasonField });
