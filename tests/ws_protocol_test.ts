/**
 * The real-time protocol over real sockets (PROTOCOL.md section 2, without
 * the moderator requests and the shutdown): one test or more per row.
 */

import assert from "node:assert/strict";
import { SimulatedClock } from "xstate";
import { manualClock } from "./helpers.ts";
import {
  assertErrorFrame,
  assertServed,
  type Frame,
  http,
  loginHttp,
  ofType,
  session,
  startTestServer,
  type TestClient,
  type TestServer,
  withRef,
} from "./ws_client.ts";
import { login, pw, users } from "./ws_users.ts";

/** A token hello. */
function resume(srv: TestServer, token: string, label: string) {
  return session(srv, { token }, label);
}

/** The frame without its `type`, as history items are. */
function withoutType(frame: Frame): Record<string, unknown> {
  const { type: _type, ...rest } = frame;
  return rest;
}

/** Who-list or welcome salons, by name. */
function salonNamed(welcome: Frame, name: string): Frame {
  const s = (welcome.salons as Frame[]).find((x) => x.name === name);
  assert.ok(s, `no salon ${name} in ${JSON.stringify(welcome.salons)}`);
  return s;
}

/**
 * Frames of `client` matching `predicate`, after a ping round trip: anything
 * the server sent to this socket before answering the ping has arrived.
 */
async function receivedSoFar(
  client: TestClient,
  predicate: (f: Frame) => boolean,
): Promise<Frame[]> {
  await assertServed(client);
  return client.frames.filter(predicate);
}

const ALL_SALONS = [
  { name: "Général", policy: "auto" },
  { name: "Blabla", policy: "open" },
  { name: "Comptabilité", policy: "approval" },
  { name: "Informatique", policy: "approval" },
  { name: "Marketing", policy: "approval" },
];

// --- 2.1 Handshake ----------------------------------------------------------

Deno.test("hello with username and password: welcome with user, token, salons, limits and the ref", async () => {
  const srv = await startTestServer();
  try {
    await users(srv, "alice");
    const c = await srv.connect("alice");
    c.send({ type: "hello", username: "alice", password: pw("alice"), ref: "h-1" });
    const welcome = await c.next(ofType("welcome"));
    assert.deepEqual(
      Object.keys(welcome).sort(),
      // `directs` and the catch-up fields of member salons: PROTOCOL 5.2.
      ["directs", "limits", "ref", "salons", "token", "type", "user"],
      JSON.stringify(welcome),
    );
    assert.equal(welcome.ref, "h-1");
    assert.deepEqual(welcome.user, { username: "alice", alias: "Alice", role: "member" });
    assert.equal(typeof welcome.token, "string");
    assert.match(welcome.token, /^[A-Za-z0-9_-]{22,}$/);
    assert.deepEqual(
      welcome.salons,
      ALL_SALONS.map((s) => ({
        ...s,
        member: s.policy === "auto",
        pending: false,
        online: s.policy === "auto" ? 1 : 0,
        ...(s.policy === "auto" ? { latest: 0, lastRead: 0, unread: 0, mentions: 0 } : {}),
        members: s.policy === "auto" ? 1 : 0,
        presence: "push",
        slowModeSeconds: 0, // PROTOCOL 5.4
      })),
    );
    assert.deepEqual(welcome.directs, []);
    assert.deepEqual(welcome.limits, {
      maxTextLength: 2000,
      messagesPerSecond: 5,
      editMinutes: 15,
    });
    // The token of the welcome is a working API token.
    const me = await http(srv.url, "GET", "/api/me", undefined, {
      authorization: `Bearer ${welcome.token}`,
    });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body!.user.username, "alice");
    await assertServed(c);
  } finally {
    await srv.stop();
  }
});

Deno.test("hello with a token from /api/login: welcome carries that token", async () => {
  const srv = await startTestServer();
  try {
    await users(srv, "alice");
    const token = await loginHttp(srv.url, "alice", pw("alice"));
    const c = await srv.connect("alice");
    c.send({ type: "hello", token, ref: "tok" });
    const welcome = await c.next(ofType("welcome"));
    assert.equal(welcome.ref, "tok");
    assert.deepEqual(welcome.user, { username: "alice", alias: "Alice", role: "member" });
    assert.equal(welcome.token, token);
    assert.equal(salonNamed(welcome, "Général").member, true);
    await assertServed(c);
  } finally {
    await srv.stop();
  }
});

