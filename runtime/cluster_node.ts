/**
 * This instance as one of several (issue 15), with `CAUSERIE_BUS`: the bus
 * (Redis through `bus/redis_bus.ts`, channels prefixed with the database
 * name) and the liveness in MySQL (`runtime/node_liveness.ts`).
 *
 * The bus is open and watched (`/readyz`), the node beats and reaps; what
 * crosses instances is started by the hub (runtime/salon_relay.ts,
 * cluster_users.ts, cluster_directs.ts, cluster_presence.ts,
 * cluster_shutdown.ts): docs/architecture.md, "Several instances".
 *
 * @module
 */

import type { SimulatedClock } from "xstate";
import type { Bus } from "../bus/bus.ts";
import { openRedisBus } from "../bus/redis_bus.ts";
import type { ClusterConfig } from "../config/config.ts";
import type { Logger } from "../lib/log.ts";
import type { Store } from "../store/store.ts";
import { type LivenessHooks, type NodeLiveness, startNodeLiveness } from "./node_liveness.ts";

/** How this instance reads the bus's health for `/readyz`. */
export interface BusHealth {
  /** Resolves when the bus answers within `timeoutMs`; rejects otherwise. */
  ping(timeoutMs: number): Promise<void>;
}

/** This instance in the cluster. */
export interface ClusterNode {
  /** The node id now (a new one after being reaped). */
  nodeId(): string;
  /** The bus (channels unprefixed: the bus prefixes them). */
  readonly bus: Bus;
  /** The heartbeat. */
  readonly liveness: NodeLiveness;
  /** A clean stop: stops beating, unregisters the node, closes the bus. Idempotent. */
  stop(): Promise<void>;
  /**
   * As if the process had died (tests): stops beating and closes the bus,
   * leaving the node registered for the others to reap. A later
   * {@link ClusterNode.stop} unregisters nothing.
   */
  halt(): Promise<void>;
}

/** Options of {@link joinCluster}. */
export interface JoinOptions extends LivenessHooks {
  /** The bus and the timings. */
  cluster: ClusterConfig;
  /** The store: MySQL (with its cluster tables). */
  store: Store;
  /** The database name: the prefix of every channel. */
  database: string;
  /** Logging. */
  log: Logger;
  /** The heartbeat's clock (tests). */
  clock?: SimulatedClock;
  /** Opens the bus (default: Redis at `cluster.bus`); tests pass a memory bus. */
  openBus?: (prefix: string) => Promise<Bus>;
}

/**
 * Opens the bus, then registers this instance and starts its heartbeat.
 * Rejects with one line saying what to fix when Redis cannot be reached or
 * the store has no cluster tables.
 */
export async function joinCluster(opts: JoinOptions): Promise<ClusterNode> {
  const { log, store } = opts;
  if (!store.cluster) {
    throw new Error(
      `CAUSERIE_BUS needs CAUSERIE_DB=mysql://...: the ${store.kind} store has no cluster tables`,
    );
  }
  const bus = await (opts.openBus ?? ((prefix) =>
    openRedisBus({
      url: opts.cluster.bus,
      prefix,
      probeMs: opts.cluster.probeMs,
      onSilent: (side) =>
        log.warn(
          side === "subscriber"
            ? "the bus subscription was silent (its own probe did not come back): reconnecting; " +
              "what it missed is read from the database"
            : "the bus publisher was silent (Redis never acknowledged its probe): reconnecting; " +
              "the other instances read what it could not publish from the database",
          { event: "bus_silent", code: side },
        ),
      onStatus: (status, error) => {
        if (status === "down") {
          log.warn(
            "the bus is unreachable: live events between instances stop until it is back " +
              "(ioredis reconnects by itself)",
            { event: "bus_down", error },
          );
        } else {
          log.info("the bus is back", { event: "bus_up" });
        }
      },
    })))(opts.database);
  let liveness: NodeLiveness;
  try {
    liveness = await startNodeLiveness({
      cluster: store.cluster,
      beatMs: opts.cluster.beatMs,
      deadMs: opts.cluster.deadMs,
      log,
      clock: opts.clock,
      onReaped: opts.onReaped,
      onReapedOthers: opts.onReapedOthers,
    });
  } catch (e) {
    await bus.close();
    throw new Error(`cannot register this instance in table nodes: ${(e as Error).message}`);
  }
  let halted = false;
  let stopping: Promise<void> | undefined;
  return {
    nodeId: () => liveness.nodeId(),
    bus,
    liveness,
    stop() {
      stopping ??= (async () => {
        await liveness.stop({ unregister: !halted });
        await bus.close();
      })();
      return stopping;
    },
    async halt() {
      halted = true;
      await liveness.stop();
      await bus.close();
    },
  };
}
