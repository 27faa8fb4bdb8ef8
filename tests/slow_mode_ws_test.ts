/**
 * Slow mode over real sockets (PROTOCOL 5.4): `salon_settings` to connected
 * members, `slowModeSeconds` in salon views, a member's `say` too early is
 * refused with `retryAfter` (whole seconds, rounded up) at the top level and
 * uses no token of the message bucket, moderators and admins are exempt; the
 * boundary is exact (SimulatedClock).
 *
 * @module
 */

import assert from "node:assert/strict";
import { http, loginHttp, session } from "./ws_client.ts";
import { pw } from "./admin_fixture.ts";
import { assertRefusal, member, say, startClocked } from "./mute_fixture.ts";

Deno.test("slow mode: refused at seconds - 1 ms with retryAfter 1, accepted at exactly seconds; no token used", async () => {
  // A bucket of 2 that barely refills: without the token given back, the refusals would empty it.
  const server = await startClocked({
    env: { CAUSERIE_RATE_BURST: "2", CAUSERIE_RATE_PER_SECOND: "0.001" },
  });
  try {
    const mod = await member(server, "modo", "moderator");
    const bob = await member(server, "bob");
    const alice = await member(server, "alice");
    const ok = await mod.request({ type: "slow_mode", salon: "général", seconds: 30 });
    assert.deepEqual(ok, { type: "ok", ref: ok.ref, seconds: 30 });
    for (const c of [mod, bob, alice]) {
      assert.deepEqual(await c.nextOfType("salon_settings"), {
        type: "salon_settings",
        salon: "Général",
        slowModeSeconds: 30,
      });
    }
    assert.equal((await say(bob, "Général", "first")).type, "ok");
    for (let i = 0; i < 5; i++) {
      const refused = await say(bob, "Général", `again ${i}`);
      assertRefusal(refused, "slow_mode", refused.ref, ["retryAfter"]);
      assert.equal(refused.retryAfter, 30);
    }
    server.clock.increment(1);
    assert.equal((await say(bob, "Général", "x")).retryAfter, 30, "29.999 s: rounded up");
    server.clock.increment(29_998);
    const last = await say(bob, "Général", "one ms early");
    assertRefusal(last, "slow_mode", last.ref, ["retryAfter"]);
    assert.equal(last.retryAfter, 1);
    server.clock.increment(1);
    assert.equal((await say(bob, "Général", "on time")).type, "ok");
    // Another member's wait is their own; moderators are exempt.
    assert.equal((await say(alice, "Général", "me too")).type, "ok");
    assert.equal((await say(mod, "Général", "mod 1")).type, "ok");
    assert.equal((await say(mod, "Général", "mod 2")).type, "ok");
    // Only what was accepted was stored.
    const history = await alice.request({ type: "history", salon: "Général" });
    assert.deepEqual(history.messages.map((m: { text: string }) => m.text), [
      "first",
      "on time",
      "me too",
      "mod 1",
      "mod 2",
    ]);
  } finally {
    await server.stop();
  }
});

Deno.test("slow mode shows in welcome and GET /api/me, applies per salon, 0 turns it off, audited", async () => {
  const server = await startClocked();
  try {
    const bob = await member(server, "bob");
    const res = await server.sock("PUT", "/admin/salons/Blabla/slow-mode", { seconds: 60 });
    assert.deepEqual(res.body, { ok: true, salon: "Blabla", slowModeSeconds: 60 });
    const token = await loginHttp(server.srv.url, "bob", pw("bob"));
    const { welcome } = await session(server.srv, { token }, "bob-2");
    const view = (salons: Array<{ name: string; slowModeSeconds: number }>) =>
      Object.fromEntries(salons.map((s) => [s.name, s.slowModeSeconds]));
    const expected = {
      "Général": 0,
      Blabla: 60,
      "Comptabilité": 0,
      Informatique: 0,
      Marketing: 0,
    };
    assert.deepEqual(view(welcome.salons), expected);
    const me = await http(server.srv.url, "GET", "/api/me", undefined, {
      authorization: `Bearer ${token}`,
    });
    assert.deepEqual(view(me.body!.salons), expected);

    assert.equal((await bob.request({ type: "join", salon: "Blabla" })).type, "joined");
    assert.equal((await say(bob, "Blabla", "1")).type, "ok");
    assert.equal((await say(bob, "Blabla", "2")).code, "slow_mode");
    assert.equal((await say(bob, "Général", "elsewhere")).type, "ok");
    assert.equal((await say(bob, "Général", "elsewhere again")).type, "ok");

    const off = await server.sock("PUT", "/admin/salons/blabla/slow-mode", { seconds: 0 });
    assert.equal(off.status, 200, off.text);
    assert.deepEqual(
      await bob.next((f) => f.type === "salon_settings" && f.slowModeSeconds === 0),
      {
        type: "salon_settings",
        salon: "Blabla",
        slowModeSeconds: 0,
      },
    );
    assert.equal((await say(bob, "Blabla", "3")).type, "ok");
    const entries = (await server.sock("GET", "/admin/audit?limit=2")).body.entries;
    assert.deepEqual(
      entries.map((e: { action: string; target: string; reason: string; via: string }) => [
        e.action,
        e.target,
        e.reason,
        e.via,
      ]),
      [["slow_mode", "Blabla", "off", "socket"], ["slow_mode", "Blabla", "60 s", "socket"]],
    );
  } finally {
    await server.stop();
  }
});