Deno.test("register over the socket creates the account, then proceeds as a hello", async () => {
  const srv = await startTestServer({
    CAUSERIE_MAX_TEXT: "300",
    CAUSERIE_RATE_PER_SECOND: "2",
    CAUSERIE_EDIT_MINUTES: "2.5",
  });
  try {
    const c = await srv.connect("zoe");
    c.send({
      type: "register",
      username: "zoe",
      alias: "Zo\u00e9",
      password: pw("zoe"),
      ref: "reg",
    });
    const welcome = await c.next(ofType("welcome"));
    assert.equal(welcome.ref, "reg");
    assert.deepEqual(welcome.user, { username: "zoe", alias: "Zo\u00e9", role: "member" });
    assert.deepEqual(welcome.limits, {
      maxTextLength: 300,
      messagesPerSecond: 2,
      editMinutes: 2.5,
    });
    assert.deepEqual(salonNamed(welcome, "Général"), {
      name: "Général",
      policy: "auto",
      member: true,
      pending: false,
      online: 1,
      // PROTOCOL 5.2: a member salon's catch-up fields.
      latest: 0,
      lastRead: 0,
      unread: 0,
      mentions: 0,
      members: 1,
      presence: "push",
      slowModeSeconds: 0, // PROTOCOL 5.4
    });
    // The session works: zoe may speak in Général at once.
    const ok = await c.request({ type: "say", salon: "Général", text: "bonjour" });
    assert.equal(ok.type, "ok", JSON.stringify(ok));
    // zoe is a member of Général like everyone: she hears others and is listed online.
    await users(srv, "yann");
    const y = await login(srv, "yann");
    const heard = await y.client.request({ type: "say", salon: "Général", text: "bienvenue" });
    assert.equal(heard.type, "ok", JSON.stringify(heard));
    assert.equal(
      (await c.next((f) => f.type === "message" && f.id === heard.id)).text,
      "bienvenue",
    );
    const who = await y.client.request({ type: "who", salon: "Général" });
    assert.ok(
      who.users.some((u: Frame) => u.username === "zoe" && u.status === "online"),
      JSON.stringify(who),
    );
    // The account exists: HTTP login, and the welcome token opens another session.
    await loginHttp(srv.url, "zoe", pw("zoe"));
    const again = await resume(srv, welcome.token, "zoe-2");
    assert.deepEqual(again.welcome.user, welcome.user);
  } finally {
    await srv.stop();
  }
});

Deno.test("register refused (taken username or alias, invalid field): error, then close 4401", async () => {
  const srv = await startTestServer();
  try {
    await users(srv, "alice");
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ username: "ALICE", alias: "Someone", password: pw("x") }, "username_taken"],
      [{ username: "alicia", alias: "alice", password: pw("x") }, "alias_taken"],
      [{ username: "admin", alias: "Boss", password: pw("x") }, "username_taken"],
      [{ username: "al", alias: "Al", password: pw("x") }, "invalid"],
      [{ username: "albert", alias: "Al", password: "short" }, "invalid"],
    ];
    for (const [fields, code] of cases) {
      const c = await srv.connect(`register ${JSON.stringify(fields)}`);
      c.send({ type: "register", ...fields, ref: "r" });
      assertErrorFrame(await c.nextOfType("error"), code, "r");
      assert.equal((await c.waitClosed()).code, 4401, JSON.stringify(fields));
      assert.equal(c.frames.length, 1, JSON.stringify(c.frames));
    }
    // Nothing was created by the refused attempts.
    const res = await http(srv.url, "POST", "/api/login", {
      username: "albert",
      password: "short",
    });
    assert.equal(res.status, 401, res.text);
  } finally {
    await srv.stop();
  }
});

Deno.test("bad credentials (wrong password, unknown user, unknown or revoked token): error bad_credentials and close 4401", async () => {
  const srv = await startTestServer();
  try {
    await users(srv, "alice");
    const revoked = await loginHttp(srv.url, "alice", pw("alice"));
    const out = await http(srv.url, "POST", "/api/logout", undefined, {
      authorization: `Bearer ${revoked}`,
    });
    assert.equal(out.status, 204, out.text);
    const hellos: Record<string, unknown>[] = [
      { username: "alice", password: "not the password" },
      { username: "nobody", password: pw("nobody") },
      { token: "A".repeat(43) },
      { token: revoked },
    ];
    for (const hello of hellos) {
      const c = await srv.connect(`hello ${JSON.stringify(hello)}`);
      c.send({ type: "hello", ...hello, ref: "bad" });
      assertErrorFrame(await c.nextOfType("error"), "bad_credentials", "bad");
      assert.equal((await c.waitClosed()).code, 4401, JSON.stringify(hello));
      assert.ok(!c.frames.some((f) => f.type === "welcome"));
    }
  } finally {
    await srv.stop();
  }
});

Deno.test("a kicked or banned user gets error banned (until at the top level for a kick) and close 4403, by token or password", async () => {
  const srv = await startTestServer();
  try {
    await users(srv, "kiki", "bill");
    const kikiToken = await loginHttp(srv.url, "kiki", pw("kiki"));
    const billToken = await loginHttp(srv.url, "bill", pw("bill"));
    const store = srv.server.store;
    const kiki = (await store.userByName("kiki"))!;
    const bill = (await store.userByName("bill"))!;
    const until = Date.now() + 5 * 60_000;
    await store.addSanction(
      { userId: kiki.id, kind: "kick", until, reason: "calm down", createdAt: Date.now() },
      null,
    );
    await store.addSanction(
      { userId: bill.id, kind: "ban", until: null, reason: "spam", createdAt: Date.now() },
      null,
    );
    const cases: Array<[Record<string, unknown>, string | undefined]> = [
      [{ token: kikiToken }, new Date(until).toISOString()],
      [{ username: "kiki", password: pw("kiki") }, new Date(until).toISOString()],
      [{ username: "bill", password: pw("bill") }, undefined],
      // The sanction is recorded directly (no moderator frame yet), so the token still exists.
      [{ token: billToken }, undefined],
    ];
    for (const [hello, untilIso] of cases) {
      const c = await srv.connect(JSON.stringify(hello));
      c.send({ type: "hello", ...hello, ref: "s" });
      const error = await c.nextOfType("error");
      assertErrorFrame(error, "banned", "s", { withUntil: untilIso !== undefined });
      assert.equal(error.until, untilIso);
      assert.equal((await c.waitClosed()).code, 4403, JSON.stringify(hello));
    }
  } finally {
    await srv.stop();
  }
});

