/**
 * The Store contract against MySQL/MariaDB (`CAUSERIE_TEST_MYSQL_URL`; skipped
 * without it), plus what only this adapter does: migrations on a server,
 * byte-exact name keys, hostile strings through a real protocol, connection
 * errors, concurrency between connections, and the same outcome as SQLite
 * for a whole moderation scenario.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DEFAULT_SALONS, parseSalons } from "../config/salons.ts";
import { parseMigrations } from "../store/migrations.ts";
import { openMysqlStore } from "../store/mysql.ts";
import { openStore } from "../store/open.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import {
  ConflictError,
  type Role,
  type SalonUserRow,
  type Store,
  type UserRecord,
} from "../store/store.ts";
import {
  adminRows,
  freshDatabase,
  MYSQL_SKIPPED,
  MYSQL_URL,
  mysqlTest,
  openFreshMysqlStore,
} from "./mysql_fixture.ts";
import { storeContract } from "./store_contract.ts";

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g";
const SCHEMA = await Deno.readTextFile(new URL("../schema.sql", import.meta.url));
/** The versions the shipped schema holds, and the next one a test may add. */
const SHIPPED = parseMigrations(SCHEMA).map((m) => m.version);
const NEXT = Math.max(...SHIPPED) + 1;

const user = (store: Store, username: string, alias = username, role: Role = "member") =>
  store.createUser({ username, alias, passwordHash: HASH, role }, T0);

/** Runs `fn` with a fresh database and its URL; the database is dropped afterwards. */
async function withDatabase(fn: (url: string, name: string) => Promise<void>): Promise<void> {
  const db = await freshDatabase();
  try {
    await fn(db.url, db.name);
  } finally {
    await db.drop();
  }
}

/** Runs `fn` on the store of a fresh database, closed and dropped afterwards. */
async function withStore(fn: (store: Store) => Promise<void>): Promise<void> {
  const store = await openFreshMysqlStore();
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

/** `{version, applied_at}` of every recorded migration. */
async function recorded(database: string): Promise<Array<[number, number]>> {
  return (await adminRows(
    database,
    "SELECT version, applied_at FROM schema_migrations ORDER BY version",
  )).map((r) => [Number(r.version), Number(r.applied_at)]);
}

/** The error a rejected promise carries. */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  assert.fail("expected a rejection");
}

