/**
 * The connection machine (actors/connection.ts) alone: a fake socket, fake
 * deps and xstate's SimulatedClock. Every frame goes through parseFrame and
 * is handed to the actor exactly as runtime/hub.ts does.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Actor, createActor, SimulatedClock } from "xstate";
import {
  type ConnectionDeps,
  type ConnectionEvent,
  type ConnectionLimits,
  connectionMachine,
  HISTORY_RATE,
  MEMBERSHIP_RATE,
  type SalonRequest,
  type UserBuckets,
} from "../actors/connection.ts";
import { TokenBuckets } from "../lib/token_bucket.ts";
import type { Session } from "../actors/session.ts";
import { ProtocolError } from "../protocol/errors.ts";
import { type HandshakeFrame, type ParsedFrame, parseFrame } from "../protocol/frames.ts";
import type { HistoryQuery, UserSummary } from "../store/store.ts";

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
const ALICE: UserSummary = { id: 1, username: "alice", alias: "Alice", role: "member" };
const SALONS = ["Général", "Blabla"];

const LIMITS: ConnectionLimits = {
  ratePerSecond: 5,
  burst: 10,
  maxText: 2000,
  helloTimeoutMs: 10_000,
  authTimeoutMs: 30_000,
  floodMs: 5_000,
  backlog: 40,
  backlogBytes: 16 * 1024,
  requestBurst: 40,
  requestPerSecond: 20,
};

/** Fresh per-user buckets (say/direct as LIMITS, join/leave as the default). */
function userBuckets(): UserBuckets {
  return {
    messages: new TokenBuckets({ burst: LIMITS.burst, perSecond: LIMITS.ratePerSecond }),
    membership: new TokenBuckets(MEMBERSHIP_RATE),
    history: new TokenBuckets(HISTORY_RATE),
  };
}

/** A frame the server sent, parsed. */
interface Sent {
  type: string;
  ref?: string;
  code?: string;
  message?: string;
  until?: string;
  [key: string]: unknown;
}

/** Lets resolved promises (the authenticate actor) run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Everything a test needs around one connection actor. */
interface Harness {
  clock: SimulatedClock;
  actor: Actor<typeof connectionMachine>;
  /** Every pause of reading asked of the socket, ms. */
  pauses: number[];
  /** Every frame sent, parsed, in order. */
  sent: Sent[];
  /** Every frame sent, as written. */
  raw: string[];
  /** Every close call. */
  closes: Array<{ code: number; reason: string }>;
  /** Every effect in order: `send:<type>`, `close:<code>`, `attach`, `detach`, `salon:<name>:<TYPE>`, `direct`, `directHistory`. */
  log: string[];
  /** Requests forwarded to each known salon. */
  salons: Map<string, SalonRequest[]>;
  /** Calls of deps.direct. */
  directs: Array<{ session: Session; ref?: string; to: string; text: string }>;
  /** Calls of deps.directHistory. */
  directHistories: Array<{ session: Session; ref?: string; other: string; query: HistoryQuery }>;
  /** Calls of deps.authenticate, each with its pending answer. */
  auths: Array<{ frame: HandshakeFrame; address: string; answer: Deferred<AuthResult> }>;
  /** Frames deps.welcome returned. */
  welcomes: string[];
  attached: Session[];
  detached: Session[];
  /** Sends a text frame through parseFrame, as the WebSocket route does. */
  text(raw: string): void;
  /** Sends a JSON value as a text frame. */
  frame(value: unknown): void;
  /** Sends a raw event. */
  event(event: ConnectionEvent): void;
  /** hello, answered with ALICE, flushed: the connection is active afterwards. */
  login(): Promise<void>;
  /** Frames sent since index `from`. */
  since(from: number): Sent[];
  stop(): void;
}

type AuthResult = { user: UserSummary; token: string };

function harness(
  opts: {
    authenticate?: ConnectionDeps["authenticate"];
    clock?: SimulatedClock;
    buckets?: UserBuckets;
    limits?: Partial<ConnectionLimits>;
  } = {},
): Harness {
  const clock = opts.clock ?? new SimulatedClock();
  if (!opts.clock) clock.set(T0);
  const sent: Sent[] = [];
  const raw: string[] = [];
  const closes: Array<{ code: number; reason: string }> = [];
  const pauses: number[] = [];
  const log: string[] = [];
  const salons = new Map<string, SalonRequest[]>(SALONS.map((n) => [n, []]));
  const directs: Harness["directs"] = [];
  const directHistories: Harness["directHistories"] = [];
  const auths: Harness["auths"] = [];
  const welcomes: string[] = [];
  const attached: Session[] = [];
  const detached: Session[] = [];

  const socket = {
    send(frame: string) {
      raw.push(frame);
      const parsed = JSON.parse(frame) as Sent;
      sent.push(parsed);
      log.push(`send:${parsed.type}`);
    },
    close(code: number, reason: string) {
      closes.push({ code, reason });
      log.push(`close:${code}`);
    },
    pause(ms: number) {
      pauses.push(ms);
    },
  };

  const deps: ConnectionDeps = {
    now: () => clock.now(),
    authenticate: opts.authenticate ?? ((frame, address) => {
      const answer = deferred<AuthResult>();
      auths.push({ frame, address, answer });
      return answer.promise;
    }),
    welcome: (session, token, ref) => {
      const frame = JSON.stringify({
        type: "welcome",
        user: { username: session.user.username, alias: session.user.alias },
        token,
        ...(ref === undefined ? {} : { ref }),
      });
      welcomes.push(frame);
      return frame;
    },
    attach: (session) => {
      attached.push(session);
      log.push("attach");
    },
    detach: (session) => {
      detached.push(session);
      log.push("detach");
    },
    salon: (name) => {
      const list = salons.get(name);
      if (!list) return undefined;
      return {
        send: (event: SalonRequest) => {
          list.push(event);
          log.push(`salon:${name}:${event.type}`);
        },
      };
    },
    direct: (session, ref, to, text) => {
      directs.push({ session, ref, to, text });
      log.push("direct");
    },
    directHistory: (session, ref, other, query) => {
      directHistories.push({ session, ref, other, query });
      log.push("directHistory");
    },
    moderate: (_session, frame) => {
      log.push(`moderate:${frame.type}`);
    },
  };

  const actor = createActor(connectionMachine, {
    clock,
    input: {
      id: "conn:1",
      socket,
      address: "192.0.2.7",
      deps,
      limits: { ...LIMITS, ...opts.limits },
      buckets: opts.buckets ?? userBuckets(),
    },
  });
  actor.start();

  function receive(parsed: ParsedFrame, bytes: number): void {
    const event: ConnectionEvent = parsed.ok ? { type: "FRAME", frame: parsed.frame, bytes } : {
      type: "BAD_FRAME",
      ref: parsed.ref,
      frameType: parsed.type,
      message: parsed.message,
      bytes,
    };
    actor.send(event);
  }
  const size = (text: string) => new TextEncoder().encode(text).byteLength;

  const h: Harness = {
    pauses,
    clock,
    actor,
    sent,
    raw,
    closes,
    log,
    salons,
    directs,
    directHistories,
    auths,
    welcomes,
    attached,
    detached,
    text: (text) => receive(parseFrame(text), size(text)),
    frame: (value) => {
      const text = JSON.stringify(value);
      receive(parseFrame(text), size(text));
    },
    event: (event) => actor.send(event),
    async login() {
      h.frame({ type: "hello", token: "tok-alice", ref: "h1" });
      const auth = auths.at(-1);
      assert.ok(auth, "authenticate was not called");
      auth.answer.resolve({ user: ALICE, token: "tok-alice" });
      await flush();
      assert.equal(actor.getSnapshot().value, "active", "the hello was not accepted");
    },
    since: (from) => sent.slice(from),
    stop: () => actor.stop(),
  };
  return h;
}

