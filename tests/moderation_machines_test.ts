/**
 * The moderation machines with xstate's SimulatedClock: the sanction actor
 * (a kick runs out at its absolute end, a ban lasts until lifted), the
 * shutdown countdown, the join request actor (alone and as a salon's child),
 * and the server machine's lifecycle and moderation events (START_SHUTDOWN,
 * CANCEL_SHUTDOWN, SKIP_SHUTDOWN, TRACK_SANCTION, LIFT_SANCTIONS, PUNISH,
 * BROADCAST, ROLE_CHANGED), wired as tests/server_machine_test.ts wires it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Actor, type AnyActorRef, createActor, SimulatedClock } from "xstate";
import type { ConnectionDeps, ConnectionEvent, ConnectionLimits } from "../actors/connection.ts";
import {
  type Decider,
  type JoinRequestDeps,
  type JoinRequestInput,
  joinRequestMachine,
} from "../actors/join_request.ts";
import { requestActorId, type SalonDeps, type SalonInput, salonMachine } from "../actors/salon.ts";
import { type SanctionInput, sanctionMachine } from "../actors/sanction.ts";
import {
  type SalonPort,
  salonSystemId,
  sanctionSystemId,
  serverMachine,
  startConnection,
} from "../actors/server.ts";
import type { Session } from "../actors/session.ts";
import { shutdownMachine } from "../actors/shutdown.ts";
import { nameKey } from "../protocol/names.ts";
import { MembershipIndex } from "../runtime/membership_index.ts";
import type { SanctionRecord, UserSummary } from "../store/store.ts";

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
const MINUTE = 60_000;
const YEAR = 365 * 24 * 60 * MINUTE;

/** Lets resolved promises run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 30; i++) await Promise.resolve();
}

/**
 * Advances the simulated clock by `ms` in steps of `step` ms. SimulatedClock
 * fires a timer due within one big jump at the end of the jump, and a timer
 * re-armed there starts from that late time: a repeating countdown must be
 * walked through, as real time would.
 */
function advance(clock: SimulatedClock, ms: number, step = 1): void {
  for (let done = 0; done < ms; done += step) clock.increment(Math.min(step, ms - done));
}

function newClock(): SimulatedClock {
  const clock = new SimulatedClock();
  clock.set(T0);
  return clock;
}

/** A frame sent to a session or socket, parsed. */
interface Sent {
  type: string;
  ref?: string;
  code?: string;
  seconds?: number;
  [key: string]: unknown;
}

/** A session or a socket that records what it is sent. */
interface Recorder {
  frames: Sent[];
  /** Simulated time of each frame. */
  times: number[];
  closes: Array<{ code: number; reason: string }>;
  send(frame: string): void;
  close(code: number, reason: string): void;
}

function recorder(clock: SimulatedClock): Recorder {
  const r: Recorder = {
    frames: [],
    times: [],
    closes: [],
    send(frame) {
      // `salon_stats` (PROTOCOL 5.1) comes with every count change; its rules are tested in
      // presence_machine_test.ts, and the frame lists here are about moderation.
      if (frame.startsWith('{"type":"salon_stats"')) return;
      r.frames.push(JSON.parse(frame));
      r.times.push(clock.now());
    },
    close(code, reason) {
      r.closes.push({ code, reason });
    },
  };
  return r;
}

type FakeSession = Session & Recorder;

function user(id: number, username: string, role: UserSummary["role"] = "member"): UserSummary {
  const alias = username[0].toUpperCase() + username.slice(1);
  return { id, username, alias, role };
}

// =============================================================== sanction

function kick(id: number, userId: number, until: number, createdAt = T0): SanctionRecord {
  return { id, userId, kind: "kick", until, reason: "spam", createdAt };
}

function ban(id: number, userId: number): SanctionRecord {
  return { id, userId, kind: "ban", until: null, reason: "abuse", createdAt: T0 };
}

function startSanction(clock: SimulatedClock, sanction: SanctionRecord) {
  const expired: Array<{ sanction: SanctionRecord; at: number }> = [];
  const input: SanctionInput = {
    sanction,
    username: "mallory",
    now: () => clock.now(),
    onExpired: (s) => expired.push({ sanction: s, at: clock.now() }),
  };
  const actor = createActor(sanctionMachine, { input, clock });
  actor.start();
  return { actor, expired };
}

Deno.test("sanction: a 5-minute kick is active at 299,999 ms and expired at 300,000 ms", () => {
  const clock = newClock();
  const sanction = kick(1, 7, T0 + 5 * MINUTE);
  const { actor, expired } = startSanction(clock, sanction);
  try {
    assert.deepEqual(actor.getSnapshot().value, { active: "kicked" });
    clock.increment(5 * MINUTE - 1);
    assert.deepEqual(actor.getSnapshot().value, { active: "kicked" }, "still active at 299,999 ms");
    assert.equal(actor.getSnapshot().status, "active");
    assert.deepEqual(expired, []);

    clock.increment(1);
    const snap = actor.getSnapshot();
    assert.equal(snap.value, "expired");
    assert.equal(snap.status, "done", "expired is final");
    assert.deepEqual(expired, [{ sanction, at: T0 + 5 * MINUTE }], "onExpired once, on time");
    assert.deepEqual(snap.output, { outcome: "expired", sanction });

    clock.increment(YEAR);
    assert.equal(expired.length, 1, "onExpired is never called again");
  } finally {
    actor.stop();
  }
});

