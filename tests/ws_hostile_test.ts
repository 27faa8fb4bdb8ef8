/**
 * Hostile input over real sockets: malformed frames, wrong field types,
 * oversized and binary frames, bursts, floods and SQL metacharacters. A bad
 * frame never closes the connection by itself (PROTOCOL.md 2.4); abuse does,
 * with the documented code; and the server keeps serving everyone else.
 */

import assert from "node:assert/strict";
import { parseFrame } from "../protocol/frames.ts";
import { manualClock } from "./helpers.ts";
import {
  assertErrorFrame,
  assertServed,
  type Frame,
  ofType,
  registerHttp,
  session,
  startTestServer,
  type TestClient,
  type TestServer,
  WAIT_MS,
  withRef,
} from "./ws_client.ts";
import { pw } from "./ws_users.ts";

/**
 * For tests about other limits that send more frames than the per-session
 * request budget (PROTOCOL 5.6) allows with a frozen clock: a budget too big
 * to interfere. The budget itself is tested in tests/abuse/request_budget_test.ts.
 */
const BIG_REQUEST_BUDGET = { CAUSERIE_REQUEST_BURST: "100000" };

/** Registers `name` over HTTP and opens a session with a password hello. */
async function member(
  srv: TestServer,
  name: string,
): Promise<{ client: TestClient; welcome: Frame }> {
  await registerHttp(srv.url, name, name[0].toUpperCase() + name.slice(1), pw(name));
  return await session(srv, { username: name, password: pw(name) }, name);
}

/** A brand-new user registers over the socket, speaks in Général and reads it back. */
async function stillServes(srv: TestServer, name: string): Promise<void> {
  const c = await srv.connect(name);
  c.send({ type: "register", username: name, alias: `Fresh ${name}`, password: pw(name) });
  const welcome = await c.next((f) => f.type === "welcome" || f.type === "error");
  assert.equal(welcome.type, "welcome", JSON.stringify(welcome));
  const ok = await c.request({ type: "say", salon: "Général", text: `${name} is fine` });
  assert.equal(ok.type, "ok", JSON.stringify(ok));
  const h = await c.request({ type: "history", salon: "Général", limit: 1 });
  assert.equal(h.messages[0].text, `${name} is fine`);
  await c.close();
}

/**
 * Sends `raw` verbatim and expects `error` with `code` and `ref` (absent when
 * undefined), then proves the connection still answers a ping.
 */
async function refused(
  c: TestClient,
  raw: string,
  code: string,
  ref: string | undefined,
): Promise<void> {
  c.sendRaw(raw);
  const error = await c.next(
    (f) => f.type === "error" && f.ref === ref,
    undefined,
    `the error for ${raw.slice(0, 120)}`,
  );
  assertErrorFrame(error, code, ref);
  await assertServed(c);
}

