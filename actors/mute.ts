/**
 * One actor per mute in force (PROTOCOL 5.4): it runs out at its end
 * (`expired`), or an unmute or a newer mute of the same user and salon ends
 * it first (`lifted`). The end is absolute (stored with the mute), so an
 * actor re-spawned at start-up neither forgets nor extends a mute. Who may
 * speak is read from the server's {@link MuteBook}, not from these actors.
 *
 * @module
 */

import { assign, setup } from "xstate";
import type { MuteRecord } from "../store/store.ts";

/** Input of the mute machine. */
export interface MuteInput {
  /** The stored mute. */
  mute: MuteRecord;
  /** The muted user's name, for inspection and logs. */
  username: string;
  /** The salon's name, absent for a mute everywhere (inspection). */
  salon?: string;
  /** The clock, epoch ms. */
  now: () => number;
  /** Told when the mute runs out (not when it is lifted). */
  onExpired?: (mute: MuteRecord) => void;
}

/** Mute state. */
export interface MuteContext extends MuteInput {
  /** How it ended. */
  outcome: "expired" | "lifted";
}

/** Events a mute handles. */
export type MuteEvent = { type: "LIFT" };

/** The system id of the actor of a mute. */
export function muteSystemId(id: number): string {
  return `mute:${id}`;
}

/** The mute machine. */
export const muteMachine = setup({
  types: {
    context: {} as MuteContext,
    events: {} as MuteEvent,
    input: {} as MuteInput,
    output: {} as { outcome: "expired" | "lifted"; mute: MuteRecord },
  },
  delays: {
    /** Time left until the mute's end (0 if already past). */
    muteEnds: ({ context }) => Math.max(0, context.mute.until - context.now()),
  },
  actions: {
    /** Records that the mute was lifted. */
    markLifted: assign({ outcome: "lifted" as const }),
    /** Reports the end of the mute. */
    reportExpired: ({ context }) => context.onExpired?.(context.mute),
  },
}).createMachine({
  id: "mute",
  context: ({ input }) => ({ ...input, outcome: "expired" as const }),
  initial: "active",
  states: {
    active: {
      after: { muteEnds: { target: "expired", actions: "reportExpired" } },
      on: { LIFT: { target: "lifted", actions: "markLifted" } },
    },
    expired: { type: "final" },
    lifted: { type: "final" },
  },
  output: ({ context }) => ({ outcome: context.outcome, mute: context.mute }),
});
