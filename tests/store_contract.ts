/**
 * The Store contract: every behaviour of the `Store` interface, written only
 * against that interface so the same cases run against every adapter.
 *
 * Each case opens a fresh, empty store with `open()` and closes it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DEFAULT_SALONS, parseSalons } from "../config/salons.ts";
import { ConflictError, type Store, type UserRecord } from "../store/store.ts";
import { contractCases, createUser, HASH, seededSalons, T0 } from "./store_fixture.ts";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const MAX_IDLE = 30 * DAY;

/** Registers the contract cases for one adapter (`ignore`: registered but skipped). */
export function storeContract(
  adapterName: string,
  open: () => Promise<Store>,
  opts: { ignore?: boolean } = {},
): void {
  const test = contractCases(adapterName, open, opts);

  const user = createUser;

  const seeded = seededSalons;

  const sorted = (ids: number[]) => [...ids].sort((a, b) => a - b);

  const session = (store: Store, userId: number, hash: string, now: number, maxPerUser = 100) =>
    store.createSession(userId, hash, { now, maxIdleMs: MAX_IDLE, maxPerUser });

  const lookup = (store: Store, hash: string, now: number) =>
    store.sessionUser(hash, { now, maxIdleMs: MAX_IDLE });

  async function assertConflict(p: Promise<UserRecord>, field: "username" | "alias") {
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof ConflictError, `expected ConflictError, got ${e}`);
      assert.equal(e.field, field);
      return true;
    });
  }

  // --- basics ---------------------------------------------------------------

  test("ping answers, kind is known, close is idempotent", async (store) => {
    await store.ping();
    assert.ok(store.kind === "sqlite" || store.kind === "mysql");
    await store.close(); // closed again by the harness: must not throw
  });

  // --- salons ---------------------------------------------------------------

  test("syncSalons seeds the five default salons in order", async (store) => {
    const salons = await store.syncSalons(parseSalons(DEFAULT_SALONS), T0);
    assert.deepEqual(salons.map((s) => [s.name, s.policy]), [
      ["Général", "auto"],
      ["Blabla", "open"],
      ["Comptabilité", "approval"],
      ["Informatique", "approval"],
      ["Marketing", "approval"],
    ]);
    assert.equal(new Set(salons.map((s) => s.id)).size, 5);
    assert.deepEqual(await store.listSalons(), salons);
  });

  test("syncSalons is idempotent: same ids, no duplicates", async (store) => {
    const first = await store.syncSalons(parseSalons(DEFAULT_SALONS), T0);
    const second = await store.syncSalons(parseSalons(DEFAULT_SALONS), T0 + DAY);
    assert.deepEqual(second, first);
  });

  test("syncSalons adds a salon listed later and keeps unlisted ones", async (store) => {
    const first = await store.syncSalons(parseSalons(DEFAULT_SALONS), T0);
    const after = await store.syncSalons(parseSalons("Général:auto,Jeux:open"), T0 + DAY);
    // Every former salon is still there with its id and policy, the new one comes last.
    assert.deepEqual(after.slice(0, 5), first);
    assert.equal(after.length, 6);
    assert.equal(after[5].name, "Jeux");
    assert.equal(after[5].policy, "open");
    assert.deepEqual(await store.listSalons(), after);
  });

  test("syncSalons applies policy changes to listed salons", async (store) => {
    const first = await store.syncSalons(parseSalons(DEFAULT_SALONS), T0);
    const after = await store.syncSalons(
      parseSalons(
        "Général:auto,Blabla:approval,Comptabilité:open,Informatique:approval,Marketing:open",
      ),
      T0 + DAY,
    );
    assert.deepEqual(after.map((s) => s.id), first.map((s) => s.id));
    assert.deepEqual(after.map((s) => s.policy), ["auto", "approval", "open", "approval", "open"]);
  });

  test("syncSalons treats a case variant of a name as the same salon", async (store) => {
    const first = await store.syncSalons(parseSalons(DEFAULT_SALONS), T0);
    const after = await store.syncSalons(
      parseSalons("GÉNÉRAL:auto,blabla:approval"),
      T0 + DAY,
    );
    assert.equal(after.length, 5);
    assert.deepEqual(after.map((s) => s.id), first.map((s) => s.id));
    assert.equal(after[0].policy, "auto");
    assert.equal(after[1].policy, "approval");
  });

  test("syncSalons: accents matter, Général and General are two salons", async (store) => {
    const salons = await store.syncSalons(parseSalons("Général:auto,General:open"), T0);
    assert.deepEqual(salons.map((s) => [s.name, s.policy]), [["Général", "auto"], [
      "General",
      "open",
    ]]);
  });

  test("syncSalons: a new auto salon takes every user, the old one becomes open", async (store) => {
    const before = await seeded(store);
    const alice = await user(store, "alice");
    const bob = await user(store, "bob");
    const after = await store.syncSalons(
      parseSalons("Accueil:auto,Blabla:open,Comptabilité:approval"),
      T0 + DAY,
    );
    const byName = Object.fromEntries(after.map((s) => [s.name, s]));
    assert.equal(byName["Général"].id, before["Général"].id);
    assert.equal(byName["Général"].policy, "open");
    assert.equal(byName["Accueil"].policy, "auto");
    assert.equal(after.filter((s) => s.policy === "auto").length, 1);
    // Existing users join Accueil and stay in Général.
    for (const u of [alice, bob]) {
      assert.deepEqual(
        sorted(await store.memberSalonIds(u.id)),
        sorted([before["Général"].id, byName["Accueil"].id]),
      );
    }
    // A user created afterwards only joins the current auto salon.
    const carol = await user(store, "carol");
    assert.deepEqual(await store.memberSalonIds(carol.id), [byName["Accueil"].id]);
  });

  test("syncSalons: a listed salon may take over auto from another", async (store) => {
    const before = await seeded(store);
    const alice = await user(store, "alice");
    const after = await store.syncSalons(parseSalons("Général:open,Blabla:auto"), T0 + DAY);
    const byName = Object.fromEntries(after.map((s) => [s.name, s]));
    assert.equal(byName["Général"].policy, "open");
    assert.equal(byName["Blabla"].policy, "auto");
    assert.deepEqual(
      sorted(await store.memberSalonIds(alice.id)),
      sorted([before["Général"].id, before["Blabla"].id]),
    );
  });

  test("syncSalons makes users created before any salon existed members", async (store) => {
    const alice = await user(store, "alice");
    assert.deepEqual(await store.memberSalonIds(alice.id), []);
    const salons = await seeded(store);
    assert.deepEqual(await store.memberSalonIds(alice.id), [salons["Général"].id]);
  });

  // --- users ----------------------------------------------------------------

  test("createUser returns the record and joins the auto salon only", async (store) => {
    const salons = await seeded(store);
    const alice = await store.createUser(
      { username: "Alice", alias: "Alice Liddell", passwordHash: HASH, role: "member" },
      T0 + 5,
    );
    assert.equal(typeof alice.id, "number");
    assert.deepEqual({ ...alice, id: 0 }, {
      id: 0,
      username: "Alice",
      alias: "Alice Liddell",
      role: "member",
      passwordHash: HASH,
      createdAt: T0 + 5,
    });
    assert.deepEqual(await store.memberSalonIds(alice.id), [salons["Général"].id]);
    assert.deepEqual(await store.pendingSalonIds(alice.id), []);
  });

  test("createUser refuses a username differing only by case", async (store) => {
    await seeded(store);
    await user(store, "Alice", "first");
    await assertConflict(user(store, "alice", "second"), "username");
    await assertConflict(user(store, "ALICE", "third"), "username");
    // Nothing of the refused accounts was stored.
    assert.equal((await store.userByName("alice"))?.alias, "first");
    await user(store, "bob", "second");
  });

  test("createUser refuses an alias differing only by case", async (store) => {
    await user(store, "alice", "Alice");
    await assertConflict(user(store, "bob", "alice"), "alias");
    await assertConflict(user(store, "carol", "ALICE"), "alias");
    assert.equal(await store.userByName("bob"), undefined);
    assert.equal(await store.userByName("carol"), undefined);
  });

  test("createUser refuses an alias differing only by Unicode normalization", async (store) => {
    await user(store, "andre1", "Andre\u0301"); // decomposed é
    await assertConflict(user(store, "andre2", "Andr\u00e9"), "alias"); // precomposed é
    await assertConflict(user(store, "andre3", "ANDRE\u0301"), "alias");
    await user(store, "emile1", "\u00c9mile");
    await assertConflict(user(store, "emile2", "e\u0301mile"), "alias");
  });

  test("createUser: accents matter, Général and General are distinct", async (store) => {
    const a = await user(store, "general1", "Général");
    const b = await user(store, "general2", "General");
    assert.notEqual(a.id, b.id);
    assert.equal((await store.userById(a.id))?.alias, "Général");
    assert.equal((await store.userById(b.id))?.alias, "General");
  });

  test("createUser stores SQL metacharacters verbatim", async (store) => {
    const alice = await user(store, "alice");
    const evil = "'; DROP TABLE users; --";
    const bobby = await user(store, "bobby", evil);
    assert.equal((await store.userById(bobby.id))?.alias, evil);
    const quotes = await user(store, "quotes", `Robert"); \\ DELETE FROM users; %_`);
    assert.equal((await store.userByName("quotes"))?.alias, `Robert"); \\ DELETE FROM users; %_`);
    assert.equal((await store.userById(alice.id))?.username, "alice");
    assert.notEqual(quotes.id, bobby.id);
  });

  test("userByName is case-insensitive and returns the name as registered", async (store) => {
    const alice = await user(store, "Alice", "Wonder", "moderator");
    for (const name of ["Alice", "alice", "ALICE", "aLiCe"]) {
      const found = await store.userByName(name);
      assert.deepEqual(found, alice, name);
    }
    assert.equal(await store.userByName("bob"), undefined);
  });

  test("userByName matches whole names only, never as a pattern", async (store) => {
    await user(store, "alice");
    for (const name of ["al_ce", "al%", "%", "_____", "alic", "alicex"]) {
      assert.equal(await store.userByName(name), undefined, JSON.stringify(name));
    }
  });

  test("userById finds a user and not an unknown id", async (store) => {
    const alice = await user(store, "alice");
    const bob = await user(store, "bob");
    assert.deepEqual(await store.userById(alice.id), alice);
    assert.deepEqual(await store.userById(bob.id), bob);
    assert.equal(await store.userById(Math.max(alice.id, bob.id) + 1000), undefined);
  });

  test("hasAdmin follows the roles", async (store) => {
    assert.equal(await store.hasAdmin(), false);
    const mod = await user(store, "mod", "mod", "moderator");
    assert.equal(await store.hasAdmin(), false);
    const root = await user(store, "root", "root", "admin");
    assert.equal(await store.hasAdmin(), true);
    await store.setRole(root.id, "member");
    assert.equal(await store.hasAdmin(), false);
    await store.setRole(mod.id, "admin");
    assert.equal(await store.hasAdmin(), true);
  });

  test("setRole changes only that user's role", async (store) => {
    const alice = await user(store, "alice");
    const bob = await user(store, "bob");
    await store.setRole(alice.id, "moderator");
    assert.equal((await store.userById(alice.id))?.role, "moderator");
    assert.equal((await store.userByName("alice"))?.role, "moderator");
    assert.equal((await store.userById(bob.id))?.role, "member");
  });

  test("setPassword replaces the hash and revokes every session of the user", async (store) => {
    const alice = await user(store, "alice");
    const bob = await user(store, "bob");
    await session(store, alice.id, "a1", T0);
    await session(store, alice.id, "a2", T0);
    await session(store, bob.id, "b1", T0);
    const next = HASH.replace("aGFz", "bmV3");
    await store.setPassword(alice.id, next);
    assert.equal((await store.userById(alice.id))?.passwordHash, next);
    assert.equal(await lookup(store, "a1", T0 + 1), undefined);
    assert.equal(await lookup(store, "a2", T0 + 1), undefined);
    assert.equal((await lookup(store, "b1", T0 + 1))?.id, bob.id);
    assert.equal((await store.userById(bob.id))?.passwordHash, HASH);
  });

  // --- sessions -------------------------------------------------------------

  test("createSession/sessionUser: a token finds its user, an unknown one nothing", async (store) => {
    const alice = await user(store, "alice", "Alice", "moderator");
    await session(store, alice.id, "tok-a", T0);
    assert.deepEqual(await lookup(store, "tok-a", T0 + MINUTE), alice);
    assert.equal(await lookup(store, "tok-b", T0 + MINUTE), undefined);
  });

  test("sessionUser reflects the user's current role", async (store) => {
    const alice = await user(store, "alice");
    await session(store, alice.id, "tok", T0);
    await store.setRole(alice.id, "admin");
    assert.equal((await lookup(store, "tok", T0 + 1))?.role, "admin");
  });

  test("a token idle longer than maxIdleMs expires and is deleted", async (store) => {
    const alice = await user(store, "alice");
    await session(store, alice.id, "tok", T0);
    await session(store, alice.id, "edge", T0);
    // Exactly maxIdleMs of idleness is still allowed.
    assert.equal((await lookup(store, "edge", T0 + MAX_IDLE))?.id, alice.id);
    assert.equal(await lookup(store, "tok", T0 + MAX_IDLE + 1), undefined);
    // Deleted, not merely hidden: a generous lookup does not bring it back.
    assert.equal(
      await store.sessionUser("tok", { now: T0 + MAX_IDLE + 2, maxIdleMs: 365 * DAY }),
      undefined,
    );
    assert.equal(await store.deleteSession("tok"), false);
  });

  test("using a token keeps it alive (idleness counts from last use)", async (store) => {
    const alice = await user(store, "alice");
    await session(store, alice.id, "tok", T0);
    assert.equal((await lookup(store, "tok", T0 + 20 * DAY))?.id, alice.id);
    assert.equal((await lookup(store, "tok", T0 + 40 * DAY))?.id, alice.id);
    assert.equal((await lookup(store, "tok", T0 + 60 * DAY))?.id, alice.id);
    assert.equal(await lookup(store, "tok", T0 + 91 * DAY), undefined);
  });

  test("createSession drops the user's idle tokens", async (store) => {
    const alice = await user(store, "alice");
    await session(store, alice.id, "old", T0);
    await session(store, alice.id, "new", T0 + MAX_IDLE + DAY);
    assert.equal(await store.deleteSession("old"), false);
    assert.equal(await store.deleteSession("new"), true);
  });

  test("createSession caps tokens per user, keeping the most recent", async (store) => {
    const alice = await user(store, "alice");
    const bob = await user(store, "bob");
    await session(store, bob.id, "b1", T0, 3);
    for (let i = 1; i <= 4; i++) await session(store, alice.id, `a${i}`, T0 + i * MINUTE, 3);
    const now = T0 + 10 * MINUTE;
    assert.equal(await lookup(store, "a1", now), undefined);
    for (const t of ["a2", "a3", "a4"]) assert.equal((await lookup(store, t, now))?.id, alice.id);
    // The cap is per user: bob's token is untouched.
    assert.equal((await lookup(store, "b1", now))?.id, bob.id);
  });

  test("createSession over the cap drops the least recently used token", async (store) => {
    const alice = await user(store, "alice");
    // Uses are recorded at most once an hour, so the timeline is in hours.
    const HOUR = 60 * MINUTE;
    await session(store, alice.id, "a1", T0, 3);
    await session(store, alice.id, "a2", T0 + HOUR, 3);
    await session(store, alice.id, "a3", T0 + 2 * HOUR, 3);
    // a1 is the oldest token but was used most recently.
    assert.equal((await lookup(store, "a1", T0 + 10 * HOUR))?.id, alice.id);
    await session(store, alice.id, "a4", T0 + 11 * HOUR, 3);
    const now = T0 + 12 * HOUR;
    assert.equal(await lookup(store, "a2", now), undefined);
    for (const t of ["a1", "a3", "a4"]) assert.equal((await lookup(store, t, now))?.id, alice.id);
  });

  test("deleteSession revokes one token and says whether it existed", async (store) => {
    const alice = await user(store, "alice");
    await session(store, alice.id, "t1", T0);
    await session(store, alice.id, "t2", T0);
    assert.equal(await store.deleteSession("t1"), true);
    assert.equal(await store.deleteSession("t1"), false);
    assert.equal(await store.deleteSession("never"), false);
    assert.equal(await lookup(store, "t1", T0 + 1), undefined);
    assert.equal((await lookup(store, "t2", T0 + 1))?.id, alice.id);
  });

  test("deleteUserSessions revokes every token of one user and counts them", async (store) => {
    const alice = await user(store, "alice");
    const bob = await user(store, "bob");
    await session(store, alice.id, "a1", T0);
    await session(store, alice.id, "a2", T0);
    await session(store, bob.id, "b1", T0);
    assert.equal(await store.deleteUserSessions(alice.id), 2);
    assert.equal(await store.deleteUserSessions(alice.id), 0);
    assert.equal(await lookup(store, "a1", T0 + 1), undefined);
    assert.equal(await lookup(store, "a2", T0 + 1), undefined);
    assert.equal((await lookup(store, "b1", T0 + 1))?.id, bob.id);
  });

  // --- memberships ----------------------------------------------------------

  test("memberSalonIds and pendingSalonIds of users", async (store) => {
    const salons = await seeded(store);
    const alice = await user(store, "alice");
    assert.deepEqual(await store.memberSalonIds(alice.id), [salons["Général"].id]);
    assert.deepEqual(await store.pendingSalonIds(alice.id), []);
    assert.deepEqual(await store.memberSalonIds(alice.id + 1000), []);
    assert.deepEqual(await store.pendingSalonIds(alice.id + 1000), []);
  });

  // --- sanctions ------------------------------------------------------------

  test("addSanction returns the record with an id; a kick ends at until", async (store) => {
    const mod = await user(store, "mod", "mod", "moderator");
    const alice = await user(store, "alice");
    assert.equal(await store.activeSanction(alice.id, T0), undefined);
    const kick = await store.addSanction(
      {
        userId: alice.id,
        kind: "kick",
        until: T0 + 5 * MINUTE,
        reason: "calm down",
        createdAt: T0,
      },
      mod.id,
    );
    assert.equal(typeof kick.id, "number");
    assert.deepEqual({ ...kick, id: 0 }, {
      id: 0,
      userId: alice.id,
      kind: "kick",
      until: T0 + 5 * MINUTE,
      reason: "calm down",
      createdAt: T0,
    });
    assert.deepEqual(await store.activeSanction(alice.id, T0), kick);
    assert.deepEqual(await store.activeSanction(alice.id, T0 + 5 * MINUTE - 1), kick);
    assert.equal(await store.activeSanction(alice.id, T0 + 5 * MINUTE), undefined);
    assert.equal(await store.activeSanction(mod.id, T0), undefined);
  });

  test("a ban has no end and wins over a kick", async (store) => {
    const alice = await user(store, "alice");
    const kick = { userId: alice.id, kind: "kick" as const, reason: "", createdAt: T0 };
    await store.addSanction({ ...kick, until: T0 + 10 * MINUTE }, null);
    const ban = await store.addSanction(
      { userId: alice.id, kind: "ban", until: null, reason: "spam", createdAt: T0 + MINUTE },
      null,
    );
    await store.addSanction({ ...kick, until: T0 + 20 * MINUTE, createdAt: T0 + 2 * MINUTE }, null);
    assert.equal(ban.until, null);
    assert.deepEqual(await store.activeSanction(alice.id, T0 + 3 * MINUTE), ban);
    assert.deepEqual(await store.activeSanction(alice.id, T0 + 365 * DAY), ban);
  });

  test("of several kicks, the one ending last is in force", async (store) => {
    const alice = await user(store, "alice");
    const kick = { userId: alice.id, kind: "kick" as const, reason: "", createdAt: T0 };
    const long = await store.addSanction({ ...kick, until: T0 + 30 * MINUTE }, null);
    const short = await store.addSanction({ ...kick, until: T0 + 5 * MINUTE }, null);
    assert.notEqual(long.id, short.id);
    assert.deepEqual(await store.activeSanction(alice.id, T0 + MINUTE), long);
    assert.deepEqual(await store.activeSanction(alice.id, T0 + 10 * MINUTE), long);
    assert.equal(await store.activeSanction(alice.id, T0 + 30 * MINUTE), undefined);
  });

  test("activeSanctionsOf lists what is in force with its author's current role", async (store) => {
    const mod = await user(store, "mod", "mod", "moderator");
    const alice = await user(store, "alice");
    const base = { userId: alice.id, reason: "", createdAt: T0 };
    await store.addSanction({ ...base, kind: "kick", until: T0 + MINUTE }, mod.id); // expires
    const kick = await store.addSanction(
      { ...base, kind: "kick", until: T0 + 60 * MINUTE },
      mod.id,
    );
    const ban = await store.addSanction({ ...base, kind: "ban", until: null }, null);
    assert.deepEqual(await store.activeSanctionsOf(alice.id, T0 + 2 * MINUTE), [
      { ...kick, by: { username: "mod", role: "moderator" } },
      { ...ban, by: null },
    ]);
    await store.setRole(mod.id, "admin");
    assert.deepEqual(
      (await store.activeSanctionsOf(alice.id, T0 + 2 * MINUTE))[0].by,
      { username: "mod", role: "admin" },
    );
    assert.deepEqual(await store.activeSanctionsOf(mod.id, T0), []);
  });

  test("liftSanctions with ids lifts only those", async (store) => {
    const alice = await user(store, "alice");
    const base = { userId: alice.id, reason: "", createdAt: T0 };
    const kick = await store.addSanction({ ...base, kind: "kick", until: T0 + 60 * MINUTE }, null);
    const ban = await store.addSanction({ ...base, kind: "ban", until: null }, null);
    assert.equal(await store.liftSanctions(alice.id, T0 + MINUTE, []), 0);
    assert.equal(await store.liftSanctions(alice.id, T0 + MINUTE, [kick.id]), 1);
    assert.deepEqual(
      (await store.activeSanctionsOf(alice.id, T0 + MINUTE)).map((s) => s.id),
      [ban.id],
    );
    assert.equal(await store.liftSanctions(alice.id + 1, T0 + MINUTE, [ban.id]), 0, "not hers");
    assert.equal(await store.liftSanctions(alice.id, T0 + MINUTE, [ban.id]), 1);
    assert.equal(await store.activeSanction(alice.id, T0 + MINUTE), undefined);
  });

  test("liftSanctions lifts what is in force and counts it", async (store) => {
    const alice = await user(store, "alice");
    const bob = await user(store, "bob");
    const base = { kind: "kick" as const, reason: "", createdAt: T0 };
    await store.addSanction({ ...base, userId: alice.id, until: T0 + MINUTE }, null); // expires
    await store.addSanction({ ...base, userId: alice.id, until: T0 + 60 * MINUTE }, null);
    await store.addSanction({ ...base, userId: alice.id, kind: "ban", until: null }, null);
    await store.addSanction({ ...base, userId: bob.id, kind: "ban", until: null }, null);
    assert.equal(await store.liftSanctions(alice.id, T0 + 2 * MINUTE), 2);
    assert.equal(await store.activeSanction(alice.id, T0 + 3 * MINUTE), undefined);
    assert.equal(await store.liftSanctions(alice.id, T0 + 3 * MINUTE), 0);
    // Bob's ban is untouched.
    assert.equal((await store.activeSanction(bob.id, T0 + 3 * MINUTE))?.kind, "ban");
    // A sanction imposed after the lift is in force again.
    const again = await store.addSanction(
      { ...base, userId: alice.id, until: T0 + 90 * MINUTE, createdAt: T0 + 4 * MINUTE },
      null,
    );
    assert.deepEqual(await store.activeSanction(alice.id, T0 + 5 * MINUTE), again);
  });
}
