/**
 * The live gauges of `/metrics` (runtime/metrics.ts `LiveCounts`), read from
 * the actor system when scraped: nothing is counted on the hot path for them.
 *
 * @module
 */

import type { AnyActorRef } from "xstate";
import { salonMachine } from "../actors/salon.ts";
import type { Session } from "../actors/session.ts";
import type { LiveCounts } from "./metrics.ts";

/** The parts of a snapshot read here. */
interface Snapshot {
  context?: {
    sessions?: Map<number, Session[]>;
    pending?: Map<number, unknown>;
  };
  children?: Record<string, AnyActorRef | undefined>;
}

/**
 * Counts the actors under `server` by machine (the same tree as
 * runtime/actor_tree.ts walks for `GET /admin/actors`, connection actors
 * included), the welcomed sessions (the server's registry), the connections
 * and the join requests pending in every salon.
 */
export function liveCounts(server: AnyActorRef, connections: Iterable<AnyActorRef>): LiveCounts {
  const actors = new Map<string, number>();
  let joinRequestsPending = 0;
  const walk = (ref: AnyActorRef) => {
    const machine = (ref as { logic?: { id?: string } }).logic?.id ?? "unknown";
    actors.set(machine, (actors.get(machine) ?? 0) + 1);
    const snapshot = ref.getSnapshot() as Snapshot;
    if (machine === salonMachine.id) joinRequestsPending += snapshot.context?.pending?.size ?? 0;
    for (const child of Object.values(snapshot.children ?? {})) if (child) walk(child);
  };
  walk(server);
  let connectionCount = 0;
  for (const actor of connections) {
    connectionCount++;
    walk(actor);
  }
  let sessions = 0;
  const registry = (server.getSnapshot() as Snapshot).context?.sessions;
  for (const list of registry?.values() ?? []) sessions += list.length;
  return { connections: connectionCount, sessions, joinRequestsPending, actors };
}
