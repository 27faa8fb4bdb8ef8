/**
 * The heartbeat of an instance among several (issue 15, item 4), on a
 * simulated clock and an in-memory cluster table: beats, reaping of silent
 * nodes, an instance that finds itself reaped registers again under a new id,
 * failures are told and tried again, a clean stop unregisters.
 */

import assert from "node:assert/strict";
import { SimulatedClock } from "xstate";
import { createLogger } from "../lib/log.ts";
import type {
  ClusterStore,
  ConversationLatest,
  LiveSessionRecord,
  LiveUserRecord,
  NodeRecord,
  OrderedAppend,
  Reaped,
  UserState,
} from "../store/cluster_store.ts";
import { startNodeLiveness } from "../runtime/node_liveness.ts";
import type { UserSummary } from "../store/store.ts";

/** The cluster tables in memory, on a clock the test moves (the "database clock"). */
class FakeCluster implements ClusterStore {
  now = 1_000_000;
  nodes = new Map<string, NodeRecord>();
  sessions = new Map<string, { node: string; user: number }>();
  beats: Array<[string, number]> = [];
  failNext = 0;

  #maybeFail(): void {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error("database unreachable");
    }
  }

  clusterNow(): Promise<number> {
    return Promise.resolve(this.now);
  }
  registerNode(id: string): Promise<number> {
    this.#maybeFail();
    if (this.nodes.has(id)) return Promise.reject(new Error("duplicate"));
    this.nodes.set(id, { id, startedAt: this.now, beatAt: this.now });
    return Promise.resolve(this.now);
  }
  beatNode(id: string): Promise<boolean> {
    try {
      this.#maybeFail();
    } catch (e) {
      return Promise.reject(e);
    }
    const n = this.nodes.get(id);
    if (!n) return Promise.resolve(false);
    n.beatAt = this.now;
    this.beats.push([id, this.now]);
    return Promise.resolve(true);
  }
  liveNodes(within: number): Promise<NodeRecord[]> {
    return Promise.resolve([...this.nodes.values()].filter((n) => n.beatAt >= this.now - within));
  }
  reapDeadNodes(dead: number): Promise<Reaped> {
    const gone = [...this.nodes.values()].filter((n) => n.beatAt < this.now - dead).map((n) =>
      n.id
    );
    return Promise.resolve(this.#remove(gone));
  }
  unregisterNode(id: string): Promise<Reaped> {
    return Promise.resolve(this.#remove(this.nodes.has(id) ? [id] : []));
  }
  addLiveSession(node: string, session: string, user: number): Promise<boolean> {
    if (!this.nodes.has(node)) return Promise.resolve(false);
    this.sessions.set(`${node}/${session}`, { node, user });
    return Promise.resolve(true);
  }
  removeLiveSession(node: string, session: string): Promise<boolean> {
    return Promise.resolve(this.sessions.delete(`${node}/${session}`));
  }
  countLiveSessions(user: number): Promise<number> {
    return Promise.resolve([...this.sessions.values()].filter((s) => s.user === user).length);
  }
  salonLatestIds(): Promise<Map<number, number>> {
    return Promise.resolve(new Map());
  }
  userStates(): Promise<Map<number, UserState>> {
    return Promise.resolve(new Map());
  }
  recordShutdown(): Promise<void> {
    return Promise.resolve();
  }
  cancelShutdownRecord(): Promise<void> {
    return Promise.resolve();
  }
  shutdownRecord(): Promise<undefined> {
    return Promise.resolve(undefined);
  }
  // -- presence and sessions across instances (not used by the liveness)
  userLiveSessions(): Promise<LiveSessionRecord[]> {
    return Promise.resolve([]);
  }
  usersOverSessionLimit(): Promise<number[]> {
    return Promise.resolve([]);
  }
  liveUsersByNode(): Promise<LiveUserRecord[]> {
    return Promise.resolve([]);
  }
  // -- salon events across instances (not used by the liveness)
  closeJoinRequest(): Promise<boolean> {
    return Promise.resolve(false);
  }
  membershipDigests(): Promise<Map<number, string>> {
    return Promise.resolve(new Map());
  }
  salonMembers(): Promise<UserSummary[]> {
    return Promise.resolve([]);
  }
  #remove(ids: string[]): Reaped {
    const users = new Set<number>();
    for (const [key, s] of this.sessions) {
      if (ids.includes(s.node)) {
        users.add(s.user);
        this.sessions.delete(key);
      }
    }
    for (const id of ids) this.nodes.delete(id);
    const still = new Set([...this.sessions.values()].map((s) => s.user));
    return { nodes: ids, offlineUserIds: [...users].filter((u) => !still.has(u)).sort() };
  }
  // Direct conversations in order (not used by the liveness).
  appendOrdered(): Promise<OrderedAppend> {
    return Promise.reject(new Error("not used by the liveness"));
  }
  conversationBaseline(): Promise<number> {
    return Promise.resolve(0);
  }
  recentConversations(): Promise<ConversationLatest[]> {
    return Promise.resolve([]);
  }
}

