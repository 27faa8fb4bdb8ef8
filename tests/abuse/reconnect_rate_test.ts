/**
 * Issue 9, item 6 ("rate limit reset by reconnecting"), over real sockets:
 * the `say`/`direct` bucket belongs to the user, so "connect, hello, 10
 * says, close" in a loop stays at the configured rate overall, and two
 * sessions of a user share one bucket.
 *
 * @module
 */

import assert from "node:assert/strict";
import { manualClock } from "../helpers.ts";
import { registerHttp, session, startTestServer, withRef } from "../ws_client.ts";

const PASSWORD = "correct horse battery";

Deno.test("abuse: reconnecting does not refill the say bucket (real clock)", async () => {
  const srv = await startTestServer();
  try {
    await registerHttp(srv.url, "alice", "Alice", PASSWORD);
    const { client: first, welcome } = await session(srv, {
      username: "alice",
      password: PASSWORD,
    });
    await first.close();
    const started = performance.now();
    let oks = 0;
    for (let round = 0; round < 5; round++) {
      const { client } = await session(srv, { token: welcome.token }, `alice-${round}`);
      const refs = Array.from({ length: 10 }, (_, i) => {
        const ref = `r${round}-${i}`;
        client.send({ type: "say", salon: "Général", text: `spam ${round}.${i}`, ref });
        return ref;
      });
      for (const ref of refs) if ((await client.next(withRef(ref))).type === "ok") oks++;
      await client.close();
    }
    const seconds = (performance.now() - started) / 1000;
    // A bucket of 10 refilled at 5 per second, whatever the number of connections.
    const allowed = 10 + Math.ceil(5 * seconds) + 1;
    assert.ok(
      oks <= allowed,
      `${oks} messages accepted in ${seconds.toFixed(2)} s (at most ${allowed})`,
    );
  } finally {
    await srv.stop();
  }
});

Deno.test("abuse: two sessions of a user share one say bucket; another user has their own", async () => {
  const clock = manualClock();
  const srv = await startTestServer({}, { hub: { now: clock.now } });
  try {
    await registerHttp(srv.url, "alice", "Alice", PASSWORD);
    await registerHttp(srv.url, "bob", "Bob", PASSWORD);
    const a1 = await session(srv, { username: "alice", password: PASSWORD }, "a1");
    const a2 = await session(srv, { token: a1.welcome.token }, "a2");
    const b = await session(srv, { username: "bob", password: PASSWORD }, "b");
    const say = async (c: typeof a1.client, ref: string) => {
      c.send({ type: "say", salon: "Général", text: "hi", ref });
      return (await c.next(withRef(ref))).type === "ok" ? 1 : 0;
    };
    let alice = 0;
    for (let i = 0; i < 8; i++) alice += await say(a1.client, `a1-${i}`);
    for (let i = 0; i < 8; i++) alice += await say(a2.client, `a2-${i}`);
    let bob = 0;
    for (let i = 0; i < 10; i++) bob += await say(b.client, `b-${i}`);
    assert.equal(alice, 10);
    assert.equal(bob, 10);
    clock.advance(1_000);
    let later = 0;
    for (let i = 0; i < 4; i++) later += await say(a1.client, `a1-later-${i}`);
    for (let i = 0; i < 4; i++) later += await say(a2.client, `a2-later-${i}`);
    assert.equal(later, 5, "five tokens a second for the user, not per session");
  } finally {
    await srv.stop();
  }
});
