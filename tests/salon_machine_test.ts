/**
 * The salon machine (actors/salon.ts) alone, with fake deps: admission
 * policies, leaving, the path of a message (commit, `ok`, then one identical
 * `message` frame per online session), `who` and `history`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Actor, createActor } from "xstate";
import type { SalonPolicy } from "../config/salons.ts";
import { type SalonDeps, type SalonEvent, salonMachine } from "../actors/salon.ts";
import type { Session } from "../actors/session.ts";
import type { HistoryPage, HistoryQuery, UserSummary } from "../store/store.ts";

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
const ISO0 = "2026-11-24T10:00:00.000Z";

const ALICE: UserSummary = { id: 1, username: "alice", alias: "Alice", role: "member" };
const BOB: UserSummary = { id: 2, username: "bob", alias: "Bob", role: "member" };
const CAROL: UserSummary = { id: 3, username: "carol", alias: "Carol", role: "member" };
const DAVE: UserSummary = { id: 4, username: "dave", alias: "Dave the Mod", role: "moderator" };

/** A frame the salon sent, parsed. */
interface Sent {
  type: string;
  ref?: string;
  code?: string;
  message?: string;
  [key: string]: unknown;
}

/** A session that records what it is sent. */
interface FakeSession extends Session {
  /** Frames as written. */
  raw: string[];
  /** Frames parsed. */
  frames: Sent[];
}

function fakeSession(id: string, user: UserSummary, order?: string[]): FakeSession {
  const raw: string[] = [];
  const frames: Sent[] = [];
  return {
    id,
    user,
    raw,
    frames,
    send(frame: string) {
      // `salon_stats` (PROTOCOL 5.1) comes with every count change; its rules are tested in
      // presence_machine_test.ts, and the exact frame lists here are about everything else.
      if (frame.startsWith('{"type":"salon_stats"')) return;
      raw.push(frame);
      frames.push(JSON.parse(frame));
      order?.push(`${id}:${JSON.parse(frame).type}`);
    },
    close() {},
  };
}

/** Lets resolved promises run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

interface Gate {
  promise: Promise<void>;
  open(): void;
  fail(error: Error): void;
}

function gate(): Gate {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    open = res;
    fail = rej;
  });
  return { promise, open, fail };
}

type CommitCall = {
  message: { salonId: number; userId: number; text: string; at: number };
  done: (error: Error | undefined, id: number) => void;
};

/** Everything a test needs around one salon actor. */
interface Harness {
  actor: Actor<typeof salonMachine>;
  /** Live sessions by user id (what deps.sessionsOf answers). */
  live: Map<number, FakeSession[]>;
  /** Every frame sent to any session, as `<session id>:<type>`, in order. */
  order: string[];
  /** The clock deps.now answers (epoch ms; T0 at first). */
  time: number;
  /** Calls of deps.commit. */
  commits: CommitCall[];
  /** "sync": commit calls back at once with the next id; "manual": the test calls back. */
  commitMode: "sync" | "manual";
  /** Calls of each store method, as [salonId, userId]. */
  stored: Record<"addMember" | "removeMember" | "addJoinRequest" | "removeJoinRequest", number[][]>;
  /** When set, the next store call waits for this gate. */
  nextStore: Gate | undefined;
  membershipChanges: Array<[number, string, boolean]>;
  moderatorFrames: string[];
  errors: string[];
  historyCalls: Array<[number, HistoryQuery]>;
  historyPage: HistoryPage;
  /** When set, deps.history rejects with it. */
  historyError: Error | undefined;
  /** Opens a session: known to sessionsOf, then SESSION_UP. */
  up(session: FakeSession): void;
  /** Closes a session: SESSION_DOWN, then forgotten by sessionsOf. */
  down(session: FakeSession): void;
  send(event: SalonEvent): void;
  context(): ReturnType<Actor<typeof salonMachine>["getSnapshot"]>["context"];
  stop(): void;
}

interface Setup {
  policy: SalonPolicy;
  members?: UserSummary[];
  pending?: UserSummary[];
}

const SALON_NAMES: Record<SalonPolicy, string> = {
  auto: "Général",
  open: "Blabla",
  approval: "Comptabilité",
};