Deno.test("sanction: a kick re-spawned after a restart ends at its stored time, not later or earlier", () => {
  const clock = newClock();
  // Imposed 3 minutes before the restart, for 5 minutes: 2 minutes are left.
  const sanction = kick(2, 7, T0 + 2 * MINUTE, T0 - 3 * MINUTE);
  const { actor, expired } = startSanction(clock, sanction);
  try {
    clock.increment(2 * MINUTE - 1);
    assert.deepEqual(actor.getSnapshot().value, { active: "kicked" }, "not forgotten");
    assert.equal(expired.length, 0);
    clock.increment(1);
    assert.equal(actor.getSnapshot().value, "expired", "not extended to a fresh 5 minutes");
    assert.deepEqual(expired.map((e) => e.at), [T0 + 2 * MINUTE]);
  } finally {
    actor.stop();
  }
});

Deno.test("sanction: a kick whose end is already past expires at once", () => {
  const clock = newClock();
  const sanction = kick(3, 7, T0 - 1000, T0 - 5 * MINUTE);
  const { actor, expired } = startSanction(clock, sanction);
  try {
    clock.increment(0); // no time passes: only timers due now fire
    assert.equal(actor.getSnapshot().value, "expired");
    assert.equal(actor.getSnapshot().status, "done");
    assert.deepEqual(expired.map((e) => e.at), [T0]);
  } finally {
    actor.stop();
  }
});

Deno.test("sanction: a ban never expires; LIFT ends it as lifted", () => {
  const clock = newClock();
  const sanction = ban(4, 7);
  const { actor, expired } = startSanction(clock, sanction);
  try {
    assert.deepEqual(actor.getSnapshot().value, { active: "banned" });
    clock.increment(YEAR);
    assert.deepEqual(actor.getSnapshot().value, { active: "banned" }, "still banned a year later");
    assert.equal(actor.getSnapshot().status, "active");

    actor.send({ type: "LIFT" });
    const snap = actor.getSnapshot();
    assert.equal(snap.value, "lifted");
    assert.equal(snap.status, "done", "lifted is final");
    assert.deepEqual(expired, [], "a lifted ban is not reported as expired");
    assert.deepEqual(snap.output, { outcome: "lifted", sanction }, "the output says lifted");
  } finally {
    actor.stop();
  }
});

Deno.test("sanction: LIFT on a kick ends it as lifted; onExpired is never called", () => {
  const clock = newClock();
  const sanction = kick(5, 7, T0 + 5 * MINUTE);
  const { actor, expired } = startSanction(clock, sanction);
  try {
    clock.increment(MINUTE);
    actor.send({ type: "LIFT" });
    assert.equal(actor.getSnapshot().value, "lifted");
    assert.equal(actor.getSnapshot().status, "done");
    clock.increment(10 * MINUTE); // past the kick's end
    assert.deepEqual(expired, [], "the cancelled timer does not fire");
    assert.equal(actor.getSnapshot().value, "lifted");
    assert.deepEqual(actor.getSnapshot().output, { outcome: "lifted", sanction });
  } finally {
    actor.stop();
  }
});

// =============================================================== shutdown

function startCountdown(clock: SimulatedClock, seconds: number) {
  const frames: Array<{ frame: Sent; at: number }> = [];
  const actor = createActor(shutdownMachine, {
    clock,
    input: {
      seconds,
      broadcast: (frame) => frames.push({ frame: JSON.parse(frame), at: clock.now() - T0 }),
    },
  });
  actor.start();
  return { actor, frames };
}

Deno.test("shutdown: 10 s announces 10 at once, then 9..1 once per second, done at 10,000 ms", () => {
  const clock = newClock();
  const { actor, frames } = startCountdown(clock, 10);
  try {
    assert.deepEqual(frames, [{ frame: { type: "shutdown", seconds: 10 }, at: 0 }]);
    for (let k = 1; k <= 9; k++) {
      advance(clock, 999);
      assert.equal(frames.length, k, `nothing new at ${k * 1000 - 1} ms`);
      advance(clock, 1);
      assert.equal(frames.length, k + 1, `one frame at ${k * 1000} ms`);
      assert.deepEqual(frames[k], {
        frame: { type: "shutdown", seconds: 10 - k },
        at: k * 1000,
      });
      assert.equal(actor.getSnapshot().status, "active");
    }
    advance(clock, 999); // 9,999 ms: one second after `1` has not yet passed
    assert.equal(actor.getSnapshot().value, "counting");
    assert.equal(frames.length, 10);

    advance(clock, 1); // 10,000 ms
    const snap = actor.getSnapshot();
    assert.equal(snap.value, "done");
    assert.equal(snap.status, "done");
    assert.deepEqual(snap.output, { outcome: "done" });
    assert.deepEqual(
      frames.map((f) => f.frame.seconds),
      [10, 9, 8, 7, 6, 5, 4, 3, 2, 1],
      "no zero, no repeat",
    );
    advance(clock, 60_000, 10);
    assert.equal(frames.length, 10, "nothing after done");
  } finally {
    actor.stop();
  }
});

