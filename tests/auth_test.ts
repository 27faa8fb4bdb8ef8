/**
 * Authentication building blocks: password hashing, tokens, login throttling
 * and the bootstrap admin.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DEFAULT_SALONS, parseSalons } from "../config/salons.ts";
import { ensureAdmin } from "../auth/bootstrap.ts";
import { hashPassword, verifyNothing, verifyPassword } from "../auth/password.ts";
import { Throttle } from "../auth/throttle.ts";
import { bearerToken, newToken, tokenHash } from "../auth/tokens.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import type { Store } from "../store/store.ts";

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);

// --- passwords ---------------------------------------------------------------

Deno.test("hashPassword gives an argon2id PHC string with m=19456,t=2,p=1", async () => {
  const phc = await hashPassword("correct horse battery staple");
  assert.match(phc, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
  assert.ok(!phc.includes("correct horse"));
});

Deno.test("verifyPassword accepts the password and refuses any other", async () => {
  const phc = await hashPassword("Général-1234");
  assert.equal(await verifyPassword(phc, "Général-1234"), true);
  assert.equal(await verifyPassword(phc, "général-1234"), false);
  assert.equal(await verifyPassword(phc, "Général-123"), false);
  assert.equal(await verifyPassword(phc, ""), false);
});

Deno.test("verifyPassword treats a malformed hash as a mismatch", async () => {
  for (const bad of ["", "not a hash", "$argon2id$v=19$m=19456,t=2,p=1$", "$2b$10$abcdefghijk"]) {
    assert.equal(await verifyPassword(bad, "password"), false, JSON.stringify(bad));
  }
});

Deno.test("two hashes of the same password differ (random salt) and both verify", async () => {
  const a = await hashPassword("same password");
  const b = await hashPassword("same password");
  assert.notEqual(a, b);
  assert.equal(await verifyPassword(a, "same password"), true);
  assert.equal(await verifyPassword(b, "same password"), true);
});

Deno.test("verifyNothing always says no", async () => {
  assert.equal(await verifyNothing("causerie-timing-equalizer"), false);
  assert.equal(await verifyNothing("anything"), false);
});

// --- tokens ------------------------------------------------------------------

Deno.test("newToken is base64url with at least 128 random bits, and unique", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const token = newToken();
    assert.match(token, /^[A-Za-z0-9_-]+$/);
    // base64url carries 6 bits per character.
    assert.ok(token.length * 6 >= 128, token);
    seen.add(token);
  }
  assert.equal(seen.size, 1000);
});

Deno.test("tokenHash is the lower-case hex SHA-256 of the token", () => {
  assert.equal(
    tokenHash("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  const token = newToken();
  assert.match(tokenHash(token), /^[0-9a-f]{64}$/);
  assert.equal(tokenHash(token), tokenHash(token));
  assert.notEqual(tokenHash(token), tokenHash(newToken()));
  assert.notEqual(tokenHash(token), token);
});

Deno.test("bearerToken reads Authorization: Bearer T", () => {
  const token = newToken();
  assert.equal(bearerToken(`Bearer ${token}`), token);
  assert.equal(bearerToken(`bearer ${token}`), token);
  assert.equal(bearerToken(`BEARER   ${token}  `), token);
  assert.equal(bearerToken("Bearer abc+/def=="), "abc+/def==");
  assert.equal(bearerToken(`Bearer ${"a".repeat(512)}`), "a".repeat(512));
});

Deno.test("bearerToken refuses missing and malformed headers", () => {
  const bad = [
    undefined,
    null,
    "",
    "Bearer",
    "Bearer ",
    `Bearer${"abc"}`,
    "Basic YWxpY2U6cGFzcw==",
    "Token abc",
    "Bearer abc def",
    "Bearer abc,def",
    "Bearer =abc",
    "Bearer abc\nX-Evil: 1",
    " Bearer abc",
    `Bearer ${"a".repeat(513)}`,
  ];
  for (const header of bad) {
    assert.equal(bearerToken(header), undefined, JSON.stringify(header));
  }
});

// --- throttle ----------------------------------------------------------------

Deno.test("Throttle allows `limit` failures within the window, then asks to wait", () => {
  const t = new Throttle({ limit: 3, windowMs: 60_000 });
  assert.equal(t.retryAfter("alice", T0), 0);
  t.fail("alice", T0);
  t.fail("alice", T0 + 1_000);
  assert.equal(t.retryAfter("alice", T0 + 2_000), 0);
  t.fail("alice", T0 + 2_000);
  // The oldest failure leaves the window at T0 + 60 s: 58 s from T0 + 2 s.
  assert.equal(t.retryAfter("alice", T0 + 2_000), 58);
  assert.equal(t.retryAfter("alice", T0 + 2_500), 58); // rounded up
  assert.equal(t.retryAfter("alice", T0 + 59_999), 1);
  assert.equal(t.retryAfter("alice", T0 + 60_000), 0);
  // Keys are independent.
  assert.equal(t.retryAfter("bob", T0 + 2_000), 0);
});

Deno.test("Throttle window slides: each old failure frees one attempt", () => {
  const t = new Throttle({ limit: 3, windowMs: 60_000 });
  for (const at of [0, 10_000, 20_000]) t.fail("k", T0 + at);
  assert.equal(t.retryAfter("k", T0 + 30_000), 30);
  assert.equal(t.retryAfter("k", T0 + 60_000), 0);
  t.fail("k", T0 + 60_000);
  // Failures at 10 s, 20 s, 60 s: blocked until 10 s + 60 s.
  assert.equal(t.retryAfter("k", T0 + 60_000), 10);
  assert.equal(t.retryAfter("k", T0 + 70_000), 0);
  // Long after the window, everything is forgotten.
  assert.equal(t.retryAfter("k", T0 + 1_000_000), 0);
  assert.equal(t.size, 0);
});

Deno.test("Throttle keeps blocking while failures go on", () => {
  const t = new Throttle({ limit: 2, windowMs: 60_000 });
  for (let i = 0; i < 10; i++) t.fail("k", T0 + i * 1_000);
  // The last two failures (8 s and 9 s) count: wait until 8 s + 60 s.
  assert.equal(t.retryAfter("k", T0 + 9_000), 59);
});

Deno.test("Throttle reset forgets a key's failures", () => {
  const t = new Throttle({ limit: 2, windowMs: 60_000 });
  t.fail("alice", T0);
  t.fail("alice", T0);
  t.fail("bob", T0);
  t.fail("bob", T0);
  assert.ok(t.retryAfter("alice", T0) > 0);
  t.reset("alice");
  assert.equal(t.retryAfter("alice", T0), 0);
  assert.ok(t.retryAfter("bob", T0) > 0);
  assert.equal(t.size, 1);
});

Deno.test("Throttle tracks at most maxKeys keys, forgetting the least recently failed", () => {
  const t = new Throttle({ limit: 1, windowMs: 60_000, maxKeys: 3 });
  t.fail("a", T0);
  t.fail("b", T0 + 1);
  t.fail("c", T0 + 2);
  t.fail("a", T0 + 3); // a is now the most recent
  t.fail("d", T0 + 4);
  assert.equal(t.size, 3);
  assert.equal(t.retryAfter("b", T0 + 5), 0);
  for (const k of ["a", "c", "d"]) assert.ok(t.retryAfter(k, T0 + 5) > 0, k);
  for (let i = 0; i < 100; i++) t.fail(`x${i}`, T0 + 10);
  assert.equal(t.size, 3);
});

// --- bootstrap admin ---------------------------------------------------------

/** Runs `fn` against a fresh in-memory store with the default salons. */
async function withStore(fn: (store: Store) => Promise<void>): Promise<void> {
  const store = await openSqliteStore(":memory:");
  try {
    await store.syncSalons(parseSalons(DEFAULT_SALONS), T0);
    await fn(store);
  } finally {
    await store.close();
  }
}