function harness(setup: Setup): Harness {
  let nextId = 0;
  const h = {
    time: T0,
    live: new Map<number, FakeSession[]>(),
    order: [] as string[],
    commits: [] as CommitCall[],
    commitMode: "sync",
    stored: { addMember: [], removeMember: [], addJoinRequest: [], removeJoinRequest: [] },
    nextStore: undefined,
    membershipChanges: [],
    moderatorFrames: [],
    errors: [],
    historyCalls: [],
    historyPage: { messages: [], more: false },
  } as unknown as Harness;

  const store = (method: keyof Harness["stored"]) => (salonId: number, userId: number) => {
    h.stored[method].push([salonId, userId]);
    const g = h.nextStore;
    h.nextStore = undefined;
    return g ? g.promise : Promise.resolve();
  };

  const deps: SalonDeps = {
    now: () => h.time,
    commit: (message, done) => {
      h.commits.push({ message, done });
      if (h.commitMode === "sync") done(undefined, ++nextId);
    },
    addMember: store("addMember"),
    removeMember: store("removeMember"),
    addJoinRequest: store("addJoinRequest"),
    removeJoinRequest: store("removeJoinRequest"),
    history: (salonId, query) => {
      h.historyCalls.push([salonId, query]);
      return h.historyError ? Promise.reject(h.historyError) : Promise.resolve(h.historyPage);
    },
    sessionsOf: (userId) => h.live.get(userId) ?? [],
    membershipChanged: (userId, key, member) => h.membershipChanges.push([userId, key, member]),
    notifyModerators: (frame) => h.moderatorFrames.push(frame),
    reportError: (message) => h.errors.push(message),
  };

  const name = SALON_NAMES[setup.policy];
  const actor = createActor(salonMachine, {
    input: {
      salon: { id: 7, name, key: name.toLowerCase(), policy: setup.policy },
      members: setup.members ?? [],
      pending: (setup.pending ?? []).map((user) => ({ user, since: T0 - 60_000 })),
      deps,
    },
  });
  actor.start();
  h.actor = actor;
  h.up = (session) => {
    const list = h.live.get(session.user.id) ?? [];
    list.push(session);
    h.live.set(session.user.id, list);
    actor.send({ type: "SESSION_UP", session });
  };
  h.down = (session) => {
    actor.send({ type: "SESSION_DOWN", session });
    const list = (h.live.get(session.user.id) ?? []).filter((s) => s !== session);
    if (list.length === 0) h.live.delete(session.user.id);
    else h.live.set(session.user.id, list);
  };
  h.send = (event) => actor.send(event);
  h.context = () => actor.getSnapshot().context;
  h.stop = () => actor.stop();
  return h;
}

async function withSalon(setup: Setup, fn: (h: Harness) => Promise<void> | void): Promise<void> {
  const h = harness(setup);
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
  assert.ok(typeof frame.message === "string" && frame.message.trim() !== "");
}

/** The `who` answer a session gets right now. */
function who(h: Harness, session: FakeSession): Sent {
  const from = session.frames.length;
  h.send({ type: "WHO", session, ref: "w" });
  assert.equal(session.frames.length, from + 1);
  return session.frames[from];
}

// ---------------------------------------------------------------- open

Deno.test("open salon: JOIN admits at once, announces joined and member_joined once persisted", async () => {
  await withSalon({ policy: "open", members: [BOB, CAROL] }, async (h) => {
    const a1 = fakeSession("a1", ALICE, h.order);
    const a2 = fakeSession("a2", ALICE, h.order);
    const b1 = fakeSession("b1", BOB, h.order);
    const d1 = fakeSession("d1", DAVE, h.order);
    for (const s of [a1, a2, b1, d1]) h.up(s);
    // Carol is a member but offline; Dave is online but not a member.

    const g = gate();
    h.nextStore = g;
    h.send({ type: "JOIN", session: a1, ref: "j1" });
    assert.deepEqual(h.stored.addMember, [[7, ALICE.id]]);
    await flush();
    assert.deepEqual(h.order, [], "nothing is announced before the store has the membership");
    // Admitted in memory at once, so a say queued right behind the join is accepted.
    assert.equal(h.context().members.has(ALICE.id), true);
    assert.deepEqual(h.membershipChanges, [[ALICE.id, "blabla", true]]);

    g.open();
    await flush();
    assert.deepEqual(a1.frames, [{ type: "joined", salon: "Blabla", ref: "j1" }]);
    assert.deepEqual(a2.frames, [{ type: "joined", salon: "Blabla" }], "no ref on other sessions");
    assert.deepEqual(b1.frames, [
      { type: "member_joined", salon: "Blabla", user: { username: "alice", alias: "Alice" } },
    ]);
    assert.deepEqual(d1.frames, [], "non-members hear nothing");
    assert.deepEqual(h.membershipChanges, [[ALICE.id, "blabla", true]]);
    assert.equal(h.context().members.has(ALICE.id), true);

    // Alice's sessions are now online members: they get messages.
    h.send({ type: "SAY", session: b1, ref: "s", text: "welcome" });
    assert.equal(a1.frames.at(-1)!.type, "message");
    assert.equal(a2.frames.at(-1)!.type, "message");
  });
});

