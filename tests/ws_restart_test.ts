/**
 * What the real-time protocol stores survives a restart on the same SQLite
 * file: memberships, pending requests, salon and direct messages; ids keep
 * growing afterwards.
 */

import assert from "node:assert/strict";
import {
  type Frame,
  session,
  startTestServer,
  type TestClient,
  type TestServer,
  withRef,
} from "./ws_client.ts";
import { pw } from "./ws_users.ts";

/** Registers over the socket; resolves with the client and its welcome. */
async function registerWs(
  srv: TestServer,
  name: string,
): Promise<{ client: TestClient; welcome: Frame }> {
  return await session(srv, {
    type: "register",
    username: name,
    alias: name[0].toUpperCase() + name.slice(1),
    password: pw(name),
  }, name);
}

function withoutType(frame: Frame): Record<string, unknown> {
  const { type: _type, ...rest } = frame;
  return rest;
}

/** Sends a say or direct, waits for its ok and for the event on the sender's socket. */
async function post(c: TestClient, frame: Record<string, unknown>): Promise<Frame> {
  const ok = await c.request(frame);
  assert.equal(ok.type, "ok", JSON.stringify(ok));
  const kind = frame.type === "say" ? "message" : "direct";
  return await c.next((f) =>
    f.type === kind && f.id === ok.id && (kind === "direct" || f.salon === frame.salon)
  );
}

function states(welcome: Frame): Record<string, [boolean, boolean]> {
  return Object.fromEntries(
    (welcome.salons as Frame[]).map((s) => [s.name, [s.member, s.pending]]),
  );
}