Deno.test("malformed frames after welcome: error invalid, with the ref when usable, and the connection stays open", async () => {
  const clock = manualClock();
  const srv = await startTestServer(BIG_REQUEST_BUDGET, { hub: { now: clock.now } });
  try {
    const { client: c } = await member(srv, "alice");
    const cases: Array<[string, string | undefined]> = [
      ["{not json", undefined],
      ["", undefined],
      ["   ", undefined],
      ['{"type":"ping"', undefined],
      ["[1,2,3]", undefined],
      ['[{"type":"ping","ref":"a"}]', undefined],
      ["42", undefined],
      ["-1e400", undefined],
      ['"ping"', undefined],
      ["null", undefined],
      ["true", undefined],
      ["{}", undefined],
      ['{"ref":"no-type"}', "no-type"],
      ['{"type":42,"ref":"num-type"}', "num-type"],
      ['{"type":null,"ref":"null-type"}', "null-type"],
      ['{"type":["ping"],"ref":"arr-type"}', "arr-type"],
      ['{"type":"nope","ref":"unknown"}', "unknown"],
      ['{"type":"PING","ref":"upper"}', "upper"],
      ['{"type":"__proto__","ref":"proto"}', "proto"],
      ['{"type":"constructor","ref":"ctor"}', "ctor"],
      ['{"type":"toString","ref":"tostr"}', "tostr"],
      ['{"type":"hasOwnProperty","ref":"own"}', "own"],
      [`{"type":"ping","ref":"${"r".repeat(65)}"}`, undefined],
      ['{"type":"ping","ref":5}', undefined],
      ['{"type":"ping","ref":null}', undefined],
      ['{"type":"ping","ref":{"a":1}}', undefined],
      ['\uFEFF{"type":"ping","ref":"bom"}', undefined],
    ];
    for (const [raw, ref] of cases) await refused(c, raw, "invalid", ref);

    // A ref of exactly 64 characters is fine and echoed.
    const ref64 = "x".repeat(64);
    c.send({ type: "ping", ref: ref64 });
    assert.deepEqual(await c.next(withRef(ref64)), { type: "pong", ref: ref64 });

    // Deeply nested JSON in an ignored field: no crash. Issue 9: nesting past 32 levels is
    // refused before the frame is parsed, so the error carries no ref.
    const depth = 20_000;
    c.sendRaw(`{"type":"ping","ref":"deep","x":${"[".repeat(depth)}${"]".repeat(depth)}}`);
    const deep = await c.next((f) => f.type === "error" && /deeper than 32/.test(f.message));
    assertErrorFrame(deep, "invalid", undefined);
    await assertServed(c);
    await stillServes(srv, "after_malformed");
  } finally {
    await srv.stop();
  }
});

Deno.test("wrong field types for every frame type: error invalid with the ref, connection open", async () => {
  const clock = manualClock();
  const srv = await startTestServer(BIG_REQUEST_BUDGET, { hub: { now: clock.now } });
  try {
    await member(srv, "bob");
    const { client: c } = await member(srv, "alice");
    const bad: Record<string, unknown>[] = [
      // A second handshake on an authenticated connection.
      { type: "hello", username: "alice", password: pw("alice") },
      { type: "hello", token: 5 },
      { type: "register", username: "alice2", alias: "Alice 2", password: pw("alice2") },
      // join / leave / who: salon must be a non-empty string.
      { type: "join" },
      { type: "join", salon: 5 },
      { type: "join", salon: null },
      { type: "join", salon: "" },
      { type: "join", salon: ["Blabla"] },
      { type: "join", salon: { name: "Blabla" } },
      { type: "join", salon: true },
      { type: "leave" },
      { type: "leave", salon: 0 },
      { type: "leave", salon: ["Blabla"] },
      { type: "who" },
      { type: "who", salon: 1.5 },
      { type: "who", salon: {} },
      // say: salon and text strings, text not empty or blank.
      { type: "say", text: "hi" },
      { type: "say", salon: "Général" },
      { type: "say", salon: 5, text: "hi" },
      { type: "say", salon: "Général", text: 5 },
      { type: "say", salon: "Général", text: null },
      { type: "say", salon: "Général", text: ["hi"] },
      { type: "say", salon: "Général", text: { text: "hi" } },
      { type: "say", salon: "Général", text: "" },
      { type: "say", salon: "Général", text: " \n\t " },
      // direct: to and text strings.
      { type: "direct", text: "hi" },
      { type: "direct", to: "bob" },
      { type: "direct", to: 5, text: "hi" },
      { type: "direct", to: "", text: "hi" },
      { type: "direct", to: ["bob"], text: "hi" },
      { type: "direct", to: "bob", text: 5 },
      { type: "direct", to: "bob", text: {} },
      { type: "direct", to: "bob", text: "" },
      // history: exactly one of salon and with; whole before >= 1; limit 1-200.
      { type: "history" },
      { type: "history", salon: "Général", with: "bob" },
      { type: "history", salon: 5 },
      { type: "history", with: 5 },
      { type: "history", with: "" },
      { type: "history", salon: "Général", limit: "10" },
      { type: "history", salon: "Général", limit: 0 },
      { type: "history", salon: "Général", limit: -1 },
      { type: "history", salon: "Général", limit: 1.5 },
      { type: "history", salon: "Général", limit: 201 },
      { type: "history", salon: "Général", limit: null },
      { type: "history", salon: "Général", before: "9" },
      { type: "history", salon: "Général", before: 0 },
      { type: "history", salon: "Général", before: -3 },
      { type: "history", salon: "Général", before: 2.5 },
      { type: "history", with: "bob", limit: 1000 },
      { type: "history", with: "bob", before: [] },
    ];
    let n = 0;
    for (const frame of bad) {
      const ref = `bad-${++n}`;
      await refused(c, JSON.stringify({ ...frame, ref }), "invalid", ref);
    }
    // Overlong history limit written as a huge JSON number.
    await refused(
      c,
      '{"type":"history","salon":"Général","limit":1e400,"ref":"inf"}',
      "invalid",
      "inf",
    );
    // None of the refused say/direct frames was stored or delivered.
    assert.equal(c.frames.filter((f) => f.type === "message" || f.type === "direct").length, 0);
    const h = await c.request({ type: "history", salon: "Général" });
    assert.deepEqual(h.messages, []);
    await stillServes(srv, "after_types");
  } finally {
    await srv.stop();
  }
});