Deno.test("shutdown: CANCEL at 3.5 s broadcasts shutdown_cancelled and ends as cancelled", () => {
  const clock = newClock();
  const { actor, frames } = startCountdown(clock, 10);
  try {
    advance(clock, 3500);
    assert.deepEqual(frames.map((f) => f.frame.seconds), [10, 9, 8, 7]);
    actor.send({ type: "CANCEL" });
    assert.deepEqual(frames.at(-1), { frame: { type: "shutdown_cancelled" }, at: 3500 });
    assert.equal(actor.getSnapshot().value, "cancelled");
    assert.equal(actor.getSnapshot().status, "done");
    advance(clock, 60_000, 10);
    assert.equal(frames.length, 5, "no tick after the cancel");
    // The server decides between draining and running again on this output.
    assert.deepEqual(actor.getSnapshot().output, { outcome: "cancelled" });
  } finally {
    actor.stop();
  }
});

Deno.test("shutdown: SKIP ends the countdown at once as done", () => {
  const clock = newClock();
  const { actor, frames } = startCountdown(clock, 10);
  try {
    advance(clock, 2500);
    actor.send({ type: "SKIP" });
    assert.equal(actor.getSnapshot().value, "done");
    assert.equal(actor.getSnapshot().status, "done");
    assert.deepEqual(actor.getSnapshot().output, { outcome: "done" });
    advance(clock, 60_000, 10);
    assert.deepEqual(frames.map((f) => f.frame.seconds), [10, 9, 8], "no tick after the skip");
  } finally {
    actor.stop();
  }
});

Deno.test("shutdown: 1 s announces 1, then done at 1000 ms", () => {
  const clock = newClock();
  const { actor, frames } = startCountdown(clock, 1);
  try {
    assert.deepEqual(frames, [{ frame: { type: "shutdown", seconds: 1 }, at: 0 }]);
    advance(clock, 999);
    assert.equal(actor.getSnapshot().value, "counting");
    advance(clock, 1);
    assert.equal(actor.getSnapshot().value, "done");
    assert.deepEqual(actor.getSnapshot().output, { outcome: "done" });
    assert.equal(frames.length, 1);
  } finally {
    actor.stop();
  }
});

// =============================================================== joinRequest

/** A decider that records its replies. */
function decider(): Decider & { replies: Array<Error | undefined> } {
  const replies: Array<Error | undefined> = [];
  return { replies, reply: (error) => replies.push(error) };
}

const REQUESTER = user(9, "eve");

function startRequest(opts: { failNext?: Error } = {}) {
  const calls: Array<["accept" | "close", number, number]> = [];
  let failNext = opts.failNext;
  const result = () => {
    if (failNext) {
      const e = failNext;
      failNext = undefined;
      return Promise.reject(e);
    }
    return Promise.resolve();
  };
  const deps: JoinRequestDeps = {
    accept: (salonId, userId) => {
      calls.push(["accept", salonId, userId]);
      return result();
    },
    close: (salonId, userId) => {
      calls.push(["close", salonId, userId]);
      return result();
    },
  };
  const input: JoinRequestInput = {
    salonId: 3,
    salon: "Comptabilité",
    user: REQUESTER,
    since: T0,
    deps,
  };
  const actor = createActor(joinRequestMachine, { input });
  actor.start();
  return { actor, calls };
}

Deno.test("joinRequest: ACCEPT stores the membership, then ends accepted with the decider", async () => {
  const { actor, calls } = startRequest();
  try {
    assert.equal(actor.getSnapshot().value, "pending");
    const d = decider();
    actor.send({ type: "ACCEPT", decider: d });
    assert.equal(actor.getSnapshot().value, "storing", "not accepted before it is stored");
    await flush();
    assert.deepEqual(calls, [["accept", 3, REQUESTER.id]]);
    const snap = actor.getSnapshot();
    assert.equal(snap.value, "accepted");
    assert.equal(snap.status, "done");
    assert.deepEqual(snap.output, { outcome: "accepted", user: REQUESTER, decider: d });
    assert.equal(snap.output!.decider, d, "the very decider, so the salon can answer it");
  } finally {
    actor.stop();
  }
});

Deno.test("joinRequest: REJECT closes the request and ends rejected", async () => {
  const { actor, calls } = startRequest();
  try {
    const d = decider();
    actor.send({ type: "REJECT", decider: d });
    await flush();
    assert.deepEqual(calls, [["close", 3, REQUESTER.id]]);
    assert.equal(actor.getSnapshot().value, "rejected");
    assert.deepEqual(actor.getSnapshot().output, {
      outcome: "rejected",
      user: REQUESTER,
      decider: d,
    });
  } finally {
    actor.stop();
  }
});

Deno.test("joinRequest: WITHDRAW closes the request and ends withdrawn", async () => {
  const { actor, calls } = startRequest();
  try {
    const d = decider();
    actor.send({ type: "WITHDRAW", decider: d });
    await flush();
    assert.deepEqual(calls, [["close", 3, REQUESTER.id]]);
    assert.equal(actor.getSnapshot().value, "withdrawn");
    assert.equal(actor.getSnapshot().output!.outcome, "withdrawn");
  } finally {
    actor.stop();
  }
});

