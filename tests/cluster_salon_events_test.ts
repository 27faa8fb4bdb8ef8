/**
 * Salon events across instances (issue 15, item 2): `typing` in a small
 * salon, `edited`/`deleted`, a member's `read` marker to their sessions on
 * another instance, and slow mode set on one instance applied on the other
 * (and read back from MySQL when the bus lost it), over real sockets on two
 * in-process instances. Needs `CAUSERIE_TEST_MYSQL_URL` and
 * `CAUSERIE_TEST_BUS_URL`.
 */

import assert from "node:assert/strict";
import { clusterTest, startCluster } from "./cluster_fixture.ts";
import { closeAll, CLUSTER_ENV, connect, register, user } from "./cluster_clients.ts";
import { type TestClient, WAIT_MS } from "./ws_client.ts";

const BLABLA = "Blabla";

/** `name` on its instance, a member of Blabla. */
async function inBlabla(c: TestClient): Promise<TestClient> {
  assert.equal((await c.request({ type: "join", salon: BLABLA })).type, "joined");
  return c;
}

clusterTest(
  "cluster salon events: typing on A reaches the other members on B, at most once per 3 s",
  async () => {
    const cluster = await startCluster({ inProcess: 2, env: CLUSTER_ENV });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      await register(cluster, a, "ann");
      const ann = await inBlabla(await connect(a, "ann"));
      const annB = await connect(b, "ann");
      const bob = await inBlabla(await user(cluster, b, "bob"));
      clients.push(ann, annB, bob);
      await ann.next((f) => f.type === "member_joined", WAIT_MS, "bob's arrival on A");
      ann.send({ type: "typing", salon: BLABLA });
      ann.send({ type: "typing", salon: BLABLA }); // within 3 s: dropped where ann types
      const typing = await bob.next((f) => f.type === "typing", WAIT_MS, "typing on B");
      assert.deepEqual(typing, {
        type: "typing",
        salon: BLABLA,
        user: { username: "ann", alias: "ANN" },
      });
      // A round trip through the same channel: anything else relayed would be here by now.
      const said = await ann.request({ type: "say", salon: BLABLA, text: "x" });
      await bob.next((f) => f.type === "message" && f.id === said.id, WAIT_MS, "the message");
      assert.equal(bob.frames.filter((f) => f.type === "typing").length, 1);
      // The typer's own sessions never get it.
      assert.equal(annB.frames.filter((f) => f.type === "typing").length, 0);
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest(
  "cluster salon events: an edit on A never overtakes its message on B, when B still waits for it",
  async () => {
    // A never publishes its messages: B reads them from MySQL (its check), later than the edit.
    const cluster = await startCluster({ inProcess: 2, env: CLUSTER_ENV, dropPublishesOn: [0] });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      const ann = await inBlabla(await user(cluster, a, "ann"));
      const bob = await inBlabla(await user(cluster, b, "bob"));
      clients.push(ann, bob);
      await ann.next((f) => f.type === "member_joined", WAIT_MS, "bob's arrival on A");
      const said = await ann.request({ type: "say", salon: BLABLA, text: "first" });
      const edit = await ann.request({ type: "edit", salon: BLABLA, id: said.id, text: "second" });
      assert.equal(edit.type, "ok", JSON.stringify(edit));
      await bob.next((f) => f.type === "edited", WAIT_MS, "edited on B");
      const seen = bob.frames.filter((f) => f.id === said.id).map((f) => f.type);
      assert.deepEqual(seen, ["message", "edited"], "the message first, then its edit");
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest(
  "cluster salon events: edited and deleted on A reach the members on B, as on A",
  async () => {
    const cluster = await startCluster({ inProcess: 2, env: CLUSTER_ENV });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      const ann = await inBlabla(await user(cluster, a, "ann"));
      const bob = await inBlabla(await user(cluster, b, "bob"));
      clients.push(ann, bob);
      await ann.next((f) => f.type === "member_joined", WAIT_MS, "bob's arrival on A");
      const said = await ann.request({ type: "say", salon: BLABLA, text: "salut @bob" });
      await bob.next((f) => f.type === "message" && f.id === said.id, WAIT_MS, "the message");
      const edit = await ann.request({
        type: "edit",
        salon: BLABLA,
        id: said.id,
        text: "bonjour @bob",
      });
      assert.equal(edit.type, "ok", JSON.stringify(edit));
      const onA = await ann.next((f) => f.type === "edited", WAIT_MS, "edited on A");
      const onB = await bob.next((f) => f.type === "edited", WAIT_MS, "edited on B");
      assert.deepEqual(onB, onA);
      assert.deepEqual(onB.mentions, ["bob"]);
      assert.equal(onB.text, "bonjour @bob");
      assert.equal((await ann.request({ type: "delete", salon: BLABLA, id: said.id })).type, "ok");
      const delA = await ann.next((f) => f.type === "deleted", WAIT_MS, "deleted on A");
      const delB = await bob.next((f) => f.type === "deleted", WAIT_MS, "deleted on B");
      assert.deepEqual(delB, delA);
      assert.deepEqual(delB, { type: "deleted", salon: BLABLA, id: said.id });
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest(
  "cluster salon events: a read marker moved on A reaches the user's session on B",
  async () => {
    const cluster = await startCluster({ inProcess: 2, env: CLUSTER_ENV });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      await register(cluster, a, "ann");
      const annA = await inBlabla(await connect(a, "ann"));
      const annB = await connect(b, "ann");
      const bob = await inBlabla(await user(cluster, b, "bob"));
      clients.push(annA, annB, bob);
      const said = await bob.request({ type: "say", salon: BLABLA, text: "lu ?" });
      await annA.next((f) => f.type === "message" && f.id === said.id, WAIT_MS, "the message");
      const ok = await annA.request({ type: "read", salon: BLABLA, id: said.id });
      assert.equal(ok.type, "ok", JSON.stringify(ok));
      const read = await annB.next((f) => f.type === "read", WAIT_MS, "read on B");
      assert.deepEqual(read, { type: "read", salon: BLABLA, id: said.id });
      // bob's sessions are not ann's: nothing for him.
      assert.equal(bob.frames.filter((f) => f.type === "read").length, 0);
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest("cluster salon events: slow mode set on A applies on B", async () => {
  const cluster = await startCluster({ inProcess: 2, env: CLUSTER_ENV });
  const clients: TestClient[] = [];
  try {
    const [a, b] = cluster.instances;
    const mod = await user(cluster, a, "moda", "moderator");
    const bob = await inBlabla(await user(cluster, b, "bob"));
    const bobA = await connect(a, "bob");
    clients.push(mod, bob, bobA);
    const ok = await mod.request({ type: "slow_mode", salon: BLABLA, seconds: 60 });
    assert.equal(ok.type, "ok", JSON.stringify(ok));
    const settings = await bob.next((f) => f.type === "salon_settings", WAIT_MS, "settings on B");
    assert.deepEqual(settings, { type: "salon_settings", salon: BLABLA, slowModeSeconds: 60 });
    assert.equal((await bob.request({ type: "say", salon: BLABLA, text: "un" })).type, "ok");
    const second = await bob.request({ type: "say", salon: BLABLA, text: "deux" });
    assert.equal(second.type, "error");
    assert.equal(second.code, "slow_mode");
    // bob's session on A: his `say` on B counts there too (once per interval in all).
    await bobA.next((f) => f.type === "message" && f.text === "un", WAIT_MS, "bob's say on A");
    const third = await bobA.request({ type: "say", salon: BLABLA, text: "trois" });
    assert.equal(third.type, "error", JSON.stringify(third));
    assert.equal(third.code, "slow_mode");
    // A new session on B is welcomed with it.
    const bob2 = await connect(b, "bob");
    clients.push(bob2);
    const welcome = bob2.frames.find((f) => f.type === "welcome")!;
    const salon = welcome.salons.find((s: { name: string }) => s.name === BLABLA);
    assert.equal(salon.slowModeSeconds, 60);
  } finally {
    await closeAll(clients);
    await cluster.dispose();
  }
});

clusterTest("cluster salon events: a slow mode the bus lost is read back from MySQL", async () => {
  const cluster = await startCluster({ inProcess: 2, env: CLUSTER_ENV, dropEventsOn: [0] });
  const clients: TestClient[] = [];
  try {
    const [a, b] = cluster.instances;
    const mod = await user(cluster, a, "moda", "moderator");
    const bob = await inBlabla(await user(cluster, b, "bob"));
    clients.push(mod, bob);
    assert.equal((await mod.request({ type: "slow_mode", salon: BLABLA, seconds: 30 })).type, "ok");
    const settings = await bob.next((f) => f.type === "salon_settings", WAIT_MS, "recovered");
    assert.deepEqual(settings, { type: "salon_settings", salon: BLABLA, slowModeSeconds: 30 });
    assert.equal((await bob.request({ type: "say", salon: BLABLA, text: "un" })).type, "ok");
    assert.equal(
      (await bob.request({ type: "say", salon: BLABLA, text: "deux" })).code,
      "slow_mode",
    );
  } finally {
    await closeAll(clients);
    await cluster.dispose();
  }
});
