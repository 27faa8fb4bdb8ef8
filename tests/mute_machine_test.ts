/**
 * The mute actor with xstate's SimulatedClock (PROTOCOL 5.4): active until
 * its absolute end exactly, lifted by LIFT; the MuteBook the connections
 * read; and the message bucket's refund used by slow mode.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createActor, SimulatedClock } from "xstate";
import { type MuteInput, muteMachine } from "../actors/mute.ts";
import { MuteBook } from "../actors/mute_book.ts";
import { TokenBuckets } from "../lib/token_bucket.ts";
import type { MuteRecord } from "../store/store.ts";

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
const MINUTE = 60_000;

function mute(id: number, until: number, salonId: number | null = null): MuteRecord {
  return { id, userId: 7, salonId, until, reason: "calm", createdAt: T0 };
}

function start(clock: SimulatedClock, record: MuteRecord) {
  const expired: number[] = [];
  const input: MuteInput = {
    mute: record,
    username: "bob",
    now: () => clock.now(),
    onExpired: () => expired.push(clock.now()),
  };
  const actor = createActor(muteMachine, { input, clock });
  actor.start();
  return { actor, expired };
}

Deno.test("mute actor: active 1 ms before its end, expired at its end exactly", () => {
  const clock = new SimulatedClock();
  clock.set(T0);
  const { actor, expired } = start(clock, mute(1, T0 + 10 * MINUTE));
  clock.increment(10 * MINUTE - 1);
  assert.equal(actor.getSnapshot().value, "active");
  assert.deepEqual(expired, []);
  clock.increment(1);
  assert.equal(actor.getSnapshot().value, "expired");
  assert.equal(actor.getSnapshot().status, "done");
  assert.deepEqual(actor.getSnapshot().output, {
    outcome: "expired",
    mute: mute(1, T0 + 10 * MINUTE),
  });
  assert.deepEqual(expired, [T0 + 10 * MINUTE]);
});

Deno.test("mute actor: re-spawned after a restart, it ends at the stored time, not later", () => {
  const clock = new SimulatedClock();
  clock.set(T0 + 7 * MINUTE); // the process started again 7 minutes into a 10-minute mute
  const { actor, expired } = start(clock, mute(2, T0 + 10 * MINUTE));
  clock.increment(3 * MINUTE - 1);
  assert.equal(actor.getSnapshot().value, "active");
  clock.increment(1);
  assert.deepEqual(expired, [T0 + 10 * MINUTE]);
  // One already over when spawned ends at once.
  const late = start(clock, mute(3, T0));
  clock.increment(0);
  assert.equal(late.actor.getSnapshot().value, "expired");
});

Deno.test("mute actor: LIFT ends it as lifted, and it never reports an expiry", () => {
  const clock = new SimulatedClock();
  clock.set(T0);
  const { actor, expired } = start(clock, mute(4, T0 + MINUTE));
  actor.send({ type: "LIFT" });
  assert.equal(actor.getSnapshot().value, "lifted");
  assert.equal(actor.getSnapshot().output?.outcome, "lifted");
  clock.increment(2 * MINUTE);
  assert.deepEqual(expired, []);
});

Deno.test("MuteBook: say in a salon sees the later of everywhere and that salon; direct only everywhere", () => {
  const book = new MuteBook();
  assert.equal(book.mutedUntil(7, "blabla", T0), undefined);
  book.set(7, "blabla", { id: 1, until: T0 + 2 * MINUTE, reason: "", salon: "Blabla" });
  assert.equal(book.mutedUntil(7, "blabla", T0), T0 + 2 * MINUTE);
  assert.equal(book.mutedUntil(7, "général", T0), undefined);
  assert.equal(book.mutedUntil(7, null, T0), undefined, "a salon's mute leaves directs alone");
  book.set(7, null, { id: 2, until: T0 + MINUTE, reason: "" });
  assert.equal(book.mutedUntil(7, "blabla", T0), T0 + 2 * MINUTE, "the later end");
  assert.equal(book.mutedUntil(7, "général", T0), T0 + MINUTE);
  assert.equal(book.mutedUntil(7, null, T0), T0 + MINUTE);
  assert.equal(book.mutedUntil(7, null, T0 + MINUTE), undefined, "over at its end exactly");
  assert.deepEqual(book.of(7, T0).map((m) => m.id), [2, 1]);
  // A replaced mute's id no longer removes anything.
  book.set(7, null, { id: 3, until: T0 + 5 * MINUTE, reason: "" });
  assert.equal(book.remove(7, 2), undefined);
  assert.equal(book.remove(7, 3)?.id, 3);
  assert.equal(book.remove(7, 1)?.salon, "Blabla");
  assert.equal(book.has(7), false);
  assert.equal(book.size, 0);
});

Deno.test("TokenBuckets.refund gives one token back, never above the burst", () => {
  const buckets = new TokenBuckets<number>({ burst: 2, perSecond: 0.001 });
  buckets.refund(1, T0); // nothing taken: nothing to give back
  assert.equal(buckets.available(1, T0), 2);
  assert.equal(buckets.take(1, T0), true);
  assert.equal(buckets.take(1, T0), true);
  assert.equal(buckets.take(1, T0), false);
  buckets.refund(1, T0);
  assert.equal(buckets.available(1, T0), 1);
  buckets.refund(1, T0);
  buckets.refund(1, T0);
  assert.equal(buckets.available(1, T0), 2);
  assert.equal(buckets.size, 0, "a full bucket is forgotten");
});