Deno.test("a first frame of another type (known or unknown): error unauthenticated, then close 4401", async () => {
  const srv = await startTestServer();
  try {
    const firsts = [
      { type: "nope", ref: "f1" },
      { type: "ping", ref: "f2" },
      { type: "say", salon: "Général", text: "hi", ref: "f3" },
      { type: "join", salon: "Blabla", ref: "f4" },
    ];
    for (const first of firsts) {
      const c = await srv.connect(first.type);
      c.send(first);
      assertErrorFrame(await c.nextOfType("error"), "unauthenticated", first.ref);
      assert.equal((await c.waitClosed()).code, 4401, first.type);
      assert.equal(c.frames.length, 1, JSON.stringify(c.frames));
    }
  } finally {
    await srv.stop();
  }
});

Deno.test("an unparsable first frame or a malformed hello: error invalid, then close 4401", async () => {
  const srv = await startTestServer();
  try {
    const firsts: Array<[string, string | undefined]> = [
      ["{not json", undefined],
      ["", undefined],
      ['{"type":"hello","username":"alice","ref":"h"}', "h"],
      ['{"type":"hello","token":42,"ref":"h"}', "h"],
    ];
    for (const [text, ref] of firsts) {
      const c = await srv.connect(JSON.stringify(text));
      c.sendRaw(text);
      assertErrorFrame(await c.nextOfType("error"), "invalid", ref);
      assert.equal((await c.waitClosed()).code, 4401, text);
    }
  } finally {
    await srv.stop();
  }
});

Deno.test("welcome.salons: online counts connected members (users, not sessions), member and pending per user", async () => {
  const srv = await startTestServer();
  try {
    await users(srv, "alice", "bob");
    const a1 = await login(srv, "alice");
    assert.deepEqual((await a1.client.request({ type: "join", salon: "Blabla" })).type, "joined");
    const b = await login(srv, "bob");
    // Member salons carry the catch-up fields of PROTOCOL 5.2 too.
    const none = { latest: 0, lastRead: 0, unread: 0, mentions: 0 };
    const small = { presence: "push", slowModeSeconds: 0 }; // slowModeSeconds: PROTOCOL 5.4
    assert.deepEqual(b.welcome.salons, [
      {
        name: "Général",
        policy: "auto",
        member: true,
        pending: false,
        online: 2,
        members: 2,
        ...small,
        ...none,
      },
      {
        name: "Blabla",
        policy: "open",
        member: false,
        pending: false,
        online: 1,
        members: 1,
        ...small,
      },
      {
        name: "Comptabilité",
        policy: "approval",
        member: false,
        pending: false,
        online: 0,
        members: 0,
        ...small,
      },
      {
        name: "Informatique",
        policy: "approval",
        member: false,
        pending: false,
        online: 0,
        members: 0,
        ...small,
      },
      {
        name: "Marketing",
        policy: "approval",
        member: false,
        pending: false,
        online: 0,
        members: 0,
        ...small,
      },
    ]);
    // A second session of alice: still two users online in Général, one in Blabla.
    const a2 = await resume(srv, a1.welcome.token, "alice-2");
    assert.deepEqual(salonNamed(a2.welcome, "Général"), {
      name: "Général",
      policy: "auto",
      member: true,
      pending: false,
      online: 2,
      ...none,
      members: 2,
      presence: "push",
      slowModeSeconds: 0, // PROTOCOL 5.4
    });
    assert.deepEqual(salonNamed(a2.welcome, "Blabla"), {
      name: "Blabla",
      policy: "open",
      member: true,
      pending: false,
      online: 1,
      ...none,
      members: 1,
      presence: "push",
      slowModeSeconds: 0, // PROTOCOL 5.4
    });
  } finally {
    await srv.stop();
  }
});

// --- 2.2 join and leave -------------------------------------------------------