/** Runs `fn` with a fresh harness and stops its actor afterwards. */
async function withConnection(
  fn: (h: Harness) => Promise<void> | void,
  opts?: Parameters<typeof harness>[0],
): Promise<void> {
  const h = harness(opts);
  try {
    await fn(h);
  } finally {
    h.stop();
  }
}

function assertErrorFrame(frame: Sent | undefined, code: string, ref?: string): void {
  assert.ok(frame, `expected an error ${code}, got nothing`);
  assert.equal(frame.type, "error", JSON.stringify(frame));
  assert.equal(frame.code, code, JSON.stringify(frame));
  assert.equal(frame.ref, ref, JSON.stringify(frame));
  assert.equal(typeof frame.message, "string");
  assert.ok(frame.message!.trim().length > 0, "an error needs a human message");
}

function assertDone(h: Harness): void {
  assert.equal(h.actor.getSnapshot().status, "done", "the connection actor should have ended");
}

function assertOpen(h: Harness): void {
  assert.equal(h.closes.length, 0, `the socket should still be open: ${JSON.stringify(h.closes)}`);
  assert.equal(h.actor.getSnapshot().status, "active");
}

// ---------------------------------------------------------------- handshake

Deno.test("no hello: open at 9,999 ms, closed with 4401 at 10,000 ms, actor done", async () => {
  await withConnection((h) => {
    h.clock.increment(9_999);
    assertOpen(h);
    assert.equal(h.actor.getSnapshot().value, "awaitingHello");
    h.clock.increment(1);
    assert.equal(h.closes.length, 1);
    assert.equal(h.closes[0].code, 4401);
    assertDone(h);
    assert.equal(h.detached.length, 0, "no session was ever attached");
    assert.equal(h.attached.length, 0);
  });
});

Deno.test("a hello sent in time stops the hello timer", async () => {
  await withConnection(async (h) => {
    h.clock.increment(9_000);
    await h.login();
    h.clock.increment(60_000);
    assertOpen(h);
  });
});

Deno.test("a non-hello frame first: error unauthenticated with its ref, close 4401", async () => {
  const firsts: unknown[] = [
    { type: "say", salon: "Général", text: "hi", ref: "r1" },
    { type: "join", salon: "Blabla", ref: "r1" },
    { type: "ping", ref: "r1" },
    { type: "history", salon: "Général", ref: "r1" },
  ];
  for (const first of firsts) {
    await withConnection((h) => {
      h.frame(first);
      assert.equal(h.sent.length, 1, JSON.stringify(first));
      assertErrorFrame(h.sent[0], "unauthenticated", "r1");
      assert.deepEqual(h.closes.map((c) => c.code), [4401]);
      assertDone(h);
      assert.equal(h.salons.get("Général")!.length + h.salons.get("Blabla")!.length, 0);
    });
  }
});

Deno.test("an unknown frame type first (parse error with a type): unauthenticated, 4401", async () => {
  await withConnection((h) => {
    h.frame({ type: "bogus", ref: "r2" });
    assertErrorFrame(h.sent[0], "unauthenticated", "r2");
    assert.deepEqual(h.closes.map((c) => c.code), [4401]);
    assertDone(h);
  });
});

Deno.test("a non-hello frame with an unusable ref first: unauthenticated, 4401", async () => {
  // docs/protocol.md, Handshake: before welcome, "a frame of any other type
  // (known or not) is error unauthenticated"; only non-JSON and bad
  // hello/register frames are `invalid`. A bad ref does not make a say a hello.
  const firsts: unknown[] = [
    { type: "say", salon: "Général", text: "hi", ref: 5 },
    { type: "ping", ref: "x".repeat(65) },
    { type: "join", salon: "Blabla", ref: null },
  ];
  for (const first of firsts) {
    await withConnection((h) => {
      h.frame(first);
      assert.equal(h.sent.length, 1);
      assertErrorFrame(h.sent[0], "unauthenticated");
      assert.deepEqual(h.closes.map((c) => c.code), [4401]);
      assertDone(h);
    });
  }
});

Deno.test("an unparsable first frame: error invalid, close 4401", async () => {
  for (const text of ["not json", "[1,2]", "null", "42", '{"no":"type"}', "{"]) {
    await withConnection((h) => {
      h.text(text);
      assert.equal(h.sent.length, 1, text);
      assertErrorFrame(h.sent[0], "invalid");
      assert.deepEqual(h.closes.map((c) => c.code), [4401], text);
      assertDone(h);
      assert.equal(h.auths.length, 0);
    });
  }
});

