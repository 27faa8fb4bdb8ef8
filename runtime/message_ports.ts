/**
 * The hub's side of edit, delete and reports (PROTOCOL 5.4): the live ports
 * the message desk acts through (salon membership, mentions and online
 * sessions read from the salon actors, sessions of users and moderators from
 * the server actor), and the dispatcher of the frames arriving over
 * WebSocket.
 *
 * @module
 */

import type { Session } from "../actors/session.ts";
import { reportsEvent } from "../protocol/edit_events.ts";
import type { MessageFrame } from "../protocol/edit_frames.ts";
import { findMentions } from "../protocol/mentions.ts";
import { nameKey } from "../protocol/names.ts";
import type { UserSummary } from "../store/store.ts";
import { replyOnFailure } from "./desk_reply.ts";
import type { HubContext } from "./hub_context.ts";
import type { MessageDesk, MessagePorts, MessageRef } from "./message_desk.ts";
import type { Moderator } from "./moderation.ts";

/** What the desk reads of a salon actor's context (live Maps, updated in place). */
interface SalonSnapshot {
  members: Map<number, UserSummary>;
  memberKeys: Map<string, UserSummary>;
  online: Map<number, Set<Session>>;
}

/** The live effects of the message desk, over the hub's actor system. */
export function messagePorts(ctx: HubContext): MessagePorts {
  const snapshot = (salonId: number): SalonSnapshot | undefined => {
    const salon = ctx.salons.get(salonId);
    return salon
      ? ctx.salonRef(salon.key)?.getSnapshot().context as SalonSnapshot | undefined
      : undefined;
  };
  return {
    salonByName: (name) => {
      const key = nameKey(name);
      for (const s of ctx.salons.values()) if (s.key === key) return s;
      return undefined;
    },
    salonById: (id) => ctx.salons.get(id),
    isMember: (salonId, userId) => snapshot(salonId)?.members.has(userId) ?? false,
    mentionsIn: (salonId, text) => {
      const keys = snapshot(salonId)?.memberKeys;
      if (!keys) return [];
      return findMentions(text, (key) => keys.get(key)).map((u) => ({
        userId: u.id,
        username: u.username,
      }));
    },
    toSalon: (salonId, frame) => {
      for (const sessions of snapshot(salonId)?.online.values() ?? []) {
        for (const s of sessions) s.send(frame);
      }
      // Several instances: the salon's members on the others get it too.
      ctx.salonRelay?.()?.salonFrame(salonId, frame);
    },
    toUser: (userId, frame) => {
      for (const s of ctx.sessionsOf(userId)) s.send(frame);
      // Several instances: the user's sessions elsewhere get it too (runtime/cluster_directs.ts).
      ctx.directsElsewhere?.()?.changed(userId, frame);
    },
    toModerators: (frame) => {
      for (const list of ctx.server().getSnapshot().context.sessions.values()) {
        for (const s of list) if (s.user.role !== "member") s.send(frame);
      }
    },
    resolveUser: (name) => ctx.users.resolve(name),
  };
}

/** The salon or conversation a frame names. */
function placeOf(frame: { salon?: string; with?: string }): MessageRef {
  return frame.salon !== undefined ? { salon: frame.salon } : { with: frame.with! };
}

/** Carries out an edit, delete or report frame of `session` and answers it (`ok`, `reports` or `error`). */
export function messageAction(
  ctx: Pick<HubContext, "log">,
  desk: MessageDesk,
  session: Session,
  frame: MessageFrame,
): void {
  const actor: Moderator = {
    username: session.user.username,
    userId: session.user.id,
    role: session.user.role,
    via: "ws",
  };
  const ok = (fields: Record<string, unknown> = {}) =>
    session.send(JSON.stringify({
      type: "ok",
      ...(frame.ref === undefined ? {} : { ref: frame.ref }),
      ...fields,
    }));
  let work: Promise<void>;
  switch (frame.type) {
    case "edit":
      work = desk.edit(actor, placeOf(frame), frame.id, frame.text).then(({ editedAt }) =>
        ok({ id: frame.id, editedAt })
      );
      break;
    case "delete":
      work = desk.delete(actor, placeOf(frame), frame.id, { reason: frame.reason }).then(() =>
        ok({ id: frame.id })
      );
      break;
    case "report":
      work = desk.report(actor, frame.salon, frame.id, frame.reason).then(({ report }) =>
        ok({ report })
      );
      break;
    case "reports":
      work = desk.reports(actor).then((open) => session.send(reportsEvent(open, frame.ref)));
      break;
    case "resolve_report":
      work = desk.resolve(actor, frame.report, frame.note).then(() => ok());
      break;
  }
  work.catch(replyOnFailure(ctx.log, session, frame, "request_failed"));
}
