/**
 * One actor per WebSocket: the handshake (hello or register within the hello
 * timeout; the check itself within the authentication timeout, with a
 * backlog capped in frames and bytes), then the authenticated session: the
 * per-session request budget over every frame, the user's `say`/`direct` and
 * `join`/`leave` token buckets (shared by all of the user's sessions), flood
 * detection, and the routing of each request to its salon or to the server.
 * Delivery of messages does not pass through here: salons write to the
 * session directly.
 *
 * Pure: the socket, the clock and every effect come in through input.
 *
 * @module
 */

import { and, assign, enqueueActions, fromPromise, not, raise, setup } from "xstate";
import { pongEvent, type WelcomeCatchup } from "../protocol/events.ts";
import { type HandshakeFrame, MODERATOR_FRAMES } from "../protocol/frames.ts";
import { isMessageFrameType } from "../protocol/edit_frames.ts";
import { textProblem } from "../protocol/text.ts";
import type { UserSummary } from "../store/store.ts";
import {
  floodTooLong,
  overBudget,
  pauseMs,
  refusalRun,
  requestTokens,
  spentRequest,
} from "./connection_budget.ts";
import { bytesOf, frameOf, refOf } from "./connection_frames.ts";
import type {
  ConnectionContext,
  ConnectionDeps,
  ConnectionEvent,
  ConnectionInput,
} from "./connection_types.ts";
import { refusals } from "./connection_refusals.ts";
import { routes } from "./connection_routes.ts";
import { chatMutedUntil, muteRefusals } from "./connection_mute.ts";

export type {
  ConnectionContext,
  ConnectionDeps,
  ConnectionEvent,
  ConnectionInput,
  ConnectionLimits,
  EventTarget,
  SalonRequest,
  SocketPort,
  UserBuckets,
} from "./connection_types.ts";
export { HISTORY_RATE, MEMBERSHIP_RATE } from "./connection_types.ts";

/** The id of the session's user. */
function userOf(context: ConnectionContext): number {
  return context.session!.user.id;
}