Deno.test("joinRequest: WITHDRAW already stored (a ban) ends withdrawn without touching the store", async () => {
  const { actor, calls } = startRequest();
  try {
    const d = decider();
    actor.send({ type: "WITHDRAW", decider: d, alreadyStored: true });
    assert.equal(actor.getSnapshot().value, "withdrawn", "at once");
    await flush();
    assert.deepEqual(calls, []);
    assert.deepEqual(actor.getSnapshot().output, {
      outcome: "withdrawn",
      user: REQUESTER,
      decider: d,
    });
  } finally {
    actor.stop();
  }
});

Deno.test("joinRequest: a failing store puts it back to pending, tells the decider; a later ACCEPT works", async () => {
  const failure = new Error("disk full");
  const { actor, calls } = startRequest({ failNext: failure });
  try {
    const first = decider();
    actor.send({ type: "ACCEPT", decider: first });
    await flush();
    assert.equal(actor.getSnapshot().value, "pending", "still pending: nothing was stored");
    assert.equal(actor.getSnapshot().status, "active");
    assert.deepEqual(first.replies, [failure], "the decider learns of the failure");
    assert.equal(actor.getSnapshot().context.outcome, undefined);

    const second = decider();
    actor.send({ type: "ACCEPT", decider: second });
    await flush();
    assert.deepEqual(calls, [["accept", 3, REQUESTER.id], ["accept", 3, REQUESTER.id]]);
    assert.equal(actor.getSnapshot().value, "accepted");
    assert.equal(actor.getSnapshot().output!.decider, second);
    assert.deepEqual(first.replies, [failure], "the first decider is not answered twice");
  } finally {
    actor.stop();
  }
});

// ---------------------------------------------------- joinRequest as a salon's child

function salonSession(id: string, u: UserSummary): FakeSession {
  return { id, user: u, ...recorder(newClock()) } as FakeSession;
}

function approvalSalon(
  opts: { members: UserSummary[]; pending: UserSummary[]; pendingSince?: number },
) {
  const live = new Map<number, FakeSession[]>();
  const stored: Array<[string, number, number]> = [];
  const errors: string[] = [];
  const deps: SalonDeps = {
    now: () => T0,
    commit: (_m, done) => done(undefined, 1),
    addMember: (s, u) => (stored.push(["addMember", s, u]), Promise.resolve()),
    removeMember: (s, u) => (stored.push(["removeMember", s, u]), Promise.resolve()),
    addJoinRequest: (s, u) => (stored.push(["addJoinRequest", s, u]), Promise.resolve()),
    removeJoinRequest: (s, u) => (stored.push(["removeJoinRequest", s, u]), Promise.resolve()),
    history: () => Promise.resolve({ messages: [], more: false }),
    sessionsOf: (userId) => live.get(userId) ?? [],
    membershipChanged: () => {},
    notifyModerators: () => {},
    reportError: (m) => errors.push(m),
  };
  const salon = { id: 3, name: "Comptabilité", key: nameKey("Comptabilité"), policy: "approval" };
  const actor = createActor(salonMachine, {
    input: {
      salon: salon as SalonInput["salon"],
      members: opts.members,
      pending: opts.pending.map((u) => ({ user: u, since: opts.pendingSince ?? T0 - 1000 })),
      deps,
    },
  });
  actor.start();
  const up = (s: FakeSession) => {
    live.set(s.user.id, [...(live.get(s.user.id) ?? []), s]);
    actor.send({ type: "SESSION_UP", session: s });
  };
  return { actor, live, stored, errors, up, key: salon.key };
}

Deno.test("salon: a loaded request is a child actor; DECIDE accept makes a member, joined, member_joined", async () => {
  const alice = user(1, "alice");
  const eve = user(9, "eve");
  const s = approvalSalon({ members: [alice], pending: [eve] });
  try {
    const childId = requestActorId(s.key, eve.id);
    const child = s.actor.getSnapshot().children[childId] as AnyActorRef | undefined;
    assert.ok(child !== undefined, "one child per pending request");
    assert.ok(s.actor.system.get(childId) === child, "registered under its system id");
    const a1 = salonSession("a1", alice);
    const e1 = salonSession("e1", eve);
    s.up(a1);
    s.up(e1);

    const d = decider();
    s.actor.send({ type: "DECIDE", userId: eve.id, accept: true, decider: d });
    await flush();
    assert.deepEqual(s.stored, [["addMember", 3, eve.id]]);
    assert.deepEqual(d.replies, [undefined], "the moderator is answered once, without error");
    const ctx = s.actor.getSnapshot().context;
    assert.ok(ctx.members.has(eve.id));
    assert.equal(ctx.pending.has(eve.id), false);
    assert.deepEqual(e1.frames, [{ type: "joined", salon: "Comptabilité" }]);
    assert.deepEqual(a1.frames, [{
      type: "member_joined",
      salon: "Comptabilité",
      user: { username: "eve", alias: "Eve" },
    }]);
    assert.equal(child.getSnapshot().status, "done", "the request's actor has ended");
    assert.equal(s.actor.system.get(childId) === undefined, true, "and left the system");
    assert.deepEqual(s.errors, []);
  } finally {
    s.actor.stop();
  }
});