Deno.test("text rules: control characters invalid, newline and tab kept, 2000 characters (code points) ok, 2001 too_long", async () => {
  const clock = manualClock();
  const srv = await startTestServer(BIG_REQUEST_BUDGET, { hub: { now: clock.now } });
  try {
    await member(srv, "bob");
    const { client: c } = await member(srv, "alice");
    const controls = [
      "nul\u0000byte",
      "bell\u0007",
      "\u001b[31mred\u001b[0m",
      "del\u007f",
      "c1\u0085next line",
      "carriage\u000bvertical tab",
      "lone \ud800 surrogate",
      "bidi \u202e override",
    ];
    for (const text of controls) {
      for (const frame of [{ type: "say", salon: "Général" }, { type: "direct", to: "bob" }]) {
        const ref = c.ref("ctl");
        await refused(c, JSON.stringify({ ...frame, text, ref }), "invalid", ref);
      }
    }
    const tooLong = ["a".repeat(2001), "\u{1F600}".repeat(2001), "é".repeat(2001)];
    for (const text of tooLong) {
      for (const frame of [{ type: "say", salon: "Général" }, { type: "direct", to: "bob" }]) {
        const ref = c.ref("long");
        await refused(c, JSON.stringify({ ...frame, text, ref }), "too_long", ref);
      }
    }
    // Refused texts used no token: the 10-token bucket still has room for these five.
    const accepted = [
      "multi\nline\twith tab",
      "a".repeat(2000),
      "\u{1F600}".repeat(2000),
      "e\u0301".repeat(1000),
    ];
    for (const text of accepted) {
      const ok = await c.request({ type: "say", salon: "Général", text });
      assert.equal(ok.type, "ok", `${JSON.stringify(ok)} for ${text.slice(0, 20)}`);
    }
    const d = await c.request({ type: "direct", to: "bob", text: "tab\there\nnewline" });
    assert.equal(d.type, "ok", JSON.stringify(d));
    const h = await c.request({ type: "history", salon: "Général" });
    assert.deepEqual(h.messages.map((m: Frame) => m.text), accepted);
    const hd = await c.request({ type: "history", with: "bob" });
    assert.deepEqual(hd.messages.map((m: Frame) => m.text), ["tab\there\nnewline"]);
  } finally {
    await srv.stop();
  }
});

