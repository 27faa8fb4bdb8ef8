/**
 * The ordered delivery of one user's direct conversation on one instance
 * (runtime/direct_order.ts): each message carries the id before it in its
 * conversation; in increasing ids, no gap, no duplicate, a message whose
 * predecessor is missing waits, then the conversation is read from the store
 * (xstate's SimulatedClock), at once after a resubscribe, and when the
 * periodic check sees the store ahead.
 */

import assert from "node:assert/strict";
import { SimulatedClock } from "xstate";
import { type ChainedMessage, DirectOrder } from "../runtime/direct_order.ts";

/** The conversation's committed ids in the fake store (not consecutive: others' ids between). */
const STORED = [3, 8, 9, 15, 21, 30];

/** The message `id` as published (with its predecessor in {@link STORED}). */
function msg(id: number): ChainedMessage {
  const i = STORED.indexOf(id);
  return { id, prev: i > 0 ? STORED[i - 1] : 0 };
}

/** An order from `last` over a fake store holding `stored` (`upTo` the newest visible). */
function setup(last: number, opts: { upTo?: number; deleted?: number[]; page?: number } = {}) {
  const clock = new SimulatedClock();
  const delivered: number[] = [];
  const reads: number[] = [];
  const errors: unknown[] = [];
  let failing = false;
  let upTo = opts.upTo ?? 30;
  const order = new DirectOrder<ChainedMessage>(last, {
    deliver: (ms) => delivered.push(...ms.map((m) => m.id)),
    readAfter: (after) => {
      reads.push(after);
      if (failing) return Promise.reject(new Error("database down"));
      const ids = STORED.filter((id) => id > after && id <= upTo);
      const page = ids.slice(0, opts.page ?? 100);
      return Promise.resolve({
        messages: page.map((id) =>
          opts.deleted?.includes(id) ? { id, deleted: true as const } : { id }
        ),
        more: page.length < ids.length,
      });
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
    fail: (on: boolean) => {
      failing = on;
    },
    commit: (id: number) => {
      upTo = id;
    },
  };
}

/** Lets pending promise callbacks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

Deno.test("direct order: chained messages go at once; duplicates dropped; no read", () => {
  const t = setup(3);
  t.order.offer([msg(8)]);
  t.order.offer([msg(9), msg(15)]);
  t.order.offer([msg(8), msg(3), msg(9)]);
  assert.deepEqual(t.delivered, [8, 9, 15]);
  assert.equal(t.order.last, 15);
  t.clock.increment(1000);
  assert.deepEqual(t.reads, [], "no gap: the store is never read");
});

Deno.test("direct order: a baseline above prev (another conversation's id) delivers at once", () => {
  // The user's baseline is the newest id of all their conversations, here 12: 15 follows 9.
  const t = setup(12);
  t.order.offer([msg(15)]);
  assert.deepEqual(t.delivered, [15]);
  t.order.offer([msg(9)]);
  assert.deepEqual(t.delivered, [15], "9 is before the baseline: history, not live");
});

Deno.test("direct order: a message waits for its predecessor; it arriving in time releases both", () => {
  const t = setup(3);
  t.order.offer([msg(9)]);
  t.order.offer([msg(15)]);
  assert.deepEqual(t.delivered, []);
  assert.equal(t.order.buffered, 2);
  t.clock.increment(150);
  t.order.offer([msg(8)]);
  assert.deepEqual(t.delivered, [8, 9, 15]);
  t.clock.increment(1000);
  assert.deepEqual(t.reads, [], "filled in time: no read");
});

Deno.test("direct order: a predecessor lost by the bus is read from the store after the wait", async () => {
  const t = setup(3, { upTo: 15 });
  t.order.offer([msg(15)]);
  t.clock.increment(199);
  assert.deepEqual(t.reads, []);
  t.clock.increment(1);
  await settle();
  assert.deepEqual(t.reads, [3]);
  assert.deepEqual(t.delivered, [8, 9, 15]);
  assert.equal(t.order.buffered, 0);
  t.order.offer([msg(9), msg(15)]);
  assert.deepEqual(t.delivered, [8, 9, 15], "late copies are duplicates");
});

Deno.test("direct order: deleted messages are skipped; pages are read to the end", async () => {
  const t = setup(0, { upTo: 30, deleted: [9], page: 2 });
  t.order.offer([msg(30)]);
  t.clock.increment(200);
  await settle();
  assert.deepEqual(t.delivered, [3, 8, 15, 21, 30]);
  assert.deepEqual(t.reads, [0, 8, 15]);
});

Deno.test("direct order: the check finding the store ahead reads after a wait", async () => {
  const t = setup(9, { upTo: 21 });
  t.order.latest(9);
  t.clock.increment(1000);
  assert.deepEqual(t.reads, [], "not ahead: nothing read");
  t.order.latest(21);
  t.clock.increment(200);
  await settle();
  assert.deepEqual(t.delivered, [15, 21]);
  // A newest id the store no longer has (purged) is no message: no endless reading.
  t.order.latest(25);
  t.clock.increment(200);
  await settle();
  t.clock.increment(1000);
  await settle();
  assert.deepEqual(t.reads, [9, 21]);
});

Deno.test("direct order: catchUp reads at once; a failed read is tried again after a wait", async () => {
  const t = setup(3, { upTo: 9 });
  t.fail(true);
  t.order.catchUp();
  await settle();
  assert.equal(t.errors.length, 1);
  assert.deepEqual(t.delivered, []);
  t.fail(false);
  t.clock.increment(200);
  await settle();
  assert.deepEqual(t.delivered, [8, 9]);
});

Deno.test("direct order: a message offered during a read still waits for its predecessor", async () => {
  const t = setup(3, { upTo: 8 });
  t.order.offer([msg(9)]); // 8 missing
  t.order.offer([msg(21)]); // 15 missing, not committed when the store is read
  t.clock.increment(200);
  await settle();
  assert.deepEqual(t.delivered, [8, 9]);
  assert.equal(t.order.buffered, 1, "21 waits for 15");
  t.commit(21);
  t.clock.increment(200);
  await settle();
  assert.deepEqual(t.delivered, [8, 9, 15, 21]);
});

Deno.test("direct order: stop cancels the wait and drops what is offered", async () => {
  const t = setup(3);
  t.order.offer([msg(9)]);
  t.order.stop();
  t.clock.increment(1000);
  await settle();
  t.order.offer([msg(8)]);
  assert.deepEqual(t.delivered, []);
  assert.deepEqual(t.reads, []);
});
