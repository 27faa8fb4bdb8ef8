/**
 * One actor per salon: who is a member, who asked to join, who is online,
 * and the path of a message: member check, commit, then one serialization
 * and one write per online session.
 *
 * Pure: every effect goes through `deps` (given as input). Membership
 * changes are applied in memory only once the store has them.
 *
 * Abuse bounds (issue 9): a join request for this salon is taken at most
 * once per {@link JOIN_REQUEST_INTERVAL_MS} per user (moderators hear of it
 * once), and `member_joined` about one user goes out at most once per
 * {@link MEMBER_JOINED_WINDOW_MS}, so that a join/leave loop cannot flood
 * the salon's listeners.
 *
 * @module
 */

import { and, enqueueActions, not, setup } from "xstate";
import { errorEvent, salonEvent, whoPageEvent } from "../protocol/events.ts";
import { WHO_DEFAULT } from "../protocol/frames.ts";
import { findMentions } from "../protocol/mentions.ts";
import { joinRequestMachine } from "./join_request.ts";
import {
  admit,
  allSessions,
  announceJoin,
  dismiss,
  requestActor,
  requestActorId,
  salonContext,
  type SessionDecider,
} from "./salon_membership.ts";
import { isLarge } from "./presence.ts";
import type { SalonContext, SalonEvent, SalonInput } from "./salon_types.ts";
import {
  applyPresenceElsewhere,
  relayTyping,
  SALON_STATS_INTERVAL_MS,
  sendStats,
  statsChanged,
  whoPage,
} from "./salon_presence.ts";
import { replyHistory, replyRead } from "./salon_catchup.ts";
import { joinRequestFrame, requestInput } from "./salon_views.ts";
import { paceActions, paceGuards } from "./salon_pace.ts";
import {
  acknowledge,
  fanOut,
  replicaActions,
  replicaGuards,
  replicaQueued,
} from "./salon_replica.ts";
import { addPending, type RequestEnqueue } from "./salon_replica_requests.ts";
import { joinActions } from "./salon_joins.ts";

export { RecentTimes } from "./recent_times.ts";
export {
  JOIN_REQUEST_INTERVAL_MS,
  MEMBER_JOINED_WINDOW_MS,
  requestActorId,
} from "./salon_membership.ts";
export { SALON_STATS_INTERVAL_MS, TYPING_INTERVAL_MS } from "./salon_presence.ts";
export type {
  MembershipChange,
  RelayedMessage,
  SalonContext,
  SalonDeps,
  SalonEvent,
  SalonInput,
  SalonNews,
  SalonStats,
} from "./salon_types.ts";

type E<T extends SalonEvent["type"]> = Extract<SalonEvent, { type: T }>;