Deno.test("open salon: JOIN by a member answers joined again, nothing stored or announced", async () => {
  await withSalon({ policy: "open", members: [ALICE, BOB] }, async (h) => {
    const a1 = fakeSession("a1", ALICE);
    const a2 = fakeSession("a2", ALICE);
    const b1 = fakeSession("b1", BOB);
    for (const s of [a1, a2, b1]) h.up(s);
    h.send({ type: "JOIN", session: a1, ref: "again" });
    await flush();
    assert.deepEqual(a1.frames, [{ type: "joined", salon: "Blabla", ref: "again" }]);
    assert.deepEqual(a2.frames, []);
    assert.deepEqual(b1.frames, [], "no member_joined for an existing member");
    assert.deepEqual(h.stored.addMember, []);
    assert.deepEqual(h.membershipChanges, []);
  });
});

Deno.test("a JOIN the store refuses: error internal, not a member", async () => {
  await withSalon({ policy: "open", members: [BOB] }, async (h) => {
    const a1 = fakeSession("a1", ALICE);
    const b1 = fakeSession("b1", BOB);
    h.up(a1);
    h.up(b1);
    const g = gate();
    h.nextStore = g;
    h.send({ type: "JOIN", session: a1, ref: "j" });
    g.fail(new Error("disk full"));
    await flush();
    assert.equal(a1.frames.length, 1);
    assertErrorFrame(a1.frames[0], "internal", "j");
    assert.deepEqual(b1.frames, []);
    assert.equal(h.context().members.has(ALICE.id), false);
    assert.equal(h.errors.length, 1);
    h.send({ type: "SAY", session: a1, ref: "s", text: "hi" });
    assertErrorFrame(a1.frames.at(-1), "not_member", "s");
  });
});

// ---------------------------------------------------------------- approval

Deno.test("approval salon: JOIN stores a request, join_pending, join_request to moderators", async () => {
  await withSalon({ policy: "approval", members: [BOB] }, async (h) => {
    const a1 = fakeSession("a1", ALICE);
    const a2 = fakeSession("a2", ALICE);
    const b1 = fakeSession("b1", BOB);
    for (const s of [a1, a2, b1]) h.up(s);

    const g = gate();
    h.nextStore = g;
    h.send({ type: "JOIN", session: a1, ref: "j1" });
    assert.deepEqual(h.stored.addJoinRequest, [[7, ALICE.id]]);
    assert.deepEqual(h.stored.addMember, []);
    await flush();
    assert.deepEqual(a1.frames, []);
    assert.deepEqual(h.moderatorFrames, []);
    g.open();
    await flush();

    assert.deepEqual(a1.frames, [{ type: "join_pending", salon: "Comptabilité", ref: "j1" }]);
    assert.deepEqual(a2.frames, [{ type: "join_pending", salon: "Comptabilité" }]);
    assert.deepEqual(b1.frames, [], "members are not told about requests");
    assert.equal(h.moderatorFrames.length, 1);
    assert.deepEqual(JSON.parse(h.moderatorFrames[0]), {
      type: "join_request",
      salon: "Comptabilité",
      username: "alice",
      alias: "Alice",
      at: ISO0,
    });
    assert.equal(h.context().members.has(ALICE.id), false);
    assert.equal(h.context().pending.has(ALICE.id), true);
    assert.deepEqual(h.membershipChanges, []);

    // Asking again: join_pending again, nothing stored, moderators not told twice.
    h.send({ type: "JOIN", session: a2, ref: "j2" });
    await flush();
    assert.deepEqual(a2.frames.at(-1), { type: "join_pending", salon: "Comptabilité", ref: "j2" });
    assert.equal(h.stored.addJoinRequest.length, 1);
    assert.equal(h.moderatorFrames.length, 1);

    // A pending user is not a member.
    h.send({ type: "SAY", session: a1, ref: "s", text: "let me in" });
    assertErrorFrame(a1.frames.at(-1), "not_member", "s");
    assert.equal(h.commits.length, 0);
    assertErrorFrame(who(h, a1), "not_member", "w");
  });
});