Deno.test("join: open salon -> joined (to every session, member_joined to members); approval -> join_pending and join_request; again -> same answer", async () => {
  const clock = manualClock();
  const srv = await startTestServer({ CAUSERIE_ADMIN_PASSWORD: "admin secret pw" }, {
    hub: { now: clock.now },
  });
  try {
    await users(srv, "alice", "bob");
    const admin = await session(srv, { username: "admin", password: "admin secret pw" }, "admin");
    const b = await login(srv, "bob");
    assert.equal((await b.client.request({ type: "join", salon: "Blabla" })).type, "joined");
    const a1 = await login(srv, "alice", "alice-1");
    const a2 = await resume(srv, a1.welcome.token, "alice-2");

    // Open salon, matched by name like every name; replies carry the configured name.
    a1.client.send({ type: "join", salon: "blabla", ref: "j1" });
    assert.deepEqual(await a1.client.next(withRef("j1")), {
      type: "joined",
      salon: "Blabla",
      ref: "j1",
    });
    assert.deepEqual(await a2.client.nextOfType("joined"), { type: "joined", salon: "Blabla" });
    assert.deepEqual(await b.client.nextOfType("member_joined"), {
      type: "member_joined",
      salon: "Blabla",
      user: { username: "alice", alias: "Alice" },
    });

    // Already a member: joined again, and no second member_joined.
    assert.deepEqual(await a1.client.request({ type: "join", salon: "Blabla", ref: "j2" }), {
      type: "joined",
      salon: "Blabla",
      ref: "j2",
    });
    // The auto salon: everyone is a member.
    assert.deepEqual(await a1.client.request({ type: "join", salon: "Général", ref: "j3" }), {
      type: "joined",
      salon: "Général",
      ref: "j3",
    });

    // Approval salon: a pending request, and the moderators online are told.
    assert.deepEqual(
      await a1.client.request({ type: "join", salon: "Comptabilite\u0301", ref: "j4" }),
      { type: "join_pending", salon: "Comptabilité", ref: "j4" },
    );
    assert.deepEqual(await a2.client.nextOfType("join_pending"), {
      type: "join_pending",
      salon: "Comptabilité",
    });
    assert.deepEqual(await admin.client.nextOfType("join_request"), {
      type: "join_request",
      salon: "Comptabilité",
      username: "alice",
      alias: "Alice",
      at: new Date(clock.now()).toISOString(),
    });
    // Pending already: join_pending again, no second join_request.
    assert.deepEqual(
      await a1.client.request({ type: "join", salon: "Comptabilité", ref: "j5" }),
      { type: "join_pending", salon: "Comptabilité", ref: "j5" },
    );
    assertErrorFrame(
      await a1.client.request({ type: "join", salon: "Nowhere", ref: "j6" }),
      "unknown_salon",
      "j6",
    );

    assert.equal((await receivedSoFar(b.client, ofType("member_joined"))).length, 1);
    assert.equal((await receivedSoFar(admin.client, ofType("join_request"))).length, 1);
    assert.equal((await receivedSoFar(b.client, ofType("join_request"))).length, 0);

    // A later welcome shows the membership and the pending request.
    const a3 = await resume(srv, a1.welcome.token, "alice-3");
    assert.deepEqual(salonNamed(a3.welcome, "Blabla"), {
      name: "Blabla",
      policy: "open",
      member: true,
      pending: false,
      online: 2,
      // PROTOCOL 5.2: a member salon's catch-up fields.
      latest: 0,
      lastRead: 0,
      unread: 0,
      mentions: 0,
      members: 2,
      presence: "push",
      slowModeSeconds: 0, // PROTOCOL 5.4
    });
    assert.deepEqual(salonNamed(a3.welcome, "Comptabilité"), {
      name: "Comptabilité",
      policy: "approval",
      member: false,
      pending: true,
      online: 0,
      members: 0,
      presence: "push",
      slowModeSeconds: 0, // PROTOCOL 5.4
    });
  } finally {
    await srv.stop();
  }
});

Deno.test("leave: member -> left; pending -> withdrawn with left; auto salon -> forbidden; neither -> not_member", async () => {
  const clock = manualClock();
  const srv = await startTestServer({}, { hub: { now: clock.now } });
  try {
    await users(srv, "alice", "bob");
    const a1 = await login(srv, "alice", "alice-1");
    const a2 = await resume(srv, a1.welcome.token, "alice-2");
    const b = await login(srv, "bob");
    assert.equal((await b.client.request({ type: "join", salon: "Blabla" })).type, "joined");
    const c = a1.client;
    assert.equal((await c.request({ type: "join", salon: "Blabla" })).type, "joined");
    assert.equal((await c.request({ type: "join", salon: "Informatique" })).type, "join_pending");

    assert.deepEqual(await c.request({ type: "leave", salon: "Blabla", ref: "l1" }), {
      type: "left",
      salon: "Blabla",
      ref: "l1",
    });
    assert.deepEqual(
      await a2.client.next((f) => f.type === "left" && f.salon === "Blabla"),
      { type: "left", salon: "Blabla" },
    );
    assertErrorFrame(
      await c.request({ type: "say", salon: "Blabla", text: "still here?", ref: "s1" }),
      "not_member",
      "s1",
    );
    // Messages of Blabla no longer reach any of alice's sessions.
    const said = await b.client.request({ type: "say", salon: "Blabla", text: "gone?" });
    assert.equal(said.type, "ok", JSON.stringify(said));
    await b.client.next((f) => f.type === "message" && f.id === said.id);
    for (const client of [a1.client, a2.client]) {
      assert.deepEqual(await receivedSoFar(client, ofType("message")), []);
    }
    assertErrorFrame(
      await c.request({ type: "leave", salon: "Blabla", ref: "l2" }),
      "not_member",
      "l2",
    );
    assertErrorFrame(
      await c.request({ type: "leave", salon: "Général", ref: "l3" }),
      "forbidden",
      "l3",
    );

    clock.advance(10_000); // join/leave: 5 at once per user, then one every 2 s (PROTOCOL 5.6)
    assert.deepEqual(await c.request({ type: "leave", salon: "informatique", ref: "l4" }), {
      type: "left",
      salon: "Informatique",
      ref: "l4",
    });
    assertErrorFrame(
      await c.request({ type: "leave", salon: "Informatique", ref: "l5" }),
      "not_member",
      "l5",
    );
    assertErrorFrame(
      await c.request({ type: "leave", salon: "Marketing", ref: "l6" }),
      "not_member",
      "l6",
    );
    assertErrorFrame(
      await c.request({ type: "leave", salon: "Nowhere", ref: "l7" }),
      "unknown_salon",
      "l7",
    );

    const a3 = await resume(srv, a1.welcome.token, "alice-3");
    assert.deepEqual(
      a3.welcome.salons.map((s: Frame) => [s.name, s.member, s.pending]),
      [
        ["Général", true, false],
        ["Blabla", false, false],
        ["Comptabilité", false, false],
        ["Informatique", false, false],
        ["Marketing", false, false],
      ],
    );
    // Joining again after withdrawing: within 10 minutes of the first request,
    // rate_limited (PROTOCOL 5.6); 10 minutes after it, a fresh request.
    assertErrorFrame(
      await a3.client.request({ type: "join", salon: "Informatique", ref: "j0" }),
      "rate_limited",
      "j0",
    );
    clock.advance(10 * 60_000);
    assert.deepEqual(
      await a3.client.request({ type: "join", salon: "Informatique", ref: "j" }),
      { type: "join_pending", salon: "Informatique", ref: "j" },
    );
  } finally {
    await srv.stop();
  }
});

