/**
 * Stately's inspector for developers (`CAUSERIE_INSPECT=stately`): the actor
 * system's inspection events go to a relay of `@statelyai/inspect` on this
 * machine (`CAUSERIE_INSPECT_URL`), which hands them to Stately's inspector
 * page in the developer's browser. docs/architecture.md, "Watching with
 * Stately's inspector", says how to run it, what it costs and what it sends.
 *
 * What leaves the process passes the same allowlists as the inspection
 * stream (runtime/inspection_facts.ts): each event's `type` and harmless
 * fields, each snapshot's `status`, `value` and allowlisted facts in place of
 * its context. The machines' static definitions are sent whole (they are
 * code, not data).
 *
 * @module
 */

import { createWebSocketInspector } from "@statelyai/inspect";
import type { AnyActorRef, InspectionEvent, Observer, Subscription } from "xstate";
import type { Logger } from "../lib/log.ts";
import { actorFacts, safeEvent } from "./inspection_facts.ts";

/** An event as `@statelyai/inspect` hands it to its adapter. */
type StatelyEvent = Record<string, unknown> & { type: string };

/** The keys of a Stately inspection event sent as they are (besides `type`); the rest is left out. */
const KEPT_KEYS = [
  "name",
  "sessionId",
  "parentId",
  "rootId",
  "sourceId",
  "id",
  "createdAt",
  "_version",
  "definition",
] as const;

/** Events already masked (the relay adapter may hand a deferred event to `serialize` again). */
const masked = new WeakSet<object>();

/**
 * A Stately inspection event reduced to what may leave the process: the
 * keys of {@link KEPT_KEYS}, the event through {@link safeEvent}, the
 * snapshot as `{status, value, context}` whose context holds only the
 * allowlisted facts. Idempotent.
 */
export function maskStatelyEvent(event: StatelyEvent): StatelyEvent {
  if (masked.has(event)) return event;
  const out: StatelyEvent = { type: event.type };
  for (const key of KEPT_KEYS) if (event[key] !== undefined) out[key] = event[key];
  if (event.event !== undefined) out.event = safeEvent(event.event);
  const snapshot = event.snapshot as
    | { status?: unknown; value?: unknown; context?: Record<string, unknown> }
    | undefined;
  if (snapshot && typeof snapshot === "object") {
    out.snapshot = {
      status: typeof snapshot.status === "string" ? snapshot.status : "active",
      ...(snapshot.value === undefined ? {} : { value: snapshot.value }),
      context: actorFacts(snapshot.context),
    };
  }
  masked.add(out);
  return out;
}

/** What {@link attachStately} needs. */
export interface StatelyOptions {
  /** The relay's URL (a loopback `ws://` URL). */
  url: string;
  /** Where the attachment is reported. */
  log: Logger;
  /** Makes the inspector (default: `@statelyai/inspect`'s WebSocket inspector). */
  create?: (options: {
    url: string;
    serialize: (event: StatelyEvent) => StatelyEvent;
  }) => { inspect: Observer<InspectionEvent>; stop(): void };
}

/** An attached Stately inspector. */
export interface StatelyLink {
  /** Unsubscribes from the actor system and closes the relay connection. */
  stop(): void;
}

/**
 * Sends `server`'s actor system to Stately's inspector relay at `opts.url`.
 * A relay that is absent or goes away costs nothing but retries (the
 * library reconnects every 5 s and keeps its last 200 events meanwhile);
 * the server is not affected.
 */
export function attachStately(server: AnyActorRef, opts: StatelyOptions): StatelyLink {
  const create = opts.create ?? ((o) =>
    createWebSocketInspector(
      o as unknown as Parameters<typeof createWebSocketInspector>[0],
    ) as unknown as { inspect: Observer<InspectionEvent>; stop(): void });
  const inspector = create({
    url: opts.url,
    serialize: (event) => maskStatelyEvent(event),
  });
  const subscription: Subscription = server.system.inspect(inspector.inspect);
  opts.log.info(
    `CAUSERIE_INSPECT=stately: the actor system goes to Stately's inspector relay at ${opts.url} ` +
      `(docs/architecture.md, "Watching with Stately's inspector")`,
  );
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      subscription.unsubscribe();
      try {
        inspector.stop();
      } catch { /* the relay connection was never opened */ }
    },
  };
}
