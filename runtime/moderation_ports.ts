/**
 * The hub's side of moderation: the live ports the desk acts through (the
 * salons, sanctions and countdown of the actor system) and the dispatcher
 * of moderator frames arriving over WebSocket.
 *
 * @module
 */

import { sanctionSystemId, type ServerEvent } from "../actors/server.ts";
import type { Session } from "../actors/session.ts";
import type { ModeratorFrame } from "../protocol/frames.ts";
import { nameKey } from "../protocol/names.ts";
import type { UserSummary } from "../store/store.ts";
import { replyOnFailure } from "./desk_reply.ts";
import type { HubContext } from "./hub_context.ts";
import type { LivePorts, Moderation, Moderator } from "./moderation.ts";

/** The live effects of the moderation desk, over the hub's actor system. */
export function livePorts(ctx: HubContext): LivePorts {
  const { log, security, salonRef } = ctx;
  const send = (event: ServerEvent) => ctx.server().send(event);
  return {
    // Several instances (issue 15): a session on another instance counts too.
    isOnline: (userId) =>
      ctx.sessionsOf(userId).length > 0 ||
      ctx.server().getSnapshot().context.elsewhere.has(userId),
    pendingRequests: () => {
      const all: Array<
        { salon: string; username: string; alias: string; at: string; t: number }
      > = [];
      for (const s of ctx.salons.values()) {
        const snap = salonRef(s.key)?.getSnapshot().context as
          | { pending: Map<number, { user: UserSummary; since: number }> }
          | undefined;
        for (const p of snap?.pending.values() ?? []) {
          all.push({
            salon: s.name,
            username: p.user.username,
            alias: p.user.alias,
            at: new Date(p.since).toISOString(),
            t: p.since,
          });
        }
      }
      return all.sort((a, b) => a.t - b.t).map(({ t: _t, ...rest }) => rest);
    },
    decide: (salonName, userId, accept) => {
      const ref = salonRef(nameKey(salonName));
      if (!ref) return Promise.resolve("unknown_salon" as const);
      return new Promise((resolve) => {
        ref.send({
          type: "DECIDE",
          userId,
          accept,
          decider: {
            reply: (error?: Error) => {
              if (!error) resolve("ok");
              else if (error.message === "not_pending") resolve("not_pending");
              else {
                log.error("decision failed", {
                  event: "decision_failed",
                  salon: salonName,
                  error,
                });
                resolve("not_pending");
              }
            },
          },
        });
      });
    },
    punish: (userId, frame) => send({ type: "PUNISH", userId, frame }),
    trackSanction: (sanction, username) => {
      security.record({ event: "sanction", username, outcome: "imposed", detail: sanction.kind });
      ctx.metrics.sanctioned(sanction.kind);
      send({ type: "TRACK_SANCTION", sanction, username });
    },
    liftSanctions: (_userId, sanctionIds) => {
      for (const id of sanctionIds) {
        ctx.server().system.get(sanctionSystemId(id))?.send({ type: "LIFT" });
      }
    },
    requestsWithdrawn: (userId, salonIds) => {
      for (const id of salonIds) {
        const s = ctx.salons.get(id);
        if (s) salonRef(s.key)?.send({ type: "REQUESTS_WITHDRAWN", userId });
      }
    },
    broadcast: (frame) => send({ type: "BROADCAST", frame }),
    startShutdown: (seconds) => {
      if (ctx.lifecycle() !== "running") return false;
      send({ type: "START_SHUTDOWN", seconds });
      return true;
    },
    cancelShutdown: () => {
      if (ctx.lifecycle() !== "shuttingDown") return false;
      send({ type: "CANCEL_SHUTDOWN" });
      return true;
    },
    roleChanged: (userId, role) => {
      send({ type: "ROLE_CHANGED", userId, role });
      ctx.users.roleChanged(userId, role);
    },
    // -- mute and slow mode (PROTOCOL 5.4)
    salonNamed: (name) => {
      const key = nameKey(name);
      for (const s of ctx.salons.values()) if (s.key === key) return s;
      return undefined;
    },
    salonById: (id) => ctx.salons.get(id),
    trackMute: (mute, username, replaced) => {
      const salon = mute.salonId === null ? undefined : ctx.salons.get(mute.salonId);
      if (mute.salonId !== null && !salon) return; // never turn a salon's mute into one everywhere
      security.record({ event: "sanction", username, outcome: "imposed", detail: "mute" });
      ctx.metrics.sanctioned("mute");
      send({
        type: "TRACK_MUTE",
        mute,
        username,
        ...(salon ? { salon: { name: salon.name, key: salon.key } } : {}),
        replaced,
      });
    },
    liftMutes: (userId, muteIds) => send({ type: "LIFT_MUTES", userId, muteIds }),
    slowModeChanged: (salonId, seconds) => {
      const salon = ctx.salons.get(salonId);
      if (!salon) return;
      salon.slowModeSeconds = seconds;
      salonRef(salon.key)?.send({ type: "SET_SLOW_MODE", seconds });
      // Several instances: the others apply it too.
      ctx.salonRelay?.()?.slowModeStored(salonId, seconds);
    },
  };
}

/** Carries out a moderator frame of `session` and answers it (`ok`, `requests` or `error`). */
export function moderate(
  ctx: Pick<HubContext, "log">,
  moderation: Moderation,
  session: Session,
  frame: ModeratorFrame,
): void {
  const actor: Moderator = {
    username: session.user.username,
    userId: session.user.id,
    role: session.user.role,
    via: "ws",
  };
  const ok = (fields: Record<string, unknown> = {}) =>
    session.send(
      JSON.stringify({
        type: "ok",
        ...fields,
        ...(frame.ref === undefined ? {} : { ref: frame.ref }),
      }),
    );
  let work: Promise<void>;
  switch (frame.type) {
    case "requests":
      work = moderation.requests(actor).then((pending) =>
        session.send(
          JSON.stringify({
            type: "requests",
            pending,
            ...(frame.ref === undefined ? {} : { ref: frame.ref }),
          }),
        )
      );
      break;
    case "decide":
      work = moderation.decide(actor, frame.salon, frame.username, frame.accept).then(() => ok());
      break;
    case "kick":
      work = moderation.kick(actor, frame.username, frame).then(({ until }) => ok({ until }));
      break;
    case "ban":
      work = moderation.ban(actor, frame.username, frame).then(() => ok());
      break;
    case "unban":
      work = moderation.unban(actor, frame.username).then(({ lifted }) => ok({ lifted }));
      break;
    case "announce":
      work = moderation.announce(actor, frame.text).then(() => ok());
      break;
    case "shutdown":
      work = moderation.shutdown(actor, frame.seconds).then(({ seconds }) => ok({ seconds }));
      break;
    // mute and slow mode (PROTOCOL 5.4)
    case "mute":
      work = moderation.mute(actor, frame.username, frame).then(({ until }) => ok({ until }));
      break;
    case "unmute":
      work = moderation.unmute(actor, frame.username, frame).then(({ lifted }) => ok({ lifted }));
      break;
    case "slow_mode":
      work = moderation.slowMode(actor, frame.salon, frame.seconds).then(({ seconds }) =>
        ok({ seconds })
      );
      break;
  }
  work.catch(replyOnFailure(ctx.log, session, frame, "moderation_failed"));
}