Deno.test("approval salon: a request loaded from the store answers join_pending", async () => {
  await withSalon({ policy: "approval", pending: [ALICE] }, async (h) => {
    const a1 = fakeSession("a1", ALICE);
    h.up(a1);
    h.send({ type: "JOIN", session: a1, ref: "j" });
    await flush();
    assert.deepEqual(a1.frames, [{ type: "join_pending", salon: "Comptabilité", ref: "j" }]);
    assert.deepEqual(h.stored.addJoinRequest, []);
    assert.deepEqual(h.moderatorFrames, []);
  });
});

// ---------------------------------------------------------------- auto

Deno.test("auto salon: cannot be left (forbidden); join answers joined", async () => {
  await withSalon({ policy: "auto", members: [ALICE, BOB] }, async (h) => {
    const a1 = fakeSession("a1", ALICE);
    h.up(a1);
    h.send({ type: "LEAVE", session: a1, ref: "l" });
    await flush();
    assert.equal(a1.frames.length, 1);
    assertErrorFrame(a1.frames[0], "forbidden", "l");
    assert.deepEqual(h.stored.removeMember, []);
    assert.equal(h.context().members.has(ALICE.id), true);
    h.send({ type: "JOIN", session: a1, ref: "j" });
    await flush();
    assert.deepEqual(a1.frames.at(-1), { type: "joined", salon: "Général", ref: "j" });
  });
});

// ---------------------------------------------------------------- leave

Deno.test("LEAVE by a member: persisted, then left to every session; no more messages", async () => {
  await withSalon({ policy: "open", members: [ALICE, BOB] }, async (h) => {
    const a1 = fakeSession("a1", ALICE);
    const a2 = fakeSession("a2", ALICE);
    const b1 = fakeSession("b1", BOB);
    for (const s of [a1, a2, b1]) h.up(s);
    const g = gate();
    h.nextStore = g;
    h.send({ type: "LEAVE", session: a2, ref: "bye" });
    assert.deepEqual(h.stored.removeMember, [[7, ALICE.id]]);
    await flush();
    assert.deepEqual(a2.frames, [], "left only once the store has it");
    g.open();
    await flush();
    assert.deepEqual(a2.frames, [{ type: "left", salon: "Blabla", ref: "bye" }]);
    assert.deepEqual(a1.frames, [{ type: "left", salon: "Blabla" }]);
    assert.deepEqual(b1.frames, []);
    assert.deepEqual(h.membershipChanges, [[ALICE.id, "blabla", false]]);

    h.send({ type: "SAY", session: b1, ref: "s", text: "she left" });
    assert.equal(a1.frames.length, 1, "a former member gets no messages");
    assert.equal(a2.frames.length, 1);
    h.send({ type: "SAY", session: a1, ref: "s2", text: "wait" });
    assertErrorFrame(a1.frames.at(-1), "not_member", "s2");
    const users = who(h, b1).users as Array<{ username: string }>;
    assert.deepEqual(users.map((u) => u.username), ["bob"]);
  });
});