Deno.test("salon: DECIDE reject sends join_rejected; DECIDE without a request answers not_pending", async () => {
  const alice = user(1, "alice");
  const eve = user(9, "eve");
  const s = approvalSalon({ members: [alice], pending: [eve] });
  try {
    const e1 = salonSession("e1", eve);
    s.up(e1);
    const d = decider();
    s.actor.send({ type: "DECIDE", userId: eve.id, accept: false, decider: d });
    await flush();
    assert.deepEqual(s.stored, [["removeJoinRequest", 3, eve.id]]);
    assert.deepEqual(d.replies, [undefined]);
    assert.deepEqual(e1.frames, [{ type: "join_rejected", salon: "Comptabilité" }]);
    assert.equal(s.actor.getSnapshot().context.members.has(eve.id), false);
    assert.equal(s.actor.getSnapshot().context.pending.has(eve.id), false);

    const again = decider();
    s.actor.send({ type: "DECIDE", userId: eve.id, accept: true, decider: again });
    await flush();
    assert.equal(again.replies.length, 1);
    assert.equal(again.replies[0]?.message, "not_pending");
    assert.deepEqual(s.stored, [["removeJoinRequest", 3, eve.id]], "nothing more stored");
  } finally {
    s.actor.stop();
  }
});

Deno.test("salon: REQUESTS_WITHDRAWN ends the request without a store call; the user gets left", async () => {
  const alice = user(1, "alice");
  const eve = user(9, "eve");
  const s = approvalSalon({ members: [alice], pending: [eve] });
  try {
    const e1 = salonSession("e1", eve);
    s.up(e1);
    s.actor.send({ type: "REQUESTS_WITHDRAWN", userId: eve.id });
    await flush();
    assert.deepEqual(s.stored, [], "the ban already stored the withdrawal");
    assert.equal(s.actor.getSnapshot().context.pending.has(eve.id), false);
    assert.equal(s.actor.system.get(requestActorId(s.key, eve.id)) === undefined, true);
    assert.deepEqual(e1.frames, [{ type: "left", salon: "Comptabilité" }]);
    // A REQUESTS_WITHDRAWN for a user without a request changes nothing.
    s.actor.send({ type: "REQUESTS_WITHDRAWN", userId: alice.id });
    await flush();
    assert.ok(s.actor.getSnapshot().context.members.has(alice.id));
    assert.deepEqual(s.errors, []);
  } finally {
    s.actor.stop();
  }
});

Deno.test("salon: a request that ended leaves the salon's children; the user may ask again", async () => {
  const alice = user(1, "alice");
  const eve = user(9, "eve");
  // Asked 10 minutes ago: a new request is allowed (one per user and salon per 10 minutes).
  const s = approvalSalon({ members: [alice], pending: [eve], pendingSince: T0 - 10 * 60_000 });
  try {
    const childId = requestActorId(s.key, eve.id);
    const e1 = salonSession("e1", eve);
    s.up(e1);
    s.actor.send({ type: "DECIDE", userId: eve.id, accept: false, decider: decider() });
    await flush();

    // Eve asks again: a new request actor under the same id, which can be decided.
    s.actor.send({ type: "JOIN", session: e1, ref: "j" });
    await flush();
    assert.deepEqual(e1.frames.at(-1), { type: "join_pending", salon: "Comptabilité", ref: "j" });
    const again = s.actor.system.get(childId) as AnyActorRef | undefined;
    assert.ok(again !== undefined, "a new request actor");
    assert.equal(again.getSnapshot().value, "pending");
    const d = decider();
    s.actor.send({ type: "DECIDE", userId: eve.id, accept: true, decider: d });
    await flush();
    assert.deepEqual(d.replies, [undefined]);
    assert.deepEqual(e1.frames.at(-1), { type: "joined", salon: "Comptabilité" });
    assert.deepEqual(s.errors, []);

    // Ended requests must not pile up in the salon's actor tree (GET /admin/actors).
    const leftover = Object.entries(s.actor.getSnapshot().children)
      .filter(([, ref]) => ref?.getSnapshot().status !== "active")
      .map(([id, ref]) => `${id} (${ref?.getSnapshot().status})`);
    assert.deepEqual(leftover, [], "ended request actors are still children of the salon");
  } finally {
    s.actor.stop();
  }
});

// =============================================================== server

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

interface World {
  clock: SimulatedClock;
  server: Actor<typeof serverMachine>;
  errors: string[];
  /** Times (ms since T0) deps.drain was called. */
  drains: number[];
  /** Times (ms since T0) deps.stopped was called. */
  stops: number[];
  expired: SanctionRecord[];
  session(id: string, u: UserSummary): FakeSession;
  up(s: Session): void;
  /** Opens a socket through CONNECT and completes its hello as `u`. */
  connect(u: UserSummary): Promise<{ id: string; socket: Recorder; actor: AnyActorRef }>;
  sessionsOf(userId: number): Session[];
  lifecycle(): string;
}