// --- 2.2 say ------------------------------------------------------------------

Deno.test("say: not_member for non-members; ok {ref,id,at} then message to every connected member, sender's other sessions included; ids grow", async () => {
  const clock = manualClock();
  const srv = await startTestServer({}, { hub: { now: clock.now } });
  try {
    await users(srv, "alice", "bob", "carol");
    const a1 = await login(srv, "alice", "alice-1");
    const a2 = await resume(srv, a1.welcome.token, "alice-2");
    const b = await login(srv, "bob");
    const c = await login(srv, "carol");
    assert.equal((await a1.client.request({ type: "join", salon: "Blabla" })).type, "joined");
    assert.equal((await b.client.request({ type: "join", salon: "Blabla" })).type, "joined");

    assertErrorFrame(
      await c.client.request({ type: "say", salon: "Blabla", text: "hello?", ref: "nm" }),
      "not_member",
      "nm",
    );

    const ids: number[] = [];
    for (const text of ["salut", "ça va ?", "multi\nligne\tet tab"]) {
      clock.advance(1500);
      const at = new Date(clock.now()).toISOString();
      const ref = a1.client.ref("say");
      a1.client.send({ type: "say", salon: "Blabla", text, ref });
      const ok = await a1.client.next(withRef(ref));
      assert.deepEqual(Object.keys(ok).sort(), ["at", "id", "ref", "type"], JSON.stringify(ok));
      assert.equal(ok.type, "ok");
      assert.equal(ok.at, at);
      assert.ok(Number.isInteger(ok.id), JSON.stringify(ok));
      const expected = {
        type: "message",
        salon: "Blabla",
        id: ok.id,
        from: { username: "alice", alias: "Alice" },
        text,
        at,
      };
      const isIt = (f: Frame) => f.type === "message" && f.id === ok.id && f.salon === "Blabla";
      for (const client of [a1.client, a2.client, b.client]) {
        assert.deepEqual(await client.next(isIt), expected);
      }
      // The sender learns of the commit before seeing the message.
      const okAt = a1.client.frames.indexOf(ok);
      const msgAt = a1.client.frames.findIndex(isIt);
      assert.ok(okAt < msgAt, `ok at ${okAt}, message at ${msgAt}`);
      ids.push(ok.id);
    }
    assert.deepEqual(ids, [1, 2, 3]);
    // carol is not a member of Blabla: none of it reached her.
    assert.deepEqual(await receivedSoFar(c.client, (f) => f.salon === "Blabla"), []);

    // Général: everyone is a member, so carol gets bob's message. Its ids are its own.
    const ok = await b.client.request({ type: "say", salon: "général", text: "à tous" });
    assert.equal(ok.type, "ok", JSON.stringify(ok));
    assert.equal(ok.id, 1);
    for (const client of [a1.client, a2.client, b.client, c.client]) {
      const m = await client.next((f) => f.type === "message" && f.salon === "Général");
      assert.equal(m.text, "à tous");
      assert.deepEqual(m.from, { username: "bob", alias: "Bob" });
    }
    assertErrorFrame(
      await a1.client.request({ type: "say", salon: "Nowhere", text: "x", ref: "u" }),
      "unknown_salon",
      "u",
    );
  } finally {
    await srv.stop();
  }
});

// --- 2.2 direct ---------------------------------------------------------------

