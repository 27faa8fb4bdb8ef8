/**
 * The Store contract for mentions (PROTOCOL.md 5.3, migration 5): stored with
 * the message in the same write, read back by history without parsing, and
 * counted per salon for the welcome (`unreadMentions`, at most 1000). Written
 * only against the `Store` interface so the same cases run against every
 * adapter.
 *
 * @module
 */

import assert from "node:assert/strict";
import { parseSalons } from "../config/salons.ts";
import {
  type Mention,
  type NewMessage,
  type Store,
  UNREAD_MENTIONS_CAP,
  type UserRecord,
} from "../store/store.ts";
import { contractCases, createUser, seededSalons, T0 } from "./store_fixture.ts";

/** Registers the mention cases for one adapter (`ignore`: registered but skipped). */
export function storeMentionsContract(
  adapterName: string,
  open: () => Promise<Store>,
  opts: { ignore?: boolean } = {},
): void {
  const test = contractCases(adapterName, open, opts, "mentions: ");

  const user = createUser;

  const seeded = seededSalons;

  const mention = (u: UserRecord): Mention => ({ userId: u.id, username: u.username });

  const said = (
    salonId: number,
    u: UserRecord,
    text: string,
    mentioned: UserRecord[] = [],
  ): NewMessage => ({
    kind: "salon",
    salonId,
    userId: u.id,
    text,
    at: T0,
    ...(mentioned.length > 0 ? { mentions: mentioned.map(mention) } : {}),
  });

  const dm = (from: UserRecord, to: UserRecord, text: string): NewMessage => ({
    kind: "direct",
    fromUserId: from.id,
    toUserId: to.id,
    text,
    at: T0,
  });

  /** `unreadMentions` as sorted `[salonId, count]` pairs. */
  const counts = async (
    store: Store,
    userId: number,
    salons: Array<{ salonId: number; after: number }>,
  ) => [...(await store.unreadMentions(userId, salons)).entries()].sort((a, b) => a[0] - b[0]);

  test("history returns the mentions stored with each message, in order; none: absent", async (store) => {
    const s = await seeded(store);
    const g = s["Général"].id;
    const [alice, bob, carol] = [
      await user(store, "alice"),
      await user(store, "Bob"),
      await user(store, "carol"),
    ];
    const ids = await store.appendMessages([
      said(g, alice, "@carol @bob hi", [carol, bob]),
      dm(alice, bob, "@bob in private"),
      said(g, bob, "no mention"),
      said(g, carol, "@alice", [alice]),
    ]);
    assert.deepEqual([ids[0], ids[2], ids[3]], [1, 2, 3]);
    const page = await store.salonHistory(g, { limit: 50 });
    assert.deepEqual(page.messages.map((m) => [m.id, m.text, m.mentions]), [
      [1, "@carol @bob hi", ["carol", "Bob"]],
      [2, "no mention", undefined],
      [3, "@alice", ["alice"]],
    ]);
    assert.equal("mentions" in page.messages[1], false, "no mentions key when none");
    const direct = await store.directHistory(alice.id, bob.id, { limit: 50 });
    assert.equal("mentions" in direct.messages[0], false, JSON.stringify(direct.messages[0]));
  });

  test("twenty mentions of 32-character usernames are stored whole", async (store) => {
    const s = await seeded(store);
    const g = s["Général"].id;
    const many: UserRecord[] = [];
    for (let i = 0; i < 20; i++) {
      many.push(await user(store, `u${String(i).padStart(2, "0")}${"x".repeat(29)}`, `U${i}`));
    }
    const author = await user(store, "author");
    // 20 messages mentioning all 20: 400 rows in one batch.
    const batch = Array.from({ length: 20 }, (_, i) => said(g, author, `m${i}`, many));
    assert.deepEqual(await store.appendMessages(batch), batch.map((_, i) => i + 1));
    const page = await store.salonHistory(g, { limit: 50 });
    assert.equal(page.messages.length, 20);
    for (const m of page.messages) assert.deepEqual(m.mentions, many.map((u) => u.username));
    for (const u of many) {
      assert.deepEqual(await counts(store, u.id, [{ salonId: g, after: 0 }]), [[g, 20]]);
    }
  });

  test("unreadMentions counts the messages above `after` that mention the user, per salon", async (store) => {
    const s = await seeded(store);
    const [g, b, c] = [s["Général"].id, s["Blabla"].id, s["Comptabilité"].id];
    const [alice, bob, carol] = [
      await user(store, "alice"),
      await user(store, "bob"),
      await user(store, "carol"),
    ];
    await store.appendMessages([
      said(g, alice, "@bob 1", [bob]), // g1
      said(g, alice, "@carol 2", [carol]), // g2
      said(g, carol, "@bob @alice 3", [bob, alice]), // g3
      said(b, alice, "@bob b1", [bob]), // b1
      said(g, alice, "plain 4"), // g4
      said(g, carol, "@bob 5", [bob]), // g5
    ]);
    const all = [{ salonId: g, after: 0 }, { salonId: b, after: 0 }, { salonId: c, after: 0 }];
    assert.deepEqual(
      await counts(store, bob.id, all),
      [[g, 3], [b, 1], [c, 0]].sort((x, y) => x[0] - y[0]),
    );
    // Strictly above `after`.
    assert.deepEqual(await counts(store, bob.id, [{ salonId: g, after: 1 }]), [[g, 2]]);
    assert.deepEqual(await counts(store, bob.id, [{ salonId: g, after: 3 }]), [[g, 1]]);
    assert.deepEqual(await counts(store, bob.id, [{ salonId: g, after: 5 }]), [[g, 0]]);
    assert.deepEqual(await counts(store, bob.id, [{ salonId: b, after: 1 }]), [[b, 0]]);
    // Each user counts only the messages that mention them.
    assert.deepEqual(await counts(store, carol.id, [{ salonId: g, after: 0 }]), [[g, 1]]);
    assert.deepEqual(await counts(store, alice.id, [{ salonId: g, after: 2 }]), [[g, 1]]);
    // Nothing asked, nothing answered.
    assert.deepEqual(await counts(store, bob.id, []), []);
  });

  test("unreadMentions answers many salons at once", async (store) => {
    const salons = await store.syncSalons(
      parseSalons(
        ["Général:auto", ...Array.from({ length: 40 }, (_, i) => `S${i}:open`)].join(","),
      ),
      T0,
    );
    const [alice, bob] = [await user(store, "alice"), await user(store, "bob")];
    // Salon i gets i messages mentioning bob.
    const batch: NewMessage[] = [];
    salons.forEach((salon, i) => {
      for (let k = 0; k < i; k++) batch.push(said(salon.id, alice, `@bob ${k}`, [bob]));
    });
    await store.appendMessages(batch);
    const asked = salons.map((salon) => ({ salonId: salon.id, after: 1 }));
    const answer = await store.unreadMentions(bob.id, asked);
    assert.equal(answer.size, salons.length);
    salons.forEach((salon, i) =>
      assert.equal(answer.get(salon.id), Math.max(0, i - 1), salon.name)
    );
  });

  test(`unreadMentions stops at ${UNREAD_MENTIONS_CAP}`, async (store) => {
    const s = await seeded(store);
    const g = s["Général"].id;
    const [alice, bob] = [await user(store, "alice"), await user(store, "bob")];
    const n = UNREAD_MENTIONS_CAP + 5;
    await store.appendMessages(
      Array.from({ length: n }, (_, i) => said(g, alice, `@bob ${i}`, [bob])),
    );
    assert.equal(UNREAD_MENTIONS_CAP, 1000);
    assert.deepEqual(await counts(store, bob.id, [{ salonId: g, after: 0 }]), [[g, 1000]]);
    assert.deepEqual(await counts(store, bob.id, [{ salonId: g, after: 5 }]), [[g, 1000]]);
    assert.deepEqual(await counts(store, bob.id, [{ salonId: g, after: 10 }]), [[g, 995]]);
  });

  test("a batch with a mention that cannot be stored fails as a whole", async (store) => {
    const s = await seeded(store);
    const g = s["Général"].id;
    const [alice, bob] = [await user(store, "alice"), await user(store, "bob")];
    const ghost = { ...bob, id: bob.id + 1000, username: "ghost" };
    await assert.rejects(
      store.appendMessages([said(g, alice, "@bob", [bob]), said(g, alice, "@ghost", [ghost])]),
    );
    assert.deepEqual((await store.salonHistory(g, { limit: 50 })).messages, []);
    assert.deepEqual(await counts(store, bob.id, [{ salonId: g, after: 0 }]), [[g, 0]]);
    // The counter did not move: the next message is 1.
    assert.deepEqual(await store.appendMessages([said(g, alice, "@bob", [bob])]), [1]);
  });

  test("a ban with purge takes the purged messages out of the count, others stay", async (store) => {
    const s = await seeded(store);
    const [g, b] = [s["Général"].id, s["Blabla"].id];
    const [alice, bob, carol] = [
      await user(store, "alice"),
      await user(store, "bob"),
      await user(store, "carol"),
    ];
    await store.appendMessages([
      said(g, alice, "@bob spam", [bob, carol]),
      said(g, carol, "@bob kept", [bob]),
      said(b, alice, "@bob spam", [bob]),
      said(g, bob, "@alice", [alice]),
    ]);
    await store.ban({ userId: alice.id, reason: "spam", createdAt: T0 }, null, true);
    const both = [{ salonId: g, after: 0 }, { salonId: b, after: 0 }];
    assert.deepEqual(
      await counts(store, bob.id, both),
      [[g, 1], [b, 0]].sort((x, y) => x[0] - y[0]),
    );
    assert.deepEqual(
      await counts(store, carol.id, both),
      [[g, 0], [b, 0]].sort((x, y) => x[0] - y[0]),
    );
    // Mentions of the banned user by others stay with their messages.
    assert.deepEqual(await counts(store, alice.id, [{ salonId: g, after: 0 }]), [[g, 1]]);
    const page = await store.salonHistory(g, { limit: 50 });
    assert.deepEqual(page.messages.map((m) => [m.text, m.mentions]), [
      ["@bob kept", ["bob"]],
      ["@alice", ["alice"]],
    ]);
  });
}