/** A TCP port of 127.0.0.1 that nothing listens on. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

storeContract("mysql", openFreshMysqlStore, { ignore: MYSQL_SKIPPED });

// --- migrations -------------------------------------------------------------

mysqlTest("mysql: migrations are recorded in schema_migrations and applied once", async () => {
  await withDatabase(async (url, name) => {
    let aliceId = 0;
    let first: Array<[number, number]> = [];
    for (let i = 0; i < 3; i++) {
      const store = await openMysqlStore(url);
      try {
        if (i === 0) {
          first = await recorded(name);
          aliceId = (await user(store, "alice", "Alice")).id;
        } else {
          // Same rows, same times: nothing was applied again, and the data is still there.
          assert.deepEqual(await recorded(name), first);
          assert.equal((await store.userByName("alice"))?.id, aliceId);
        }
      } finally {
        await store.close();
      }
    }
    assert.deepEqual(first.map(([v]) => v), SHIPPED);
    const tables = (await adminRows(
      name,
      "SELECT table_name AS t, engine AS e, table_collation AS c FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name",
      [name],
    )).map((r) => [r.t, r.e, r.c]);
    // 10 + read_markers and conversations (migration 4) + message_mentions (migration 5)
    // + legacy_ids and legacy_marks (migration 6) + mutes (migration 7) + reports (migration 8)
    // + nodes and live_sessions (migration 9, several instances)
    // + cluster_shutdowns (migration 10, the shutdown countdown across instances)
    assert.equal(tables.length, 20, JSON.stringify(tables));
    for (const [t, engine, collation] of tables) {
      assert.equal(engine, "InnoDB", t);
      assert.equal(collation, "utf8mb4_bin", t);
    }
  });
});

mysqlTest("mysql: a later migration is applied on reopen, data kept", async () => {
  await withDatabase(async (url, name) => {
    const first = await openMysqlStore(url);
    try {
      await user(first, "bob", "Bob");
    } finally {
      await first.close();
    }
    const schema =
      `${SCHEMA}\n-- migration: ${NEXT}\nCREATE TABLE extra (\n  id INT PRIMARY KEY\n);\n`;
    for (let i = 0; i < 2; i++) {
      const store = await openMysqlStore(url, { schema });
      try {
        assert.equal((await store.userByName("bob"))?.alias, "Bob");
      } finally {
        await store.close();
      }
    }
    assert.deepEqual((await recorded(name)).map(([v]) => v), [...SHIPPED, NEXT]);
  });
});

mysqlTest("mysql: a failing migration is named and not recorded", async () => {
  await withDatabase(async (url, name) => {
    const schema =
      `${SCHEMA}\n-- migration: ${NEXT}\nCREATE TABLE ok2 (id INT);\nNOT SQL AT ALL;\n`;
    const error = await rejection(openMysqlStore(url, { schema }));
    assert.match(error.message, new RegExp(`migration ${NEXT} failed`));
    assert.deepEqual((await recorded(name)).map(([v]) => v), SHIPPED);
    // The shipped schema still opens.
    const store = await openMysqlStore(url);
    await store.ping();
    await store.close();
  });
});

// --- names and strings ------------------------------------------------------

mysqlTest(
  "mysql: names differing only by accents stay distinct; case after NFC collides",
  async () => {
    await withStore(async (store) => {
      // A case-insensitive or accent-insensitive collation (or pad-space) would merge these.
      // (Issue 9: alias keys are confusable skeletons of the NFKC case-folded alias, so
      // "Straße"/"Strasse" (ß folds to ss) and "ı"/"i" (confusables) now collide; see below.)
      const distinct = [
        "Général",
        "General",
        "Strasse",
        "i",
        "Bob",
        "Bob ",
        "Zoë",
        "Zoe",
        "café",
        "cafe",
      ];
      const made: UserRecord[] = [];
      for (const [n, alias] of distinct.entries()) made.push(await user(store, `user${n}`, alias));
      for (const u of made) assert.equal((await store.userById(u.id))?.alias, u.alias);
      assert.equal(new Set(made.map((u) => u.id)).size, distinct.length);
      // After NFC and lower-casing these are the same as one of the above.
      for (
        const [n, alias] of [
          "GÉNÉRAL",
          "Ge\u0301ne\u0301ral",
          "STRASSE",
          "ZOË",
          "CAFE\u0301",
          "Straße",
          "ı",
          "\u0421af\u0435", // Cyrillic С and е
        ].entries()
      ) {
        await assert.rejects(
          user(store, `other${n}`, alias),
          (e: unknown) => e instanceof ConflictError && e.field === "alias",
          alias,
        );
      }
      // Usernames: byte-exact keys too.
      await user(store, "Alice", "a1");
      await assert.rejects(
        user(store, "ALICE", "a2"),
        (e: unknown) => e instanceof ConflictError && e.field === "username",
      );
      assert.equal(await store.userByName("alice "), undefined);
      // Salons: Café and Cafe, Straße and Strasse are four salons.
      const salons = await store.syncSalons(
        parseSalons("Café:auto,Cafe:open,Straße:open,Strasse:open"),
        T0,
      );
      assert.deepEqual(salons.map((s) => s.name), ["Café", "Cafe", "Straße", "Strasse"]);
      const again = await store.syncSalons(parseSalons("CAFÉ:auto,cafe:approval"), T0);
      assert.deepEqual(again.map((s) => [s.name, s.policy]), [
        ["CAFÉ", "auto"],
        ["cafe", "approval"],
        ["Straße", "open"],
        ["Strasse", "open"],
      ]);
    });
  },
);

mysqlTest("mysql: token hashes are compared byte for byte", async () => {
  await withStore(async (store) => {
    const alice = await user(store, "alice");
    const bob = await user(store, "bob");
    const opts = { now: T0, maxIdleMs: DAY, maxPerUser: 5 };
    await store.createSession(alice.id, "abc", opts);
    await store.createSession(bob.id, "ABC", opts);
    await store.createSession(bob.id, "abc ", opts);
    const lookup = (t: string) => store.sessionUser(t, { now: T0 + 1, maxIdleMs: DAY });
    assert.equal((await lookup("abc"))?.id, alice.id);
    assert.equal((await lookup("ABC"))?.id, bob.id);
    assert.equal((await lookup("abc "))?.id, bob.id);
    assert.equal(await lookup("abc  "), undefined);
    assert.equal(await store.deleteSession("abc"), true);
    assert.equal((await lookup("abc "))?.id, bob.id);
  });
});

mysqlTest("mysql: hostile strings round-trip: SQL, quotes, emoji, NUL, 64 KiB", async () => {
  await withStore(async (store) => {
    const salons = Object.fromEntries(
      (await store.syncSalons(parseSalons(DEFAULT_SALONS), T0)).map((s) => [s.name, s.id]),
    );
    const big = "é😀'\"\\%_;".repeat(8 * 1024).slice(0, 64 * 1024); // 64 Ki UTF-16 units, ~150 KB
    const samples = [
      "'; DROP TABLE users; --",
      `Robert"); DELETE FROM messages WHERE '1'='1'; --`,
      "\\' \\\\ \\0 \\n %_ ` `` ${x} ? :name @p",
      "NUL \u0000 inside",
      "emoji 👩🏽‍💻 🇫🇷 𝄞 family 👨‍👩‍👧‍👦",
      "x".repeat(64 * 1024),
      big,
    ];
    const alias = "😀 Ro'bert\"; --";
    const alice = await user(store, "alice", alias);
    const bob = await user(store, "bob", "`backtick` \\");
    assert.equal((await store.userByName("alice"))?.alias, alias);
    assert.equal((await store.userById(bob.id))?.alias, "`backtick` \\");

    const g = salons["Général"];
    await store.appendMessages(samples.map((text) => ({
      kind: "salon" as const,
      salonId: g,
      userId: alice.id,
      text,
      at: T0,
    })));
    await store.appendMessages(samples.map((text) => ({
      kind: "direct" as const,
      fromUserId: alice.id,
      toUserId: bob.id,
      text,
      at: T0,
    })));
    const history = await store.salonHistory(g, { limit: 50 });
    assert.deepEqual(history.messages.map((m) => m.text), samples);
    assert.equal(history.messages[0].from.alias, alias);
    const direct = await store.directHistory(bob.id, alice.id, { limit: 50 });
    assert.deepEqual(direct.messages.map((m) => m.text), samples);

    const kick = await store.addSanction(
      { userId: bob.id, kind: "kick", until: T0 + MINUTE, reason: big, createdAt: T0 },
      alice.id,
    );
    assert.equal((await store.activeSanction(bob.id, T0))?.reason, big);
    assert.equal(kick.reason, big);
    await store.addAudit({
      at: T0,
      actor: "alice",
      action: "announce",
      target: "'; --",
      reason: big,
      via: "ws",
    });
    assert.deepEqual(await store.listAudit(1), [{
      at: T0,
      actor: "alice",
      action: "announce",
      target: "'; --",
      reason: big,
      via: "ws",
    }]);
    // The tables survived.
    assert.equal((await store.listUsers()).length, 2);
  });
});

mysqlTest("mysql: a value too long for its column is refused, never cut", async () => {
  await withStore(async (store) => {
    // Callers validate lengths first (usernames 3-32, aliases 1-64 characters); should one
    // slip through, the strict sql_mode of every connection makes it an error, not a truncation.
    await assert.rejects(user(store, "u".repeat(33), "long"), /too long/i);
    await assert.rejects(user(store, "long", "a".repeat(256)), /too long/i);
    assert.deepEqual(await store.listUsers(), []);
    const ok = await user(store, "u".repeat(32), "😀".repeat(255));
    assert.equal((await store.userById(ok.id))?.alias, "😀".repeat(255));
  });
});

// --- connecting ---------------------------------------------------------------

mysqlTest(
  "mysql: bad credentials, no server or no database: one clear line, no password",
  async () => {
    const good = new URL(MYSQL_URL!);
    const secret = "Wr0ng-S3cret-Passw0rd";
    const cases: Array<[string, RegExp]> = [];
    const wrong = new URL(good);
    wrong.password = secret;
    cases.push([wrong.toString(), /access denied for user .* check the user name and password/]);
    const noServer = new URL(good);
    noServer.password = secret;
    noServer.port = String(closedPort());
    cases.push([noServer.toString(), /nothing accepts connections at 127\.0\.0\.1:\d+/]);
    // A name the test user may create (it starts with the URL's database) but that does not exist.
    const missing = `${decodeURIComponent(good.pathname.slice(1))}_no_such_database`;
    const noDb = new URL(good);
    noDb.pathname = `/${missing}`;
    cases.push([noDb.toString(), new RegExp(`database '${missing}' does not exist`)]);
    cases.push([`mysql://u:${secret}@127.0.0.1:1/db?ssl=true`, /take no \?options/]);
    for (const [url, expected] of cases) {
      const error = await rejection(openStore(url));
      assert.match(error.message, expected, error.message);
      assert.ok(!error.message.includes("\n"), error.message);
      assert.ok(!error.message.includes(secret), error.message);
      if (good.password.length >= 4) {
        assert.ok(!error.message.includes(decodeURIComponent(good.password)), error.message);
      }
    }
  },
);

// --- between connections ------------------------------------------------------

mysqlTest(
  "mysql: concurrent registrations of one name: one wins, the others conflict",
  async () => {
    await withStore(async (store) => {
      await store.syncSalons(parseSalons(DEFAULT_SALONS), T0);
      const attempts = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => user(store, i % 2 ? "Carol" : "carol", `alias${i}`)),
      );
      const won = attempts.filter((a) => a.status === "fulfilled");
      assert.equal(won.length, 1);
      for (const a of attempts) {
        if (a.status === "rejected") {
          assert.ok(a.reason instanceof ConflictError, String(a.reason));
          assert.equal(a.reason.field, "username");
        }
      }
      const sameAlias = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => user(store, `dave${i}`, "Dave")),
      );
      assert.equal(sameAlias.filter((a) => a.status === "fulfilled").length, 1);
      for (const a of sameAlias) {
        if (a.status === "rejected") {
          assert.ok(a.reason instanceof ConflictError, String(a.reason));
          assert.equal(a.reason.field, "alias");
        }
      }
      assert.equal((await store.listMemberships()).length, 2);
    });
  },
);

mysqlTest(
  "mysql: 64 users registering at once, each with a first token, never deadlock",
  async () => {
    await withStore(async (store) => {
      await store.syncSalons(parseSalons(DEFAULT_SALONS), T0);
      // As a register frame does: create the user (joining the auto salon), then its token.
      const registered = await Promise.allSettled(
        Array.from({ length: 64 }, async (_, i) => {
          const u = await user(store, `wave${i}`);
          await store.createSession(u.id, String(i).padStart(64, "0"), {
            now: T0,
            maxIdleMs: 30 * 24 * 3600_000,
            maxPerUser: 100,
          });
          return u;
        }),
      );
      const failed = registered.filter((r) => r.status === "rejected");
      assert.deepEqual(failed.map((r) => String((r as PromiseRejectedResult).reason)), []);
      assert.equal((await store.listMemberships()).length, 64);
    });
  },
);

mysqlTest("mysql: concurrent batches into shared salons get every id once, 1..N", async () => {
  await withStore(async (store) => {
    const salons = await store.syncSalons(parseSalons(DEFAULT_SALONS), T0);
    const [g, b] = [salons[0].id, salons[1].id];
    const alice = await user(store, "alice");
    // Batches touching both salons in both orders, all at once on several connections.
    const batches = Array.from({ length: 12 }, (_, i) =>
      Array.from({ length: 10 }, (_, j) => ({
        kind: "salon" as const,
        salonId: (i + j) % 2 ? g : b,
        userId: alice.id,
        text: `${i}.${j}`,
        at: T0,
      })));
    const results = await Promise.all(batches.map((batch) => store.appendMessages(batch)));
    for (const salonId of [g, b]) {
      const got = results.flatMap((ids, i) =>
        ids.filter((_, j) => batches[i][j].salonId === salonId)
      );
      assert.deepEqual(
        [...got].sort((x, y) => x - y),
        Array.from({ length: 60 }, (_, k) => k + 1),
      );
      const page = await store.salonHistory(salonId, { limit: 100 });
      assert.equal(page.messages.length, 60);
      // Each id is the one handed back for that text.
      for (const m of page.messages) {
        const [i, j] = m.text.split(".").map(Number);
        assert.equal(results[i][j], m.id, m.text);
      }
    }
  });
});

// --- same outcome as SQLite ---------------------------------------------------

mysqlTest("mysql: a moderation scenario ends exactly as on SQLite", async () => {
  const sqlite = await openSqliteStore(":memory:");
  let onSqlite: unknown;
  try {
    onSqlite = await moderationScenario(sqlite);
  } finally {
    await sqlite.close();
  }
  let onMysql: unknown;
  await withStore(async (store) => {
    onMysql = await moderationScenario(store);
  });
  assert.deepEqual(onMysql, onSqlite);
});

/** Rows in salon, then user order (the order of equal times is not specified). */
function bySalonAndUser(rows: SalonUserRow[]): Array<[number, string, number]> {
  return rows.map((r): [number, string, number] => [r.salonId, r.user.username, r.since])
    .sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1]));
}