/** The connection machine. */
export const connectionMachine = setup({
  types: {
    context: {} as ConnectionContext,
    events: {} as ConnectionEvent,
    input: {} as ConnectionInput,
  },
  actors: {
    /** Checks the hello (or registers) through the injected account service. */
    authenticate: fromPromise<
      { user: UserSummary; token: string; tokenHash?: string; catchup?: WelcomeCatchup },
      { deps: ConnectionDeps; frame: HandshakeFrame; address: string }
    >(({ input }) => input.deps.authenticate(input.frame, input.address)),
  },
  delays: {
    /** How long a client has to say hello. */
    helloTimeout: ({ context }) => context.limits.helloTimeoutMs,
    /** How long checking a hello may take. */
    authTimeout: ({ context }) => context.limits.authTimeoutMs,
  },
  guards: {
    /** The frame is a hello or a register. */
    isHandshake: ({ event }) =>
      event.type === "FRAME" && (event.frame.type === "hello" || event.frame.type === "register"),
    /** A frame that failed to parse was (or could not be told from) a hello or register. */
    isBadHandshake: ({ event }) => {
      const t = (event as Extract<ConnectionEvent, { type: "BAD_FRAME" }>).frameType;
      return t === undefined || t === "hello" || t === "register";
    },
    /** The frame is a ping. */
    isPing: ({ event }) => event.type === "FRAME" && event.frame.type === "ping",
    /** The frame is a say or a direct (the rate-limited kinds). */
    isChat: ({ event }) =>
      event.type === "FRAME" && (event.frame.type === "say" || event.frame.type === "direct"),
    /** The text of a say/direct is acceptable. */
    textOk: ({ context, event }) => {
      const frame = frameOf(event) as { text?: string };
      return textProblem(frame.text ?? "", context.limits.maxText) === undefined;
    },
    /** The sender of this `say`/`direct` is muted there (PROTOCOL 5.4). */
    isMuted: ({ context, event }) => chatMutedUntil(context, event) !== undefined,
    /** The user's `say`/`direct` bucket has a token. */
    hasToken: ({ context }) =>
      context.buckets.messages.available(userOf(context), context.deps.now()) >= 1,
    /** The frame is a join or a leave (the membership changes). */
    isMembershipChange: ({ event }) =>
      event.type === "FRAME" && (event.frame.type === "join" || event.frame.type === "leave"),
    /** The user's `join`/`leave` bucket has a token. */
    hasMembershipToken: ({ context }) =>
      context.buckets.membership.available(userOf(context), context.deps.now()) >= 1,
    /**
     * The frame asks for a reply that grows with the data: a page of history (a salon's or a
     * direct conversation's, up to 256 KiB) or a salon's member list (`who`).
     */
    isHistoryOrWho: ({ event }) =>
      event.type === "FRAME" &&
      (event.frame.type === "history" || event.frame.type === "who" ||
        event.frame.type === "conversations"),
    /** The user's `history` bucket has a token. */
    hasHistoryToken: ({ context }) =>
      context.buckets.history.available(userOf(context), context.deps.now()) >= 1,
    /** The session's request budget has a token for this frame. */
    withinBudget: ({ context }) => requestTokens(context, context.deps.now()) >= 1,
    /** The frame is a moderator request. */
    isModeration: ({ event }) => event.type === "FRAME" && MODERATOR_FRAMES.has(event.frame.type),
    /** The frame is a direct message. */
    isDirect: ({ event }) => event.type === "FRAME" && event.frame.type === "direct",
    /** The frame asks for the history of a direct conversation. */
    isDirectHistory: ({ event }) =>
      event.type === "FRAME" && event.frame.type === "history" && event.frame.with !== undefined,
    /** The frame is a `read` of a direct conversation. */
    isDirectRead: ({ event }) =>
      event.type === "FRAME" && event.frame.type === "read" && event.frame.with !== undefined,
    /** The frame asks for a page of conversations. */
    isConversations: ({ event }) => event.type === "FRAME" && event.frame.type === "conversations",
    /** The frame is a `watch` list. */
    isWatch: ({ event }) => event.type === "FRAME" && event.frame.type === "watch",
    /** The user's `watch` bucket has a token (no bucket: not limited). */
    hasWatchToken: ({ context }) =>
      (context.buckets.watch?.available(userOf(context), context.deps.now()) ?? 1) >= 1,
    /** The frame is a `typing` about a direct conversation. */
    isDirectTyping: ({ event }) =>
      event.type === "FRAME" && event.frame.type === "typing" && event.frame.with !== undefined,
    // -- edit, delete and reports (PROTOCOL 5.4)
    /** The frame is an edit, delete or report frame (or `reports`, `resolve_report`). */
    isMessageAction: ({ event }) => event.type === "FRAME" && isMessageFrameType(event.frame.type),
    /** The frame is an `edit` (its text passes the rule of `say`). */
    isEdit: ({ event }) => event.type === "FRAME" && event.frame.type === "edit",
    /** The frame spends a token of the user's message bucket: `edit` and `report`. */
    usesMessageToken: ({ event }) =>
      event.type === "FRAME" && (event.frame.type === "edit" || event.frame.type === "report"),
    /** The frame names a salon that exists. */
    knownSalon: ({ context, event }) => {
      const frame = frameOf(event) as { salon?: string };
      return frame.salon !== undefined && context.deps.salon(frame.salon) !== undefined;
    },
    /**
     * Frames have kept being refused for the flood period, or the session has
     * stayed past its request budget that long (no frame accepted since).
     */
    floodTooLong: ({ context }) => floodTooLong(context, context.deps.now()),
    /** Room remains in the handshake backlog, in frames and in bytes. */
    backlogHasRoom: ({ context, event }) =>
      context.backlog.length < context.limits.backlog &&
      context.backlogBytes + bytesOf(event) <= context.limits.backlogBytes,
  },
  actions: {
    ...refusals,
    ...routes,
    ...muteRefusals,
    /** Remembers the hello's ref. */
    rememberHelloRef: assign({ helloRef: ({ event }) => refOf(event) }),
    /** Keeps a frame that arrived during the handshake, to handle it after welcome. */
    stash: assign({
      backlog: ({ context, event }) => [...context.backlog, event],
      backlogBytes: ({ context, event }) => context.backlogBytes + bytesOf(event),
    }),
    /** Creates the session after a successful handshake. */
    startSession: assign({
      session: ({ context, event }) => {
        const { user, tokenHash } = (event as unknown as {
          output: { user: UserSummary; tokenHash?: string };
        }).output;
        const { send, close, unsent } = context.socket;
        return {
          id: context.id,
          user,
          send,
          close,
          ...(unsent ? { unsent } : {}),
          ...(tokenHash === undefined ? {} : { tokenHash }),
        };
      },
    }),
    /** `welcome`, then the session is announced to the server. */
    welcomeAndAttach: ({ context, event }) => {
      const { token, catchup } = (event as unknown as {
        output: { token: string; catchup?: WelcomeCatchup };
      }).output;
      const session = context.session!;
      context.socket.send(context.deps.welcome(session, token, context.helloRef, catchup));
      context.deps.attach(session);
    },
    /** Replays frames stashed during the handshake. */
    replayBacklog: enqueueActions(({ context, enqueue }) => {
      for (const event of context.backlog) enqueue.raise(event);
      enqueue.assign({ backlog: [], backlogBytes: 0 });
    }),
    /** `pong`. */
    replyPong: ({ context, event }) => context.socket.send(pongEvent(refOf(event))),
    /** An accepted frame spends a token of the request budget and ends a stay past it. */
    spendRequest: assign(({ context }) => spentRequest(context, context.deps.now())),
    /**
     * A frame refused for lack of budget costs a token too (down to
     * `-requestBurst`), so that a client sending faster than the refill
     * stays past the budget rather than slipping a frame through now and then.
     */
    noteOverBudget: assign(({ context }) => overBudget(context, context.deps.now())),
    /**
     * Past the budget, the server stops reading from the peer until a token is
     * back: a flooder's frames then wait in its own TCP buffers instead of
     * costing the event loop a parse and a refusal each.
     */
    pauseReading: ({ context }) => context.socket.pause?.(pauseMs(context, context.deps.now())),
    /** Before the welcome, a peer whose backlog is full is not read for a second. */
    pauseBeforeWelcome: ({ context }) => context.socket.pause?.(1000),
    /** Counts a refusal toward flood detection. */
    noteRefusal: assign(({ context }) => refusalRun(context, context.deps.now())),
    /** Raises REFUSED so that a long flood can close the socket. */
    raiseRefused: raise({ type: "REFUSED" }),
    /** Takes one token from the user's `say`/`direct` bucket. */
    takeToken: ({ context }) => {
      context.buckets.messages.take(userOf(context), context.deps.now());
    },
    /** Takes one token from the user's `history` bucket. */
    takeHistoryToken: ({ context }) => {
      context.buckets.history.take(userOf(context), context.deps.now());
    },
    /** Takes one token from the user's `join`/`leave` bucket. */
    takeMembershipToken: ({ context }) => {
      context.buckets.membership.take(userOf(context), context.deps.now());
    },
    /** Takes one token from the user's `watch` bucket. */
    takeWatchToken: ({ context }) => {
      context.buckets.watch?.take(userOf(context), context.deps.now());
    },
    /** Tells the server the session ended. */
    detach: ({ context }) => {
      if (context.session) context.deps.detach(context.session);
    },
  },
}).createMachine({
  id: "connection",
  context: ({ input }) => ({
    ...input,
    session: undefined,
    helloRef: undefined,
    requests: { tokens: input.limits.requestBurst, at: input.deps.now() },
    overBudgetSince: undefined,
    refusedSince: undefined,
    lastRefusal: 0,
    backlog: [],
    backlogBytes: 0,
  }),
  initial: "awaitingHello",
  states: {
    awaitingHello: {
      after: { helloTimeout: { target: "closed", actions: "closeHelloTimeout" } },
      on: {
        FRAME: [
          { guard: "isHandshake", target: "authenticating", actions: "rememberHelloRef" },
          { target: "closed", actions: "refuseBeforeHello" },
        ],
        BAD_FRAME: [
          { guard: "isBadHandshake", target: "closed", actions: "refuseBadHello" },
          { target: "closed", actions: "refuseBeforeHello" },
        ],
        SOCKET_CLOSED: { target: "closed" },
      },
    },
    authenticating: {
      after: { authTimeout: { target: "closed", actions: "closeAuthTimeout" } },
      invoke: {
        src: "authenticate",
        input: ({ context, event }) => ({
          deps: context.deps,
          frame: frameOf(event) as HandshakeFrame,
          address: context.address,
        }),
        onDone: { target: "active", actions: ["startSession", "welcomeAndAttach"] },
        onError: { target: "closed", actions: "refuseHandshake" },
      },
      on: {
        FRAME: [{ guard: "backlogHasRoom", actions: "stash" }, {
          actions: ["refuseBacklogFull", "pauseBeforeWelcome"],
        }],
        BAD_FRAME: [{ guard: "backlogHasRoom", actions: "stash" }, {
          actions: ["refuseBacklogFull", "pauseBeforeWelcome"],
        }],
        SOCKET_CLOSED: { target: "closed" },
      },
    },
    active: {
      entry: "replayBacklog",
      on: {
        // Every frame first spends a token of the session's request budget
        // (refused ones too); past the budget it is refused and not carried out.
        // An accepted frame does not end a run of refusals: only a quiet gap does.
        FRAME: [
          {
            guard: not("withinBudget"),
            actions: [
              "refuseOverBudget",
              "noteOverBudget",
              "pauseReading",
              "noteRefusal",
              "raiseRefused",
            ],
          },
          {
            guard: "isHandshake",
            actions: ["spendRequest", "refuseSecondHello", "noteRefusal", "raiseRefused"],
          },
          { guard: "isPing", actions: ["spendRequest", "replyPong"] },
          { guard: "isModeration", actions: ["spendRequest", "forwardModeration"] },
          // Edit, delete and reports (PROTOCOL 5.4): edit and report use the message bucket.
          {
            guard: and(["isEdit", not("textOk")]),
            actions: ["spendRequest", "refuseText", "noteRefusal", "raiseRefused"],
          },
          {
            guard: and(["usesMessageToken", not("hasToken")]),
            actions: ["spendRequest", "refuseRateLimited", "noteRefusal", "raiseRefused"],
          },
          {
            guard: "usesMessageToken",
            actions: ["spendRequest", "takeToken", "forwardMessageAction"],
          },
          { guard: "isMessageAction", actions: ["spendRequest", "forwardMessageAction"] },
          {
            guard: and(["isChat", not("textOk")]),
            actions: ["spendRequest", "refuseText", "noteRefusal", "raiseRefused"],
          },
          {
            guard: and(["isChat", "isMuted"]),
            actions: ["spendRequest", "refuseMuted", "noteRefusal", "raiseRefused"],
          },
          {
            guard: and(["isChat", not("hasToken")]),
            actions: ["spendRequest", "refuseRateLimited", "noteRefusal", "raiseRefused"],
          },
          { guard: "isDirect", actions: ["spendRequest", "takeToken", "forwardDirect"] },
          {
            guard: and(["isHistoryOrWho", not("hasHistoryToken")]),
            actions: ["spendRequest", "refuseHistoryRate", "noteRefusal", "raiseRefused"],
          },
          {
            guard: "isDirectHistory",
            actions: ["spendRequest", "takeHistoryToken", "forwardDirectHistory"],
          },
          // Presence at scale and typing (PROTOCOL 5.1, 5.3).
          {
            guard: and(["isWatch", not("hasWatchToken")]),
            actions: ["spendRequest", "refuseWatchRate", "noteRefusal", "raiseRefused"],
          },
          { guard: "isWatch", actions: ["spendRequest", "takeWatchToken", "forwardWatch"] },
          { guard: "isDirectTyping", actions: ["spendRequest", "forwardDirectTyping"] },
          {
            guard: "isConversations",
            actions: ["spendRequest", "takeHistoryToken", "forwardConversations"],
          },
          { guard: "isDirectRead", actions: ["spendRequest", "forwardDirectRead"] },
          {
            guard: not("knownSalon"),
            actions: ["spendRequest", "refuseUnknownSalon", "noteRefusal", "raiseRefused"],
          },
          { guard: "isChat", actions: ["spendRequest", "takeToken", "forwardSay"] },
          {
            guard: and(["isMembershipChange", not("hasMembershipToken")]),
            actions: ["spendRequest", "refuseMembershipRate", "noteRefusal", "raiseRefused"],
          },
          {
            guard: "isMembershipChange",
            actions: ["spendRequest", "takeMembershipToken", "forwardToSalon"],
          },
          {
            guard: "isHistoryOrWho",
            actions: ["spendRequest", "takeHistoryToken", "forwardToSalon"],
          },
          { actions: ["spendRequest", "forwardToSalon"] },
        ],
        BAD_FRAME: [
          {
            guard: not("withinBudget"),
            actions: [
              "refuseOverBudget",
              "noteOverBudget",
              "pauseReading",
              "noteRefusal",
              "raiseRefused",
            ],
          },
          { actions: ["spendRequest", "refuseBadFrame", "noteRefusal", "raiseRefused"] },
        ],
        REFUSED: { guard: "floodTooLong", target: "closed", actions: "closeFlood" },
        DROPPED: { actions: ["noteOverBudget", "noteRefusal", "raiseRefused"] },
        REPLACED: { target: "closed", actions: "closeReplaced" },
        SANCTIONED: { target: "closed", actions: "closeSanctioned" },
        REVOKED: { target: "closed", actions: "closeRevoked" },
        SOCKET_CLOSED: { target: "closed" },
      },
    },
    closed: {
      type: "final",
      entry: "detach",
    },
  },
});
