/**
 * Direct conversations across instances (issue 15, items 2 and 3), over real
 * sockets on instances sharing one fresh MariaDB database and one Redis: a
 * direct reaches both users' sessions on every instance once, byte for byte
 * as one process writes it; concurrent writers of one conversation on two
 * instances give every reader a strictly increasing run with no gap and no
 * duplicate against MySQL; a message an instance acknowledged but never
 * published reaches the recipient through the periodic check, and when a
 * writer's instance is SIGKILLed mid-conversation every acknowledged direct is
 * in MySQL and every reader elsewhere sees MySQL's run; `edited`,
 * `deleted`, `read` and `typing` cross instances; junk on the channel is
 * ignored. Needs `CAUSERIE_TEST_MYSQL_URL` and `CAUSERIE_TEST_BUS_URL`.
 */

import assert from "node:assert/strict";
import { openRedisBus } from "../bus/redis_bus.ts";
import { BUS_URL, eventually } from "./bus_fixture.ts";
import {
  type Cluster,
  clusterTest,
  type Instance,
  startCluster,
  TEST_CHECK_MS,
  TEST_GAP_WAIT_MS,
} from "./cluster_fixture.ts";
import { adminRows } from "./mysql_fixture.ts";
import { type Frame, registerHttp, TestClient, WAIT_MS } from "./ws_client.ts";
import { closeAll, connect } from "./cluster_clients.ts";

/** Budgets wide enough for writers that never wait for their `ok`. */
const ENV = {
  CAUSERIE_RATE_PER_SECOND: "5000",
  CAUSERIE_RATE_BURST: "5000",
  CAUSERIE_REQUEST_BURST: "5000",
  CAUSERIE_REQUEST_PER_SECOND: "5000",
  CAUSERIE_REGISTER_PER_ADDRESS_PER_HOUR: "0",
  CAUSERIE_REGISTER_PER_MINUTE: "0",
};

/** Registers `name` on `inst` (its alias: the name in capitals). */
async function register(inst: Instance, name: string): Promise<void> {
  await registerHttp(inst.url, name, name.toUpperCase(), `${name} long password`);
}

/** The `direct` frames a client received, in order. */
function directs(client: TestClient): Frame[] {
  return client.frames.filter((f) => f.type === "direct");
}

/** The ids of the `direct` frames a client received, in order. */
function seen(client: TestClient): number[] {
  return directs(client).map((f) => f.id);
}

/** The ids MySQL holds for the conversation of `a` and `b`, ascending. */
async function stored(cluster: Cluster, a: string, b: string): Promise<number[]> {
  const rows = await adminRows(
    cluster.db.name,
    `SELECT d.id FROM direct_messages d
     JOIN users f ON f.id = d.from_user_id JOIN users t ON t.id = d.to_user_id
     WHERE (f.username = ? AND t.username = ?) OR (f.username = ? AND t.username = ?)
     ORDER BY d.id`,
    [a, b, b, a],
  );
  return rows.map((r) => Number(r.id));
}

/** Sends `count` directs to `to`, `pauseMs` apart, without waiting for the answers. */
async function write(c: TestClient, to: string, count: number, pauseMs: number): Promise<void> {
  for (let i = 0; i < count && c.isOpen; i++) {
    c.send({ type: "direct", to, text: `${i}`, ref: c.ref("direct") });
    await new Promise((r) => setTimeout(r, pauseMs));
  }
}

/** Lets a check period and a gap wait pass (a duplicate would have come by then). */
function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 2 * TEST_CHECK_MS + 2 * TEST_GAP_WAIT_MS));
}