/** The server with one auto salon holding every user, wired like runtime/hub.ts. */
function world(users: UserSummary[]): World {
  const clock = newClock();
  const byName = new Map(users.map((u) => [nameKey(u.username), u]));
  const index = new MembershipIndex();
  const errors: string[] = [];
  const drains: number[] = [];
  const stops: number[] = [];
  const expired: SanctionRecord[] = [];

  const sessionsOf = (userId: number): Session[] =>
    server.getSnapshot().context.sessions.get(userId) ?? [];
  const salonRef = (key: string) =>
    server.system.get(salonSystemId(key)) as AnyActorRef | undefined;

  const salonDeps: SalonDeps = {
    now: () => clock.now(),
    commit: (_m, done) => done(undefined, 1),
    addMember: () => Promise.resolve(),
    removeMember: () => Promise.resolve(),
    addJoinRequest: () => Promise.resolve(),
    removeJoinRequest: () => Promise.resolve(),
    history: () => Promise.resolve({ messages: [], more: false }),
    sessionsOf,
    membershipChanged: (userId, key, member) =>
      member ? index.add(userId, key) : index.remove(userId, key),
    notifyModerators: () => {},
    reportError: (message) => errors.push(message),
  };
  const salons: SalonInput[] = [{
    salon: { id: 1, name: "Général", key: nameKey("Général"), policy: "auto" },
    members: users,
    pending: [],
    deps: salonDeps,
  }];
  for (const u of users) index.add(u.id, nameKey("Général"));

  const connectionDeps: ConnectionDeps = {
    now: () => clock.now(),
    authenticate: (frame) => {
      const name = "token" in frame ? frame.token : frame.username;
      const u = byName.get(nameKey(name));
      return u
        ? Promise.resolve({ user: u, token: `token-${u.username}` })
        : Promise.reject(new Error("unknown test user"));
    },
    welcome: (session, token, ref) =>
      JSON.stringify({ type: "welcome", user: session.user.username, token, ref }),
    attach: (session) => server.send({ type: "SESSION_UP", session }),
    detach: (session) => server.send({ type: "SESSION_DOWN", session }),
    salon: (name) => salonRef(nameKey(name)),
    direct: () => {},
    directHistory: () => {},
    moderate: () => {},
  };

  const server: Actor<typeof serverMachine> = createActor(serverMachine, {
    systemId: "server",
    clock,
    input: {
      salons,
      maxSessions: 5,
      presenceIntervalMs: 1000,
      limits: LIMITS,
      connectionDeps,
      deps: {
        reportError: (message) => errors.push(message),
        now: () => clock.now(),
        drain: () => {
          drains.push(clock.now() - T0);
          return Promise.resolve();
        },
        stopped: () => stops.push(clock.now() - T0),
        sanctionExpired: (s) => expired.push(s),
        salonsOf: function* (userId) {
          for (const key of index.salonsOf(userId)) {
            const ref = salonRef(key);
            if (ref) yield ref as unknown as SalonPort;
          }
        },
        commitDirect: () => {},
      },
    },
  });
  server.start();

  let counter = 0;
  return {
    clock,
    server,
    errors,
    drains,
    stops,
    expired,
    session: (id, u) => ({ id, user: u, ...recorder(clock) }) as FakeSession,
    up: (s) => server.send({ type: "SESSION_UP", session: s }),
    async connect(u) {
      const id = `conn:${++counter}`;
      const socket = recorder(clock);
      startConnection(server, { id, socket, address: "192.0.2.1" });
      const actor = server.system.get(id) as AnyActorRef;
      assert.ok(actor, "a connection actor is registered in the system under its id");
      actor.send(
        {
          type: "FRAME",
          frame: { type: "hello", token: u.username, ref: "h" },
        } satisfies ConnectionEvent,
      );
      await flush();
      assert.equal(socket.frames[0]?.type, "welcome", `${id} was not welcomed`);
      return { id, socket, actor };
    },
    sessionsOf,
    lifecycle: () => (server.getSnapshot().value as { lifecycle: string }).lifecycle,
  };
}

async function withWorld(
  users: UserSummary[],
  fn: (w: World) => Promise<void> | void,
): Promise<void> {
  const w = world(users);
  try {
    await fn(w);
    assert.deepEqual(w.errors, [], "no failure should have been reported");
  } finally {
    w.server.stop();
  }
}

function countdown(r: Recorder): Array<{ frame: Sent; at: number }> {
  return r.frames.map((frame, i) => ({ frame, at: r.times[i] - T0 })).filter((f) =>
    f.frame.type === "shutdown" || f.frame.type === "shutdown_cancelled"
  );
}

Deno.test("server: START_SHUTDOWN 3 counts 3, 2, 1 to every session, drains at 3000 ms, then stopped", async () => {
  const alice = user(1, "alice");
  const bob = user(2, "bob");
  await withWorld([alice, bob], async (w) => {
    const a1 = w.session("a1", alice);
    const a2 = w.session("a2", alice);
    const b1 = w.session("b1", bob);
    for (const s of [a1, a2, b1]) w.up(s);

    w.server.send({ type: "START_SHUTDOWN", seconds: 3 });
    assert.equal(w.lifecycle(), "shuttingDown");
    advance(w.clock, 2999);
    await flush();
    assert.deepEqual(w.drains, [], "no drain before the end of the countdown");
    assert.equal(w.lifecycle(), "shuttingDown");
    const expected = [
      { frame: { type: "shutdown", seconds: 3 }, at: 0 },
      { frame: { type: "shutdown", seconds: 2 }, at: 1000 },
      { frame: { type: "shutdown", seconds: 1 }, at: 2000 },
    ];
    for (const s of [a1, a2, b1]) assert.deepEqual(countdown(s), expected, s.id);

    advance(w.clock, 1); // 3000 ms
    assert.deepEqual(w.drains, [3000], "drain one second after 1");
    await flush();
    assert.deepEqual(w.stops, [3000], "stopped once drained");
    assert.equal(w.lifecycle(), "stopped");
    advance(w.clock, 60_000, 10);
    await flush();
    assert.deepEqual(w.drains, [3000]);
    assert.deepEqual(w.stops, [3000], "stopped is told once");
    for (const s of [a1, a2, b1]) assert.equal(countdown(s).length, 3, "no frame after 1");
  });
});

