/**
 * The shutdown countdown across instances (issue 15, item 2), over real
 * sockets on in-process instances sharing one fresh MariaDB database and one
 * Redis: an admin's `shutdown` on A counts down on B to the same deadline and
 * both drain and stop; a cancel on B cancels A; a signal to A stops A alone;
 * an instance started during a countdown joins it. Also the unit tests of the
 * channel's decoding (hostile payloads) and of a countdown that joins a
 * deadline (SimulatedClock). The WebSocket tests need `CAUSERIE_TEST_MYSQL_URL`
 * and `CAUSERIE_TEST_BUS_URL`.
 */

import assert from "node:assert/strict";
import { createActor, SimulatedClock } from "xstate";
import { shutdownMachine } from "../actors/shutdown.ts";
import { loadConfig } from "../config/config.ts";
import { silentLogger } from "../lib/log.ts";
import { silentSecurityLog } from "../lib/security_log.ts";
import { start } from "../main.ts";
import { countdownTo, decodeShutdownOrder } from "../runtime/cluster_shutdown.ts";
import { BUS_URL, eventually, privateRedis } from "./bus_fixture.ts";
import {
  clusterTest,
  type Instance,
  startCluster,
  TEST_BEAT_MS,
  TEST_CHECK_MS,
  TEST_DEAD_MS,
  TEST_GAP_WAIT_MS,
} from "./cluster_fixture.ts";
import { http, loginHttp, TestClient, WAIT_MS } from "./ws_client.ts";
import { closeAll, connect, member } from "./cluster_clients.ts";

const ADMIN_PASSWORD = "the admin's long password";

const ENV = {
  CAUSERIE_ADMIN_PASSWORD: ADMIN_PASSWORD,
  CAUSERIE_REGISTER_PER_ADDRESS_PER_HOUR: "0",
  CAUSERIE_REGISTER_PER_MINUTE: "0",
};

/** The `seconds` of the `shutdown` frames a client got, in order. */
function countdown(client: TestClient): number[] {
  return client.frames.filter((f) => f.type === "shutdown").map((f) => f.seconds as number);
}

