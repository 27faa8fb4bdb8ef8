/**
 * The Store contract of mute and slow mode (PROTOCOL 5.4), written only
 * against the `Store` interface so that the same cases run on SQLite and on
 * MySQL/MariaDB.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Store } from "../store/store.ts";
import { contractCases, createUser, seededSalons, T0 } from "./store_fixture.ts";

const MINUTE = 60_000;

/** Registers the mute and slow-mode cases for one adapter (`ignore`: registered but skipped). */
export function storeMuteContract(
  adapterName: string,
  open: () => Promise<Store>,
  opts: { ignore?: boolean } = {},
): void {
  const test = contractCases(adapterName, open, opts, "mute: ");

  test("salons start with slow mode off", async (store) => {
    const salons = await seededSalons(store);
    for (const s of Object.values(salons)) assert.equal(s.slowModeSeconds, 0);
  });

  test("setSlowMode is stored with the salon, survives syncSalons, false for no salon", async (store) => {
    const { Blabla, Général } = await seededSalons(store);
    assert.equal(await store.setSlowMode(Blabla.id, 30), true);
    assert.equal(await store.setSlowMode(Blabla.id, 30), true, "the same value again is no error");
    const listed = await store.listSalons();
    assert.equal(listed.find((s) => s.id === Blabla.id)!.slowModeSeconds, 30);
    assert.equal(listed.find((s) => s.id === Général.id)!.slowModeSeconds, 0);
    const synced = await store.syncSalons(
      (await store.listSalons()).map((s) => ({ name: s.name, policy: s.policy })),
      T0 + MINUTE,
    );
    assert.equal(synced.find((s) => s.id === Blabla.id)!.slowModeSeconds, 30);
    assert.equal(await store.setSlowMode(Blabla.id, 0), true);
    assert.equal((await store.listSalons()).find((s) => s.id === Blabla.id)!.slowModeSeconds, 0);
    assert.equal(await store.setSlowMode(999_999, 10), false);
  });

  test("addMute returns the record; in force until its end, not at it", async (store) => {
    const { Blabla } = await seededSalons(store);
    const mod = await createUser(store, "mod", "Mod", "moderator");
    const bob = await createUser(store, "bob");
    const { mute, replaced } = await store.addMute(
      {
        userId: bob.id,
        salonId: Blabla.id,
        until: T0 + 10 * MINUTE,
        reason: "calm",
        createdAt: T0,
      },
      mod.id,
    );
    assert.ok(mute.id > 0);
    assert.deepEqual(replaced, []);
    assert.deepEqual(mute, {
      id: mute.id,
      userId: bob.id,
      salonId: Blabla.id,
      until: T0 + 10 * MINUTE,
      reason: "calm",
      createdAt: T0,
    });
    assert.deepEqual(await store.activeMutesOf(bob.id, T0 + 10 * MINUTE - 1), [
      { ...mute, by: { username: "mod", role: "moderator" } },
    ]);
    assert.deepEqual(await store.activeMutesOf(bob.id, T0 + 10 * MINUTE), []);
    assert.deepEqual(await store.listActiveMutes(T0 + 10 * MINUTE - 1), [mute]);
    assert.deepEqual(await store.listActiveMutes(T0 + 10 * MINUTE), []);
  });

  test("a mute everywhere (no salon) keeps a null salon and the server as author", async (store) => {
    await seededSalons(store);
    const bob = await createUser(store, "bob");
    const { mute } = await store.addMute(
      { userId: bob.id, salonId: null, until: T0 + MINUTE, reason: "", createdAt: T0 },
      null,
    );
    assert.equal(mute.salonId, null);
    assert.deepEqual(await store.activeMutesOf(bob.id, T0), [{ ...mute, by: null }]);
  });

  test("a new mute replaces the one in force for the same user and salon only", async (store) => {
    const { Blabla, Général } = await seededSalons(store);
    const bob = await createUser(store, "bob");
    const alice = await createUser(store, "alice");
    const add = (userId: number, salonId: number | null, at: number, minutes: number) =>
      store.addMute(
        { userId, salonId, until: at + minutes * MINUTE, reason: "", createdAt: at },
        null,
      );
    const first = await add(bob.id, Blabla.id, T0, 60);
    const elsewhere = await add(bob.id, Général.id, T0, 60);
    const everywhere = await add(bob.id, null, T0, 60);
    const other = await add(alice.id, Blabla.id, T0, 60);
    const second = await add(bob.id, Blabla.id, T0 + MINUTE, 5);
    assert.deepEqual(second.replaced, [first.mute.id]);
    const again = await add(bob.id, null, T0 + MINUTE, 1);
    assert.deepEqual(again.replaced, [everywhere.mute.id]);
    assert.deepEqual(
      (await store.activeMutesOf(bob.id, T0 + MINUTE)).map((m) => m.id),
      [elsewhere.mute.id, second.mute.id, again.mute.id],
    );
    assert.deepEqual(
      (await store.listActiveMutes(T0 + MINUTE)).map((m) => m.id),
      [elsewhere.mute.id, other.mute.id, second.mute.id, again.mute.id],
    );
    // The shorter replacement ends when it says, not when the replaced one would have.
    assert.deepEqual(
      (await store.activeMutesOf(bob.id, T0 + 6 * MINUTE)).map((m) => m.id),
      [elsewhere.mute.id],
    );
  });

  test("liftMutes lifts only the listed mutes in force of that user, and counts them", async (store) => {
    const { Blabla } = await seededSalons(store);
    const bob = await createUser(store, "bob");
    const alice = await createUser(store, "alice");
    const mk = (userId: number, salonId: number | null, minutes: number) =>
      store.addMute(
        { userId, salonId, until: T0 + minutes * MINUTE, reason: "", createdAt: T0 },
        null,
      ).then((r) => r.mute);
    const a = await mk(bob.id, Blabla.id, 10);
    const b = await mk(bob.id, null, 10);
    const c = await mk(alice.id, null, 10);
    assert.equal(await store.liftMutes(bob.id, T0 + MINUTE, []), 0);
    assert.equal(await store.liftMutes(bob.id, T0 + MINUTE, [a.id, c.id]), 1, "not alice's");
    assert.deepEqual((await store.activeMutesOf(bob.id, T0 + MINUTE)).map((m) => m.id), [b.id]);
    assert.equal(await store.liftMutes(bob.id, T0 + MINUTE, [a.id]), 0, "already lifted");
    assert.equal(await store.liftMutes(bob.id, T0 + 10 * MINUTE, [b.id]), 0, "already over");
    assert.deepEqual((await store.listActiveMutes(T0 + MINUTE)).map((m) => m.id), [b.id, c.id]);
  });

  test("a mute's reason is stored verbatim (SQL metacharacters, Unicode)", async (store) => {
    await seededSalons(store);
    const bob = await createUser(store, "bob");
    const reason = "'; DROP TABLE mutes; -- é😀 \\ %_";
    const { mute } = await store.addMute(
      { userId: bob.id, salonId: null, until: T0 + MINUTE, reason, createdAt: T0 },
      null,
    );
    assert.equal((await store.activeMutesOf(bob.id, T0))[0].reason, reason);
    assert.equal((await store.listActiveMutes(T0))[0].id, mute.id);
  });

  test("audit actions mute, unmute and slow_mode are stored", async (store) => {
    for (const action of ["mute", "unmute", "slow_mode"] as const) {
      await store.addAudit({ at: T0, actor: "mod", action, target: "bob", reason: "", via: "ws" });
    }
    assert.deepEqual((await store.listAudit(3)).map((e) => e.action), [
      "slow_mode",
      "unmute",
      "mute",
    ]);
  });
}