Deno.test("direct: ok then direct to every session of both users; offline recipient; unknown_user; ids grow", async () => {
  const clock = manualClock();
  const srv = await startTestServer({}, { hub: { now: clock.now } });
  try {
    await users(srv, "alice", "bob", "carol");
    const a1 = await login(srv, "alice", "alice-1");
    const a2 = await resume(srv, a1.welcome.token, "alice-2");
    const b1 = await login(srv, "bob", "bob-1");
    const b2 = await resume(srv, b1.welcome.token, "bob-2");
    const everyone = [a1.client, a2.client, b1.client, b2.client];
    const alice = { username: "alice", alias: "Alice" };
    const bob = { username: "bob", alias: "Bob" };

    const sent: Array<[TestClient, string, string, typeof alice, typeof alice]> = [
      [a1.client, "bob", "psst", alice, bob],
      [a2.client, "BOB", "encore", alice, bob],
      [b2.client, "alice", "oui ?", bob, alice],
    ];
    const ids: number[] = [];
    for (const [from, to, text, fromUser, toUser] of sent) {
      clock.advance(1000);
      const at = new Date(clock.now()).toISOString();
      const ok = await from.request({ type: "direct", to, text, ref: "d" });
      assert.deepEqual(ok, { type: "ok", ref: "d", id: ok.id, at }, JSON.stringify(ok));
      assert.ok(Number.isInteger(ok.id));
      const expected = { type: "direct", id: ok.id, from: fromUser, to: toUser, text, at };
      const isIt = (f: Frame) => f.type === "direct" && f.id === ok.id;
      for (const client of everyone) assert.deepEqual(await client.next(isIt), expected);
      // The sender learns of the commit before seeing the message.
      assert.ok(from.frames.indexOf(ok) < from.frames.findIndex(isIt));
      ids.push(ok.id);
    }
    assert.ok(ids[0] < ids[1] && ids[1] < ids[2], `ids ${ids}`);

    // carol is offline: the message is stored and she finds it later.
    const off = await a1.client.request({ type: "direct", to: "carol", text: "tu es là ?" });
    assert.equal(off.type, "ok", JSON.stringify(off));
    assert.ok(off.id > ids[2]);
    assertErrorFrame(
      await a1.client.request({ type: "direct", to: "nobody_here", text: "allo", ref: "x" }),
      "unknown_user",
      "x",
    );
    const c = await login(srv, "carol");
    const h = await c.client.request({ type: "history", with: "alice" });
    assert.deepEqual(h.messages, [{
      id: off.id,
      from: alice,
      to: { username: "carol", alias: "Carol" },
      text: "tu es là ?",
      at: off.at,
    }]);
    // The direct to carol went to alice's sessions only, never to bob's.
    for (const client of [b1.client, b2.client]) {
      assert.equal((await receivedSoFar(client, (f) => f.id === off.id)).length, 0);
    }
    // A note to self reaches each of one's sessions once.
    const self = await a1.client.request({ type: "direct", to: "alice", text: "memo" });
    assert.equal(self.type, "ok", JSON.stringify(self));
    for (const client of [a1.client, a2.client]) {
      await client.next((f) => f.type === "direct" && f.id === self.id);
      assert.equal(
        (await receivedSoFar(client, (f) => f.type === "direct" && f.id === self.id)).length,
        1,
      );
    }
  } finally {
    await srv.stop();
  }
});

// --- 2.2 history --------------------------------------------------------------

Deno.test("history of a salon: newest last, default 50, before/limit/more, max 200, members only", async () => {
  const clock = manualClock();
  const srv = await startTestServer({
    CAUSERIE_RATE_BURST: "1000",
    CAUSERIE_REQUEST_BURST: "100000",
  }, {
    hub: { now: clock.now },
  });
  try {
    await users(srv, "alice", "bob");
    const a = await login(srv, "alice");
    const b = await login(srv, "bob");
    const messages: Frame[] = [];
    for (let i = 1; i <= 60; i++) {
      clock.advance(1000);
      a.client.send({ type: "say", salon: "Général", text: `m${i}`, ref: `s${i}` });
    }
    for (let i = 1; i <= 60; i++) {
      const ok = await a.client.next(withRef(`s${i}`));
      assert.equal(ok.type, "ok", JSON.stringify(ok));
      assert.equal(ok.id, i);
      messages.push(
        await a.client.next((f) => f.type === "message" && f.id === ok.id && f.salon === "Général"),
      );
    }
    const items = messages.map(withoutType);
    assert.equal(items[59].text, "m60");

    const page = await a.client.request({ type: "history", salon: "Général", ref: "h1" });
    assert.deepEqual(Object.keys(page).sort(), ["messages", "more", "ref", "salon", "type"]);
    assert.equal(page.salon, "Général");
    assert.equal(page.messages.length, 50, "default limit");
    assert.deepEqual(page.messages, items.slice(10));
    assert.equal(page.more, true);

    const all = await b.client.request({ type: "history", salon: "général", limit: 200 });
    assert.equal(all.salon, "Général");
    assert.deepEqual(all.messages, items);
    assert.equal(all.more, false);

    const older = await a.client.request({
      type: "history",
      salon: "Général",
      before: 11,
      limit: 5,
    });
    assert.deepEqual(older.messages.map((m: Frame) => m.id), [6, 7, 8, 9, 10]);
    assert.equal(older.more, true);
    const oldest = await a.client.request({ type: "history", salon: "Général", before: 6 });
    assert.deepEqual(oldest.messages, items.slice(0, 5));
    assert.equal(oldest.more, false);
    const none = await a.client.request({ type: "history", salon: "Général", before: 1 });
    assert.deepEqual([none.messages, none.more], [[], false]);
    const exact = await a.client.request({ type: "history", salon: "Général", limit: 60 });
    assert.deepEqual([exact.messages.length, exact.more], [60, false]);
    const justUnder = await a.client.request({ type: "history", salon: "Général", limit: 59 });
    assert.deepEqual([justUnder.messages[0].id, justUnder.more], [2, true]);

    assertErrorFrame(
      await a.client.request({ type: "history", salon: "Général", limit: 201, ref: "big" }),
      "invalid",
      "big",
    );
    assertErrorFrame(
      await b.client.request({ type: "history", salon: "Blabla", ref: "nm" }),
      "not_member",
      "nm",
    );
    assertErrorFrame(
      await b.client.request({ type: "history", salon: "Nowhere", ref: "us" }),
      "unknown_salon",
      "us",
    );
    await assertServed(a.client);
  } finally {
    await srv.stop();
  }
});

