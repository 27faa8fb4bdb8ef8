/**
 * The heartbeat of one instance among several (issue 15, item 4), run only
 * with a bus: every `beat` (2 s by default) it records a beat of its node in
 * the database, then reaps the nodes silent for `dead` (10 s by default).
 * A beat that finds its own node gone (another instance reaped it while this
 * one was stalled or cut off) tells `onReaped`, registers again under a new
 * id and beats on. A failed beat or registration is told and tried again at
 * the next beat: losing the database degrades, never stops the machine.
 *
 * ```
 * waiting --beat--> beating --alive--> waiting
 *                      |  \--reaped--> registering --done--> waiting
 *                      \--failed--> waiting        \--failed--> retrying --beat--> registering
 * ```
 *
 * @module
 */

import { assign, fromPromise, setup } from "xstate";
import type { Reaped } from "../store/cluster_store.ts";

/** Effects of the heartbeat (the runtime supplies them; tests fake them). */
export interface NodeHeartbeatDeps {
  /** Records a beat; false when the node is no longer registered (reaped). */
  beat(nodeId: string): Promise<boolean>;
  /** Reaps the nodes silent for longer than `deadMs`. */
  reap(deadMs: number): Promise<Reaped>;
  /** Registers this instance under a new id and returns it. */
  register(): Promise<string>;
  /** This instance was reaped as `oldId`: its sessions are forgotten everywhere (close them). */
  onReaped(oldId: string): void;
  /** This instance re-registered as `nodeId`. */
  onRegistered(nodeId: string): void;
  /** This instance reaped other nodes. */
  onReapedOthers(reaped: Reaped): void;
  /** A step failed; it is tried again at the next beat. */
  onError(step: "beat" | "register", error: unknown): void;
}

/** Input of the heartbeat machine. */
export interface NodeHeartbeatInput {
  /** The id this instance registered under at start. */
  nodeId: string;
  /** Time between two beats, ms. */
  beatMs: number;
  /** A node silent this long is reaped, ms. */
  deadMs: number;
  /** Effects. */
  deps: NodeHeartbeatDeps;
}

/** Heartbeat state. */
export interface NodeHeartbeatContext extends NodeHeartbeatInput {
  /** Beats recorded since start. */
  beats: number;
  /** Times this instance found itself reaped and registered again. */
  reregistrations: number;
}

/** What one beat found. */
type BeatResult = { alive: false } | { alive: true; reaped: Reaped };

/** Events of the heartbeat: only `STOP` (a clean stop; the runtime unregisters). */
export type NodeHeartbeatEvent = { type: "STOP" };

/** The heartbeat machine. */
export const nodeHeartbeatMachine = setup({
  types: {
    context: {} as NodeHeartbeatContext,
    events: {} as NodeHeartbeatEvent,
    input: {} as NodeHeartbeatInput,
  },
  actors: {
    /** One beat, then (if still registered) the reaping of silent nodes. */
    beatAndReap: fromPromise<BeatResult, { context: NodeHeartbeatContext }>(async ({ input }) => {
      const { deps, nodeId, deadMs } = input.context;
      if (!(await deps.beat(nodeId))) return { alive: false };
      return { alive: true, reaped: await deps.reap(deadMs) };
    }),
    /** A new registration under a new id. */
    register: fromPromise<string, { context: NodeHeartbeatContext }>(({ input }) =>
      input.context.deps.register()
    ),
  },
  delays: {
    /** Time between two beats. */
    beat: ({ context }) => context.beatMs,
  },
  guards: {
    /** The beat found this node gone: another instance reaped it. */
    wasReaped: ({ event }) => !(event as unknown as { output: BeatResult }).output.alive,
  },
  actions: {
    /** Counts a beat and tells of the nodes this one reaped, if any. */
    countBeat: assign({ beats: ({ context }) => context.beats + 1 }),
    /** Tells of the nodes this one reaped, if any. */
    reportReapedOthers: ({ context, event }) => {
      const out = (event as unknown as { output: BeatResult }).output;
      if (out.alive && out.reaped.nodes.length > 0) context.deps.onReapedOthers(out.reaped);
    },
    /** Tells that this instance was reaped. */
    reportReaped: ({ context }) => context.deps.onReaped(context.nodeId),
    /** Takes the new id. */
    takeNewId: assign({
      nodeId: ({ event }) => (event as unknown as { output: string }).output,
      reregistrations: ({ context }) => context.reregistrations + 1,
    }),
    /** Tells of the new registration. */
    reportRegistered: ({ context }) => context.deps.onRegistered(context.nodeId),
    /** Tells that the beat failed. */
    reportBeatError: ({ context, event }) =>
      context.deps.onError("beat", (event as unknown as { error: unknown }).error),
    /** Tells that the registration failed. */
    reportRegisterError: ({ context, event }) =>
      context.deps.onError("register", (event as unknown as { error: unknown }).error),
  },
}).createMachine({
  id: "nodeHeartbeat",
  context: ({ input }) => ({ ...input, beats: 0, reregistrations: 0 }),
  initial: "waiting",
  states: {
    waiting: {
      after: { beat: { target: "beating" } },
    },
    beating: {
      invoke: {
        src: "beatAndReap",
        input: ({ context }) => ({ context }),
        onDone: [
          { guard: "wasReaped", target: "registering", actions: "reportReaped" },
          { target: "waiting", actions: ["countBeat", "reportReapedOthers"] },
        ],
        onError: { target: "waiting", actions: "reportBeatError" },
      },
    },
    registering: {
      invoke: {
        src: "register",
        input: ({ context }) => ({ context }),
        onDone: { target: "waiting", actions: ["takeNewId", "reportRegistered"] },
        onError: { target: "retrying", actions: "reportRegisterError" },
      },
    },
    retrying: {
      after: { beat: { target: "registering" } },
    },
    stopped: { type: "final" },
  },
  on: { STOP: ".stopped" },
});
