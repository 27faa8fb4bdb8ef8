/**
 * Handlers of the frames of PROTOCOL 5.4: `muted`, `unmuted`,
 * `salon_settings`, `edited`, `deleted`, `reports`, `report`,
 * `report_resolved`; and what the `ok` or `error` of a 5.4 request
 * (`edit`, `delete`, `report`, `resolve_report`, a report's context)
 * changes.
 *
 * @module
 */

import type { ServerFrameOf } from "../../../protocol/server_frames.ts";
import { type ConversationKey, directKey, salonKey } from "../keys.ts";
import type { ModerationFrameOf } from "../moderation_frames.ts";
import type { ComposerProblem } from "../stores/composer.ts";
import { around } from "../stores/reports.ts";
import type { ChatContext, PendingRequest } from "./context.ts";

const iso = (ctx: ChatContext) => new Date(ctx.clock.now()).toISOString();

/** `editedAt` of an edit's `ok`, when the server gives it. */
function editedAtOf(f: ServerFrameOf<"ok">): string | undefined {
  const at = (f as { editedAt?: unknown }).editedAt;
  return typeof at === "string" ? at : undefined;
}

/** The conversation a 5.4 event names (`salon`, or `with`: the other side). */
function keyOf(f: { salon?: string; with?: string }): ConversationKey {
  return f.salon !== undefined ? salonKey(f.salon) : directKey(f.with ?? "");
}

/** `muted`: the banner and the disabled composer, until `until`. */
export function onMuted(ctx: ChatContext, f: ServerFrameOf<"muted">): void {
  ctx.restrictions.mute({ salon: f.salon, until: f.until, reason: f.reason });
}

/** `unmuted`: that mute ended. */
export function onUnmuted(ctx: ChatContext, f: ServerFrameOf<"unmuted">): void {
  ctx.restrictions.unmute(f.salon);
}

/** `salon_settings`: the salon's slow mode changed. */
export function onSalonSettings(ctx: ChatContext, f: ServerFrameOf<"salon_settings">): void {
  ctx.restrictions.setSlowMode(f.salon, f.slowModeSeconds);
  ctx.salons.update(f.salon, () => ({ slowModeSeconds: f.slowModeSeconds }));
}

/** `edited`: the new text, marked "(edited)". */
export function onEdited(ctx: ChatContext, f: ModerationFrameOf<"edited">): void {
  ctx.messages.edited(keyOf(f), f.id, f.text, f.editedAt, f.mentions);
}

/** `deleted`: a tombstone; a report about that message says it is gone. */
export function onDeleted(ctx: ChatContext, f: ModerationFrameOf<"deleted">): void {
  const key = keyOf(f);
  ctx.messages.deleted(key, f.id);
  if (f.salon !== undefined) ctx.reports.messageDeleted(f.salon, f.id);
  const editing = ctx.composer.editing.value.get(key);
  if (editing?.id === f.id) ctx.composer.endEdit(key);
}

/** `reports`: the open reports (moderators). */
export function onReports(ctx: ChatContext, f: ModerationFrameOf<"reports">): void {
  ctx.takeRequest(f.ref);
  ctx.reports.set(f.open);
}

/** `report`: a new report (moderators). */
export function onReport(ctx: ChatContext, f: ModerationFrameOf<"report">): void {
  ctx.reports.add(f.report);
}

/** `report_resolved`: it leaves the queue (whoever resolved it). */
export function onReportResolved(ctx: ChatContext, f: ModerationFrameOf<"report_resolved">): void {
  ctx.reports.remove(f.report);
}

/** The `ok` of a 5.4 request. Returns false for a request of another kind. */
export function okOf(ctx: ChatContext, req: PendingRequest, f: ServerFrameOf<"ok">): boolean {
  switch (req.kind) {
    case "edit":
      // The server's `ok` carries `editedAt` (docs/protocol.md); the local time otherwise.
      ctx.messages.edited(req.key, req.id, req.text, editedAtOf(f) ?? iso(ctx), null);
      ctx.composer.setProblem(req.key, null);
      return true;
    case "delete":
      ctx.messages.deleted(req.key, req.id);
      if (req.key.startsWith("s:")) ctx.reports.messageDeleted(req.key.slice(2), req.id);
      if (req.report !== undefined) {
        ctx.reports.outcome.value = { ok: true, message: "Message deleted." };
      }
      return true;
    case "report":
      ctx.composer.setProblem(req.key, {
        code: "reported",
        message: "Reported. The moderators will look at it.",
        tone: "info",
      });
      return true;
    case "resolve":
      ctx.reports.remove(req.report);
      ctx.reports.outcome.value = { ok: true, message: `Report ${req.report} resolved.` };
      return true;
    default:
      return false;
  }
}

/** Words for a refused 5.4 request. */
function refusal(req: PendingRequest, code: string, message: string): string {
  const what = req.kind === "edit"
    ? "Not edited"
    : req.kind === "delete"
    ? "Not deleted"
    : req.kind === "report"
    ? "Not reported"
    : "Not resolved";
  if (code === "not_found") return `${what}: that message no longer exists (${message}).`;
  if (code === "forbidden") return `${what}: not allowed (${message}).`;
  return `${what}: ${message}`;
}

/** The `error` of a 5.4 request. Returns false for a request of another kind. */
export function errorOf(ctx: ChatContext, req: PendingRequest, f: ServerFrameOf<"error">): boolean {
  switch (req.kind) {
    case "edit":
    case "delete":
    case "report": {
      const problem: ComposerProblem = { code: f.code, message: refusal(req, f.code, f.message) };
      ctx.composer.setProblem(req.key, problem);
      if (req.kind === "delete" && req.report !== undefined) {
        ctx.reports.outcome.value = { ok: false, message: problem.message };
      }
      return true;
    }
    case "resolve":
      ctx.reports.outcome.value = { ok: false, message: refusal(req, f.code, f.message) };
      return true;
    case "context":
      ctx.reports.setContext(req.report, {
        state: "failed",
        message: f.code === "not_member"
          ? `The context cannot be shown: you are not a member of ${req.salon}.`
          : `The context cannot be shown: ${f.message}`,
      });
      return true;
    default:
      return false;
  }
}

/** A `history` page asked for a report's context: the messages around the reported one. */
export function contextPage(
  ctx: ChatContext,
  req: Extract<PendingRequest, { kind: "context" }>,
  items: ReturnType<typeof around>,
): void {
  const shown = around(items, req.id);
  ctx.reports.setContext(
    req.report,
    shown.length ? { state: "shown", items: shown } : {
      state: "failed",
      message: "The message is no longer in the salon's history.",
    },
  );
}
