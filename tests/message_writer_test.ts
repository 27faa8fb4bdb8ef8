/**
 * The group-commit writer (store/message_writer.ts) against a real in-memory
 * SQLite store: one transaction per tick, callbacks only after the commit,
 * errors to every caller of a failed batch, and a draining close().
 *
 * @module
 */

import assert from "node:assert/strict";
import { DEFAULT_SALONS, parseSalons } from "../config/salons.ts";
import { MessageWriter } from "../store/message_writer.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import type { NewMessage, SalonRecord, Store, UserRecord } from "../store/store.ts";

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
const HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g";

/** One turn of the event loop (the writer batches per tick). */
function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Waits, a tick at a time, until `done()` holds (at most 100 ticks). */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100 && !done(); i++) await tick();
  assert.ok(done(), `timed out waiting for ${what}`);
}

interface Gate {
  promise: Promise<void>;
  open(): void;
}

function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** The store seen through a wrapper that records (and can hold or fail) appendMessages. */
interface Counting {
  store: Store;
  /** Each appendMessages call's batch. */
  batches: NewMessage[][];
  /** When set, the next appendMessages waits for it. */
  hold: Gate | undefined;
  /** When set, appendMessages rejects with it. */
  fail: Error | undefined;
}

function counting(store: Store): Counting {
  const c: Counting = { store: store, batches: [], hold: undefined, fail: undefined };
  c.store = new Proxy(store, {
    get(target, property) {
      if (property !== "appendMessages") return Reflect.get(target, property);
      return async (batch: NewMessage[]) => {
        c.batches.push([...batch]);
        const hold = c.hold;
        c.hold = undefined;
        if (hold) await hold.promise;
        if (c.fail) throw c.fail;
        return await store.appendMessages(batch);
      };
    },
  });
  return c;
}

interface Fixture {
  store: Store;
  salons: Map<string, SalonRecord>;
  alice: UserRecord;
  bob: UserRecord;
  c: Counting;
  writer: MessageWriter;
}

async function withWriter(fn: (f: Fixture) => Promise<void>): Promise<void> {
  const store = await openSqliteStore(":memory:");
  let writer: MessageWriter | undefined;
  try {
    const salons = new Map(
      (await store.syncSalons(parseSalons(DEFAULT_SALONS), T0)).map((s) => [s.name, s]),
    );
    const alice = await store.createUser(
      { username: "alice", alias: "Alice", passwordHash: HASH, role: "member" },
      T0,
    );
    const bob = await store.createUser(
      { username: "bob", alias: "Bob", passwordHash: HASH, role: "member" },
      T0,
    );
    const c = counting(store);
    writer = new MessageWriter(c.store);
    await fn({ store, salons, alice, bob, c, writer });
  } finally {
    await writer?.close();
    await store.close();
  }
}

type Result = { error: Error | undefined; id: number };

/** A callback that records its result into `into[index]`. */
function recordInto(into: Array<Result | undefined>, index: number) {
  return (error: Error | undefined, id: number) => {
    assert.equal(into[index], undefined, "a callback runs once");
    into[index] = { error, id };
  };
}

function salonMessage(salon: SalonRecord, user: UserRecord, text: string): NewMessage {
  return { kind: "salon", salonId: salon.id, userId: user.id, text, at: T0 };
}

