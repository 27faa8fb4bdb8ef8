/**
 * Presence across instances in the machines (issue 15), with the real server
 * and salon actors and xstate's SimulatedClock: PRESENCE_ELSEWHERE (a user
 * online on another instance, or no longer on any other) follows one
 * process's rule over every instance: `online` at the first session
 * anywhere, `offline` at the last one anywhere; the salons count such a
 * user online (`who`, `salon_stats`), and `watch` answers their status.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AnyActorRef } from "xstate";
import { salonSystemId } from "../actors/server.ts";
import { nameKey } from "../protocol/names.ts";
import {
  advance,
  ALICE,
  BOB,
  CAROL,
  flush,
  presences,
  type Recorder,
  withWorld,
  type World,
} from "./server_world.ts";

/** Every presence change a session was sent, as `name:status`. */
function heard(r: Recorder): string[] {
  return presences(r).filter((f) => f.ref === undefined)
    .flatMap((f) => f.changes!.map((c) => `${c.username}:${c.status}`));
}

function general(w: World): AnyActorRef {
  return w.server.system.get(salonSystemId(nameKey("Général"))) as AnyActorRef;
}

function elsewhere(w: World, userId: number, username: string, online: boolean): void {
  w.server.send({ type: "PRESENCE_ELSEWHERE", userId, username, online });
}

Deno.test("presence elsewhere: online at the first session anywhere, offline at the last", async () => {
  await withWorld({ users: [ALICE, BOB, CAROL], elsewhere: true }, (w) => {
    const a = w.session("a", ALICE);
    w.up(a);
    advance(w, 1000);
    elsewhere(w, BOB.id, "bob", true);
    advance(w, 1000);
    assert.deepEqual(
      heard(a),
      ["alice:online", "bob:online"],
      "bob came online on another instance",
    );
    // Bob's session here too, then it ends: he is still online elsewhere, nothing is said.
    const b = w.session("b", BOB);
    w.up(b);
    advance(w, 1000);
    w.down(b);
    advance(w, 1000);
    assert.deepEqual(heard(a), ["alice:online", "bob:online"]);
    // A repeated flag changes nothing.
    elsewhere(w, BOB.id, "bob", true);
    advance(w, 1000);
    assert.deepEqual(heard(a), ["alice:online", "bob:online"]);
    // His last session anywhere ends.
    elsewhere(w, BOB.id, "bob", false);
    advance(w, 1000);
    assert.deepEqual(heard(a), ["alice:online", "bob:online", "bob:offline"]);
  });
});

Deno.test("presence elsewhere: a user with a session here goes offline only when it ends", async () => {
  await withWorld({ users: [ALICE, BOB], elsewhere: true }, (w) => {
    const a = w.session("a", ALICE);
    const b = w.session("b", BOB);
    w.up(a);
    w.up(b);
    advance(w, 1000);
    elsewhere(w, BOB.id, "bob", true);
    elsewhere(w, BOB.id, "bob", false);
    advance(w, 1000);
    assert.deepEqual(heard(a), ["alice:online", "bob:online"], "bob never left");
    elsewhere(w, BOB.id, "bob", true);
    w.down(b);
    advance(w, 1000);
    assert.deepEqual(heard(a), ["alice:online", "bob:online"], "still online elsewhere");
    elsewhere(w, BOB.id, "bob", false);
    advance(w, 1000);
    assert.deepEqual(heard(a), ["alice:online", "bob:online", "bob:offline"]);
  });
});

Deno.test("presence elsewhere: who, salon_stats and watch count a user online elsewhere", async () => {
  await withWorld({ users: [ALICE, BOB, CAROL], elsewhere: true }, async (w) => {
    const a = w.session("a", ALICE);
    w.up(a);
    advance(w, 11_000);
    elsewhere(w, BOB.id, "bob", true);
    advance(w, 11_000);
    general(w).send({ type: "WHO", session: a, ref: "w1", status: "online" });
    await flush();
    const who = a.frames.find((f) => f.ref === "w1")!;
    assert.deepEqual((who.users as Array<{ username: string }>).map((u) => u.username), [
      "alice",
      "bob",
    ]);
    assert.equal(who.online, 2);
    const stats = a.frames.filter((f) => f.type === "salon_stats" && f.salon === "Général");
    assert.equal(stats.at(-1)?.online, 2, "salon_stats counts bob");
    w.server.send({ type: "WATCH", session: a, ref: "w2", users: ["bob", "carol"] });
    const watched = a.frames.find((f) => f.ref === "w2")!;
    assert.deepEqual(watched.changes, [
      { username: "bob", status: "online" },
      { username: "carol", status: "offline" },
    ]);
    // Offline elsewhere: out of the salon's online members.
    elsewhere(w, BOB.id, "bob", false);
    advance(w, 11_000);
    general(w).send({ type: "WHO", session: a, ref: "w3", status: "online" });
    await flush();
    assert.equal(a.frames.find((f) => f.ref === "w3")!.online, 1);
    assert.equal(
      a.frames.filter((f) => f.type === "salon_stats" && f.salon === "Général").at(-1)?.online,
      1,
    );
  });
});
