/**
 * The shutdown countdown: `shutdown {seconds: N}` at once, then N-1 ... 1
 * once per second; one second after 1 it is `done` and the server drains.
 * `CANCEL` ends it as `cancelled`; `SKIP` (a second signal) goes straight
 * to `done`.
 *
 * @module
 */

import { assign, setup } from "xstate";

/** Input of the shutdown machine. */
export interface ShutdownInput {
  /** Length of the countdown, seconds (at least 1). */
  seconds: number;
  /** Sends a frame to every connected session. */
  broadcast: (frame: string) => void;
}

/** Countdown state. */
export interface ShutdownContext extends ShutdownInput {
  /** Seconds left, as last announced. */
  remaining: number;
  /** How it ended. */
  outcome: "done" | "cancelled";
}

/** Events of the countdown. */
export type ShutdownEvent = { type: "CANCEL" } | { type: "SKIP" };

/** The shutdown machine. */
export const shutdownMachine = setup({
  types: {
    context: {} as ShutdownContext,
    events: {} as ShutdownEvent,
    input: {} as ShutdownInput,
    output: {} as { outcome: "done" | "cancelled" },
  },
  delays: {
    /** One tick of the countdown. */
    tick: 1000,
  },
  guards: {
    /** More than one second is left. */
    moreThanOneLeft: ({ context }) => context.remaining > 1,
  },
  actions: {
    /** `shutdown {seconds}` to everyone. */
    announce: ({ context }) =>
      context.broadcast(JSON.stringify({ type: "shutdown", seconds: context.remaining })),
    /** One second less. */
    decrement: assign({ remaining: ({ context }) => context.remaining - 1 }),
    /** `shutdown_cancelled` to everyone. */
    announceCancel: ({ context }) =>
      context.broadcast(JSON.stringify({ type: "shutdown_cancelled" })),
    /** Records that the countdown was cancelled. */
    markCancelled: assign({ outcome: "cancelled" as const }),
  },
}).createMachine({
  id: "shutdown",
  context: ({ input }) => ({ ...input, remaining: input.seconds, outcome: "done" as const }),
  initial: "counting",
  states: {
    counting: {
      entry: "announce",
      after: {
        tick: [
          { guard: "moreThanOneLeft", target: "counting", reenter: true, actions: "decrement" },
          { target: "done" },
        ],
      },
      on: {
        CANCEL: { target: "cancelled", actions: ["markCancelled", "announceCancel"] },
        SKIP: { target: "done" },
      },
    },
    done: { type: "final" },
    cancelled: { type: "final" },
  },
  output: ({ context }) => ({ outcome: context.outcome }),
});
