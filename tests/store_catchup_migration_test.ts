/**
 * Migration 4 (read markers, conversations) on a database left at migration 3
 * with data, on SQLite and on MySQL/MariaDB (`CAUSERIE_TEST_MYSQL_URL`;
 * skipped without it): existing direct conversations are filled in for both
 * users with `lastRead` 0, salon markers start empty, and everything goes on
 * from there.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { DEFAULT_SALONS, parseSalons } from "../config/salons.ts";
import { openMysqlStore } from "../store/mysql.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import type { Store } from "../store/store.ts";
import { adminRows, adminRun, freshDatabase, mysqlTest } from "./mysql_fixture.ts";

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
const HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g";

/** The schema text up to (not including) migration 4. */
function atMigration3(schema: string): string {
  const cut = schema.indexOf("-- migration: 4");
  assert.ok(cut > 0, "the schema has a migration 4");
  return schema.slice(0, cut);
}

/** Users alice, bob, carol and the default salons, through a store at migration 3. */
async function seedAt3(store: Store): Promise<{ ids: number[]; general: number }> {
  const salons = await store.syncSalons(parseSalons(DEFAULT_SALONS), T0);
  const ids: number[] = [];
  for (const name of ["alice", "bob", "carol"]) {
    ids.push(
      (await store.createUser(
        { username: name, alias: name, passwordHash: HASH, role: "member" },
        T0,
      )).id,
    );
  }
  return { ids, general: salons[0].id };
}

/** The rows written behind the store's back, as a version-3 server would have: [sql, params]. */
function legacyRows(
  general: number,
  [alice, bob, carol]: number[],
): Array<[string, number[]]> {
  const salon =
    "INSERT INTO messages (salon_id, id, user_id, text, created_at) VALUES (?, ?, ?, 'x', ?)";
  const direct =
    `INSERT INTO direct_messages (id, from_user_id, to_user_id, pair_low, pair_high, text, created_at)
    VALUES (?, ?, ?, ?, ?, 'x', ?)`;
  const pair = (id: number, from: number, to: number, at: number): [string, number[]] => [
    direct,
    [id, from, to, Math.min(from, to), Math.max(from, to), at],
  ];
  return [
    [salon, [general, 1, alice, T0]],
    [salon, [general, 2, bob, T0 + 1]],
    [salon, [general, 3, bob, T0 + 2]],
    ["UPDATE salons SET last_message_id = 3 WHERE id = ?", [general]],
    pair(1, alice, bob, T0 + 10),
    pair(2, bob, alice, T0 + 11),
    pair(3, carol, alice, T0 + 12),
    pair(4, alice, bob, T0 + 13),
    pair(5, carol, carol, T0 + 14),
  ];
}

/** What the migrated store must answer, then one new direct. */
async function assertMigrated(store: Store, general: number, [alice, bob, carol]: number[]) {
  const view = async (userId: number) =>
    (await store.conversations(userId, { limit: 50 })).conversations.map((c) => [
      c.other.username,
      c.latest,
      c.lastRead,
      c.unread,
      c.at,
    ]);
  // Both sides of each conversation, lastRead 0: everything unread.
  assert.deepEqual(
    await view(alice),
    [["carol", 3, 0, 1, T0 + 12], ["bob", 4, 0, 3, T0 + 13]]
      .sort((a, b) => Number(b[4]) - Number(a[4])),
  );
  assert.deepEqual(await view(bob), [["alice", 4, 0, 3, T0 + 13]]);
  assert.deepEqual(await view(carol), [["carol", 5, 0, 1, T0 + 14], ["alice", 3, 0, 1, T0 + 12]]);
  // Salon markers start empty.
  for (const u of [alice, bob, carol]) {
    assert.deepEqual(await store.salonCatchup(u, [general]), [
      { salonId: general, latest: 3, lastRead: 0, unread: 3 },
    ]);
  }
  // And life goes on: a new direct moves bob's row and marker.
  const [id] = await store.appendMessages([
    { kind: "direct", fromUserId: bob, toUserId: alice, text: "hi", at: T0 + 20 },
  ]);
  assert.deepEqual(await view(bob), [["alice", id, id, 0, T0 + 20]]);
  assert.equal((await store.markRead({ userId: alice, salonId: general, id: 2 })).outcome, "moved");
}

Deno.test("migration 4 on SQLite: conversations filled in, markers empty", async () => {
  const dir = await Deno.makeTempDir({ prefix: "causerie-m4-" });
  try {
    const path = join(dir, "c.db");
    const schema = await Deno.readTextFile(new URL("../store/sqlite_schema.sql", import.meta.url));
    const old = await openSqliteStore(path, { schema: atMigration3(schema) });
    let seed: { ids: number[]; general: number };
    try {
      seed = await seedAt3(old);
    } finally {
      await old.close();
    }
    const db = new DatabaseSync(path);
    try {
      for (const [sql, params] of legacyRows(seed.general, seed.ids)) {
        db.prepare(sql).run(...params);
      }
    } finally {
      db.close();
    }
    const store = await openSqliteStore(path);
    try {
      await assertMigrated(store, seed.general, seed.ids);
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

mysqlTest("migration 4 on MySQL: conversations filled in, markers empty", async () => {
  const fresh = await freshDatabase();
  try {
    const schema = await Deno.readTextFile(new URL("../schema.sql", import.meta.url));
    const old = await openMysqlStore(fresh.url, { schema: atMigration3(schema) });
    let seed: { ids: number[]; general: number };
    try {
      seed = await seedAt3(old);
    } finally {
      await old.close();
    }
    for (const [sql, params] of legacyRows(seed.general, seed.ids)) {
      await adminRun(fresh.name, sql, params);
    }
    const store = await openMysqlStore(fresh.url);
    try {
      await assertMigrated(store, seed.general, seed.ids);
      const versions = await adminRows(fresh.name, "SELECT version FROM schema_migrations");
      assert.ok(versions.some((r) => Number(r.version) === 4));
    } finally {
      await store.close();
    }
  } finally {
    await fresh.drop();
  }
});