Deno.test("ensureAdmin without admin and without password: missing", async () => {
  await withStore(async (store) => {
    assert.equal(await ensureAdmin(store, undefined, T0), "missing");
    assert.equal(await store.hasAdmin(), false);
    assert.equal(await store.userByName("admin"), undefined);
  });
});

Deno.test("ensureAdmin creates user admin with the password, once", async () => {
  await withStore(async (store) => {
    assert.equal(await ensureAdmin(store, "first-secret", T0), "created");
    const admin = await store.userByName("admin");
    assert.ok(admin);
    assert.equal(admin.role, "admin");
    assert.equal(admin.username, "admin");
    assert.equal(admin.createdAt, T0);
    assert.equal(await verifyPassword(admin.passwordHash, "first-secret"), true);
    assert.equal((await store.memberSalonIds(admin.id)).length, 1);
    // A later start with another password changes nothing.
    assert.equal(await ensureAdmin(store, "second-secret", T0 + 1), "exists");
    assert.equal(await ensureAdmin(store, undefined, T0 + 1), "exists");
    const again = await store.userByName("admin");
    assert.equal(await verifyPassword(again!.passwordHash, "first-secret"), true);
  });
});

Deno.test("ensureAdmin: another admin already exists", async () => {
  await withStore(async (store) => {
    await store.createUser(
      { username: "root", alias: "Root", passwordHash: "x", role: "admin" },
      T0,
    );
    assert.equal(await ensureAdmin(store, "some-secret", T0), "exists");
    assert.equal(await store.userByName("admin"), undefined);
  });
});

Deno.test("ensureAdmin promotes an existing non-admin 'admin' and resets its password", async () => {
  await withStore(async (store) => {
    const old = await hashPassword("old-password");
    const user = await store.createUser(
      { username: "Admin", alias: "Boss", passwordHash: old, role: "member" },
      T0,
    );
    await store.createSession(user.id, tokenHash("old-token"), {
      now: T0,
      maxIdleMs: 86_400_000,
      maxPerUser: 5,
    });
    assert.equal(await ensureAdmin(store, "new-password", T0 + 1), "promoted");
    const admin = await store.userById(user.id);
    assert.equal(admin?.role, "admin");
    assert.equal(admin?.username, "Admin");
    assert.equal(await verifyPassword(admin!.passwordHash, "new-password"), true);
    assert.equal(await verifyPassword(admin!.passwordHash, "old-password"), false);
    // Whoever held the old password loses their sessions.
    const lookup = { now: T0 + 2, maxIdleMs: 86_400_000 };
    assert.equal(await store.sessionUser(tokenHash("old-token"), lookup), undefined);
    assert.equal(await store.hasAdmin(), true);
  });
});
