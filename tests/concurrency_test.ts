/**
 * Throttling must stop parallel guessing without refusing honest users who
 * share one address (a NAT, a reverse proxy) and log in at the same moment;
 * and a second stop signal must never be mistaken for a first.
 */

import assert from "node:assert/strict";
import { KeyedGate } from "../auth/throttle.ts";
import { registerOk, testApp } from "./helpers.ts";
import { registerHttp, startTestServer } from "./ws_client.ts";

Deno.test("40 users behind one address logging in at once all get in", async () => {
  const t = await testApp();
  try {
    const names = Array.from({ length: 40 }, (_, i) => `natuser${i}`);
    await Promise.all(names.map((n) => registerOk(t, n, `Nat ${n}`, `${n} password`)));
    const answers = await Promise.all(
      names.map((n) =>
        t.request("POST", "/api/login", { username: n, password: `${n} password` }, {}, "10.9.9.9")
      ),
    );
    assert.deepEqual(answers.map((a) => a.status), names.map(() => 200));
  } finally {
    await t.close();
  }
});

// Issue 9 raised the per-address limit from 20 to 100 failures (15 minutes).
Deno.test("parallel guesses from one address still stop at 100 failures", async () => {
  const t = await testApp();
  try {
    const answers = await Promise.all(
      Array.from({ length: 110 }, (_, i) =>
        t.request(
          "POST",
          "/api/login",
          { username: `ghost${i}`, password: "wrong password" },
          {},
          "10.8.8.8",
        )),
    );
    const statuses = answers.map((a) => a.status).sort();
    assert.equal(statuses.filter((s) => s === 401).length, 100);
    assert.equal(statuses.filter((s) => s === 429).length, 10);
  } finally {
    await t.close();
  }
});

Deno.test("KeyedGate: at most the allowance runs per key, the rest wait in order", async () => {
  const gate = new KeyedGate();
  const order: string[] = [];
  const a1 = await gate.acquire("k", () => 2);
  const a2 = await gate.acquire("k", () => 2);
  const third = gate.acquire("k", () => 2).then((release) => {
    order.push("third");
    return release;
  });
  const other = await gate.acquire("other", () => 1); // another key is not held up
  order.push("other");
  await Promise.resolve();
  assert.deepEqual(order, ["other"]);
  a1();
  const r3 = await third;
  assert.deepEqual(order, ["other", "third"]);
  a2();
  r3();
  other();
  a1(); // releasing twice is harmless
  const again = await gate.acquire("k", () => 1);
  again();
});

Deno.test("a second signal right behind the first skips the countdown", async () => {
  const stopped = Promise.withResolvers<void>();
  const srv = await startTestServer({ CAUSERIE_SHUTDOWN_SECONDS: "30" }, {
    onStopped: () => stopped.resolve(),
  });
  try {
    const client = await srv.connect("watcher");
    await registerHttp(srv.url, "watcher", "Watcher", "watcher password");
    client.send({ type: "hello", username: "watcher", password: "watcher password" });
    await client.next((f) => f.type === "welcome", 10_000, "welcome");
    // Both signals arrive before the first has been recorded.
    srv.server.hub.signal();
    srv.server.hub.signal();
    await stopped.promise;
    assert.equal((await client.closed).code, 1001);
    const countdown = client.frames.filter((f) => f.type === "shutdown").map((f) => f.seconds);
    assert.ok(!countdown.includes(1), `the countdown ran to the end: ${countdown}`);
  } finally {
    await srv.stop();
  }
});
