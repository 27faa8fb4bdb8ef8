/**
 * The salons' side of the hub: the effects the salon actors get, their
 * start-up input, and the views (membership, online counts) read from them.
 *
 * @module
 */

import type { SalonDeps, SalonInput } from "../actors/salon.ts";
import type { SalonView } from "../protocol/http.ts";
import { nameKey } from "../protocol/names.ts";
import type { SalonRecord, SalonUserRow } from "../store/store.ts";
import type { HubContext } from "./hub_context.ts";
import type { MembershipIndex } from "./membership_index.ts";
import type { SalonRelay } from "./salon_relay.ts";

/** The error a message gets when it reaches the writer after the drain began. */
function stoppingError(): Error {
  const error = new Error("the server is stopping");
  error.name = "ServerStopping";
  return error;
}

/**
 * The effects of the salon actors: the store, the writer, the membership
 * index and, with a bus only (`relay`, the instance's salon relay once
 * started), the ordered delivery across instances.
 */
export function salonDeps(
  ctx: HubContext,
  index: MembershipIndex,
  relay?: () => SalonRelay,
): SalonDeps {
  const { store, writer, now, log } = ctx;
  return {
    now,
    commit: (m, done) => {
      if (!writer.write({ kind: "salon", ...m }, done)) {
        done(stoppingError(), 0);
      }
    },
    addMember: (salonId, userId) => store.addMember(salonId, userId, now()),
    removeMember: (salonId, userId) => store.removeMember(salonId, userId).then(() => {}),
    addJoinRequest: (salonId, userId, since) => store.addJoinRequest(salonId, userId, since),
    removeJoinRequest: (salonId, userId) => store.removeJoinRequest(salonId, userId).then(() => {}),
    history: (salonId, query) => store.salonHistory(salonId, query),
    markRead: (salonId, userId, id) => store.markRead({ salonId, userId, id }),
    sessionsOf: ctx.sessionsOf,
    membershipChanged: (userId, key, member) =>
      member ? index.add(userId, key) : index.remove(userId, key),
    notifyModerators: (frame) => {
      for (const list of ctx.server().getSnapshot().context.sessions.values()) {
        for (const s of list) if (s.user.role !== "member") s.send(frame);
      }
    },
    reportError: (message) => log.error(message, { event: "salon_error" }),
    delivered: (frames) => ctx.metrics.delivered(frames),
    rateLimited: (limit) => ctx.metrics.rateLimited(limit),
    refundMessageToken: (userId) =>
      ctx.server().getSnapshot().context.buckets.messages.refund(userId, now()),
    // Several instances (issue 15): absent in one process, so that nothing changes there.
    ...(relay
      ? {
        relay: (salonId, message) => relay().committed(salonId, message),
        relayMembership: (salonId, change) => relay().membershipStored(salonId, change),
        relayNews: (salonId, news) => relay().news(salonId, news),
        closeRequest: (salonId, userId, accept) =>
          store.cluster!.closeJoinRequest(salonId, userId, accept, now()),
      } satisfies Pick<SalonDeps, "relay" | "relayMembership" | "relayNews" | "closeRequest">
      : {}),
  };
}

/** The input of every salon actor, from what the store holds. */
export function salonInputs(
  salons: SalonRecord[],
  memberships: SalonUserRow[],
  requests: SalonUserRow[],
  deps: SalonDeps,
  presenceMax?: number,
): SalonInput[] {
  return salons.map((s) => ({
    salon: { id: s.id, name: s.name, key: nameKey(s.name), policy: s.policy },
    members: memberships.filter((m) => m.salonId === s.id).map((m) => m.user),
    pending: requests.filter((r) => r.salonId === s.id).map((r) => ({
      user: r.user,
      since: r.since,
    })),
    deps,
    ...(presenceMax === undefined ? {} : { presenceMax }),
    slowModeSeconds: s.slowModeSeconds,
  }));
}

/** Salons as `userId` sees them, with live online counts. */
export function salonViews(ctx: HubContext, userId: number): SalonView[] {
  const views: SalonView[] = [];
  for (const s of ctx.salons.values()) {
    const ref = ctx.salonRef(s.key);
    const snap = ref?.getSnapshot().context as {
      members: Map<number, unknown>;
      pending: Map<number, unknown>;
      online: Map<number, unknown>;
      large: boolean;
      slowModeSeconds?: number;
    } | undefined;
    if (!snap) continue;
    const member = snap.members.has(userId);
    const online = snap.online.size +
      (member && !snap.online.has(userId) && ctx.sessionsOf(userId).length === 0 ? 1 : 0);
    views.push({
      name: s.name,
      policy: s.policy,
      member,
      pending: snap.pending.has(userId),
      online,
      members: snap.members.size,
      presence: snap.large ? "watch" : "push",
      slowModeSeconds: snap.slowModeSeconds ?? 0,
    });
  }
  return views;
}

/** Connected members of a salon (users); 0 for an unknown salon. */
export function onlineCount(ctx: HubContext, salonId: number): number {
  const s = ctx.salons.get(salonId);
  const snap = s
    ? ctx.salonRef(s.key)?.getSnapshot().context as { online: Map<number, unknown> } | undefined
    : undefined;
  return snap?.online.size ?? 0;
}

/**
 * A salon's member count and presence mode (PROTOCOL 5.1), for `GET /api/me`;
 * an unknown salon has no members and is small.
 */
export function salonSize(
  ctx: HubContext,
  salonId: number,
): { members: number; presence: "push" | "watch" } {
  const s = ctx.salons.get(salonId);
  const snap = s
    ? ctx.salonRef(s.key)?.getSnapshot().context as
      | { members: Map<number, unknown>; large: boolean }
      | undefined
    : undefined;
  return { members: snap?.members.size ?? 0, presence: snap?.large ? "watch" : "push" };
}