/** Whether the instance still answers HTTP. */
async function answers(inst: Instance): Promise<boolean> {
  try {
    const res = await fetch(`${inst.url}/healthz`);
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

/** A welcomed session of `name` on `inst` (registered first, except the admin). */
function user(inst: Instance, name: string): Promise<TestClient> {
  return name === "admin" ? connect(inst, name, { password: ADMIN_PASSWORD }) : member(inst, name);
}

clusterTest(
  "cluster shutdown: an admin's shutdown on A counts down on B to the same deadline; both drain and stop",
  async () => {
    const cluster = await startCluster({ inProcess: 2, env: ENV });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      const admin = await user(a, "admin");
      const bob = await user(b, "bob");
      clients.push(admin, bob);
      const closedAt: Record<string, number> = {};
      admin.closed.then(() => closedAt.a = Date.now());
      bob.closed.then(() => closedAt.b = Date.now());
      const ok = await admin.request({ type: "shutdown", seconds: 3 });
      assert.equal(ok.type, "ok", JSON.stringify(ok));
      const first = await bob.next((f) => f.type === "shutdown", WAIT_MS, "shutdown on B");
      assert.deepEqual(first, { type: "shutdown", seconds: 3 });
      // B refuses new connections during the countdown, as one process does.
      const login = await http(b.url, "POST", "/api/login", {
        username: "bob",
        password: "bob long password",
      });
      assert.equal(login.status, 503, login.text);
      const [closeA, closeB] = await Promise.all([admin.closed, bob.closed]);
      assert.equal(closeA.code, 1001);
      assert.equal(closeB.code, 1001);
      assert.deepEqual(countdown(admin), [3, 2, 1]);
      assert.deepEqual(countdown(bob), [3, 2, 1], "B announced every second down to 1");
      // The same deadline: both instances closed their sockets within a fraction of a second.
      assert.ok(
        Math.abs(closedAt.a - closedAt.b) < 500,
        `A closed at ${closedAt.a}, B at ${closedAt.b}`,
      );
      await eventually(async () => !(await answers(a)) && !(await answers(b)), 10_000, "stopped");
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest(
  "cluster shutdown: a cancel on B (DELETE /admin/shutdown) cancels A's countdown too",
  async () => {
    const cluster = await startCluster({ inProcess: 2, env: ENV });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      const ann = await user(a, "ann");
      const bob = await user(b, "bob");
      clients.push(ann, bob);
      const tokenA = await loginHttp(a.url, "admin", ADMIN_PASSWORD);
      const tokenB = await loginHttp(b.url, "admin", ADMIN_PASSWORD);
      const started = await http(a.url, "POST", "/admin/shutdown", { seconds: 30 }, {
        authorization: `Bearer ${tokenA}`,
      });
      assert.equal(started.status, 202, started.text);
      assert.deepEqual(
        await bob.next((f) => f.type === "shutdown", WAIT_MS, "shutdown on B"),
        { type: "shutdown", seconds: 30 },
      );
      const cancel = await http(b.url, "DELETE", "/admin/shutdown", undefined, {
        authorization: `Bearer ${tokenB}`,
      });
      assert.ok(cancel.status < 300, cancel.text);
      await bob.next((f) => f.type === "shutdown_cancelled", WAIT_MS, "cancelled on B");
      await ann.next((f) => f.type === "shutdown_cancelled", WAIT_MS, "cancelled on A");
      // Both keep running and take new connections; the cancelled order never comes back.
      await new Promise((r) => setTimeout(r, 2500));
      for (const inst of [a, b]) {
        const res = await http(inst.url, "GET", "/readyz");
        assert.equal(res.status, 200, res.text);
      }
      assert.equal(countdown(ann).length <= 2, true, JSON.stringify(countdown(ann)));
      assert.equal(ann.frames.filter((f) => f.type === "shutdown_cancelled").length, 1);
      const ok = await bob.request({ type: "say", salon: "Général", text: "still here" });
      assert.equal(ok.type, "ok");
      // A new countdown after the cancel is a new order: it reaches B again.
      const again = await http(a.url, "POST", "/admin/shutdown", { seconds: 20 }, {
        authorization: `Bearer ${tokenA}`,
      });
      assert.equal(again.status, 202, again.text);
      await bob.next((f) => f.type === "shutdown" && f.seconds === 20, WAIT_MS, "second order");
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest("cluster shutdown: a signal to A stops A alone; B keeps running", async () => {
  const cluster = await startCluster({ inProcess: 2, env: ENV });
  const clients: TestClient[] = [];
  try {
    const [a, b] = cluster.instances;
    const ann = await user(a, "ann");
    const bob = await user(b, "bob");
    clients.push(ann, bob);
    a.server!.hub.signal();
    await ann.next((f) => f.type === "shutdown", WAIT_MS, "A counts down");
    // Longer than the repetition of an order: B would have heard of one by now.
    await new Promise((r) => setTimeout(r, 2500));
    assert.deepEqual(countdown(bob), []);
    assert.equal(b.server!.hub.isShuttingDown(), false);
    a.server!.hub.signal(); // a second signal skips A's countdown
    assert.equal((await ann.closed).code, 1001);
    const res = await http(b.url, "GET", "/readyz");
    assert.equal(res.status, 200, res.text);
    assert.equal(bob.isOpen, true);
  } finally {
    await closeAll(clients);
    await cluster.dispose();
  }
});

clusterTest(
  "cluster shutdown: an instance started during a countdown joins it and stops at the deadline",
  async () => {
    const cluster = await startCluster({ inProcess: 1, env: ENV });
    const clients: TestClient[] = [];
    let late: Awaited<ReturnType<typeof start>> | undefined;
    try {
      const [a] = cluster.instances;
      const admin = await user(a, "admin");
      clients.push(admin);
      assert.equal((await admin.request({ type: "shutdown", seconds: 5 })).type, "ok");
      late = await start(
        loadConfig({
          CAUSERIE_HOST: "127.0.0.1",
          CAUSERIE_PORT: "0",
          CAUSERIE_DB: cluster.db.url,
          CAUSERIE_BUS: BUS_URL!,
          CAUSERIE_NODE_BEAT_MS: String(TEST_BEAT_MS),
          CAUSERIE_NODE_DEAD_MS: String(TEST_DEAD_MS),
          CAUSERIE_SALON_GAP_WAIT_MS: String(TEST_GAP_WAIT_MS),
          CAUSERIE_SALON_CHECK_MS: String(TEST_CHECK_MS),
          CAUSERIE_SECURITY_LOG: "off",
          ...ENV,
        }),
        silentLogger,
        { adminSocket: false, securityLog: silentSecurityLog },
      );
      const lateServer = late;
      await eventually(() => lateServer.hub.isShuttingDown(), 3000, "the late instance counts");
      await admin.closed;
      const aClosedAt = Date.now();
      await eventually(
        async () => {
          try {
            const r = await fetch(`http://127.0.0.1:${lateServer.port}/healthz`);
            await r.body?.cancel();
            return false;
          } catch {
            return true;
          }
        },
        5000,
        "the late instance stopped",
      );
      assert.ok(Date.now() - aClosedAt < 1500, `stopped ${Date.now() - aClosedAt} ms after A`);
    } finally {
      await closeAll(clients);
      await late?.stop();
      await cluster.dispose();
    }
  },
);

Deno.test("cluster shutdown: decode refuses hostile payloads", () => {
  const now = 1_700_000_000_000;
  const good = now + 5000;
  assert.deepEqual(decodeShutdownOrder({ k: "start", deadline: good }, now), {
    kind: "start",
    deadline: good,
  });
  assert.deepEqual(decodeShutdownOrder({ o: "x", k: "cancel", deadline: good }, now), {
    kind: "cancel",
    deadline: good,
  });
  const bad: Record<string, unknown>[] = [
    {},
    { deadline: good },
    { k: "start" },
    { k: "stop", deadline: good },
    { k: "START", deadline: good },
    { k: 1, deadline: good },
    { k: null, deadline: good },
    { k: ["start"], deadline: good },
    { k: "start", deadline: String(good) },
    { k: "start", deadline: good + 0.5 },
    { k: "start", deadline: -good },
    { k: "start", deadline: 0 },
    { k: "start", deadline: null },
    { k: "start", deadline: Number.NaN },
    { k: "start", deadline: Infinity },
    { k: "start", deadline: 2 ** 60 },
    { k: "start", deadline: { valueOf: () => good } },
    { k: "start", deadline: now + 3600_000 + 120_000 }, // beyond the longest countdown
    { k: "x".repeat(100_000), deadline: good },
  ];
  for (const body of bad) {
    assert.equal(decodeShutdownOrder(body, now), undefined, JSON.stringify(body).slice(0, 80));
  }
});

Deno.test("cluster shutdown: countdownTo gives the whole seconds and a first tick reaching the deadline", () => {
  assert.deepEqual(countdownTo(10_000, 0), { seconds: 10, firstTickMs: 1000 });
  assert.deepEqual(countdownTo(10_000, 7_600), { seconds: 3, firstTickMs: 400 });
  assert.deepEqual(countdownTo(10_000, 9_999), { seconds: 1, firstTickMs: 1 });
  assert.equal(countdownTo(10_000, 10_000), undefined);
  assert.equal(countdownTo(10_000, 12_000), undefined);
});

Deno.test("shutdown machine: firstTickMs shortens the first second (joining a deadline)", () => {
  const clock = new SimulatedClock();
  const frames: string[] = [];
  const actor = createActor(shutdownMachine, {
    clock,
    input: { seconds: 3, firstTickMs: 400, broadcast: (f) => frames.push(f) },
  });
  actor.start();
  assert.deepEqual(frames, ['{"type":"shutdown","seconds":3}']);
  clock.increment(399);
  assert.equal(frames.length, 1);
  clock.increment(1);
  assert.deepEqual(frames.at(-1), '{"type":"shutdown","seconds":2}');
  clock.increment(999);
  assert.equal(frames.length, 2);
  clock.increment(1);
  assert.deepEqual(frames.at(-1), '{"type":"shutdown","seconds":1}');
  clock.increment(999);
  assert.equal(actor.getSnapshot().status, "active");
  clock.increment(1);
  assert.equal(actor.getSnapshot().status, "done");
  assert.deepEqual(actor.getSnapshot().output, { outcome: "done" });
});

clusterTest(
  "cluster shutdown: with Redis down the whole countdown, B follows the order recorded in MySQL",
  async () => {
    const redis = await privateRedis();
    const cluster = await startCluster({ inProcess: 2, env: ENV, bus: redis.url });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      const admin = await user(a, "admin");
      const bob = await user(b, "bob");
      clients.push(admin, bob);
      const closedAt: Record<string, number> = {};
      admin.closed.then(() => closedAt.a = Date.now());
      bob.closed.then(() => closedAt.b = Date.now());
      await redis.stop();
      await eventually(() => b.server!.cluster!.bus.status() === "down", 5000, "bus down on B");
      assert.equal((await admin.request({ type: "shutdown", seconds: 3 })).type, "ok");
      const first = await bob.next((f) => f.type === "shutdown", WAIT_MS, "shutdown on B");
      assert.ok(first.seconds === 3 || first.seconds === 2, JSON.stringify(first));
      const [closeA, closeB] = await Promise.all([admin.closed, bob.closed]);
      assert.equal(closeA.code, 1001);
      assert.equal(closeB.code, 1001);
      assert.deepEqual(countdown(bob).slice(-2), [2, 1]);
      assert.ok(
        Math.abs(closedAt.a - closedAt.b) < 500,
        `A closed at ${closedAt.a}, B at ${closedAt.b}: the same deadline`,
      );
      await eventually(async () => !(await answers(a)) && !(await answers(b)), 10_000, "stopped");
    } finally {
      await closeAll(clients);
      await cluster.dispose();
      await redis.dispose();
    }
  },
);
