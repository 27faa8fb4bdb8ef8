/**
 * Mentions over real sockets (PROTOCOL.md 5.3): `message` events and history
 * items carry `mentions` (the salon's members written as `@username`, at
 * most 20), absent when none; direct messages carry none.
 */

import assert from "node:assert/strict";
import { manualClock } from "./helpers.ts";
import { type Frame, startTestServer, type TestClient } from "./ws_client.ts";
import { login, users } from "./ws_users.ts";

/** `say` and wait for its `ok`; returns the new id. */
async function say(client: TestClient, salon: string, text: string): Promise<number> {
  const ok = await client.request({ type: "say", salon, text });
  assert.equal(ok.type, "ok", JSON.stringify(ok));
  return ok.id;
}

/** The `message` event of salon `salon` with id `id`, as `client` receives it. */
function message(client: TestClient, salon: string, id: number): Promise<Frame> {
  return client.next((f) => f.type === "message" && f.salon === salon && f.id === id);
}

/** The frame without its `type`, as history items are. */
function withoutType(frame: Frame): Record<string, unknown> {
  const { type: _type, ...rest } = frame;
  return rest;
}

/** The whole history of a salon (at most 200 messages). */
async function history(client: TestClient, salon: string): Promise<Frame[]> {
  const reply = await client.request({ type: "history", salon, limit: 200 });
  assert.equal(reply.type, "history", JSON.stringify(reply));
  return reply.messages;
}

Deno.test("say with @bob: every member gets a message with mentions, the history item carries it; none: no field", async () => {
  const clock = manualClock();
  const srv = await startTestServer({}, { hub: { now: clock.now } });
  try {
    await users(srv, "alice", "Bob", "carol");
    const a = await login(srv, "alice");
    const b = await login(srv, "Bob");
    const c = await login(srv, "carol");

    const id = await say(a.client, "Général", "salut @bob, (@Carol) et @nobody, mail x@alice.");
    const at = new Date(clock.now()).toISOString();
    const expected = {
      type: "message",
      salon: "Général",
      id,
      from: { username: "alice", alias: "Alice" },
      text: "salut @bob, (@Carol) et @nobody, mail x@alice.",
      at,
      mentions: ["Bob", "carol"],
    };
    for (const client of [a.client, b.client, c.client]) {
      assert.deepEqual(await message(client, "Général", id), expected);
    }

    const plain = await say(b.client, "Général", "no mention, only an @ and x@bob");
    for (const client of [a.client, b.client, c.client]) {
      const m = await message(client, "Général", plain);
      assert.equal("mentions" in m, false, JSON.stringify(m));
    }

    const items = await history(c.client, "Général");
    assert.deepEqual(items.map((m) => m.id), [id, plain]);
    assert.deepEqual(items[0], withoutType(expected));
    assert.equal("mentions" in items[1], false, JSON.stringify(items[1]));
  } finally {
    await srv.stop();
  }
});

Deno.test("mentions list members of the salon at send time only, and history keeps what was sent", async () => {
  const srv = await startTestServer();
  try {
    await users(srv, "alice", "bob", "carol");
    const a = await login(srv, "alice");
    const b = await login(srv, "bob");
    const c = await login(srv, "carol");
    for (const s of [a, b]) {
      assert.equal((await s.client.request({ type: "join", salon: "Blabla" })).type, "joined");
    }
    // carol is not a member of Blabla: not listed.
    const first = await say(a.client, "Blabla", "@carol @bob @alice");
    assert.deepEqual((await message(b.client, "Blabla", first)).mentions, ["bob", "alice"]);

    assert.equal((await c.client.request({ type: "join", salon: "Blabla" })).type, "joined");
    const second = await say(a.client, "Blabla", "@carol @bob");
    assert.deepEqual((await message(c.client, "Blabla", second)).mentions, ["carol", "bob"]);

    // bob leaves: no longer listed, and a message naming only him has no field.
    assert.equal((await b.client.request({ type: "leave", salon: "Blabla" })).type, "left");
    const third = await say(a.client, "Blabla", "@bob?");
    const m = await message(c.client, "Blabla", third);
    assert.equal("mentions" in m, false, JSON.stringify(m));

    // History shows each message's mentions as they were sent, not as the salon is now.
    const items = await history(c.client, "Blabla");
    assert.deepEqual(items.map((i) => [i.id, i.mentions]), [
      [first, ["bob", "alice"]],
      [second, ["carol", "bob"]],
      [third, undefined],
    ]);
  } finally {
    await srv.stop();
  }
});