Deno.test("a bad hello or register: error invalid naming the field, ref echoed, 4401", async () => {
  const cases: Array<[unknown, string]> = [
    [{ type: "hello", ref: "h1" }, "username"],
    [{ type: "hello", token: 42, ref: "h1" }, "token"],
    [{ type: "hello", username: "alice", ref: "h1" }, "password"],
    [{ type: "register", username: "alice", password: "long enough", ref: "h1" }, "alias"],
  ];
  for (const [frame, field] of cases) {
    await withConnection((h) => {
      h.frame(frame);
      assert.equal(h.sent.length, 1);
      assertErrorFrame(h.sent[0], "invalid", "h1");
      assert.match(h.sent[0].message!, new RegExp(field), JSON.stringify(h.sent[0]));
      assert.deepEqual(h.closes.map((c) => c.code), [4401]);
      assertDone(h);
      assert.equal(h.auths.length, 0, "a bad hello must not reach authenticate");
    });
  }
});

Deno.test("successful hello: welcome from deps.welcome, then attach with the session", async () => {
  await withConnection(async (h) => {
    h.frame({ type: "hello", username: "alice", password: "secret pw", ref: "h1" });
    assert.equal(h.auths.length, 1);
    assert.deepEqual(h.auths[0].frame, {
      type: "hello",
      username: "alice",
      password: "secret pw",
      ref: "h1",
    });
    assert.equal(h.auths[0].address, "192.0.2.7");
    assert.equal(h.sent.length, 0, "nothing is sent before authenticate answers");
    h.auths[0].answer.resolve({ user: ALICE, token: "new-token" });
    await flush();

    assert.equal(h.raw.length, 1);
    assert.equal(h.raw[0], h.welcomes[0], "the frame sent is deps.welcome's");
    assert.equal(h.sent[0].type, "welcome");
    assert.equal(h.sent[0].ref, "h1", "welcome echoes the hello's ref");
    assert.equal(h.sent[0].token, "new-token");
    assert.deepEqual(h.log, ["send:welcome", "attach"]);
    assert.equal(h.attached.length, 1);
    const session = h.attached[0];
    assert.equal(session.id, "conn:1");
    assert.deepEqual(session.user, ALICE);
    // The session writes to this socket, even when its methods are called detached.
    const { send, close } = session;
    send('{"type":"notice"}');
    assert.equal(h.raw.at(-1), '{"type":"notice"}');
    close(4403, "kicked");
    assert.deepEqual(h.closes.at(-1), { code: 4403, reason: "kicked" });
  });
});

Deno.test("register is a handshake too: welcome and attach", async () => {
  await withConnection(async (h) => {
    h.frame({
      type: "register",
      username: "newbie",
      alias: "Newbie",
      password: "long enough",
      ref: "r",
    });
    assert.equal(h.auths.length, 1);
    assert.equal(h.auths[0].frame.type, "register");
    h.auths[0].answer.resolve({
      user: { id: 9, username: "newbie", alias: "Newbie", role: "member" },
      token: "t9",
    });
    await flush();
    assert.equal(h.sent[0].type, "welcome");
    assert.equal(h.sent[0].ref, "r");
    assert.equal(h.attached[0].user.username, "newbie");
  });
});

Deno.test("authenticate rejects bad_credentials: error with the hello's ref, close 4401", async () => {
  await withConnection(async (h) => {
    h.frame({ type: "hello", token: "wrong", ref: "h7" });
    h.auths[0].answer.reject(
      new ProtocolError("bad_credentials", 401, "unknown or expired token; log in again"),
    );
    await flush();
    assert.equal(h.sent.length, 1);
    assertErrorFrame(h.sent[0], "bad_credentials", "h7");
    assert.equal(h.sent[0].message, "unknown or expired token; log in again");
    assert.equal("until" in h.sent[0], false);
    assert.deepEqual(h.closes.map((c) => c.code), [4401]);
    assertDone(h);
    assert.equal(h.attached.length, 0);
    assert.equal(h.detached.length, 0);
  });
});

Deno.test("authenticate rejects banned with until: until at the top level, close 4403", async () => {
  await withConnection(async (h) => {
    h.frame({ type: "hello", username: "alice", password: "secret pw", ref: "h1" });
    const until = "2026-11-24T10:05:00.000Z";
    h.auths[0].answer.reject(new ProtocolError("banned", 403, "you are kicked", { until }));
    await flush();
    assert.equal(h.sent.length, 1);
    assertErrorFrame(h.sent[0], "banned", "h1");
    assert.equal(h.sent[0].until, until);
    assert.deepEqual(Object.keys(h.sent[0]).sort(), ["code", "message", "ref", "type", "until"]);
    assert.deepEqual(h.closes.map((c) => c.code), [4403]);
    assertDone(h);
  });
});

Deno.test("a permanent ban has no until; still closed with 4403", async () => {
  await withConnection(async (h) => {
    h.frame({ type: "hello", token: "t" });
    h.auths[0].answer.reject(new ProtocolError("banned", 403, "you are banned"));
    await flush();
    assertErrorFrame(h.sent[0], "banned");
    assert.equal("until" in h.sent[0], false);
    assert.deepEqual(h.closes.map((c) => c.code), [4403]);
  });
});

Deno.test("a hello during shutdown: error shutting_down, close 1001", async () => {
  await withConnection(async (h) => {
    h.frame({ type: "hello", token: "t", ref: "h" });
    h.auths[0].answer.reject(new ProtocolError("shutting_down", 503, "the server is stopping"));
    await flush();
    assertErrorFrame(h.sent[0], "shutting_down", "h");
    assert.deepEqual(h.closes.map((c) => c.code), [1001]);
  });
});

