/**
 * Presence at scale and typing in the machines (PROTOCOL 5.1, 5.3), with the
 * real server and salon actors and xstate's SimulatedClock: a small salon
 * pushes as in v1; a user who shares only a large salon with you is pushed
 * only when watched; salons crossing the threshold both ways; `salon_stats`
 * at most every 10 s; `typing` relayed at most every 3 s, dropped in large
 * salons.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AnyActorRef } from "xstate";
import type { SalonEvent } from "../actors/salon.ts";
import { salonSystemId } from "../actors/server.ts";
import type { Session } from "../actors/session.ts";
import { nameKey } from "../protocol/names.ts";
import {
  advance,
  ALICE,
  BOB,
  CAROL,
  DAVE,
  flush,
  presences,
  type Recorder,
  type Sent,
  user,
  withWorld,
  type World,
} from "./server_world.ts";

function salon(w: World, name: string): AnyActorRef {
  return w.server.system.get(salonSystemId(nameKey(name))) as AnyActorRef;
}

function toSalon(w: World, name: string, event: SalonEvent): void {
  salon(w, name).send(event);
}

/** Usernames of every presence change a session was sent, as `name:status`. */
function heard(r: Recorder): string[] {
  return presences(r).flatMap((f) => f.changes!.map((c) => `${c.username}:${c.status}`));
}

function ofType(r: Recorder, type: string): Sent[] {
  return r.frames.filter((f) => f.type === type);
}

function isLargeNow(w: World, name: string): boolean {
  return (salon(w, name).getSnapshot().context as { large: boolean }).large;
}

const ERIN = user(5, "erin");

Deno.test("a small salon pushes presence as in v1; a large one shared alone does not", async () => {
  // presenceMax 3: Général (5 members) is large; Petit (alice, bob) is small.
  await withWorld({
    users: [ALICE, BOB, CAROL, DAVE, ERIN],
    presenceMax: 3,
    more: [{ name: "Petit", policy: "open", members: [ALICE, BOB] }],
  }, (w) => {
    assert.equal(isLargeNow(w, "Général"), true);
    assert.equal(isLargeNow(w, "Petit"), false);
    const [a, b, c, d] = [ALICE, BOB, CAROL, DAVE].map((u) => w.session(u.username, u));
    for (const s of [a, b, c, d]) w.up(s);
    advance(w, 1000);
    assert.deepEqual(heard(a), ["alice:online", "bob:online"], "alice hears Petit's members only");
    assert.deepEqual(heard(b), ["bob:online"], "bob came after alice's window went out");
    assert.deepEqual(heard(c), [], "carol shares only the large Général with everyone");
    assert.deepEqual(heard(d), []);
    w.down(c);
    w.down(b);
    advance(w, 1000);
    assert.deepEqual(heard(a), ["alice:online", "bob:online", "bob:offline"]);
    assert.deepEqual(heard(d), [], "dave is never told of carol");
  });
});

Deno.test("watch: the reply gives the current status of new names; watched users are pushed", async () => {
  await withWorld({ users: [ALICE, BOB, CAROL, DAVE], presenceMax: 3 }, (w) => {
    const [a, b, c] = [ALICE, BOB, CAROL].map((u) => w.session(u.username, u));
    for (const s of [a, b, c]) w.up(s);
    advance(w, 1000);
    assert.deepEqual(heard(a), [], "Général is large: nothing pushed");
    w.server.send({ type: "WATCH", session: a, ref: "w1", users: ["BOB", "dave", "nobody"] });
    assert.deepEqual(a.frames.at(-1), {
      type: "presence",
      ref: "w1",
      changes: [{ username: "bob", status: "online" }, { username: "dave", status: "offline" }],
    });
    const d = w.session("dave", DAVE);
    w.up(d);
    w.down(b);
    w.down(c);
    advance(w, 1000);
    assert.deepEqual(heard(a).slice(-2), ["dave:online", "bob:offline"], "not carol: unwatched");
    // A new list replaces the old one; only the new name is answered.
    w.server.send({ type: "WATCH", session: a, ref: "w2", users: ["dave", "carol"] });
    assert.deepEqual(a.frames.at(-1)!.changes, [{ username: "carol", status: "offline" }]);
    w.up(w.session("bob2", BOB));
    w.up(w.session("carol2", CAROL));
    advance(w, 1000);
    assert.deepEqual(heard(a).slice(-1), ["carol:online"], "bob is off the list");
    // An empty list stops watching.
    w.server.send({ type: "WATCH", session: a, ref: "w3", users: [] });
    assert.deepEqual(a.frames.at(-1), { type: "presence", ref: "w3", changes: [] });
    const before = heard(a).length;
    w.down(d);
    advance(w, 1000);
    assert.equal(heard(a).length, before);
    // The list ends with the session.
    w.server.send({ type: "WATCH", session: a, ref: "w4", users: ["dave"] });
    w.down(a);
    assert.equal(w.server.getSnapshot().context.presence.watchedUsers, 0);
  });
});