Deno.test("a frame over 64 KiB closes the socket with 1009; 64 KiB exactly is served", async () => {
  const srv = await startTestServer();
  try {
    const { client: a } = await member(srv, "alice");
    // Exactly 65536 bytes: still a frame like any other.
    const head = '{"type":"ping","ref":"edge","pad":"';
    const tail = '"}';
    a.sendRaw(head + "p".repeat(64 * 1024 - head.length - tail.length) + tail);
    assert.deepEqual(await a.next(withRef("edge")), { type: "pong", ref: "edge" });

    const big = JSON.stringify({ type: "say", salon: "Général", text: "x".repeat(70 * 1024) });
    a.sendRaw(big);
    assert.equal((await a.waitClosed()).code, 1009);

    // Multi-byte: 25,000 characters but 75,000 bytes of UTF-8.
    const { client: b } = await member(srv, "bob");
    b.send({ type: "say", salon: "Général", text: "\u20ac".repeat(25_000) });
    assert.equal((await b.waitClosed()).code, 1009);

    // The same before hello.
    const anon = await srv.connect("anonymous");
    anon.sendRaw(big);
    assert.equal((await anon.waitClosed()).code, 1009);

    // A binary frame over 64 KiB too.
    const { client: c } = await session(
      srv,
      { username: "alice", password: pw("alice") },
      "alice-2",
    );
    c.sendRaw(new Uint8Array(70 * 1024));
    assert.equal((await c.waitClosed()).code, 1009);

    await stillServes(srv, "after_big");
  } finally {
    await srv.stop();
  }
});

Deno.test("a binary frame gets error invalid and the connection stays open; before hello it is an invalid hello", async () => {
  const srv = await startTestServer();
  try {
    const { client: a } = await member(srv, "alice");
    a.sendRaw(new TextEncoder().encode('{"type":"ping","ref":"bin"}'));
    assertErrorFrame(await a.nextOfType("error"), "invalid", undefined);
    await assertServed(a);
    a.sendRaw(new Uint8Array([0xff, 0x00, 0x13]));
    assertErrorFrame(await a.nextOfType("error"), "invalid", undefined);
    await assertServed(a);

    const anon = await srv.connect("anonymous");
    anon.sendRaw(new Uint8Array([1, 2, 3]));
    assertErrorFrame(await anon.nextOfType("error"), "invalid", undefined);
    assert.equal((await anon.waitClosed()).code, 4401);
  } finally {
    await srv.stop();
  }
});

Deno.test("frames before hello: each gets error unauthenticated (or invalid) and close 4401; nothing is stored", async () => {
  const srv = await startTestServer();
  try {
    await registerHttp(srv.url, "alice", "Alice", pw("alice"));
    const firsts: Array<[unknown, string]> = [
      [{ type: "say", salon: "Général", text: "sneaky", ref: "x" }, "unauthenticated"],
      [{ type: "direct", to: "alice", text: "sneaky", ref: "x" }, "unauthenticated"],
      [{ type: "history", salon: "Général", ref: "x" }, "unauthenticated"],
      [{ type: "who", salon: "Général", ref: "x" }, "unauthenticated"],
      [{ type: "join", salon: "Blabla", ref: "x" }, "unauthenticated"],
      [{ type: "leave", salon: "Blabla", ref: "x" }, "unauthenticated"],
      [{ type: "ping", ref: "x" }, "unauthenticated"],
      [{ type: "say", ref: "x" }, "unauthenticated"],
      [{ type: "hello", ref: "x" }, "invalid"],
      [{ type: "hello", token: "", ref: "x" }, "invalid"],
      [{ type: "hello", username: "x".repeat(60_000), password: "p", ref: "x" }, "invalid"],
      [{ type: "hello", username: "alice", password: "p".repeat(300), ref: "x" }, "invalid"],
      [{ type: "hello", token: "t".repeat(600), ref: "x" }, "invalid"],
      [{ type: "hello", username: "__proto__", password: "whatever", ref: "x" }, "bad_credentials"],
      [
        { type: "register", username: "bad name", alias: "B", password: pw("b"), ref: "x" },
        "invalid",
      ],
      [
        { type: "register", username: "bell", alias: "\u0007", password: pw("b"), ref: "x" },
        "invalid",
      ],
      [{ type: "register", username: "empty", alias: "", password: pw("b"), ref: "x" }, "invalid"],
      [
        { type: "register", username: "server", alias: "Srv", password: pw("b"), ref: "x" },
        "username_taken",
      ],
      [
        { type: "register", username: "fake", alias: "Admin", password: pw("b"), ref: "x" },
        "alias_taken",
      ],
    ];
    for (const [frame, code] of firsts) {
      const c = await srv.connect(JSON.stringify(frame).slice(0, 80));
      c.send(frame);
      assertErrorFrame(await c.nextOfType("error"), code, "x");
      assert.equal((await c.waitClosed()).code, 4401, JSON.stringify(frame).slice(0, 200));
      assert.equal(c.frames.length, 1, JSON.stringify(c.frames));
    }
    // A bad ref cannot be echoed; the frame is still judged by its type.
    const badRef = "r".repeat(65);
    const badRefs: Array<[unknown, string]> = [
      [{ type: "ping", ref: badRef }, "unauthenticated"],
      [{ type: "say", salon: "Général", text: "x", ref: 7 }, "unauthenticated"],
      [{ type: "hello", username: "alice", password: pw("alice"), ref: badRef }, "invalid"],
      [
        { type: "register", username: "rex", alias: "Rex", password: pw("rex"), ref: [] },
        "invalid",
      ],
    ];
    for (const [frame, code] of badRefs) {
      const c = await srv.connect(JSON.stringify(frame).slice(0, 80));
      c.send(frame);
      assertErrorFrame(await c.nextOfType("error"), code, undefined);
      assert.equal((await c.waitClosed()).code, 4401, JSON.stringify(frame).slice(0, 200));
    }
    const { client: a } = await session(srv, { username: "alice", password: pw("alice") });
    const h = await a.request({ type: "history", salon: "Général" });
    assert.deepEqual(h.messages, []);
    const d = await a.request({ type: "history", with: "alice" });
    assert.deepEqual(d.messages, []);
    const b = await a.request({ type: "who", salon: "Général" });
    assert.deepEqual(b.users.map((u: Frame) => u.username).sort(), ["alice"]);
  } finally {
    await srv.stop();
  }
});

