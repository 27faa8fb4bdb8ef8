/**
 * The admin API of edit, delete and reports (PROTOCOL.md 5.4), mounted with
 * the other admin routes (routes/admin.ts): `GET /admin/reports`,
 * `POST /admin/reports/{id}/resolve` `{note?}` and
 * `DELETE /admin/salons/{salon}/messages/{id}` `{reason?}`.
 *
 * @module
 */

import type { Hono } from "hono";
import { DeleteMessageBody, ResolveReportBody } from "../protocol/edit_frames.ts";
import { ProtocolError } from "../protocol/errors.ts";
import type { MessageDesk } from "../runtime/message_desk.ts";
import type { Moderator } from "../runtime/moderation.ts";
import { readJson } from "./body.ts";

/** A path parameter that must be a message or report id: a whole number from 1. */
function idParam(raw: string, what: string): number {
  const n = Number(raw);
  if (!/^[0-9]{1,16}$/.test(raw) || !Number.isSafeInteger(n) || n < 1) {
    throw new ProtocolError(
      "invalid",
      400,
      `the ${what} id must be a whole number from 1, got "${raw.slice(0, 32)}"`,
    );
  }
  return n;
}

/** Adds the routes of edit, delete and reports to `admin` (mounted at `/admin`). */
export function addMessageRoutes(
  admin: Hono<{ Variables: { actor: Moderator } }>,
  desk: MessageDesk,
): void {
  admin.get("/reports", async (c) => {
    return c.json({ open: await desk.reports(c.var.actor) }, 200);
  });

  admin.post("/reports/:id/resolve", async (c) => {
    const id = idParam(c.req.param("id"), "report");
    const { note } = await readJson(c, ResolveReportBody, { optional: true });
    await desk.resolve(c.var.actor, id, note);
    return c.json({ ok: true }, 200);
  });

  admin.delete("/salons/:salon/messages/:id", async (c) => {
    const id = idParam(c.req.param("id"), "message");
    const { reason } = await readJson(c, DeleteMessageBody, { optional: true });
    await desk.delete(c.var.actor, { salon: c.req.param("salon") }, id, {
      reason,
      asModerator: true,
    });
    return c.json({ ok: true }, 200);
  });
}
