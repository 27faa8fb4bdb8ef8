/**
 * The connection machine's refusals and closes: each sends the `error` (or
 * `kicked`/`banned` frame) a client sees and closes the socket with the code
 * PROTOCOL.md gives it. Named actions of the machine (actors/connection.ts
 * spreads them into its `setup()`); pure, through the socket port.
 *
 * @module
 */

import { ProtocolError } from "../protocol/errors.ts";
import { errorEvent } from "../protocol/events.ts";
import { textProblem } from "../protocol/text.ts";
import { frameOf, refOf } from "./connection_frames.ts";
import type { ConnectionAction, ConnectionEvent } from "./connection_types.ts";
import { CLOSE } from "./session.ts";

/** The refusals and closes, by action name. */
export const refusals = {
  /** `error unauthenticated` before the handshake, then close 4401. */
  refuseBeforeHello: ({ context, event }) => {
    context.socket.send(errorEvent(
      "unauthenticated",
      "send hello (or register) first; see the protocol, section 2.1",
      refOf(event),
    ));
    context.socket.close(CLOSE.unauthenticated, "hello expected");
  },
  /** `error invalid` for an unparsable frame before the handshake, then close 4401. */
  refuseBadHello: ({ context, event }) => {
    const { message } = event as Extract<ConnectionEvent, { type: "BAD_FRAME" }>;
    context.socket.send(errorEvent("invalid", message, refOf(event)));
    context.socket.close(CLOSE.unauthenticated, "invalid hello");
  },
  /** No hello in time: close 4401. */
  closeHelloTimeout: ({ context }) => {
    context.socket.close(CLOSE.unauthenticated, "no hello within the time allowed");
  },
  /** The hello could not be checked in time: `error internal`, close 4401. */
  closeAuthTimeout: ({ context }) => {
    context.socket.send(errorEvent(
      "internal",
      "the server is too busy to check the hello; connect again in a moment",
      context.helloRef,
    ));
    context.socket.close(CLOSE.unauthenticated, "authentication took too long");
  },
  /** Refuses a frame that does not fit in the handshake backlog (it is dropped). */
  refuseBacklogFull: ({ context, event }) => {
    context.deps.rateLimited?.("handshake");
    context.socket.send(
      errorEvent(
        "rate_limited",
        `wait for welcome before sending more frames (at most ${context.limits.backlog} frames ` +
          `and ${context.limits.backlogBytes} bytes are kept meanwhile); this one was dropped`,
        refOf(event),
      ),
    );
  },
  /** The refusal of a handshake: `error` with its code, then close 4401 (4403 when banned). */
  refuseHandshake: ({ context, event }) => {
    const error = (event as unknown as { error: unknown }).error;
    if (error instanceof ProtocolError) {
      context.socket.send(
        errorEvent(error.code, error.message, context.helloRef, error.extra.until),
      );
      const code = error.code === "banned"
        ? CLOSE.banned
        : error.code === "shutting_down"
        ? CLOSE.goingAway
        : CLOSE.unauthenticated;
      context.socket.close(code, error.code);
    } else {
      context.socket.send(
        errorEvent(
          "internal",
          "the server could not check the hello; try again",
          context.helloRef,
        ),
      );
      context.socket.close(CLOSE.unauthenticated, "internal");
    }
  },
  /** `error invalid`: already authenticated. */
  refuseSecondHello: ({ context, event }) => {
    context.socket.send(
      errorEvent("invalid", "this connection is already authenticated", refOf(event)),
    );
  },
  /** `error invalid` for a frame that did not parse. */
  refuseBadFrame: ({ context, event }) => {
    const { message } = event as Extract<ConnectionEvent, { type: "BAD_FRAME" }>;
    context.socket.send(errorEvent("invalid", message, refOf(event)));
  },
  /** `error too_long` or `invalid` for a bad text. */
  refuseText: ({ context, event }) => {
    const frame = frameOf(event) as { text: string; ref?: string };
    const problem = textProblem(frame.text, context.limits.maxText)!;
    context.socket.send(errorEvent(problem.code, problem.message, frame.ref));
  },
  /** `error rate_limited`: the user's `say`/`direct` bucket is empty. */
  refuseRateLimited: ({ context, event }) => {
    context.deps.rateLimited?.("messages");
    context.socket.send(errorEvent(
      "rate_limited",
      `slow down: at most ${context.limits.ratePerSecond} messages per second`,
      refOf(event),
    ));
  },
  /** `error rate_limited`: the user's `join`/`leave` bucket is empty. */
  refuseMembershipRate: ({ context, event }) => {
    context.deps.rateLimited?.("membership");
    const { burst, perSecond } = context.buckets.membership.rate;
    context.socket.send(errorEvent(
      "rate_limited",
      `slow down: at most ${burst} joins and leaves at once, then one every ${
        Math.round(1000 / perSecond) / 1000
      } seconds`,
      refOf(event),
    ));
  },
  /** `error rate_limited`: the user's `history`/`who` bucket is empty. */
  refuseHistoryRate: ({ context, event }) => {
    context.deps.rateLimited?.("history");
    const { burst, perSecond } = context.buckets.history.rate;
    context.socket.send(errorEvent(
      "rate_limited",
      `slow down: at most ${burst} history or who requests at once, then ${perSecond} a second`,
      refOf(event),
    ));
  },
  /** `error rate_limited`: the session is past its request budget; the frame is not carried out. */
  refuseOverBudget: ({ context, event }) => {
    context.deps.rateLimited?.("requests");
    context.socket.send(errorEvent(
      "rate_limited",
      `slow down: at most ${context.limits.requestPerSecond} requests per second ` +
        `(bursts of ${context.limits.requestBurst}); this one was not carried out, and ` +
        `staying past the limit for ${context.limits.floodMs / 1000} seconds closes the connection`,
      refOf(event),
    ));
  },
  /** `error unknown_salon`. */
  refuseUnknownSalon: ({ context, event }) => {
    const frame = frameOf(event) as { salon?: string; ref?: string };
    context.socket.send(errorEvent(
      "unknown_salon",
      `there is no salon named "${(frame.salon ?? "").slice(0, 64)}"; the welcome lists them`,
      frame.ref,
    ));
  },
  /** `error rate_limited`: the user's `watch` bucket is empty. */
  refuseWatchRate: ({ context, event }) => {
    context.deps.rateLimited?.("watch");
    const { burst, perSecond } = context.buckets.watch!.rate;
    context.socket.send(errorEvent(
      "rate_limited",
      `slow down: at most ${burst} watch lists at once, then ${perSecond} a second`,
      refOf(event),
    ));
  },
  /** `kicked` or `banned`, then close 4403. */
  closeSanctioned: ({ context, event }) => {
    const { frame } = event as Extract<ConnectionEvent, { type: "SANCTIONED" }>;
    context.socket.send(frame);
    context.socket.close(CLOSE.banned, JSON.parse(frame).type);
  },
  /** Closes a session whose credentials were revoked (4401, with the reason). */
  closeRevoked: ({ context, event }) => {
    const { reason } = event as Extract<ConnectionEvent, { type: "REVOKED" }>;
    context.socket.close(CLOSE.unauthenticated, reason);
  },
  /** Closes a flooding socket (1008). */
  closeFlood: ({ context }) => {
    // A session past its budget is named for that, even when its run of refusals (which may
    // have begun with an invalid frame just before) reached the flood period first.
    const pastBudget = context.overBudgetSince !== undefined;
    context.socket.close(
      CLOSE.policy,
      pastBudget ? "too many requests for too long" : "too many refused frames",
    );
    context.deps.flooded?.(
      context.session!,
      context.address,
      pastBudget ? "request budget" : "refused frames",
    );
  },
  /** Closes a session replaced by a newer one of the same user (4409). */
  closeReplaced: ({ context }) => {
    context.socket.close(
      CLOSE.replaced,
      "session limit reached: a newer session of this user replaced this one",
    );
  },
} satisfies Record<string, ConnectionAction>;
