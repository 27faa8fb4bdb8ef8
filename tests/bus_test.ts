/**
 * The bus between instances (issue 15, item 1): the memory adapter, and the
 * Redis adapter against a real redis-server (skipped, named so, without
 * `CAUSERIE_TEST_BUS_URL`).
 */

import assert from "node:assert/strict";
import { MemoryBroker, MemoryBus } from "../bus/memory_bus.ts";
import { openRedisBus, type RedisBus } from "../bus/redis_bus.ts";
import type { Bus, BusStatus } from "../bus/bus.ts";
import { BUS_URL, busTest, eventually, privateRedis, uniquePrefix } from "./bus_fixture.ts";

/** What a subscription received, in order. */
function collector(): { got: string[]; handler: (p: string) => void } {
  const got: string[] = [];
  return { got, handler: (p) => got.push(p) };
}

/** The scenarios every adapter passes; `pair` makes two buses on one server, `other` another prefix. */
function sharedScenarios(
  label: string,
  open: (prefix: string) => Promise<Bus>,
  skip: (name: string, fn: () => Promise<void>) => void,
): void {
  skip(`${label}: a publish reaches every subscriber of the channel, on every bus`, async () => {
    const prefix = uniquePrefix();
    const a = await open(prefix);
    const b = await open(prefix);
    try {
      const onA = collector();
      const onB = collector();
      const other = collector();
      await a.subscribe("salon:1", onA.handler);
      await b.subscribe("salon:1", onB.handler);
      await b.subscribe("salon:2", other.handler);
      for (let i = 1; i <= 5; i++) await a.publish("salon:1", `m${i}`);
      await eventually(() => onA.got.length === 5 && onB.got.length === 5, 5000, "5 each");
      assert.deepEqual(onB.got, ["m1", "m2", "m3", "m4", "m5"]);
      assert.deepEqual(onA.got, onB.got);
      assert.deepEqual(other.got, []);
    } finally {
      await a.close();
      await b.close();
    }
  });

  skip(`${label}: channels are prefixed: another database's instances hear nothing`, async () => {
    const a = await open(uniquePrefix());
    const b = await open(uniquePrefix());
    try {
      const onA = collector();
      const onB = collector();
      await a.subscribe("salon:1", onA.handler);
      await b.subscribe("salon:1", onB.handler);
      await b.publish("salon:1", "for b only");
      await eventually(() => onB.got.length === 1, 5000, "b hears its own");
      await a.publish("salon:1", "for a only");
      await eventually(() => onA.got.length === 1, 5000, "a hears its own");
      assert.deepEqual(onA.got, ["for a only"]);
      assert.deepEqual(onB.got, ["for b only"]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  skip(`${label}: unsubscribing stops delivery to that handler only`, async () => {
    const prefix = uniquePrefix();
    const a = await open(prefix);
    try {
      const one = collector();
      const two = collector();
      const off = await a.subscribe("x", one.handler);
      await a.subscribe("x", two.handler);
      await a.publish("x", "1");
      await eventually(() => one.got.length === 1 && two.got.length === 1, 5000, "both");
      await off();
      await a.publish("x", "2");
      await eventually(() => two.got.length === 2, 5000, "second");
      assert.deepEqual(one.got, ["1"]);
    } finally {
      await a.close();
    }
  });
}

// --- memory adapter ---------------------------------------------------------------------------

const broker = new MemoryBroker();
sharedScenarios(
  "memory bus",
  (prefix) => Promise.resolve(new MemoryBus(broker, prefix)),
  (name, fn) => Deno.test(name, fn),
);

Deno.test("memory bus: down, publishes reject; back, resubscribed is told and delivery resumes", async () => {
  const broker = new MemoryBroker();
  const a = new MemoryBus(broker, "db");
  const b = new MemoryBus(broker, "db");
  const got = collector();
  let resubscribed = 0;
  b.onResubscribed(() => resubscribed++);
  await b.subscribe("s", got.handler);
  broker.down();
  assert.equal(a.status(), "down");
  await assert.rejects(a.publish("s", "lost"), /down/);
  await assert.rejects(a.ping(100), /down/);
  broker.restart();
  assert.equal(resubscribed, 1);
  assert.equal(a.status(), "up");
  await a.publish("s", "after");
  await eventually(() => got.got.length === 1, 1000, "delivered");
  assert.deepEqual(got.got, ["after"]);
  await a.close();
  await b.close();
  assert.equal(b.status(), "down");
});

// --- Redis adapter ----------------------------------------------------------------------------

sharedScenarios(
  "redis bus",
  (prefix) => openRedisBus({ url: BUS_URL!, prefix }),
  busTest,
);

busTest(
  "redis bus: an unreachable Redis stops start-up with one line naming CAUSERIE_BUS",
  async () => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    await assert.rejects(
      openRedisBus({
        url: `redis://:secretpw@127.0.0.1:${port}/0`,
        prefix: "p",
        connectTimeoutMs: 1000,
      }),
      (e: Error) => {
        assert.match(e.message, new RegExp(`cannot reach Redis at 127\\.0\\.0\\.1:${port}`));
        assert.match(e.message, /CAUSERIE_BUS/);
        assert.doesNotMatch(e.message, /secretpw|\n/);
        return true;
      },
    );
  },
);

busTest(
  "redis bus: Redis restarted mid-stream: down, then resubscribed, and delivery resumes",
  async () => {
    const redis = await privateRedis();
    const statuses: BusStatus[] = [];
    let a: RedisBus | undefined;
    let b: RedisBus | undefined;
    try {
      const prefix = uniquePrefix();
      a = await openRedisBus({ url: redis.url, prefix });
      b = await openRedisBus({ url: redis.url, prefix, onStatus: (s) => statuses.push(s) });
      const got = collector();
      let resubscribed = 0;
      b.onResubscribed(() => resubscribed++);
      await b.subscribe("salon:1", got.handler);
      await a.publish("salon:1", "before");
      await eventually(() => got.got.length === 1, 5000, "before the restart");

      await redis.stop();
      await eventually(() => a!.status() === "down" && b!.status() === "down", 5000, "down");
      await assert.rejects(a.publish("salon:1", "while down"));
      await assert.rejects(b.ping(500));

      await redis.start();
      await eventually(() => resubscribed === 1, 10_000, "resubscribed told");
      await eventually(() => a!.status() === "up" && b!.status() === "up", 10_000, "both back");
      await a.publish("salon:1", "after");
      await eventually(() => got.got.length === 2, 5000, "after the restart");
      assert.deepEqual(got.got, ["before", "after"]);
      await b.ping(1000);
      assert.deepEqual(statuses, ["down", "up"]);
    } finally {
      await a?.close();
      await b?.close();
      await redis.dispose();
    }
  },
);

busTest(
  "redis bus: the self-probe finds a silent subscription: reconnects, resubscribed is told, delivery resumes",
  async () => {
    const redis = await privateRedis();
    let a: RedisBus | undefined;
    let b: RedisBus | undefined;
    try {
      const prefix = uniquePrefix();
      let silent = 0;
      a = await openRedisBus({ url: redis.url, prefix, probeMs: 0 });
      b = await openRedisBus({ url: redis.url, prefix, probeMs: 100, onSilent: () => silent++ });
      const got = collector();
      let resubscribed = 0;
      b.onResubscribed(() => resubscribed++);
      await b.subscribe("salon:1", got.handler);
      await a.publish("salon:1", "before");
      await eventually(() => got.got.length === 1, 5000, "before the silence");

      // The connection stays up, Redis acknowledges publishes, nothing arrives.
      b.silenceForTests();
      await a.publish("salon:1", "lost");
      await eventually(() => resubscribed === 1, 5000, "resubscribed told after the probe");
      assert.equal(silent, 1);
      assert.equal(b.status(), "up");
      await a.publish("salon:1", "after");
      await eventually(() => got.got.includes("after"), 5000, "delivery resumed");
      assert.deepEqual(got.got, ["before", "after"], "what the silence swallowed is not replayed");
    } finally {
      await a?.close();
      await b?.close();
      await redis.dispose();
    }
  },
);

busTest("redis bus: a healthy subscription never trips the self-probe", async () => {
  let silent = 0;
  let resubscribed = 0;
  const bus = await openRedisBus({
    url: BUS_URL!,
    prefix: uniquePrefix(),
    probeMs: 50,
    onSilent: () => silent++,
  });
  try {
    bus.onResubscribed(() => resubscribed++);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(silent, 0);
    assert.equal(resubscribed, 0);
  } finally {
    await bus.close();
  }
});
