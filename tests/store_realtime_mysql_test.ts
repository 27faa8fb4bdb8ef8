/**
 * The real-time Store contract against MySQL/MariaDB (`CAUSERIE_TEST_MYSQL_URL`;
 * skipped without it), each case on a fresh database, plus a purge done
 * behind the adapter's back: ids must never be handed out twice.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DEFAULT_SALONS, parseSalons } from "../config/salons.ts";
import { openMysqlStore } from "../store/mysql.ts";
import type { NewMessage, Store, UserRecord } from "../store/store.ts";
import {
  adminRun,
  freshDatabase,
  MYSQL_SKIPPED,
  mysqlTest,
  openFreshMysqlStore,
} from "./mysql_fixture.ts";
import { storeCatchupContract } from "./store_catchup_contract.ts";
import { storeEditsContract } from "./store_edits_contract.ts";
import { storeMentionsContract } from "./store_mentions_contract.ts";
import { storeMuteContract } from "./store_mute_contract.ts";
import { storeRealtimeContract } from "./store_realtime_contract.ts";

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
const HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g";

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

async function fixture(url: string): Promise<Fixture> {
  const store = await openMysqlStore(url);
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

storeRealtimeContract("mysql", openFreshMysqlStore, { ignore: MYSQL_SKIPPED });
storeMentionsContract("mysql", openFreshMysqlStore, { ignore: MYSQL_SKIPPED });
storeEditsContract("mysql", openFreshMysqlStore, { ignore: MYSQL_SKIPPED });
storeMuteContract("mysql", openFreshMysqlStore, { ignore: MYSQL_SKIPPED });

mysqlTest("mysql: salon ids are never reused after the newest messages are purged", async () => {
  const db = await freshDatabase();
  const f = await fixture(db.url);
  let store = f.store;
  try {
    const handedOut = await store.appendMessages(
      [1, 2, 3, 4, 5].map((n) => say(f.general, f.alice, `g${n}`)),
    );
    assert.deepEqual(handedOut, [1, 2, 3, 4, 5]);
    assert.deepEqual(await store.appendMessages([say(f.blabla, f.alice, "b1")]), [1]);

    // A purge deletes the three newest messages of Général.
    assert.equal(
      await adminRun(db.name, "DELETE FROM messages WHERE salon_id = ? AND id >= 3", [f.general]),
      3,
    );
    assert.deepEqual(
      (await store.salonHistory(f.general, { limit: 50 })).messages.map((m) => m.id),
      [1, 2],
    );
    const [next] = await store.appendMessages([say(f.general, f.bob, "after the purge")]);
    assert.ok(next > Math.max(...handedOut), `id ${next} handed out again (${handedOut})`);
    handedOut.push(next);

    // Every message of the salon purged, then the store reopened: still no reuse.
    await adminRun(db.name, "DELETE FROM messages WHERE salon_id = ?", [f.general]);
    await store.close();
    store = await openMysqlStore(db.url);
    const [afterReopen] = await store.appendMessages([say(f.general, f.bob, "after reopen")]);
    assert.ok(
      afterReopen > Math.max(...handedOut),
      `id ${afterReopen} handed out again (${handedOut})`,
    );
    const page = await store.salonHistory(f.general, { limit: 50 });
    assert.deepEqual(page.messages.map((m) => [m.id, m.text]), [[afterReopen, "after reopen"]]);
    assert.equal(page.more, false);
    // The other salon's counter was not disturbed.
    assert.deepEqual(await store.appendMessages([say(f.blabla, f.alice, "b2")]), [2]);
  } finally {
    await store.close();
    await db.drop();
  }
});

mysqlTest("mysql: direct ids are never reused after the newest messages are purged", async () => {
  const db = await freshDatabase();
  const f = await fixture(db.url);
  let store = f.store;
  try {
    const handedOut = await store.appendMessages([
      dm(f.alice, f.bob, "d1"),
      dm(f.bob, f.alice, "d2"),
      dm(f.alice, f.bob, "d3"),
    ]);
    const newest = Math.max(...handedOut);
    assert.equal(
      await adminRun(db.name, "DELETE FROM direct_messages WHERE id >= ?", [handedOut[1]]),
      2,
    );
    const [next] = await store.appendMessages([dm(f.bob, f.alice, "after the purge")]);
    assert.ok(next > newest, `id ${next} handed out again (${handedOut})`);

    await adminRun(db.name, "DELETE FROM direct_messages");
    await store.close();
    store = await openMysqlStore(db.url);
    const [afterReopen] = await store.appendMessages([dm(f.alice, f.bob, "after reopen")]);
    assert.ok(afterReopen > next, `id ${afterReopen} handed out again (last was ${next})`);
    const page = await store.directHistory(f.alice.id, f.bob.id, { limit: 50 });
    assert.deepEqual(page.messages.map((m) => [m.id, m.text]), [[afterReopen, "after reopen"]]);
  } finally {
    await store.close();
    await db.drop();
  }
});

mysqlTest("mysql: a ban with purge keeps the salon counters: no id reused", async () => {
  const db = await freshDatabase();
  const f = await fixture(db.url);
  const store = f.store;
  try {
    await store.appendMessages([
      say(f.general, f.bob, "kept"),
      say(f.general, f.alice, "spam 1"),
      say(f.general, f.alice, "spam 2"),
    ]);
    await store.ban({ userId: f.alice.id, reason: "spam", createdAt: T0 }, null, true);
    const page = await store.salonHistory(f.general, { limit: 50 });
    assert.deepEqual(page.messages.map((m) => [m.id, m.text]), [[1, "kept"]]);
    assert.deepEqual(await store.appendMessages([say(f.general, f.bob, "next")]), [4]);
  } finally {
    await store.close();
    await db.drop();
  }
});

storeCatchupContract("mysql", openFreshMysqlStore, { ignore: MYSQL_SKIPPED });