Deno.test("LEAVE with a pending request: the request is withdrawn, left", async () => {
  await withSalon({ policy: "approval", members: [BOB] }, async (h) => {
    const a1 = fakeSession("a1", ALICE);
    const a2 = fakeSession("a2", ALICE);
    h.up(a1);
    h.up(a2);
    h.send({ type: "JOIN", session: a1, ref: "j" });
    await flush();
    assert.equal(h.context().pending.has(ALICE.id), true);
    h.send({ type: "LEAVE", session: a1, ref: "l" });
    assert.deepEqual(h.stored.removeJoinRequest, [[7, ALICE.id]]);
    assert.deepEqual(h.stored.removeMember, []);
    await flush();
    assert.deepEqual(a1.frames.at(-1), { type: "left", salon: "Comptabilité", ref: "l" });
    assert.deepEqual(a2.frames.at(-1), { type: "left", salon: "Comptabilité" });
    assert.equal(h.context().pending.has(ALICE.id), false);
    // Asking again within 10 minutes (issue 9): rate_limited, nothing stored, moderators not told.
    h.time = T0 + 10 * 60_000 - 1;
    h.send({ type: "JOIN", session: a1, ref: "j2" });
    await flush();
    assertErrorFrame(a1.frames.at(-1), "rate_limited", "j2");
    assert.match(a1.frames.at(-1)!.message!, /after 2026-11-24T10:10:00.000Z/);
    assert.equal(h.stored.addJoinRequest.length, 1);
    assert.equal(h.moderatorFrames.length, 1);
    // 10 minutes after the first: a new request, and moderators hear of it again.
    h.time = T0 + 10 * 60_000;
    h.send({ type: "JOIN", session: a1, ref: "j3" });
    await flush();
    assert.equal(h.stored.addJoinRequest.length, 2);
    assert.equal(h.moderatorFrames.length, 2);
    assert.deepEqual(a1.frames.at(-1), { type: "join_pending", salon: "Comptabilité", ref: "j3" });
  });
});

Deno.test("LEAVE with neither membership nor request: not_member", async () => {
  for (const policy of ["open", "approval"] as const) {
    await withSalon({ policy, members: [BOB] }, async (h) => {
      const a1 = fakeSession("a1", ALICE);
      h.up(a1);
      h.send({ type: "LEAVE", session: a1, ref: "l" });
      await flush();
      assert.equal(a1.frames.length, 1);
      assertErrorFrame(a1.frames[0], "not_member", "l");
      assert.deepEqual(h.stored.removeMember, []);
      assert.deepEqual(h.stored.removeJoinRequest, []);
    });
  }
});

// ---------------------------------------------------------------- say

Deno.test("SAY by a non-member: not_member, nothing committed", async () => {
  await withSalon({ policy: "open", members: [BOB] }, (h) => {
    const a1 = fakeSession("a1", ALICE);
    const b1 = fakeSession("b1", BOB);
    h.up(a1);
    h.up(b1);
    h.send({ type: "SAY", session: a1, ref: "s", text: "hello?" });
    assert.equal(a1.frames.length, 1);
    assertErrorFrame(a1.frames[0], "not_member", "s");
    assert.equal(h.commits.length, 0);
    assert.deepEqual(b1.frames, []);
  });
});

Deno.test("SAY by a member: commit, ok to the sender first, one identical message to every online member session", async () => {
  await withSalon({ policy: "open", members: [ALICE, BOB, CAROL] }, (h) => {
    const a1 = fakeSession("a1", ALICE, h.order);
    const a2 = fakeSession("a2", ALICE, h.order);
    const b1 = fakeSession("b1", BOB, h.order);
    const b2 = fakeSession("b2", BOB, h.order);
    const d1 = fakeSession("d1", DAVE, h.order);
    for (const s of [a1, a2, b1, b2, d1]) h.up(s);
    h.down(b2);
    // Carol: offline member. Dave: online non-member. b2: closed.

    h.commitMode = "manual";
    h.send({ type: "SAY", session: a1, ref: "s1", text: "bonjour à tous\n😀" });
    assert.equal(h.commits.length, 1);
    assert.deepEqual(h.commits[0].message, {
      salonId: 7,
      userId: ALICE.id,
      text: "bonjour à tous\n😀",
      at: T0,
    });
    assert.deepEqual(h.order, [], "nothing is sent before the commit");

    h.commits[0].done(undefined, 41);
    assert.deepEqual(a1.frames[0], { type: "ok", ref: "s1", id: 41, at: ISO0 });
    assert.equal(h.order[0], "a1:ok", "ok reaches the sender before any message");
    const expected = {
      type: "message",
      salon: "Blabla",
      id: 41,
      from: { username: "alice", alias: "Alice" },
      text: "bonjour à tous\n😀",
      at: ISO0,
    };
    const receivers = [a1, a2, b1];
    const texts = receivers.map((s) => s.raw.filter((r) => JSON.parse(r).type === "message"));
    for (const t of texts) assert.equal(t.length, 1);
    assert.deepEqual(JSON.parse(texts[0][0]), expected);
    for (const t of texts) assert.equal(t[0], texts[0][0], "the same string for every session");
    assert.deepEqual(a1.frames.map((f) => f.type), ["ok", "message"]);
    assert.deepEqual(a2.frames.map((f) => f.type), ["message"], "no ok on the other session");
    assert.deepEqual(b2.frames, [], "a closed session gets nothing");
    assert.deepEqual(d1.frames, [], "a non-member gets nothing");
  });
});

