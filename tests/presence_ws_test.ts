/**
 * Presence at scale and typing over real sockets (PROTOCOL 5.1, 5.3): salon
 * views with `members` and `presence`, `watch`, `who` pages, `salon_stats`,
 * `typing`, and hostile input to each new frame.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  assertErrorFrame,
  assertServed,
  type Frame,
  http,
  loginHttp,
  startTestServer,
  type TestClient,
  withRef,
} from "./ws_client.ts";
import { login, pw, users } from "./ws_users.ts";

/** Frames received so far (after a ping round trip) matching `predicate`. */
async function receivedSoFar(client: TestClient, predicate: (f: Frame) => boolean) {
  await assertServed(client);
  return client.frames.filter(predicate);
}

const aboutUser = (name: string) => (f: Frame) =>
  f.type === "presence" && f.ref === undefined &&
  f.changes.some((c: Frame) => c.username === name);

/** A server whose salons are large past 2 members; presence frames 20 ms apart. */
function smallMax(max = "2") {
  return startTestServer({ CAUSERIE_PRESENCE_SALON_MAX: max }, {
    hub: { presenceIntervalMs: 20 },
  });
}

Deno.test("welcome and GET /api/me: salons carry members and presence (push or watch)", async () => {
  const srv = await smallMax();
  try {
    await users(srv, "alice", "bob", "carol");
    const a = await login(srv, "alice");
    const salons = a.welcome.salons as Frame[];
    const general = salons.find((s) => s.name === "Général")!;
    assert.equal(general.members, 3);
    assert.equal(general.presence, "watch", "3 members, max 2: large");
    const blabla = salons.find((s) => s.name === "Blabla")!;
    assert.equal(blabla.members, 0);
    assert.equal(blabla.presence, "push");
    const token = await loginHttp(srv.url, "bob", pw("bob"));
    const me = await http(srv.url, "GET", "/api/me", undefined, {
      authorization: `Bearer ${token}`,
    });
    assert.equal(me.status, 200);
    const meGeneral = (me.body!.salons as Frame[]).find((s) => s.name === "Général")!;
    assert.deepEqual(
      { members: meGeneral.members, presence: meGeneral.presence },
      { members: 3, presence: "watch" },
    );
    for (const s of me.body!.salons as Frame[]) {
      assert.deepEqual(Object.keys(s).sort(), [
        "member",
        "members",
        "name",
        "online",
        "pending",
        "policy",
        "presence",
        "slowModeSeconds", // PROTOCOL 5.4
      ]);
    }
  } finally {
    await srv.stop();
  }
});

Deno.test("a large salon pushes no presence; watch answers the current status and then pushes", async () => {
  const srv = await smallMax();
  try {
    await users(srv, "alice", "bob", "carol");
    const a = await login(srv, "alice");
    const c = await login(srv, "carol");
    const b = await login(srv, "bob");
    const reply = await a.client.request({ type: "watch", users: ["Bob", "carol", "nobody_here"] });
    assert.deepEqual(reply, {
      type: "presence",
      ref: reply.ref,
      changes: [{ username: "bob", status: "online" }, { username: "carol", status: "online" }],
    });
    await b.client.close();
    // (bob's login may still be in the current window: then alice also gets "bob online" pushed.)
    const off = await a.client.next(
      (f) => aboutUser("bob")(f) && f.changes.some((x: Frame) => x.status === "offline"),
      undefined,
      "bob offline",
    );
    // Bob's final status; beside it only the documented repeat of a newly watched user's change
    // still waiting in the window when the watch came (carol's login), never anything else.
    assert.deepEqual(off.changes.filter((x: Frame) => x.username === "bob"), [
      { username: "bob", status: "offline" },
    ]);
    for (const other of off.changes.filter((x: Frame) => x.username !== "bob")) {
      assert.deepEqual(other, { username: "carol", status: "online" });
    }
    // carol shares only the large Général with bob: she was never told.
    assert.deepEqual(await receivedSoFar(c.client, aboutUser("bob")), []);
    // The same list again: nothing new to answer.
    const again = await a.client.request({ type: "watch", users: ["bob", "carol"] });
    assert.deepEqual(again.changes, []);
  } finally {
    await srv.stop();
  }
});

