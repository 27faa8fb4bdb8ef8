/**
 * The writer thread of a SQLite file store: chat messages committed on its
 * own connection, in order, with the main connection writing beside it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { DEFAULT_SALONS, parseSalons } from "../config/salons.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import type { NewMessage, Store, UserRecord } from "../store/store.ts";

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
const HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g";

interface World {
  path: string;
  store: Store;
  general: number;
  blabla: number;
  alice: UserRecord;
  bob: UserRecord;
}

/** A file store with two users, closed and removed afterwards. */
async function withFileStore(fn: (w: World) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "causerie-writer-" });
  const path = join(dir, "c.db");
  const store = await openSqliteStore(path);
  try {
    const salons = await store.syncSalons(parseSalons(DEFAULT_SALONS), T0);
    const id = (name: string) => salons.find((s) => s.name === name)!.id;
    const user = (username: string) =>
      store.createUser({ username, alias: username, passwordHash: HASH, role: "member" }, T0);
    const alice = await user("alice");
    const bob = await user("bob");
    await fn({ path, store, general: id("Général"), blabla: id("Blabla"), alice, bob });
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const say = (salonId: number, u: UserRecord, text: string): NewMessage => ({
  kind: "salon",
  salonId,
  userId: u.id,
  text,
  at: T0,
});

/** Rows of a database file read through an independent connection. */
function rows(path: string, sql: string): Record<string, unknown>[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare(sql).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

Deno.test("writer thread: batches sent at once get increasing ids, in the order sent", async () => {
  await withFileStore(async (w) => {
    const batches = Array.from(
      { length: 20 },
      (_, b) => Array.from({ length: 25 }, (_, i) => say(w.general, w.alice, `m${b * 25 + i}`)),
    );
    const results = await Promise.all(batches.map((batch) => w.store.appendMessages(batch)));
    assert.deepEqual(results.flat(), Array.from({ length: 500 }, (_, i) => i + 1));
    const page = await w.store.salonHistory(w.general, { limit: 3 });
    assert.deepEqual(page.messages.map((m) => [m.id, m.text]), [
      [498, "m497"],
      [499, "m498"],
      [500, "m499"],
    ]);
  });
});

Deno.test("writer thread: a failing batch stores nothing of itself and the next one goes on", async () => {
  await withFileStore(async (w) => {
    await w.store.appendMessages([say(w.general, w.alice, "before")]);
    await assert.rejects(
      w.store.appendMessages([
        say(w.general, w.alice, "lost with its batch"),
        say(987_654, w.alice, "no such salon"),
      ]),
      /salon 987654 does not exist/,
    );
    assert.deepEqual(await w.store.appendMessages([say(w.general, w.bob, "after")]), [2]);
    const texts = (await w.store.salonHistory(w.general, { limit: 10 })).messages.map((m) =>
      m.text
    );
    assert.deepEqual(texts, ["before", "after"]);
  });
});

Deno.test("writer thread: the main connection writes while batches are committed beside it", async () => {
  await withFileStore(async (w) => {
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 30; i++) {
      work.push(w.store.appendMessages([
        say(w.general, w.alice, `g${i}`),
        { kind: "direct", fromUserId: w.alice.id, toUserId: w.bob.id, text: `d${i}`, at: T0 },
      ]));
      if (i === 10) work.push(w.store.addMember(w.blabla, w.bob.id, T0));
      if (i === 20) work.push(w.store.removeMember(w.blabla, w.bob.id));
    }
    await Promise.all(work);
    assert.equal(rows(w.path, "SELECT COUNT(*) AS n FROM messages")[0].n, 30);
    assert.equal(rows(w.path, "SELECT COUNT(*) AS n FROM direct_messages")[0].n, 30);
    const blabla = (await w.store.listMemberships()).filter((m) => m.salonId === w.blabla);
    assert.deepEqual(blabla.map((m) => m.user.username), []);
  });
});

Deno.test("writer thread: membership changes are committed in it, in order, off the event loop", async () => {
  await withFileStore(async (w) => {
    // Another connection holds the write lock: the main thread is not the one that waits.
    const locker = new DatabaseSync(w.path);
    locker.exec("BEGIN IMMEDIATE");
    const started = performance.now();
    const work = [
      w.store.addJoinRequest(w.blabla, w.alice.id, T0),
      w.store.addMember(w.blabla, w.alice.id, T0 + 1), // closes the request
      w.store.addMember(w.blabla, w.bob.id, T0 + 2),
      w.store.removeMember(w.blabla, w.bob.id),
      w.store.removeMember(w.blabla, w.bob.id),
      w.store.addJoinRequest(w.general, w.bob.id, T0 + 3),
      w.store.removeJoinRequest(w.general, w.bob.id),
    ];
    assert.ok(performance.now() - started < 1_000, "the calls return without waiting");
    let settled = false;
    Promise.allSettled(work).then(() => settled = true);
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(settled, false, "nothing is written while the lock is held");
    locker.exec("ROLLBACK");
    locker.close();
    const results = await Promise.all(work);
    assert.deepEqual(results, [undefined, undefined, undefined, true, false, undefined, true]);
    const blabla = rows(w.path, "SELECT salon_id, user_id FROM memberships ORDER BY user_id")
      .filter((r) => r.salon_id === w.blabla).map((r) => r.user_id);
    assert.deepEqual(blabla, [w.alice.id]);
    assert.equal(rows(w.path, "SELECT COUNT(*) AS n FROM join_requests")[0].n, 0);
  });
});

Deno.test("writer thread: close waits for the batches in flight; they are on disk after it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "causerie-writer-" });
  const path = join(dir, "c.db");
  try {
    const store = await openSqliteStore(path);
    const [general] = await store.syncSalons(parseSalons(DEFAULT_SALONS), T0);
    const alice = await store.createUser(
      { username: "alice", alias: "Alice", passwordHash: HASH, role: "member" },
      T0,
    );
    const inFlight = store.appendMessages(
      Array.from({ length: 200 }, (_, i) => say(general.id, alice, `late ${i}`)),
    );
    await store.close();
    assert.equal((await inFlight).length, 200);
    assert.equal(rows(path, "SELECT COUNT(*) AS n FROM messages")[0].n, 200);
    await assert.rejects(store.appendMessages([say(general.id, alice, "x")]));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
