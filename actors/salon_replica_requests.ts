/**
 * The salon as a replica (issue 15), for join requests, typing and the
 * reloads from MySQL: what another instance stored or relayed, applied here
 * as one process would have applied it.
 *
 * Every instance holds every pending request (`pending`) with its
 * `joinRequest` actor: a moderator decides on any instance, and MySQL picks
 * the one decision that counts (the actors close the request through
 * `deps.closeRequest`, a conditional delete). The outcome crosses the bus;
 * the other instances end their copy of the actor (`dropRequestCopy`) and
 * send their own sessions the frames one process sends.
 *
 * The reloads (`MEMBERS_RELOADED`, `REQUESTS_RELOADED`) carry differences the
 * runtime found between MySQL and this replica (runtime/salon_recovery.ts);
 * they are applied only if nothing changed here since the read began
 * (`epoch`), so that a stale read never undoes a newer change.
 *
 * @module
 */

import type { AnyActorRef } from "xstate";
import { salonEvent, typingEvent } from "../protocol/events.ts";
import type { UserSummary } from "../store/store.ts";
import type { JoinRequestInput } from "./join_request.ts";
import { admit, allSessions, announceJoin, dismiss, requestActorId } from "./salon_membership.ts";
import type { SalonContext, SalonEvent } from "./salon_types.ts";
import { joinRequestFrame, requestInput } from "./salon_views.ts";

type E<T extends SalonEvent["type"]> = Extract<SalonEvent, { type: T }>;

/** What these actions enqueue: the request actors they spawn and stop. */
export interface RequestEnqueue {
  /** Spawns a request's actor. */
  spawnChild(
    src: "joinRequest",
    options: { id: string; systemId: string; input: JoinRequestInput },
  ): void;
  /** Stops a child by id. */
  stopChild(id: string): void;
}

/** The salon actor itself: its children. */
export interface SalonSelf {
  /** The salon's snapshot (its children). */
  getSnapshot(): { children: Record<string, AnyActorRef | undefined> };
}

/** Whether the request actor `child` waits for a decision (not storing one). */
function waiting(child: AnyActorRef): boolean {
  return child.getSnapshot().value === "pending";
}

/**
 * Ends this instance's copy of `userId`'s request actor, unless it is
 * storing a decision (it then fails with `not_pending`, answers its decider,
 * and is swept by the next reload as an orphan).
 */
export function dropRequestCopy(
  self: SalonSelf,
  enqueue: RequestEnqueue,
  context: SalonContext,
  userId: number,
): void {
  const id = requestActorId(context.salon.key, userId);
  const child = self.getSnapshot().children[id];
  if (child && waiting(child)) enqueue.stopChild(id);
}

/** Adds a pending request here, with its actor; false when it is known already. */
export function addPending(
  context: SalonContext,
  enqueue: RequestEnqueue,
  user: UserSummary,
  since: number,
): boolean {
  if (context.pending.has(user.id)) return false;
  context.pending.set(user.id, { user, since });
  context.epoch++;
  const id = requestActorId(context.salon.key, user.id);
  enqueue.spawnChild("joinRequest", {
    id,
    systemId: id,
    input: requestInput(context, user, since),
  });
  return true;
}

/**
 * A join request stored on another instance: pending here too (a decision
 * may come from here), the 10-minute window taken, `join_pending` to the
 * requester's sessions here and, when new, `join_request` to the moderators
 * here (as `applyRequest` does where it was made).
 */
export function requestedElsewhere(
  context: SalonContext,
  enqueue: RequestEnqueue,
  user: UserSummary,
  since: number,
): void {
  if (context.members.has(user.id)) return;
  context.requested.set(user.id, since);
  const isNew = addPending(context, enqueue, user, since);
  for (const s of allSessions(context, user.id)) {
    s.send(salonEvent("join_pending", context.salon.name));
  }
  if (isNew) context.deps.notifyModerators(joinRequestFrame(context.salon.name, user, since));
}