Deno.test("watch: hostile input gets error invalid with the ref, nothing changes, the socket goes on", async () => {
  const srv = await smallMax();
  try {
    await users(srv, "alice", "bob");
    const a = await login(srv, "alice");
    const many = Array.from({ length: 201 }, (_, i) => `user${i}`);
    const bad: Array<Record<string, unknown>> = [
      { type: "watch", ref: "w1", users: many },
      { type: "watch", ref: "w2" },
      { type: "watch", ref: "w3", users: "bob" },
      { type: "watch", ref: "w4", users: [42] },
      { type: "watch", ref: "w5", users: ["x".repeat(65)] },
      { type: "watch", ref: "w6", users: [null] },
      { type: "watch", ref: "w7", users: { 0: "bob" } },
    ];
    for (const frame of bad) {
      assertErrorFrame(await a.client.request(frame), "invalid", frame.ref as string);
    }
    // 200 names are fine (unknown ones ignored).
    const ok = await a.client.request({ type: "watch", users: many.slice(0, 199).concat("bob") });
    assert.deepEqual(ok.changes, [{ username: "bob", status: "offline" }]);
    await assertServed(a.client);
  } finally {
    await srv.stop();
  }
});

Deno.test("watch has its own bucket: 5 at once, then rate_limited", async () => {
  const srv = await smallMax();
  try {
    await users(srv, "alice");
    const a = await login(srv, "alice");
    for (let i = 0; i < 5; i++) a.client.send({ type: "watch", ref: `w${i}`, users: [] });
    a.client.send({ type: "watch", ref: "w5", users: ["alice"] });
    for (let i = 0; i < 5; i++) {
      assert.equal((await a.client.next(withRef(`w${i}`))).type, "presence");
    }
    assertErrorFrame(await a.client.next(withRef("w5")), "rate_limited", "w5");
    await assertServed(a.client);
  } finally {
    await srv.stop();
  }
});

Deno.test("who: online first, then by username; status, limit, more, online, members", async () => {
  const srv = await smallMax("100");
  try {
    await users(srv, "dora", "alice", "carol", "bob", "eve");
    const d = await login(srv, "dora");
    await login(srv, "carol");
    const names = (w: Frame) => w.users.map((u: Frame) => `${u.username}:${u.status}`);
    const all = await d.client.request({ type: "who", salon: "Général", ref: "a" });
    assert.deepEqual(Object.keys(all).sort(), [
      "members",
      "more",
      "online",
      "ref",
      "salon",
      "type",
      "users",
    ]);
    assert.deepEqual(names(all), [
      "carol:online",
      "dora:online",
      "alice:offline",
      "bob:offline",
      "eve:offline",
    ]);
    assert.deepEqual([all.more, all.online, all.members], [false, 2, 5]);
    assert.deepEqual(all.users[0], { username: "carol", alias: "Carol", status: "online" });
    const three = await d.client.request({ type: "who", salon: "Général", limit: 3 });
    assert.deepEqual(names(three), ["carol:online", "dora:online", "alice:offline"]);
    assert.equal(three.more, true);
    const on = await d.client.request({ type: "who", salon: "Général", status: "online" });
    assert.deepEqual(names(on), ["carol:online", "dora:online"]);
    assert.equal(on.more, false);
    const one = await d.client.request({
      type: "who",
      salon: "Général",
      status: "online",
      limit: 1,
    });
    assert.deepEqual([names(one), one.more], [["carol:online"], true]);
    for (
      const [ref, extra] of [
        ["l0", { limit: 0 }],
        ["l1", { limit: 1001 }],
        ["l2", { limit: "5" }],
        ["l3", { limit: 2.5 }],
        ["s1", { status: "away" }],
        ["s2", { status: 1 }],
      ] as const
    ) {
      assertErrorFrame(
        await d.client.request({ type: "who", salon: "Général", ref, ...extra }),
        "invalid",
        ref,
      );
    }
    const max = await d.client.request({ type: "who", salon: "Général", limit: 1000 });
    assert.equal(max.users.length, 5);
  } finally {
    await srv.stop();
  }
});

