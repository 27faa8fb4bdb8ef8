/**
 * The salon machine's side of mentions (PROTOCOL.md 5.3), with fake deps:
 * found once at `SAY` among the members of that moment, handed to the commit
 * with their ids, and sent in the one serialized `message` frame.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createActor } from "xstate";
import { type SalonDeps, salonMachine } from "../actors/salon.ts";
import type { Session } from "../actors/session.ts";
import type { Mention, UserSummary } from "../store/store.ts";

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
const ALICE: UserSummary = { id: 1, username: "alice", alias: "Alice", role: "member" };
const BOB: UserSummary = { id: 2, username: "Bob", alias: "Bob", role: "member" };
const CAROL: UserSummary = { id: 3, username: "carol", alias: "Carol", role: "member" };
const DAVE: UserSummary = { id: 4, username: "dave", alias: "Dave", role: "member" };

interface Commit {
  message: { text: string; mentions?: Mention[] };
  done: (error: Error | undefined, id: number) => void;
}

/** A salon `Blabla` (open) with `members`, its commits held until `done` is called. */
function salon(members: UserSummary[]) {
  const commits: Commit[] = [];
  const live = new Map<number, Session[]>();
  const deps: SalonDeps = {
    now: () => T0,
    commit: (message, done) => commits.push({ message, done }),
    addMember: () => Promise.resolve(),
    removeMember: () => Promise.resolve(),
    addJoinRequest: () => Promise.resolve(),
    removeJoinRequest: () => Promise.resolve(),
    history: () => Promise.resolve({ messages: [], more: false }),
    sessionsOf: (userId) => live.get(userId) ?? [],
    membershipChanged: () => {},
    notifyModerators: () => {},
    reportError: (message) => assert.fail(message),
  };
  const actor = createActor(salonMachine, {
    input: {
      salon: { id: 7, name: "Blabla", key: "blabla", policy: "open" },
      members,
      pending: [],
      deps,
    },
  });
  actor.start();
  const session = (user: UserSummary): Session & { raw: string[] } => {
    const raw: string[] = [];
    const s = { id: `s${user.id}`, user, raw, send: (f: string) => raw.push(f), close() {} };
    live.set(user.id, [...(live.get(user.id) ?? []), s]);
    actor.send({ type: "SESSION_UP", session: s });
    return s;
  };
  return { actor, commits, session };
}

Deno.test("SAY: the members written as @name go to the commit with their ids, and in the one message frame", () => {
  const { actor, commits, session } = salon([ALICE, BOB, CAROL]);
  try {
    const a = session(ALICE);
    const b = session(BOB);
    actor.send({ type: "SAY", session: a, text: "@carol @BOB @dave @carol x@alice" });
    assert.deepEqual(commits[0].message.mentions, [
      { userId: CAROL.id, username: "carol" },
      { userId: BOB.id, username: "Bob" },
    ]);
    commits[0].done(undefined, 1);
    const frames = [a, b].map((s) => s.raw.filter((f) => JSON.parse(f).type === "message"));
    assert.equal(frames[0][0], frames[1][0], "serialized once, the same string for everyone");
    assert.deepEqual(JSON.parse(frames[0][0]).mentions, ["carol", "Bob"]);

    actor.send({ type: "SAY", session: a, text: "nobody here, @ or mail@bob" });
    assert.equal("mentions" in commits[1].message, false, JSON.stringify(commits[1].message));
    commits[1].done(undefined, 2);
    const last = a.raw.at(-1)!;
    assert.equal("mentions" in JSON.parse(last), false, last);
  } finally {
    actor.stop();
  }
});

Deno.test("SAY: mentions follow membership as it is when the message is said", () => {
  const { actor, commits, session } = salon([ALICE, BOB]);
  try {
    const a = session(ALICE);
    const b = session(BOB);
    actor.send({ type: "SAY", session: a, text: "@dave @bob" });
    actor.send({ type: "ADD_MEMBER", user: DAVE });
    actor.send({ type: "SAY", session: a, text: "@dave @bob" });
    actor.send({ type: "LEAVE", session: b });
    actor.send({ type: "SAY", session: a, text: "@dave @bob" });
    assert.deepEqual(commits.map((c) => c.message.mentions?.map((m) => m.username)), [
      ["Bob"],
      ["dave", "Bob"],
      ["dave"],
    ]);
  } finally {
    actor.stop();
  }
});
