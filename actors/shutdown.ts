/**
 * The shutdown countdown: `shutdown {seconds: N}` at once, then N-1 ... 1
 * once per second; one second after 1 it is `done` and the server drains.
 * `CANCEL` ends it as `cancelled`; `SKIP` (a second signal) goes straight
 * to `done`.
 *
 * Across instances (issue 15) a countdown joins another instance's deadline:
 * `firstTickMs` (at most 1000) shortens the first second, so that an instance
 * that learns of a deadline 2.4 s away announces 3 and reaches 0 with the
 * others. The runtime computes both from the deadline; the machine reads no
 * clock but its timers (the system's clock: SimulatedClock in tests).
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
  /** Length of the first tick, ms, 1 to 1000 (default 1000): joins another instance's deadline. */
  firstTickMs?: number;
}

/** Countdown state. */
export interface ShutdownContext extends ShutdownInput {
  /** Seconds left, as last announced. */
  remaining: number;
  /** How it ended. */
  outcome: "done" | "cancelled";
  /** Length of the tick under way, ms. */
  tickMs: number;
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
    /** One tick of the countdown (the first may be shorter: `firstTickMs`). */
    tick: ({ context }) => context.tickMs,
  },
  guards: {
    /** More than one second is left. */
    moreThanOneLeft: ({ context }) => context.remaining > 1,
  },
  actions: {
    /** `shutdown {seconds}` to everyone. */
    announce: ({ context }) =>
      context.broadcast(JSON.stringify({ type: "shutdown", seconds: context.remaining })),
    /** One second less; the next tick is a whole second. */
    decrement: assign({ remaining: ({ context }) => context.remaining - 1, tickMs: 1000 }),
    /** `shutdown_cancelled` to everyone. */
    announceCancel: ({ context }) =>
      context.broadcast(JSON.stringify({ type: "shutdown_cancelled" })),
    /** Records that the countdown was cancelled. */
    markCancelled: assign({ outcome: "cancelled" as const }),
  },
}).createMachine({
  id: "shutdown",
  context: ({ input }) => ({
    ...input,
    remaining: input.seconds,
    outcome: "done" as const,
    tickMs: Math.min(1000, Math.max(1, input.firstTickMs ?? 1000)),
  }),
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