Deno.test("messages written in the same tick go into one transaction", async () => {
  await withWriter(async ({ store, salons, alice, bob, c, writer }) => {
    const general = salons.get("Général")!;
    const blabla = salons.get("Blabla")!;
    const messages: NewMessage[] = [
      salonMessage(general, alice, "g1"),
      salonMessage(blabla, bob, "b1"),
      salonMessage(general, bob, "g2"),
      { kind: "direct", fromUserId: alice.id, toUserId: bob.id, text: "d1", at: T0 },
      salonMessage(general, alice, "g3"),
      salonMessage(blabla, alice, "b2"),
    ];
    const results: Array<Result | undefined> = [];
    for (let i = 0; i < messages.length; i++) {
      assert.equal(writer.write(messages[i], recordInto(results, i)), true);
    }
    assert.equal(writer.pending, 6);
    assert.equal(results.filter(Boolean).length, 0, "no callback runs inside write()");

    await until(() => results.filter(Boolean).length === 6, "the callbacks");
    assert.equal(c.batches.length, 1, "one appendMessages call for the whole tick");
    assert.deepEqual(c.batches[0], messages, "in the order written");
    assert.equal(writer.pending, 0);
    for (const r of results) assert.equal(r!.error, undefined);
    assert.deepEqual(
      [results[0]!.id, results[2]!.id, results[4]!.id],
      [1, 2, 3],
      "Général ids grow by one",
    );
    assert.deepEqual([results[1]!.id, results[5]!.id], [1, 2], "Blabla has its own sequence");
    assert.ok(results[3]!.id >= 1);

    const page = await store.salonHistory(general.id, { limit: 10 });
    assert.deepEqual(page.messages.map((m) => [m.id, m.text]), [[1, "g1"], [2, "g2"], [3, "g3"]]);
    const direct = await store.directHistory(bob.id, alice.id, { limit: 10 });
    assert.deepEqual(direct.messages.map((m) => [m.id, m.text]), [[results[3]!.id, "d1"]]);
  });
});

Deno.test("callbacks run only after the commit, and see their message stored", async () => {
  await withWriter(async ({ store, salons, alice, c, writer }) => {
    const general = salons.get("Général")!;
    const hold = gate();
    c.hold = hold;
    const seen: Array<Promise<number[]>> = [];
    const ids: number[] = [];
    for (const text of ["one", "two", "three"]) {
      writer.write(salonMessage(general, alice, text), (error, id) => {
        assert.equal(error, undefined);
        ids.push(id);
        // The store is synchronous underneath: this reads what was committed at callback time.
        seen.push(
          store.salonHistory(general.id, { limit: 10 }).then((p) => p.messages.map((m) => m.id)),
        );
      });
    }
    await until(() => c.batches.length === 1, "the transaction to start");
    for (let i = 0; i < 5; i++) await tick();
    assert.deepEqual(ids, [], "no callback while the transaction is in flight");

    hold.open();
    await until(() => ids.length === 3, "the callbacks");
    assert.deepEqual(ids, [1, 2, 3], "callbacks in the order written, with increasing ids");
    for (const stored of await Promise.all(seen)) assert.deepEqual(stored, [1, 2, 3]);
  });
});

Deno.test("writes during a commit go into the next transaction; ids keep growing", async () => {
  await withWriter(async ({ salons, alice, c, writer }) => {
    const blabla = salons.get("Blabla")!;
    const order: string[] = [];
    const hold = gate();
    c.hold = hold;
    writer.write(salonMessage(blabla, alice, "a"), (_e, id) => order.push(`a:${id}`));
    writer.write(salonMessage(blabla, alice, "b"), (_e, id) => order.push(`b:${id}`));
    await until(() => c.batches.length === 1, "the first transaction");
    writer.write(salonMessage(blabla, alice, "c"), (_e, id) => order.push(`c:${id}`));
    await tick();
    writer.write(salonMessage(blabla, alice, "d"), (_e, id) => order.push(`d:${id}`));
    for (let i = 0; i < 5; i++) await tick();
    assert.equal(c.batches.length, 1, "one transaction in flight at a time");
    hold.open();
    await until(() => order.length === 4, "every callback");
    assert.deepEqual(c.batches.map((b) => b.map((m) => m.text)), [["a", "b"], ["c", "d"]]);
    assert.deepEqual(order, ["a:1", "b:2", "c:3", "d:4"]);
  });
});

Deno.test("a failing appendMessages gives every callback of the batch the error", async () => {
  await withWriter(async ({ store, salons, alice, c, writer }) => {
    const general = salons.get("Général")!;
    const failure = new Error("disk I/O error");
    c.fail = failure;
    const results: Array<Result | undefined> = [];
    for (let i = 0; i < 3; i++) {
      writer.write(salonMessage(general, alice, `m${i}`), recordInto(results, i));
    }
    await until(() => results.filter(Boolean).length === 3, "the callbacks");
    for (const r of results) assert.equal(r!.error, failure);
    assert.equal((await store.salonHistory(general.id, { limit: 10 })).messages.length, 0);

    // The writer goes on: the next message is stored, and the failed ones used no id.
    c.fail = undefined;
    const after: Array<Result | undefined> = [];
    writer.write(salonMessage(general, alice, "after"), recordInto(after, 0));
    await until(() => after[0] !== undefined, "the next callback");
    assert.deepEqual(after[0], { error: undefined, id: 1 });
  });
});