Deno.test("server: CANCEL_SHUTDOWN goes back to running, sessions get shutdown_cancelled, no drain", async () => {
  const alice = user(1, "alice");
  await withWorld([alice], async (w) => {
    const a1 = w.session("a1", alice);
    w.up(a1);
    w.server.send({ type: "START_SHUTDOWN", seconds: 10 });
    advance(w.clock, 2500);
    w.server.send({ type: "CANCEL_SHUTDOWN" });
    await flush();
    assert.deepEqual(countdown(a1).map((f) => f.frame), [
      { type: "shutdown", seconds: 10 },
      { type: "shutdown", seconds: 9 },
      { type: "shutdown", seconds: 8 },
      { type: "shutdown_cancelled" },
    ]);
    assert.deepEqual(w.drains, [], "a cancelled countdown must not drain the server");
    assert.deepEqual(w.stops, []);
    assert.equal(w.lifecycle(), "running");
    advance(w.clock, 60_000, 10);
    await flush();
    assert.equal(countdown(a1).length, 4, "no tick after the cancel");
    assert.deepEqual(w.drains, []);

    // A new countdown can be started afterwards.
    w.server.send({ type: "START_SHUTDOWN", seconds: 2 });
    assert.equal(w.lifecycle(), "shuttingDown");
    assert.deepEqual(countdown(a1).at(-1)!.frame, { type: "shutdown", seconds: 2 });
  });
});

Deno.test("server: SKIP_SHUTDOWN during the countdown drains at once", async () => {
  const alice = user(1, "alice");
  await withWorld([alice], async (w) => {
    const a1 = w.session("a1", alice);
    w.up(a1);
    w.server.send({ type: "START_SHUTDOWN", seconds: 10 });
    advance(w.clock, 1500);
    w.server.send({ type: "SKIP_SHUTDOWN" });
    assert.deepEqual(w.drains, [1500]);
    await flush();
    assert.deepEqual(w.stops, [1500]);
    assert.equal(w.lifecycle(), "stopped");
    advance(w.clock, 60_000, 10);
    assert.deepEqual(countdown(a1).map((f) => f.frame.seconds), [10, 9], "no tick after the skip");
  });
});

Deno.test("server: SKIP_SHUTDOWN while running drains at once, without a countdown", async () => {
  const alice = user(1, "alice");
  await withWorld([alice], async (w) => {
    const a1 = w.session("a1", alice);
    w.up(a1);
    advance(w.clock, 700);
    w.server.send({ type: "SKIP_SHUTDOWN" });
    assert.deepEqual(w.drains, [700]);
    await flush();
    assert.deepEqual(w.stops, [700]);
    assert.equal(w.lifecycle(), "stopped");
    assert.deepEqual(countdown(a1), []);
  });
});

Deno.test("server: TRACK_SANCTION spawns sanction:<id>, which disappears when the kick runs out", async () => {
  const alice = user(1, "alice");
  await withWorld([alice], async (w) => {
    const sanction = kick(42, alice.id, T0 + 2 * MINUTE);
    w.server.send({ type: "TRACK_SANCTION", sanction, username: "alice" });
    const id = sanctionSystemId(42);
    assert.equal(id, "sanction:42");
    const child = w.server.getSnapshot().children[id] as AnyActorRef | undefined;
    assert.ok(child !== undefined, "a child in the snapshot");
    assert.ok(w.server.system.get(id) === child, "registered under its system id");
    assert.deepEqual(child.getSnapshot().value, { active: "kicked" });
    assert.equal(child.getSnapshot().context.username, "alice");

    w.clock.increment(2 * MINUTE - 1);
    assert.ok(w.server.getSnapshot().children[id], "still there just before the end");
    assert.deepEqual(w.expired, []);
    advance(w.clock, 1);
    await flush();
    assert.deepEqual(w.expired, [sanction], "deps.sanctionExpired told once");
    assert.equal(w.server.system.get(id) === undefined, true, "gone from the system");
    assert.equal(child.getSnapshot().status, "done");
    assert.equal(id in w.server.getSnapshot().children, false, "gone from the actor tree");
  });
});

