/**
 * The Store contract for what the real-time chat needs: committing messages,
 * reading history, memberships and join requests. Written only against the
 * `Store` interface so the same cases run against every adapter.
 *
 * Each case opens a fresh, empty store with `open()` and closes it.
 *
 * @module
 */

import assert from "node:assert/strict";
import type {
  HistoryPage,
  NewMessage,
  SalonUserRow,
  Store,
  StoredMessage,
  UserRecord,
} from "../store/store.ts";
import { contractCases, createUser, seededSalons, T0 } from "./store_fixture.ts";

const MINUTE = 60_000;

/** Registers the real-time contract cases for one adapter (`ignore`: registered but skipped). */
export function storeRealtimeContract(
  adapterName: string,
  open: () => Promise<Store>,
  opts: { ignore?: boolean } = {},
): void {
  const test = contractCases(adapterName, open, opts);

  const user = createUser;

  const seeded = seededSalons;

  // An id no salon has.
  const unknownSalonId = async (store: Store) =>
    Math.max(0, ...(await store.listSalons()).map((s) => s.id)) + 1000;

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
  const sorted = (list: number[]) => [...list].sort((a, b) => a - b);

  function assertGrowing(list: number[], what: string) {
    for (const id of list) assert.ok(Number.isSafeInteger(id) && id > 0, `${what}: ${list}`);
    for (let i = 1; i < list.length; i++) {
      assert.ok(list[i] > list[i - 1], `${what} do not grow: ${list}`);
    }
  }

  // The error of a call that must fail, however it reports it (undefined if it succeeded).
  async function failure(fn: () => Promise<unknown>): Promise<unknown> {
    try {
      await fn();
    } catch (e) {
      return e ?? new Error("failed with nothing");
    }
    return undefined;
  }

  // A membership or request row reduced to what a test compares.
  const row = (r: SalonUserRow) => ({
    salonId: r.salonId,
    userId: r.user.id,
    username: r.user.username,
    alias: r.user.alias,
    role: r.user.role,
    since: r.since,
  });
  const rowKey = (r: { salonId: number; userId: number }) => `${r.salonId}/${r.userId}`;
  const rows = (list: SalonUserRow[]) =>
    list.map(row).sort((a, b) => rowKey(a).localeCompare(rowKey(b)));
  const expectRows = (list: ReturnType<typeof row>[]) =>
    [...list].sort((a, b) => rowKey(a).localeCompare(rowKey(b)));
  const rowOf = (
    salonId: number,
    u: UserRecord,
    since: number,
  ): ReturnType<typeof row> => ({
    salonId,
    userId: u.id,
    username: u.username,
    alias: u.alias,
    role: u.role,
    since,
  });

  // --- appendMessages ---------------------------------------------------------

  test("appendMessages: an empty batch stores nothing and returns no id", async (store) => {
    const salons = await seeded(store);
    assert.deepEqual(await store.appendMessages([]), []);
    assert.deepEqual(await store.salonHistory(salons["Général"].id, { limit: 10 }), {
      messages: [],
      more: false,
    });
  });

  test("appendMessages: a mixed batch returns ids in order, per salon from 1", async (store) => {
    const salons = await seeded(store);
    const g = salons["Général"].id;
    const b = salons["Blabla"].id;
    const alice = await user(store, "alice", "Alice");
    const bob = await user(store, "bob", "Bob");
    await store.addMember(b, alice.id, T0);
    await store.addMember(b, bob.id, T0);

    const first = await store.appendMessages([
      said(g, alice, "g1"),
      said(b, bob, "b1"),
      said(g, bob, "g2"),
      dm(alice, bob, "d1"),
      said(g, alice, "g3"),
      dm(bob, alice, "d2"),
      said(b, alice, "b2"),
    ]);
    assert.equal(first.length, 7);
    // Salon ids: one counter per salon, starting at 1, in batch order.
    assert.deepEqual([first[0], first[2], first[4]], [1, 2, 3]);
    assert.deepEqual([first[1], first[6]], [1, 2]);
    // Direct ids grow within the conversation.
    assertGrowing([first[3], first[5]], "direct ids");

    // Each id belongs to the message at its position in the batch.
    const general = await store.salonHistory(g, { limit: 50 });
    assert.deepEqual(general.messages.map((m) => [m.id, m.text]), [[1, "g1"], [2, "g2"], [
      3,
      "g3",
    ]]);
    const blabla = await store.salonHistory(b, { limit: 50 });
    assert.deepEqual(blabla.messages.map((m) => [m.id, m.text]), [[1, "b1"], [2, "b2"]]);
    const direct = await store.directHistory(alice.id, bob.id, { limit: 50 });
    assert.deepEqual(direct.messages.map((m) => [m.id, m.text]), [[first[3], "d1"], [
      first[5],
      "d2",
    ]]);

    // A later batch continues every counter.
    const second = await store.appendMessages([
      dm(alice, bob, "d3"),
      said(b, bob, "b3"),
      said(g, alice, "g4"),
    ]);
    assert.equal(second[1], 3);
    assert.equal(second[2], 4);
    assertGrowing([first[3], first[5], second[0]], "direct ids");
    // A salon nobody wrote in has no message yet: its first one gets 1.
    const c = salons["Comptabilité"].id;
    await store.addMember(c, alice.id, T0);
    assert.deepEqual(await store.appendMessages([said(c, alice, "c1")]), [1]);
  });

  test("appendMessages: many messages of one salon in one batch get 1..N", async (store) => {
    const salons = await seeded(store);
    const g = salons["Général"].id;
    const alice = await user(store, "alice");
    const batch = Array.from({ length: 250 }, (_, i) => said(g, alice, `m${i + 1}`, T0 + i));
    const got = await store.appendMessages(batch);
    assert.deepEqual(got, Array.from({ length: 250 }, (_, i) => i + 1));
    const page = await store.salonHistory(g, { limit: 250 });
    assert.deepEqual(ids(page), got);
    assert.deepEqual(texts(page), batch.map((m) => m.text));
    assert.deepEqual(page.messages.map((m) => m.at), batch.map((m) => m.at));
    assert.equal(page.more, false);
  });

  test("appendMessages: a batch naming an unknown salon fails as a whole", async (store) => {
    const salons = await seeded(store);
    const g = salons["Général"].id;
    const alice = await user(store, "alice");
    const bob = await user(store, "bob");
    const before = await store.appendMessages([said(g, alice, "kept"), dm(alice, bob, "kept dm")]);
    const generalBefore = await store.salonHistory(g, { limit: 50 });
    const directBefore = await store.directHistory(alice.id, bob.id, { limit: 50 });
    assert.deepEqual(texts(generalBefore), ["kept"]);
    assert.deepEqual(texts(directBefore), ["kept dm"]);

    const nowhere = await unknownSalonId(store);
    // How the failure is reported is checked by the next case; here, only that it fails.
    const error = await failure(() =>
      store.appendMessages([
        said(g, alice, "lost 1"),
        dm(alice, bob, "lost dm"),
        said(nowhere, alice, "into the void"),
        said(g, bob, "lost 2"),
      ])
    );
    assert.ok(error !== undefined, "a batch naming an unknown salon was accepted");
    // Nothing of the failed batch was stored, not even what came before the bad message.
    assert.deepEqual(await store.salonHistory(g, { limit: 50 }), generalBefore);
    assert.deepEqual(await store.directHistory(alice.id, bob.id, { limit: 50 }), directBefore);
    assert.deepEqual(await store.salonHistory(nowhere, { limit: 50 }), {
      messages: [],
      more: false,
    });

    // The store goes on working, and ids keep growing past those handed out.
    const after = await store.appendMessages([said(g, bob, "next"), dm(bob, alice, "next dm")]);
    assert.ok(after[0] > before[0], `${after[0]} after ${before[0]}`);
    assert.ok(after[1] > before[1], `${after[1]} after ${before[1]}`);
    assert.deepEqual(texts(await store.salonHistory(g, { limit: 50 })), ["kept", "next"]);
    assert.deepEqual(texts(await store.directHistory(alice.id, bob.id, { limit: 50 })), [
      "kept dm",
      "next dm",
    ]);
  });

  test("appendMessages reports a failed batch by rejecting, never by throwing", async (store) => {
    // A caller may chain `.then(ok, failed)` on any Store method: a synchronous
    // throw skips `failed` and escapes into the caller instead.
    const salons = await seeded(store);
    const alice = await user(store, "alice");
    const nowhere = await unknownSalonId(store);
    let call: Promise<number[]>;
    try {
      call = store.appendMessages([
        said(salons["Général"].id, alice, "x"),
        said(nowhere, alice, "y"),
      ]);
    } catch (e) {
      assert.fail(
        `appendMessages threw synchronously instead of returning a rejected promise: ${e}`,
      );
    }
    await assert.rejects(call);
  });

  test("membership writes report a failure by rejecting, never by throwing", async (store) => {
    // The salon actor chains `.then(stored, failed)` on these: a synchronous
    // throw escapes into the actor instead of reaching `failed`.
    await seeded(store);
    const alice = await user(store, "alice");
    const nowhere = await unknownSalonId(store);
    const calls: Array<[string, () => Promise<unknown>]> = [
      ["addMember", () => store.addMember(nowhere, alice.id, T0)],
      ["addJoinRequest", () => store.addJoinRequest(nowhere, alice.id, T0)],
    ];
    for (const [name, call] of calls) {
      let promise: Promise<unknown>;
      try {
        promise = call();
      } catch (e) {
        assert.fail(`${name} of an unknown salon threw synchronously: ${e}`);
      }
      // Refusing the unknown salon or accepting it are both fine; throwing is not.
      await promise.catch(() => {});
    }
  });

  // --- salonHistory -----------------------------------------------------------

  test("salonHistory of a salon without messages is empty", async (store) => {
    const salons = await seeded(store);
    for (const s of Object.values(salons)) {
      assert.deepEqual(await store.salonHistory(s.id, { limit: 50 }), {
        messages: [],
        more: false,
      });
    }
  });

  test("salonHistory: newest last, with the author's names and the time", async (store) => {
    const salons = await seeded(store);
    const g = salons["Général"].id;
    const alice = await user(store, "Alice", "Alice Liddell");
    const bob = await user(store, "bob", "Bob l'éponge", "moderator");
    await store.appendMessages([said(g, alice, "hello", T0 + 1)]);
    await store.appendMessages([
      said(g, bob, "hi", T0 + 2),
      said(g, alice, "how are you?", T0 + 3),
    ]);
    const page = await store.salonHistory(g, { limit: 50 });
    const expected: StoredMessage[] = [
      { id: 1, from: { username: "Alice", alias: "Alice Liddell" }, text: "hello", at: T0 + 1 },
      { id: 2, from: { username: "bob", alias: "Bob l'éponge" }, text: "hi", at: T0 + 2 },
      {
        id: 3,
        from: { username: "Alice", alias: "Alice Liddell" },
        text: "how are you?",
        at: T0 + 3,
      },
    ];
    assert.equal(page.more, false);
    assert.equal(page.messages.length, 3);
    for (const [i, m] of page.messages.entries()) {
      assert.equal(m.to, undefined, "a salon message has no recipient");
      assert.deepEqual({ id: m.id, from: m.from, text: m.text, at: m.at }, expected[i]);
    }
  });

  test("salonHistory shows only that salon's messages", async (store) => {
    const salons = await seeded(store);
    const g = salons["Général"].id;
    const b = salons["Blabla"].id;
    const alice = await user(store, "alice");
    const bob = await user(store, "bob");
    await store.appendMessages([
      said(g, alice, "g1"),
      said(b, alice, "b1"),
      dm(alice, bob, "private"),
      said(g, bob, "g2"),
      said(b, bob, "b2"),
      said(b, bob, "b3"),
    ]);
    assert.deepEqual(texts(await store.salonHistory(g, { limit: 50 })), ["g1", "g2"]);
    assert.deepEqual(texts(await store.salonHistory(b, { limit: 50 })), ["b1", "b2", "b3"]);
    assert.deepEqual(texts(await store.salonHistory(salons["Marketing"].id, { limit: 50 })), []);
  });

  test("salonHistory pages: limit, before (exclusive) and more at the boundary", async (store) => {
    const salons = await seeded(store);
    const g = salons["Général"].id;
    const alice = await user(store, "alice");
    const got = await store.appendMessages(
      [1, 2, 3, 4, 5].map((n) => said(g, alice, `m${n}`, T0 + n)),
    );
    assert.deepEqual(got, [1, 2, 3, 4, 5]);
    const q = (limit: number, before?: number) =>
      store.salonHistory(g, before === undefined ? { limit } : { limit, before });
    const check = async (
      limit: number,
      before: number | undefined,
      want: number[],
      more: boolean,
    ) => {
      const page = await q(limit, before);
      const where = `limit ${limit}, before ${before}`;
      assert.deepEqual(ids(page), want, where);
      assert.deepEqual(texts(page), want.map((n) => `m${n}`), where);
      assert.equal(page.more, more, where);
    };
    // From the newest.
    await check(10, undefined, [1, 2, 3, 4, 5], false);
    await check(5, undefined, [1, 2, 3, 4, 5], false); // exactly everything: nothing older
    await check(4, undefined, [2, 3, 4, 5], true); // one short: message 1 is older
    await check(1, undefined, [5], true);
    // Before is exclusive.
    await check(10, 5, [1, 2, 3, 4], false);
    await check(2, 5, [3, 4], true);
    await check(2, 3, [1, 2], false); // exactly what is left
    await check(1, 3, [2], true);
    await check(1, 2, [1], false);
    await check(10, 1, [], false);
    // A `before` past the newest is the same as none.
    await check(10, 1000, [1, 2, 3, 4, 5], false);
    await check(3, 6, [3, 4, 5], true);

    // Paging back with `before` = the oldest id shown walks every message once.
    const seen: number[] = [];
    let before: number | undefined;
    for (let round = 0; round < 10; round++) {
      const page = await q(2, before);
      seen.unshift(...ids(page));
      if (!page.more) break;
      before = page.messages[0].id;
    }
    assert.deepEqual(seen, [1, 2, 3, 4, 5]);
  });

  test("salonHistory returns text verbatim: SQL, quotes, emoji, newlines", async (store) => {
    const salons = await seeded(store);
    const g = salons["Général"].id;
    const alice = await user(store, "alice");
    const samples = [
      "'; DROP TABLE messages; --",
      `Robert"); DELETE FROM users WHERE '1'='1'; --`,
      "100% of _ and % are not wildcards \\ \\\\ \\'",
      "/* not a comment */ SELECT * FROM sessions;",
      "emoji 😀 👩🏽‍💻 🇫🇷 family 👨‍👩‍👧‍👦",
      "line one\nline two\r\nline three\n\n",
      "\ttabbed\t",
      "  leading and trailing spaces  ",
      "Andre\u0301 stays decomposed, Andr\u00e9 precomposed",
      "日本語のテキスト and العربية",
      "x".repeat(2000),
      "?",
      "$1 :name @p ${x}",
    ];
    const got = await store.appendMessages(samples.map((t) => said(g, alice, t)));
    const page = await store.salonHistory(g, { limit: 50 });
    assert.deepEqual(ids(page), got);
    assert.deepEqual(texts(page), samples);
    // The tables survived the SQL in the texts.
    assert.equal((await store.userById(alice.id))?.username, "alice");
    assert.deepEqual(await store.appendMessages([said(g, alice, "still here")]), [
      samples.length + 1,
    ]);
  });

  // --- directHistory ----------------------------------------------------------

  test("directHistory: both directions of one conversation, with `to`", async (store) => {
    const alice = await user(store, "Alice", "Alice L.");
    const bob = await user(store, "bob", "Bobby");
    const carol = await user(store, "carol", "Carol");
    const got = await store.appendMessages([
      dm(alice, bob, "a->b 1", T0 + 1),
      dm(bob, alice, "b->a 1", T0 + 2),
      dm(alice, carol, "a->c", T0 + 3),
      dm(carol, bob, "c->b", T0 + 4),
      dm(alice, bob, "a->b 2", T0 + 5),
    ]);
    const A = { username: "Alice", alias: "Alice L." };
    const B = { username: "bob", alias: "Bobby" };
    const expected: StoredMessage[] = [
      { id: got[0], from: A, to: B, text: "a->b 1", at: T0 + 1 },
      { id: got[1], from: B, to: A, text: "b->a 1", at: T0 + 2 },
      { id: got[4], from: A, to: B, text: "a->b 2", at: T0 + 5 },
    ];
    assertGrowing([got[0], got[1], got[4]], "ids of alice and bob");
    const ab = await store.directHistory(alice.id, bob.id, { limit: 50 });
    assert.deepEqual(ab, { messages: expected, more: false });
    // The same conversation whichever side asks.
    assert.deepEqual(await store.directHistory(bob.id, alice.id, { limit: 50 }), ab);
    // Other conversations hold only their own messages.
    const ac = await store.directHistory(carol.id, alice.id, { limit: 50 });
    assert.deepEqual(ac.messages.map((m) => [m.text, m.from.username, m.to?.username]), [[
      "a->c",
      "Alice",
      "carol",
    ]]);
    const cb = await store.directHistory(bob.id, carol.id, { limit: 50 });
    assert.deepEqual(cb.messages.map((m) => [m.text, m.from.username, m.to?.username]), [[
      "c->b",
      "carol",
      "bob",
    ]]);
  });

  test("directHistory of two users who never wrote is empty", async (store) => {
    const alice = await user(store, "alice");
    const bob = await user(store, "bob");
    const carol = await user(store, "carol");
    await store.appendMessages([dm(alice, bob, "hi")]);
    assert.deepEqual(await store.directHistory(alice.id, carol.id, { limit: 50 }), {
      messages: [],
      more: false,
    });
  });

  test("directHistory pages: limit, before (exclusive) and more", async (store) => {
    const alice = await user(store, "alice");
    const bob = await user(store, "bob");
    const carol = await user(store, "carol");
    const got: number[] = [];
    for (let n = 1; n <= 5; n++) {
      // Another conversation interleaved: its ids must not disturb paging.
      const [id] = await store.appendMessages([
        n % 2 ? dm(alice, bob, `m${n}`) : dm(bob, alice, `m${n}`),
        dm(carol, alice, `noise${n}`),
      ]);
      got.push(id);
    }
    assertGrowing(got, "conversation ids");
    const page = (limit: number, before?: number) =>
      store.directHistory(bob.id, alice.id, before === undefined ? { limit } : { limit, before });
    let p = await page(5);
    assert.deepEqual(texts(p), ["m1", "m2", "m3", "m4", "m5"]);
    assert.equal(p.more, false);
    p = await page(4);
    assert.deepEqual(texts(p), ["m2", "m3", "m4", "m5"]);
    assert.equal(p.more, true);
    p = await page(2, got[4]);
    assert.deepEqual(texts(p), ["m3", "m4"]);
    assert.equal(p.more, true);
    p = await page(2, got[2]);
    assert.deepEqual(texts(p), ["m1", "m2"]);
    assert.equal(p.more, false);
    p = await page(2, got[0]);
    assert.deepEqual(p, { messages: [], more: false });
  });

  test("direct text is stored verbatim too", async (store) => {
    const alice = await user(store, "alice");
    const bob = await user(store, "bob");
    const samples = ["'; DELETE FROM direct_messages; --", "🙂\n😉\r\n", "%_\\", "  "];
    await store.appendMessages(samples.map((t) => dm(alice, bob, t)));
    assert.deepEqual(texts(await store.directHistory(alice.id, bob.id, { limit: 50 })), samples);
  });

  // --- memberships ------------------------------------------------------------

  test("listMemberships lists every member with names, role and since", async (store) => {
    const salons = await seeded(store);
    const g = salons["Général"].id;
    const b = salons["Blabla"].id;
    assert.deepEqual(await store.listMemberships(), []);
    const alice = await user(store, "Alice", "Alice L.", "moderator");
    const bob = await user(store, "bob", "Bobby");
    await store.addMember(b, bob.id, T0 + MINUTE);
    assert.deepEqual(
      rows(await store.listMemberships()),
      expectRows([rowOf(g, alice, T0), rowOf(g, bob, T0), rowOf(b, bob, T0 + MINUTE)]),
    );
  });

  test("addMember is idempotent and keeps when the membership began", async (store) => {
    const salons = await seeded(store);
    const g = salons["Général"].id;
    const b = salons["Blabla"].id;
    const alice = await user(store, "alice");
    await store.addMember(b, alice.id, T0 + MINUTE);
    await store.addMember(b, alice.id, T0 + 2 * MINUTE);
    await store.addMember(g, alice.id, T0 + 3 * MINUTE); // the auto salon: already a member
    assert.deepEqual(sorted(await store.memberSalonIds(alice.id)), sorted([g, b]));
    assert.deepEqual(
      rows(await store.listMemberships()),
      expectRows([rowOf(g, alice, T0), rowOf(b, alice, T0 + MINUTE)]),
    );
  });

  test("addMember closes the user's pending request in that salon only", async (store) => {
    const salons = await seeded(store);
    const c = salons["Comptabilité"].id;
    const i = salons["Informatique"].id;
    const alice = await user(store, "alice");
    const bob = await user(store, "bob");
    await store.addJoinRequest(c, alice.id, T0 + 1);
    await store.addJoinRequest(i, alice.id, T0 + 2);
    await store.addJoinRequest(c, bob.id, T0 + 3);
    await store.addMember(c, alice.id, T0 + MINUTE);
    assert.ok((await store.memberSalonIds(alice.id)).includes(c));
    assert.deepEqual(await store.pendingSalonIds(alice.id), [i]);
    assert.deepEqual(await store.pendingSalonIds(bob.id), [c]);
    assert.deepEqual(
      rows(await store.listJoinRequests()),
      expectRows([rowOf(i, alice, T0 + 2), rowOf(c, bob, T0 + 3)]),
    );
    // The request is gone, not merely hidden.
    assert.equal(await store.removeJoinRequest(c, alice.id), false);
  });

  test("removeMember ends one membership and says whether there was one", async (store) => {
    const salons = await seeded(store);
    const g = salons["Général"].id;
    const b = salons["Blabla"].id;
    const alice = await user(store, "alice");
    const bob = await user(store, "bob");
    await store.addMember(b, alice.id, T0);
    await store.addMember(b, bob.id, T0);
    assert.equal(await store.removeMember(b, alice.id), true);
    assert.equal(await store.removeMember(b, alice.id), false);
    assert.equal(await store.removeMember(salons["Marketing"].id, alice.id), false);
    assert.deepEqual(await store.memberSalonIds(alice.id), [g]);
    assert.deepEqual(sorted(await store.memberSalonIds(bob.id)), sorted([g, b]));
    assert.deepEqual(
      rows(await store.listMemberships()),
      expectRows([rowOf(g, alice, T0), rowOf(g, bob, T0), rowOf(b, bob, T0)]),
    );
    // Membership can be given back afterwards, starting anew.
    await store.addMember(b, alice.id, T0 + MINUTE);
    assert.deepEqual(sorted(await store.memberSalonIds(alice.id)), sorted([g, b]));
    assert.ok(
      rows(await store.listMemberships()).some((r) =>
        r.salonId === b && r.userId === alice.id && r.since === T0 + MINUTE
      ),
    );
  });

  test("removeMember keeps the member's messages in the history", async (store) => {
    const salons = await seeded(store);
    const b = salons["Blabla"].id;
    const alice = await user(store, "alice");
    await store.addMember(b, alice.id, T0);
    await store.appendMessages([said(b, alice, "before leaving")]);
    assert.equal(await store.removeMember(b, alice.id), true);
    assert.deepEqual(texts(await store.salonHistory(b, { limit: 50 })), ["before leaving"]);
  });

  // --- join requests ----------------------------------------------------------

  test("addJoinRequest is idempotent; listJoinRequests shows names and since", async (store) => {
    const salons = await seeded(store);
    const c = salons["Comptabilité"].id;
    const m = salons["Marketing"].id;
    assert.deepEqual(await store.listJoinRequests(), []);
    const alice = await user(store, "Alice", "Alice L.");
    const bob = await user(store, "bob", "Bobby", "moderator");
    await store.addJoinRequest(c, alice.id, T0 + 1);
    await store.addJoinRequest(c, alice.id, T0 + 2);
    await store.addJoinRequest(m, alice.id, T0 + 3);
    await store.addJoinRequest(c, bob.id, T0 + 4);
    assert.deepEqual(
      rows(await store.listJoinRequests()),
      expectRows([rowOf(c, alice, T0 + 1), rowOf(m, alice, T0 + 3), rowOf(c, bob, T0 + 4)]),
    );
    assert.deepEqual(sorted(await store.pendingSalonIds(alice.id)), sorted([c, m]));
    assert.deepEqual(await store.pendingSalonIds(bob.id), [c]);
    // A request does not make a member.
    assert.deepEqual(await store.memberSalonIds(alice.id), [salons["Général"].id]);
  });

  test("removeJoinRequest withdraws one request and says whether there was one", async (store) => {
    const salons = await seeded(store);
    const c = salons["Comptabilité"].id;
    const i = salons["Informatique"].id;
    const alice = await user(store, "alice");
    const bob = await user(store, "bob");
    await store.addJoinRequest(c, alice.id, T0);
    await store.addJoinRequest(i, alice.id, T0);
    await store.addJoinRequest(c, bob.id, T0);
    assert.equal(await store.removeJoinRequest(c, alice.id), true);
    assert.equal(await store.removeJoinRequest(c, alice.id), false);
    assert.equal(await store.removeJoinRequest(salons["Marketing"].id, alice.id), false);
    assert.deepEqual(await store.pendingSalonIds(alice.id), [i]);
    assert.deepEqual(await store.pendingSalonIds(bob.id), [c]);
    assert.deepEqual(
      rows(await store.listJoinRequests()),
      expectRows([rowOf(i, alice, T0), rowOf(c, bob, T0)]),
    );
    // Withdrawing does not make a member either.
    assert.deepEqual(await store.memberSalonIds(alice.id), [salons["Général"].id]);
    // A request can be made again after being withdrawn.
    await store.addJoinRequest(c, alice.id, T0 + MINUTE);
    assert.deepEqual(sorted(await store.pendingSalonIds(alice.id)), sorted([c, i]));
  });

  test("memberSalonIds and pendingSalonIds follow every change", async (store) => {
    const salons = await seeded(store);
    const g = salons["Général"].id;
    const b = salons["Blabla"].id;
    const c = salons["Comptabilité"].id;
    const i = salons["Informatique"].id;
    const alice = await user(store, "alice");
    const bob = await user(store, "bob");
    assert.deepEqual(await store.memberSalonIds(alice.id), [g]);
    assert.deepEqual(await store.pendingSalonIds(alice.id), []);
    await store.addMember(b, alice.id, T0);
    await store.addJoinRequest(c, alice.id, T0);
    await store.addJoinRequest(i, alice.id, T0);
    assert.deepEqual(sorted(await store.memberSalonIds(alice.id)), sorted([g, b]));
    assert.deepEqual(sorted(await store.pendingSalonIds(alice.id)), sorted([c, i]));
    await store.addMember(i, alice.id, T0 + 1);
    assert.deepEqual(sorted(await store.memberSalonIds(alice.id)), sorted([g, b, i]));
    assert.deepEqual(await store.pendingSalonIds(alice.id), [c]);
    await store.removeJoinRequest(c, alice.id);
    await store.removeMember(b, alice.id);
    assert.deepEqual(sorted(await store.memberSalonIds(alice.id)), sorted([g, i]));
    assert.deepEqual(await store.pendingSalonIds(alice.id), []);
    // Bob was never touched.
    assert.deepEqual(await store.memberSalonIds(bob.id), [g]);
    assert.deepEqual(await store.pendingSalonIds(bob.id), []);
  });
}
