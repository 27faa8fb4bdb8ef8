/**
 * One actor per pending join request: `pending`, then `accepted`,
 * `rejected` or `withdrawn` (final). The decision is persisted before the
 * final state is reached; the salon that spawned the request applies the
 * outcome (membership, `joined`, `join_rejected`, `left`).
 *
 * @module
 */

import { assign, fromPromise, setup } from "xstate";
import type { UserSummary } from "../store/store.ts";

/** The outcome of a request. */
export type JoinOutcome = "accepted" | "rejected" | "withdrawn";

/** Effects of a request: persisting its outcome. */
export interface JoinRequestDeps {
  /** Makes the user a member and closes the request. */
  accept(salonId: number, userId: number): Promise<void>;
  /** Closes the request without membership. */
  close(salonId: number, userId: number): Promise<void>;
}

/** Who asked for the outcome, and how to answer them. */
export interface Decider {
  /** Called once the outcome is stored (or failed to be). */
  reply(error?: Error): void;
}

/** Input of the request machine. */
export interface JoinRequestInput {
  /** The salon. */
  salonId: number;
  /** The salon's name, for inspection. */
  salon: string;
  /** The requester. */
  user: UserSummary;
  /** When the request was made, epoch ms. */
  since: number;
  /** Effects. */
  deps: JoinRequestDeps;
}

/** Request state. */
export interface JoinRequestContext extends JoinRequestInput {
  /** The outcome being stored. */
  outcome: JoinOutcome | undefined;
  /** Who asked for it. */
  decider: Decider | undefined;
}

/** Events of a request. */
export type JoinRequestEvent =
  | { type: "ACCEPT"; decider: Decider }
  | { type: "REJECT"; decider: Decider }
  | { type: "WITHDRAW"; decider: Decider; alreadyStored?: boolean };

/** What a finished request reports to its salon. */
export interface JoinRequestOutput {
  /** The outcome. */
  outcome: JoinOutcome;
  /** The requester. */
  user: UserSummary;
  /** Who asked for it. */
  decider: Decider | undefined;
}

/** The join request machine. */
export const joinRequestMachine = setup({
  types: {
    context: {} as JoinRequestContext,
    events: {} as JoinRequestEvent,
    input: {} as JoinRequestInput,
    output: {} as JoinRequestOutput,
  },
  actors: {
    /** Persists the outcome through the injected store functions. */
    store: fromPromise<void, { context: JoinRequestContext }>(({ input }) => {
      const { deps, salonId, user, outcome } = input.context;
      return outcome === "accepted" ? deps.accept(salonId, user.id) : deps.close(salonId, user.id);
    }),
  },
  guards: {
    /** The outcome being stored is an acceptance. */
    isAccepting: ({ context }) => context.outcome === "accepted",
    /** The outcome being stored is a rejection. */
    isRejecting: ({ context }) => context.outcome === "rejected",
    /** The withdrawal was already persisted (by a ban). */
    alreadyStored: ({ event }) => event.type === "WITHDRAW" && event.alreadyStored === true,
  },
  actions: {
    /** Remembers the outcome to store and who asked for it. */
    choose: assign(({ event }) => ({
      outcome: event.type === "ACCEPT"
        ? "accepted" as const
        : event.type === "REJECT"
        ? "rejected" as const
        : "withdrawn" as const,
      decider: event.decider,
    })),
    /** Tells the decider the outcome could not be stored. */
    replyFailure: ({ context, event }) => {
      const error = (event as unknown as { error: unknown }).error;
      context.decider?.reply(error instanceof Error ? error : new Error(String(error)));
    },
    /** Forgets the failed attempt: the request is pending again. */
    forget: assign({ outcome: undefined, decider: undefined }),
  },
}).createMachine({
  id: "joinRequest",
  context: ({ input }) => ({ ...input, outcome: undefined, decider: undefined }),
  initial: "pending",
  states: {
    pending: {
      on: {
        ACCEPT: { target: "storing", actions: "choose" },
        REJECT: { target: "storing", actions: "choose" },
        WITHDRAW: [
          { guard: "alreadyStored", target: "withdrawn", actions: "choose" },
          { target: "storing", actions: "choose" },
        ],
      },
    },
    storing: {
      invoke: {
        src: "store",
        input: ({ context }) => ({ context }),
        onDone: [
          { guard: "isAccepting", target: "accepted" },
          { guard: "isRejecting", target: "rejected" },
          { target: "withdrawn" },
        ],
        onError: { target: "pending", actions: ["replyFailure", "forget"] },
      },
    },
    accepted: { type: "final" },
    rejected: { type: "final" },
    withdrawn: { type: "final" },
  },
  output: ({ context }) => ({
    outcome: context.outcome ?? "withdrawn",
    user: context.user,
    decider: context.decider,
  }),
});