Deno.test("SAY: ids come from the commit, in commit order, one ok per message", async () => {
  await withSalon({ policy: "open", members: [ALICE, BOB] }, (h) => {
    const a1 = fakeSession("a1", ALICE);
    const b1 = fakeSession("b1", BOB);
    h.up(a1);
    h.up(b1);
    h.send({ type: "SAY", session: a1, ref: "1", text: "one" });
    h.send({ type: "SAY", session: b1, ref: "2", text: "two" });
    h.send({ type: "SAY", session: a1, text: "three" });
    assert.deepEqual(a1.frames.filter((f) => f.type === "ok"), [
      { type: "ok", ref: "1", id: 1, at: ISO0 },
      { type: "ok", id: 3, at: ISO0 },
    ]);
    assert.deepEqual(b1.frames.filter((f) => f.type === "ok"), [
      { type: "ok", ref: "2", id: 2, at: ISO0 },
    ]);
    for (const s of [a1, b1]) {
      const messages = s.frames.filter((f) => f.type === "message");
      assert.deepEqual(messages.map((m) => [m.id, m.text]), [[1, "one"], [2, "two"], [3, "three"]]);
    }
  });
});

Deno.test("a failed commit: error internal to the sender, no message delivered", async () => {
  await withSalon({ policy: "open", members: [ALICE, BOB] }, (h) => {
    const a1 = fakeSession("a1", ALICE);
    const a2 = fakeSession("a2", ALICE);
    const b1 = fakeSession("b1", BOB);
    for (const s of [a1, a2, b1]) h.up(s);
    h.commitMode = "manual";
    h.send({ type: "SAY", session: a1, ref: "s", text: "lost" });
    h.commits[0].done(new Error("SQLITE_FULL"), 0);
    assert.equal(a1.frames.length, 1);
    assertErrorFrame(a1.frames[0], "internal", "s");
    assert.ok(!a1.frames[0].message!.includes("SQLITE_FULL"), "no internals to the client");
    assert.deepEqual(a2.frames, []);
    assert.deepEqual(b1.frames, []);
    assert.equal(h.errors.length, 1);
    assert.match(h.errors[0], /SQLITE_FULL/);
  });
});

// ---------------------------------------------------------------- who, history

Deno.test("WHO: every member with online or offline, following sessions", async () => {
  await withSalon({ policy: "open", members: [ALICE, BOB, CAROL] }, (h) => {
    const a1 = fakeSession("a1", ALICE);
    const b1 = fakeSession("b1", BOB);
    const b2 = fakeSession("b2", BOB);
    for (const s of [a1, b1, b2]) h.up(s);
    const status = (frame: Sent) =>
      Object.fromEntries(
        (frame.users as Array<{ username: string; alias: string; status: string }>).map((
          u,
        ) => [u.username, u.status]),
      );
    const first = who(h, a1);
    assert.equal(first.type, "who");
    assert.equal(first.salon, "Blabla");
    assert.equal(first.ref, "w");
    assert.deepEqual(first.users, [
      { username: "alice", alias: "Alice", status: "online" },
      { username: "bob", alias: "Bob", status: "online" },
      { username: "carol", alias: "Carol", status: "offline" },
    ]);
    h.down(b1);
    assert.equal(status(who(h, a1)).bob, "online", "bob still has a session");
    h.down(b2);
    assert.equal(status(who(h, a1)).bob, "offline");
    // A non-member asking: not_member.
    const d1 = fakeSession("d1", DAVE);
    h.up(d1);
    assertErrorFrame(who(h, d1), "not_member", "w");
    assert.equal(status(who(h, a1)).dave, undefined, "an online non-member is not listed");
  });
});