Deno.test("server: LIFT_SANCTIONS lifts only that user's sanctions", async () => {
  const alice = user(1, "alice");
  const bob = user(2, "bob");
  await withWorld([alice, bob], async (w) => {
    w.server.send({ type: "TRACK_SANCTION", sanction: ban(1, alice.id), username: "alice" });
    w.server.send({
      type: "TRACK_SANCTION",
      sanction: kick(2, alice.id, T0 + 5 * MINUTE),
      username: "alice",
    });
    w.server.send({ type: "TRACK_SANCTION", sanction: ban(3, bob.id), username: "bob" });
    w.server.send({
      type: "TRACK_SANCTION",
      sanction: kick(4, bob.id, T0 + 5 * MINUTE),
      username: "bob",
    });
    const refs = new Map(
      [1, 2, 3, 4].map((n) => [n, w.server.system.get(sanctionSystemId(n)) as AnyActorRef]),
    );
    for (const [n, ref] of refs) assert.ok(ref !== undefined, `sanction:${n} is tracked`);
    /** Ids of the sanction actors still in force. */
    const inForce = () =>
      [...refs].filter(([, ref]) => ref.getSnapshot().status === "active").map(([n]) => n);
    assert.deepEqual(inForce(), [1, 2, 3, 4]);

    w.server.send({ type: "LIFT_SANCTIONS", userId: alice.id });
    await flush();
    assert.deepEqual(inForce(), [3, 4], "only alice's sanctions are lifted");
    assert.equal(refs.get(1)!.getSnapshot().value, "lifted");
    assert.equal(refs.get(2)!.getSnapshot().value, "lifted");
    assert.equal(w.server.system.get("sanction:1") === undefined, true);
    assert.equal(w.server.system.get("sanction:2") === undefined, true);
    assert.deepEqual(refs.get(3)!.getSnapshot().value, { active: "banned" });
    assert.deepEqual(refs.get(4)!.getSnapshot().value, { active: "kicked" });
    assert.equal(w.expired.length, 0, "a lift is not an expiry");

    // Bob's kick still runs out at its time; his ban stays.
    w.clock.increment(5 * MINUTE);
    await flush();
    assert.equal(refs.get(4)!.getSnapshot().value, "expired");
    assert.deepEqual(w.expired.map((s) => s.id), [4]);
    assert.deepEqual(inForce(), [3]);
  });
});

Deno.test("server: PUNISH sends the frame to each session of the user and closes them with 4403", async () => {
  const alice = user(1, "alice");
  const bob = user(2, "bob");
  await withWorld([alice, bob], async (w) => {
    const a1 = await w.connect(alice);
    const a2 = await w.connect(alice);
    const b1 = await w.connect(bob);
    assert.equal(w.sessionsOf(alice.id).length, 2);
    const frame = JSON.stringify({
      type: "kicked",
      until: "2026-11-24T10:05:00.000Z",
      reason: "x",
    });

    w.server.send({ type: "PUNISH", userId: alice.id, frame });
    await flush();
    for (const c of [a1, a2]) {
      assert.deepEqual(c.socket.frames.at(-1), {
        type: "kicked",
        until: "2026-11-24T10:05:00.000Z",
        reason: "x",
      }, c.id);
      assert.deepEqual(c.socket.closes.map((x) => x.code), [4403], c.id);
      assert.equal(c.actor.getSnapshot().status, "done", `${c.id} ended`);
    }
    assert.deepEqual(w.sessionsOf(alice.id), [], "alice's sessions left the registry");
    assert.deepEqual(b1.socket.closes, [], "bob is untouched");
    assert.equal(b1.socket.frames.filter((f) => f.type === "kicked").length, 0);
    assert.equal(w.sessionsOf(bob.id).length, 1);

    // A user with no session: nothing happens.
    w.server.send({ type: "PUNISH", userId: 99, frame });
    await flush();
    assert.deepEqual(b1.socket.closes, []);
  });
});

Deno.test("server: a connection that was closed leaves the actor system", async () => {
  const alice = user(1, "alice");
  await withWorld([alice], async (w) => {
    const a1 = await w.connect(alice);
    const frame = JSON.stringify({ type: "banned", reason: "" });
    w.server.send({ type: "PUNISH", userId: alice.id, frame });
    await flush();
    assert.equal(a1.actor.getSnapshot().status, "done");
    assert.equal(w.server.system.get(a1.id) === undefined, true, "gone from the system");
    // Every socket ever opened must not stay in the actor tree (memory, GET /admin/actors).
    assert.equal(a1.id in w.server.getSnapshot().children, false, "still a child of the server");
  });
});

Deno.test("server: BROADCAST reaches every session of every user once", async () => {
  const alice = user(1, "alice");
  const bob = user(2, "bob");
  await withWorld([alice, bob], (w) => {
    const sessions = [w.session("a1", alice), w.session("a2", alice), w.session("b1", bob)];
    for (const s of sessions) w.up(s);
    const frame = JSON.stringify({ type: "notice", text: "maintenance", at: "x" });
    w.server.send({ type: "BROADCAST", frame });
    for (const s of sessions) {
      const notices = s.frames.filter((f) => f.type === "notice");
      assert.deepEqual(notices, [{ type: "notice", text: "maintenance", at: "x" }], s.id);
    }
  });
});

Deno.test("server: ROLE_CHANGED updates the role of every live session of the user", async () => {
  const alice = user(1, "alice");
  const bob = user(2, "bob");
  await withWorld([alice, bob], (w) => {
    const a1 = w.session("a1", { ...alice });
    const a2 = w.session("a2", { ...alice });
    const b1 = w.session("b1", { ...bob });
    for (const s of [a1, a2, b1]) w.up(s);
    w.server.send({ type: "ROLE_CHANGED", userId: alice.id, role: "moderator" });
    assert.equal(a1.user.role, "moderator");
    assert.equal(a2.user.role, "moderator");
    assert.equal(b1.user.role, "member", "other users keep theirs");
    w.server.send({ type: "ROLE_CHANGED", userId: alice.id, role: "member" });
    assert.equal(a1.user.role, "member");
  });
});
