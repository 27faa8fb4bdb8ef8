/**
 * The salon machine's joins, leaves and join requests as they are stored and
 * answered (actors/salon.ts lists them in its `setup()`): the member admitted
 * or dismissed at once in memory and then persisted, the request stored, the
 * replies to a repeated or too early `join`, and the outcome of a finished
 * request. Pure: every effect goes through `context.deps`.
 *
 * @module
 */

import { errorEvent, salonEvent } from "../protocol/events.ts";
import type { JoinRequestOutput } from "./join_request.ts";
import { admit, applyOutcome, dismiss, JOIN_REQUEST_INTERVAL_MS } from "./salon_membership.ts";
import type { SalonContext, SalonEvent } from "./salon_types.ts";

type E<T extends SalonEvent["type"]> = Extract<SalonEvent, { type: T }>;

/** What these actions read: the context, the event, and the salon actor to answer itself. */
interface Args {
  context: SalonContext;
  event: SalonEvent;
  self: { send(event: SalonEvent): void };
}

/** The actions, by name. */
export const joinActions = {
  /** `joined` again to the asking session. */
  replyJoined: ({ context, event }: Args) => {
    const { session, ref } = event as E<"JOIN">;
    session.send(salonEvent("joined", context.salon.name, ref));
  },
  /** `join_pending` again to the asking session. */
  replyPending: ({ context, event }: Args) => {
    const { session, ref } = event as E<"JOIN">;
    session.send(salonEvent("join_pending", context.salon.name, ref));
  },
  /**
   * Admits the user at once in memory (so that a `say` right behind the
   * `join` finds them a member), then persists; MEMBER_STORED confirms,
   * STORE_FAILED rolls back.
   */
  storeMember: ({ context, event, self }: Args) => {
    const { session, ref } = event as E<"JOIN">;
    const user = session.user;
    admit(context, user);
    context.deps.addMember(context.salon.id, user.id).then(
      () => self.send({ type: "MEMBER_STORED", user, session, ref }),
      (e) => {
        context.deps.reportError(`join ${context.salon.name} failed: ${e}`);
        self.send({ type: "STORE_FAILED", session, ref, op: "join" });
      },
    );
  },
  /** `error rate_limited`: a join request was taken less than 10 minutes ago. */
  replyRequestTooSoon: ({ context, event }: Args) => {
    const { session, ref } = event as E<"JOIN">;
    const until = context.requested.until(session.user.id, context.deps.now())!;
    context.deps.rateLimited?.("join_request");
    session.send(errorEvent(
      "rate_limited",
      `you asked to join ${context.salon.name} less than ${
        JOIN_REQUEST_INTERVAL_MS / 60_000
      } minutes ago; ask again after ${new Date(until).toISOString()}`,
      ref,
    ));
  },
  /** Persists a join request (taken: the 10-minute window starts); comes back as REQUEST_STORED. */
  storeRequest: ({ context, event, self }: Args) => {
    const { session, ref } = event as E<"JOIN">;
    const since = context.deps.now();
    const userId = session.user.id;
    context.requested.set(userId, since);
    context.requesting.add(userId);
    context.deps.addJoinRequest(context.salon.id, userId, since).then(
      () => self.send({ type: "REQUEST_STORED", user: session.user, session, ref, since }),
      (e) => {
        context.deps.reportError(`join request ${context.salon.name} failed: ${e}`);
        self.send({ type: "STORE_FAILED", session, ref, op: "request" });
      },
    );
  },
  /**
   * Removes the member at once in memory (a `say` right behind the `leave`
   * is refused), then persists; MEMBER_REMOVED confirms, STORE_FAILED
   * rolls back.
   */
  storeLeave: ({ context, event, self }: Args) => {
    const { session, ref } = event as E<"LEAVE">;
    const user = session.user;
    dismiss(context, user.id);
    context.deps.removeMember(context.salon.id, user.id).then(
      () => self.send({ type: "MEMBER_REMOVED", user, session, ref }),
      (e) => {
        context.deps.reportError(`leave ${context.salon.name} failed: ${e}`);
        self.send({ type: "STORE_FAILED", session, ref, op: "leave" });
      },
    );
  },
  /** Tells the decider there is no such pending request. */
  replyNotPending: ({ event }: Args) => {
    (event as E<"DECIDE">).decider.reply(new Error("not_pending"));
  },
  /** Applies the outcome of a finished request. */
  applyOutcome: ({ context, event }: Args) =>
    applyOutcome(context, (event as unknown as { output: JoinRequestOutput }).output),
};
