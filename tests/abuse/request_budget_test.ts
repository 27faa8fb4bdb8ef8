/**
 * Issue 9, item 5 ("requests without a budget"), as a client sees it over
 * real sockets: every frame counts against a per-session budget (burst 40,
 * 20 per second), staying past it for 5 s closes with 1008 even if some
 * frames are answered, join/leave have a tighter per-user budget, a join
 * request reaches the moderators once per 10 minutes, `member_joined` is
 * coalesced, and membership writes do not stall the event loop.
 *
 * The server's clock is a manual one (`hub.now`): the budgets refill only
 * when the test advances it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createSecurityLog } from "../../lib/security_log.ts";
import { manualClock } from "../helpers.ts";
import {
  assertErrorFrame,
  assertServed,
  type Frame,
  registerHttp,
  session,
  startTestServer,
  type TestClient,
  withRef,
} from "../ws_client.ts";

const PASSWORD = "correct horse battery";

async function member(
  srv: Awaited<ReturnType<typeof startTestServer>>,
  username: string,
): Promise<TestClient> {
  await registerHttp(srv.url, username, username.toUpperCase(), PASSWORD);
  return (await session(srv, { username, password: PASSWORD }, username)).client;
}

/** Sends `frames`, then waits for the answer to the last (each carries a ref). */
async function sendAll(c: TestClient, frames: Array<Record<string, unknown>>): Promise<Frame[]> {
  const refs = frames.map((f) => {
    const ref = c.ref("b");
    c.send({ ...f, ref });
    return ref;
  });
  const answers: Frame[] = [];
  for (const ref of refs) answers.push(await c.next(withRef(ref)));
  return answers;
}

Deno.test("abuse: every frame counts against the request budget; a flooder is held to it and closed 1008 after 5 s", async () => {
  const lines: string[] = [];
  const srv = await startTestServer({}, {
    securityLog: createSecurityLog((line) => lines.push(line)),
  });
  try {
    const c = await member(srv, "alice");
    // 40 frames of any kind at once are carried out; the 41st, a ping, is not.
    // (`who` and `history` share a per-user bucket of 10: five of each.)
    const mixed = [
      { type: "ping" },
      { type: "who", salon: "Général" },
      { type: "ping" },
      { type: "nope" },
      { type: "ping" },
      { type: "history", salon: "Général" },
      { type: "ping" },
      { type: "nope" },
    ];
    const first = await sendAll(c, Array.from({ length: 40 }, (_, i) => mixed[i % 8]));
    assert.ok(first.every((f) => f.code !== "rate_limited"), JSON.stringify(first.at(-1)));
    const [over] = await sendAll(c, [{ type: "ping" }]);
    assertErrorFrame(over, "rate_limited", over.ref);
    const pastSince = Date.now();
    // Then 100 frames a second against a refill of 20 (real time: the server stops reading a
    // socket past its budget until a token is back, so the budget and the pauses share a clock).
    const seen = c.frames.length;
    while (c.isOpen && Date.now() - pastSince < 9_000) {
      for (let i = 0; i < 10; i++) c.send({ type: "ping", ref: c.ref("flood") });
      await new Promise((r) => setTimeout(r, 100));
    }
    const closedAfter = Date.now() - pastSince;
    assert.equal((await c.waitClosed()).code, 1008);
    assert.ok(closedAfter >= 5_000, `closed ${closedAfter} ms after going past the budget`);
    const during = c.frames.slice(seen);
    const pongs = during.filter((f) => f.type === "pong").length;
    // Held to the budget: at most 20 a second got through.
    assert.ok(
      pongs <= 20 * Math.ceil(closedAfter / 1000) + 1,
      `${pongs} pongs in ${closedAfter} ms`,
    );
    const floods = lines.map((l) => JSON.parse(l)).filter((r) => r.event === "flood");
    assert.equal(floods.length, 1);
    assert.equal(floods[0].username, "alice");
    assert.equal(floods[0].detail, "request budget");
  } finally {
    await srv.stop();
  }
});