/** Lets the promises of the machine's invocations settle. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
}

/** A liveness on a fake cluster and a simulated clock, with its log lines. */
async function setup(extra: { onReaped?: (old: string) => void } = {}) {
  const cluster = new FakeCluster();
  const clock = new SimulatedClock();
  const lines: string[] = [];
  let n = 0;
  const reapedOthers: Reaped[] = [];
  const liveness = await startNodeLiveness({
    cluster,
    beatMs: 2000,
    deadMs: 10_000,
    log: createLogger("debug", (l) => lines.push(l)),
    newId: () => `node-${++n}`,
    clock,
    onReaped: extra.onReaped,
    onReapedOthers: (r) => reapedOthers.push(r),
  });
  /** Moves both clocks by `ms` and lets the beat's promises settle. */
  const advance = async (ms: number) => {
    cluster.now += ms;
    clock.increment(ms);
    await settle();
  };
  return { cluster, clock, lines, liveness, advance, reapedOthers };
}

Deno.test("node liveness: registers at start, then beats every beat delay, not before", async () => {
  const { cluster, liveness, advance } = await setup();
  try {
    assert.equal(liveness.nodeId(), "node-1");
    assert.deepEqual([...cluster.nodes.keys()], ["node-1"]);
    await advance(1999);
    assert.equal(cluster.beats.length, 0);
    await advance(1);
    assert.deepEqual(cluster.beats, [["node-1", 1_002_000]]);
    await advance(2000);
    await advance(2000);
    assert.equal(cluster.beats.length, 3);
  } finally {
    await liveness.stop();
  }
});

Deno.test("node liveness: a node silent for the dead delay is reaped and its users told offline", async () => {
  const { cluster, liveness, advance, reapedOthers, lines } = await setup();
  try {
    await cluster.registerNode("silent");
    await cluster.addLiveSession("silent", "s1", 7);
    await cluster.addLiveSession("silent", "s2", 8);
    await cluster.addLiveSession("node-1", "s3", 8);
    for (let t = 0; t < 10_000; t += 2000) await advance(2000);
    assert.ok(cluster.nodes.has("silent"), "not reaped at exactly the dead delay");
    await advance(2000);
    assert.equal(cluster.nodes.has("silent"), false);
    assert.deepEqual(reapedOthers, [{ nodes: ["silent"], offlineUserIds: [7] }]);
    assert.ok(lines.some((l) => /"event":"node_reaped".*"node":"silent"/.test(l)));
    assert.ok(cluster.nodes.has("node-1"));
  } finally {
    await liveness.stop();
  }
});

