/**
 * The browser client's connection machine and codec, without a browser: a
 * fake socket and a clock advanced by hand.
 */

import assert from "node:assert/strict";
import { backoffDelay } from "../web/core/backoff.ts";
import { decodeFrame, encodeRequest } from "../web/core/codec.ts";
import { Connection, type ConnectionState } from "../web/core/connection.ts";
import { FakeClock, socketFactory } from "./web_fakes.ts";

const WELCOME = {
  type: "welcome",
  user: { username: "alice", alias: "Alice", role: "member" },
  token: "t",
  salons: [],
  limits: { maxTextLength: 2000, messagesPerSecond: 5 },
};

function machine() {
  const clock = new FakeClock();
  const f = socketFactory();
  const states: ConnectionState[] = [];
  const frames: unknown[] = [];
  const c = new Connection({
    createSocket: f.create,
    clock,
    hello: () => ({ type: "hello", token: "tok" }),
    onFrame: (fr) => frames.push(fr),
    onState: (s) => states.push(s),
  });
  return { clock, f, states, frames, c };
}

Deno.test("codec: requests are JSON; unknown, non-object and non-JSON frames are ignored", () => {
  assert.equal(encodeRequest({ type: "ping", ref: "p" }), '{"type":"ping","ref":"p"}');
  assert.deepEqual(decodeFrame('{"type":"pong","ref":"p"}'), { type: "pong", ref: "p" });
  assert.equal(decodeFrame('{"type":"from_the_future"}'), null);
  assert.equal(decodeFrame("[1]"), null);
  assert.equal(decodeFrame("nope"), null);
  assert.equal(decodeFrame('{"type":"__proto__"}'), null);
});

Deno.test("backoff: doubles up to the cap, jitter in the upper half, never zero", () => {
  assert.equal(backoffDelay(0, 0), 500);
  assert.equal(backoffDelay(0, 0.999999), 1000);
  assert.equal(backoffDelay(3, 0), 4000);
  assert.equal(backoffDelay(10, 1), 30_000);
  assert.equal(backoffDelay(99, 0), 15_000);
});

Deno.test("connection: hello with the token on open, open at welcome", () => {
  const { f, c, states, frames } = machine();
  c.start();
  assert.equal(states.at(-1)?.kind, "connecting");
  f.sockets[0].open();
  assert.deepEqual(f.sockets[0].sent, [{ type: "hello", token: "tok" }]);
  assert.equal(c.send({ type: "ping" }), false, "nothing is sent before the welcome");
  f.sockets[0].receive(WELCOME);
  assert.equal(c.state.kind, "open");
  assert.equal(frames.length, 1);
  assert.equal(c.send({ type: "ping" }), true);
});

Deno.test("connection: a drop waits with growing jittered delays, then reconnects; welcome resets", () => {
  const { f, c, clock } = machine();
  c.start();
  f.sockets[0].open();
  f.sockets[0].receive(WELCOME);
  f.sockets[0].drop(1006);
  assert.deepEqual(c.state, { kind: "waiting", attempt: 0, retryAt: clock.t + 750 });
  clock.advance(749);
  assert.equal(f.sockets.length, 1, "not before the delay");
  clock.advance(1);
  assert.equal(f.sockets.length, 2);
  f.sockets[1].drop(1006);
  assert.equal(c.state.kind === "waiting" && c.state.retryAt - clock.t, 1500, "doubled");
  clock.advance(1500);
  f.sockets[2].open();
  f.sockets[2].receive(WELCOME);
  f.sockets[2].drop(1001);
  assert.equal(c.state.kind === "waiting" && c.state.retryAt - clock.t, 750, "reset by welcome");
});

Deno.test("connection: kicked stops for good with its end time, no reconnect is ever scheduled", () => {
  const { f, c, clock } = machine();
  c.start();
  f.sockets[0].open();
  f.sockets[0].receive(WELCOME);
  f.sockets[0].receive({ type: "kicked", until: "2026-11-24T10:05:00.000Z", reason: "calm down" });
  f.sockets[0].drop(4403);
  assert.deepEqual(c.state, {
    kind: "stopped",
    reason: "kicked",
    until: "2026-11-24T10:05:00.000Z",
    message: "calm down",
  });
  clock.advance(3_600_000);
  assert.equal(f.sockets.length, 1);
  assert.equal(clock.pending, 0);
});

Deno.test("connection: banned, a refused hello (kick with until) and 4401 all stop", () => {
  for (
    const [frame, code, reason] of [
      [{ type: "banned", reason: "spam" }, 4403, "banned"],
      [
        { type: "error", code: "banned", message: "kicked", until: "2026-11-24T11:00:00.000Z" },
        4403,
        "kicked",
      ],
      [{ type: "error", code: "bad_credentials", message: "log in again" }, 4401, "credentials"],
      [null, 4409, "replaced"],
    ] as const
  ) {
    const { f, c, clock } = machine();
    c.start();
    f.sockets[0].open();
    if (frame) f.sockets[0].receive(frame);
    f.sockets[0].drop(code);
    assert.equal(c.state.kind === "stopped" && c.state.reason, reason);
    clock.advance(600_000);
    assert.equal(f.sockets.length, 1, `${reason}: no reconnect`);
  }
});

Deno.test("connection: a silent link is pinged, then given up and reconnected", () => {
  const { f, c, clock } = machine();
  c.start();
  f.sockets[0].open();
  f.sockets[0].receive(WELCOME);
  clock.advance(25_000);
  assert.deepEqual(f.sockets[0].last("ping"), { type: "ping" });
  clock.advance(10_000);
  assert.equal(f.sockets[0].closed, true);
  assert.equal(c.state.kind, "waiting");
});

Deno.test("connection: stop() closes without reconnecting; retryNow() skips the wait", () => {
  const { f, c, clock } = machine();
  c.start();
  f.sockets[0].drop(1006);
  c.retryNow();
  assert.equal(f.sockets.length, 2);
  c.stop();
  assert.equal(f.sockets[1].closed, true);
  clock.advance(600_000);
  assert.equal(f.sockets.length, 2);
  assert.deepEqual(c.state, { kind: "stopped", reason: "logged_out" });
});
