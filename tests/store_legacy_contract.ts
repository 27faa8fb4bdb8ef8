/**
 * The Store contract of importing the original server's database (issue 13):
 * `legacyState`, `importLegacy` (one transaction per batch, idempotent
 * mappings, ids in batch order with original times, marks that never go
 * back) and `upgradePassword`, written against the interface so that it runs
 * on SQLite and on MariaDB.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ConflictError, type Store } from "../store/store.ts";
import { contractCases, createUser, HASH, seededSalons, T0 } from "./store_fixture.ts";

const LEGACY = "$legacy-sha256$" + "ab".repeat(32);

/** Registers the legacy-import cases for one adapter (`ignore`: registered but skipped). */
export function storeLegacyContract(
  adapterName: string,
  open: () => Promise<Store>,
  opts: { ignore?: boolean } = {},
): void {
  const test = contractCases(adapterName, open, opts, "legacy: ");

  const legacyUser = (legacyId: number, username: string, passwordHash = LEGACY) => ({
    legacyId,
    user: { username, alias: username, passwordHash, role: "member" as const },
    createdAt: T0,
  });

  test("a fresh store has mapped nothing and read nothing", async (store) => {
    const state = await store.legacyState();
    assert.equal(state.clients.size, 0);
    assert.equal(state.salons.size, 0);
    assert.deepEqual(state.marks, { membership: 0, message: 0 });
  });

  test("users are created in the auto salon, mapped, and never created twice", async (store) => {
    const salons = await seededSalons(store);
    const first = await store.importLegacy({ users: [legacyUser(7, "Alice")] });
    assert.equal(first.userIds.length, 1);
    const alice = await store.userByName("alice");
    assert.equal(alice?.id, first.userIds[0]);
    assert.equal(alice?.passwordHash, LEGACY);
    assert.deepEqual(await store.memberSalonIds(alice!.id), [salons["Général"].id]);
    // The same original row again: the same id, no second account.
    const again = await store.importLegacy({ users: [legacyUser(7, "Alice_2")] });
    assert.deepEqual(again.userIds, first.userIds);
    assert.equal(await store.userByName("Alice_2"), undefined);
    assert.deepEqual([...(await store.legacyState()).clients], [[7, alice!.id]]);
  });

  test("a taken username or alias rolls the whole batch back", async (store) => {
    const salons = await seededSalons(store);
    await createUser(store, "bob");
    await assert.rejects(
      store.importLegacy({
        users: [legacyUser(1, "carol"), legacyUser(2, "BOB")],
        messages: [{ salonId: salons["Général"].id, userId: 1, text: "x", at: T0 }],
        marks: { message: 10 },
      }),
      (e) => e instanceof ConflictError && e.field === "username",
    );
    assert.equal(await store.userByName("carol"), undefined);
    const state = await store.legacyState();
    assert.equal(state.clients.size, 0);
    assert.equal(state.marks.message, 0);
    assert.equal(
      (await store.salonHistory(salons["Général"].id, { limit: 10 })).messages.length,
      0,
    );
  });

  test("messages get per-salon ids in batch order with their original times", async (store) => {
    const salons = await seededSalons(store);
    const { userIds: [a, b] } = await store.importLegacy({
      users: [legacyUser(1, "alice"), legacyUser(2, "bruno")],
    });
    const g = salons["Général"].id;
    const blabla = salons["Blabla"].id;
    const result = await store.importLegacy({
      messages: [
        { salonId: g, userId: a, text: "one", at: T0 + 3000 },
        { salonId: blabla, userId: b, text: "elsewhere", at: T0 + 1000 },
        { salonId: g, userId: b, text: "two 😀", at: T0 + 2000 },
      ],
      marks: { message: 3 },
    });
    assert.deepEqual(result.messageIds, [1, 1, 2]);
    const page = await store.salonHistory(g, { limit: 10 });
    assert.deepEqual(
      page.messages.map((m) => [m.id, m.from.username, m.text, m.at]),
      [[1, "alice", "one", T0 + 3000], [2, "bruno", "two 😀", T0 + 2000]],
    );
    // A later batch goes on from the salon's counter; a live message after it too.
    const later = await store.importLegacy({
      messages: [{ salonId: g, userId: a, text: "three", at: T0 + 4000 }],
      marks: { message: 2 }, // a mark never goes back
    });
    assert.deepEqual(later.messageIds, [3]);
    assert.deepEqual(
      await store.appendMessages([{ kind: "salon", salonId: g, userId: b, text: "live", at: T0 }]),
      [4],
    );
    assert.equal((await store.legacyState()).marks.message, 3);
    // Each sender's marker moved to their own newest message.
    const [catchup] = await store.salonCatchup(a, [g]);
    assert.equal(catchup.lastRead, 3);
  });

  test("a batch naming a missing salon stores nothing", async (store) => {
    await seededSalons(store);
    await assert.rejects(store.importLegacy({
      users: [legacyUser(1, "alice")],
      messages: [{ salonId: 999_999, userId: 1, text: "lost", at: T0 }],
      marks: { message: 1, membership: 4 },
    }));
    assert.equal(await store.userByName("alice"), undefined);
    assert.deepEqual((await store.legacyState()).marks, { membership: 0, message: 0 });
  });

  test("salon mappings, memberships and read markers are idempotent", async (store) => {
    const salons = await seededSalons(store);
    const { userIds: [a] } = await store.importLegacy({ users: [legacyUser(1, "alice")] });
    const compta = salons["Comptabilité"].id;
    const batch = {
      salons: [{ legacyId: 3, salonId: compta }],
      memberships: [{ salonId: compta, userId: a, at: T0 }],
      marks: { membership: 12 },
    };
    assert.equal((await store.importLegacy(batch)).membershipsAdded, 1);
    assert.equal((await store.importLegacy(batch)).membershipsAdded, 0);
    const state = await store.legacyState();
    assert.deepEqual([...state.salons], [[3, compta]]);
    assert.equal(state.marks.membership, 12);
    assert.ok((await store.memberSalonIds(a)).includes(compta));
    await store.importLegacy({
      messages: [{ salonId: compta, userId: a, text: "m", at: T0 }],
    });
    await store.importLegacy({
      messages: [{ salonId: compta, userId: a, text: "n", at: T0 }],
    });
    await store.markRead({ userId: a, salonId: compta, id: 1 });
    await store.importLegacy({ read: [{ userId: a, salonId: compta, lastRead: 2 }] });
    assert.equal((await store.salonCatchup(a, [compta]))[0].lastRead, 2);
    await store.importLegacy({ read: [{ userId: a, salonId: compta, lastRead: 1 }] });
    assert.equal((await store.salonCatchup(a, [compta]))[0].lastRead, 2, "never back");
  });

  test("upgradePassword replaces only the expected hash and keeps sessions", async (store) => {
    await seededSalons(store);
    const { userIds: [a] } = await store.importLegacy({ users: [legacyUser(1, "alice")] });
    await store.createSession(a, "tok", { now: T0, maxIdleMs: 86_400_000, maxPerUser: 5 });
    assert.equal(await store.upgradePassword(a, "$legacy-sha256$other", HASH), false);
    assert.equal((await store.userById(a))?.passwordHash, LEGACY);
    assert.equal(await store.upgradePassword(a, LEGACY, HASH), true);
    assert.equal((await store.userById(a))?.passwordHash, HASH);
    assert.equal(await store.upgradePassword(a, LEGACY, HASH), false, "already upgraded");
    const owner = await store.sessionUser("tok", { now: T0, maxIdleMs: 86_400_000 });
    assert.equal(owner?.id, a);
  });
}
