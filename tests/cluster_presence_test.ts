/**
 * Presence and sessions across instances (issue 15, items 2, 4 and the
 * failure test's "shown offline within the dead-node delay"), over real
 * sockets on instances sharing one fresh MariaDB database and one Redis:
 * `presence`, `watch`, `salon_stats`, welcome counts, `who` and the admin's
 * user list count a user online on another instance; the session limit
 * replaces the oldest session on another instance; a SIGKILLed instance's
 * users go offline; an instance that finds itself reaped closes its sockets;
 * a lost publication is recovered from `live_sessions`. Needs
 * `CAUSERIE_TEST_MYSQL_URL` and `CAUSERIE_TEST_BUS_URL`; the payload decoder's
 * tests need neither.
 */

import assert from "node:assert/strict";
import { eventually } from "./bus_fixture.ts";
import {
  type Cluster,
  clusterTest,
  startCluster,
  TEST_BEAT_MS,
  TEST_DEAD_MS,
} from "./cluster_fixture.ts";
import { adminRows, adminRun } from "./mysql_fixture.ts";
import { type Frame, registerHttp, TestClient } from "./ws_client.ts";
import { closeAll, connect, member } from "./cluster_clients.ts";
import { decodePresencePayload } from "../runtime/cluster_presence.ts";
import type { Moderator } from "../runtime/moderation_types.ts";

const GENERAL = "Général";

/** Budgets wide enough for the tests' logins. */
const ENV = {
  CAUSERIE_REGISTER_PER_ADDRESS_PER_HOUR: "0",
  CAUSERIE_REGISTER_PER_MINUTE: "0",
};

/** The statuses of `username` in the `presence` frames a client received, in order. */
function statuses(client: TestClient, username: string): string[] {
  return client.frames.filter((f: Frame) => f.type === "presence" && f.ref === undefined)
    .flatMap((f) => f.changes.filter((c: Frame) => c.username === username))
    .map((c) => c.status);
}

/** Waits until the last status of `username` a client saw is `status`. */
async function sees(
  client: TestClient,
  username: string,
  status: "online" | "offline",
  ms = 10_000,
): Promise<void> {
  await eventually(
    () => statuses(client, username).at(-1) === status,
    ms,
    `${username} ${status} (saw ${JSON.stringify(statuses(client, username))})`,
  );
}

/** The `live_sessions` rows of a user, as `node_id`. */
async function liveRows(cluster: Cluster, username: string): Promise<string[]> {
  const rows = await adminRows(
    cluster.db.name,
    "SELECT s.node_id FROM live_sessions s JOIN users u ON u.id = s.user_id WHERE u.username = ?",
    [username],
  );
  return rows.map((r) => String(r.node_id));
}

const ADMIN: Moderator = { username: "server", userId: null, role: "admin", via: "signal" };