Deno.test("salon_stats: a connected member is told when the counts change", async () => {
  const srv = await smallMax("100");
  try {
    await users(srv, "alice", "bob");
    const a = await login(srv, "alice");
    const first = await a.client.next((f) => f.type === "salon_stats" && f.salon === "Général");
    assert.deepEqual(first, {
      type: "salon_stats",
      salon: "Général",
      online: 1,
      members: 2,
      presence: "push",
    });
  } finally {
    await srv.stop();
  }
});

Deno.test("typing: relayed to the other members of a small salon and to the other side of a conversation", async () => {
  const srv = await smallMax("3");
  try {
    await users(srv, "alice", "bob", "carol", "dave");
    const a = await login(srv, "alice");
    const b = await login(srv, "bob");
    const c = await login(srv, "carol");
    for (const s of [a, b]) {
      assert.equal((await s.client.request({ type: "join", salon: "Blabla" })).type, "joined");
    }
    a.client.send({ type: "typing", salon: "blabla", ref: "t1" });
    assert.deepEqual(await b.client.nextOfType("typing"), {
      type: "typing",
      salon: "Blabla",
      user: { username: "alice", alias: "Alice" },
    });
    a.client.send({ type: "typing", with: "Carol" });
    assert.deepEqual(await c.client.nextOfType("typing"), {
      type: "typing",
      with: "alice",
      user: { username: "alice", alias: "Alice" },
    });
    assert.deepEqual(
      await receivedSoFar(a.client, (f) => f.type === "typing" || f.ref === "t1"),
      [],
      "no reply",
    );
    // A flood: one relayed per 3 s, the rest dropped; no message token used.
    for (let i = 0; i < 20; i++) a.client.send({ type: "typing", salon: "Blabla" });
    await assertServed(a.client);
    assert.equal((await receivedSoFar(b.client, (f) => f.type === "typing")).length, 1);
    for (let i = 0; i < 10; i++) {
      const ok = await a.client.request({ type: "say", salon: "Blabla", text: `m${i}` });
      assert.equal(ok.type, "ok", "the say bucket is untouched by typing");
    }
    // Général has 4 members, max 3: large, dropped silently.
    a.client.send({ type: "typing", salon: "Général", ref: "t2" });
    await assertServed(a.client);
    assert.deepEqual(await receivedSoFar(c.client, (f) => f.type === "typing" && f.salon), []);
  } finally {
    await srv.stop();
  }
});

Deno.test("typing: hostile input and typing where one is not a member get a clear error", async () => {
  const srv = await smallMax("100");
  try {
    await users(srv, "alice", "bob");
    const a = await login(srv, "alice");
    const bad: Array<[string, Record<string, unknown>, string]> = [
      ["t1", {}, "invalid"],
      ["t2", { salon: "Blabla", with: "bob" }, "invalid"],
      ["t3", { salon: 5 }, "invalid"],
      ["t4", { with: ["bob"] }, "invalid"],
      ["t5", { salon: "x".repeat(300) }, "invalid"],
      ["t6", { salon: "Blabla" }, "not_member"],
      ["t7", { salon: "Nowhere" }, "unknown_salon"],
      ["t8", { with: "nobody_here" }, "unknown_user"],
    ];
    for (const [ref, fields, code] of bad) {
      assertErrorFrame(await a.client.request({ type: "typing", ref, ...fields }), code, ref);
    }
    await assertServed(a.client);
  } finally {
    await srv.stop();
  }
});
