/**
 * The liveness of this instance among several (issue 15, item 4): registers
 * a random node id in the `nodes` table, then runs the heartbeat machine
 * (`actors/node_heartbeat.ts`) on the {@link ClusterStore}. Started only
 * with a bus (`runtime/cluster_node.ts`).
 *
 * @module
 */

import { type Actor, type AnyActorRef, createActor, type SimulatedClock } from "xstate";
import { nodeHeartbeatMachine } from "../actors/node_heartbeat.ts";
import type { Logger } from "../lib/log.ts";
import type { ClusterStore, Reaped } from "../store/cluster_store.ts";
import { InFlight } from "../lib/in_flight.ts";
import { OutageLog } from "../lib/outage_log.ts";

/** What the rest of the instance hears from its liveness. */
export interface LivenessHooks {
  /**
   * This instance was reaped by another one (it stalled or was cut off for
   * longer than the dead delay): its users were told offline and its
   * `live_sessions` are gone. `main.ts` closes every socket it holds here
   * (the hub's `reapedSelf`, issue 15 item 4). It registers again under a new id.
   */
  onReaped?(oldId: string, newId: () => string): void;
  /** This instance reaped dead nodes: `main.ts` publishes their users' offline presence here. */
  onReapedOthers?(reaped: Reaped): void;
}

/** Options of {@link startNodeLiveness}. */
export interface NodeLivenessOptions extends LivenessHooks {
  /** The cluster tables. */
  cluster: ClusterStore;
  /** Time between two beats, ms. */
  beatMs: number;
  /** A node silent this long is reaped, ms. */
  deadMs: number;
  /** Logging. */
  log: Logger;
  /** A new node id (default: a random UUID). */
  newId?: () => string;
  /** The machine's clock (tests: xstate's SimulatedClock). */
  clock?: SimulatedClock;
}

/** A running liveness. */
export interface NodeLiveness {
  /** This instance's node id now (a new one after being reaped). */
  nodeId(): string;
  /** The heartbeat actor (inspection, tests). */
  readonly actor: AnyActorRef;
  /**
   * Stops beating. With `unregister` (a clean stop), removes the node and its
   * live sessions at once rather than leaving them to be reaped. Idempotent.
   */
  stop(opts?: { unregister?: boolean }): Promise<void>;
}

/**
 * Registers this instance under a new id (rejects if the database refuses:
 * start-up stops) and starts beating.
 */
export async function startNodeLiveness(opts: NodeLivenessOptions): Promise<NodeLiveness> {
  const newId = opts.newId ?? (() => crypto.randomUUID());
  const { cluster, log } = opts;
  // Every call to the database, so that a stop waits for the one in flight.
  const inFlight = new InFlight();
  const track = <T>(p: Promise<T>): Promise<T> => inFlight.track(p);
  const first = newId();
  await cluster.registerNode(first);
  log.info(`registered as node ${first}`, { event: "node_registered", node: first });
  let current = first;
  // A step that fails is logged once per outage, and once when it works again: a database down
  // for a minute is two lines, not one every beat.
  const outages = new OutageLog(log);
  const worked = <T>(step: string) => (result: T): T => {
    outages.worked(`node_${step}`, `node ${step} works again`, { node: current });
    return result;
  };
  const actor: Actor<typeof nodeHeartbeatMachine> = createActor(nodeHeartbeatMachine, {
    input: {
      nodeId: first,
      beatMs: opts.beatMs,
      deadMs: opts.deadMs,
      deps: {
        beat: (id) => track(cluster.beatNode(id)).then(worked("beat")),
        reap: (deadMs) => track(cluster.reapDeadNodes(deadMs)).then(worked("reap")),
        register: async () => {
          const id = newId();
          await track(cluster.registerNode(id));
          return id;
        },
        onReaped: (oldId) => {
          log.warn(
            `node ${oldId} was reaped by another instance (no beat for ${opts.deadMs} ms); ` +
              `registering again under a new id`,
            { event: "node_reaped_self", node: oldId },
          );
          opts.onReaped?.(oldId, () => current);
        },
        onRegistered: (id) => {
          current = id;
          log.info(`registered again as node ${id}`, { event: "node_registered", node: id });
        },
        onReapedOthers: (reaped) => {
          for (const node of reaped.nodes) {
            log.warn(`reaped node ${node}: no beat for ${opts.deadMs} ms`, {
              event: "node_reaped",
              node,
              count: reaped.offlineUserIds.length,
            });
          }
          opts.onReapedOthers?.(reaped);
        },
        onError: (step, error) =>
          outages.failed(`node_${step}`, `node ${step} failed; trying again at every beat`, error, {
            node: current,
          }),
      },
    },
    // An explicit `clock: undefined` would replace xstate's own timers.
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  actor.start();
  let stopping: Promise<void> | undefined;
  return {
    nodeId: () => current,
    actor,
    stop(stopOpts = {}) {
      stopping ??= (async () => {
        actor.send({ type: "STOP" });
        actor.stop();
        await inFlight.settled();
        if (stopOpts.unregister) {
          try {
            await cluster.unregisterNode(current);
            log.info(`unregistered node ${current}`, { event: "node_unregistered", node: current });
          } catch (e) {
            log.warn("could not unregister the node; the others will reap it", {
              event: "node_unregister_failed",
              node: current,
              error: e,
            });
          }
        }
      })();
      return stopping;
    },
  };
}
