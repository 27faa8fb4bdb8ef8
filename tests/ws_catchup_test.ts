/**
 * Catching up, read markers and conversations (PROTOCOL.md 5.2) over real
 * sockets: `history` after an id, `read` and the other sessions told, the
 * catch-up fields of `welcome`, `welcome.directs` and `conversations`, and
 * the hostile variants of every new field.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  assertErrorFrame,
  assertServed,
  type Frame,
  session,
  startTestServer,
  type TestClient,
} from "./ws_client.ts";
import { login, users } from "./ws_users.ts";

const FAST = {
  CAUSERIE_RATE_BURST: "100",
  CAUSERIE_RATE_PER_SECOND: "100",
  CAUSERIE_REQUEST_BURST: "500",
};

function salonNamed(welcome: Frame, name: string): Frame {
  const s = (welcome.salons as Frame[]).find((x) => x.name === name);
  assert.ok(s, `no salon ${name} in ${JSON.stringify(welcome.salons)}`);
  return s;
}

/** Says each text in Général and returns the ids from the `ok`s. */
async function say(client: TestClient, ...texts: string[]): Promise<number[]> {
  const ids: number[] = [];
  for (const text of texts) {
    const ok = await client.request({ type: "say", salon: "Général", text });
    assert.equal(ok.type, "ok", JSON.stringify(ok));
    ids.push(ok.id);
  }
  return ids;
}

/** Frames of `client` matching `predicate` so far (a ping round trip first). */
async function receivedSoFar(client: TestClient, predicate: (f: Frame) => boolean) {
  await assertServed(client);
  return client.frames.filter(predicate);
}

const ids = (history: Frame) => (history.messages as Frame[]).map((m) => m.id);

// --- history after -----------------------------------------------------------------

Deno.test("history after: a client that reconnects asks for after its last id and misses nothing", async () => {
  const srv = await startTestServer(FAST);
  try {
    await users(srv, "alice", "bob");
    const a = await login(srv, "alice");
    const b = await login(srv, "bob");
    const first = await say(a.client, "m1", "m2", "m3");
    const seen = (await receivedSoFar(b.client, (f) => f.type === "message")).map((f) => f.id);
    assert.deepEqual(seen, first);
    const last = seen[seen.length - 1];
    await b.client.close();
    const missed = await say(a.client, "m4", "m5", "m6", "m7", "m8");
    const again = await session(srv, { token: b.welcome.token }, "bob-again");
    // Pages of 3 from the last id seen, oldest first, until `more` is false.
    const got: number[] = [];
    let after = last;
    for (;;) {
      const page = await again.client.request({
        type: "history",
        salon: "Général",
        after,
        limit: 3,
      });
      assert.equal(page.type, "history", JSON.stringify(page));
      assert.equal(page.salon, "Général");
      got.push(...ids(page));
      if (!page.more) break;
      after = got[got.length - 1];
    }
    assert.deepEqual(got, missed);
    // The first page said more: three of five.
    const firstPage = await again.client.request({
      type: "history",
      salon: "Général",
      after: last,
      limit: 3,
    });
    assert.deepEqual([ids(firstPage), firstPage.more], [missed.slice(0, 3), true]);
    assert.deepEqual((firstPage.messages as Frame[])[0], {
      salon: "Général",
      id: missed[0],
      from: { username: "alice", alias: "Alice" },
      text: "m4",
      at: (firstPage.messages as Frame[])[0].at,
    });
    // after 0 is the whole history from the start.
    const all = await again.client.request({ type: "history", salon: "Général", after: 0 });
    assert.deepEqual([ids(all), all.more], [[...first, ...missed], false]);
  } finally {
    await srv.stop();
  }
});

Deno.test("history after with `with`: a direct conversation from an id on", async () => {
  const srv = await startTestServer(FAST);
  try {
    await users(srv, "alice", "bob", "carol");
    const a = await login(srv, "alice");
    const sent: number[] = [];
    for (const [to, text] of [["bob", "1"], ["carol", "x"], ["bob", "2"], ["bob", "3"]]) {
      const ok = await a.client.request({ type: "direct", to, text });
      if (to === "bob") sent.push(ok.id);
    }
    const b = await login(srv, "bob");
    const page = await b.client.request({
      type: "history",
      with: "alice",
      after: sent[0],
      limit: 1,
    });
    assert.deepEqual([page.with, ids(page), page.more], ["alice", [sent[1]], true]);
    const rest = await b.client.request({ type: "history", with: "alice", after: sent[1] });
    assert.deepEqual([ids(rest), rest.more], [[sent[2]], false]);
  } finally {
    await srv.stop();
  }
});

Deno.test("history after over 256 KiB: the oldest messages of the page come, more says go on from the last", async () => {
  const srv = await startTestServer(FAST);
  try {
    await users(srv, "alice");
    const a = await login(srv, "alice");
    const texts = Array.from({ length: 70 }, (_, i) => `${i}`.padEnd(2000, "é"));
    const sent = await say(a.client, ...texts);
    const page = await a.client.request({ type: "history", salon: "Général", after: 0, limit: 70 });
    const got = ids(page);
    assert.ok(got.length > 1 && got.length < 70, `${got.length} messages`);
    assert.deepEqual(got, sent.slice(0, got.length));
    assert.equal(page.more, true);
    const rest = await a.client.request({
      type: "history",
      salon: "Général",
      after: got[got.length - 1],
      limit: 70,
    });
    assert.deepEqual([ids(rest), rest.more], [sent.slice(got.length), false]);
  } finally {
    await srv.stop();
  }
});