clusterTest(
  "cluster presence: alice on A sees bob (on B) come and go; watch, who, counts, admin list",
  async () => {
    const cluster = await startCluster({ inProcess: 2, env: ENV });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      const alice = await member(a, "alice");
      clients.push(alice);
      const bob = await member(b, "bob");
      clients.push(bob);
      await sees(alice, "bob", "online");
      assert.deepEqual(await liveRows(cluster, "bob"), [b.nodeId()], "bob's session is a row");
      // `watch` on A answers bob's status from B.
      await registerHttp(a.url, "carol", "CAROL", "carol long password");
      const carol = await connect(a, "carol");
      clients.push(carol);
      const watched = await carol.request({ type: "watch", users: ["bob"] });
      assert.deepEqual(watched.changes, [{ username: "bob", status: "online" }]);
      // The welcome's online count and `who` on A count bob.
      const welcome = carol.frames.find((f) => f.type === "welcome")!;
      const general = welcome.salons.find((s: Frame) => s.name === GENERAL);
      assert.equal(general.online, 3, "alice, bob (on B) and carol");
      const who = await alice.request({ type: "who", salon: GENERAL, status: "online" });
      assert.deepEqual(who.users.map((u: Frame) => u.username), ["alice", "bob", "carol"]);
      assert.equal(who.online, 3);
      // `salon_stats` on B counts alice and carol (on A).
      await eventually(
        () =>
          bob.frames.some((f) => f.type === "salon_stats" && f.salon === GENERAL && f.online === 3),
        15_000,
        "salon_stats online 3 on B",
      );
      // The admin's list on A (GET /admin/users) shows bob online.
      const listed = await a.server!.hub.moderation.users(ADMIN, { status: "online" });
      assert.deepEqual(listed.map((u) => u.username).sort(), ["alice", "bob", "carol"]);
      // Bob's second session on A, then his session on B ends: he stays online.
      const bob2 = await connect(a, "bob");
      clients.push(bob2);
      await bob.close();
      await eventually(async () => (await liveRows(cluster, "bob")).length === 1, 5_000, "row");
      // A marker: eve comes online on B after bob's session there ended; B's publications reach
      // A in order, so a wrong `offline` of bob would come no later than eve's `online`.
      const eve = await member(b, "eve");
      clients.push(eve);
      await sees(alice, "eve", "online");
      await sees(carol, "eve", "online");
      assert.equal(statuses(alice, "bob").at(-1), "online", "online while a session remains");
      assert.equal(statuses(carol, "bob").includes("offline"), false);
      // His last session anywhere ends: offline on both.
      await bob2.close();
      await sees(alice, "bob", "offline");
      await sees(carol, "bob", "offline");
      assert.deepEqual(await liveRows(cluster, "bob"), []);
      // The watcher's change came once per status change (no duplicate online).
      assert.deepEqual(statuses(carol, "bob"), ["offline"]);
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest(
  "cluster presence: the session limit replaces the oldest session on the other instance",
  async () => {
    const cluster = await startCluster({
      inProcess: 2,
      env: { ...ENV, CAUSERIE_MAX_SESSIONS: "2" },
    });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      const first = await member(a, "dan");
      clients.push(first);
      await eventually(async () => (await liveRows(cluster, "dan")).length === 1, 5_000, "row 1");
      const second = await connect(b, "dan");
      clients.push(second);
      await eventually(async () => (await liveRows(cluster, "dan")).length === 2, 5_000, "row 2");
      const third = await connect(b, "dan");
      clients.push(third);
      const closed = await first.waitClosed();
      assert.equal(closed.code, 4409, "the oldest (on A) is replaced, as in one process");
      assert.equal(second.isOpen, true);
      assert.equal(third.isOpen, true);
      await eventually(
        async () =>
          (await liveRows(cluster, "dan")).sort().join() === [b.nodeId(), b.nodeId()].join(),
        5_000,
        "two rows left, both on B",
      );
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest(
  "cluster presence: a lost session-limit order is recovered by the owner's periodic check",
  async () => {
    // B never publishes its orders: A finds dan over the limit in live_sessions by itself.
    const cluster = await startCluster({
      inProcess: 2,
      env: { ...ENV, CAUSERIE_MAX_SESSIONS: "1" },
      dropPresencePublishesOn: [1],
    });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      const first = await member(a, "dan");
      clients.push(first);
      await eventually(async () => (await liveRows(cluster, "dan")).length === 1, 5_000, "row 1");
      const second = await connect(b, "dan");
      clients.push(second);
      const closed = await first.waitClosed();
      assert.equal(closed.code, 4409);
      assert.equal(second.isOpen, true);
      await eventually(
        async () => (await liveRows(cluster, "dan")).join() === b.nodeId(),
        5_000,
        "one row left, on B",
      );
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest(
  "cluster presence: a lost presence publication is recovered from live_sessions",
  async () => {
    // B publishes no presence change: A learns of bob from the periodic rebuild only.
    const cluster = await startCluster({ inProcess: 2, env: ENV, dropPresencePublishesOn: [1] });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      const alice = await member(a, "alice");
      clients.push(alice);
      const bob = await member(b, "bob");
      clients.push(bob);
      await sees(alice, "bob", "online");
      await bob.close();
      await sees(alice, "bob", "offline");
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest(
  "cluster presence: an instance that finds itself reaped closes its sockets (1001)",
  async () => {
    const cluster = await startCluster({ inProcess: 2, env: ENV });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      const alice = await member(a, "alice");
      clients.push(alice);
      const bob = await member(b, "bob");
      clients.push(bob);
      await sees(alice, "bob", "online");
      const old = b.nodeId();
      // B is cut off: its row is gone (as if another instance reaped it).
      await adminRun(cluster.db.name, "DELETE FROM nodes WHERE id = ?", [old]);
      const closed = await bob.waitClosed(5_000);
      assert.equal(closed.code, 1001, "clients reconnect");
      await eventually(() => b.nodeId() !== old, 5_000, "B registered under a new id");
      // Bob comes back on B: his session is a row under the new id, and alice sees him.
      const back = await connect(b, "bob");
      clients.push(back);
      await eventually(
        async () => (await liveRows(cluster, "bob")).join() === b.nodeId(),
        5_000,
        "bob's row under B's new id",
      );
      await sees(alice, "bob", "online");
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest(
  "cluster presence: a SIGKILLed instance's users are shown offline within the dead-node delay",
  async () => {
    const cluster = await startCluster({ inProcess: 1, processes: 1, env: ENV });
    const clients: TestClient[] = [];
    try {
      const [a, c] = cluster.instances;
      const alice = await member(a, "alice");
      clients.push(alice);
      const bob = await member(c, "bob");
      clients.push(bob);
      await sees(alice, "bob", "online");
      const dead = c.nodeId();
      await c.kill();
      const killedAt = Date.now();
      // The dead-node delay, a beat to notice, a presence window (1 s), and slack for 2 cores.
      await sees(alice, "bob", "offline", TEST_DEAD_MS + TEST_BEAT_MS + 1000 + 2000);
      const took = Date.now() - killedAt;
      assert.ok(took < TEST_DEAD_MS + TEST_BEAT_MS + 3000, `offline after ${took} ms`);
      // The rebuild counts only nodes that beat within the delay, so the offline presence may
      // come a little before the reaping; the reaping follows within a beat or so.
      await eventually(
        async () => (await liveRows(cluster, "bob")).length === 0,
        2_000,
        "the dead node's rows are gone",
      );
      const nodes = await cluster.nodes();
      assert.equal(nodes.some((n) => n.id === dead), false, "the dead node is reaped");
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

Deno.test("cluster presence payloads: well-formed ones decode", () => {
  assert.deepEqual(decodePresencePayload({ o: "x", node: "n1", u: 7, name: "bob", on: true }), {
    kind: "presence",
    node: "n1",
    userId: 7,
    username: "bob",
    online: true,
  });
  assert.deepEqual(decodePresencePayload({ dead: ["n1", "n2"] }), {
    kind: "dead",
    nodes: ["n1", "n2"],
  });
  assert.deepEqual(decodePresencePayload({ replace: [["n1", "conn:3"]] }), {
    kind: "replace",
    sessions: [{ node: "n1", session: "conn:3" }],
  });
});

Deno.test("cluster presence payloads: hostile ones are refused", () => {
  const long = "x".repeat(65);
  const bad: Record<string, unknown>[] = [
    {},
    { node: "n1", u: 7, name: "bob" }, // no status
    { node: "n1", u: 7, name: "bob", on: "yes" },
    { node: "n1", u: 0, name: "bob", on: true },
    { node: "n1", u: -3, name: "bob", on: true },
    { node: "n1", u: 1.5, name: "bob", on: true },
    { node: "n1", u: "7", name: "bob", on: true },
    { node: "n1", u: 2 ** 60, name: "bob", on: true },
    { node: "", u: 7, name: "bob", on: true },
    { node: long, u: 7, name: "bob", on: true },
    { node: 3, u: 7, name: "bob", on: true },
    { node: "n1", u: 7, name: "", on: true },
    { node: "n1", u: 7, name: "b".repeat(33), on: true },
    { node: "n1", u: 7, name: null, on: true },
    { dead: [] },
    { dead: "n1" },
    { dead: [1] },
    { dead: [long] },
    { dead: Array.from({ length: 1001 }, (_, i) => `n${i}`) },
    { replace: [] },
    { replace: [["n1"]] },
    { replace: [["n1", "s", "x"]] },
    { replace: [["n1", 3]] },
    { replace: [{ node: "n1", session: "s" }] },
    { replace: "n1" },
    { replace: [null] },
  ];
  for (const body of bad) {
    assert.equal(decodePresencePayload(body), undefined, JSON.stringify(body).slice(0, 80));
  }
});