Deno.test("memberships, pending requests, salon and direct messages survive a restart; ids keep growing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "causerie-ws-restart-" });
  const env = { CAUSERIE_DB: `sqlite:${dir}/causerie.db` };
  let srv: TestServer | undefined;
  try {
    srv = await startTestServer(env);
    const a = await registerWs(srv, "alice");
    const b = await registerWs(srv, "bob");
    const aliceToken = a.welcome.token as string;

    assert.equal((await a.client.request({ type: "join", salon: "Blabla" })).type, "joined");
    assert.equal(
      (await a.client.request({ type: "join", salon: "Comptabilité" })).type,
      "join_pending",
    );
    assert.equal(
      (await b.client.request({ type: "join", salon: "Marketing" })).type,
      "join_pending",
    );
    assert.equal((await b.client.request({ type: "join", salon: "Blabla" })).type, "joined");
    assert.equal((await b.client.request({ type: "leave", salon: "Blabla" })).type, "left");
    assert.equal(
      (await a.client.request({ type: "join", salon: "Informatique" })).type,
      "join_pending",
    );
    assert.equal((await a.client.request({ type: "leave", salon: "Informatique" })).type, "left");

    const general = [
      await post(a.client, { type: "say", salon: "Général", text: "g1" }),
      await post(b.client, { type: "say", salon: "Général", text: "g2 'quoted'" }),
      await post(a.client, { type: "say", salon: "Général", text: "g3\nwith newline" }),
    ];
    const blabla = [await post(a.client, { type: "say", salon: "Blabla", text: "b1" })];
    const directs = [
      await post(a.client, { type: "direct", to: "bob", text: "d1" }),
      await post(b.client, { type: "direct", to: "alice", text: "d2" }),
    ];
    assert.deepEqual(general.map((m) => m.id), [1, 2, 3]);
    assert.deepEqual(blabla.map((m) => m.id), [1]);

    await srv.stop();
    srv = await startTestServer(env);

    // The token survives too; the welcome shows the stored memberships and requests.
    const a2 = await session(srv, { token: aliceToken }, "alice");
    assert.deepEqual(states(a2.welcome), {
      "Général": [true, false],
      "Blabla": [true, false],
      "Comptabilité": [false, true],
      "Informatique": [false, false],
      "Marketing": [false, false],
    });
    const onlineOf = (welcome: Frame) => (welcome.salons as Frame[]).map((s) => [s.name, s.online]);
    assert.deepEqual(onlineOf(a2.welcome), [
      ["Général", 1],
      ["Blabla", 1],
      ["Comptabilité", 0],
      ["Informatique", 0],
      ["Marketing", 0],
    ]);
    const b2 = await session(srv, { username: "bob", password: pw("bob") }, "bob");
    assert.deepEqual(states(b2.welcome), {
      "Général": [true, false],
      "Blabla": [false, false],
      "Comptabilité": [false, false],
      "Informatique": [false, false],
      "Marketing": [false, true],
    });
    // Pending requests are still pending: asking again says so.
    assert.equal(
      (await a2.client.request({ type: "join", salon: "Comptabilité" })).type,
      "join_pending",
    );
    // Membership is in force: alice may speak in Blabla, bob may not.
    const notMember = await b2.client.request({ type: "say", salon: "Blabla", text: "x" });
    assert.equal(notMember.code, "not_member", JSON.stringify(notMember));
    const who = await a2.client.request({ type: "who", salon: "Blabla" });
    assert.deepEqual(who.users, [{ username: "alice", alias: "Alice", status: "online" }]);

    const h = await a2.client.request({ type: "history", salon: "Général" });
    assert.deepEqual([h.messages, h.more], [general.map(withoutType), false]);
    const hb = await a2.client.request({ type: "history", salon: "Blabla" });
    assert.deepEqual([hb.messages, hb.more], [blabla.map(withoutType), false]);
    const hd = await b2.client.request({ type: "history", with: "alice" });
    assert.deepEqual([hd.messages, hd.more], [directs.map(withoutType), false]);

    // Ids go on from where they were.
    const g4 = await post(b2.client, { type: "say", salon: "Général", text: "g4" });
    assert.equal(g4.id, 4);
    const b2m = await post(a2.client, { type: "say", salon: "Blabla", text: "b2" });
    assert.equal(b2m.id, 2);
    const d3 = await post(a2.client, { type: "direct", to: "bob", text: "d3" });
    assert.ok(d3.id > directs[1].id, `direct id ${d3.id} after ${directs[1].id}`);
    const all = await b2.client.request({ type: "history", with: "alice" });
    assert.deepEqual(all.messages.map((m: Frame) => m.text), ["d1", "d2", "d3"]);
  } finally {
    await srv?.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every message that got ok before a stop is in the history after the restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "causerie-ws-restart-" });
  const env = { CAUSERIE_DB: `sqlite:${dir}/causerie.db`, CAUSERIE_RATE_BURST: "100" };
  let srv: TestServer | undefined;
  try {
    srv = await startTestServer(env);
    const a = await registerWs(srv, "alice");
    // Warm up: one acknowledged message.
    const first = await a.client.request({ type: "say", salon: "Général", text: "m0" });
    assert.equal(first.type, "ok", JSON.stringify(first));
    for (let i = 1; i <= 30; i++) {
      a.client.send({ type: "say", salon: "Général", text: `m${i}`, ref: `s${i}` });
    }
    // Wait for a few acknowledgements, then stop while the rest may be in flight.
    await a.client.next(withRef("s3"));
    await srv.server.stop();
    await a.client.waitClosed();
    const acked = a.client.frames.filter((f) => f.type === "ok").map((f) => f.id as number);
    assert.ok(acked.length >= 4, `acks: ${acked}`);
    await srv.stop();

    srv = await startTestServer(env);
    const again = await session(srv, { username: "alice", password: pw("alice") }, "alice");
    const h = await again.client.request({ type: "history", salon: "Général", limit: 200 });
    const stored = new Set(h.messages.map((m: Frame) => m.id));
    for (const id of acked) assert.ok(stored.has(id), `message ${id} got ok but was not stored`);
    // Stored messages are in the order they were sent, without gaps or duplicates.
    const texts = h.messages.map((m: Frame) => m.text);
    assert.deepEqual(texts, texts.map((_: string, i: number) => `m${i}`));
  } finally {
    await srv?.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
