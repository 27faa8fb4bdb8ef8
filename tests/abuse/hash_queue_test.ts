/**
 * Issue 9, item 2: the password-hash queue is bounded, logins go ahead of
 * registrations, and a full queue answers busy (`internal`, "try again") at
 * once instead of making everyone wait.
 */

import assert from "node:assert/strict";
import { HashQueue } from "../../auth/hash_queue.ts";
import { hashQueue } from "../../auth/password.ts";
import { ProtocolError } from "../../protocol/errors.ts";
import { registerOk, testApp } from "../helpers.ts";
import { session, startTestServer } from "../ws_client.ts";

/** Work that finishes when told. */
function gate(): { work: () => Promise<string>; open: () => void } {
  const done = Promise.withResolvers<string>();
  return { work: () => done.promise, open: () => done.resolve("done") };
}

Deno.test("hash queue: logins waiting go ahead of registrations; past maxWaiting, busy at once", async () => {
  const q = new HashQueue({ concurrency: 1, maxWaiting: 3 });
  const order: string[] = [];
  const first = gate();
  const running = q.run("other", first.work);
  const reg = q.run("other", () => Promise.resolve(void order.push("registration")));
  const login1 = q.run("login", () => Promise.resolve(void order.push("login 1")));
  const login2 = q.run("login", () => Promise.resolve(void order.push("login 2")));
  assert.equal(q.waiting, 3);
  await assert.rejects(
    q.run("login", () => Promise.resolve()),
    (e: unknown) =>
      e instanceof ProtocolError && e.code === "internal" && e.status === 503 &&
      /try again/.test(e.message) && e.extra.retryAfterSeconds === 2,
  );
  first.open();
  await Promise.all([running, reg, login1, login2]);
  assert.deepEqual(order, ["login 1", "login 2", "registration"]);
  assert.equal(q.waiting, 0);
  // The slots are all free again: work runs at once.
  assert.equal(await q.run("other", () => Promise.resolve("again")), "again");
});

Deno.test("hash queue full: /api/login answers 503 internal with Retry-After and counts no failure; the socket hello gets error internal", async () => {
  const srv = await startTestServer();
  const before = { maxWaiting: 64 };
  try {
    const res = await fetch(`${srv.url}/api/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "carol", alias: "Carol", password: "carol-password" }),
    });
    assert.equal(res.status, 201);
    await res.body?.cancel();
    // Occupy every slot and fill the line.
    hashQueue.configure({ maxWaiting: 0 });
    const blockers = Array.from({ length: 4 }, () => gate());
    const held = blockers.map((b) => hashQueue.run("other", b.work).catch(() => {}));
    const login = await fetch(`${srv.url}/api/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "carol", password: "carol-password" }),
    });
    assert.equal(login.status, 503);
    assert.equal(login.headers.get("retry-after"), "2");
    const body = await login.json();
    assert.equal(body.error.code, "internal");
    assert.match(body.error.message, /try again/);

    const client = await srv.connect("carol");
    client.send({ type: "hello", username: "carol", password: "carol-password", ref: "h" });
    const reply = await client.next((f) => f.type === "error");
    assert.equal(reply.code, "internal");
    assert.equal(reply.ref, "h");
    await client.closed;

    for (const b of blockers) b.open();
    await Promise.all(held);
    hashQueue.configure(before);
    // Nothing was counted against carol: the right password works at once.
    const { client: ok } = await session(srv, { username: "carol", password: "carol-password" });
    await ok.close();
  } finally {
    hashQueue.configure(before);
    await srv.stop();
  }
});

Deno.test("one address cannot fill the hash queue: its parallel guesses wait their turn, another address's login goes through", async () => {
  const t = await testApp();
  hashQueue.configure({ maxWaiting: 10 });
  try {
    await registerOk(t, "dora", "Dora", "dora-password");
    const guesses = Array.from(
      { length: 60 },
      (_, i) =>
        t.request(
          "POST",
          "/api/login",
          { username: `ghost${i}`, password: "wrong" },
          {},
          "10.9.0.1",
        ),
    );
    const dora = await t.request(
      "POST",
      "/api/login",
      { username: "dora", password: "dora-password" },
      {},
      "10.9.0.2",
    );
    assert.equal(dora.status, 200, dora.text);
    const statuses = (await Promise.all(guesses)).map((r) => r.status);
    assert.ok(!statuses.includes(503), `the attacker was queued, not refused: ${statuses}`);
  } finally {
    hashQueue.configure({ maxWaiting: 64 });
    await t.close();
  }
});