/**
 * A request rejected or withdrawn on another instance: no longer pending
 * here, its actor's copy ended, and the requester's sessions here get
 * `join_rejected` or `left` (as `applyOutcome` sends where it was decided).
 */
export function requestClosedElsewhere(
  self: SalonSelf,
  enqueue: RequestEnqueue,
  context: SalonContext,
  userId: number,
  outcome: "rejected" | "withdrawn",
): void {
  if (context.pending.delete(userId)) context.epoch++;
  dropRequestCopy(self, enqueue, context, userId);
  if (context.members.has(userId)) return;
  const frame = salonEvent(outcome === "rejected" ? "join_rejected" : "left", context.salon.name);
  for (const s of allSessions(context, userId)) s.send(frame);
}

/**
 * `typing` of a member on another instance (its 3-second limit was applied
 * there): to the other connected members here; dropped in a large salon.
 */
export function typedElsewhere(context: SalonContext, user: UserSummary): void {
  if (context.large || !context.members.has(user.id)) return;
  const frame = typingEvent({ salon: context.salon.name }, {
    username: user.username,
    alias: user.alias,
  });
  for (const [userId, sessions] of context.online) {
    if (userId === user.id) continue;
    for (const s of sessions) s.send(frame);
  }
}

/**
 * Members found in MySQL and not here (a lost join: admitted, announced as a
 * join is, except in the `auto` salon whose members come from registration)
 * and members here no longer in MySQL (a lost leave: `left` to their
 * sessions here). Ignored when the members changed since the read began.
 */
export function reloadMembers(
  self: SalonSelf,
  enqueue: RequestEnqueue,
  context: SalonContext,
  event: E<"MEMBERS_RELOADED">,
): void {
  if (event.epoch !== context.epoch) return;
  for (const user of event.add) {
    if (context.members.has(user.id)) continue;
    if (admit(context, user) && context.salon.policy !== "auto") announceJoin(context, user);
    dropRequestCopy(self, enqueue, context, user.id);
  }
  for (const userId of event.remove) {
    if (!context.members.has(userId)) continue;
    dismiss(context, userId);
    for (const s of allSessions(context, userId)) s.send(salonEvent("left", context.salon.name));
  }
}

/**
 * Pending requests found in MySQL and not here (a lost request: as
 * {@link requestedElsewhere}), and requests here no longer in MySQL (closed
 * elsewhere, the outcome lost: dropped; a lost acceptance comes back as a
 * member through {@link reloadMembers}). Requests being stored or decided
 * here are left alone. Actors waiting for a decision on a request this
 * replica no longer holds are ended (a decision lost to another instance).
 */
export function reloadRequests(
  self: SalonSelf,
  enqueue: RequestEnqueue,
  context: SalonContext,
  event: E<"REQUESTS_RELOADED">,
): void {
  if (event.epoch === context.epoch) {
    for (const { user, since } of event.add) {
      if (context.members.has(user.id) || context.requesting.has(user.id)) continue;
      if (context.pending.has(user.id)) continue;
      requestedElsewhere(context, enqueue, user, since);
    }
    for (const userId of event.remove) {
      if (context.requesting.has(userId) || !context.pending.has(userId)) continue;
      const child = self.getSnapshot().children[requestActorId(context.salon.key, userId)];
      if (child && !waiting(child)) continue; // a decision is being stored here
      context.pending.delete(userId);
      context.epoch++;
      dropRequestCopy(self, enqueue, context, userId);
    }
  }
  const prefix = requestActorId(context.salon.key, 0).slice(0, -1);
  for (const [id, child] of Object.entries(self.getSnapshot().children)) {
    if (!child || !id.startsWith(prefix) || !waiting(child)) continue;
    const userId = (child.getSnapshot().context as { user: UserSummary }).user.id;
    if (!context.pending.has(userId)) enqueue.stopChild(id);
  }
}