clusterTest(
  "cluster directs: alice on A writes to bob on B; every session of both gets it once",
  async () => {
    const cluster = await startCluster({ inProcess: 2, env: ENV });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      await register(a, "alice");
      await register(b, "bob");
      const alice = await connect(a, "alice");
      const alice2 = await connect(b, "alice", { label: "alice on B" });
      const bob = await connect(b, "bob");
      clients.push(alice, alice2, bob);
      const ok = await alice.request({ type: "direct", to: "bob", text: "salut bob" });
      assert.equal(ok.type, "ok", JSON.stringify(ok));
      const mine = await alice.next((f) => f.type === "direct", WAIT_MS, "alice's own direct");
      const got = await bob.next((f) => f.type === "direct", WAIT_MS, "the direct on B");
      const copy = await alice2.next((f) => f.type === "direct", WAIT_MS, "alice's copy on B");
      // Byte for byte what one process writes (the sender's session got it from A itself).
      assert.deepEqual(mine, {
        type: "direct",
        id: ok.id,
        from: { username: "alice", alias: "ALICE" },
        to: { username: "bob", alias: "BOB" },
        text: "salut bob",
        at: ok.at,
      });
      assert.equal(JSON.stringify(got), JSON.stringify(mine));
      assert.equal(JSON.stringify(copy), JSON.stringify(mine));
      // And back: bob on B answers, alice's sessions on A and B get it.
      const ok2 = await bob.request({ type: "direct", to: "alice", text: "salut alice" });
      await alice.next((f) => f.type === "direct" && f.id === ok2.id, WAIT_MS, "bob's answer on A");
      await alice2.next((f) => f.type === "direct" && f.id === ok2.id, WAIT_MS, "bob's on B");
      await settle();
      for (const c of clients) assert.deepEqual(seen(c), [ok.id, ok2.id], "once each, in order");
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest(
  "cluster directs: concurrent writers of one conversation on two instances; readers see MySQL's run",
  async () => {
    const cluster = await startCluster({ inProcess: 2, env: ENV });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      await register(a, "alice");
      await register(a, "bob");
      await register(b, "carol");
      const aliceA = await connect(a, "alice", { label: "alice on A" });
      const aliceB = await connect(b, "alice", { label: "alice on B" });
      const bobB = await connect(b, "bob", { label: "bob on B" });
      const bobA = await connect(a, "bob", { label: "bob on A" });
      // Traffic in another conversation between the same instances interleaves its ids.
      const carol = await connect(b, "carol");
      clients.push(aliceA, aliceB, bobB, bobA, carol);
      await Promise.all([
        write(aliceA, "bob", 25, 1),
        write(aliceB, "bob", 25, 1),
        write(bobB, "alice", 25, 1),
        write(bobA, "alice", 25, 1),
        write(carol, "alice", 25, 1),
      ]);
      await eventually(
        async () => (await stored(cluster, "alice", "bob")).length === 100,
        15_000,
        "100 directs stored",
      );
      const ids = await stored(cluster, "alice", "bob");
      for (const reader of [aliceA, aliceB, bobA, bobB]) {
        const own = (f: Frame) =>
          (f.from.username === "alice" && f.to.username === "bob") ||
          (f.from.username === "bob" && f.to.username === "alice");
        await eventually(
          () => directs(reader).filter(own).length >= 100,
          15_000,
          "a reader saw the conversation",
        ).catch(() => {
          throw new Error(`reader saw ${JSON.stringify(seen(reader))}, MySQL holds ${ids}`);
        });
        assert.deepEqual(
          directs(reader).filter(own).map((f) => f.id),
          ids,
          "strictly increasing ids, no gap, no duplicate",
        );
      }
      // Alice's other conversation reached her sessions on both instances too.
      const fromCarol = await stored(cluster, "alice", "carol");
      for (const reader of [aliceA, aliceB]) {
        await eventually(
          () => directs(reader).filter((f) => f.from.username === "carol").length >= 25,
          15_000,
          "carol's directs",
        );
        assert.deepEqual(
          directs(reader).filter((f) => f.from.username === "carol").map((f) => f.id),
          fromCarol,
        );
      }
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest(
  "cluster directs: what an instance acknowledged and never published reaches bob by the check",
  async () => {
    const cluster = await startCluster({ inProcess: 2, env: ENV, dropDirectPublishesOn: [0] });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      await register(a, "alice");
      await register(b, "bob");
      const alice = await connect(a, "alice");
      const bob = await connect(b, "bob");
      clients.push(alice, bob);
      const sent = Date.now();
      const first = await alice.request({ type: "direct", to: "bob", text: "un" });
      const second = await alice.request({ type: "direct", to: "bob", text: "deux" });
      assert.equal(second.type, "ok");
      await eventually(() => seen(bob).length >= 2, WAIT_MS, "both directs on B");
      assert.ok(
        Date.now() - sent < 10 * TEST_CHECK_MS,
        `within a few check periods (${Date.now() - sent} ms)`,
      );
      assert.deepEqual(seen(bob), [first.id, second.id]);
      assert.deepEqual(directs(bob).map((f) => f.text), ["un", "deux"]);
      // Then a published one follows without a duplicate.
      const third = await bob.request({ type: "direct", to: "alice", text: "trois" });
      await alice.next((f) => f.type === "direct" && f.id === third.id, WAIT_MS, "bob's on A");
      await settle();
      assert.deepEqual(seen(bob), [first.id, second.id, third.id]);
      assert.deepEqual(seen(alice), [first.id, second.id, third.id]);
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest("cluster directs: edit, delete, read and typing cross instances", async () => {
  const cluster = await startCluster({ inProcess: 2, env: ENV });
  const clients: TestClient[] = [];
  try {
    const [a, b] = cluster.instances;
    await register(a, "alice");
    await register(b, "bob");
    const alice = await connect(a, "alice");
    const alice2 = await connect(b, "alice", { label: "alice on B" });
    const bob = await connect(b, "bob");
    const bob2 = await connect(a, "bob", { label: "bob on A" });
    clients.push(alice, alice2, bob, bob2);
    const ok = await alice.request({ type: "direct", to: "bob", text: "salut" });
    await bob.next((f) => f.type === "direct", WAIT_MS, "the direct");

    const edit = await alice.request({ type: "edit", with: "bob", id: ok.id, text: "bonjour" });
    assert.equal(edit.type, "ok", JSON.stringify(edit));
    const edited = { id: ok.id, text: "bonjour", editedAt: edit.editedAt };
    for (const [c, other] of [[bob, "alice"], [bob2, "alice"], [alice2, "bob"]] as const) {
      const f = await c.next((f) => f.type === "edited", WAIT_MS, "edited");
      assert.equal(JSON.stringify(f), JSON.stringify({ type: "edited", with: other, ...edited }));
    }

    await bob.request({ type: "read", with: "alice", id: ok.id });
    const read = await bob2.next((f) => f.type === "read", WAIT_MS, "read on A");
    assert.deepEqual(read, { type: "read", with: "alice", id: ok.id });

    alice.send({ type: "typing", with: "bob" });
    const typing = await bob.next((f) => f.type === "typing", WAIT_MS, "typing on B");
    assert.deepEqual(typing, {
      type: "typing",
      with: "alice",
      user: { username: "alice", alias: "ALICE" },
    });
    await bob2.next((f) => f.type === "typing", WAIT_MS, "typing on A");

    const del = await alice.request({ type: "delete", with: "bob", id: ok.id });
    assert.equal(del.type, "ok", JSON.stringify(del));
    for (const [c, other] of [[bob, "alice"], [bob2, "alice"], [alice2, "bob"]] as const) {
      const f = await c.next((f) => f.type === "deleted", WAIT_MS, "deleted");
      assert.deepEqual(f, { type: "deleted", with: other, id: ok.id });
    }
    await settle();
    for (const c of [bob, bob2, alice2]) {
      assert.equal(c.frames.filter((f) => f.type === "edited").length, 1, "edited once");
      assert.equal(c.frames.filter((f) => f.type === "deleted").length, 1, "deleted once");
    }
    assert.equal(bob2.frames.filter((f) => f.type === "read").length, 1, "read once");
    assert.equal(bob.frames.filter((f) => f.type === "read").length, 0, "not to the reader");
    assert.equal(alice.frames.filter((f) => f.type === "typing").length, 0, "not to the typer");
  } finally {
    await closeAll(clients);
    await cluster.dispose();
  }
});

clusterTest(
  "cluster directs: junk on the directs channel is ignored; the socket goes on",
  async () => {
    const cluster = await startCluster({ inProcess: 2, env: ENV });
    const clients: TestClient[] = [];
    const bus = await openRedisBus({ url: BUS_URL!, prefix: cluster.db.name });
    try {
      const [a, b] = cluster.instances;
      await register(a, "alice");
      await register(b, "bob");
      const alice = await connect(a, "alice");
      const bob = await connect(b, "bob");
      clients.push(alice, bob);
      const idOf = async (name: string) =>
        Number(
          (await adminRows(cluster.db.name, "SELECT id FROM users WHERE username = ?", [name]))[0]
            .id,
        );
      const [al, bo] = [await idOf("alice"), await idOf("bob")];
      const at = Date.now();
      const d = { id: 999, p: 0, f: [al, "alice", "ALICE"], t: [bo, "bob", "BOB"], x: "faux", at };
      // Each addressed to bob, each with one thing wrong.
      const forged = [
        "not json",
        "null",
        JSON.stringify([{ d }]),
        JSON.stringify({ d: { ...d, p: 999 } }),
        JSON.stringify({ d: { ...d, x: 1 } }),
        JSON.stringify({ d: { ...d, at: 9e15 } }),
        JSON.stringify({ d: { ...d, t: [bo, "bob"] } }),
        JSON.stringify({ d, ty: { u: bo, f: ["alice", "ALICE"] } }),
        JSON.stringify({ ty: { u: bo, f: ["mallory\n", "M"] } }),
        JSON.stringify({ rd: { u: bo, w: "alice", id: "1" } }),
        JSON.stringify({ de: { u: bo, w: "alice", id: 0 } }),
        JSON.stringify({ ed: { u: bo, w: "alice", id: 1, x: "x", ea: "tomorrow" } }),
      ];
      for (const payload of forged) await bus.publish("directs", payload);
      // A well-formed one on the same channel does arrive: the others were refused, not missed.
      await bus.publish("directs", JSON.stringify({ ty: { u: bo, f: ["alice", "ALICE"] } }));
      await bob.next((f) => f.type === "typing", WAIT_MS, "the well-formed typing");
      const ok = await alice.request({ type: "direct", to: "bob", text: "réel" });
      await bob.next((f) => f.type === "direct" && f.id === ok.id, WAIT_MS, "the real direct");
      await settle();
      const forgedTypes = ["direct", "typing", "read", "edited", "deleted"];
      assert.deepEqual(
        bob.frames.filter((f) => forgedTypes.includes(f.type)).map((f) => f.type),
        ["typing", "direct"],
        "nothing forged reached bob",
      );
      assert.deepEqual(seen(bob), [ok.id]);
      assert.equal((await bob.request({ type: "ping" })).type, "pong");
    } finally {
      await bus.close();
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

/** The ids its `ok` frames to `direct` acknowledged (each was stored under that id). */
function acknowledged(client: TestClient): number[] {
  return client.frames.filter((f) =>
    f.type === "ok" && typeof f.ref === "string" &&
    f.ref.startsWith("direct") && typeof f.id === "number"
  ).map((f) => f.id);
}

clusterTest(
  "cluster directs failure: a writer's instance SIGKILLed mid-conversation; readers see MySQL's run",
  async () => {
    const cluster = await startCluster({ inProcess: 2, processes: 1, env: ENV });
    const clients: TestClient[] = [];
    try {
      const [a, b, c] = cluster.instances;
      await register(a, "alice");
      await register(a, "bob");
      const bobA = await connect(a, "bob", { label: "bob on A" });
      const bobB = await connect(b, "bob", { label: "bob on B" });
      const aliceB = await connect(b, "alice", { label: "alice on B" });
      const aliceC = await connect(c, "alice", { label: "alice on C" }); // the instance that dies
      clients.push(bobA, bobB, aliceB, aliceC);
      const writing = [
        write(aliceC, "bob", 80, 2),
        write(aliceB, "bob", 40, 4),
        write(bobA, "alice", 40, 4),
      ];
      await eventually(() => acknowledged(aliceC).length >= 10, 10_000, "C acknowledged some");
      await c.kill();
      await Promise.all(writing);
      await eventually(
        () => acknowledged(aliceB).length === 40 && acknowledged(bobA).length === 40,
        10_000,
        "A and B acknowledged every direct",
      );
      const inMysql = await stored(cluster, "alice", "bob");
      for (const id of [aliceC, aliceB, bobA].flatMap(acknowledged)) {
        assert.ok(inMysql.includes(id), `acknowledged ${id} is in MySQL`);
      }
      for (const reader of [bobA, bobB, aliceB]) {
        await eventually(() => seen(reader).length >= inMysql.length, 15_000, "the whole run")
          .catch(() => {
            throw new Error(`reader saw ${JSON.stringify(seen(reader))}, MySQL ${inMysql}`);
          });
        assert.deepEqual(seen(reader), inMysql, "increasing, no gap, no duplicate");
      }
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);