// --- read markers ----------------------------------------------------------------

Deno.test("read in a salon: ok with the marker, forward only, the user's other sessions told", async () => {
  const srv = await startTestServer(FAST);
  try {
    await users(srv, "alice", "bob");
    const a1 = await login(srv, "alice", "alice-1");
    const a2 = await session(srv, { token: a1.welcome.token }, "alice-2");
    const b = await login(srv, "bob");
    const [m1, m2, m3] = await say(b.client, "1", "2", "3");
    const ok = await a1.client.request({ type: "read", salon: "général", id: m2, ref: "rd" });
    assert.deepEqual(ok, { type: "ok", ref: "rd", id: m2 });
    assert.deepEqual(await a2.client.nextOfType("read"), {
      type: "read",
      salon: "Général",
      id: m2,
    });
    // A lower id changes nothing: ok with the marker held, nobody told.
    const lower = await a1.client.request({ type: "read", salon: "Général", id: m1 });
    assert.equal(lower.id, m2);
    assert.deepEqual(await receivedSoFar(a2.client, (f) => f.type === "read"), [
      { type: "read", salon: "Général", id: m2 },
    ]);
    // Not the asking session itself, nor other users.
    assert.deepEqual(await receivedSoFar(a1.client, (f) => f.type === "read"), []);
    assert.deepEqual(await receivedSoFar(b.client, (f) => f.type === "read"), []);
    // The next welcome shows it.
    const a3 = await session(srv, { token: a1.welcome.token }, "alice-3");
    assert.deepEqual(salonNamed(a3.welcome, "Général"), {
      name: "Général",
      policy: "auto",
      member: true,
      pending: false,
      online: 2,
      members: 2,
      presence: "push",
      slowModeSeconds: 0, // PROTOCOL 5.4
      latest: m3,
      lastRead: m2,
      unread: 1,
      mentions: 0,
    });
  } finally {
    await srv.stop();
  }
});

Deno.test("a say moves its sender's own marker: the next welcome has nothing unread", async () => {
  const srv = await startTestServer(FAST);
  try {
    await users(srv, "alice", "bob");
    const b = await login(srv, "bob");
    await say(b.client, "1", "2");
    const a = await login(srv, "alice");
    assert.deepEqual(
      [salonNamed(a.welcome, "Général").lastRead, salonNamed(a.welcome, "Général").unread],
      [0, 2],
    );
    const [mine] = await say(a.client, "me");
    const again = await session(srv, { token: a.welcome.token }, "alice-2");
    const g = salonNamed(again.welcome, "Général");
    assert.deepEqual([g.latest, g.lastRead, g.unread], [mine, mine, 0]);
    // Bob, who did not write since, has one unread.
    const b2 = await session(srv, { token: b.welcome.token }, "bob-2");
    assert.deepEqual(
      [salonNamed(b2.welcome, "Général").lastRead, salonNamed(b2.welcome, "Général").unread],
      [2, 1],
    );
    // A salon one is not a member of has no catch-up fields.
    assert.equal(salonNamed(again.welcome, "Blabla").latest, undefined);
  } finally {
    await srv.stop();
  }
});

