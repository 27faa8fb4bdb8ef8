/**
 * The ordered delivery of one salon on one instance (runtime/salon_order.ts):
 * in id order, no gap, no duplicate, gaps filled from the store after a wait
 * (xstate's SimulatedClock), at once after a resubscribe, and when the
 * periodic check sees the store ahead.
 */

import assert from "node:assert/strict";
import { SimulatedClock } from "xstate";
import { type OrderedMessage, SalonOrder } from "../runtime/salon_order.ts";

/** A message with this id. */
function msg(id: number): OrderedMessage {
  return { id, at: id * 1000, from: { username: "ann", alias: "Ann" }, text: `m${id}` };
}

/** An order over a fake store holding ids 1..`stored` (`missing` left out), waiting 200 ms. */
function setup(next: number, stored: { upTo: number; missing?: number[]; page?: number }) {
  const clock = new SimulatedClock();
  const delivered: number[] = [];
  const reads: number[] = [];
  const errors: unknown[] = [];
  let failing = false;
  const release = { pending: [] as Array<() => void>, hold: false };
  const order = new SalonOrder(next, {
    deliver: (ms) => delivered.push(...ms.map((m) => m.id)),
    readAfter: async (after) => {
      reads.push(after);
      if (release.hold) await new Promise<void>((r) => release.pending.push(r));
      if (failing) throw new Error("database down");
      const page = stored.page ?? 100;
      const ids: number[] = [];
      for (let id = after + 1; id <= stored.upTo && ids.length < page; id++) {
        if (!stored.missing?.includes(id)) ids.push(id);
      }
      const last = ids.at(-1) ?? after;
      return { messages: ids.map(msg), more: last < stored.upTo };
    },
    clock,
    waitMs: 200,
    onError: (e) => errors.push(e),
  });
  return {
    order,
    clock,
    delivered,
    reads,
    errors,
    release,
    stored,
    fail: (on: boolean) => {
      failing = on;
    },
  };
}

/** Lets pending promise callbacks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

Deno.test("salon order: in order, duplicates dropped, no read from the store", () => {
  const t = setup(1, { upTo: 3 });
  t.order.offer([msg(1)]);
  t.order.offer([msg(2), msg(3)]);
  t.order.offer([msg(2), msg(1)]);
  assert.deepEqual(t.delivered, [1, 2, 3]);
  assert.equal(t.order.next, 4);
  t.clock.increment(1000);
  assert.deepEqual(t.reads, [], "no gap: the store is never read");
});

Deno.test("salon order: an early id waits; the missing one arriving in time releases both", () => {
  const t = setup(5, { upTo: 7 });
  t.order.offer([msg(7)]);
  t.order.offer([msg(6)]);
  assert.deepEqual(t.delivered, []);
  assert.equal(t.order.buffered, 2);
  t.clock.increment(150);
  t.order.offer([msg(5)]);
  assert.deepEqual(t.delivered, [5, 6, 7]);
  t.clock.increment(1000);
  assert.deepEqual(t.reads, [], "the gap closed before the wait ended");
});

Deno.test("salon order: a gap still open after the wait is filled from the store", async () => {
  const t = setup(5, { upTo: 8 });
  t.order.offer([msg(8)]);
  t.clock.increment(199);
  await settle();
  assert.deepEqual(t.reads, [], "not before the wait");
  t.clock.increment(1);
  await settle();
  assert.deepEqual(t.reads, [4]);
  assert.deepEqual(t.delivered, [5, 6, 7, 8]);
  t.order.offer([msg(6), msg(8)]);
  assert.deepEqual(t.delivered, [5, 6, 7, 8], "late copies from the bus are dropped");
  assert.equal(t.order.buffered, 0);
});

Deno.test("salon order: the periodic check finds the last message nobody published", async () => {
  const t = setup(1, { upTo: 2 });
  t.order.offer([msg(1)]);
  t.order.latest(1);
  t.clock.increment(1000);
  await settle();
  assert.deepEqual(t.reads, [], "the store is not ahead");
  t.order.latest(2);
  t.clock.increment(200);
  await settle();
  assert.deepEqual(t.delivered, [1, 2]);
  t.order.latest(2);
  t.clock.increment(1000);
  await settle();
  assert.deepEqual(t.reads, [1], "caught up: no more reads");
});

Deno.test("salon order: the check's id arriving by the bus within the wait costs no read", async () => {
  const t = setup(3, { upTo: 3 });
  t.order.latest(3);
  t.clock.increment(100);
  t.order.offer([msg(3)]);
  t.clock.increment(1000);
  await settle();
  assert.deepEqual(t.delivered, [3]);
  assert.deepEqual(t.reads, []);
});

Deno.test("salon order: catchUp reads at once, over several pages", async () => {
  const t = setup(1, { upTo: 5, page: 2 });
  t.order.catchUp();
  await settle();
  assert.deepEqual(t.reads, [0, 2, 4]);
  assert.deepEqual(t.delivered, [1, 2, 3, 4, 5]);
});

Deno.test("salon order: ids the store lacks (purged) and deleted ones are skipped", async () => {
  const t = setup(1, { upTo: 6, missing: [2, 3] });
  t.order.offer([msg(6)]);
  t.order.offer([{ ...msg(1), deleted: true }]);
  t.clock.increment(200);
  await settle();
  assert.deepEqual(t.delivered, [4, 5, 6]);
  assert.equal(t.order.next, 7);
  t.order.latest(9); // seen by a check, gone by the read: no read loop
  t.stored.upTo = 6;
  t.clock.increment(200);
  await settle();
  t.clock.increment(2000);
  await settle();
  assert.deepEqual(t.reads, [1, 6], "one read for the purged tail, then none");
});

Deno.test("salon order: a message arriving during a read is delivered once, in order", async () => {
  const t = setup(1, { upTo: 3 });
  t.release.hold = true;
  t.order.offer([msg(3)]);
  t.clock.increment(200);
  await settle();
  assert.deepEqual(t.reads, [0]);
  t.order.offer([msg(1)]);
  assert.deepEqual(t.delivered, [1], "the bus's copy goes out at once");
  t.release.pending.shift()!();
  await settle();
  assert.deepEqual(t.delivered, [1, 2, 3]);
});

Deno.test("salon order: a failed read is reported and tried again after another wait", async () => {
  const t = setup(1, { upTo: 2 });
  t.fail(true);
  t.order.offer([msg(2)]);
  t.clock.increment(200);
  await settle();
  assert.equal(t.errors.length, 1);
  assert.deepEqual(t.delivered, []);
  t.fail(false);
  t.clock.increment(200);
  await settle();
  assert.deepEqual(t.delivered, [1, 2]);
});

Deno.test("salon order: stopped, it delivers nothing and arms no timer", async () => {
  const t = setup(1, { upTo: 2 });
  t.order.offer([msg(2)]);
  t.order.stop();
  t.order.offer([msg(1)]);
  t.clock.increment(1000);
  await settle();
  assert.deepEqual(t.delivered, []);
  assert.deepEqual(t.reads, []);
});
