/**
 * Salon messages across instances (issue 15, items 2, 3 and the failure test
 * of item 5), over real sockets on 2-3 instances sharing one fresh MariaDB
 * database and one Redis: every reader sees the same gap-free increasing id
 * run, a member who joins on one instance receives another's messages, and
 * nothing acknowledged is lost when an instance is SIGKILLed mid-stream,
 * acknowledges messages it never publishes, or when Redis restarts. Needs
 * `CAUSERIE_TEST_MYSQL_URL` and `CAUSERIE_TEST_BUS_URL`.
 */

import assert from "node:assert/strict";
import { eventually, privateRedis } from "./bus_fixture.ts";
import {
  type Cluster,
  clusterTest,
  startCluster,
  TEST_BEAT_MS,
  TEST_DEAD_MS,
} from "./cluster_fixture.ts";
import { adminRows } from "./mysql_fixture.ts";
import { type Frame, TestClient, WAIT_MS } from "./ws_client.ts";
import { closeAll, member } from "./cluster_clients.ts";

const GENERAL = "Général";
const BLABLA = "Blabla";

/** Budgets wide enough for writers that never wait for their `ok`. */
const ENV = {
  CAUSERIE_RATE_PER_SECOND: "5000",
  CAUSERIE_RATE_BURST: "5000",
  CAUSERIE_REQUEST_BURST: "5000",
  CAUSERIE_REQUEST_PER_SECOND: "5000",
  CAUSERIE_REGISTER_PER_ADDRESS_PER_HOUR: "0",
  CAUSERIE_REGISTER_PER_MINUTE: "0",
};

/** The ids of the `message` frames of `salon` a client received, in order. */
function seen(client: TestClient, salon: string): number[] {
  return client.frames.filter((f) => f.type === "message" && f.salon === salon).map((f) => f.id);
}

/** The ids its `ok` frames acknowledged (a `say` was stored under each). */
function acknowledged(client: TestClient): number[] {
  return client.frames.filter((f: Frame) => f.type === "ok" && typeof f.id === "number")
    .map((f) => f.id);
}

