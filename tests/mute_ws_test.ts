/**
 * Mute over real sockets (PROTOCOL 5.4): a muted user stays connected and
 * reads, `say` (and `direct` for a mute everywhere) get `error muted` with
 * `until` at the top level, `muted`/`unmuted` reach every session, the end
 * is exact (SimulatedClock), and a restart neither forgets nor extends it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SimulatedClock } from "xstate";
import { assertServed, loginHttp, session } from "./ws_client.ts";
import { pw } from "./admin_fixture.ts";
import { assertRefusal, listed, member, say, settle, startClocked } from "./mute_fixture.ts";

const MINUTE = 60_000;

Deno.test("a mute everywhere: muted frames, say and direct refused with until, reading goes on; over at its end exactly", async () => {
  const server = await startClocked();
  try {
    const mod = await member(server, "modo", "moderator");
    const bob = await member(server, "bob");
    const alice = await member(server, "alice");
    const bob2 = (await session(server.srv, { username: "bob", password: pw("bob") }, "bob-2"))
      .client;
    const t0 = server.clock.now();

    const ok = await mod.request({ type: "mute", username: "bob", minutes: 10, reason: "calm" });
    const until = new Date(t0 + 10 * MINUTE).toISOString();
    assert.deepEqual(ok, { type: "ok", ref: ok.ref, until });
    for (const c of [bob, bob2]) {
      assert.deepEqual(await c.nextOfType("muted"), { type: "muted", until, reason: "calm" });
    }

    const refused = await say(bob, "Général", "hello?");
    assertRefusal(refused, "muted", refused.ref, ["until"]);
    assert.equal(refused.until, until);
    const direct = await bob.request({ type: "direct", to: "alice", text: "psst" });
    assertRefusal(direct, "muted", direct.ref, ["until"]);
    assert.equal(direct.until, until);
    // Still connected, still reading.
    await assertServed(bob);
    const said = await say(alice, "Général", "anyone?");
    assert.equal(said.type, "ok");
    assert.equal((await bob.nextOfType("message")).text, "anyone?");
    // Nothing of bob's was stored.
    const history = await alice.request({ type: "history", salon: "Général" });
    assert.deepEqual(history.messages.map((m: { text: string }) => m.text), ["anyone?"]);
    assert.equal((await listed(server, "bob")).mutedUntil, until);

    server.clock.increment(10 * MINUTE - 1);
    await settle();
    const stillMuted = await say(bob, "Général", "now?");
    assert.equal(stillMuted.code, "muted", "still muted 1 ms before the end");
    server.clock.increment(1);
    for (const c of [bob, bob2]) {
      assert.deepEqual(await c.nextOfType("unmuted"), { type: "unmuted" });
    }
    assert.equal((await say(bob, "Général", "back")).type, "ok");
    assert.equal((await bob.request({ type: "direct", to: "alice", text: "hi" })).type, "ok");
    assert.equal((await listed(server, "bob")).mutedUntil, undefined);
  } finally {
    await server.stop();
  }
});

Deno.test("a mute in one salon: say refused there only, direct allowed; unmute ends it at once", async () => {
  const server = await startClocked();
  try {
    const mod = await member(server, "modo", "moderator");
    const bob = await member(server, "bob");
    assert.equal((await bob.request({ type: "join", salon: "Blabla" })).type, "joined");
    const t0 = server.clock.now();
    const ok = await mod.request({ type: "mute", username: "bob", salon: "blabla" });
    const until = new Date(t0 + 10 * MINUTE).toISOString(); // the default: 10 minutes
    assert.equal(ok.until, until);
    assert.deepEqual(await bob.nextOfType("muted"), { type: "muted", salon: "Blabla", until });
    const refused = await say(bob, "Blabla", "x");
    assertRefusal(refused, "muted", refused.ref, ["until"]);
    assert.equal((await say(bob, "Général", "fine here")).type, "ok");
    assert.equal((await bob.request({ type: "direct", to: "modo", text: "why?" })).type, "ok");
    assert.deepEqual((await listed(server, "bob")).mutedIn, [{ salon: "Blabla", until }]);

    const lifted = await mod.request({ type: "unmute", username: "bob", salon: "Blabla" });
    assert.deepEqual(lifted, { type: "ok", ref: lifted.ref, lifted: 1 });
    assert.deepEqual(await bob.nextOfType("unmuted"), { type: "unmuted", salon: "Blabla" });
    assert.equal((await say(bob, "Blabla", "thanks")).type, "ok");
    const again = await mod.request({ type: "unmute", username: "bob", salon: "Blabla" });
    assert.deepEqual(again, { type: "ok", ref: again.ref, lifted: 0 }, "nothing to lift: no error");
    const audit = (await server.sock("GET", "/admin/audit?limit=2")).body.entries;
    assert.deepEqual(
      audit.map((e: { action: string; target: string; via: string }) => [
        e.action,
        e.target,
        e.via,
      ]),
      [["unmute", "bob@Blabla", "ws"], ["unmute", "bob@Blabla", "ws"]],
    );
    const muteEntry = (await server.sock("GET", "/admin/audit?limit=3")).body.entries[2];
    assert.deepEqual([muteEntry.action, muteEntry.target, muteEntry.actor], [
      "mute",
      "bob@Blabla",
      "modo",
    ]);
  } finally {
    await server.stop();
  }
});

Deno.test("a new mute of the same user and salon replaces the previous one (shorter too)", async () => {
  const server = await startClocked();
  try {
    const mod = await member(server, "modo", "moderator");
    const bob = await member(server, "bob");
    const t0 = server.clock.now();
    await mod.request({ type: "mute", username: "bob", minutes: 60 });
    await bob.nextOfType("muted");
    const second = await mod.request({ type: "mute", username: "bob", minutes: 1 });
    assert.equal(second.until, new Date(t0 + MINUTE).toISOString());
    assert.equal((await bob.nextOfType("muted")).until, second.until);
    assert.equal((await say(bob, "Général", "x")).until, second.until);
    server.clock.increment(MINUTE);
    assert.deepEqual(await bob.nextOfType("unmuted"), { type: "unmuted" });
    assert.equal((await say(bob, "Général", "free")).type, "ok");
    // The first mute's actor is gone too: it will not end anything later.
    const actors = (await server.sock("GET", "/admin/actors")).body.actors;
    assert.deepEqual(actors.filter((a: { machine: string }) => a.machine === "mute"), []);
  } finally {
    await server.stop();
  }
});

Deno.test("a session opened while muted is told at once, after its welcome", async () => {
  const server = await startClocked();
  try {
    await member(server, "bob");
    const res = await server.sock("POST", "/admin/users/bob/mute", {
      minutes: 5,
      salon: "Général",
    });
    assert.equal(res.status, 200, res.text);
    const { client } = await session(server.srv, { username: "bob", password: pw("bob") }, "late");
    assert.deepEqual(await client.nextOfType("muted"), {
      type: "muted",
      salon: "Général",
      until: res.body.until,
    });
  } finally {
    await server.stop();
  }
});

Deno.test("a restart neither forgets nor extends a mute; it ends at its original time", async () => {
  const dir = await Deno.makeTempDir({ prefix: "causerie-mute-restart-" });
  const env = { CAUSERIE_DB: `sqlite:${dir}/causerie.db` };
  try {
    const clock = new SimulatedClock();
    clock.set(Date.now());
    const first = await startClocked({ env, dir, clock });
    let until: string;
    try {
      await member(first, "bob");
      const res = await first.sock("POST", "/admin/users/bob/mute", { minutes: 10 });
      assert.equal(res.status, 200, res.text);
      until = res.body.until;
      // Slow mode is stored with the salon too.
      const slow = await first.sock("PUT", "/admin/salons/Blabla/slow-mode", { seconds: 30 });
      assert.deepEqual(slow.body, { ok: true, salon: "Blabla", slowModeSeconds: 30 });
    } finally {
      await first.stop();
    }
    // Five minutes later, a new process on the same file and a clock that went on.
    const later = new SimulatedClock();
    later.set(clock.now() + 5 * MINUTE);
    const second = await startClocked({ env, dir, clock: later });
    try {
      const token = await loginHttp(second.srv.url, "bob", pw("bob"));
      const { client, welcome } = await session(second.srv, { token }, "bob");
      assert.equal(
        welcome.salons.find((s: { name: string }) => s.name === "Blabla").slowModeSeconds,
        30,
      );
      assert.deepEqual(await client.nextOfType("muted"), { type: "muted", until });
      assert.equal((await listed(second, "bob")).mutedUntil, until);
      later.increment(5 * MINUTE - 1);
      assert.equal((await say(client, "Général", "x")).until, until, "not forgotten");
      later.increment(1);
      assert.deepEqual(await client.nextOfType("unmuted"), { type: "unmuted" });
      assert.equal((await say(client, "Général", "free")).type, "ok", "not extended");
    } finally {
      await second.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
