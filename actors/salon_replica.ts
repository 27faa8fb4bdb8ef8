/**
 * The salon as one replica among several instances (issue 15), and the one
 * fan-out of a `message` frame every delivery goes through.
 *
 * One process (no bus): a commit is delivered at once by the salon itself
 * (`deliverMessage`). With a bus, the salon's deps carry `relay`: the commit
 * is handed to the instance's ordered delivery (runtime/salon_relay.ts), which
 * publishes it and sends it back, with the other instances' messages, as
 * `RELAYED` in id order. Memberships stored here are told to the other
 * replicas (`relayMembership`), which apply them as `JOINED_ELSEWHERE` and
 * `LEFT_ELSEWHERE`.
 *
 * @module
 */

import { messageEvent, okEvent, salonEvent } from "../protocol/events.ts";
import type { UserSummary } from "../store/store.ts";
import type { JoinRequestOutput } from "./join_request.ts";
import { admit, allSessions, announceJoin, dismiss } from "./salon_membership.ts";
import type { RelayedMessage, SalonContext, SalonEvent } from "./salon_types.ts";
import { notePacedElsewhere } from "./salon_pace.ts";
import {
  dropRequestCopy,
  reloadMembers,
  reloadRequests,
  requestClosedElsewhere,
  requestedElsewhere,
  type RequestEnqueue,
  type SalonSelf,
  typedElsewhere,
} from "./salon_replica_requests.ts";

type Args = { context: SalonContext; event: SalonEvent };
/** The arguments of an action that spawns or stops request actors (run by `enqueueActions`). */
type Queued = Args & { enqueue: RequestEnqueue; self: SalonSelf };
type E<T extends SalonEvent["type"]> = Extract<SalonEvent, { type: T }>;

/** The replica's guards, by name. */
export const replicaGuards = {
  /** Several instances: commits go through the instance's ordered delivery. */
  relays: ({ context }: Args) => context.deps.relay !== undefined,
};

/** The replica's actions, by name. */
export const replicaActions = {
  /** Several instances: `ok` to the sender, then the message to the ordered delivery. */
  relayMessage: ({ context, event }: Args) => {
    context.deps.relay!(context.salon.id, acknowledge(event as E<"COMMITTED">));
  },
  /**
   * Messages in id order from the ordered delivery: to every online member;
   * in slow mode, their authors' `say`s count here too.
   */
  fanOutRelayed: ({ context, event }: Args) => {
    const { messages } = event as E<"RELAYED">;
    fanOut(context, messages);
    notePacedElsewhere(context, messages);
  },
  /** A departure stored by another instance. */
  applyLeftElsewhere: ({ context, event }: Args) =>
    applyLeftElsewhere(context, (event as E<"LEFT_ELSEWHERE">).userId),
  /** Tells the other instances of the membership just stored (announced: a `join`). */
  relayJoin: ({ context, event }: Args) =>
    relayJoined(context, (event as E<"MEMBER_STORED">).user, true),
  /** Tells the other instances of a membership granted from elsewhere (no announcement). */
  relayAdded: ({ context, event }: Args) =>
    relayJoined(context, (event as E<"ADD_MEMBER">).user, false),
  /** Tells the other instances of the departure just stored. */
  relayLeave: ({ context, event }: Args) =>
    relayLeft(context, (event as E<"MEMBER_REMOVED">).user.id),
  /** Tells the other instances of a request accepted, rejected or withdrawn here. */
  relayOutcome: ({ context, event }: Args) => {
    const { outcome, user } = (event as unknown as { output: JoinRequestOutput }).output;
    if (outcome === "accepted") relayJoined(context, user, true);
    else context.deps.relayNews?.(context.salon.id, { closed: user.id, outcome });
  },
  /** Tells the other instances of a join request stored here. */
  relayRequest: ({ context, event }: Args) => {
    const { user, since } = event as E<"REQUEST_STORED">;
    if (context.members.has(user.id)) return;
    context.deps.relayNews?.(context.salon.id, { requested: user, since });
  },
  /** Tells the other instances of a `typing` relayed here (the 3-second limit stays here). */
  relayTypingElsewhere: ({ context, event }: Args) => {
    const { user } = (event as E<"TYPING">).session;
    context.deps.relayNews?.(context.salon.id, {
      typing: { id: user.id, username: user.username, alias: user.alias, role: user.role },
    });
  },
  /** `typing` from a member on another instance, to the connected members here. */
  applyTypedElsewhere: ({ context, event }: Args) =>
    typedElsewhere(context, (event as E<"TYPED_ELSEWHERE">).user),
};