/**
 * Kicks, bans (with and without purge), tokens, requests, audit: everything
 * the contract files do not cover, returned as one value to compare.
 */
async function moderationScenario(store: Store): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const salons = Object.fromEntries(
    (await store.syncSalons(parseSalons(DEFAULT_SALONS), T0)).map((s) => [s.name, s.id]),
  );
  const mod = await user(store, "mod", "Mod", "moderator");
  const spam = await user(store, "spammer", "Spam");
  const noisy = await user(store, "noisy", "Noisy");
  const opts = { now: T0, maxIdleMs: 30 * DAY, maxPerUser: 5 };
  await store.createSession(spam.id, "s1", opts);
  await store.createSession(spam.id, "s2", { ...opts, now: T0 + 1 });
  await store.createSession(noisy.id, "n1", opts);
  await store.addJoinRequest(salons["Comptabilité"], spam.id, T0 + 1);
  await store.addJoinRequest(salons["Marketing"], spam.id, T0 + 2);
  await store.addJoinRequest(salons["Marketing"], noisy.id, T0 + 3);
  await store.addMember(salons["Blabla"], spam.id, T0);
  out.ids = await store.appendMessages([
    { kind: "salon", salonId: salons["Général"], userId: spam.id, text: "buy", at: T0 },
    { kind: "salon", salonId: salons["Général"], userId: noisy.id, text: "hi", at: T0 + 1 },
    { kind: "salon", salonId: salons["Blabla"], userId: spam.id, text: "buy!", at: T0 + 2 },
    { kind: "direct", fromUserId: spam.id, toUserId: noisy.id, text: "psst", at: T0 + 3 },
    { kind: "direct", fromUserId: noisy.id, toUserId: spam.id, text: "no", at: T0 + 4 },
  ]);
  out.kick = await store.addSanction(
    { userId: noisy.id, kind: "kick", until: T0 + 5 * MINUTE, reason: "calm", createdAt: T0 },
    mod.id,
  );
  out.ban = await store.ban(
    { userId: spam.id, reason: "spam", createdAt: T0 + MINUTE },
    mod.id,
    true,
  );
  out.bannedOwner = (await store.bannedTokenOwner("s2"))?.username;
  out.notBannedOwner = await store.bannedTokenOwner("n1");
  out.sessionAfterBan = await store.sessionUser("s1", { now: T0 + 2 * MINUTE, maxIdleMs: DAY });
  out.deleteRevoked = await store.deleteSession("s1");
  out.bannedOwnerAfterDelete = await store.bannedTokenOwner("s1");
  out.pendingSpam = await store.pendingSalonIds(spam.id);
  out.requests = bySalonAndUser(await store.listJoinRequests());
  out.general = await store.salonHistory(salons["Général"], { limit: 10 });
  out.blabla = await store.salonHistory(salons["Blabla"], { limit: 10 });
  out.direct = await store.directHistory(spam.id, noisy.id, { limit: 10 });
  out.afterPurge = await store.appendMessages([
    { kind: "salon", salonId: salons["Blabla"], userId: noisy.id, text: "quiet now", at: T0 + 5 },
  ]);
  out.active = await store.listActiveSanctions(T0 + 2 * MINUTE);
  out.activeLater = await store.listActiveSanctions(T0 + 10 * MINUTE);
  out.spamSanction = await store.activeSanction(spam.id, T0 + DAY);
  out.secondBan = await store.ban(
    { userId: noisy.id, reason: "", createdAt: T0 + 3 * MINUTE },
    null,
    false,
  );
  out.noisyMessagesKept = (await store.salonHistory(salons["Général"], { limit: 10 })).messages
    .map((m) => m.text);
  out.lifted = await store.liftSanctions(noisy.id, T0 + 4 * MINUTE);
  out.liftedAgain = await store.liftSanctions(noisy.id, T0 + 4 * MINUTE);
  out.members = bySalonAndUser(await store.listMemberships());
  for (const [i, action] of (["kick", "ban", "unban", "role"] as const).entries()) {
    await store.addAudit({
      at: T0 + i,
      actor: i % 2 ? "server" : "mod",
      action,
      target: "spammer",
      reason: `r${i}`,
      via: i % 2 ? "socket" : "ws",
    });
  }
  out.audit = await store.listAudit(3);
  out.auditAll = await store.listAudit(100);
  await store.setRole(noisy.id, "moderator");
  await store.setPassword(noisy.id, "new-hash");
  out.noisySession = await store.sessionUser("n1", { now: T0 + 5 * MINUTE, maxIdleMs: DAY });
  out.users = await store.listUsers();
  out.hasAdmin = await store.hasAdmin();
  return out;
}