Deno.test("authenticate failing unexpectedly: error internal, close 4401", async () => {
  await withConnection(async (h) => {
    h.frame({ type: "hello", token: "t", ref: "h" });
    h.auths[0].answer.reject(new Error("database is locked"));
    await flush();
    assertErrorFrame(h.sent[0], "internal", "h");
    assert.ok(!h.sent[0].message!.includes("database is locked"), "no internals to the client");
    assert.deepEqual(h.closes.map((c) => c.code), [4401]);
    assertDone(h);
  });
});

Deno.test("frames sent during authentication are handled after welcome, in order", async () => {
  await withConnection(async (h) => {
    h.frame({ type: "hello", token: "tok", ref: "h1" });
    h.frame({ type: "join", salon: "Blabla", ref: "a" });
    h.frame({ type: "ping", ref: "b" });
    h.frame({ type: "say", salon: "Blabla", text: "first", ref: "c" });
    h.text("not json");
    h.frame({ type: "say", salon: "Général", text: "second", ref: "d" });
    h.frame({ type: "direct", to: "bob", text: "psst", ref: "e" });
    assert.equal(h.sent.length, 0, "nothing is answered before welcome");
    assert.equal(h.salons.get("Blabla")!.length, 0, "nothing is forwarded before welcome");
    h.auths[0].answer.resolve({ user: ALICE, token: "tok" });
    await flush();
    assert.deepEqual(h.log, [
      "send:welcome",
      "attach",
      "salon:Blabla:JOIN",
      "send:pong",
      "salon:Blabla:SAY",
      "send:error",
      "salon:Général:SAY",
      "direct",
    ]);
    assert.equal(h.sent[1].ref, "b");
    assertErrorFrame(h.sent[2], "invalid");
    const blabla = h.salons.get("Blabla")!;
    assert.deepEqual(blabla.map((e) => [e.type, e.ref]), [["JOIN", "a"], ["SAY", "c"]]);
    assert.equal((blabla[1] as { text: string }).text, "first");
    assert.equal(blabla[0].session, h.attached[0], "forwarded with the attached session");
    assert.equal(h.directs[0].ref, "e");
    assertOpen(h);
  });
});

Deno.test("beyond the handshake backlog, frames get rate_limited", async () => {
  await withConnection(async (h) => {
    h.frame({ type: "hello", token: "tok" });
    for (let i = 0; i < LIMITS.backlog; i++) h.frame({ type: "ping", ref: `p${i}` });
    h.frame({ type: "ping", ref: "extra" });
    assert.equal(h.sent.length, 1);
    assertErrorFrame(h.sent[0], "rate_limited", "extra");
    h.auths[0].answer.resolve({ user: ALICE, token: "tok" });
    await flush();
    const pongs = h.sent.filter((f) => f.type === "pong");
    assert.equal(pongs.length, LIMITS.backlog);
    assert.deepEqual(
      pongs.map((p) => p.ref),
      [...Array(LIMITS.backlog).keys()].map((i) => `p${i}`),
    );
  });
});

Deno.test("the socket closing during authentication: no welcome and no attach afterwards", async () => {
  await withConnection(async (h) => {
    h.frame({ type: "hello", token: "tok" });
    h.event({ type: "SOCKET_CLOSED" });
    assertDone(h);
    h.auths[0].answer.resolve({ user: ALICE, token: "tok" });
    await flush();
    assert.equal(h.sent.length, 0);
    assert.equal(h.attached.length, 0, "a closed socket must not become a live session");
    assert.equal(h.detached.length, 0);
  });
});

Deno.test("SOCKET_CLOSED before any hello ends the actor without detach", async () => {
  await withConnection((h) => {
    h.event({ type: "SOCKET_CLOSED" });
    assertDone(h);
    assert.equal(h.detached.length, 0);
    h.clock.increment(20_000);
    assert.equal(h.closes.length, 0, "no hello-timeout close on a dead socket");
  });
});

// ---------------------------------------------------------------- after welcome

Deno.test("token bucket: 10 at once, the 11th rate_limited, refill at 5/s", async () => {
  await withConnection(async (h) => {
    await h.login();
    const say = (ref: string) => h.frame({ type: "say", salon: "Général", text: "hi", ref });
    const forwarded = () => h.salons.get("Général")!.length;

    for (let i = 0; i < 10; i++) say(`s${i}`);
    assert.equal(forwarded(), 10);
    let from = h.sent.length;
    say("s10");
    assert.equal(forwarded(), 10);
    assert.equal(h.since(from).length, 1);
    assertErrorFrame(h.sent.at(-1), "rate_limited", "s10");

    h.clock.increment(199);
    from = h.sent.length;
    say("early");
    assert.equal(forwarded(), 10, "199 ms refill less than one token");
    assertErrorFrame(h.sent.at(-1), "rate_limited", "early");

    h.clock.increment(1);
    say("refilled");
    assert.equal(forwarded(), 11, "200 ms at 5/s refill one token");
    say("again");
    assert.equal(forwarded(), 11, "only one token was refilled");
    assertErrorFrame(h.sent.at(-1), "rate_limited", "again");

    h.clock.increment(2_000);
    for (let i = 0; i < 10; i++) say(`t${i}`);
    assert.equal(forwarded(), 21, "2 s refill the whole bucket (10)");
    from = h.sent.length;
    say("over");
    assert.equal(forwarded(), 21);
    assertErrorFrame(h.sent.at(-1), "rate_limited", "over");

    // The bucket never holds more than the burst, however long the pause.
    h.clock.increment(3_600_000);
    for (let i = 0; i < 11; i++) say(`u${i}`);
    assert.equal(forwarded(), 31);
    assertErrorFrame(h.sent.at(-1), "rate_limited", "u10");
    assertOpen(h);
  });
});