Deno.test("node liveness: an instance that finds itself reaped registers again under a new id", async () => {
  const reaped: string[] = [];
  const { cluster, liveness, advance, lines } = await setup({
    onReaped: (old) => reaped.push(old),
  });
  try {
    await advance(2000);
    // Another instance reaped this one (it stalled): its row is gone.
    await cluster.unregisterNode("node-1");
    await advance(2000);
    assert.deepEqual(reaped, ["node-1"], "the hook to close its sockets is called");
    assert.equal(liveness.nodeId(), "node-2");
    assert.deepEqual([...cluster.nodes.keys()], ["node-2"]);
    assert.ok(lines.some((l) => /"event":"node_reaped_self".*"node":"node-1"/.test(l)));
    await advance(2000);
    assert.deepEqual(cluster.beats.at(-1)?.[0], "node-2", "beats go on under the new id");
  } finally {
    await liveness.stop();
  }
});

Deno.test("node liveness: a failed beat is logged and tried again at the next beat, never fatal", async () => {
  const { cluster, liveness, advance, lines } = await setup();
  try {
    cluster.failNext = 1;
    await advance(2000);
    assert.equal(cluster.beats.length, 0);
    assert.ok(lines.some((l) => /"event":"node_beat_failed"/.test(l)));
    await advance(2000);
    assert.equal(cluster.beats.length, 1, "the next beat goes through");
    // Reaped twice in a row: a new id each time.
    await cluster.unregisterNode("node-1");
    await advance(2000);
    assert.equal(liveness.nodeId(), "node-2");
    await cluster.unregisterNode("node-2");
    await advance(2000); // finds itself reaped
    assert.equal(liveness.nodeId(), "node-3");
  } finally {
    await liveness.stop();
  }
});

Deno.test("node liveness: a database down for several beats is one warning, then one line when it works again", async () => {
  const { cluster, liveness, advance, lines } = await setup();
  try {
    const count = (event: string) => lines.filter((l) => l.includes(`"event":"${event}"`)).length;
    cluster.failNext = 1_000;
    for (let i = 0; i < 5; i++) await advance(2000);
    assert.equal(cluster.beats.length, 0);
    assert.equal(count("node_beat_failed"), 1, lines.join("\n"));
    cluster.failNext = 0;
    await advance(2000);
    assert.equal(cluster.beats.length, 1);
    assert.equal(count("node_beat_recovered"), 1, lines.join("\n"));
    await advance(2000);
    assert.equal(count("node_beat_recovered"), 1, "told once");
    // A new outage is told again.
    cluster.failNext = 1;
    await advance(2000);
    assert.equal(count("node_beat_failed"), 2);
  } finally {
    await liveness.stop();
  }
});

Deno.test("node liveness: a registration refused at the next try is retried a beat later", async () => {
  const { cluster, liveness, advance, lines } = await setup();
  try {
    await cluster.unregisterNode("node-1");
    cluster.failNext = 0;
    // The beat finds the node gone; make the registration that follows fail once.
    const beat = cluster.beatNode.bind(cluster);
    cluster.beatNode = async (id) => {
      const r = await beat(id);
      if (!r) cluster.failNext = 1;
      return r;
    };
    await advance(2000);
    assert.ok(lines.some((l) => /"event":"node_register_failed"/.test(l)));
    assert.equal(cluster.nodes.size, 0);
    await advance(2000);
    assert.equal(cluster.nodes.size, 1, "registered at the retry");
    assert.equal(liveness.nodeId(), "node-3", "the failed attempt's id is not reused");
  } finally {
    await liveness.stop();
  }
});

Deno.test("node liveness: a clean stop unregisters at once; a halt leaves the node to be reaped", async () => {
  const a = await setup();
  await a.advance(2000);
  await a.liveness.stop({ unregister: true });
  assert.equal(a.cluster.nodes.size, 0);
  await a.advance(4000);
  assert.equal(a.cluster.beats.length, 1, "no beat after the stop");

  const b = await setup();
  await b.liveness.stop();
  await b.advance(4000);
  assert.deepEqual([...b.cluster.nodes.keys()], ["node-1"], "left for the others to reap");
  assert.equal(b.cluster.beats.length, 0);
});