Deno.test("one bad message fails its whole batch (rolled back), every callback told", async () => {
  await withWriter(async ({ store, salons, alice, c, writer }) => {
    const general = salons.get("Général")!;
    const results: Array<Result | undefined> = [];
    writer.write(salonMessage(general, alice, "good"), recordInto(results, 0));
    writer.write(
      { kind: "salon", salonId: 9_999, userId: alice.id, text: "nowhere", at: T0 },
      recordInto(results, 1),
    );
    writer.write(salonMessage(general, alice, "also good"), recordInto(results, 2));
    await until(() => results.filter(Boolean).length === 3, "the callbacks");
    assert.equal(c.batches.length, 1);
    for (const r of results) {
      assert.ok(r!.error instanceof Error, "every callback gets the error");
    }
    assert.equal(results[0]!.error, results[1]!.error);
    const page = await store.salonHistory(general.id, { limit: 10 });
    assert.deepEqual(page.messages, [], "nothing of the failed transaction was stored");

    const after: Array<Result | undefined> = [];
    writer.write(salonMessage(general, alice, "retry"), recordInto(after, 0));
    await until(() => after[0] !== undefined, "the retry");
    assert.deepEqual(
      after[0],
      { error: undefined, id: 1 },
      "the failed batch gave out no id: the counter did not move",
    );
  });
});

Deno.test("close() waits for queued messages, then write() refuses new ones", async () => {
  await withWriter(async ({ store, salons, alice, writer }) => {
    const general = salons.get("Général")!;
    const results: Array<Result | undefined> = [];
    for (let i = 0; i < 3; i++) {
      writer.write(salonMessage(general, alice, `m${i}`), recordInto(results, i));
    }
    let closed = false;
    const closing = writer.close().then(() => {
      closed = true;
    });
    let lateCalled = false;
    assert.equal(
      writer.write(salonMessage(general, alice, "late"), () => (lateCalled = true)),
      false,
      "a closed writer refuses messages",
    );
    assert.equal(closed, false);
    await closing;
    assert.deepEqual(results.map((r) => r?.id), [1, 2, 3], "every queued callback ran first");
    for (let i = 0; i < 3; i++) await tick();
    assert.equal(lateCalled, false, "a refused message's callback is never called");
    const page = await store.salonHistory(general.id, { limit: 10 });
    assert.deepEqual(page.messages.map((m) => m.text), ["m0", "m1", "m2"]);
  });
});

Deno.test("close() during a commit waits for it and for messages queued behind it", async () => {
  await withWriter(async ({ salons, alice, c, writer }) => {
    const general = salons.get("Général")!;
    const hold = gate();
    c.hold = hold;
    const ids: number[] = [];
    writer.write(salonMessage(general, alice, "first"), (_e, id) => ids.push(id));
    await until(() => c.batches.length === 1, "the first transaction");
    writer.write(salonMessage(general, alice, "second"), (_e, id) => ids.push(id));
    let closed = false;
    const closing = writer.close().then(() => {
      closed = true;
    });
    for (let i = 0; i < 5; i++) await tick();
    assert.equal(closed, false, "close() waits for the transaction in flight");
    assert.equal(writer.write(salonMessage(general, alice, "third"), () => {}), false);
    hold.open();
    await closing;
    assert.deepEqual(ids, [1, 2]);
    assert.equal(c.batches.length, 2);
  });
});

Deno.test("close() on an idle writer resolves at once, and twice is fine", async () => {
  await withWriter(async ({ writer, c }) => {
    await writer.close();
    await writer.close();
    assert.equal(c.batches.length, 0);
  });
});
