/**
 * Join requests and decisions across instances (issue 15, item 2), over real
 * sockets on two in-process instances sharing one fresh MariaDB database and
 * one Redis: moderators everywhere hear of a request, list it and decide it
 * from any instance; MySQL picks one of two decisions taken at once; a
 * withdrawal crosses; and what the bus loses (a request, a join, a leave) is
 * read back from MySQL. Needs `CAUSERIE_TEST_MYSQL_URL` and
 * `CAUSERIE_TEST_BUS_URL`.
 */

import assert from "node:assert/strict";
import { openRedisBus } from "../bus/redis_bus.ts";
import { BUS_URL, eventually } from "./bus_fixture.ts";
import { type Cluster, clusterTest, startCluster } from "./cluster_fixture.ts";
import { closeAll, CLUSTER_ENV, connect, register, user } from "./cluster_clients.ts";
import { adminRows } from "./mysql_fixture.ts";
import { http, loginHttp, type TestClient, WAIT_MS } from "./ws_client.ts";

const SALON = "Comptabilité";
const BLABLA = "Blabla";

/** The pending requests `client` (a moderator) lists. */
async function pendingSeen(client: TestClient): Promise<Array<Record<string, unknown>>> {
  const reply = await client.request({ type: "requests" });
  assert.equal(reply.type, "requests", JSON.stringify(reply));
  return reply.pending;
}

/** The rows of `table` (memberships or join_requests) of `username` in `salon`. */
async function rows(cluster: Cluster, table: string, username: string, salon: string) {
  return await adminRows(
    cluster.db.name,
    `SELECT t.user_id FROM ${table} t JOIN users u ON u.id = t.user_id
     JOIN salons s ON s.id = t.salon_id WHERE u.username = ? AND s.name = ?`,
    [username, salon],
  );
}