/** The salon machine. */
export const salonMachine = setup({
  types: {
    context: {} as SalonContext,
    events: {} as SalonEvent,
    input: {} as SalonInput,
  },
  actors: { joinRequest: joinRequestMachine },
  delays: {
    /** Shortest interval between two `salon_stats` frames. */
    statsInterval: SALON_STATS_INTERVAL_MS,
  },
  guards: {
    /** Past the maximum: the salon becomes large. */
    grewLarge: ({ context }) => isLarge(context.members.size, false, context.presenceMax),
    /** At 90% of the maximum or fewer: the salon becomes small again. */
    shrankSmall: ({ context }) => !isLarge(context.members.size, true, context.presenceMax),
    /** The salon is large (presence not pushed, typing dropped). */
    isLarge: ({ context }) => context.large,
    /** A count (or the presence mode) differs from the last `salon_stats` sent. */
    statsChanged: ({ context }) => statsChanged(context),
    /** The event's user had a `typing` relayed here less than 3 s ago. */
    typedRecently: ({ context, event }) =>
      "session" in event && event.session !== undefined &&
      context.typed.recent(event.session.user.id, context.deps.now()),
    /** The event's user is a member. */
    isMember: ({ context, event }) =>
      "session" in event && event.session !== undefined &&
      context.members.has(event.session.user.id),
    /** The event's user has a pending request. */
    isPending: ({ context, event }) =>
      "session" in event && event.session !== undefined &&
      context.pending.has(event.session.user.id),
    /** The decision names a user with a pending request here. */
    decisionHasRequest: ({ context, event }) =>
      event.type === "DECIDE" && context.pending.has(event.userId),
    /** Everyone is a member (the `auto` salon). */
    isAuto: ({ context }) => context.salon.policy === "auto",
    /** Joining needs no approval. */
    isOpen: ({ context }) => context.salon.policy === "open",
    /** The event's user has a join request being stored. */
    isRequesting: ({ context, event }) =>
      "session" in event && event.session !== undefined &&
      context.requesting.has(event.session.user.id),
    /** The event's user had a join request taken less than 10 minutes ago. */
    requestedRecently: ({ context, event }) =>
      "session" in event && event.session !== undefined &&
      context.requested.recent(event.session.user.id, context.deps.now()),
    ...paceGuards,
    ...replicaGuards,
  },
  actions: {
    ...paceActions,
    ...replicaActions,
    ...joinActions,
    // Replica actions that spawn or stop request actors (salon_replica.ts).
    applyJoinedElsewhere: enqueueActions(replicaQueued.applyJoinedElsewhere),
    applyRequestedElsewhere: enqueueActions(replicaQueued.applyRequestedElsewhere),
    applyRequestClosedElsewhere: enqueueActions(replicaQueued.applyRequestClosedElsewhere),
    applyMembersReloaded: enqueueActions(replicaQueued.applyMembersReloaded),
    applyRequestsReloaded: enqueueActions(replicaQueued.applyRequestsReloaded),
    /** Adds a session to the online set when its user is a member. */
    addOnline: ({ context, event }) => {
      const { session } = event as E<"SESSION_UP">;
      if (!context.members.has(session.user.id)) return;
      let set = context.online.get(session.user.id);
      if (!set) context.online.set(session.user.id, set = new Set());
      set.add(session);
    },
    /** Removes a session from the online set. */
    removeOnline: ({ context, event }) => {
      const { session } = event as E<"SESSION_DOWN">;
      const set = context.online.get(session.user.id);
      if (!set) return;
      set.delete(session);
      if (set.size === 0 && !context.deps.onlineElsewhere?.(session.user.id)) {
        context.online.delete(session.user.id);
      }
    },
    /**
     * Queues the message for commit, with the members it mentions now (found
     * once, stored with it); the commit comes back as COMMITTED.
     */
    commitMessage: ({ context, event, self }) => {
      const { session, ref, text } = event as E<"SAY">;
      const at = context.deps.now();
      const found = findMentions(text, (key) => context.memberKeys.get(key));
      const message = { salonId: context.salon.id, userId: session.user.id, text, at };
      const mentions = found.length === 0 ? undefined : found.map((u) => u.username);
      context.deps.commit(
        found.length === 0
          ? message
          : { ...message, mentions: found.map((u) => ({ userId: u.id, username: u.username })) },
        (error, id) => {
          if (error) {
            const stopping = error.name === "ServerStopping";
            if (!stopping) {
              context.deps.reportError(`commit in ${context.salon.name} failed: ${error.message}`);
            }
            self.send({ type: "COMMIT_FAILED", session, ref, stopping });
          } else self.send({ type: "COMMITTED", session, ref, id, at, text, mentions });
        },
      );
    },
    /** `ok` to the sender, then the message, serialized once, to every online member. */
    deliverMessage: ({ context, event }) => {
      fanOut(context, [acknowledge(event as E<"COMMITTED">)]);
    },
    /** Tells the sender the message was not stored. */
    replyCommitFailed: ({ event }) => {
      const { session, ref, stopping } = event as E<"COMMIT_FAILED">;
      session.send(
        stopping
          ? errorEvent("shutting_down", "the server is stopping; the message was not stored", ref)
          : errorEvent("internal", "the message could not be stored; send it again", ref),
      );
    },
    /** `error not_member`. */
    replyNotMember: ({ context, event }) => {
      const { session, ref } = event as E<"SAY">;
      session.send(
        errorEvent(
          "not_member",
          `you are not a member of ${context.salon.name}; join it first`,
          ref,
        ),
      );
    },
    /** Asks the request's actor to withdraw it; the outcome comes back as its output. */
    withdrawRequest: enqueueActions(({ context, event, enqueue, system }) => {
      const { session, ref } = event as E<"LEAVE">;
      const child = requestActor(system, context.salon.key, session.user.id);
      if (!child) return;
      const decider: SessionDecider = {
        session,
        ref,
        reply: (error) => {
          if (!error) return;
          if (error.message === "not_pending") {
            // Several instances: a moderator's decision elsewhere closed it first; its outcome
            // (`joined` or `join_rejected`) follows on the bus.
            session.send(errorEvent(
              "invalid",
              `your request to join ${context.salon.name} was just decided by a moderator; ` +
                "its outcome follows (send leave again to leave if you were accepted)",
              ref,
            ));
            return;
          }
          context.deps.reportError(`withdraw in ${context.salon.name} failed: ${error.message}`);
          session.send(
            errorEvent("internal", "the request could not be withdrawn; try again", ref),
          );
        },
      };
      enqueue.sendTo(child, { type: "WITHDRAW", decider });
    }),
    /** Hands a moderator's decision to the request's actor. */
    forwardDecision: enqueueActions(({ context, event, enqueue, system }) => {
      const { userId, accept, decider } = event as E<"DECIDE">;
      const child = requestActor(system, context.salon.key, userId);
      if (!child) return decider.reply(new Error("not_pending"));
      enqueue.sendTo(child, { type: accept ? "ACCEPT" : "REJECT", decider });
    }),
    /** A ban already withdrew the user's request in the store: end its actor. */
    dropRequest: enqueueActions(({ context, event, enqueue, system }) => {
      const { userId } = event as E<"REQUESTS_WITHDRAWN">;
      const child = requestActor(system, context.salon.key, userId);
      if (child) {
        enqueue.sendTo(child, {
          type: "WITHDRAW",
          alreadyStored: true,
          decider: { reply: () => {} },
        });
      }
    }),
    /** Spawns an actor for every pending request loaded from the store. */
    spawnRequests: enqueueActions(({ context, enqueue }) => {
      for (const p of context.pending.values()) {
        const id = requestActorId(context.salon.key, p.user.id);
        enqueue.spawnChild("joinRequest", {
          id,
          systemId: id,
          input: requestInput(context, p.user, p.since),
        });
      }
    }),
    /** A finished request leaves the salon's children. */
    forgetFinishedRequest: enqueueActions(({ event, enqueue, self }) => {
      const id = event.type.slice("xstate.done.actor.".length);
      if (self.getSnapshot().children[id]) enqueue.stopChild(id);
    }),
    /** A membership is stored: `joined` to every session of the user, `member_joined` to the others. */
    applyMember: ({ context, event }) => {
      const { user, session, ref } = event as E<"MEMBER_STORED">;
      context.pending.delete(user.id);
      announceJoin(context, user, { session, ref });
    },
    /** Applies a membership granted from elsewhere (a new account in the `auto` salon). */
    addMemberNow: ({ context, event }) => {
      admit(context, (event as E<"ADD_MEMBER">).user);
    },
    /** A departure is stored: `left` to every session of the user. */
    applyLeave: ({ context, event }) => {
      const { user, session, ref } = event as E<"MEMBER_REMOVED">;
      for (const s of allSessions(context, user.id)) {
        s.send(salonEvent("left", context.salon.name, s === session ? ref : undefined));
      }
    },
    /** Applies a stored request: `join_pending` to the user's sessions, `join_request` to moderators. */
    applyRequest: enqueueActions(({ context, event, enqueue }) => {
      const { user, session, ref, since } = event as E<"REQUEST_STORED">;
      context.requesting.delete(user.id);
      if (context.members.has(user.id)) {
        session.send(salonEvent("joined", context.salon.name, ref));
        return;
      }
      const isNew = addPending(context, enqueue as RequestEnqueue, user, since);
      for (const s of allSessions(context, user.id)) {
        s.send(salonEvent("join_pending", context.salon.name, s === session ? ref : undefined));
      }
      if (isNew) {
        context.deps.notifyModerators(joinRequestFrame(context.salon.name, user, since));
      }
    }),
    /** The store refused a change: undo what was applied early, `error internal`. */
    replyStoreFailed: ({ context, event }) => {
      const { session, ref, op } = event as E<"STORE_FAILED">;
      const user = session.user;
      if (op === "join") dismiss(context, user.id);
      else if (op === "leave") admit(context, user);
      else {
        // Not taken after all: the user may ask again at once.
        context.requesting.delete(user.id);
        context.requested.delete(user.id);
      }
      session.send(errorEvent("internal", "the change could not be stored; try again", ref));
    },
    /** `error forbidden`: the auto salon cannot be left. */
    replyCannotLeave: ({ context, event }) => {
      const { session, ref } = event as E<"LEAVE">;
      session.send(errorEvent(
        "forbidden",
        `${context.salon.name} is the salon every user belongs to; it cannot be left`,
        ref,
      ));
    },
    /** `error not_member` for a leave with neither membership nor request. */
    replyNotMemberOrPending: ({ context, event }) => {
      const { session, ref } = event as E<"LEAVE">;
      session.send(errorEvent(
        "not_member",
        `you are neither a member of ${context.salon.name} nor waiting to join it`,
        ref,
      ));
    },
    /** `who`: online members first, then the others, by username, at most `limit`. */
    replyWho: ({ context, event }) => {
      const { session, ref, status, limit } = event as E<"WHO">;
      session.send(
        whoPageEvent(context.salon.name, whoPage(context, status, limit ?? WHO_DEFAULT), ref),
      );
    },
    /** The salon is large now. */
    markLarge: ({ context }) => {
      context.large = true;
    },
    /** The salon is small now. */
    markSmall: ({ context }) => {
      context.large = false;
    },
    /** `salon_stats`, serialized once, to every connected member. */
    sendStats: ({ context }) => sendStats(context),
    /** A member came online on another instance, or has no session on any other (issue 15). */
    applyPresenceElsewhere: ({ context, event }) =>
      applyPresenceElsewhere(context, event as E<"PRESENCE_ELSEWHERE">),
    /** `typing` to the other connected members; the sender waits 3 s for the next. */
    relayTyping: ({ context, event }) =>
      relayTyping(context, (event as E<"TYPING">).session, context.deps.now()),
    /**
     * `history`: read from the store, answered when it comes back, cut to
     * 256 KiB of frame (the messages nearest to the cursor kept).
     */
    replyHistory: ({ context, event }) => replyHistory(context, event as E<"HISTORY">),
    /** `read`: the member's marker moves forward (salon_catchup.ts). */
    markRead: ({ context, event }) => replyRead(context, event as E<"READ">),
  },
}).createMachine({
  id: "salon",
  context: ({ input }) => salonContext(input),
  type: "parallel",
  entry: "spawnRequests",
  states: {
    // Small or large (PROTOCOL 5.1), with hysteresis: large past presenceMax
    // members, small again at 90% of it or fewer.
    size: {
      initial: "sizing",
      states: {
        sizing: { always: [{ guard: "isLarge", target: "large" }, { target: "small" }] },
        small: { always: { guard: "grewLarge", target: "large", actions: "markLarge" } },
        large: { always: { guard: "shrankSmall", target: "small", actions: "markSmall" } },
      },
    },
    // `salon_stats` at once after a quiet period, then at most once every 10 s.
    stats: {
      initial: "quiet",
      states: {
        quiet: { always: { guard: "statsChanged", target: "cooling", actions: "sendStats" } },
        cooling: { after: { statsInterval: { target: "quiet" } } },
      },
    },
    open: {
      on: {
        SESSION_UP: { actions: "addOnline" },
        SESSION_DOWN: { actions: "removeOnline" },
        SAY: [
          { guard: and(["isMember", "tooSoon"]), actions: "replySlowMode" },
          { guard: "isMember", actions: ["noteSaid", "commitMessage"] },
          { actions: "replyNotMember" },
        ],
        COMMITTED: [
          { guard: "relays", actions: "relayMessage" },
          { actions: "deliverMessage" },
        ],
        RELAYED: { actions: "fanOutRelayed" },
        JOINED_ELSEWHERE: { actions: "applyJoinedElsewhere" },
        LEFT_ELSEWHERE: { actions: "applyLeftElsewhere" },
        PRESENCE_ELSEWHERE: { actions: "applyPresenceElsewhere" },
        COMMIT_FAILED: { actions: "replyCommitFailed" },
        JOIN: [
          { guard: "isMember", actions: "replyJoined" },
          { guard: "isPending", actions: "replyPending" },
          { guard: "isOpen", actions: "storeMember" },
          { guard: "isAuto", actions: "storeMember" },
          { guard: "isRequesting", actions: "replyPending" },
          { guard: "requestedRecently", actions: "replyRequestTooSoon" },
          { actions: "storeRequest" },
        ],
        LEAVE: [
          { guard: "isAuto", actions: "replyCannotLeave" },
          { guard: "isMember", actions: "storeLeave" },
          { guard: "isPending", actions: "withdrawRequest" },
          { actions: "replyNotMemberOrPending" },
        ],
        WHO: [
          { guard: "isMember", actions: "replyWho" },
          { actions: "replyNotMember" },
        ],
        HISTORY: [
          { guard: "isMember", actions: "replyHistory" },
          { actions: "replyNotMember" },
        ],
        READ: [
          { guard: "isMember", actions: "markRead" },
          { actions: "replyNotMember" },
        ],
        MEMBER_STORED: { actions: ["applyMember", "relayJoin"] },
        MEMBER_REMOVED: { actions: ["applyLeave", "relayLeave"] },
        REQUEST_STORED: { actions: ["applyRequest", "relayRequest"] },
        DECIDE: [
          { guard: "decisionHasRequest", actions: "forwardDecision" },
          { actions: "replyNotPending" },
        ],
        REQUESTS_WITHDRAWN: { actions: "dropRequest" },
        "xstate.done.actor.*": {
          actions: ["applyOutcome", "relayOutcome", "forgetFinishedRequest"],
        },
        STORE_FAILED: { actions: "replyStoreFailed" },
        ADD_MEMBER: { actions: ["addMemberNow", "relayAdded"] },
        SET_SLOW_MODE: { actions: "applySlowMode" },
        // Members only; in a large salon, or within 3 s of the last one, dropped silently.
        TYPING: [
          { guard: not("isMember"), actions: "replyNotMember" },
          { guard: "isLarge" },
          { guard: "typedRecently" },
          { actions: ["relayTyping", "relayTypingElsewhere"] },
        ],
        // -- several instances (issue 15): join requests, typing, reloads from MySQL
        REQUESTED_ELSEWHERE: { actions: "applyRequestedElsewhere" },
        REQUEST_CLOSED_ELSEWHERE: { actions: "applyRequestClosedElsewhere" },
        TYPED_ELSEWHERE: { actions: "applyTypedElsewhere" },
        MEMBERS_RELOADED: { actions: "applyMembersReloaded" },
        REQUESTS_RELOADED: { actions: "applyRequestsReloaded" },
      },
    },
  },
});