Deno.test("read with `with`: the conversation's marker, other sessions told, shown in directs", async () => {
  const srv = await startTestServer(FAST);
  try {
    await users(srv, "alice", "bob");
    const a1 = await login(srv, "alice", "alice-1");
    const a2 = await session(srv, { token: a1.welcome.token }, "alice-2");
    const b = await login(srv, "bob");
    const d1 = (await b.client.request({ type: "direct", to: "alice", text: "1" })).id;
    const d2 = (await b.client.request({ type: "direct", to: "alice", text: "2" })).id;
    const ok = await a1.client.request({ type: "read", with: "BOB", id: d1, ref: "w" });
    assert.deepEqual(ok, { type: "ok", ref: "w", id: d1 });
    assert.deepEqual(await a2.client.nextOfType("read"), { type: "read", with: "bob", id: d1 });
    const a3 = await session(srv, { token: a1.welcome.token }, "alice-3");
    assert.deepEqual(a3.welcome.directs, [{
      with: { username: "bob", alias: "Bob" },
      latest: d2,
      lastRead: d1,
      unread: 1,
      at: a3.welcome.directs[0].at,
    }]);
    assert.match(a3.welcome.directs[0].at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // Bob sent both: nothing unread for him.
    const b2 = await session(srv, { token: b.welcome.token }, "bob-2");
    assert.deepEqual(
      b2.welcome.directs.map((d: Frame) => [d.with.username, d.latest, d.lastRead, d.unread]),
      [["alice", d2, d2, 0]],
    );
  } finally {
    await srv.stop();
  }
});

// --- conversations ------------------------------------------------------------------

Deno.test("conversations: newest first, paged with before and limit, more", async () => {
  let now = Date.UTC(2026, 10, 24, 10, 0, 0);
  const srv = await startTestServer(FAST, { hub: { now: () => now } });
  try {
    await users(srv, "alice", "bob", "carol", "dave");
    const a = await login(srv, "alice");
    for (const to of ["bob", "carol", "dave"]) {
      now += 1000;
      await a.client.request({ type: "direct", to, text: `hi ${to}` });
    }
    const first = await a.client.request({ type: "conversations", limit: 2, ref: "c1" });
    assert.deepEqual(Object.keys(first).sort(), ["directs", "more", "ref", "type"]);
    assert.deepEqual(first.directs.map((d: Frame) => d.with.username), ["dave", "carol"]);
    assert.equal(first.more, true);
    const next = await a.client.request({
      type: "conversations",
      before: first.directs[1].at,
      limit: 2,
    });
    assert.deepEqual([next.directs.map((d: Frame) => d.with.username), next.more], [
      ["bob"],
      false,
    ]);
    const all = await a.client.request({ type: "conversations" });
    assert.deepEqual(all.directs.map((d: Frame) => d.with.username), ["dave", "carol", "bob"]);
    assert.equal(all.directs[0].at, new Date(now).toISOString());
    // The welcome lists the same, newest first.
    const again = await session(srv, { token: a.welcome.token }, "alice-2");
    assert.deepEqual(again.welcome.directs, all.directs);
  } finally {
    await srv.stop();
  }
});

// --- hostile input -------------------------------------------------------------------

Deno.test("hostile catch-up frames: a clear error with the ref, the socket usable, nothing stored", async () => {
  const srv = await startTestServer(FAST);
  try {
    await users(srv, "alice", "bob");
    const a = await login(srv, "alice");
    const [m1] = await say(a.client, "1");
    const b = await login(srv, "bob");
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ type: "history", salon: "Général", before: 5, after: 1 }, "invalid"],
      [{ type: "history", with: "alice", before: 5, after: 1 }, "invalid"],
      [{ type: "history", salon: "Général", after: -1 }, "invalid"],
      [{ type: "history", salon: "Général", after: 1.5 }, "invalid"],
      [{ type: "history", salon: "Général", after: "1" }, "invalid"],
      [{ type: "history", salon: "Général", after: 2 ** 60 }, "invalid"],
      [{ type: "history", salon: "Général", after: null }, "invalid"],
      [{ type: "read", salon: "Général" }, "invalid"],
      [{ type: "read", salon: "Général", id: 0 }, "invalid"],
      [{ type: "read", salon: "Général", id: -3 }, "invalid"],
      [{ type: "read", salon: "Général", id: 1.5 }, "invalid"],
      [{ type: "read", salon: "Général", id: "1" }, "invalid"],
      [{ type: "read", salon: "Général", id: 1e300 }, "invalid"],
      [{ type: "read", salon: "Général", id: m1 + 1 }, "invalid"],
      [{ type: "read", salon: "Général", with: "alice", id: m1 }, "invalid"],
      [{ type: "read", id: m1 }, "invalid"],
      [{ type: "read", salon: "Comptabilité", id: 1 }, "not_member"],
      [{ type: "read", salon: "Nowhere", id: 1 }, "unknown_salon"],
      [{ type: "read", salon: "x".repeat(300), id: 1 }, "invalid"],
      [{ type: "read", with: "nobody", id: 1 }, "unknown_user"],
      [{ type: "read", with: "alice", id: 1 }, "invalid"],
      [{ type: "conversations", before: "yesterday" }, "invalid"],
      [{ type: "conversations", before: 1700000000000 }, "invalid"],
      [{ type: "conversations", before: "2026-13-45T99:00:00.000Z" }, "invalid"],
      [{ type: "conversations", before: "2026-11-24T10:00:00.000Z".repeat(5) }, "invalid"],
      [{ type: "conversations", before: { at: 1 } }, "invalid"],
      [{ type: "conversations", limit: 201 }, "invalid"],
      [{ type: "conversations", limit: 0 }, "invalid"],
      [{ type: "conversations", limit: "50" }, "invalid"],
    ];
    for (const [frame, code] of cases) {
      const ref = b.client.ref("bad");
      const reply = await b.client.request({ ...frame, ref });
      assertErrorFrame(reply, code, ref);
      await assertServed(b.client);
    }
    // Nothing was stored: bob's marker and conversations are untouched, alice heard nothing.
    const again = await session(srv, { token: b.welcome.token }, "bob-2");
    assert.deepEqual(
      [salonNamed(again.welcome, "Général").lastRead, salonNamed(again.welcome, "Général").unread],
      [0, 1],
    );
    assert.deepEqual(again.welcome.directs, []);
    assert.deepEqual(await receivedSoFar(a.client, (f) => f.type === "read"), []);
    assert.deepEqual(await receivedSoFar(again.client, (f) => f.type === "read"), []);
  } finally {
    await srv.stop();
  }
});