clusterTest(
  "cluster requests: a request on A reaches moderators on A and B; B accepts; every side sees it",
  async () => {
    const cluster = await startCluster({ inProcess: 2, env: CLUSTER_ENV });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      const modA = await user(cluster, a, "moda", "moderator");
      const modB = await user(cluster, b, "modb", "moderator");
      const member = await user(cluster, a, "mia");
      await register(cluster, a, "ann");
      const annA = await connect(a, "ann");
      const annB = await connect(b, "ann");
      clients.push(modA, modB, member, annA, annB);
      assert.equal((await annA.request({ type: "join", salon: SALON })).type, "join_pending");
      for (const mod of [modA, modB]) {
        const req = await mod.next((f) => f.type === "join_request", WAIT_MS, "join_request");
        assert.equal(req.salon, SALON);
        assert.equal(req.username, "ann");
        assert.equal(req.alias, "ANN");
        assert.equal(typeof req.at, "string");
      }
      // ann's session on B hears of her request, as her other sessions do in one process.
      await annB.next((f) => f.type === "join_pending" && f.salon === SALON, WAIT_MS, "pending");
      // Both instances list it, over WebSocket and over the admin API.
      const listedA = await pendingSeen(modA);
      const listedB = await pendingSeen(modB);
      assert.deepEqual(listedB, listedA);
      assert.deepEqual(listedB.map((p) => [p.salon, p.username]), [[SALON, "ann"]]);
      const token = await loginHttp(b.url, "modb", "modb long password");
      const auth = { authorization: `Bearer ${token}` };
      const api = await http(b.url, "GET", "/admin/join-requests", undefined, auth);
      assert.equal(api.status, 200);
      assert.deepEqual(api.body!.pending, listedA);

      // B's moderator accepts: stored once, ann joined on both instances.
      const ok = await modB.request({
        type: "decide",
        salon: SALON,
        username: "ann",
        accept: true,
      });
      assert.equal(ok.type, "ok", JSON.stringify(ok));
      for (const s of [annA, annB]) {
        const joined = await s.next((f) => f.type === "joined" && f.salon === SALON, WAIT_MS, "j");
        assert.equal(joined.ref, undefined);
      }
      assert.equal((await rows(cluster, "memberships", "ann", SALON)).length, 1);
      assert.equal((await rows(cluster, "join_requests", "ann", SALON)).length, 0);
      // The pending request is gone everywhere.
      await eventually(async () => (await pendingSeen(modA)).length === 0, 5000, "gone on A");
      assert.deepEqual(await pendingSeen(modB), []);
      // A second decision, on A, is answered as in one process.
      const again = await modA.request({
        type: "decide",
        salon: SALON,
        username: "ann",
        accept: true,
      });
      assert.equal(again.type, "error");
      assert.equal(again.code, "invalid");
      // ann speaks in the salon from A: her membership is known there.
      const said = await annA.request({ type: "say", salon: SALON, text: "bonjour" });
      assert.equal(said.type, "ok", JSON.stringify(said));
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest(
  "cluster requests: members on the requester's instance get member_joined when B accepts",
  async () => {
    const cluster = await startCluster({ inProcess: 2, env: CLUSTER_ENV });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      const modB = await user(cluster, b, "modb", "moderator");
      const mia = await user(cluster, a, "mia");
      const ann = await user(cluster, a, "ann");
      clients.push(modB, mia, ann);
      // mia becomes a member first (her request accepted on B).
      assert.equal((await mia.request({ type: "join", salon: SALON })).type, "join_pending");
      await modB.next((f) => f.type === "join_request" && f.username === "mia", WAIT_MS, "mia's");
      assert.equal(
        (await modB.request({ type: "decide", salon: SALON, username: "mia", accept: true })).type,
        "ok",
      );
      await mia.next((f) => f.type === "joined" && f.salon === SALON, WAIT_MS, "mia joined");
      assert.equal((await ann.request({ type: "join", salon: SALON })).type, "join_pending");
      await modB.next((f) => f.type === "join_request" && f.username === "ann", WAIT_MS, "ann's");
      assert.equal(
        (await modB.request({ type: "decide", salon: SALON, username: "ann", accept: true })).type,
        "ok",
      );
      const mj = await mia.next((f) => f.type === "member_joined", WAIT_MS, "member_joined");
      assert.deepEqual(mj, {
        type: "member_joined",
        salon: SALON,
        user: { username: "ann", alias: "ANN" },
      });
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest("cluster requests: B rejects; the requester on A gets join_rejected", async () => {
  const cluster = await startCluster({ inProcess: 2, env: CLUSTER_ENV });
  const clients: TestClient[] = [];
  try {
    const [a, b] = cluster.instances;
    const modA = await user(cluster, a, "moda", "moderator");
    const modB = await user(cluster, b, "modb", "moderator");
    const ann = await user(cluster, a, "ann");
    clients.push(modA, modB, ann);
    assert.equal((await ann.request({ type: "join", salon: SALON })).type, "join_pending");
    await modB.next((f) => f.type === "join_request", WAIT_MS, "join_request");
    const ok = await modB.request({ type: "decide", salon: SALON, username: "ann", accept: false });
    assert.equal(ok.type, "ok");
    const rejected = await ann.next((f) => f.type === "join_rejected", WAIT_MS, "join_rejected");
    assert.deepEqual(rejected, { type: "join_rejected", salon: SALON });
    await eventually(async () => (await pendingSeen(modA)).length === 0, 5000, "gone on A");
    assert.equal((await rows(cluster, "memberships", "ann", SALON)).length, 0);
    assert.equal((await rows(cluster, "join_requests", "ann", SALON)).length, 0);
  } finally {
    await closeAll(clients);
    await cluster.dispose();
  }
});

clusterTest(
  "cluster requests: two moderators decide at once on two instances; exactly one wins",
  async () => {
    const cluster = await startCluster({ inProcess: 2, env: CLUSTER_ENV });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      const modA = await user(cluster, a, "moda", "moderator");
      const modB = await user(cluster, b, "modb", "moderator");
      clients.push(modA, modB);
      const names = ["ann", "bea", "cid", "dan", "eve"];
      for (const name of names) {
        const c = await user(cluster, a, name);
        clients.push(c);
        assert.equal((await c.request({ type: "join", salon: SALON })).type, "join_pending");
        await modB.next((f) => f.type === "join_request" && f.username === name, WAIT_MS, name);
      }
      for (const name of names) {
        // Opposite decisions, sent together: MySQL keeps one of them.
        const [ra, rb] = await Promise.all([
          modA.request({ type: "decide", salon: SALON, username: name, accept: true }),
          modB.request({ type: "decide", salon: SALON, username: name, accept: false }),
        ]);
        const oks = [ra, rb].filter((r) => r.type === "ok");
        assert.equal(oks.length, 1, `one decision wins for ${name}: ${JSON.stringify([ra, rb])}`);
        const loser = ra.type === "ok" ? rb : ra;
        assert.equal(loser.type, "error");
        assert.equal(loser.code, "invalid");
        const member = (await rows(cluster, "memberships", name, SALON)).length;
        assert.equal(member, ra.type === "ok" ? 1 : 0, `${name}: the winner's decision is stored`);
      }
      for (const mod of [modA, modB]) {
        await eventually(async () => (await pendingSeen(mod)).length === 0, 5000, "none pending");
      }
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest(
  "cluster requests: a leave on A withdraws; a ban on B withdraws; both vanish everywhere",
  async () => {
    const cluster = await startCluster({ inProcess: 2, env: CLUSTER_ENV });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      const modB = await user(cluster, b, "modb", "moderator");
      await register(cluster, a, "ann");
      const annA = await connect(a, "ann");
      const annB = await connect(b, "ann");
      const bob = await user(cluster, a, "bob");
      clients.push(modB, annA, annB, bob);
      assert.equal((await annA.request({ type: "join", salon: SALON })).type, "join_pending");
      assert.equal((await bob.request({ type: "join", salon: SALON })).type, "join_pending");
      await eventually(async () => (await pendingSeen(modB)).length === 2, 5000, "two on B");
      // ann withdraws on A: her session on B gets `left`, B's list loses her.
      assert.equal((await annA.request({ type: "leave", salon: SALON })).type, "left");
      await annB.next((f) => f.type === "left" && f.salon === SALON, WAIT_MS, "left on B");
      await eventually(
        async () => (await pendingSeen(modB)).every((p) => p.username !== "ann"),
        5000,
        "ann's request gone on B",
      );
      // bob is banned on B: his request, held on A, is withdrawn there too.
      assert.equal((await modB.request({ type: "ban", username: "bob" })).type, "ok");
      const modA = await user(cluster, a, "moda", "moderator");
      clients.push(modA);
      await eventually(async () => (await pendingSeen(modA)).length === 0, 5000, "none on A");
      assert.deepEqual(await pendingSeen(modB), []);
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest(
  "cluster requests: a request, a join and a leave the bus lost are read back from MySQL",
  async () => {
    const cluster = await startCluster({ inProcess: 2, env: CLUSTER_ENV, dropEventsOn: [0] });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      const modB = await user(cluster, b, "modb", "moderator");
      const bob = await user(cluster, b, "bob");
      const ann = await user(cluster, a, "ann");
      clients.push(modB, bob, ann);
      assert.equal((await bob.request({ type: "join", salon: BLABLA })).type, "joined");
      // A publishes nothing of its salon events: B learns of each from the check.
      assert.equal((await ann.request({ type: "join", salon: SALON })).type, "join_pending");
      const req = await modB.next((f) => f.type === "join_request", WAIT_MS, "recovered request");
      assert.equal(req.username, "ann");
      assert.deepEqual((await pendingSeen(modB)).map((p) => p.username), ["ann"]);
      // B decides it (its actor was spawned by the recovery).
      assert.equal(
        (await modB.request({ type: "decide", salon: SALON, username: "ann", accept: true })).type,
        "ok",
      );
      await ann.next((f) => f.type === "joined" && f.salon === SALON, WAIT_MS, "joined on A");

      // A join on A reaches B's members through the check: member_joined, and `who` lists ann.
      assert.equal((await ann.request({ type: "join", salon: BLABLA })).type, "joined");
      const mj = await bob.next((f) => f.type === "member_joined", WAIT_MS, "recovered join");
      assert.deepEqual(mj.user, { username: "ann", alias: "ANN" });
      const whoB = async () => {
        const who = await bob.request({ type: "who", salon: BLABLA });
        assert.equal(who.type, "who", JSON.stringify(who));
        return (who.users as Array<{ username: string }>).map((u) => u.username);
      };
      assert.ok((await whoB()).includes("ann"));
      // ann's message on A reaches bob: B's replica counts her a member (the message itself
      // crosses as usual).
      const said = await ann.request({ type: "say", salon: BLABLA, text: "me voici" });
      const got = await bob.next((f) => f.type === "message" && f.id === said.id, WAIT_MS, "msg");
      assert.equal(got.text, "me voici");
      // A leave on A: B's replica drops ann after the check.
      assert.equal((await ann.request({ type: "leave", salon: BLABLA })).type, "left");
      // `who` has its own budget (2 a second): ask it slowly.
      for (const end = Date.now() + 10_000; (await whoB()).includes("ann");) {
        assert.ok(Date.now() < end, "ann is gone from B's replica within 10 s");
        await new Promise((r) => setTimeout(r, 600));
      }
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest(
  "cluster requests: forged salon events on the bus reach no one; the instance goes on",
  async () => {
    const cluster = await startCluster({ inProcess: 2, env: CLUSTER_ENV });
    const clients: TestClient[] = [];
    const bus = await openRedisBus({ url: BUS_URL!, prefix: cluster.db.name });
    try {
      const [a, b] = cluster.instances;
      const modB = await user(cluster, b, "modb", "moderator");
      const bob = await user(cluster, b, "bob");
      const ann = await user(cluster, a, "ann");
      clients.push(modB, bob, ann);
      assert.equal((await bob.request({ type: "join", salon: BLABLA })).type, "joined");
      const [salon] = await adminRows(cluster.db.name, "SELECT id FROM salons WHERE name = ?", [
        SALON,
      ]);
      const [blabla] = await adminRows(cluster.db.name, "SELECT id FROM salons WHERE name = ?", [
        BLABLA,
      ]);
      const forged = [
        { o: "x", r: { id: 1, username: "ann", alias: "ANN", role: "owner" }, s: 1 },
        { o: "x", r: { id: 1, username: "ann", alias: "ANN", role: "member" }, s: "now" },
        { o: "x", c: 1, x: "accepted" },
        { o: "x", y: { id: 0, username: "ann", alias: "ANN", role: "member" } },
        { o: "x", ed: { id: 1, t: 5, at: 1 } },
        { o: "x", dl: -1 },
        { o: "x", sm: 99999 },
        { o: "x", rd: 1, n: "all" },
      ];
      for (const body of forged) {
        await bus.publish(`salon:${salon.id}`, JSON.stringify(body));
        await bus.publish(`salon:${blabla.id}`, JSON.stringify(body));
      }
      await bus.publish(`salon:${blabla.id}`, "not json");
      // A real request after them: B still works, and nothing forged reached its clients.
      assert.equal((await ann.request({ type: "join", salon: SALON })).type, "join_pending");
      const req = await modB.next((f) => f.type === "join_request", WAIT_MS, "join_request");
      assert.equal(req.username, "ann");
      assert.deepEqual((await pendingSeen(modB)).map((p) => p.username), ["ann"]);
      for (const c of [modB, bob]) {
        const types = c.frames.map((f) => f.type);
        for (
          const t of ["typing", "edited", "deleted", "salon_settings", "read", "join_rejected"]
        ) {
          assert.ok(!types.includes(t), `${t} reached a client: ${JSON.stringify(c.frames)}`);
        }
      }
      const said = await bob.request({ type: "say", salon: BLABLA, text: "toujours là" });
      assert.equal(said.type, "ok", "no slow mode was forged");
    } finally {
      await bus.close();
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);