/** 1..n. */
function run(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

/** The ids MySQL holds for `salon`, ascending. */
async function stored(cluster: Cluster, salon: string): Promise<number[]> {
  const rows = await adminRows(
    cluster.db.name,
    "SELECT m.id FROM messages m JOIN salons s ON s.id = m.salon_id WHERE s.name = ? ORDER BY m.id",
    [salon],
  );
  return rows.map((r) => Number(r.id));
}

/** Sends `count` `say` frames, `pauseMs` apart, without waiting for the answers. */
async function write(c: TestClient, salon: string, count: number, pauseMs: number): Promise<void> {
  for (let i = 0; i < count && c.isOpen; i++) {
    c.send({ type: "say", salon, text: `${i}`, ref: c.ref("say") });
    await new Promise((r) => setTimeout(r, pauseMs));
  }
}

/** Waits until every reader saw exactly 1..n of `salon` (what MySQL holds), then asserts it. */
async function allSawRun(readers: TestClient[], salon: string, n: number): Promise<void> {
  for (const r of readers) {
    await eventually(() => seen(r, salon).length >= n, 15_000, `a reader saw ${n} messages`)
      .catch(() => {
        throw new Error(`reader saw ${JSON.stringify(seen(r, salon))}, MySQL holds 1..${n}`);
      });
    assert.deepEqual(seen(r, salon), run(n), "in increasing id order, no gap, no duplicate");
  }
}

clusterTest("cluster salon: users on three instances chat; every reader sees 1..n", async () => {
  const cluster = await startCluster({ inProcess: 3, env: ENV });
  const clients: TestClient[] = [];
  try {
    const [a, b, c] = cluster.instances;
    clients.push(await member(a, "ann"), await member(b, "bob"), await member(c, "cat"));
    await Promise.all(clients.map((cl) => write(cl, GENERAL, 30, 1)));
    const n = 90;
    await eventually(async () => (await stored(cluster, GENERAL)).length === n, 10_000, "stored");
    await allSawRun(clients, GENERAL, n);
    // The same message under each id for everyone (the text and the author).
    const texts = (cl: TestClient) =>
      cl.frames.filter((f) => f.type === "message").map((f) => `${f.from.username}:${f.text}`);
    assert.deepEqual(texts(clients[1]), texts(clients[0]));
    assert.deepEqual(texts(clients[2]), texts(clients[0]));
    for (const cl of clients) {
      const mine = acknowledged(cl);
      assert.equal(mine.length, 30, "every say acknowledged");
    }
  } finally {
    await closeAll(clients);
    await cluster.dispose();
  }
});

clusterTest(
  "cluster salon: a member who joins Blabla on B receives what A's members say there",
  async () => {
    const cluster = await startCluster({ inProcess: 2, env: ENV });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      const ann = await member(a, "ann");
      const bob = await member(b, "bob");
      clients.push(ann, bob);
      assert.equal((await ann.request({ type: "join", salon: BLABLA })).type, "joined");
      assert.equal((await bob.request({ type: "join", salon: BLABLA })).type, "joined");
      // A's replica of Blabla learns of bob: ann hears of him, as on one instance.
      const announced = await ann.next((f) => f.type === "member_joined", WAIT_MS, "member_joined");
      assert.deepEqual(announced.user, { username: "bob", alias: "BOB" });
      const ok = await ann.request({ type: "say", salon: BLABLA, text: "salut" });
      assert.equal(ok.type, "ok");
      const got = await bob.next((f) => f.type === "message", WAIT_MS, "ann's message on B");
      assert.equal(got.salon, BLABLA);
      assert.equal(got.id, ok.id);
      assert.equal(got.text, "salut");
      assert.deepEqual(got.from, { username: "ann", alias: "ANN" });
      // And the other way: B's member speaks, A's reader gets it.
      const ok2 = await bob.request({ type: "say", salon: BLABLA, text: "coucou" });
      const got2 = await ann.next((f) => f.type === "message" && f.id === ok2.id, WAIT_MS, "bob's");
      assert.equal(got2.text, "coucou");
      // A leave on B is applied by A's replica: bob is no longer listed there.
      assert.equal((await bob.request({ type: "leave", salon: BLABLA })).type, "left");
      await eventually(
        async () => {
          const who = await ann.request({ type: "who", salon: BLABLA });
          return !JSON.stringify(who).includes('"bob"');
        },
        5000,
        "bob is gone from A's replica",
      );
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest(
  "cluster salon failure: an instance SIGKILLed mid-stream loses nothing it acknowledged; its users go offline within the dead-node delay",
  async () => {
    const cluster = await startCluster({ inProcess: 2, processes: 1, env: ENV });
    const clients: TestClient[] = [];
    try {
      const [a, b, c] = cluster.instances;
      const readers = [await member(a, "reada"), await member(b, "readb")];
      const writers = [await member(a, "ann"), await member(b, "bob"), await member(c, "cat")];
      clients.push(...readers, ...writers);
      const writing = writers.map((w) => write(w, GENERAL, 60, 3));
      await eventually(() => acknowledged(writers[2]).length >= 10, 10_000, "C acknowledged some");
      await c.kill();
      const killedAt = Date.now();
      // The dead instance's writer is shown offline on the others within the dead-node delay (a
      // beat to notice, the one-second presence window, and slack for 2 cores).
      const offlineWithin = TEST_DEAD_MS + TEST_BEAT_MS + 1000 + 2000;
      const catOffline = readers.map((r) =>
        r.next(
          (f) =>
            f.type === "presence" &&
            f.changes.some((ch: Frame) => ch.username === "cat" && ch.status === "offline"),
          offlineWithin,
          "cat offline",
        ).then(() => Date.now() - killedAt)
      );
      await Promise.all(writing);
      await eventually(
        () => acknowledged(writers[0]).length === 60 && acknowledged(writers[1]).length === 60,
        10_000,
        "A and B acknowledged every say",
      );
      const inMysql = await stored(cluster, GENERAL);
      for (const id of writers.flatMap(acknowledged)) {
        assert.ok(inMysql.includes(id), `acknowledged ${id} is in MySQL`);
      }
      assert.deepEqual(inMysql, run(inMysql.length));
      await allSawRun(readers, GENERAL, inMysql.length);
      for (const took of await Promise.all(catOffline)) {
        assert.ok(took < offlineWithin, `cat shown offline ${took} ms after the kill`);
      }
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest(
  "cluster salon failure: messages acknowledged but never published reach every reader",
  async () => {
    const cluster = await startCluster({ inProcess: 3, env: ENV, dropPublishesOn: [0] });
    const clients: TestClient[] = [];
    try {
      const [a, b, c] = cluster.instances;
      const readers = [await member(b, "readb"), await member(c, "readc")];
      const writers = [await member(a, "ann"), await member(b, "bob"), await member(c, "cat")];
      clients.push(...readers, ...writers);
      await Promise.all(writers.map((w) => write(w, GENERAL, 40, 2)));
      // Every one of those committed first, so that the last messages come from the silent instance
      // only: the periodic check finds them.
      await eventually(
        () => writers.every((w) => acknowledged(w).length === 40),
        10_000,
        "the first 120 acknowledged",
      );
      await write(writers[0], GENERAL, 5, 1);
      await eventually(
        () => writers.every((w, i) => acknowledged(w).length === (i === 0 ? 45 : 40)),
        10_000,
        "every say acknowledged",
      );
      const inMysql = await stored(cluster, GENERAL);
      assert.deepEqual(inMysql, run(125));
      const silent = acknowledged(writers[0]);
      assert.ok(silent.includes(125), "the last id is one never published");
      await allSawRun(readers, GENERAL, 125);
      // The silent instance's own members see the same run.
      await allSawRun([writers[0]], GENERAL, 125);
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest("cluster salon failure: Redis restarted mid-stream, readers catch up", async () => {
  const redis = await privateRedis();
  const cluster = await startCluster({ inProcess: 2, bus: redis.url, env: ENV });
  const clients: TestClient[] = [];
  try {
    const [a, b] = cluster.instances;
    const readers = [await member(a, "reada"), await member(b, "readb")];
    const writers = [await member(a, "ann"), await member(b, "bob")];
    clients.push(...readers, ...writers);
    const writing = writers.map((w) => write(w, GENERAL, 80, 5));
    await eventually(() => acknowledged(writers[0]).length >= 15, 10_000, "some acknowledged");
    await redis.stop();
    await eventually(() => acknowledged(writers[0]).length >= 40, 10_000, "acknowledged, bus down");
    await redis.start();
    await Promise.all(writing);
    await eventually(
      () => writers.every((w) => acknowledged(w).length === 80),
      10_000,
      "every say acknowledged",
    );
    assert.deepEqual(await stored(cluster, GENERAL), run(160));
    await allSawRun(readers, GENERAL, 160);
  } finally {
    await closeAll(clients);
    await cluster.dispose();
    await redis.dispose();
  }
});