Deno.test("direct uses the same bucket as say", async () => {
  await withConnection(async (h) => {
    await h.login();
    for (let i = 0; i < 5; i++) h.frame({ type: "say", salon: "Blabla", text: "x", ref: `s${i}` });
    for (let i = 0; i < 5; i++) h.frame({ type: "direct", to: "bob", text: "y", ref: `d${i}` });
    assert.equal(h.salons.get("Blabla")!.length, 5);
    assert.equal(h.directs.length, 5);
    const from = h.sent.length;
    h.frame({ type: "direct", to: "bob", text: "y", ref: "d5" });
    h.frame({ type: "say", salon: "Blabla", text: "x", ref: "s5" });
    assert.equal(h.directs.length, 5);
    assert.equal(h.salons.get("Blabla")!.length, 5);
    const errors = h.since(from);
    assert.equal(errors.length, 2);
    assertErrorFrame(errors[0], "rate_limited", "d5");
    assertErrorFrame(errors[1], "rate_limited", "s5");
    assert.deepEqual(h.directs[0], {
      session: h.attached[0],
      ref: "d0",
      to: "bob",
      text: "y",
    });
  });
});

Deno.test("other requests do not use tokens, and neither does a refused text", async () => {
  await withConnection(async (h) => {
    await h.login();
    for (let i = 0; i < 30; i++) {
      h.frame({ type: "ping" });
      h.frame({ type: "who", salon: "Général" });
      h.frame({ type: "history", salon: "Général" });
      h.frame({ type: "say", salon: "Général", text: "   " });
      h.frame({ type: "direct", to: "bob", text: "x".repeat(2001) });
    }
    for (let i = 0; i < 10; i++) h.frame({ type: "say", salon: "Général", text: "ok" });
    const says = h.salons.get("Général")!.filter((e) => e.type === "SAY");
    assert.equal(says.length, 10, "the full bucket is still there");
  }, { limits: { requestBurst: 1000 } }); // the request budget (every frame) is tested apart
});

Deno.test("ping: pong with the same ref; without ref, no ref", async () => {
  await withConnection(async (h) => {
    await h.login();
    const from = h.sent.length;
    h.frame({ type: "ping", ref: "p1" });
    h.frame({ type: "ping" });
    assert.deepEqual(h.since(from), [{ type: "pong", ref: "p1" }, { type: "pong" }]);
  });
});

Deno.test("text rules for say and direct: blank, too long, control characters", async () => {
  await withConnection(async (h) => {
    await h.login();
    const cases: Array<[string, string | undefined]> = [
      ["", "invalid"],
      ["   ", "invalid"],
      ["\n\t \n", "invalid"],
      ["x".repeat(2001), "too_long"],
      ["é".repeat(2001), "too_long"],
      ["nul\u0000byte", "invalid"],
      ["escape \u001b[31mred", "invalid"],
      ["bell\u0007", "invalid"],
      ["del\u007f", "invalid"],
      ["line one\nline two", undefined],
      ["col\tumn", undefined],
      ["x".repeat(2000), undefined],
      ["😀".repeat(2000), undefined],
    ];
    let accepted = 0;
    for (const kind of ["say", "direct"] as const) {
      for (const [text, code] of cases) {
        h.clock.increment(1_500); // neither the bucket nor flood detection interferes
        const from = h.sent.length;
        const frame = kind === "say"
          ? { type: "say", salon: "Blabla", text, ref: "t" }
          : { type: "direct", to: "bob", text, ref: "t" };
        h.frame(frame);
        const before = accepted;
        accepted = h.salons.get("Blabla")!.length + h.directs.length;
        const label = `${kind} ${JSON.stringify(text.slice(0, 20))}`;
        if (code === undefined) {
          assert.equal(h.since(from).length, 0, label);
          assert.equal(accepted, before + 1, label);
        } else {
          assert.equal(h.since(from).length, 1, label);
          assertErrorFrame(h.sent.at(-1), code, "t");
          assert.equal(accepted, before, `${label} must not be forwarded`);
        }
      }
    }
    const forwarded = h.salons.get("Blabla")![0] as { text: string };
    assert.equal(forwarded.text, "line one\nline two", "text is forwarded verbatim");
    assertOpen(h);
  });
});

Deno.test("too_long names the limit", async () => {
  await withConnection(async (h) => {
    await h.login();
    h.frame({ type: "say", salon: "Blabla", text: "x".repeat(2001) });
    assert.match(h.sent.at(-1)!.message!, /2000/);
  });
});

Deno.test("unknown salon: unknown_salon for every salon request; nothing forwarded", async () => {
  await withConnection(async (h) => {
    await h.login();
    const frames = [
      { type: "say", salon: "Nowhere", text: "hi", ref: "1" },
      { type: "join", salon: "Nowhere", ref: "2" },
      { type: "leave", salon: "Nowhere", ref: "3" },
      { type: "who", salon: "Nowhere", ref: "4" },
      { type: "history", salon: "Nowhere", ref: "5" },
    ];
    const from = h.sent.length;
    for (const f of frames) h.frame(f);
    const answers = h.since(from);
    assert.equal(answers.length, 5);
    answers.forEach((a, i) => assertErrorFrame(a, "unknown_salon", String(i + 1)));
    assert.match(answers[0].message!, /Nowhere/);
    assert.equal(h.salons.get("Général")!.length + h.salons.get("Blabla")!.length, 0);
    assertOpen(h);
  });
});

Deno.test("an unknown salon does not use a token", async () => {
  await withConnection(async (h) => {
    await h.login();
    for (let i = 0; i < 20; i++) h.frame({ type: "say", salon: "Nowhere", text: "hi" });
    for (let i = 0; i < 10; i++) h.frame({ type: "say", salon: "Général", text: "hi" });
    assert.equal(h.salons.get("Général")!.length, 10);
  });
});

Deno.test("join, leave, who, history are forwarded to the salon with session and ref", async () => {
  await withConnection(async (h) => {
    await h.login();
    h.frame({ type: "join", salon: "Blabla", ref: "j" });
    h.frame({ type: "leave", salon: "Blabla", ref: "l" });
    h.frame({ type: "who", salon: "Blabla", ref: "w" });
    h.frame({ type: "history", salon: "Blabla", ref: "h" });
    h.frame({ type: "history", salon: "Blabla", before: 40, limit: 7 });
    const session = h.attached[0];
    assert.deepEqual(h.salons.get("Blabla"), [
      { type: "JOIN", session, ref: "j" },
      { type: "LEAVE", session, ref: "l" },
      { type: "WHO", session, ref: "w" },
      { type: "HISTORY", session, ref: "h", query: { before: undefined, limit: 50 } },
      { type: "HISTORY", session, ref: undefined, query: { before: 40, limit: 7 } },
    ]);
    assert.equal(h.sent.length, 1, "the connection itself answers nothing (only welcome)");
  });
});