Deno.test("frames sent right after hello, before welcome, are handled after the welcome, in order", async () => {
  const srv = await startTestServer();
  try {
    await registerHttp(srv.url, "alice", "Alice", pw("alice"));
    const c = await srv.connect("alice");
    c.send({ type: "hello", username: "alice", password: pw("alice"), ref: "h" });
    for (const ref of ["p1", "p2", "p3"]) c.send({ type: "ping", ref });
    await c.next(withRef("p3"));
    const order = c.frames.filter((f) => f.ref !== undefined).map((f) => `${f.type}:${f.ref}`);
    assert.deepEqual(order, ["welcome:h", "pong:p1", "pong:p2", "pong:p3"]);
  } finally {
    await srv.stop();
  }
});

Deno.test("a join then a say queued during the handshake: the say is handled after the join took effect", async () => {
  // Over a real socket this happens whenever the join and the say arrive while
  // the hello is still being checked (a slow password hash, a loaded server).
  // To make it deterministic, the frames are handed to the hub exactly as
  // routes/ws.ts does, all in the same tick as the hello.
  const srv = await startTestServer();
  const sent: Frame[] = [];
  const got = Promise.withResolvers<void>();
  let handle: ReturnType<typeof srv.server.hub.connect> | undefined;
  try {
    await registerHttp(srv.url, "alice", "Alice", pw("alice"));
    handle = srv.server.hub.connect({
      send(frame) {
        sent.push(JSON.parse(frame));
        if (sent.some((f) => f.ref === "s") && sent.some((f) => f.ref === "j")) got.resolve();
      },
      close(code, reason) {
        sent.push({ type: "__closed__", code, reason });
        got.resolve();
      },
    }, "127.0.0.1");
    const frames = [
      { type: "hello", username: "alice", password: pw("alice"), ref: "h" },
      { type: "join", salon: "Blabla", ref: "j" },
      { type: "say", salon: "Blabla", text: "first words", ref: "s" },
    ];
    for (const frame of frames) handle.receive(parseFrame(JSON.stringify(frame)));
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      got.promise,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(JSON.stringify(sent))), WAIT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
    const replies = sent.filter((f) => f.ref !== undefined);
    assert.deepEqual(replies.map((f) => `${f.type}:${f.ref}`), ["welcome:h", "joined:j", "ok:s"]);
  } finally {
    handle?.closed();
    await srv.stop();
  }
});

