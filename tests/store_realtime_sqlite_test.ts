/**
 * The real-time Store contract against SQLite, plus a purge done behind the
 * adapter's back: ids must never be handed out twice.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { DEFAULT_SALONS, parseSalons } from "../config/salons.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import type { NewMessage, Store, UserRecord } from "../store/store.ts";
import { storeCatchupContract } from "./store_catchup_contract.ts";
import { storeEditsContract } from "./store_edits_contract.ts";
import { storeMentionsContract } from "./store_mentions_contract.ts";
import { storeMuteContract } from "./store_mute_contract.ts";
import { storeRealtimeContract } from "./store_realtime_contract.ts";

storeRealtimeContract("sqlite", () => openSqliteStore(":memory:"));
storeMentionsContract("sqlite", () => openSqliteStore(":memory:"));
storeEditsContract("sqlite", () => openSqliteStore(":memory:"));
storeMuteContract("sqlite", () => openSqliteStore(":memory:"));

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
const HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g";

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "causerie-realtime-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs SQL on the database file through a second, independent connection. */
function behindTheBack(path: string, sql: string, ...params: number[]): number {
  const db = new DatabaseSync(path);
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    return Number(db.prepare(sql).run(...params).changes);
  } finally {
    db.close();
  }
}

const say = (salonId: number, u: UserRecord, text: string): NewMessage => ({
  kind: "salon",
  salonId,
  userId: u.id,
  text,
  at: T0,
});

const dm = (from: UserRecord, to: UserRecord, text: string): NewMessage => ({
  kind: "direct",
  fromUserId: from.id,
  toUserId: to.id,
  text,
  at: T0,
});

interface Fixture {
  store: Store;
  general: number;
  blabla: number;
  alice: UserRecord;
  bob: UserRecord;
}

async function fixture(path: string): Promise<Fixture> {
  const store = await openSqliteStore(path);
  try {
    const salons = await store.syncSalons(parseSalons(DEFAULT_SALONS), T0);
    const byName = Object.fromEntries(salons.map((s) => [s.name, s.id]));
    const alice = await store.createUser(
      { username: "alice", alias: "Alice", passwordHash: HASH, role: "member" },
      T0,
    );
    const bob = await store.createUser(
      { username: "bob", alias: "Bob", passwordHash: HASH, role: "member" },
      T0,
    );
    await store.addMember(byName["Blabla"], alice.id, T0);
    return { store, general: byName["Général"], blabla: byName["Blabla"], alice, bob };
  } catch (e) {
    await store.close();
    throw e;
  }
}

Deno.test("sqlite: salon ids are never reused after the newest messages are purged", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "c.db");
    const f = await fixture(path);
    let store = f.store;
    try {
      const handedOut = await store.appendMessages(
        [1, 2, 3, 4, 5].map((n) => say(f.general, f.alice, `g${n}`)),
      );
      assert.deepEqual(handedOut, [1, 2, 3, 4, 5]);
      assert.deepEqual(await store.appendMessages([say(f.blabla, f.alice, "b1")]), [1]);

      // A purge deletes the three newest messages of Général.
      assert.equal(
        behindTheBack(path, "DELETE FROM messages WHERE salon_id = ? AND id >= 3", f.general),
        3,
      );
      assert.deepEqual(
        (await store.salonHistory(f.general, { limit: 50 })).messages.map((m) => m.id),
        [1, 2],
      );

      const [next] = await store.appendMessages([say(f.general, f.bob, "after the purge")]);
      assert.ok(
        next > Math.max(...handedOut),
        `id ${next} handed out again (ids so far: ${handedOut})`,
      );
      handedOut.push(next);

      // Every message of the salon purged, then the store reopened: still no reuse.
      behindTheBack(path, "DELETE FROM messages WHERE salon_id = ?", f.general);
      await store.close();
      store = await openSqliteStore(path);
      const [afterReopen] = await store.appendMessages([say(f.general, f.bob, "after reopen")]);
      assert.ok(
        afterReopen > Math.max(...handedOut),
        `id ${afterReopen} handed out again (ids so far: ${handedOut})`,
      );
      const page = await store.salonHistory(f.general, { limit: 50 });
      assert.deepEqual(page.messages.map((m) => [m.id, m.text]), [[afterReopen, "after reopen"]]);
      assert.equal(page.more, false);
      // The other salon's counter was not disturbed.
      assert.deepEqual(await store.appendMessages([say(f.blabla, f.alice, "b2")]), [2]);
    } finally {
      await store.close();
    }
  });
});

Deno.test("sqlite: direct ids are never reused after the newest messages are purged", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "c.db");
    const f = await fixture(path);
    let store = f.store;
    try {
      const handedOut = await store.appendMessages([
        dm(f.alice, f.bob, "d1"),
        dm(f.bob, f.alice, "d2"),
        dm(f.alice, f.bob, "d3"),
      ]);
      const newest = Math.max(...handedOut);
      assert.equal(
        behindTheBack(path, "DELETE FROM direct_messages WHERE id >= ?", handedOut[1]),
        2,
      );
      const [next] = await store.appendMessages([dm(f.bob, f.alice, "after the purge")]);
      assert.ok(next > newest, `id ${next} handed out again (ids so far: ${handedOut})`);

      behindTheBack(path, "DELETE FROM direct_messages");
      await store.close();
      store = await openSqliteStore(path);
      const [afterReopen] = await store.appendMessages([dm(f.alice, f.bob, "after reopen")]);
      assert.ok(afterReopen > next, `id ${afterReopen} handed out again (last was ${next})`);
      const page = await store.directHistory(f.alice.id, f.bob.id, { limit: 50 });
      assert.deepEqual(page.messages.map((m) => [m.id, m.text]), [[afterReopen, "after reopen"]]);
    } finally {
      await store.close();
    }
  });
});

storeCatchupContract("sqlite", () => openSqliteStore(":memory:"));