Deno.test("history with another user goes to deps.directHistory", async () => {
  await withConnection(async (h) => {
    await h.login();
    h.frame({ type: "history", with: "bob", ref: "x", limit: 3 });
    assert.deepEqual(h.directHistories, [
      { session: h.attached[0], ref: "x", other: "bob", query: { before: undefined, limit: 3 } },
    ]);
  });
});

Deno.test("a second hello after welcome: error invalid, connection stays open", async () => {
  await withConnection(async (h) => {
    await h.login();
    const from = h.sent.length;
    h.frame({ type: "hello", token: "again", ref: "h2" });
    assertErrorFrame(h.since(from)[0], "invalid", "h2");
    assert.equal(h.auths.length, 1, "no second authentication");
    assertOpen(h);
  });
});

Deno.test("a bad frame after welcome: error invalid with its ref, connection stays open", async () => {
  await withConnection(async (h) => {
    await h.login();
    const from = h.sent.length;
    h.frame({ type: "say", salon: "Blabla", ref: "s" });
    h.frame({ type: "nonsense", ref: "n" });
    h.text("{{{");
    const answers = h.since(from);
    assertErrorFrame(answers[0], "invalid", "s");
    assert.match(answers[0].message!, /text/);
    assertErrorFrame(answers[1], "invalid", "n");
    assertErrorFrame(answers[2], "invalid");
    assertOpen(h);
  });
});

// ---------------------------------------------------------------- flood

Deno.test("flood: refusals in a continuous stream for 5 s close with 1008", async () => {
  await withConnection(async (h) => {
    await h.login();
    // One refused frame every 100 ms, from t to t + 4,900 ms: still open.
    for (let t = 0; t < 5_000; t += 100) {
      h.text("not json");
      h.clock.increment(100);
    }
    assert.equal(h.closes.length, 0, "4.9 s of refusals is not yet a flood");
    // t + 5,000 ms.
    h.text("not json");
    assert.deepEqual(h.closes.map((c) => c.code), [1008]);
    assertDone(h);
    assert.equal(h.detached.length, 1);
    const errors = h.sent.filter((f) => f.type === "error").length;
    h.text("not json");
    assert.equal(h.sent.filter((f) => f.type === "error").length, errors, "nothing after close");
  });
});

Deno.test("flood: rate_limited and unknown_salon refusals count too", async () => {
  await withConnection(async (h) => {
    await h.login();
    for (let i = 0; i < 10; i++) h.frame({ type: "say", salon: "Général", text: "hi" });
    // Rate-limited says every 100 ms would refill tokens: send to an unknown
    // salon and bad texts instead, mixed with rate-limited ones at the start.
    h.frame({ type: "say", salon: "Général", text: "hi" });
    for (let t = 100; t <= 5_000; t += 100) {
      h.clock.increment(100);
      if (t % 200 === 0) h.frame({ type: "who", salon: "Nowhere" });
      else h.frame({ type: "say", salon: "Général", text: "" });
    }
    assert.deepEqual(h.closes.map((c) => c.code), [1008]);
  });
});

Deno.test("flood: refusals separated by idle gaps over 1 s never close", async () => {
  await withConnection(async (h) => {
    await h.login();
    // Bursts of refusals lasting 900 ms, then 1,200 ms between refusals, for 30 s.
    for (let burst = 0; burst < 15; burst++) {
      for (let i = 0; i < 10; i++) {
        h.text("not json");
        h.clock.increment(100);
      }
      h.clock.increment(1_100);
    }
    // One refusal every 1,001 ms for 20 s.
    for (let i = 0; i < 20; i++) {
      h.text("not json");
      h.clock.increment(1_001);
    }
    assertOpen(h);
  });
});

Deno.test("flood: accepted frames do not end a run of refusals (issue 9, item 5)", async () => {
  // Before issue 9 a ping every 4 s reset flood detection, and such a stream
  // of refusals went on for ever. Now only a quiet gap of 1 s ends a run.
  await withConnection(async (h) => {
    await h.login();
    for (let t = 0; t < 5_000; t += 100) {
      if (t % 2_000 === 1_000) h.frame({ type: "ping" });
      else h.text("not json");
      h.clock.increment(100);
    }
    assertOpen(h);
    h.text("not json"); // 5,000 ms after the first refusal
    assert.deepEqual(h.closes.map((c) => c.code), [1008]);
  });
  // Accepted says in the middle of a run of bad texts do not save it either.
  await withConnection(async (h) => {
    await h.login();
    for (let t = 0; t < 5_000; t += 100) {
      if (t % 1_000 === 500) h.frame({ type: "say", salon: "Blabla", text: "still here" });
      else h.frame({ type: "say", salon: "Blabla", text: "" });
      h.clock.increment(100);
    }
    assertOpen(h);
    h.frame({ type: "say", salon: "Blabla", text: "" });
    assert.deepEqual(h.closes.map((c) => c.code), [1008]);
  });
});

// ---------------------------------------------------------------- request budget

Deno.test("request budget: 40 frames at once, the 41st rate_limited and not carried out", async () => {
  await withConnection(async (h) => {
    await h.login();
    const from = h.sent.length;
    for (let i = 0; i < 40; i++) h.frame({ type: "ping", ref: `p${i}` });
    assert.equal(h.since(from).filter((f) => f.type === "pong").length, 40);
    h.frame({ type: "ping", ref: "over" });
    assertErrorFrame(h.sent.at(-1), "rate_limited", "over");
    assert.match(h.sent.at(-1)!.message!, /20 requests per second/);
    assert.equal(h.since(from).filter((f) => f.type === "pong").length, 40, "no pong for it");
    // Refilled at 20 per second: one more frame 50 ms later.
    h.clock.increment(49);
    h.frame({ type: "ping", ref: "early" });
    assertErrorFrame(h.sent.at(-1), "rate_limited", "early");
    h.clock.increment(101); // the refused frame cost a token too
    h.frame({ type: "ping", ref: "later" });
    assert.deepEqual(h.sent.at(-1), { type: "pong", ref: "later" });
    assertOpen(h);
  });
});