Deno.test("a salon crossing the threshold: large past the maximum, small again at 90% of it", async () => {
  // presenceMax 10: large with 11 members, small again at 9. Général (12 users) stays large.
  const crowd = Array.from({ length: 12 }, (_, i) => user(10 + i, `user${i}`));
  await withWorld({ users: crowd, presenceMax: 10, blabla: crowd.slice(0, 10) }, async (w) => {
    assert.equal(isLargeNow(w, "Blabla"), false, "10 members: small");
    const [s0, s1] = [crowd[0], crowd[1]].map((u) => w.session(u.username, u));
    w.up(s0);
    advance(w, 1000);
    const pushedToS0 = (s: Session) => {
      const n = heard(s0).length;
      w.up(s);
      advance(w, 1000);
      w.down(s);
      advance(w, 1000);
      return heard(s0).length > n;
    };
    assert.equal(pushedToS0(s1), true, "small: user1's presence reaches user0");

    const join = (u: typeof crowd[number]) => {
      const s = w.session(`${u.username}-j`, u);
      toSalon(w, "Blabla", { type: "JOIN", session: s });
    };
    const leave = (u: typeof crowd[number]) => {
      const s = w.session(`${u.username}-l`, u);
      toSalon(w, "Blabla", { type: "LEAVE", session: s });
    };
    join(crowd[10]);
    await flush();
    assert.equal(isLargeNow(w, "Blabla"), true, "11 members: large");
    assert.equal(pushedToS0(w.session("s1b", crowd[1])), false, "large: not pushed");
    leave(crowd[10]);
    await flush();
    assert.equal(isLargeNow(w, "Blabla"), true, "10 members: still large (hysteresis)");
    assert.equal(pushedToS0(w.session("s1c", crowd[1])), false);
    leave(crowd[9]);
    await flush();
    assert.equal(isLargeNow(w, "Blabla"), false, "9 members (90%): small again");
    assert.equal(pushedToS0(w.session("s1d", crowd[1])), true, "pushed again");
    join(crowd[9]);
    await flush();
    assert.equal(isLargeNow(w, "Blabla"), false, "10 members: stays small");
  });
});

Deno.test("salon_stats: at once after a quiet period, then at most once every 10 s, latest counts", async () => {
  await withWorld({ users: [ALICE, BOB, CAROL, DAVE], blabla: [ALICE, BOB, CAROL] }, (w) => {
    const a = w.session("a", ALICE);
    w.up(a);
    const blabla = () => ofType(a, "salon_stats").filter((f) => f.salon === "Blabla");
    assert.deepEqual(blabla(), [{
      type: "salon_stats",
      salon: "Blabla",
      online: 1,
      members: 3,
      presence: "push",
    }], "the first change goes out at once");
    advance(w, 1000);
    w.up(w.session("b", BOB));
    advance(w, 1000);
    w.up(w.session("c", CAROL));
    toSalon(w, "Blabla", { type: "JOIN", session: w.session("d", DAVE) });
    advance(w, 7999); // t = 9999
    assert.equal(blabla().length, 1, "held for 10 s");
    advance(w, 1);
    assert.deepEqual(blabla().at(-1), {
      type: "salon_stats",
      salon: "Blabla",
      online: 3,
      members: 4,
      presence: "push",
    });
    // Nothing changed since: nothing more.
    advance(w, 30_000);
    assert.equal(blabla().length, 2);
    // A second session of an online user changes no count: nothing.
    const c2 = w.session("c2", CAROL);
    w.up(c2);
    advance(w, 10_000);
    assert.equal(blabla().length, 2);
  });
});

