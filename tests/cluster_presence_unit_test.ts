/**
 * runtime/cluster_presence.ts on memory buses and an in-memory cluster
 * store (issue 15), with the periodic check run by hand (no timer fires):
 * a session the server no longer holds leaves no ghost row; a failed write is
 * logged once and written again at the next check; what the bus said while a
 * rebuild read wins over the stale read; a reaper's `dead` publication drops
 * the node's users everywhere; after the bus comes back, MySQL is read; a
 * malformed payload is ignored and the channel keeps working.
 */

import assert from "node:assert/strict";
import { MemoryBroker, MemoryBus } from "../bus/memory_bus.ts";
import type { LogFields, Logger } from "../lib/log.ts";
import type { ClusterStore, LiveSessionRecord, LiveUserRecord } from "../store/cluster_store.ts";
import { clusterLink } from "../runtime/cluster_channel.ts";
import {
  type ClusterPresence,
  PRESENCE_CHANNEL,
  type PresenceSession,
  startClusterPresence,
} from "../runtime/cluster_presence.ts";

/** The rows of `live_sessions` in memory; every node is alive. */
class FakeLiveSessions {
  rows: Array<{ node: string; session: string; user: number; name: string; since: number }> = [];
  names = new Map<number, string>();
  /** The next writes throw. */
  down = false;
  /** A read in flight waits for this (a rebuild reading while the bus speaks). */
  hold?: Promise<void>;
  #since = 0;