Deno.test("request budget: past it, the socket stops being read until a token is back (at most 2 s)", async () => {
  await withConnection(async (h) => {
    await h.login();
    for (let i = 0; i < 40; i++) h.frame({ type: "ping", ref: `p${i}` });
    assert.deepEqual(h.pauses, [], "no pause within the budget");
    h.frame({ type: "ping", ref: "over" });
    // The refusal cost a token: -1 left, two tokens to wait for at 20 per second.
    assert.deepEqual(h.pauses, [100]);
    h.frame({ type: "ping", ref: "over again" });
    assert.deepEqual(h.pauses, [100, 150]);
    for (let i = 0; i < 60; i++) h.frame({ type: "ping", ref: `flood${i}` });
    assert.equal(h.pauses.at(-1), 2000, "capped at 2 s");
    assertOpen(h);
  });
});

Deno.test("request budget: every frame type counts, accepted or refused", async () => {
  await withConnection(async (h) => {
    await h.login();
    const kinds = [
      { type: "who", salon: "Général" },
      { type: "history", salon: "Général" },
      { type: "history", with: "bob" },
      { type: "say", salon: "Général", text: "" },
      { type: "say", salon: "Nowhere", text: "x" },
      { type: "hello", token: "again" },
      { type: "requests" },
      { type: "ping" },
    ];
    for (let i = 0; i < 35; i++) h.frame(kinds[i % kinds.length]);
    for (let i = 0; i < 5; i++) h.text("not json");
    const before = h.log.length;
    h.frame({ type: "who", salon: "Général", ref: "w" });
    h.frame({ type: "join", salon: "Blabla", ref: "j" });
    h.frame({ type: "say", salon: "Général", text: "hi", ref: "s" });
    h.frame({ type: "direct", to: "bob", text: "hi", ref: "d" });
    h.frame({ type: "requests", ref: "m" });
    h.text(JSON.stringify({ type: "nope", ref: "b" }));
    const after = h.log.slice(before);
    assert.deepEqual(after, Array(6).fill("send:error"), "nothing carried out past the budget");
    for (const [i, ref] of ["w", "j", "s", "d", "m", "b"].entries()) {
      assertErrorFrame(h.sent.at(i - 6), "rate_limited", ref);
    }
  });
});

Deno.test("request budget: staying past it for 5 s closes with 1008 (boundaries)", async () => {
  await withConnection(async (h) => {
    await h.login();
    for (let i = 0; i < 40; i++) h.frame({ type: "ping" });
    // 100 frames a second: the first refusal starts the stay past the budget.
    h.frame({ type: "ping" });
    assertErrorFrame(h.sent.at(-1), "rate_limited");
    for (let t = 10; t < 5_000; t += 10) {
      h.clock.increment(10);
      h.frame({ type: "ping" });
    }
    h.clock.increment(9); // 4,999 ms after the first refusal
    h.frame({ type: "ping" });
    assertOpen(h);
    const pongs = h.sent.filter((f) => f.type === "pong").length;
    assert.equal(pongs, 40, "a client sending faster than the refill gets nothing through");
    h.clock.increment(1); // 5,000 ms
    h.frame({ type: "ping" });
    assert.deepEqual(h.closes.map((c) => c.code), [1008]);
    assertDone(h);
  });
});

Deno.test("request budget: bursts separated by quiet gaps do not escape it", async () => {
  await withConnection(async (h) => {
    await h.login();
    // 100 frames every 1.1 s: each run of refusals is shorter than 1 s, but
    // the session never gets back within its budget.
    let closedAt = -1;
    for (let burst = 0; burst < 10 && closedAt < 0; burst++) {
      for (let i = 0; i < 100; i++) h.frame({ type: "ping" });
      if (h.closes.length > 0) closedAt = burst;
      h.clock.increment(1_100);
    }
    assert.deepEqual(h.closes.map((c) => c.code), [1008]);
    assert.equal(closedAt, 5, "closed by the first burst 5 s after the first refusal");
  });
});

Deno.test("request budget: a client that slows down is not closed", async () => {
  await withConnection(async (h) => {
    await h.login();
    for (let i = 0; i < 100; i++) h.frame({ type: "ping" }); // 60 refused
    h.clock.increment(2_100); // back within the budget after (40 + 1) / 20 s
    h.frame({ type: "ping", ref: "back" });
    assert.deepEqual(h.sent.at(-1), { type: "pong", ref: "back" });
    // Then 5 a second for 30 s, with a burst of 45 now and then (a few refused).
    for (let t = 0; t < 30_000; t += 200) {
      h.frame({ type: "ping" });
      if (t % 10_000 === 5_000) { for (let i = 0; i < 45; i++) h.frame({ type: "ping" }); }
      h.clock.increment(200);
    }
    assertOpen(h);
    assert.ok(h.sent.filter((f) => f.code === "rate_limited").length > 60, "the bursts overflowed");
  });
});

// ---------------------------------------------------------------- user buckets

Deno.test("say/direct bucket: shared by the user's sessions, not refilled by reconnecting", async () => {
  const clock = new SimulatedClock();
  clock.set(T0);
  const buckets = userBuckets();
  const first = harness({ clock, buckets });
  const second = harness({ clock, buckets });
  try {
    await first.login();
    await second.login();
    for (let i = 0; i < 6; i++) first.frame({ type: "say", salon: "Général", text: "a" });
    for (let i = 0; i < 4; i++) second.frame({ type: "direct", to: "bob", text: "b" });
    second.frame({ type: "say", salon: "Général", text: "c", ref: "x" });
    assertErrorFrame(second.sent.at(-1), "rate_limited", "x");
    first.event({ type: "SOCKET_CLOSED" });
    second.event({ type: "SOCKET_CLOSED" });
    // A new connection of the same user starts with the bucket as it was.
    const third = harness({ clock, buckets });
    try {
      await third.login();
      third.frame({ type: "say", salon: "Général", text: "d", ref: "y" });
      assertErrorFrame(third.sent.at(-1), "rate_limited", "y");
      clock.increment(200);
      third.frame({ type: "say", salon: "Général", text: "e", ref: "z" });
      assert.equal(third.salons.get("Général")!.length, 1, "one token after 200 ms");
    } finally {
      third.stop();
    }
  } finally {
    first.stop();
    second.stop();
  }
});

