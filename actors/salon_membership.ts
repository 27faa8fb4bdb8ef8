/**
 * The salon's membership in memory: admitting and dismissing members (with
 * their live sessions, the sorted roster and the membership index), the
 * `joined`/`member_joined` announcements, and the actors of pending requests.
 * Called by the salon machine's named actions.
 *
 * @module
 */

import { nameKey } from "../protocol/names.ts";
import type { ActorRefFrom } from "xstate";
import { memberJoinedEvent, salonEvent } from "../protocol/events.ts";
import type { UserSummary } from "../store/store.ts";
import type { Decider, joinRequestMachine, JoinRequestOutput } from "./join_request.ts";
import { MemberRoster } from "./member_roster.ts";
import { PRESENCE_SALON_MAX } from "./presence.ts";
import { RecentTimes } from "./recent_times.ts";
import type { SalonContext, SalonInput } from "./salon_types.ts";
import type { Session } from "./session.ts";
import { TYPING_INTERVAL_MS } from "./salon_presence.ts";
import { pacing } from "./salon_pace.ts";

/** A user's join request for a salon is taken at most once per this long, ms (10 minutes). */
export const JOIN_REQUEST_INTERVAL_MS = 10 * 60 * 1000;

/** `member_joined` about one user goes out at most once per this long per salon, ms. */
export const MEMBER_JOINED_WINDOW_MS = 30 * 1000;

/** The id (and system id) of the actor of a pending request. */
export function requestActorId(salonKey: string, userId: number): string {
  return `request:${salonKey}:${userId}`;
}

/** A decider that answers a session (a leave) rather than a moderator. */
export interface SessionDecider extends Decider {
  session?: Session;
  ref?: string;
}

/** A pending request's actor. */
export type RequestRef = ActorRefFrom<typeof joinRequestMachine>;

/** The actor of `userId`'s pending request for the salon of `salonKey`, if any. */
export function requestActor(
  system: { get(id: string): unknown },
  salonKey: string,
  userId: number,
): RequestRef | undefined {
  return system.get(requestActorId(salonKey, userId)) as RequestRef | undefined;
}

/** Every live session of a user. */
export function allSessions(context: SalonContext, userId: number): Iterable<Session> {
  return context.deps.sessionsOf(userId);
}

/** Makes `user` a member in memory, with their live sessions online. Returns whether it is new. */
export function admit(context: SalonContext, user: UserSummary): boolean {
  const isNew = !context.members.has(user.id);
  context.members.set(user.id, user);
  context.epoch++;
  context.memberKeys.set(nameKey(user.username), user);
  context.roster.upsert(user);
  context.pending.delete(user.id);
  const mine = new Set(allSessions(context, user.id));
  if (mine.size > 0 || context.deps.onlineElsewhere?.(user.id)) context.online.set(user.id, mine);
  if (isNew) context.deps.membershipChanged(user.id, context.salon.key, true);
  return isNew;
}

/** Ends the membership of a user in memory. */
export function dismiss(context: SalonContext, userId: number): void {
  const user = context.members.get(userId);
  if (user) {
    context.roster.remove(user);
    context.memberKeys.delete(nameKey(user.username));
  }
  context.members.delete(userId);
  context.epoch++;
  context.online.delete(userId);
  context.deps.membershipChanged(userId, context.salon.key, false);
}

/** `joined` to every session of `user` (the asking one with its ref), `member_joined` to the others. */
export function announceJoin(
  context: SalonContext,
  user: UserSummary,
  asking?: { session?: Session; ref?: string },
): void {
  for (const s of allSessions(context, user.id)) {
    s.send(
      salonEvent("joined", context.salon.name, s === asking?.session ? asking?.ref : undefined),
    );
  }
  // A user coming back within the window was announced already (v1 has no
  // `member_left`): listeners hear of each member once per window at most.
  const now = context.deps.now();
  if (context.announced.recent(user.id, now)) return;
  context.announced.set(user.id, now);
  const frame = memberJoinedEvent(context.salon.name, {
    username: user.username,
    alias: user.alias,
  });
  for (const [userId, sessions] of context.online) {
    if (userId === user.id) continue;
    for (const s of sessions) s.send(frame);
  }
}

/** The state of a salon at start-up, from its input. */
export function salonContext(input: SalonInput): SalonContext {
  const max = input.presenceMax ?? PRESENCE_SALON_MAX;
  // The mode at start: large past the maximum (the 90% rule needs a history).
  const large = input.members.length > max;
  return {
    salon: input.salon,
    members: new Map(input.members.map((u) => [u.id, u])),
    memberKeys: new Map(input.members.map((u) => [nameKey(u.username), u])),
    pending: new Map(input.pending.map((p) => [p.user.id, p])),
    online: new Map(),
    requested: RecentTimes.of(
      JOIN_REQUEST_INTERVAL_MS,
      input.pending.map((p) => [p.user.id, p.since]),
    ),
    requesting: new Set(),
    announced: new RecentTimes(MEMBER_JOINED_WINDOW_MS),
    deps: input.deps,
    roster: new MemberRoster(input.members),
    presenceMax: max,
    large,
    statsSent: { online: 0, members: input.members.length, presence: large ? "watch" : "push" },
    typed: new RecentTimes(TYPING_INTERVAL_MS),
    slowModeSeconds: input.slowModeSeconds ?? 0,
    paced: pacing(input.slowModeSeconds ?? 0),
    epoch: 0,
  };
}

/** Applies the outcome of a finished join request (accepted, rejected or withdrawn). */
export function applyOutcome(context: SalonContext, output: JoinRequestOutput): void {
  const { outcome, user, decider } = output;
  const { session, ref } = (decider ?? {}) as SessionDecider;
  context.pending.delete(user.id);
  context.epoch++;
  if (outcome === "accepted") {
    if (admit(context, user)) announceJoin(context, user);
    else {
      for (const s of allSessions(context, user.id)) {
        s.send(salonEvent("joined", context.salon.name));
      }
    }
  } else {
    const type = outcome === "rejected" ? "join_rejected" : "left";
    for (const s of allSessions(context, user.id)) {
      s.send(salonEvent(type, context.salon.name, s === session ? ref : undefined));
    }
  }
  decider?.reply();
}