  /** The methods cluster presence uses (others added to the interface later are not needed). */
  store(): ClusterStore {
    const used: Pick<
      ClusterStore,
      | "addLiveSession"
      | "removeLiveSession"
      | "userLiveSessions"
      | "usersOverSessionLimit"
      | "liveUsersByNode"
    > = {
      addLiveSession: (node, session, user) => {
        if (this.down) return Promise.reject(new Error("database down"));
        this.rows.push({ node, session, user, name: this.names.get(user)!, since: ++this.#since });
        return Promise.resolve(true);
      },
      removeLiveSession: (node, session) => {
        if (this.down) return Promise.reject(new Error("database down"));
        const before = this.rows.length;
        this.rows = this.rows.filter((r) => !(r.node === node && r.session === session));
        return Promise.resolve(this.rows.length < before);
      },
      userLiveSessions: (user): Promise<LiveSessionRecord[]> =>
        Promise.resolve(
          this.rows.filter((r) => r.user === user).map((r) => ({
            nodeId: r.node,
            sessionId: r.session,
            since: r.since,
          })),
        ),
      usersOverSessionLimit: () => Promise.resolve([]),
      liveUsersByNode: async (): Promise<LiveUserRecord[]> => {
        if (this.down) throw new Error("database down");
        const rows = this.rows.map((r) => ({ nodeId: r.node, userId: r.user, username: r.name }));
        await this.hold;
        return rows;
      },
    };
    return used as ClusterStore;
  }
}

/** A logger that keeps the `event` of each line. */
function recordingLogger(): Logger & { events: string[] } {
  const events: string[] = [];
  const keep = (_: string, fields?: LogFields) => {
    events.push(String(fields?.event ?? "log"));
  };
  return { events, debug: keep, info: keep, warn: keep, error: keep };
}

/** What the hub heard from one instance's presence. */
interface Heard {
  changes: string[];
  replaced: string[];
  held: Set<string>;
}

interface Node {
  presence: ClusterPresence;
  heard: Heard;
  bus: MemoryBus;
  log: Logger & { events: string[] };
}

async function node(
  broker: MemoryBroker,
  rows: FakeLiveSessions,
  id: string,
): Promise<Node> {
  const bus = new MemoryBus(broker, "db");
  const heard: Heard = { changes: [], replaced: [], held: new Set() };
  const log = recordingLogger();
  const presence = await startClusterPresence({
    link: clusterLink(bus),
    cluster: rows.store(),
    nodeId: () => id,
    aliveMs: 10_000,
    checkMs: 3_600_000, // never by the timer: the tests run each check
    maxSessions: 5,
    log,
    targets: {
      elsewhere: (_userId, username, online) =>
        heard.changes.push(`${username}:${online ? "online" : "offline"}`),
      replace: (sessionId) => heard.replaced.push(sessionId),
      holds: (_userId, sessionId) => heard.held.has(sessionId),
    },
  });
  return { presence, heard, bus, log };
}

/** Lets queued microtasks and promise chains run (the memory bus delivers in a microtask). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
  await new Promise((r) => setTimeout(r, 0));
}

function session(id: string, userId: number, username: string): PresenceSession {
  return { id, user: { id: userId, username } };
}

async function withNodes(
  fn: (a: Node, b: Node, rows: FakeLiveSessions, broker: MemoryBroker) => Promise<void>,
): Promise<void> {
  const broker = new MemoryBroker();
  const rows = new FakeLiveSessions();
  rows.names.set(1, "ann").set(2, "bob");
  const a = await node(broker, rows, "A");
  const b = await node(broker, rows, "B");
  try {
    await fn(a, b, rows, broker);
  } finally {
    await a.presence.stop();
    await b.presence.stop();
    await a.bus.close();
    await b.bus.close();
  }
}

Deno.test("cluster presence: first and last session on a node are told to the others", async () => {
  await withNodes(async (a, b, rows) => {
    const s1 = session("conn:1", 2, "bob");
    const s2 = session("conn:2", 2, "bob");
    b.presence.sessionUp(s1);
    b.presence.sessionUp(s2);
    await settle();
    assert.deepEqual(a.heard.changes, ["bob:online"]);
    assert.deepEqual(b.heard.changes, [], "a node never tells itself");
    assert.equal(rows.rows.length, 2);
    b.presence.sessionDown(s1);
    await settle();
    assert.deepEqual(a.heard.changes, ["bob:online"], "one session left on B");
    b.presence.sessionDown(s2);
    await settle();
    assert.deepEqual(a.heard.changes, ["bob:online", "bob:offline"]);
    assert.equal(rows.rows.length, 0);
  });
});

Deno.test("cluster presence: a session the server no longer holds leaves no ghost", async () => {
  await withNodes(async (a, b, rows) => {
    const s = session("conn:1", 2, "bob");
    b.heard.held.add(s.id);
    b.presence.sessionUp(s);
    await settle();
    assert.deepEqual(a.heard.changes, ["bob:online"]);
    // The server forgot it without a SESSION_DOWN reaching presence (a failed actor).
    b.heard.held.delete(s.id);
    await b.presence.check();
    await settle();
    assert.equal(rows.rows.length, 1, "one check may race the registration: kept");
    await b.presence.check();
    await settle();
    assert.equal(rows.rows.length, 0, "missing twice: removed");
    assert.deepEqual(a.heard.changes, ["bob:online", "bob:offline"]);
  });
});

Deno.test("cluster presence: a failed write is logged once and written again at the next check", async () => {
  await withNodes(async (a, b, rows) => {
    rows.down = true;
    const s1 = session("conn:1", 2, "bob");
    const s2 = session("conn:2", 1, "ann");
    b.heard.held.add(s1.id).add(s2.id);
    b.presence.sessionUp(s1);
    b.presence.sessionUp(s2);
    await settle();
    assert.deepEqual(
      b.log.events.filter((e) => e === "live_sessions_failed"),
      ["live_sessions_failed"],
      "told once per outage",
    );
    assert.equal(rows.rows.length, 0);
    rows.down = false;
    await b.presence.check();
    await settle();
    assert.deepEqual(rows.rows.map((r) => r.session).sort(), ["conn:1", "conn:2"]);
    assert.ok(b.log.events.includes("live_sessions_recovered"));
    // A's rebuild now finds them in MySQL too.
    await a.presence.rebuild();
    assert.deepEqual(a.heard.changes.sort(), ["ann:online", "bob:online"]);
  });
});

Deno.test("cluster presence: the rebuild applies MySQL's truth; the bus wins over a stale read", async () => {
  await withNodes(async (a, _b, rows) => {
    // A row written by a node whose publication was lost: the rebuild finds it.
    rows.rows.push({ node: "C", session: "conn:9", user: 2, name: "bob", since: 1 });
    await a.presence.rebuild();
    assert.deepEqual(a.heard.changes, ["bob:online"]);
    // Gone from MySQL (its publication lost too): the rebuild says offline.
    rows.rows = [];
    await a.presence.rebuild();
    assert.deepEqual(a.heard.changes, ["bob:online", "bob:offline"]);
    // A read that started before ann came online on C, finishing after C said so on the bus.
    let release!: () => void;
    rows.hold = new Promise((r) => release = r);
    const rebuilding = a.presence.rebuild();
    await publishAs(a, { node: "C", u: 1, name: "ann", on: true });
    release();
    await rebuilding;
    rows.hold = undefined;
    assert.deepEqual(a.heard.changes, ["bob:online", "bob:offline", "ann:online"], "kept");
  });
});

Deno.test("cluster presence: a reaper's `dead` drops the node's users everywhere", async () => {
  await withNodes(async (a, b) => {
    await publishAs(a, { node: "C", u: 2, name: "bob", on: true });
    await publishAs(a, { node: "C", u: 1, name: "ann", on: true });
    assert.deepEqual(a.heard.changes, ["bob:online", "ann:online"]);
    assert.deepEqual(b.heard.changes, ["bob:online", "ann:online"]);
    b.presence.reapedOthers(["C"]);
    await settle();
    assert.deepEqual(b.heard.changes.slice(2).sort(), ["ann:offline", "bob:offline"]);
    assert.deepEqual(a.heard.changes.slice(2).sort(), ["ann:offline", "bob:offline"]);
  });
});

Deno.test("cluster presence: a malformed payload is ignored; the channel goes on", async () => {
  await withNodes(async (a, _b, _rows, broker) => {
    const other = new MemoryBus(broker, "db");
    try {
      for (const payload of ["not json", "[]", "null", '{"node":"C","u":-1,"name":"x","on":1}']) {
        await other.publish(PRESENCE_CHANNEL, payload);
      }
      await other.publish(
        PRESENCE_CHANNEL,
        JSON.stringify({ o: "elsewhere", node: "C", u: 2, name: "bob", on: true }),
      );
      await settle();
      assert.deepEqual(a.heard.changes, ["bob:online"]);
      assert.ok(a.log.events.includes("bus_malformed"));
    } finally {
      await other.close();
    }
  });
});

/** Publishes `body` on the presence channel as another instance would, and lets it arrive. */
async function publishAs(n: Node, body: Record<string, unknown>): Promise<void> {
  await n.bus.publish(PRESENCE_CHANNEL, JSON.stringify({ o: "another-process", ...body }));
  await settle();
}

Deno.test("cluster presence: after the bus comes back (resubscribed), MySQL's truth is read", async () => {
  await withNodes(async (a, _b, rows, broker) => {
    broker.down();
    // Meanwhile bob came online on C: its publication was lost with the bus.
    rows.rows.push({ node: "C", session: "conn:9", user: 2, name: "bob", since: 1 });
    broker.restart();
    await settle();
    assert.deepEqual(a.heard.changes, ["bob:online"]);
  });
});