Deno.test("HISTORY: not_member for a non-member; the store's page for a member", async () => {
  await withSalon({ policy: "open", members: [ALICE] }, async (h) => {
    const a1 = fakeSession("a1", ALICE);
    const b1 = fakeSession("b1", BOB);
    h.up(a1);
    h.up(b1);
    h.send({ type: "HISTORY", session: b1, ref: "h", query: { limit: 50 } });
    await flush();
    assert.equal(b1.frames.length, 1);
    assertErrorFrame(b1.frames[0], "not_member", "h");
    assert.deepEqual(h.historyCalls, [], "a non-member's request does not reach the store");

    h.historyPage = {
      messages: [
        { id: 4, from: { username: "alice", alias: "Alice" }, text: "old", at: T0 - 1000 },
        { id: 5, from: { username: "bob", alias: "Bob" }, text: "new", at: T0 },
      ],
      more: true,
    };
    h.send({ type: "HISTORY", session: a1, ref: "h2", query: { before: 6, limit: 2 } });
    await flush();
    assert.deepEqual(h.historyCalls, [[7, { before: 6, limit: 2 }]]);
    assert.deepEqual(a1.frames, [{
      type: "history",
      salon: "Blabla",
      messages: [
        {
          salon: "Blabla",
          id: 4,
          from: { username: "alice", alias: "Alice" },
          text: "old",
          at: "2026-11-24T09:59:59.000Z",
        },
        { salon: "Blabla", id: 5, from: { username: "bob", alias: "Bob" }, text: "new", at: ISO0 },
      ],
      more: true,
      ref: "h2",
    }]);
  });
});

Deno.test("SESSION_UP of a non-member does not make them receive messages", async () => {
  await withSalon({ policy: "open", members: [ALICE] }, (h) => {
    const a1 = fakeSession("a1", ALICE);
    const b1 = fakeSession("b1", BOB);
    h.up(a1);
    h.up(b1);
    assert.equal(h.context().online.has(BOB.id), false);
    h.send({ type: "SAY", session: a1, text: "members only" });
    assert.deepEqual(b1.frames, []);
  });
});

Deno.test("a LEAVE the store refuses: error internal, still a member", async () => {
  await withSalon({ policy: "open", members: [ALICE, BOB] }, async (h) => {
    const a1 = fakeSession("a1", ALICE);
    h.up(a1);
    const g = gate();
    h.nextStore = g;
    h.send({ type: "LEAVE", session: a1, ref: "l" });
    g.fail(new Error("database is locked"));
    await flush();
    assert.equal(a1.frames.length, 1);
    assertErrorFrame(a1.frames[0], "internal", "l");
    assert.equal(h.context().members.has(ALICE.id), true);
    // Removed at once, then restored when the store refused.
    assert.deepEqual(h.membershipChanges, [[ALICE.id, "blabla", false], [
      ALICE.id,
      "blabla",
      true,
    ]]);
    // Still receives the salon's messages.
    h.send({ type: "SAY", session: a1, ref: "s", text: "still here" });
    assert.equal(a1.frames.at(-1)!.type, "message");
  });
});

Deno.test("HISTORY the store cannot read: error internal with the ref", async () => {
  await withSalon({ policy: "open", members: [ALICE] }, async (h) => {
    const a1 = fakeSession("a1", ALICE);
    h.up(a1);
    h.historyError = new Error("SQLITE_CORRUPT");
    h.send({ type: "HISTORY", session: a1, ref: "h", query: { limit: 50 } });
    await flush();
    assert.equal(a1.frames.length, 1);
    assertErrorFrame(a1.frames[0], "internal", "h");
    assert.ok(!a1.frames[0].message!.includes("SQLITE_CORRUPT"), "no internals to the client");
    assert.equal(h.errors.length, 1);
  });
});

// ---------------------------------------------------------------- abuse bounds (issue 9)

