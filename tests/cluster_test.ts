/**
 * Several instances on one MariaDB and one Redis (issue 15, foundation):
 * they register and beat in `nodes`, a killed one is reaped by the others
 * within the dead-node delay, a clean stop unregisters at once, and `/readyz`
 * reports the bus, degrading (never failing) while Redis is down. Needs
 * `CAUSERIE_TEST_MYSQL_URL` and `CAUSERIE_TEST_BUS_URL` (`.ci/run` sets both).
 */

import assert from "node:assert/strict";
import { eventually, privateRedis } from "./bus_fixture.ts";
import { clusterTest, startCluster, TEST_BEAT_MS, TEST_DEAD_MS } from "./cluster_fixture.ts";

/** `/readyz`'s status and body. */
async function readyz(url: string): Promise<{ status: number; body: Record<string, string> }> {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: await res.json() };
}

clusterTest("cluster: two instances on one database both register and beat in nodes", async () => {
  const cluster = await startCluster({ inProcess: 2 });
  try {
    const [a, b] = cluster.instances;
    assert.notEqual(a.nodeId(), b.nodeId(), "each start gets its own random id");
    assert.deepEqual((await cluster.nodes()).map((n) => n.id), [a.nodeId(), b.nodeId()].sort());
    const before = await cluster.nodes();
    await eventually(
      async () => {
        const now = await cluster.nodes();
        return now.every((n, i) => n.beatAt > before[i].beatAt);
      },
      20 * TEST_BEAT_MS,
      "both beat",
    );
    for (const i of cluster.instances) {
      assert.deepEqual(await readyz(i.url), {
        status: 200,
        body: { status: "ready", database: "ok", bus: "ok" },
      });
    }
  } finally {
    await cluster.dispose();
  }
});

clusterTest(
  "cluster: a SIGKILLed instance is reaped by another within the dead-node delay",
  async () => {
    const cluster = await startCluster({ inProcess: 1, processes: 1 });
    try {
      const [survivor, victim] = cluster.instances;
      const dead = victim.nodeId();
      assert.deepEqual(
        (await cluster.nodes()).map((n) => n.id).sort(),
        [survivor.nodeId(), dead].sort(),
      );
      await victim.kill();
      const killedAt = Date.now();
      // Reaped at the first beat of the survivor after the delay: within delay + 2 beats, plus
      // some slack for a loaded machine.
      await eventually(
        async () => !(await cluster.nodes()).some((n) => n.id === dead),
        TEST_DEAD_MS + 2 * TEST_BEAT_MS + 2000,
        "the killed instance is reaped",
      );
      const took = Date.now() - killedAt;
      assert.ok(took >= TEST_DEAD_MS - 2 * TEST_BEAT_MS, `reaped after ${took} ms: too early`);
      assert.deepEqual((await cluster.nodes()).map((n) => n.id), [survivor.nodeId()]);
    } finally {
      await cluster.dispose();
    }
  },
);

clusterTest("cluster: a frozen instance is reaped; a clean stop unregisters at once", async () => {
  const cluster = await startCluster({ inProcess: 3 });
  try {
    const [a, b, c] = cluster.instances;
    const bId = b.nodeId();
    await b.kill(); // stops beating without unregistering, as if frozen or cut off
    assert.ok((await cluster.nodes()).some((n) => n.id === bId), "still there at first");
    await eventually(
      async () => !(await cluster.nodes()).some((n) => n.id === bId),
      TEST_DEAD_MS + 2 * TEST_BEAT_MS + 2000,
      "reaped",
    );
    const cId = c.nodeId();
    await c.stop();
    assert.deepEqual(
      (await cluster.nodes()).map((n) => n.id),
      [a.nodeId()],
      `${cId} is gone at once`,
    );
  } finally {
    await cluster.dispose();
  }
});

clusterTest(
  "cluster: /readyz reports the bus; Redis down degrades (200), never crashes; back, ok",
  async () => {
    const redis = await privateRedis();
    const cluster = await startCluster({ inProcess: 1, bus: redis.url });
    try {
      const [a] = cluster.instances;
      assert.equal((await readyz(a.url)).body.bus, "ok");
      await redis.stop();
      await eventually(async () => (await readyz(a.url)).body.bus === "unreachable", 5000, "down");
      assert.deepEqual(await readyz(a.url), {
        status: 200,
        body: { status: "degraded", database: "ok", bus: "unreachable" },
      });
      // The instance goes on: it serves, and it beats in MySQL.
      const health = await fetch(`${a.url}/healthz`);
      assert.equal(health.status, 200);
      await health.text();
      const before = (await cluster.nodes())[0].beatAt;
      await eventually(async () => (await cluster.nodes())[0].beatAt > before, 5000, "beats on");
      await redis.start();
      await eventually(async () => (await readyz(a.url)).body.bus === "ok", 10_000, "back");
      assert.deepEqual(await readyz(a.url), {
        status: 200,
        body: { status: "ready", database: "ok", bus: "ok" },
      });
    } finally {
      await cluster.dispose();
      await redis.dispose();
    }
  },
);