/**
 * The replica's actions that spawn or stop request actors, by name: the
 * salon machine wraps each in `enqueueActions`.
 */
export const replicaQueued = {
  /** A membership stored by another instance (an accepted request: its copy here ends). */
  applyJoinedElsewhere: ({ context, event, enqueue, self }: Queued) => {
    const { user, announce } = event as E<"JOINED_ELSEWHERE">;
    applyJoinedElsewhere(context, user, announce);
    dropRequestCopy(self, enqueue, context, user.id);
  },
  /** A join request stored on another instance: pending here too, moderators here told. */
  applyRequestedElsewhere: ({ context, event, enqueue }: Queued) => {
    const { user, since } = event as E<"REQUESTED_ELSEWHERE">;
    requestedElsewhere(context, enqueue, user, since);
  },
  /** A request rejected or withdrawn on another instance: its copy here ends. */
  applyRequestClosedElsewhere: ({ context, event, enqueue, self }: Queued) => {
    const { userId, outcome } = event as E<"REQUEST_CLOSED_ELSEWHERE">;
    requestClosedElsewhere(self, enqueue, context, userId, outcome);
  },
  /** The members as MySQL holds them (a lost join or leave), unless they moved meanwhile. */
  applyMembersReloaded: ({ context, event, enqueue, self }: Queued) =>
    reloadMembers(self, enqueue, context, event as E<"MEMBERS_RELOADED">),
  /** The pending requests as MySQL holds them, unless they moved meanwhile. */
  applyRequestsReloaded: ({ context, event, enqueue, self }: Queued) =>
    reloadRequests(self, enqueue, context, event as E<"REQUESTS_RELOADED">),
};

/** `ok` to the sender of a committed message; returns the message as it is delivered. */
export function acknowledge(committed: E<"COMMITTED">): RelayedMessage {
  const { session, ref, id, at, text, mentions } = committed;
  session.send(okEvent(ref, { id, at: new Date(at).toISOString() }));
  const from = { username: session.user.username, alias: session.user.alias };
  return { id, at, from, text, ...(mentions ? { mentions } : {}) };
}

/** The `message` frame of each message, serialized once, to every online member. */
export function fanOut(context: SalonContext, messages: readonly RelayedMessage[]): void {
  let delivered = 0;
  for (const m of messages) {
    const frame = messageEvent({
      salon: context.salon.name,
      id: m.id,
      from: m.from,
      text: m.text,
      at: new Date(m.at).toISOString(),
      ...(m.mentions ? { mentions: m.mentions } : {}),
      ...(m.editedAt ? { editedAt: new Date(m.editedAt).toISOString() } : {}),
    });
    for (const sessions of context.online.values()) {
      for (const s of sessions) s.send(frame);
      delivered += sessions.size;
    }
  }
  context.deps.delivered?.(delivered);
}

/** Tells the other instances that `user` is a member now (`announce`: `member_joined` there). */
export function relayJoined(context: SalonContext, user: UserSummary, announce: boolean): void {
  context.deps.relayMembership?.(context.salon.id, { joined: user, announce });
}

/** Tells the other instances that `userId` is no longer a member. */
export function relayLeft(context: SalonContext, userId: number): void {
  context.deps.relayMembership?.(context.salon.id, { left: userId });
}

/**
 * A membership stored by another instance: the user is a member here too,
 * with their sessions on this instance online; `joined` to those sessions
 * and `member_joined` to the others when `announce` (as after a `join`).
 */
export function applyJoinedElsewhere(
  context: SalonContext,
  user: UserSummary,
  announce: boolean,
): void {
  if (admit(context, user) && announce) announceJoin(context, user);
}

/** A departure stored by another instance: no longer a member here; `left` to their sessions here. */
export function applyLeftElsewhere(context: SalonContext, userId: number): void {
  if (!context.members.has(userId)) return;
  dismiss(context, userId);
  for (const s of allSessions(context, userId)) s.send(salonEvent("left", context.salon.name));
}
