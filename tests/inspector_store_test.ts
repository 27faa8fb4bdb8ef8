/**
 * The inspector page's core: the store reduces recorded stream frames into
 * the actor tree (states, facts, last events, ended actors, dropped count),
 * stays bounded, filters by machine and user, and follows the moderators'
 * polling; the stream feed authenticates with its first frame, reconnects
 * with backoff from a fresh snapshot and stops on 4401/4403.
 */

import assert from "node:assert/strict";
import { type FeedStatus, PollFeed, StreamFeed } from "../web/core/inspector_feed.ts";
import { eventWords, InspectorStore, valueWords } from "../web/core/inspector_store.ts";
import { FRAMES, T0 } from "./inspector_frames.ts";
import { FakeClock, socketFactory } from "./web_fakes.ts";

function replay(store: InspectorStore, frames = FRAMES) {
  for (const f of frames) assert.ok(store.apply(JSON.parse(JSON.stringify(f))), JSON.stringify(f));
}

Deno.test("recorded frames become the actor tree: server, salons, join request, connections, sanctions", () => {
  const clock = new FakeClock();
  clock.t = T0 + 2000;
  const store = new InspectorStore({ now: () => clock.t });
  replay(store);
  const tree = store.tree();
  assert.equal(tree.length, 1);
  assert.equal(tree[0].actor.id, "server");
  assert.deepEqual(tree[0].children.map((n) => n.actor.id), [
    "salon:général",
    "salon:secret",
    "c7",
    "sanction:1",
  ]);
  assert.deepEqual(tree[0].children[1].children.map((n) => n.actor.id), ["request:secret:dave"]);
  assert.equal(store.live, true);
  assert.equal(store.dropped, 12);

  const c7 = store.actors.get("c7")!;
  assert.equal(c7.machine, "connection");
  assert.equal(c7.value, "closed");
  assert.equal(c7.status, "done");
  assert.equal(c7.facts.username, "alice");
  // The event and the snapshot it caused are one entry, with the state it led to.
  assert.deepEqual(c7.events.map((e) => [e.type, e.value]), [
    ["FRAME", "authenticating"],
    ["xstate.done.actor.0.connection.authenticating", "active"],
    ["SANCTIONED", "closed"],
  ]);
  assert.equal(c7.events[0].fields, "frame=hello");
  const sanction = store.actors.get("sanction:1")!;
  assert.deepEqual(sanction.value, { active: "kicked" });
  assert.equal(valueWords(sanction.value), "active.kicked");
  assert.equal(
    valueWords({ lifecycle: "running", presence: "idle" }),
    "lifecycle.running + presence.idle",
  );
  assert.deepEqual(store.machines(), ["connection", "joinRequest", "salon", "sanction", "server"]);
});

Deno.test("filters keep the matching actors and those above them", () => {
  const store = new InspectorStore({ now: () => T0 });
  replay(store);
  const ids = (nodes: ReturnType<InspectorStore["tree"]>): string[] =>
    nodes.flatMap((n) => [n.actor.id, ...ids(n.children)]);
  assert.deepEqual(ids(store.tree({ machine: "joinRequest" })), [
    "server",
    "salon:secret",
    "request:secret:dave",
  ]);
  assert.deepEqual(ids(store.tree({ user: "ALI" })), ["server", "c7", "sanction:1"]);
  assert.deepEqual(ids(store.tree({ machine: "sanction", user: "alice" })), [
    "server",
    "sanction:1",
  ]);
  assert.deepEqual(ids(store.tree({ user: "nobody" })), []);
});

Deno.test("memory is bounded: 20 events per actor, ended actors pruned, a cap on actors", () => {
  const clock = new FakeClock();
  clock.t = T0;
  const store = new InspectorStore({ now: () => clock.t, limits: { maxActors: 50 } });
  replay(store);
  for (let i = 0; i < 100; i++) {
    store.apply({ type: "@xstate.event", actorId: "server", event: { type: `E${i}` }, at: T0 + i });
  }
  const events = store.actors.get("server")!.events;
  assert.equal(events.length, 20);
  assert.equal(events[19].type, "E99");
  // The ended connection stays a while, then goes.
  clock.t = T0 + 1001 + 29_000;
  store.prune();
  assert.ok(store.actors.has("c7"));
  clock.t = T0 + 1001 + 31_000;
  store.prune();
  assert.ok(!store.actors.has("c7"));
  // A flood of actors keeps the cap, the oldest going first.
  for (let i = 0; i < 200; i++) {
    store.apply({
      type: "@xstate.actor",
      actorId: `x${i}`,
      machine: "connection",
      at: clock.t + i,
    });
  }
  assert.equal(store.actors.size, 50);
  assert.ok(store.actors.has("x199"));
  assert.ok(!store.actors.has("server"));
});

Deno.test("hostile frames change nothing", () => {
  const store = new InspectorStore({ now: () => T0 });
  for (
    const f of [
      null,
      42,
      "x",
      {},
      { type: "@xstate.snapshot" },
      { type: "@xstate.snapshot", actorId: 7 },
      { type: "@xstate.event", actorId: "a" },
      { type: "@xstate.event", actorId: "a", event: { type: 3 } },
      { type: "@causerie.dropped", dropped: "many" },
      { type: "@causerie.dropped", dropped: -1 },
      { type: "@other" },
    ]
  ) assert.equal(store.apply(f), false, JSON.stringify(f));
  assert.equal(store.actors.size, 0);
  assert.equal(store.dropped, 0);
  // An id like a prototype key is an ordinary id.
  store.apply({ type: "@xstate.actor", actorId: "__proto__", machine: "connection" });
  assert.equal(store.actors.get("__proto__")?.machine, "connection");
});