Deno.test("history of a direct conversation: both sides see it, newest last, before/limit/more; nobody else does", async () => {
  const clock = manualClock();
  const srv = await startTestServer({}, { hub: { now: clock.now } });
  try {
    await users(srv, "alice", "bob", "carol");
    const a = await login(srv, "alice");
    const b = await login(srv, "bob");
    const c = await login(srv, "carol");
    const directs: Frame[] = [];
    const plan: Array<[TestClient, string, string]> = [
      [a.client, "bob", "d1"],
      [a.client, "bob", "d2"],
      [b.client, "alice", "d3"],
      [a.client, "bob", "d4"],
    ];
    for (const [from, to, text] of plan) {
      clock.advance(1000);
      const ok = await from.request({ type: "direct", to, text });
      assert.equal(ok.type, "ok", JSON.stringify(ok));
      directs.push(await a.client.next((f) => f.type === "direct" && f.id === ok.id));
    }
    const items = directs.map(withoutType);

    const mine = await a.client.request({ type: "history", with: "bob", ref: "h" });
    assert.deepEqual(mine, {
      type: "history",
      with: "bob",
      messages: items,
      more: false,
      ref: "h",
    });
    const theirs = await b.client.request({ type: "history", with: "ALICE", ref: "h" });
    assert.deepEqual(theirs, {
      type: "history",
      with: "alice",
      messages: items,
      more: false,
      ref: "h",
    });
    const last2 = await a.client.request({ type: "history", with: "bob", limit: 2 });
    assert.deepEqual([last2.messages, last2.more], [items.slice(2), true]);
    const first2 = await b.client.request({
      type: "history",
      with: "alice",
      before: items[2].id as number,
      limit: 5,
    });
    assert.deepEqual([first2.messages, first2.more], [items.slice(0, 2), false]);

    // carol sees nothing of alice and bob's conversation.
    for (const other of ["alice", "bob"]) {
      const h = await c.client.request({ type: "history", with: other });
      assert.deepEqual([h.type, h.with, h.messages, h.more], ["history", other, [], false]);
    }
    assertErrorFrame(
      await c.client.request({ type: "history", with: "nobody_here", ref: "u" }),
      "unknown_user",
      "u",
    );
  } finally {
    await srv.stop();
  }
});

// --- 2.2 who and ping -------------------------------------------------------------

Deno.test("who: members with their status; members only", async () => {
  const srv = await startTestServer({}, { hub: { presenceIntervalMs: 10 } });
  try {
    await users(srv, "alice", "bob", "carol");
    const a = await login(srv, "alice");
    const c = await login(srv, "carol");
    const b = await login(srv, "bob");
    assert.equal((await b.client.request({ type: "join", salon: "Blabla" })).type, "joined");
    await b.client.close();
    // bob's departure is known once alice is told he is offline.
    await a.client.next((f) =>
      f.type === "presence" &&
      f.changes.some((x: Frame) => x.username === "bob" && x.status === "offline")
    );
    assert.equal((await a.client.request({ type: "join", salon: "Blabla" })).type, "joined");

    const who = await a.client.request({ type: "who", salon: "blabla", ref: "w" });
    assert.deepEqual(Object.keys(who).sort(), [
      "members",
      "more",
      "online",
      "ref",
      "salon",
      "type",
      "users",
    ]);
    assert.equal(who.salon, "Blabla");
    const byName = (x: Frame, y: Frame) => x.username < y.username ? -1 : 1;
    assert.deepEqual([...who.users].sort(byName), [
      { username: "alice", alias: "Alice", status: "online" },
      { username: "bob", alias: "Bob", status: "offline" },
    ]);
    const general = await c.client.request({ type: "who", salon: "Général" });
    assert.deepEqual([...general.users].sort(byName), [
      { username: "alice", alias: "Alice", status: "online" },
      { username: "bob", alias: "Bob", status: "offline" },
      { username: "carol", alias: "Carol", status: "online" },
    ]);
    assertErrorFrame(
      await c.client.request({ type: "who", salon: "Blabla", ref: "nm" }),
      "not_member",
      "nm",
    );
    assertErrorFrame(
      await c.client.request({ type: "who", salon: "Nowhere", ref: "us" }),
      "unknown_salon",
      "us",
    );
  } finally {
    await srv.stop();
  }
});

Deno.test("ping: pong, with the ref when there is one", async () => {
  const srv = await startTestServer();
  try {
    await users(srv, "alice");
    const a = await login(srv, "alice");
    a.client.send({ type: "ping", ref: "p-1" });
    assert.deepEqual(await a.client.next(withRef("p-1")), { type: "pong", ref: "p-1" });
    a.client.send({ type: "ping" });
    assert.deepEqual(await a.client.nextOfType("pong"), { type: "pong" });
  } finally {
    await srv.stop();
  }
});

// --- 2.3 presence -------------------------------------------------------------------

Deno.test("presence: a second user coming online, then going offline, is announced to the first", async () => {
  const srv = await startTestServer({}, { hub: { presenceIntervalMs: 20 } });
  try {
    await users(srv, "alice", "bob");
    const a = await login(srv, "alice");
    const b = await login(srv, "bob");
    const change = (username: string, status: string) => (f: Frame) =>
      f.type === "presence" &&
      f.changes.some((x: Frame) => x.username === username && x.status === status);
    const online = await a.client.next(change("bob", "online"), undefined, "bob online");
    assert.deepEqual(Object.keys(online).sort(), ["changes", "type"]);
    for (const x of online.changes) {
      assert.deepEqual(Object.keys(x).sort(), ["status", "username"]);
    }
    await b.client.close();
    await a.client.next(change("bob", "offline"), undefined, "bob offline");
  } finally {
    await srv.stop();
  }
});

