/**
 * The Store contract for catching up (PROTOCOL.md 5.2): history pages after an
 * id, read markers moved forward only (by `read`, and by the sender's own
 * messages in the same commit), the catch-up counts of a welcome and the
 * conversations list. Written only against the `Store` interface so the same
 * cases run against every adapter; each case opens a fresh, empty store.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type ConversationPage,
  type HistoryPage,
  type NewMessage,
  type Store,
  UNREAD_MAX,
  type UserRecord,
} from "../store/store.ts";
import { contractCases, createUser, seededSalons, T0 } from "./store_fixture.ts";

/** Registers the catch-up contract cases for one adapter (`ignore`: registered but skipped). */
export function storeCatchupContract(
  adapterName: string,
  open: () => Promise<Store>,
  opts: { ignore?: boolean } = {},
): void {
  const test = contractCases(adapterName, open, opts);

  const user = createUser;

  const seeded = seededSalons;

  const said = (salonId: number, u: UserRecord, text: string, at = T0): NewMessage => ({
    kind: "salon",
    salonId,
    userId: u.id,
    text,
    at,
  });

  const dm = (from: UserRecord, to: UserRecord, text: string, at = T0): NewMessage => ({
    kind: "direct",
    fromUserId: from.id,
    toUserId: to.id,
    text,
    at,
  });

  const ids = (page: HistoryPage) => page.messages.map((m) => m.id);
  const texts = (page: HistoryPage) => page.messages.map((m) => m.text);
  const listed = (page: ConversationPage) =>
    page.conversations.map((c) => [c.other.username, c.latest, c.lastRead, c.unread, c.at]);

  // --- history after an id ----------------------------------------------------

  test("salonHistory after: the oldest `limit` above the id, more when newer exist", async (store) => {
    const g = (await seeded(store))["Général"].id;
    const alice = await user(store, "alice");
    await store.appendMessages([1, 2, 3, 4, 5].map((n) => said(g, alice, `m${n}`)));
    const p0 = await store.salonHistory(g, { after: 0, limit: 2 });
    assert.deepEqual([ids(p0), texts(p0), p0.more], [[1, 2], ["m1", "m2"], true]);
    const p2 = await store.salonHistory(g, { after: 2, limit: 2 });
    assert.deepEqual([ids(p2), p2.more], [[3, 4], true]);
    const p4 = await store.salonHistory(g, { after: 4, limit: 2 });
    assert.deepEqual([ids(p4), p4.more], [[5], false]);
    const all = await store.salonHistory(g, { after: 3, limit: 2 });
    assert.deepEqual([ids(all), all.more], [[4, 5], false]);
    assert.deepEqual(await store.salonHistory(g, { after: 5, limit: 50 }), {
      messages: [],
      more: false,
    });
    // The author and time come along as with `before`.
    assert.deepEqual(p0.messages[0].from, { username: "alice", alias: "alice" });
    assert.equal(p0.messages[0].at, T0);
  });

  test("directHistory after: one conversation only, oldest first", async (store) => {
    await seeded(store);
    const [alice, bob, carol] = [
      await user(store, "alice"),
      await user(store, "bob"),
      await user(store, "carol"),
    ];
    const sent = await store.appendMessages([
      dm(alice, bob, "ab1"),
      dm(carol, alice, "ca1"),
      dm(bob, alice, "ba2"),
      dm(alice, bob, "ab3"),
    ]);
    const first = await store.directHistory(bob.id, alice.id, { after: 0, limit: 2 });
    assert.deepEqual([texts(first), first.more], [["ab1", "ba2"], true]);
    const rest = await store.directHistory(alice.id, bob.id, { after: sent[2], limit: 2 });
    assert.deepEqual([texts(rest), rest.more], [["ab3"], false]);
    assert.deepEqual(rest.messages[0].to, { username: "bob", alias: "bob" });
  });

  // --- read markers -------------------------------------------------------------

  test("salonCatchup: latest, lastRead, unread; a sender's marker moves with their message", async (store) => {
    const s = await seeded(store);
    const [g, b] = [s["Général"].id, s["Blabla"].id];
    const [alice, bob, carol] = [
      await user(store, "alice"),
      await user(store, "bob"),
      await user(store, "carol"),
    ];
    await store.appendMessages([
      said(g, alice, "1"),
      said(g, alice, "2"),
      said(g, bob, "3"),
      said(g, alice, "4"),
      said(g, bob, "5"),
    ]);
    assert.deepEqual(await store.salonCatchup(alice.id, [g, b]), [
      { salonId: g, latest: 5, lastRead: 4, unread: 1 },
      { salonId: b, latest: 0, lastRead: 0, unread: 0 },
    ]);
    assert.deepEqual(await store.salonCatchup(bob.id, [g]), [
      { salonId: g, latest: 5, lastRead: 5, unread: 0 },
    ]);
    // Nobody's marker: everything is unread.
    assert.deepEqual(await store.salonCatchup(carol.id, [g]), [
      { salonId: g, latest: 5, lastRead: 0, unread: 5 },
    ]);
    assert.deepEqual(await store.salonCatchup(carol.id, []), []);
  });

  test("markRead in a salon: forward only, an id never handed out refused", async (store) => {
    const s = await seeded(store);
    const g = s["Général"].id;
    const [alice, bob] = [await user(store, "alice"), await user(store, "bob")];
    await store.appendMessages([1, 2, 3, 4, 5, 6].map((n) => said(g, alice, `m${n}`)));
    assert.deepEqual(await store.markRead({ userId: bob.id, salonId: g, id: 4 }), {
      outcome: "moved",
      lastRead: 4,
      latest: 6,
    });
    assert.deepEqual(await store.markRead({ userId: bob.id, salonId: g, id: 2 }), {
      outcome: "kept",
      lastRead: 4,
      latest: 6,
    });
    assert.deepEqual(await store.markRead({ userId: bob.id, salonId: g, id: 4 }), {
      outcome: "kept",
      lastRead: 4,
      latest: 6,
    });
    assert.deepEqual(await store.markRead({ userId: bob.id, salonId: g, id: 7 }), {
      outcome: "beyond",
      lastRead: 4,
      latest: 6,
    });
    assert.deepEqual(await store.salonCatchup(bob.id, [g]), [
      { salonId: g, latest: 6, lastRead: 4, unread: 2 },
    ]);
    assert.equal((await store.markRead({ userId: bob.id, salonId: g, id: 6 })).outcome, "moved");
    assert.deepEqual(await store.salonCatchup(bob.id, [g]), [
      { salonId: g, latest: 6, lastRead: 6, unread: 0 },
    ]);
    // A lower id after a say does not move the marker back either.
    await store.appendMessages([said(g, bob, "mine")]);
    assert.equal((await store.markRead({ userId: bob.id, salonId: g, id: 1 })).lastRead, 7);
    // A salon with no message: any id is refused.
    const b = s["Blabla"].id;
    assert.deepEqual(await store.markRead({ userId: bob.id, salonId: b, id: 1 }), {
      outcome: "beyond",
      lastRead: 0,
      latest: 0,
    });
  });

  test(`unread stops at ${UNREAD_MAX}`, async (store) => {
    const g = (await seeded(store))["Général"].id;
    const [alice, bob] = [await user(store, "alice"), await user(store, "bob")];
    const batch = Array.from({ length: UNREAD_MAX + 5 }, (_, i) => said(g, alice, `m${i}`));
    await store.appendMessages(batch);
    assert.deepEqual(await store.salonCatchup(bob.id, [g]), [
      { salonId: g, latest: UNREAD_MAX + 5, lastRead: 0, unread: UNREAD_MAX },
    ]);
    await store.markRead({ userId: bob.id, salonId: g, id: 4 });
    assert.equal((await store.salonCatchup(bob.id, [g]))[0].unread, UNREAD_MAX);
    await store.markRead({ userId: bob.id, salonId: g, id: 100 });
    assert.equal((await store.salonCatchup(bob.id, [g]))[0].unread, UNREAD_MAX + 5 - 100);
  });

  // --- conversations ------------------------------------------------------------

  test("conversations: newest first, both sides, the sender's marker moved", async (store) => {
    await seeded(store);
    const [alice, bob, carol] = [
      await user(store, "alice"),
      await user(store, "bob"),
      await user(store, "carol"),
    ];
    const [ab, ca, ba, self] = await store.appendMessages([
      dm(alice, bob, "ab", T0 + 1),
      dm(carol, alice, "ca", T0 + 2),
      dm(bob, alice, "ba", T0 + 3),
      dm(alice, alice, "note", T0 + 4),
    ]);
    assert.deepEqual(listed(await store.conversations(alice.id, { limit: 50 })), [
      ["alice", self, self, 0, T0 + 4],
      ["bob", ba, ab, 1, T0 + 3],
      ["carol", ca, 0, 1, T0 + 2],
    ]);
    assert.deepEqual(listed(await store.conversations(bob.id, { limit: 50 })), [
      ["alice", ba, ba, 0, T0 + 3],
    ]);
    assert.deepEqual(listed(await store.conversations(carol.id, { limit: 50 })), [
      ["alice", ca, ca, 0, T0 + 2],
    ]);
    const page = await store.conversations(alice.id, { limit: 50 });
    assert.deepEqual(page.conversations[1].other, {
      id: bob.id,
      username: "bob",
      alias: "bob",
      role: "member",
    });
    assert.equal(page.more, false);
    // Paging: before an `at` already seen.
    const first = await store.conversations(alice.id, { limit: 2 });
    assert.deepEqual([first.conversations.map((c) => c.other.username), first.more], [
      ["alice", "bob"],
      true,
    ]);
    const next = await store.conversations(alice.id, {
      before: first.conversations[1].at,
      limit: 2,
    });
    assert.deepEqual([next.conversations.map((c) => c.other.username), next.more], [
      ["carol"],
      false,
    ]);
  });

  test("conversations: a page never splits conversations of the same time", async (store) => {
    await seeded(store);
    const alice = await user(store, "alice");
    const others = [];
    for (const name of ["bob", "carol", "dave", "erin"]) others.push(await user(store, name));
    // bob at T0+5, carol and dave at T0+3 (same ms), erin at T0+1.
    await store.appendMessages([
      dm(others[3], alice, "e", T0 + 1),
      dm(others[1], alice, "c", T0 + 3),
      dm(others[2], alice, "d", T0 + 3),
      dm(others[0], alice, "b", T0 + 5),
    ]);
    const seen: string[] = [];
    let before: number | undefined;
    for (let i = 0; i < 5; i++) {
      const page = await store.conversations(alice.id, { limit: 2, before });
      seen.push(...page.conversations.map((c) => c.other.username));
      if (!page.more) break;
      before = page.conversations[page.conversations.length - 1].at;
    }
    assert.deepEqual([...seen].sort(), ["bob", "carol", "dave", "erin"]);
    assert.equal(new Set(seen).size, 4);
    // A page of one cannot hold a group of two: the whole group comes.
    const one = await store.conversations(alice.id, { limit: 1, before: T0 + 5 });
    assert.deepEqual(one.conversations.map((c) => c.other.username).sort(), ["carol", "dave"]);
    assert.equal(one.more, true);
  });

  test("markRead in a conversation: forward only, beyond the newest refused", async (store) => {
    await seeded(store);
    const [alice, bob, carol] = [
      await user(store, "alice"),
      await user(store, "bob"),
      await user(store, "carol"),
    ];
    const [a1, a2, a3] = await store.appendMessages([
      dm(alice, bob, "1"),
      dm(alice, bob, "2"),
      dm(alice, bob, "3"),
    ]);
    assert.deepEqual(await store.markRead({ userId: bob.id, otherId: alice.id, id: a2 }), {
      outcome: "moved",
      lastRead: a2,
      latest: a3,
    });
    assert.equal(
      (await store.markRead({ userId: bob.id, otherId: alice.id, id: a1 })).outcome,
      "kept",
    );
    assert.deepEqual(await store.markRead({ userId: bob.id, otherId: alice.id, id: a3 + 1 }), {
      outcome: "beyond",
      lastRead: a2,
      latest: a3,
    });
    assert.deepEqual(listed(await store.conversations(bob.id, { limit: 5 })), [
      ["alice", a3, a2, 1, T0],
    ]);
    // No conversation at all: nothing to mark.
    assert.deepEqual(await store.markRead({ userId: carol.id, otherId: alice.id, id: a1 }), {
      outcome: "beyond",
      lastRead: 0,
      latest: 0,
    });
    assert.deepEqual(listed(await store.conversations(carol.id, { limit: 5 })), []);
  });

  test("a ban with purge leaves conversations pointing at what remains", async (store) => {
    await seeded(store);
    const [alice, bob, carol] = [
      await user(store, "alice"),
      await user(store, "bob"),
      await user(store, "spam"),
    ];
    const [ab] = await store.appendMessages([
      dm(alice, bob, "kept", T0 + 1),
      dm(carol, bob, "spam to bob", T0 + 2),
      dm(bob, carol, "answer", T0 + 3),
      dm(carol, alice, "spam to alice", T0 + 4),
      dm(carol, bob, "more spam", T0 + 5),
    ]);
    await store.ban({ userId: carol.id, reason: "spam", createdAt: T0 + 10 }, null, true);
    const bobs = (await store.conversations(bob.id, { limit: 5 })).conversations;
    assert.deepEqual(bobs.map((c) => [c.other.username, c.at]), [["spam", T0 + 3], [
      "alice",
      T0 + 1,
    ]]);
    // Alice's only message from spam is gone: that conversation went.
    assert.deepEqual(listed(await store.conversations(alice.id, { limit: 5 })), [
      ["bob", ab, ab, 0, T0 + 1],
    ]);
  });
}