Deno.test("typing in a salon: other members, one per 3 s per user; dropped in a large salon; members only", async () => {
  await withWorld({
    users: [ALICE, BOB, CAROL, DAVE],
    blabla: [ALICE, BOB, CAROL],
    presenceMax: 3,
  }, (w) => {
    const [a, b, c, d] = [ALICE, BOB, CAROL, DAVE].map((u) => w.session(u.username, u));
    for (const s of [a, b, c, d]) w.up(s);
    const typing = (r: Recorder) => ofType(r, "typing");
    toSalon(w, "Blabla", { type: "TYPING", session: a, ref: "t1" });
    const expected = {
      type: "typing",
      salon: "Blabla",
      user: { username: "alice", alias: "Alice" },
    };
    assert.deepEqual(typing(b), [expected]);
    assert.deepEqual(typing(c), [expected]);
    assert.deepEqual(typing(a), [], "not to the sender; and no reply");
    assert.equal(a.frames.some((f) => f.ref === "t1"), false);
    assert.deepEqual(typing(d), [], "not a member");
    for (let i = 0; i < 10; i++) {
      advance(w, 250);
      toSalon(w, "Blabla", { type: "TYPING", session: a });
    }
    assert.equal(typing(b).length, 1, "dropped within 3 s");
    advance(w, 500); // t = 3000 since the first
    toSalon(w, "Blabla", { type: "TYPING", session: a });
    assert.equal(typing(b).length, 2, "relayed again after 3 s");
    toSalon(w, "Blabla", { type: "TYPING", session: b });
    assert.equal(typing(a).length, 1, "the throttle is per user");
    // Not a member: error not_member with the ref.
    toSalon(w, "Blabla", { type: "TYPING", session: d, ref: "t2" });
    assert.deepEqual(
      { ...d.frames.at(-1), message: undefined },
      { type: "error", ref: "t2", code: "not_member", message: undefined },
    );
    // Général (4 members, max 3) is large: dropped silently.
    advance(w, 5000);
    const before = [b, c, d].map((s) => typing(s).length);
    toSalon(w, "Général", { type: "TYPING", session: a, ref: "t3" });
    assert.deepEqual([b, c, d].map((s) => typing(s).length), before);
    assert.equal(a.frames.some((f) => f.ref === "t3"), false);
  });
});

Deno.test("typing in a direct conversation: the other side, one per 3 s per pair; unknown user; oneself", async () => {
  await withWorld({ users: [ALICE, BOB, CAROL] }, (w) => {
    const [a, b1, b2, c] = [
      w.session("a", ALICE),
      w.session("b1", BOB),
      w.session("b2", BOB),
      w.session("c", CAROL),
    ];
    for (const s of [a, b1, b2, c]) w.up(s);
    const typing = (r: Recorder) => ofType(r, "typing");
    w.server.send({ type: "TYPING_TO", session: a, to: "Bob" });
    const expected = { type: "typing", with: "alice", user: { username: "alice", alias: "Alice" } };
    assert.deepEqual(typing(b1), [expected]);
    assert.deepEqual(typing(b2), [expected], "every session of the other side");
    assert.deepEqual(typing(a), []);
    assert.deepEqual(typing(c), []);
    advance(w, 2999);
    w.server.send({ type: "TYPING_TO", session: a, to: "bob" });
    assert.equal(typing(b1).length, 1, "dropped within 3 s");
    w.server.send({ type: "TYPING_TO", session: a, to: "carol" });
    assert.equal(typing(c).length, 1, "another conversation has its own 3 s");
    advance(w, 1);
    w.server.send({ type: "TYPING_TO", session: a, to: "bob" });
    assert.equal(typing(b1).length, 2);
    w.server.send({ type: "TYPING_TO", session: a, to: "alice" });
    assert.deepEqual(typing(a), [], "typing to oneself is dropped");
    w.server.send({ type: "TYPING_TO", session: a, ref: "u", to: "nobody" });
    assert.deepEqual(
      { ...a.frames.at(-1), message: undefined },
      { type: "error", ref: "u", code: "unknown_user", message: undefined },
    );
  });
});