Deno.test("presence is coalesced: a user who comes and goes within the interval appears once, with the final status", async () => {
  const clock = new SimulatedClock();
  const srv = await startTestServer({}, { hub: { clock, presenceIntervalMs: 1000 } });
  try {
    await users(srv, "alice", "bob");
    const a = await login(srv, "alice");
    // The first change after a quiet interval goes out at once.
    assert.deepEqual(await a.client.nextOfType("presence"), {
      type: "presence",
      changes: [{ username: "alice", status: "online" }],
    });
    const b = await login(srv, "bob");
    const bobIs = async (status: string) => {
      for (let i = 0; i < 500; i++) {
        const who = await a.client.request({ type: "who", salon: "Général" });
        if (who.users.some((u: Frame) => u.username === "bob" && u.status === status)) return;
      }
      assert.fail(`bob never became ${status}`);
    };
    await bobIs("online");
    await b.client.close();
    await bobIs("offline");
    assert.equal((await receivedSoFar(a.client, ofType("presence"))).length, 1);
    clock.increment(1000);
    assert.deepEqual(await a.client.nextOfType("presence"), {
      type: "presence",
      changes: [{ username: "bob", status: "offline" }],
    });
  } finally {
    await srv.stop();
  }
});

// --- Sessions -----------------------------------------------------------------------

Deno.test("two sessions of one user both receive messages, directs and joined", async () => {
  const srv = await startTestServer();
  try {
    await users(srv, "alice", "bob");
    const a1 = await login(srv, "alice", "alice-1");
    const a2 = await resume(srv, a1.welcome.token, "alice-2");
    const b = await login(srv, "bob");
    a1.client.send({ type: "join", salon: "Blabla", ref: "j" });
    assert.deepEqual(await a1.client.next(withRef("j")), {
      type: "joined",
      salon: "Blabla",
      ref: "j",
    });
    assert.deepEqual(await a2.client.nextOfType("joined"), { type: "joined", salon: "Blabla" });
    assert.equal((await b.client.request({ type: "join", salon: "Blabla" })).type, "joined");

    const said = await b.client.request({ type: "say", salon: "Blabla", text: "coucou" });
    assert.equal(said.type, "ok", JSON.stringify(said));
    for (const c of [a1.client, a2.client]) {
      const m = await c.next((f) => f.type === "message" && f.id === said.id);
      assert.equal(m.text, "coucou");
    }
    // A session opened after the join is in the salon as well.
    const a3 = await resume(srv, a1.welcome.token, "alice-3");
    const again = await b.client.request({ type: "say", salon: "Blabla", text: "re" });
    assert.equal(again.type, "ok", JSON.stringify(again));
    for (const c of [a1.client, a2.client, a3.client]) {
      const m = await c.next((f) => f.type === "message" && f.id === again.id);
      assert.equal(m.text, "re");
    }
    const sent = await b.client.request({ type: "direct", to: "alice", text: "en privé" });
    assert.equal(sent.type, "ok", JSON.stringify(sent));
    for (const c of [a1.client, a2.client, a3.client]) {
      const d = await c.next((f) => f.type === "direct" && f.id === sent.id);
      assert.equal(d.text, "en privé");
    }
  } finally {
    await srv.stop();
  }
});

Deno.test("max sessions: a third session with CAUSERIE_MAX_SESSIONS=2 closes the oldest with 4409", async () => {
  const srv = await startTestServer({ CAUSERIE_MAX_SESSIONS: "2" });
  try {
    await users(srv, "alice");
    const s1 = await login(srv, "alice", "alice-1");
    const s2 = await resume(srv, s1.welcome.token, "alice-2");
    await assertServed(s2.client);
    const s3 = await resume(srv, s1.welcome.token, "alice-3");
    assert.equal((await s1.client.waitClosed()).code, 4409);
    await assertServed(s2.client);
    await assertServed(s3.client);
    // The survivors still get messages.
    const ok = await s3.client.request({ type: "say", salon: "Général", text: "toujours là" });
    assert.equal(ok.type, "ok", JSON.stringify(ok));
    await s2.client.next((f) => f.type === "message" && f.id === ok.id);
  } finally {
    await srv.stop();
  }
});

Deno.test("hello timeout: a socket that says nothing is closed with 4401; one that said hello stays", async () => {
  const srv = await startTestServer({}, { hub: { helloTimeoutMs: 150 } });
  try {
    await users(srv, "alice");
    const a = await login(srv, "alice");
    const silent = await srv.connect("silent");
    const closed = await silent.waitClosed();
    assert.equal(closed.code, 4401);
    assert.equal(silent.frames.length, 0, JSON.stringify(silent.frames));
    // alice's timer would have fired before the silent socket's.
    await assertServed(a.client);
  } finally {
    await srv.stop();
  }
});

Deno.test("GET /ws without an upgrade: 426 with a JSON error body", async () => {
  const srv = await startTestServer();
  try {
    const res = await http(srv.url, "GET", "/ws");
    assert.equal(res.status, 426, res.text);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    assert.deepEqual(Object.keys(res.body!), ["error"]);
    assert.equal(typeof res.body!.error.code, "string");
    assert.ok(res.body!.error.message.length > 0);
  } finally {
    await srv.stop();
  }
});