Deno.test("mentions: at most the first 20 distinct members; 2000 @ or repeated names are fine", async () => {
  const srv = await startTestServer();
  try {
    const names = Array.from({ length: 22 }, (_, i) => `user${String(i).padStart(2, "0")}`);
    await users(srv, "alice", ...names);
    const a = await login(srv, "alice");

    const text = [...names].reverse().map((n) => `@${n} @${n.toUpperCase()}`).join(" ");
    const id = await say(a.client, "Général", text);
    assert.deepEqual(
      (await message(a.client, "Général", id)).mentions,
      [...names].reverse().slice(0, 20),
    );

    const ats = await say(a.client, "Général", "@".repeat(2000));
    const m = await message(a.client, "Général", ats);
    assert.equal("mentions" in m, false);
    assert.equal(m.text.length, 2000);

    const repeated = await say(a.client, "Général", "@user05 ".repeat(250));
    assert.deepEqual((await message(a.client, "Général", repeated)).mentions, ["user05"]);

    const items = await history(a.client, "Général");
    assert.deepEqual(items.map((i) => i.mentions), [
      [...names].reverse().slice(0, 20),
      undefined,
      ["user05"],
    ]);
  } finally {
    await srv.stop();
  }
});

Deno.test("direct messages carry no mentions, live or in history", async () => {
  const srv = await startTestServer();
  try {
    await users(srv, "alice", "bob");
    const a = await login(srv, "alice");
    const b = await login(srv, "bob");
    const ok = await a.client.request({ type: "direct", to: "bob", text: "@bob psst @alice" });
    assert.equal(ok.type, "ok", JSON.stringify(ok));
    const d = await b.client.next((f) => f.type === "direct" && f.id === ok.id);
    assert.equal("mentions" in d, false, JSON.stringify(d));
    const reply = await b.client.request({ type: "history", with: "alice" });
    assert.equal(reply.messages.length, 1);
    assert.equal("mentions" in reply.messages[0], false, JSON.stringify(reply.messages[0]));
  } finally {
    await srv.stop();
  }
});

Deno.test("welcome: each member salon counts the unread messages that mention the user; reading clears it", async () => {
  const srv = await startTestServer();
  try {
    await users(srv, "alice", "bob");
    const alice = (await login(srv, "alice")).client;
    await say(alice, "Général", "@bob are you there?");
    await say(alice, "Général", "nobody named here");
    await say(alice, "Général", "hello @Bob and @alice");
    const first = (await login(srv, "bob", "bob-1")).welcome;
    const general = first.salons.find((s: Frame) => s.name === "Général");
    assert.equal(general.unread, 3);
    assert.equal(general.mentions, 2);
    // Alice mentioned herself in a message she sent: her own marker moved past it.
    const mine = (await login(srv, "alice", "alice-2")).welcome.salons
      .find((s: Frame) => s.name === "Général");
    assert.equal(mine.mentions, 0);
    const bob = (await login(srv, "bob", "bob-2")).client;
    const read = await bob.request({ type: "read", salon: "Général", id: general.latest - 1 });
    assert.equal(read.type, "ok", JSON.stringify(read));
    const again = (await login(srv, "bob", "bob-3")).welcome.salons
      .find((s: Frame) => s.name === "Général");
    assert.deepEqual([again.unread, again.mentions], [1, 1]);
  } finally {
    await srv.stop();
  }
});
