/**
 * Migration 5 (mentions) on a database that already holds messages, on
 * SQLite and on MySQL/MariaDB: the old messages keep their ids and text and
 * simply mention nobody; new ones carry their mentions.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { DEFAULT_SALONS, parseSalons } from "../config/salons.ts";
import { parseMigrations } from "../store/migrations.ts";
import { openMysqlStore } from "../store/mysql.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import { migrate } from "../store/sqlite_migrate.ts";
import type { Store, UserRecord } from "../store/store.ts";
import { adminRun, freshDatabase, mysqlTest } from "./mysql_fixture.ts";

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
const HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g";
const MENTIONS_MIGRATION = 5;

/** The schema file as it was before the mentions: every migration below version 5. */
async function before(file: URL): Promise<{ full: string; old: string; versions: number[] }> {
  const full = await Deno.readTextFile(file);
  const cut = full.indexOf(`-- migration: ${MENTIONS_MIGRATION}\n`);
  assert.ok(cut > 0, `no migration ${MENTIONS_MIGRATION} in ${file}`);
  const old = full.slice(0, cut);
  return { full, old, versions: parseMigrations(old).map((m) => m.version) };
}

/** Two users in Général, with the ids the old database gave them. */
async function seed(store: Store): Promise<{ g: number; alice: UserRecord; bob: UserRecord }> {
  const salons = await store.syncSalons(parseSalons(DEFAULT_SALONS), T0);
  const alice = await store.createUser(
    { username: "alice", alias: "Alice", passwordHash: HASH, role: "member" },
    T0,
  );
  const bob = await store.createUser(
    { username: "bob", alias: "Bob", passwordHash: HASH, role: "member" },
    T0,
  );
  return { g: salons[0].id, alice, bob };
}

/** Old messages (ids 1, 2) as the code before mentions wrote them. */
const OLD_MESSAGES = [
  "INSERT INTO messages (salon_id, id, user_id, text, created_at) VALUES (?, 1, ?, '@bob written before', ?)",
  "INSERT INTO messages (salon_id, id, user_id, text, created_at) VALUES (?, 2, ?, 'plain', ?)",
];
const OLD_COUNTER = "UPDATE salons SET last_message_id = 2 WHERE id = ?";

/** What the migrated store must show: old messages without mentions, new ones with. */
async function checkMigrated(store: Store, g: number, alice: UserRecord, bob: UserRecord) {
  let page = await store.salonHistory(g, { limit: 50 });
  assert.deepEqual(page.messages.map((m) => [m.id, m.text]), [[1, "@bob written before"], [
    2,
    "plain",
  ]]);
  for (const m of page.messages) assert.equal("mentions" in m, false, JSON.stringify(m));
  assert.deepEqual([...(await store.unreadMentions(bob.id, [{ salonId: g, after: 0 }]))], [[
    g,
    0,
  ]]);
  const [id] = await store.appendMessages([{
    kind: "salon",
    salonId: g,
    userId: alice.id,
    text: "@bob after",
    at: T0,
    mentions: [{ userId: bob.id, username: "bob" }],
  }]);
  assert.equal(id, 3);
  page = await store.salonHistory(g, { limit: 50 });
  assert.deepEqual(page.messages.at(-1)?.mentions, ["bob"]);
  assert.deepEqual([...(await store.unreadMentions(bob.id, [{ salonId: g, after: 0 }]))], [[
    g,
    1,
  ]]);
}

Deno.test("sqlite: migration 5 on a database with messages: they mention nobody, new ones do", async () => {
  const dir = await Deno.makeTempDir({ prefix: "causerie-mentions-" });
  try {
    const path = join(dir, "c.db");
    const schema = await before(new URL("../store/sqlite_schema.sql", import.meta.url));
    // The database as the code before mentions left it (its store cannot be opened by this
    // code: the writer thread prepares the insert of today's columns).
    const db = new DatabaseSync(path);
    let g: number, alice: UserRecord, bob: UserRecord;
    try {
      migrate(db, schema.old, () => {});
      const salon = db.prepare(
        "INSERT INTO salons (name, name_key, policy, created_at) VALUES ('Général', 'général', 'auto', ?)",
      ).run(T0);
      g = Number(salon.lastInsertRowid);
      const add = db.prepare(
        `INSERT INTO users (username, username_key, alias, alias_key, password_hash, role, created_at)
         VALUES (?, ?, ?, ?, ?, 'member', ?)`,
      );
      const ids = ["alice", "bob"].map((u) =>
        Number(add.run(u, u, u.toUpperCase(), u, HASH, T0).lastInsertRowid)
      );
      [alice, bob] = ids.map((id, i) => ({
        id,
        username: ["alice", "bob"][i],
        alias: ["alice", "bob"][i].toUpperCase(),
        role: "member" as const,
        passwordHash: HASH,
        createdAt: T0,
      }));
      for (const sql of OLD_MESSAGES) db.prepare(sql).run(g, alice.id, T0);
      db.prepare(OLD_COUNTER).run(g);
    } finally {
      db.close();
    }
    const store = await openSqliteStore(path);
    try {
      await checkMigrated(store, g, alice, bob);
    } finally {
      await store.close();
    }
    const check = new DatabaseSync(path);
    try {
      const versions = check.prepare("SELECT version FROM schema_migrations ORDER BY version")
        .all().map((r) => Number(r.version));
      // Migration 5 and every later one, each once.
      assert.deepEqual(versions, parseMigrations(schema.full).map((m) => m.version));
      assert.ok(versions.includes(MENTIONS_MIGRATION));
    } finally {
      check.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

mysqlTest(
  "mysql: migration 5 on a database with messages: they mention nobody, new ones do",
  async () => {
    const db = await freshDatabase();
    try {
      const schema = await before(new URL("../schema.sql", import.meta.url));
      let store = await openMysqlStore(db.url, { schema: schema.old });
      const { g, alice, bob } = await seed(store);
      await store.close();
      for (const sql of OLD_MESSAGES) await adminRun(db.name, sql, [g, alice.id, T0]);
      await adminRun(db.name, OLD_COUNTER, [g]);
      store = await openMysqlStore(db.url);
      try {
        await checkMigrated(store, g, alice, bob);
      } finally {
        await store.close();
      }
    } finally {
      await db.drop();
    }
  },
);
