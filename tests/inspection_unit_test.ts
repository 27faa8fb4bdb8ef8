/**
 * The inspection hub without sockets: a slow watcher's frames are dropped,
 * counted and reported once it drains; the queue never grows past its bound;
 * the actor system's inspection is subscribed only while someone watches.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type AnyActorRef, assign, createActor, enqueueActions, setup } from "xstate";
import { createInspection, INSPECT_FLUSH_MS } from "../runtime/inspection.ts";
import { safeEvent } from "../runtime/inspection_facts.ts";
import {
  type InspectSocket,
  WATCHER_BUFFERED_MAX,
  WATCHER_QUEUE_MAX,
  WatcherQueue,
} from "../runtime/inspection_watcher.ts";

/** A socket that records what it is sent, with a settable backlog. */
function fakeSocket() {
  const writes: string[][] = [];
  const state = { buffered: 0, closed: undefined as { code: number; reason: string } | undefined };
  const socket: InspectSocket = {
    sendAll: (frames) => void writes.push([...frames]),
    bufferedAmount: () => state.buffered,
    close: (code, reason) => void (state.closed = { code, reason }),
  };
  return { socket, writes, state, frames: () => writes.flat().map((f) => JSON.parse(f)) };
}

Deno.test("watcher queue: while the socket is slow, frames are dropped and counted, then told once it drains", () => {
  const { socket, writes, state, frames } = fakeSocket();
  const q = new WatcherQueue(socket, () => 1234);
  q.offer('{"n":1}');
  q.offer('{"n":2}');
  state.buffered = WATCHER_BUFFERED_MAX + 1;
  for (let i = 0; i < 500; i++) q.offer(`{"n":${i + 3}}`);
  assert.equal(q.dropped, 500);
  q.flush();
  assert.equal(writes.length, 0, "nothing is written to a socket over its limit");
  for (let i = 0; i < 10; i++) q.offer('{"late":true}');
  state.buffered = 0;
  q.flush();
  assert.equal(writes.length, 1, "one write per flush");
  assert.deepEqual(frames(), [
    { n: 1 },
    { n: 2 },
    { type: "@causerie.dropped", dropped: 510, at: 1234 },
  ]);
  assert.equal(q.pending, false);
  // After the report, frames are queued again.
  q.offer('{"n":"again"}');
  q.flush();
  assert.deepEqual(frames().at(-1), { n: "again" });
});

Deno.test("watcher queue: a full queue drops what comes after it, in order, and holds at most its bound", () => {
  const { socket, writes, frames } = fakeSocket();
  const q = new WatcherQueue(socket, () => 7);
  for (let i = 0; i < WATCHER_QUEUE_MAX + 25; i++) q.offer(`{"i":${i}}`);
  assert.equal(q.dropped, 25);
  q.flush();
  assert.equal(writes.length, 1);
  const got = frames();
  assert.equal(got.length, WATCHER_QUEUE_MAX + 1);
  assert.deepEqual(got.at(-2), { i: WATCHER_QUEUE_MAX - 1 });
  assert.deepEqual(got.at(-1), { type: "@causerie.dropped", dropped: 25, at: 7 });
});

Deno.test("watcher queue: a closed watcher takes and writes nothing", () => {
  const { socket, writes, state } = fakeSocket();
  const q = new WatcherQueue(socket, () => 0);
  q.offer("{}");
  q.close(1001, "bye");
  q.offer("{}");
  q.flush();
  assert.equal(writes.length, 0);
  assert.deepEqual(state.closed, { code: 1001, reason: "bye" });
});

const counterMachine = setup({
  types: {
    context: {} as { n: number; text: string },
    events: {} as { type: "INC"; text: string },
  },
}).createMachine({
  id: "counter",
  context: { n: 0, text: "" },
  on: {
    INC: { actions: assign(({ context, event }) => ({ n: context.n + 1, text: event.text })) },
  },
});

/** A server actor whose system counts inspection subscriptions and observed events. */
function countedSystem() {
  const actor = createActor(counterMachine).start();
  const counts = { subscribed: 0, observed: 0 };
  const inspect = actor.system.inspect.bind(actor.system);
  actor.system.inspect = (observer) => {
    counts.subscribed++;
    const next = typeof observer === "function" ? observer : observer.next?.bind(observer);
    const sub = inspect((e) => {
      counts.observed++;
      next?.(e);
    });
    return {
      unsubscribe() {
        counts.subscribed--;
        sub.unsubscribe();
      },
    };
  };
  return { actor, counts };
}

/** Timers that fire only when told. */
function manualTimers() {
  const pending = new Map<number, { fn: () => void; ms: number }>();
  let ids = 0;
  return {
    setTimeout(fn: () => void, ms: number) {
      pending.set(++ids, { fn, ms });
      return ids;
    },
    clearTimeout(id: unknown) {
      pending.delete(id as number);
    },
    delays: () => [...pending.values()].map((t) => t.ms),
    fire() {
      const due = [...pending.values()];
      pending.clear();
      for (const t of due) t.fn();
    },
  };
}