Deno.test("join request: one per user and salon per 10 minutes, however it ended", async () => {
  await withSalon({ policy: "approval", members: [BOB], pending: [CAROL] }, async (h) => {
    const a1 = fakeSession("a1", ALICE);
    const c1 = fakeSession("c1", CAROL);
    h.up(a1);
    h.up(c1);
    // Two joins in a row: the second, while the first is being stored, is join_pending too.
    const g = gate();
    h.nextStore = g;
    h.send({ type: "JOIN", session: a1, ref: "j1" });
    h.send({ type: "JOIN", session: a1, ref: "j2" });
    assert.deepEqual(a1.frames, [{ type: "join_pending", salon: "Comptabilité", ref: "j2" }]);
    g.open();
    await flush();
    assert.equal(h.stored.addJoinRequest.length, 1);
    assert.equal(h.moderatorFrames.length, 1);
    // A join/leave loop: every later join within 10 minutes is refused.
    for (let i = 0; i < 50; i++) {
      h.time += 2_000;
      h.send({ type: "LEAVE", session: a1, ref: `l${i}` });
      await flush();
      h.send({ type: "JOIN", session: a1, ref: `r${i}` });
      await flush();
      assertErrorFrame(a1.frames.at(-1), "rate_limited", `r${i}`);
    }
    assert.equal(h.stored.addJoinRequest.length, 1);
    assert.equal(h.moderatorFrames.length, 1, "moderators heard of the request once");
    // A request loaded from the store counts from its time (T0 - 1 min).
    h.send({ type: "LEAVE", session: c1, ref: "cl" });
    await flush();
    h.time = T0 + 9 * 60_000 - 1;
    h.send({ type: "JOIN", session: c1, ref: "cj" });
    assertErrorFrame(c1.frames.at(-1), "rate_limited", "cj");
    h.time = T0 + 9 * 60_000;
    h.send({ type: "JOIN", session: c1, ref: "cj2" });
    await flush();
    assert.deepEqual(c1.frames.at(-1), { type: "join_pending", salon: "Comptabilité", ref: "cj2" });
  });
});

Deno.test("join request the store refused: the user may ask again at once", async () => {
  await withSalon({ policy: "approval" }, async (h) => {
    const a1 = fakeSession("a1", ALICE);
    h.up(a1);
    const g = gate();
    h.nextStore = g;
    h.send({ type: "JOIN", session: a1, ref: "j1" });
    g.fail(new Error("disk full"));
    await flush();
    assertErrorFrame(a1.frames.at(-1), "internal", "j1");
    h.send({ type: "JOIN", session: a1, ref: "j2" });
    await flush();
    assert.deepEqual(a1.frames.at(-1), { type: "join_pending", salon: "Comptabilité", ref: "j2" });
    assert.equal(h.moderatorFrames.length, 1);
  });
});

Deno.test("member_joined: at most one per user per 30 s, however often they join", async () => {
  await withSalon({ policy: "open", members: [BOB] }, async (h) => {
    const a1 = fakeSession("a1", ALICE);
    const b1 = fakeSession("b1", BOB);
    h.up(a1);
    h.up(b1);
    const memberJoined = () => b1.frames.filter((f) => f.type === "member_joined").length;
    for (let i = 0; i < 100; i++) {
      h.send({ type: "JOIN", session: a1, ref: `j${i}` });
      await flush();
      assert.deepEqual(a1.frames.at(-1), { type: "joined", salon: "Blabla", ref: `j${i}` });
      h.send({ type: "LEAVE", session: a1, ref: `l${i}` });
      await flush();
      h.time += 100;
    }
    assert.equal(memberJoined(), 1, "one member_joined for 100 joins within 10 s");
    h.time = T0 + 30_000 - 1;
    h.send({ type: "JOIN", session: a1 });
    await flush();
    h.send({ type: "LEAVE", session: a1 });
    await flush();
    assert.equal(memberJoined(), 1);
    h.time = T0 + 30_000;
    h.send({ type: "JOIN", session: a1 });
    await flush();
    assert.equal(memberJoined(), 2, "a join 30 s after the last announcement is announced");
    // Another user is announced independently.
    const c1 = fakeSession("c1", CAROL);
    h.up(c1);
    h.send({ type: "JOIN", session: c1 });
    await flush();
    assert.equal(memberJoined(), 3);
  });
});
