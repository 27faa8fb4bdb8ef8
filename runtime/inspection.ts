/**
 * The inspection stream's hub (`GET /admin/inspect`, PROTOCOL.md 5.5): it
 * subscribes to the actor system's inspection events (`system.inspect`)
 * only while at least one watcher is attached, and unsubscribes when the
 * last one leaves; with no observer, XState drops its inspection events at
 * once, so inspection costs nothing while no one watches.
 *
 * Each XState event of interest (`@xstate.actor`, `@xstate.event`,
 * `@xstate.snapshot` of machine actors) becomes one frame, built from
 * allowlisted content only (runtime/inspection_facts.ts), serialized once
 * and queued for every watcher; the queues are written every
 * {@link INSPECT_FLUSH_MS} ms, each watcher's frames in one corked write.
 * A slow watcher loses frames rather than queue them (runtime/inspection_watcher.ts).
 *
 * @module
 */

import type { ActorRefLike, AnyActorRef, InspectionEvent, Subscription } from "xstate";
import { walkActors, type WalkedSnapshot } from "./actor_tree.ts";
import { actorFacts, actorIdOf, machineOf, parentIdOf, safeEvent } from "./inspection_facts.ts";
import { type InspectSocket, WatcherQueue } from "./inspection_watcher.ts";

/** How often the watchers' queues are written, ms. */
export const INSPECT_FLUSH_MS = 50;

/** Most watchers at once; one more is closed with 1013. */
export const INSPECT_WATCHERS_MAX = 8;

/** A timer clock (XState's, so that tests can use a SimulatedClock). */
export interface TimerClock {
  /** Schedules `fn` after `ms`. */
  setTimeout(fn: (...args: unknown[]) => void, ms: number): unknown;
  /** Cancels a timer. */
  clearTimeout(id: unknown): void;
}

/** One attached watcher. */
export interface Watcher {
  /** Detaches the watcher (its socket closed). Idempotent. */
  stop(): void;
}

/** The inspection hub of a running server. */
export interface Inspection {
  /**
   * Attaches a watcher: writes one `@xstate.snapshot` per live actor and
   * `@causerie.live`, then follows live. Returns undefined when
   * {@link INSPECT_WATCHERS_MAX} watchers are attached already.
   */
  watch(socket: InspectSocket): Watcher | undefined;
  /** Watchers attached. */
  watchers(): number;
  /** Whether the hub is subscribed to the actor system's inspection events. */
  attached(): boolean;
  /** The clock for the routes' timers (the auth deadline). */
  readonly clock: TimerClock;
  /** Closes every watcher (1001) and unsubscribes. */
  close(reason: string): void;
}

/** What the hub needs of the actor system. */
export interface InspectionOptions {
  /** The root actor (its `system` is inspected). */
  server: AnyActorRef;
  /** The connection actors (in the server's system, not among its snapshot's children). */
  connections: () => Iterable<AnyActorRef>;
  /** Current time, epoch ms (the frames' `at`). */
  now: () => number;
  /** Clock of the routes' timers (default: the global timers). */
  clock?: TimerClock;
  /**
   * Timers of the flushes (default: the global timers; the actors' simulated
   * clock of a test would hold the stream back).
   */
  flushTimers?: TimerClock;
}

/** The global timers as a {@link TimerClock}. */
const GLOBAL_TIMERS: TimerClock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as number),
};

/** A snapshot frame of `ref` (allowlisted facts only). */
function snapshotFrame(
  ref: ActorRefLike,
  snapshot: WalkedSnapshot,
  parentId: string | undefined,
  at: number,
  event?: unknown,
): Record<string, unknown> {
  return {
    type: "@xstate.snapshot",
    actorId: actorIdOf(ref),
    ...(parentId === undefined ? {} : { parentId }),
    machine: machineOf(ref),
    value: snapshot.value ?? null,
    status: snapshot.status ?? "active",
    facts: actorFacts(snapshot.context),
    ...(event === undefined ? {} : { event: safeEvent(event) }),
    at,
  };
}

