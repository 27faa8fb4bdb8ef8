/**
 * The live actor tree as `GET /admin/actors` lists it: every actor with its
 * machine, state, parent and a few facts read from its context. The same
 * walk opens the inspection stream (runtime/inspection.ts).
 *
 * @module
 */

import type { AnyActorRef } from "xstate";
import type { ActorInfo } from "../protocol/admin.ts";
import { actorFacts, actorIdOf } from "./inspection_facts.ts";

/** An actor's snapshot, as far as the walk reads it. */
export interface WalkedSnapshot {
  /** The state value (machines). */
  value?: unknown;
  /** `active`, `done`, `error` or `stopped`. */
  status?: string;
  /** The context (machines). */
  context?: Record<string, unknown>;
  /** Spawned and invoked children. */
  children?: Record<string, AnyActorRef | undefined>;
}

/**
 * Visits every live actor, parents first: the tree under the root `server`,
 * then the connection actors (started in the server's system but not among
 * its snapshot's children) under it. `parent` is the parent's id, null for
 * the root.
 */
export function walkActors(
  server: AnyActorRef,
  connections: Iterable<AnyActorRef>,
  visit: (ref: AnyActorRef, snapshot: WalkedSnapshot, id: string, parent: string | null) => void,
): void {
  const walk = (ref: AnyActorRef, parent: string | null) => {
    const snapshot = ref.getSnapshot() as WalkedSnapshot;
    const id = actorIdOf(ref);
    visit(ref, snapshot, id, parent);
    for (const child of Object.values(snapshot.children ?? {})) if (child) walk(child, id);
  };
  walk(server, null);
  const root = actorIdOf(server);
  for (const actor of connections) walk(actor, root);
}

/** The actor tree as `GET /admin/actors` lists it. */
export function actorTree(server: AnyActorRef, connections: Iterable<AnyActorRef>): ActorInfo[] {
  const out: ActorInfo[] = [];
  walkActors(server, connections, (ref, snapshot, id, parent) => {
    out.push({
      id,
      machine: (ref as { logic?: { id?: string } }).logic?.id ?? "unknown",
      state: snapshot.value ?? snapshot.status ?? null,
      parent,
      facts: actorFacts(snapshot.context),
    });
  });
  return out;
}
