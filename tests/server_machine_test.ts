/**
 * The server machine (actors/server.ts) with real salon and connection
 * children, fake effects wired as runtime/hub.ts wires the real ones, and
 * xstate's SimulatedClock: the session registry, presence coalescing, the
 * per-user session limit and direct messages. The world is in server_world.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { ConnectionEvent } from "../actors/connection.ts";
import { PRESENCE_UNSENT_BYTES, salonSystemId } from "../actors/server.ts";
import type { Session } from "../actors/session.ts";
import {
  advance,
  ALICE,
  BOB,
  CAROL,
  DAVE,
  type FakeSession,
  flush,
  presences,
  type Recorder,
  T0,
  user,
  withWorld,
} from "./server_world.ts";

// ---------------------------------------------------------------- registry

Deno.test("SESSION_UP and SESSION_DOWN keep the registry and the salons' online sets", async () => {
  await withWorld({ users: [ALICE, BOB], blabla: [ALICE] }, (w) => {
    const a1 = w.session("a1", ALICE);
    const a2 = w.session("a2", ALICE);
    const b1 = w.session("b1", BOB);
    w.up(a1);
    w.up(a2);
    w.up(b1);
    assert.deepEqual(w.sessionsOf(ALICE.id), [a1, a2], "oldest first");
    assert.deepEqual(w.sessionsOf(BOB.id), [b1]);
    const online = (key: string) =>
      (w.server.system.get(salonSystemId(key))!.getSnapshot().context as {
        online: Map<number, Set<Session>>;
      }).online;
    assert.deepEqual([...online("général").keys()].sort(), [ALICE.id, BOB.id]);
    assert.deepEqual([...online("blabla").keys()], [ALICE.id], "only the salons of the user");
    assert.equal(online("général").get(ALICE.id)!.size, 2);

    w.down(a1);
    assert.deepEqual(w.sessionsOf(ALICE.id), [a2]);
    assert.equal(online("général").get(ALICE.id)!.size, 1);
    w.down(a2);
    assert.equal(w.server.getSnapshot().context.sessions.has(ALICE.id), false);
    assert.equal(online("général").has(ALICE.id), false);
    assert.equal(online("blabla").has(ALICE.id), false);

    // An unknown or repeated SESSION_DOWN changes nothing.
    w.down(a2);
    w.down(w.session("ghost", user(99, "ghost")));
    assert.deepEqual(w.sessionsOf(BOB.id), [b1]);
  });
});

// ---------------------------------------------------------------- presence

Deno.test("presence: first change at once, later ones held and sent together at 1000 ms", async () => {
  await withWorld({ users: [ALICE, BOB, CAROL, DAVE] }, (w) => {
    const a1 = w.session("a1", ALICE);
    w.up(a1);
    assert.deepEqual(presences(a1), [{
      type: "presence",
      changes: [{ username: "alice", status: "online" }],
    }], "the first change is flushed at once");

    const b1 = w.session("b1", BOB);
    const c1 = w.session("c1", CAROL);
    const d1 = w.session("d1", DAVE);
    const a2 = w.session("a2", ALICE);
    advance(w, 100);
    w.up(b1);
    advance(w, 100);
    w.up(c1);
    advance(w, 100);
    w.up(d1);
    advance(w, 100);
    w.down(d1); // Dave comes and goes within the window.
    advance(w, 100);
    w.up(a2); // Alice's second session is no change.
    advance(w, 499); // t = 999
    for (const s of [a1, a2, b1, c1]) {
      assert.equal(presences(s).length, s === a1 ? 1 : 0, `${s.id} at 999 ms`);
    }

    advance(w, 1); // t = 1000
    const expected = {
      type: "presence",
      changes: [
        { username: "bob", status: "online" },
        { username: "carol", status: "online" },
        { username: "dave", status: "offline" },
      ],
    };
    assert.deepEqual(presences(a1), [presences(a1)[0], expected]);
    for (const s of [a2, b1, c1]) assert.deepEqual(presences(s), [expected], s.id);
    const raws = [a1, a2, b1, c1].map((s) => s.raw.filter((r) => r.includes('"presence"')).at(-1));
    for (const r of raws) assert.equal(r, raws[0], "one serialization for every session");
    assert.deepEqual(presences(d1), [], "a closed session gets nothing");
  });
});

Deno.test("presence: a user who comes and goes within the window appears once, final status", async () => {
  await withWorld({ users: [ALICE, BOB] }, (w) => {
    const a1 = w.session("a1", ALICE);
    w.up(a1); // flushed at once; cooling until 1000
    const b1 = w.session("b1", BOB);
    w.up(b1);
    advance(w, 1000); // bob online flushed
    advance(w, 1000); // nothing to send: back to idle
    assert.equal(presences(a1).length, 2);

    // After a quiet second, the next change is sent at once.
    advance(w, 500);
    w.down(b1);
    assert.deepEqual(presences(a1).at(-1)!.changes, [{ username: "bob", status: "offline" }]);
    assert.equal(presences(a1).length, 3);

    // Within the next second bob comes back, leaves and comes back again.
    const b2 = w.session("b2", BOB);
    const b3 = w.session("b3", BOB);
    advance(w, 100);
    w.up(b2);
    advance(w, 100);
    w.down(b2);
    advance(w, 100);
    w.up(b3);
    advance(w, 699);
    assert.equal(presences(a1).length, 3, "held until the second has passed");
    advance(w, 1);
    assert.equal(presences(a1).length, 4);
    assert.deepEqual(presences(a1).at(-1)!.changes, [{ username: "bob", status: "online" }]);
    assert.deepEqual(presences(b3), [presences(a1).at(-1)]);

    // Presence frames to one session are always at least a second apart.
    const times = a1.times.filter((_, i) => a1.frames[i].type === "presence");
    for (let i = 1; i < times.length; i++) assert.ok(times[i] - times[i - 1] >= 1000, `${times}`);
  });
});

Deno.test("presence: a session with a full socket waits, then gets what it missed in one frame", async () => {
  await withWorld({ users: [ALICE, BOB, CAROL, DAVE] }, (w) => {
    const a1 = w.session("a1", ALICE);
    const b1 = w.session("b1", BOB);
    w.up(a1);
    w.up(b1);
    advance(w, 1_000);
    const before = { a1: presences(a1).length, b1: presences(b1).length };
    b1.backlog = PRESENCE_UNSENT_BYTES + 1; // bob's client reads slowly

    const c1 = w.session("c1", CAROL);
    w.up(c1);
    advance(w, 1_000);
    const d1 = w.session("d1", DAVE);
    w.up(d1);
    advance(w, 1_000);
    w.down(c1); // carol leaves while bob is still behind
    advance(w, 1_000);
    assert.equal(presences(a1).length, before.a1 + 3, "a reader keeps getting each window");
    assert.equal(presences(b1).length, before.b1, "nothing piles up behind a full socket");

    b1.backlog = PRESENCE_UNSENT_BYTES; // drained enough
    advance(w, 1_000);
    assert.deepEqual(presences(b1).slice(before.b1), [{
      type: "presence",
      changes: [
        { username: "dave", status: "online" },
        { username: "carol", status: "offline" },
      ],
    }], "one frame, final status per user, latest change last");
    assert.equal(presences(a1).length, before.a1 + 3, "the others get no repeat");

    // Caught up: the next change reaches bob at once with everyone else.
    advance(w, 1_000);
    w.down(d1);
    assert.deepEqual(presences(b1).at(-1)!.changes, [{ username: "dave", status: "offline" }]);
    assert.deepEqual(presences(a1).at(-1)!.changes, [{ username: "dave", status: "offline" }]);
    const ctx = w.server.getSnapshot().context;
    assert.equal(ctx.presence.heldSessions, 0, "changes nobody waits for are not kept");
  });
});

Deno.test("presence: a lagging session that closes is forgotten with what it missed", async () => {
  await withWorld({ users: [ALICE, BOB, CAROL] }, (w) => {
    const a1 = w.session("a1", ALICE);
    const b1 = w.session("b1", BOB);
    w.up(a1);
    w.up(b1);
    advance(w, 1_000);
    b1.backlog = 10 * PRESENCE_UNSENT_BYTES;
    w.up(w.session("c1", CAROL));
    advance(w, 1_000);
    const ctx = w.server.getSnapshot().context;
    assert.equal(ctx.presence.heldSessions, 1, "kept for bob");
    w.down(b1);
    advance(w, 1_000);
    advance(w, 1_000);
    assert.equal(ctx.presence.heldSessions, 0);
    assert.equal(w.server.getSnapshot().matches({ presence: "idle" }), true, "the timer stops");
  });
});

Deno.test("presence: 1,000 users online within one second cost each session at most 2 frames", async () => {
  const many = Array.from({ length: 1000 }, (_, i) => user(100 + i, `user${i}`));
  // Général is small here (PROTOCOL 5.1: presence is pushed in salons of at most
  // presenceMax members), so every change goes to everyone, as in v1.
  await withWorld({ users: many, presenceMax: 1000 }, (w) => {
    const sessions = many.map((u) => w.session(`s${u.id}`, u));
    for (let i = 0; i < sessions.length; i++) {
      w.up(sessions[i]);
      advance(w, 1); // one login per millisecond: t = 0 .. 999
    }
    advance(w, 5_000);
    let total = 0;
    for (const s of sessions) {
      const n = presences(s).length;
      assert.ok(n >= 1 && n <= 2, `${s.id} got ${n} presence frames`);
      total += n;
    }
    assert.ok(total <= 2 * sessions.length, `${total} presence frames in all`);
    // The first session learns of every user, each once.
    const seen = presences(sessions[0]).flatMap((f) => f.changes!);
    assert.equal(seen.length, 1000);
    assert.equal(new Set(seen.map((c) => c.username)).size, 1000);
    assert.ok(seen.every((c) => c.status === "online"));
  });
});

// ---------------------------------------------------------------- session limit

Deno.test("a 6th session of the same user replaces the oldest: closed with 4409", async () => {
  await withWorld({ users: [ALICE, BOB], maxSessions: 5 }, async (w) => {
    const bob = await w.connect(BOB);
    const conns = [];
    for (let i = 0; i < 5; i++) conns.push(await w.connect(ALICE));
    for (const c of conns) assert.equal(c.socket.closes.length, 0, `${c.id} open with 5 sessions`);
    assert.equal(w.sessionsOf(ALICE.id).length, 5);

    const sixth = await w.connect(ALICE);
    assert.deepEqual(conns[0].socket.closes.map((c) => c.code), [4409]);
    for (const c of [...conns.slice(1), sixth, bob]) {
      assert.equal(c.socket.closes.length, 0, `${c.id} must stay open`);
    }
    assert.deepEqual(
      w.sessionsOf(ALICE.id).map((s) => s.id),
      [...conns.slice(1), sixth].map((c) => c.id),
      "the oldest session left the registry",
    );
    assert.equal(conns[0].actor.getSnapshot().status, "done");

    // Alice never went offline.
    advance(w, 5_000);
    const offline = presences(bob.socket).flatMap((f) => f.changes!).filter((c) =>
      c.username === "alice" && c.status === "offline"
    );
    assert.deepEqual(offline, []);

    // The replaced session no longer receives salon messages.
    sixth.actor.send(
      {
        type: "FRAME",
        frame: { type: "say", salon: "Général", text: "hello", ref: "s" },
      } satisfies ConnectionEvent,
    );
    await flush();
    assert.equal(conns[0].socket.frames.filter((f) => f.type === "message").length, 0);
    for (const c of [...conns.slice(1), sixth, bob]) {
      assert.equal(c.socket.frames.filter((f) => f.type === "message").length, 1, c.id);
    }

    // A 7th replaces the next oldest.
    const seventh = await w.connect(ALICE);
    assert.deepEqual(conns[1].socket.closes.map((c) => c.code), [4409]);
    assert.equal(seventh.socket.closes.length, 0);
    assert.equal(w.sessionsOf(ALICE.id).length, 5);
  });
});

// ---------------------------------------------------------------- direct

Deno.test("DIRECT: committed, then ok to the sender, then direct to every session of both", async () => {
  await withWorld({ users: [ALICE, BOB, CAROL] }, async (w) => {
    const a1 = w.session("a1", ALICE);
    const a2 = w.session("a2", ALICE);
    const b1 = w.session("b1", BOB);
    const b2 = w.session("b2", BOB);
    const c1 = w.session("c1", CAROL);
    for (const s of [a1, a2, b1, b2, c1]) w.up(s);
    advance(w, 5_000); // past presence
    const mark = new Map([a1, a2, b1, b2, c1].map((s) => [s, s.frames.length]));
    const news = (s: FakeSession) => s.frames.slice(mark.get(s));

    w.server.send({ type: "DIRECT", session: a1, ref: "d1", to: "Bob", text: "psst" });
    assert.deepEqual(w.directCommits, [{ from: a1, to: "Bob", text: "psst" }]);
    assert.deepEqual(news(a1), [], "nothing before the commit");
    await flush();

    const at = new Date(T0 + 5_000).toISOString();
    const item = {
      type: "direct",
      id: 1,
      from: { username: "alice", alias: "Alice" },
      to: { username: "bob", alias: "Bob" },
      text: "psst",
      at,
    };
    assert.deepEqual(news(a1), [{ type: "ok", ref: "d1", id: 1, at }, item], "ok first");
    for (const s of [a2, b1, b2]) assert.deepEqual(news(s), [item], s.id);
    assert.deepEqual(news(c1), [], "a third user sees nothing");
    const raws = [a1, a2, b1, b2].map((s) => s.raw.at(-1));
    for (const r of raws) assert.equal(r, raws[0], "one serialization for every session");
  });
});

Deno.test("DIRECT to an unknown user: error unknown_user to the sender only", async () => {
  await withWorld({ users: [ALICE, BOB] }, async (w) => {
    const a1 = w.session("a1", ALICE);
    const a2 = w.session("a2", ALICE);
    const b1 = w.session("b1", BOB);
    for (const s of [a1, a2, b1]) w.up(s);
    advance(w, 5_000);
    const before = [a1, a2, b1].map((s) => s.frames.length);
    w.server.send({ type: "DIRECT", session: a1, ref: "d", to: "nobody", text: "hi" });
    await flush();
    assert.equal(a1.frames.length, before[0] + 1);
    const error = a1.frames.at(-1)!;
    assert.equal(error.type, "error");
    assert.equal(error.code, "unknown_user");
    assert.equal(error.ref, "d");
    assert.ok(typeof error.message === "string" && error.message.includes("nobody"));
    assert.equal(a2.frames.length, before[1]);
    assert.equal(b1.frames.length, before[2]);
  });
});

Deno.test("DIRECT to an offline user: ok, and direct to the sender's sessions", async () => {
  await withWorld({ users: [ALICE, BOB] }, async (w) => {
    const a1 = w.session("a1", ALICE);
    const a2 = w.session("a2", ALICE);
    w.up(a1);
    w.up(a2);
    w.server.send({ type: "DIRECT", session: a1, to: "bob", text: "when you're back" });
    await flush();
    assert.deepEqual(a1.frames.slice(-2).map((f) => f.type), ["ok", "direct"]);
    assert.equal(a1.frames.at(-2)!.ref, undefined);
    assert.equal(a2.frames.at(-1)!.type, "direct");
  });
});

Deno.test("DIRECT to oneself: delivered once to each of one's sessions", async () => {
  await withWorld({ users: [ALICE] }, async (w) => {
    const a1 = w.session("a1", ALICE);
    const a2 = w.session("a2", ALICE);
    w.up(a1);
    w.up(a2);
    w.server.send({ type: "DIRECT", session: a1, ref: "me", to: "alice", text: "note" });
    await flush();
    assert.equal(a1.frames.filter((f) => f.type === "direct").length, 1);
    assert.equal(a2.frames.filter((f) => f.type === "direct").length, 1);
    assert.equal(a1.frames.filter((f) => f.type === "ok").length, 1);
  });
});

Deno.test("through connection actors: say reaches salon members, direct reaches both users", async () => {
  await withWorld({ users: [ALICE, BOB, CAROL] }, async (w) => {
    const alice = await w.connect(ALICE);
    const bob = await w.connect(BOB);
    const carol = await w.connect(CAROL);
    advance(w, 5_000);
    const say: ConnectionEvent = {
      type: "FRAME",
      frame: { type: "say", salon: "général", text: "bonjour", ref: "s1" },
    };
    alice.actor.send(say);
    await flush();
    const okSay = alice.socket.frames.find((f) => f.type === "ok");
    assert.deepEqual(okSay, {
      type: "ok",
      ref: "s1",
      id: 1,
      at: new Date(T0 + 5_000).toISOString(),
    });
    for (const c of [alice, bob, carol]) {
      const m = c.socket.frames.filter((f) => f.type === "message");
      assert.equal(m.length, 1, c.id);
      assert.equal(m[0].salon, "Général", "replies carry the configured name");
      assert.equal(m[0].text, "bonjour");
    }
    alice.actor.send(
      {
        type: "FRAME",
        frame: { type: "direct", to: "bob", text: "psst", ref: "d1" },
      } satisfies ConnectionEvent,
    );
    await flush();
    assert.deepEqual(alice.socket.frames.slice(-2).map((f) => [f.type, f.ref]), [
      ["ok", "d1"],
      ["direct", undefined],
    ]);
    assert.equal(bob.socket.frames.at(-1)!.type, "direct");
    assert.equal(carol.socket.frames.filter((f) => f.type === "direct").length, 0);

    // Closing a socket ends the session: bob goes offline for everyone.
    bob.actor.send({ type: "SOCKET_CLOSED" } satisfies ConnectionEvent);
    assert.equal(w.sessionsOf(BOB.id).length, 0);
    advance(w, 1_000);
    assert.deepEqual(presences(carol.socket).at(-1)!.changes, [
      { username: "bob", status: "offline" },
    ]);
  });
});

Deno.test("the say/direct bucket is the user's: shared by sessions, kept across reconnects, forgotten when full", async () => {
  await withWorld({ users: [ALICE, BOB] }, async (w) => {
    const say = (ref: string): ConnectionEvent => ({
      type: "FRAME",
      frame: { type: "say", salon: "général", text: "hi", ref },
    });
    const oks = (c: { socket: Recorder }) => c.socket.frames.filter((f) => f.type === "ok").length;
    const limited = (c: { socket: Recorder }) =>
      c.socket.frames.filter((f) => f.code === "rate_limited").length;
    // "connect, hello, 10 says, close" three times: 10 messages, not 30.
    let accepted = 0;
    let refused = 0;
    for (let round = 0; round < 3; round++) {
      const a = await w.connect(ALICE);
      for (let i = 0; i < 10; i++) a.actor.send(say(`r${round}s${i}`));
      await flush();
      accepted += oks(a);
      refused += limited(a);
      a.actor.send({ type: "SOCKET_CLOSED" } satisfies ConnectionEvent);
    }
    assert.equal(accepted, 10);
    assert.equal(refused, 20);
    // Two sessions at once draw from the same bucket; bob's is his own.
    advance(w, 1_000); // 5 tokens
    const a1 = await w.connect(ALICE);
    const a2 = await w.connect(ALICE);
    const b = await w.connect(BOB);
    for (let i = 0; i < 3; i++) a1.actor.send(say(`a1-${i}`));
    for (let i = 0; i < 3; i++) a2.actor.send(say(`a2-${i}`));
    for (let i = 0; i < 10; i++) b.actor.send(say(`b-${i}`));
    await flush();
    assert.equal(oks(a1) + oks(a2), 5);
    assert.equal(oks(b), 10);
    // Full buckets are forgotten: memory holds only users who spent tokens lately.
    const { buckets } = w.server.getSnapshot().context;
    assert.equal(buckets.messages.size, 2);
    advance(w, 2_000);
    buckets.messages.sweep(w.clock.now());
    assert.equal(buckets.messages.size, 0);
  });
});

Deno.test("a connection actor that fails is logged, its socket closed 1011, its user offline", async () => {
  await withWorld({ users: [ALICE, BOB] }, async (w) => {
    const alice = await w.connect(ALICE);
    const bob = await w.connect(BOB);
    advance(w, 5_000);
    // A bug in an effect: the next direct history request throws inside the actor.
    w.server.getSnapshot().context.connectionDeps.directHistory = () => {
      throw new Error("boom in directHistory");
    };
    alice.actor.send(
      {
        type: "FRAME",
        frame: { type: "history", with: "bob", ref: "h1" },
      } satisfies ConnectionEvent,
    );
    await flush();
    assert.equal(alice.actor.getSnapshot().status, "error");
    assert.ok(w.errors.some((e) => e.includes(alice.id) && e.includes("boom in directHistory")));
    assert.deepEqual(alice.socket.closes, [{ code: 1011, reason: "internal error; reconnect" }]);
    assert.equal(w.sessionsOf(ALICE.id).length, 0, "the failed session is forgotten");
    assert.equal(w.server.system.get(alice.id), undefined, "gone from the system");
    advance(w, 1_000);
    assert.deepEqual(presences(bob.socket).at(-1)!.changes, [
      { username: "alice", status: "offline" },
    ]);
    assert.equal(w.server.getSnapshot().status, "active", "the server goes on");
    assert.deepEqual(bob.socket.closes, []);
    w.errors.length = 0; // reported and checked above
  });
});