Deno.test("a moderator's polling: lists replace the tree, missing actors end, changes become events", () => {
  const clock = new FakeClock();
  const store = new InspectorStore({ now: () => clock.t });
  store.applyList([
    { id: "server", machine: "server", state: { lifecycle: "running" }, parent: null },
    {
      id: "c1",
      machine: "connection",
      state: "active",
      parent: "server",
      facts: { username: "bob" },
    },
  ]);
  clock.advance(2000);
  store.applyList([
    { id: "server", machine: "server", state: { lifecycle: "shuttingDown" }, parent: null },
    {
      id: "shutdown",
      machine: "shutdown",
      state: "counting",
      parent: "server",
      facts: { remaining: 9 },
    },
  ]);
  assert.equal(store.actors.get("c1")!.status, "stopped");
  assert.equal(store.actors.get("shutdown")!.facts.remaining, 9);
  assert.deepEqual(store.actors.get("server")!.events.map((e) => [e.type, e.value]), [
    ["(state changed)", { lifecycle: "shuttingDown" }],
  ]);
});

Deno.test("the stream feed: auth first, frames to the store, backoff reconnects from a fresh snapshot, 4403 stops", () => {
  const clock = new FakeClock();
  const store = new InspectorStore({ now: () => clock.t });
  const { sockets, create } = socketFactory();
  const statuses: FeedStatus[] = [];
  const feed = new StreamFeed({
    store,
    token: "T0K",
    clock,
    createSocket: create,
    onChange: (s) => statuses.push(s),
  });
  feed.start();
  assert.equal(statuses.at(-1)!.kind, "connecting");
  sockets[0].open();
  assert.deepEqual(sockets[0].sent, [{ type: "auth", token: "T0K" }]);
  for (const f of FRAMES) sockets[0].receive(f);
  assert.equal(feed.status.kind, "live");
  assert.equal(store.actors.size, 6);
  sockets[0].onmessage?.({ data: "not json" }); // ignored

  sockets[0].drop(1006);
  const waiting = feed.status as FeedStatus;
  assert.equal(waiting.kind, "waiting");
  assert.equal(waiting.kind === "waiting" && waiting.ms, 750); // backoffDelay(0, 0.5)
  clock.advance(749);
  assert.equal(sockets.length, 1);
  clock.advance(1);
  assert.equal(sockets.length, 2);
  sockets[1].open();
  sockets[1].receive(FRAMES[0]);
  // The new stream starts from its own snapshot: the old tree is gone.
  assert.deepEqual([...store.actors.keys()], ["server"]);
  assert.equal(feed.status.kind, "live");

  sockets[1].drop(4403, "admin only");
  assert.deepEqual(feed.status, { kind: "refused", message: "Live events need an admin login." });
  clock.advance(60_000);
  assert.equal(sockets.length, 2, "no reconnect after 4403");
  feed.stop();
  assert.equal(clock.pending, 0);
});

Deno.test("the poll feed asks GET /admin/actors every 2 s with the bearer, and stops on 403", async () => {
  const clock = new FakeClock();
  const store = new InspectorStore({ now: () => clock.t });
  const calls: [string, string | null][] = [];
  let status = 200;
  const fetcher = ((url: string, init?: RequestInit) => {
    calls.push([url, new Headers(init?.headers).get("authorization")]);
    return Promise.resolve(
      new Response(
        JSON.stringify({
          actors: [{ id: "server", machine: "server", state: "x", parent: null }],
        }),
        { status },
      ),
    );
  }) as typeof fetch;
  const statuses: FeedStatus[] = [];
  const feed = new PollFeed({
    store,
    token: "M0D",
    clock,
    fetch: fetcher,
    onChange: (s) => statuses.push(s),
  });
  feed.start();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(calls, [["/admin/actors", "Bearer M0D"]]);
  assert.equal(statuses.at(-1)!.kind, "polling");
  assert.equal(store.actors.size, 1);
  status = 403;
  clock.advance(2000);
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(calls.length, 2);
  assert.equal(statuses.at(-1)!.kind, "refused");
  clock.advance(10_000);
  assert.equal(calls.length, 2);
  assert.equal(clock.pending, 0);
});

Deno.test("XState's own event types read as the diagrams say them; the machines' events stay", () => {
  assert.equal(eventWords("xstate.init"), "start");
  assert.equal(eventWords("xstate.stop"), "stop");
  assert.equal(eventWords("xstate.done.actor.0.connection.authenticating"), "done: authenticating");
  assert.equal(
    eventWords("xstate.error.actor.0.connection.authenticating"),
    "error: authenticating",
  );
  assert.equal(eventWords("xstate.done.actor.conn:1"), "done: conn:1");
  assert.equal(
    eventWords("xstate.after.helloTimeout.connection.awaitingHello"),
    "after helloTimeout",
  );
  assert.equal(eventWords("SAY"), "SAY");
  assert.equal(eventWords("xstate.something.new"), "xstate.something.new");
});