Deno.test("abuse: a ping now and then does not let a stream of bad frames go on for ever", async () => {
  const clock = manualClock();
  const srv = await startTestServer({}, { hub: { now: clock.now } });
  try {
    const c = await member(srv, "alice");
    for (let t = 0; t < 5_000; t += 250) {
      const [answer] = await sendAll(c, [t % 1_000 === 500 ? { type: "ping" } : { type: "nope" }]);
      assert.equal(answer.type, t % 1_000 === 500 ? "pong" : "error");
      clock.advance(250);
    }
    c.send({ type: "nope" });
    assert.equal((await c.waitClosed()).code, 1008);
  } finally {
    await srv.stop();
  }
});

Deno.test("abuse: a join/leave loop costs moderators one join_request and listeners one member_joined", async () => {
  const clock = manualClock();
  const srv = await startTestServer({ CAUSERIE_ADMIN_PASSWORD: "admin secret pw" }, {
    hub: { now: clock.now },
  });
  try {
    const admin = (await session(srv, { username: "admin", password: "admin secret pw" })).client;
    const bob = await member(srv, "bob");
    assert.equal((await sendAll(bob, [{ type: "join", salon: "Blabla" }]))[0].type, "joined");
    const alice = await member(srv, "alice");
    // As fast as it can: 5 membership changes go through, the rest are refused.
    const loop = Array.from(
      { length: 20 },
      (_, i) => ({ type: i % 2 ? "leave" : "join", salon: "Blabla" }),
    );
    const fast = await sendAll(alice, loop);
    assert.equal(fast.filter((f) => f.code === "rate_limited").length, 15);
    // Within the budget (one every 2 s), for 24 s: join and leave an open and an approval salon.
    for (let i = 0; i < 3; i++) {
      const steps: Array<[Record<string, unknown>, string]> = [
        [{ type: "leave", salon: "Blabla" }, "left"],
        // A second request within 10 minutes is refused, so there is nothing to leave.
        [{ type: "join", salon: "Comptabilité" }, i === 0 ? "join_pending" : "rate_limited"],
        [{ type: "leave", salon: "Comptabilité" }, i === 0 ? "left" : "not_member"],
        [{ type: "join", salon: "Blabla" }, "joined"],
      ];
      for (const [frame, expected] of steps) {
        clock.advance(2_000);
        const [answer] = await sendAll(alice, [frame]);
        assert.equal(answer.code ?? answer.type, expected, JSON.stringify(answer));
      }
    }
    await assertServed(admin);
    await assertServed(bob);
    const requests = admin.frames.filter((f) => f.type === "join_request");
    assert.equal(requests.length, 1, "moderators hear of alice's request once");
    const joined = bob.frames.filter((f) =>
      f.type === "member_joined" && f.user.username === "alice"
    );
    assert.equal(joined.length, 1, "listeners hear of alice once");
  } finally {
    await srv.stop();
  }
});

Deno.test("abuse: membership writes do not stall the event loop (SQLite file)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "causerie-abuse-" });
  const path = `${dir}/c.db`;
  const srv = await startTestServer({ CAUSERIE_DB: `sqlite:${path}` });
  let locker: DatabaseSync | undefined;
  try {
    const alice = await member(srv, "alice");
    const bob = await member(srv, "bob");
    // Another writer holds the database: a write has to wait for it.
    locker = new DatabaseSync(path);
    locker.exec("BEGIN IMMEDIATE");
    const joinRef = alice.ref("join");
    alice.send({ type: "join", salon: "Blabla", ref: joinRef });
    const started = performance.now();
    await assertServed(bob);
    const waited = performance.now() - started;
    locker.exec("ROLLBACK");
    assert.ok(waited < 1_000, `bob waited ${Math.round(waited)} ms for a pong during a join`);
    assert.equal((await alice.next(withRef(joinRef))).type, "joined");
  } finally {
    locker?.close();
    await srv.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