Deno.test("inspection: subscribed to the system only while a watcher is attached; nothing observed after the last leaves", () => {
  const { actor, counts } = countedSystem();
  const timers = manualTimers();
  const inspection = createInspection({
    server: actor as unknown as AnyActorRef,
    connections: () => [],
    now: () => 1,
    flushTimers: timers,
  });
  actor.send({ type: "INC", text: "before" });
  assert.equal(counts.subscribed, 0);
  assert.equal(inspection.attached(), false);

  const a = fakeSocket();
  const b = fakeSocket();
  const wa = inspection.watch(a.socket)!;
  const wb = inspection.watch(b.socket)!;
  assert.equal(counts.subscribed, 1, "one subscription for any number of watchers");
  assert.deepEqual(a.frames().map((f) => f.type), ["@xstate.snapshot", "@causerie.live"]);
  assert.deepEqual(a.frames()[0].facts, {}, "the counter's text is not an allowlisted fact");

  actor.send({ type: "INC", text: "Secret-Text" });
  assert.ok(counts.observed > 0);
  assert.equal(a.writes.length, 1, "live frames wait for the flush");
  assert.deepEqual(timers.delays(), [INSPECT_FLUSH_MS]);
  timers.fire();
  const live = a.frames().slice(2);
  assert.deepEqual(live.map((f) => f.type), ["@xstate.event", "@xstate.snapshot"]);
  assert.deepEqual(live[0].event, { type: "INC" });
  assert.equal(a.writes.length, 2, "the live frames of one flush leave in one write");
  assert.ok(!JSON.stringify(a.writes).includes("Secret-Text"));
  assert.deepEqual(b.frames().slice(2), live, "every watcher gets the same frames");

  wa.stop();
  assert.equal(counts.subscribed, 1);
  wb.stop();
  wb.stop();
  assert.equal(counts.subscribed, 0);
  assert.equal(inspection.attached(), false);
  assert.deepEqual(timers.delays(), [], "no flush timer is left behind");
  const observed = counts.observed;
  actor.send({ type: "INC", text: "after" });
  assert.equal(counts.observed, observed, "no inspection event reaches us once no one watches");
  actor.stop();
});

Deno.test("inspection: the allowlist keeps type and harmless fields only", () => {
  assert.deepEqual(
    safeEvent({
      type: "FRAME",
      bytes: 40,
      frame: { type: "hello", username: "zoe", password: "pw", token: "t", text: "x" },
    }),
    { type: "FRAME", bytes: 40, frame: "hello" },
  );
  assert.deepEqual(
    safeEvent({
      type: "KICK",
      username: "zoe",
      reason: "because",
      text: "t",
      token: "k",
      minutes: 5,
      password: "p",
    }),
    { type: "KICK", username: "zoe", minutes: 5 },
  );
  assert.deepEqual(safeEvent({ type: "X", salon: { name: "Général", secret: 1 } }), {
    type: "X",
    salon: "Général",
  });
  assert.deepEqual(safeEvent({ type: "X", username: "u".repeat(1000), seconds: Infinity }), {
    type: "X",
  });
  assert.deepEqual(safeEvent(null), { type: "unknown" });
  assert.deepEqual(safeEvent({ type: 42, frame: { type: "<script>" } }), { type: "unknown" });
});

const childMachine = setup({
  types: { events: {} as { type: "BOOM" } },
  actions: {
    explode: () => {
      throw new Error("a bug");
    },
  },
}).createMachine({
  id: "child",
  initial: "idle",
  states: { idle: { on: { BOOM: { actions: "explode" } } } },
});

const parentMachine = setup({
  types: {
    events: {} as
      | { type: "SPAWN"; id: string }
      | { type: "STOP"; id: string }
      | { type: `xstate.error.actor.${string}` },
  },
  actors: { child: childMachine },
}).createMachine({
  id: "parent",
  on: {
    SPAWN: {
      actions: enqueueActions(({ event, enqueue }) =>
        enqueue.spawnChild("child", { id: event.id, systemId: event.id })
      ),
    },
    STOP: { actions: enqueueActions(({ event, enqueue }) => enqueue.stopChild(event.id)) },
    // A child's failure is the parent's to handle (the server logs it and goes on).
    "xstate.error.actor.*": {},
  },
});

Deno.test("inspection: an actor's end is its final snapshot, stopped or error; a slow watcher does not hold the others back", () => {
  const actor = createActor(parentMachine, { systemId: "server" }).start();
  const timers = manualTimers();
  const inspection = createInspection({
    server: actor as unknown as AnyActorRef,
    connections: () => [],
    now: () => 5,
    flushTimers: timers,
  });
  const fast = fakeSocket();
  const slow = fakeSocket();
  inspection.watch(fast.socket);
  inspection.watch(slow.socket);
  slow.state.buffered = WATCHER_BUFFERED_MAX + 1;
  actor.send({ type: "SPAWN", id: "kid:1" });
  actor.send({ type: "SPAWN", id: "kid:2" });
  actor.send({ type: "STOP", id: "kid:1" });
  actor.system.get("kid:2")!.send({ type: "BOOM" });
  timers.fire();
  const frames = fast.frames();
  const born = frames.filter((f) => f.type === "@xstate.actor").map((f) => [f.actorId, f.parentId]);
  assert.deepEqual(born, [["kid:1", "server"], ["kid:2", "server"]]);
  const ends = frames.filter((f) => f.type === "@xstate.snapshot" && f.status !== "active");
  assert.deepEqual(
    ends.map((f) => [f.actorId, f.status, f.machine]),
    [["kid:1", "stopped", "child"], ["kid:2", "error", "child"]],
  );
  assert.equal(slow.writes.length, 1, "the slow watcher got its opening only");
  slow.state.buffered = 0;
  timers.fire();
  assert.deepEqual(slow.frames().at(-1), {
    type: "@causerie.dropped",
    dropped: frames.length - 2, // all but the opening (a snapshot and @causerie.live)
    at: 5,
  });
  inspection.close("done");
  assert.deepEqual(fast.state.closed, { code: 1001, reason: "done" });
  assert.equal(inspection.attached(), false);
  actor.stop();
});