Deno.test("10,000 says in a burst: exactly 10 ok and 9,990 rate_limited; the connection stays open", async () => {
  const clock = manualClock();
  const srv = await startTestServer(BIG_REQUEST_BUDGET, { hub: { now: clock.now } });
  try {
    const { client: a } = await member(srv, "alice");
    const frame = JSON.stringify({ type: "say", salon: "Général", text: "spam" });
    for (let i = 0; i < 10_000; i++) a.sendRaw(frame);
    a.send({ type: "ping", ref: "end" });
    await a.next(withRef("end"), 60_000);
    const oks: Frame[] = [];
    for (let i = 0; i < 10; i++) oks.push(await a.nextOfType("ok"));
    for (const ok of oks) await a.next((f) => f.type === "message" && f.id === ok.id);
    await assertServed(a);
    const errors = a.frames.filter((f) => f.type === "error");
    assert.equal(errors.length, 9_990);
    assert.ok(errors.every((e) => e.code === "rate_limited"), "every refusal is rate_limited");
    assert.equal(a.frames.filter((f) => f.type === "ok").length, 10);
    assert.deepEqual(oks.map((o) => o.id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(a.frames.filter((f) => f.type === "message").length, 10);
    assert.ok(a.isOpen);
    const h = await a.request({ type: "history", salon: "Général", limit: 200 });
    assert.equal(h.messages.length, 10);
    // The bucket refills at 5 per second of (simulated) time.
    clock.advance(1000);
    for (let i = 0; i < 5; i++) {
      const ok = await a.request({ type: "say", salon: "Général", text: `again ${i}` });
      assert.equal(ok.type, "ok", JSON.stringify(ok));
    }
    assertErrorFrame(
      await a.request({ type: "direct", to: "alice", text: "one too many", ref: "d" }),
      "rate_limited",
      "d",
    );
    await stillServes(srv, "after_burst");
  } finally {
    await srv.stop();
  }
});

Deno.test("flood: frames refused for 5 simulated seconds close the socket with 1008", async () => {
  const clock = manualClock();
  const srv = await startTestServer({}, { hub: { now: clock.now } });
  try {
    await registerHttp(srv.url, "alice", "Alice", pw("alice"));
    const hello = { username: "alice", password: pw("alice") };
    const refusedAt = async (c: TestClient, ref: string) => {
      c.send({ type: "nope", ref });
      assertErrorFrame(await c.next(withRef(ref)), "invalid", ref);
    };

    // One refused frame every 500 ms: the one at +5000 ms is the last.
    const { client: a } = await session(srv, hello, "alice-a");
    for (let t = 0; t <= 5000; t += 500) {
      await refusedAt(a, `a${t}`);
      if (t < 5000) clock.advance(500);
    }
    const closed = await a.waitClosed();
    assert.equal(closed.code, 1008);

    // An accepted frame does not end the run (issue 9): 4.5 s of refusals, a
    // ping (answered), then the refusal at +5 s closes.
    const { client: b } = await session(srv, hello, "alice-b");
    for (let t = 0; t <= 4500; t += 500) {
      await refusedAt(b, `b1-${t}`);
      clock.advance(500);
    }
    await assertServed(b);
    await refusedAt(b, "b1-5000");
    assert.equal((await b.waitClosed()).code, 1008);

    // A gap of a second or more ends the run too (runs are made of gaps under 1 s).
    const { client: c } = await session(srv, hello, "alice-c");
    for (let t = 0; t <= 3600; t += 900) {
      await refusedAt(c, `c1-${t}`);
      clock.advance(900);
    }
    clock.advance(600); // 1.5 s since the last refusal: 5.1 s since the first
    for (let t = 0; t < 5400; t += 900) {
      await refusedAt(c, `c2-${t}`);
      clock.advance(900);
    }
    await refusedAt(c, "c2-5400");
    assert.equal((await c.waitClosed()).code, 1008);

    await stillServes(srv, "after_flood");
  } finally {
    await srv.stop();
  }
});

Deno.test("SQL metacharacters and odd text are stored and returned verbatim; odd names are just unknown", async () => {
  const clock = manualClock();
  const srv = await startTestServer({ ...BIG_REQUEST_BUDGET, CAUSERIE_RATE_BURST: "100" }, {
    hub: { now: clock.now },
  });
  try {
    await member(srv, "bob");
    const { client: a } = await member(srv, "alice");
    const texts = [
      "'; DROP TABLE messages; --",
      "Robert'); DROP TABLE users;--",
      '" OR "1"="1',
      "' OR 1=1 --",
      "\\'; SELECT * FROM sessions; --",
      "100% _like_ [brackets] ^$ .*",
      "$1 ? :name @p ?1 %s {0}",
      "/* comment */ -- line",
      "<script>alert(1)</script>",
      "\\u0000 as text, \\n as text",
      "emoji 😀 accents é ñ ü, CJK 中文, RTL עברית",
      "e\u0301 (decomposed) stays decomposed",
      "  leading and trailing spaces  ",
    ];
    for (const text of texts) {
      const ok = await a.request({ type: "say", salon: "Général", text });
      assert.equal(ok.type, "ok", JSON.stringify(ok));
      const d = await a.request({ type: "direct", to: "bob", text });
      assert.equal(d.type, "ok", JSON.stringify(d));
    }
    const h = await a.request({ type: "history", salon: "Général" });
    assert.deepEqual(h.messages.map((m: Frame) => m.text), texts);
    const hd = await a.request({ type: "history", with: "bob" });
    assert.deepEqual(hd.messages.map((m: Frame) => m.text), texts);

    const salons = ["Blabla' OR '1'='1", "Général'; --", "%", "_"];
    for (const salon of salons) {
      for (const type of ["join", "who", "history"]) {
        const ref = a.ref("sql");
        const reply = await a.request({ type, salon, ref });
        assertErrorFrame(reply, "unknown_salon", ref);
      }
    }
    for (const to of ["bob' --", "' OR '1'='1", "%", "b_b"]) {
      const ref = a.ref("sqlu");
      assertErrorFrame(
        await a.request({ type: "direct", to, text: "x", ref }),
        "unknown_user",
        ref,
      );
      const ref2 = a.ref("sqlh");
      assertErrorFrame(
        await a.request({ type: "history", with: to, ref: ref2 }),
        "unknown_user",
        ref2,
      );
    }
    const c = await srv.connect("sql hello");
    c.send({ type: "hello", username: "alice' --", password: "' OR '1'='1", ref: "s" });
    const e = await c.nextOfType("error");
    assert.ok(["invalid", "bad_credentials"].includes(e.code), JSON.stringify(e));
    assert.equal((await c.waitClosed()).code, 4401);

    await stillServes(srv, "after_sql");
    // Everything is still there after all of it.
    const again = await a.request({ type: "history", salon: "Général", limit: 200 });
    assert.deepEqual(again.messages.slice(0, texts.length).map((m: Frame) => m.text), texts);
  } finally {
    await srv.stop();
  }
});

Deno.test("after a gauntlet of hostile sockets on one server, a normal client is served", async () => {
  const srv = await startTestServer();
  try {
    await registerHttp(srv.url, "alice", "Alice", pw("alice"));
    const hostile: TestClient[] = [];
    for (let i = 0; i < 5; i++) hostile.push(await srv.connect(`hostile-${i}`));
    hostile[0].sendRaw("{");
    hostile[1].sendRaw(new Uint8Array(80 * 1024));
    hostile[2].send({ type: "say", salon: "Général", text: "x" });
    hostile[3].sendRaw("x".repeat(100 * 1024));
    hostile[4].send({ type: "hello", username: "alice", password: "wrong password" });
    const codes = await Promise.all(hostile.map((c) => c.waitClosed().then((x) => x.code)));
    assert.deepEqual(codes, [4401, 1009, 4401, 1009, 4401]);
    const { client } = await session(srv, { username: "alice", password: pw("alice") });
    const ok = await client.request({ type: "say", salon: "Général", text: "still standing" });
    assert.equal(ok.type, "ok", JSON.stringify(ok));
    await client.next((f) => f.type === "message" && f.id === ok.id);
    assert.ok(client.frames.some(ofType("welcome")));
    await stillServes(srv, "after_gauntlet");
  } finally {
    await srv.stop();
  }
});