Deno.test("join/leave bucket: 5 at once, then one every 2 s, per user", async () => {
  await withConnection(async (h) => {
    await h.login();
    for (let i = 0; i < 5; i++) {
      h.frame({ type: i % 2 ? "leave" : "join", salon: "Blabla", ref: `m${i}` });
    }
    assert.equal(h.salons.get("Blabla")!.length, 5);
    h.frame({ type: "join", salon: "Blabla", ref: "over" });
    assertErrorFrame(h.sent.at(-1), "rate_limited", "over");
    assert.match(h.sent.at(-1)!.message!, /one every 2 seconds/);
    h.frame({ type: "who", salon: "Blabla", ref: "w" }); // other requests go on
    assert.equal(h.salons.get("Blabla")!.at(-1)!.type, "WHO");
    h.clock.increment(1_999);
    h.frame({ type: "leave", salon: "Blabla", ref: "early" });
    assertErrorFrame(h.sent.at(-1), "rate_limited", "early");
    h.clock.increment(1);
    h.frame({ type: "leave", salon: "Blabla", ref: "ok" });
    assert.equal(h.salons.get("Blabla")!.at(-1)!.ref, "ok");
  });
});

// ---------------------------------------------------------------- before welcome

Deno.test("authentication that takes 30 s: error internal, close 4401, no welcome after", async () => {
  await withConnection(async (h) => {
    h.frame({ type: "hello", token: "tok", ref: "h" });
    h.clock.increment(29_999);
    assertOpen(h);
    h.clock.increment(1);
    assertErrorFrame(h.sent[0], "internal", "h");
    assert.deepEqual(h.closes, [{ code: 4401, reason: "authentication took too long" }]);
    assertDone(h);
    h.auths[0].answer.resolve({ user: ALICE, token: "tok" });
    await flush();
    assert.equal(h.attached.length, 0);
    assert.equal(h.welcomes.length, 0);
  });
});

Deno.test("the handshake backlog holds at most 16 KiB: beyond, rate_limited and dropped", async () => {
  await withConnection(async (h) => {
    h.frame({ type: "hello", token: "tok" });
    // Frames of exactly 2 KiB (in UTF-8: "é" is two bytes): eight fit, the ninth does not.
    const big = (ref: string) => {
      const base = JSON.stringify({ type: "say", salon: "Blabla", text: "", ref });
      const room = 2048 - new TextEncoder().encode(base).byteLength;
      return {
        type: "say",
        salon: "Blabla",
        text: "é".repeat(room >> 1) + "x".repeat(room & 1),
        ref,
      };
    };
    for (let i = 0; i < 8; i++) h.frame(big(`k${i}`));
    assert.equal(h.sent.length, 0);
    h.frame(big("dropped"));
    assertErrorFrame(h.sent[0], "rate_limited", "dropped");
    h.frame({ type: "ping", ref: "small" }); // no room left for anything
    assertErrorFrame(h.sent[1], "rate_limited", "small");
    h.auths[0].answer.resolve({ user: ALICE, token: "tok" });
    await flush();
    assert.deepEqual(
      h.salons.get("Blabla")!.map((e) => e.ref),
      [...Array(8).keys()].map((i) => `k${i}`),
    );
    assert.equal(h.sent.filter((f) => f.type === "pong").length, 0);
  });
});

// ---------------------------------------------------------------- ending

Deno.test("REPLACED closes with 4409, ends the actor and detaches once", async () => {
  await withConnection(async (h) => {
    await h.login();
    h.event({ type: "REPLACED" });
    assert.deepEqual(h.closes.map((c) => c.code), [4409]);
    assertDone(h);
    assert.deepEqual(h.detached, [h.attached[0]]);
    h.event({ type: "SOCKET_CLOSED" });
    assert.equal(h.detached.length, 1);
  });
});

Deno.test("SOCKET_CLOSED calls deps.detach once with the session", async () => {
  await withConnection(async (h) => {
    await h.login();
    h.event({ type: "SOCKET_CLOSED" });
    h.event({ type: "SOCKET_CLOSED" });
    assert.equal(h.detached.length, 1);
    assert.equal(h.detached[0], h.attached[0], "the same session object as attached");
    assertDone(h);
    assert.equal(h.closes.length, 0, "a socket closed by the peer needs no close call");
    // Frames arriving late are ignored.
    h.frame({ type: "say", salon: "Blabla", text: "late" });
    assert.equal(h.salons.get("Blabla")!.length, 0);
  });
});

Deno.test("history/who budget: 10 at once per user, then 2 a second; refused ones are not asked of the salon", async () => {
  await withConnection(async (h) => {
    await h.login();
    const asked = () => h.salons.get("Général")!.filter((r) => r.type === "HISTORY").length;
    for (let i = 0; i < 10; i++) h.frame({ type: "history", salon: "Général", ref: `h${i}` });
    assert.equal(asked(), 10);
    h.frame({ type: "history", salon: "Général", ref: "more" });
    assertErrorFrame(h.sent.at(-1), "rate_limited", "more");
    assert.match(h.sent.at(-1)!.message!, /10 history or who requests at once, then 2 a second/);
    h.frame({ type: "history", with: "bob", ref: "direct" });
    assertErrorFrame(h.sent.at(-1), "rate_limited", "direct");
    assert.equal(asked(), 10);
    assert.equal(h.directHistories.length, 0);
    h.frame({ type: "who", salon: "Général", ref: "who" });
    assertErrorFrame(h.sent.at(-1), "rate_limited", "who");
    h.clock.increment(500);
    h.frame({ type: "history", salon: "Général", ref: "later" });
    assert.equal(asked(), 11);
    assertOpen(h);
  });
});