/** The frame for one XState inspection event, or undefined when it is not shown. */
export function inspectionFrame(
  e: InspectionEvent,
  at: number,
): Record<string, unknown> | undefined {
  switch (e.type) {
    case "@xstate.actor": {
      const machine = machineOf(e.actorRef);
      if (machine === undefined) return undefined;
      const parentId = parentIdOf(e.actorRef);
      return {
        type: "@xstate.actor",
        actorId: actorIdOf(e.actorRef),
        ...(parentId === undefined ? {} : { parentId }),
        machine,
        at,
      };
    }
    case "@xstate.event": {
      if (machineOf(e.actorRef) === undefined) return undefined;
      return {
        type: "@xstate.event",
        actorId: actorIdOf(e.actorRef),
        ...(e.sourceRef ? { sourceId: actorIdOf(e.sourceRef) } : {}),
        event: safeEvent(e.event),
        at,
      };
    }
    case "@xstate.snapshot": {
      if (machineOf(e.actorRef) === undefined) return undefined;
      return snapshotFrame(
        e.actorRef,
        e.snapshot as WalkedSnapshot,
        parentIdOf(e.actorRef),
        at,
        e.event,
      );
    }
    default:
      return undefined;
  }
}

/**
 * A machine that failed reports it to its parent (`xstate.error.actor.*`)
 * without an inspection snapshot of its own: its final snapshot, status
 * "error", is made from that report.
 */
function failureFrame(e: InspectionEvent, at: number): Record<string, unknown> | undefined {
  if (e.type !== "@xstate.event" || !e.sourceRef) return undefined;
  const type = (e.event as { type?: unknown }).type;
  if (typeof type !== "string" || !type.startsWith("xstate.error.actor.")) return undefined;
  if (machineOf(e.sourceRef) === undefined) return undefined;
  const snapshot = e.sourceRef.getSnapshot() as WalkedSnapshot;
  if (snapshot.status !== "error") return undefined;
  return snapshotFrame(e.sourceRef, snapshot, parentIdOf(e.sourceRef), at);
}

/** The inspection hub over `opts.server`'s actor system. */
export function createInspection(opts: InspectionOptions): Inspection {
  const { server, now } = opts;
  const clock = opts.clock ?? GLOBAL_TIMERS;
  const timers = opts.flushTimers ?? GLOBAL_TIMERS;
  const queues = new Set<WatcherQueue>();
  let subscription: Subscription | undefined;
  let flushTimer: unknown;

  const flush = () => {
    flushTimer = undefined;
    let pending = false;
    for (const q of queues) {
      q.flush();
      if (q.pending) pending = true;
    }
    // A slow watcher's frames wait for its socket to drain: look again later.
    if (pending) arm();
  };
  const arm = () => {
    flushTimer ??= timers.setTimeout(flush, INSPECT_FLUSH_MS);
  };

  const publish = (frame: Record<string, unknown>) => {
    const text = JSON.stringify(frame);
    for (const q of queues) q.offer(text);
    arm();
  };

  const observe = (e: InspectionEvent) => {
    const at = now();
    const frame = inspectionFrame(e, at);
    if (frame) publish(frame);
    const failed = failureFrame(e, at);
    if (failed) publish(failed);
  };

  const detachIfIdle = () => {
    if (queues.size > 0) return;
    subscription?.unsubscribe();
    subscription = undefined;
    timers.clearTimeout(flushTimer);
    flushTimer = undefined;
  };

  /** One snapshot frame per live actor, then `@causerie.live`. */
  const opening = (): string[] => {
    const at = now();
    const frames: string[] = [];
    walkActors(server, opts.connections(), (ref, snapshot, _id, parent) => {
      if (machineOf(ref) === undefined) return;
      frames.push(JSON.stringify(snapshotFrame(ref, snapshot, parent ?? undefined, at)));
    });
    frames.push(JSON.stringify({ type: "@causerie.live", actors: frames.length, at }));
    return frames;
  };

  return {
    clock,
    watch(socket) {
      if (queues.size >= INSPECT_WATCHERS_MAX) return undefined;
      const queue = new WatcherQueue(socket, now);
      // Subscribed before the opening is read: nothing happens in between (one synchronous
      // task), and every later change reaches the queue.
      subscription ??= server.system.inspect({ next: observe });
      queue.write(opening());
      queues.add(queue);
      let stopped = false;
      return {
        stop() {
          if (stopped) return;
          stopped = true;
          queue.stop();
          queues.delete(queue);
          detachIfIdle();
        },
      };
    },
    watchers: () => queues.size,
    attached: () => subscription !== undefined,
    close(reason) {
      for (const q of [...queues]) q.close(1001, reason);
      queues.clear();
      detachIfIdle();
    },
  };
}
