/**
 * One actor per sanction in force: a kick runs out after its duration
 * (`expired`), a ban lasts until lifted; an unban lifts either (`lifted`).
 * The end time is absolute (stored with the sanction), so an actor re-spawned
 * at start-up neither forgets nor extends a kick.
 *
 * @module
 */

import { assign, setup } from "xstate";
import type { SanctionRecord } from "../store/store.ts";

/** Input of the sanction machine. */
export interface SanctionInput {
  /** The stored sanction. */
  sanction: SanctionRecord;
  /** The sanctioned user's name, for inspection and logs. */
  username: string;
  /** The clock, epoch ms. */
  now: () => number;
  /** Told when a kick runs out. */
  onExpired?: (sanction: SanctionRecord) => void;
}

/** Sanction state. */
export interface SanctionContext extends SanctionInput {
  /** How it ended. */
  outcome: "expired" | "lifted";
}

/** Events a sanction handles. */
export type SanctionEvent = { type: "LIFT" };

/** The sanction machine. */
export const sanctionMachine = setup({
  types: {
    context: {} as SanctionContext,
    events: {} as SanctionEvent,
    input: {} as SanctionInput,
    output: {} as { outcome: "expired" | "lifted"; sanction: SanctionRecord },
  },
  delays: {
    /** Time left until the kick's end (0 if already past). */
    kickEnds: ({ context }) => Math.max(0, (context.sanction.until ?? 0) - context.now()),
  },
  guards: {
    /** The sanction is a kick (it has an end). */
    isKick: ({ context }) => context.sanction.kind === "kick" && context.sanction.until !== null,
  },
  actions: {
    /** Records that the sanction was lifted. */
    markLifted: assign({ outcome: "lifted" as const }),
    /** Reports the end of a kick. */
    reportExpired: ({ context }) => context.onExpired?.(context.sanction),
  },
}).createMachine({
  id: "sanction",
  context: ({ input }) => ({ ...input, outcome: "expired" as const }),
  initial: "active",
  states: {
    active: {
      initial: "deciding",
      states: {
        deciding: {
          always: [{ guard: "isKick", target: "kicked" }, { target: "banned" }],
        },
        kicked: {
          after: { kickEnds: { target: "#sanction.expired", actions: "reportExpired" } },
        },
        banned: {},
      },
      on: { LIFT: { target: "lifted", actions: "markLifted" } },
    },
    expired: { type: "final" },
    lifted: { type: "final" },
  },
  output: ({ context }) => ({ outcome: context.outcome, sanction: context.sanction }),
});
