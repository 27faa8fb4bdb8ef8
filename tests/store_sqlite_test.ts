/**
 * The Store contract against SQLite, plus what only the SQLite adapter does:
 * files on disk, migrations, the migration file parser.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { DEFAULT_SALONS, parseSalons } from "../config/salons.ts";
import { parseMigrations } from "../store/migrations.ts";
import { openStore } from "../store/open.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import { storeContract } from "./store_contract.ts";

storeContract("sqlite", () => openSqliteStore(":memory:"));

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
const HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g";
const SCHEMA = await Deno.readTextFile(new URL("../store/sqlite_schema.sql", import.meta.url));
/** The versions the shipped schema holds, and the next one a test may add. */
const SHIPPED = parseMigrations(SCHEMA).map((m) => m.version);
const NEXT = Math.max(...SHIPPED) + 1;

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "causerie-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The versions recorded in `schema_migrations` of a database file. */
function appliedVersions(path: string): number[] {
  const db = new DatabaseSync(path);
  try {
    return db.prepare("SELECT version FROM schema_migrations ORDER BY version").all()
      .map((r) => Number(r.version));
  } finally {
    db.close();
  }
}

Deno.test("sqlite file: users, salons and sessions survive close and reopen", async () => {
  await withTempDir(async (dir) => {
    // A nested path: missing directories are created.
    const path = join(dir, "nested", "causerie.db");
    const first = await openSqliteStore(path);
    let aliceId: number;
    let salonIds: number[];
    try {
      salonIds = (await first.syncSalons(parseSalons(DEFAULT_SALONS), T0)).map((s) => s.id);
      const alice = await first.createUser(
        { username: "Alice", alias: "Général Alice", passwordHash: HASH, role: "admin" },
        T0,
      );
      aliceId = alice.id;
      await first.createSession(alice.id, "tok", { now: T0, maxIdleMs: 1e10, maxPerUser: 5 });
    } finally {
      await first.close();
    }
    const again = await openSqliteStore(path);
    try {
      const alice = await again.userByName("alice");
      assert.equal(alice?.id, aliceId);
      assert.equal(alice?.alias, "Général Alice");
      assert.equal(alice?.role, "admin");
      assert.equal(await again.hasAdmin(), true);
      assert.deepEqual((await again.listSalons()).map((s) => s.id), salonIds);
      assert.deepEqual(await again.memberSalonIds(aliceId), [salonIds[0]]);
      assert.equal((await again.sessionUser("tok", { now: T0 + 1, maxIdleMs: 1e10 }))?.id, aliceId);
    } finally {
      await again.close();
    }
  });
});

Deno.test("sqlite file: migrations are applied once, reopening does not fail", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "causerie.db");
    for (let i = 0; i < 3; i++) {
      const store = await openSqliteStore(path);
      await store.ping();
      await store.close();
    }
    assert.deepEqual(appliedVersions(path), SHIPPED);
  });
});

Deno.test("sqlite file: a later migration is applied on reopen, data kept", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "causerie.db");
    const first = await openSqliteStore(path);
    try {
      await first.createUser(
        { username: "bob", alias: "Bob", passwordHash: HASH, role: "member" },
        T0,
      );
    } finally {
      await first.close();
    }
    const schema =
      `${SCHEMA}\n-- migration: ${NEXT}\nCREATE TABLE extra (\n  id INTEGER PRIMARY KEY\n);\n`;
    for (let i = 0; i < 2; i++) {
      const store = await openSqliteStore(path, { schema });
      try {
        assert.equal((await store.userByName("bob"))?.alias, "Bob");
      } finally {
        await store.close();
      }
    }
    assert.deepEqual(appliedVersions(path), [...SHIPPED, NEXT]);
  });
});

Deno.test("sqlite file: a failing migration is rolled back and named", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "causerie.db");
    const schema =
      `${SCHEMA}\n-- migration: ${NEXT}\nCREATE TABLE ok2 (id INTEGER);\nNOT SQL AT ALL;\n`;
    await assert.rejects(openSqliteStore(path, { schema }), new RegExp(`migration ${NEXT} failed`));
    // The shipped migrations stayed, nothing of the failing one did: the default schema opens fine.
    assert.deepEqual(appliedVersions(path), SHIPPED);
    const store = await openSqliteStore(path);
    await store.close();
    const db = new DatabaseSync(path);
    try {
      const table = db.prepare("SELECT name FROM sqlite_master WHERE name = 'ok2'").get();
      assert.equal(table, undefined);
    } finally {
      db.close();
    }
  });
});

Deno.test("openStore: sqlite::memory: opens, an unknown scheme is refused", async () => {
  const store = await openStore("sqlite::memory:");
  try {
    assert.equal(store.kind, "sqlite");
    await store.ping();
  } finally {
    await store.close();
  }
  await assert.rejects(openStore("postgres://x/y"), /CAUSERIE_DB/);
});

Deno.test("parseMigrations splits versions and statements, skipping comments", () => {
  const sql = [
    "-- a header comment",
    "",
    "-- migration: 1",
    "CREATE TABLE a (",
    "  id INTEGER",
    ");",
    "-- a comment between statements",
    "CREATE INDEX a_id ON a (id);",
    "--migration:3",
    "DROP TABLE a;",
  ].join("\n");
  assert.deepEqual(parseMigrations(sql), [
    {
      version: 1,
      statements: ["CREATE TABLE a (\n  id INTEGER\n)", "CREATE INDEX a_id ON a (id)"],
    },
    { version: 3, statements: ["DROP TABLE a"] },
  ]);
  assert.deepEqual(parseMigrations(""), []);
});

Deno.test("parseMigrations refuses versions that do not increase", () => {
  assert.throws(
    () => parseMigrations("-- migration: 2\nSELECT 1;\n-- migration: 1\nSELECT 2;\n"),
    /migration 1 follows 2/,
  );
  assert.throws(
    () => parseMigrations("-- migration: 2\nSELECT 1;\n-- migration: 2\nSELECT 2;\n"),
    /migration 2 follows 2/,
  );
});

Deno.test("parseMigrations refuses SQL before the first marker", () => {
  assert.throws(
    () => parseMigrations("CREATE TABLE a (id INTEGER);\n-- migration: 1\nSELECT 1;\n"),
    /before the first '-- migration: N'/,
  );
});

Deno.test("parseMigrations refuses a statement without ';'", () => {
  assert.throws(
    () => parseMigrations("-- migration: 1\nCREATE TABLE a (id INTEGER)\n"),
    /does not end with ';'/,
  );
  assert.throws(
    () => parseMigrations("-- migration: 1\nSELECT 1\n-- migration: 2\nSELECT 2;\n"),
    /without ';' before migration 2/,
  );
});

Deno.test("parseMigrations reads both shipped schema files", async () => {
  const mysql = await Deno.readTextFile(new URL("../schema.sql", import.meta.url));
  for (const sql of [SCHEMA, mysql]) {
    const migrations = parseMigrations(sql);
    assert.equal(migrations[0].version, 1);
    const tables = migrations[0].statements.filter((s) => s.startsWith("CREATE TABLE"));
    assert.equal(tables.length, 9);
  }
});
