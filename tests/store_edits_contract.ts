/**
 * The Store contract for edit, delete and reports (PROTOCOL.md 5.4, migration
 * 8): an edit replaces the text and the mentions of a message by its author
 * within the window; a delete erases the text (never just hides it) and
 * keeps the id; reports are stored once per reporter and message, listed
 * while open, and closed once. Written only against the `Store` interface so
 * the same cases run against every adapter.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { MessageTarget, NewMessage, Store, UserRecord } from "../store/store.ts";
import { contractCases, createUser, seededSalons, T0 } from "./store_fixture.ts";

/** Registers the edit, delete and report cases for one adapter (`ignore`: skipped). */
export function storeEditsContract(
  adapterName: string,
  open: () => Promise<Store>,
  opts: { ignore?: boolean } = {},
): void {
  const test = contractCases(adapterName, open, opts, "edits: ");

  const said = (salonId: number, u: UserRecord, text: string, mentioned: UserRecord[] = []) =>
    ({
      kind: "salon",
      salonId,
      userId: u.id,
      text,
      at: T0,
      ...(mentioned.length > 0
        ? { mentions: mentioned.map((m) => ({ userId: m.id, username: m.username })) }
        : {}),
    }) satisfies NewMessage;

  const dm = (from: UserRecord, to: UserRecord, text: string): NewMessage => ({
    kind: "direct",
    fromUserId: from.id,
    toUserId: to.id,
    text,
    at: T0,
  });

  const inSalon = (salonId: number, id: number): MessageTarget => ({ kind: "salon", salonId, id });

  test("an edit by the author within the window replaces text and mentions", async (store) => {
    const { Général } = await seededSalons(store);
    const alice = await createUser(store, "alice");
    const bob = await createUser(store, "bob");
    const carol = await createUser(store, "carol");
    const [id] = await store.appendMessages([said(Général.id, alice, "hi @bob", [bob])]);
    const edited = await store.editMessage(inSalon(Général.id, id), {
      authorId: alice.id,
      text: "hi @carol",
      at: T0 + 1000,
      sentAfter: T0,
      mentions: [{ userId: carol.id, username: carol.username }],
    });
    assert.equal(edited, true);
    const page = await store.salonHistory(Général.id, { limit: 10 });
    assert.equal(page.messages[0].text, "hi @carol");
    assert.equal(page.messages[0].editedAt, T0 + 1000);
    assert.deepEqual(page.messages[0].mentions, ["carol"]);
    assert.equal(page.messages[0].deleted, undefined);
    // The mention rows follow: bob's unread mention is gone, carol's is there.
    const bobCount = await store.unreadMentions(bob.id, [{ salonId: Général.id, after: 0 }]);
    const carolCount = await store.unreadMentions(carol.id, [{ salonId: Général.id, after: 0 }]);
    assert.equal(bobCount.get(Général.id), 0);
    assert.equal(carolCount.get(Général.id), 1);
    // `after` pages carry the same fields.
    const after = await store.salonHistory(Général.id, { after: 0, limit: 10 });
    assert.equal(after.messages[0].editedAt, T0 + 1000);
    const facts = await store.messageFacts(inSalon(Général.id, id));
    assert.equal(facts?.authorId, alice.id);
    assert.equal(facts?.text, "hi @carol");
    assert.equal(facts?.editedAt, T0 + 1000);
  });

  test("an edit by someone else, after the window or of a deleted message changes nothing", async (store) => {
    const { Général } = await seededSalons(store);
    const alice = await createUser(store, "alice");
    const bob = await createUser(store, "bob");
    const [id] = await store.appendMessages([said(Général.id, alice, "original")]);
    const target = inSalon(Général.id, id);
    const base = { text: "changed", at: T0 + 5, sentAfter: T0 };
    assert.equal(await store.editMessage(target, { ...base, authorId: bob.id }), false);
    // The window: sent at T0, so an edit needing sentAfter T0 + 1 is too late.
    assert.equal(
      await store.editMessage(target, { ...base, authorId: alice.id, sentAfter: T0 + 1 }),
      false,
    );
    assert.equal(
      await store.editMessage(inSalon(Général.id, id + 1), { ...base, authorId: alice.id }),
      false,
    );
    let facts = await store.messageFacts(target);
    assert.equal(facts?.text, "original");
    assert.equal(facts?.editedAt, undefined);
    assert.equal(await store.deleteMessage(target), true);
    assert.equal(await store.editMessage(target, { ...base, authorId: alice.id }), false);
    facts = await store.messageFacts(target);
    assert.equal(facts?.text, "");
    assert.equal(facts?.deleted, true);
  });

  test("a delete erases the text and the mentions, keeps the id, and is done once", async (store) => {
    const { Général } = await seededSalons(store);
    const alice = await createUser(store, "alice");
    const bob = await createUser(store, "bob");
    const ids = await store.appendMessages([
      said(Général.id, alice, "secret @bob", [bob]),
      said(Général.id, bob, "reply"),
    ]);
    const target = inSalon(Général.id, ids[0]);
    assert.equal(await store.deleteMessage(target), true);
    assert.equal(await store.deleteMessage(target), false, "a second delete changes nothing");
    assert.equal(await store.deleteMessage(inSalon(Général.id, 999)), false);
    const page = await store.salonHistory(Général.id, { limit: 10 });
    assert.deepEqual(page.messages.map((m) => [m.id, m.text, m.deleted, m.mentions]), [
      [ids[0], "", true, undefined],
      [ids[1], "reply", undefined, undefined],
    ]);
    const count = await store.unreadMentions(bob.id, [{ salonId: Général.id, after: 0 }]);
    assert.equal(count.get(Général.id), 0);
    // Ids are never reused, and the tombstone still counts in catching up.
    const [next] = await store.appendMessages([said(Général.id, alice, "next")]);
    assert.equal(next, ids[1] + 1);
    const [catchup] = await store.salonCatchup(bob.id, [Général.id]);
    assert.equal(catchup.latest, next);
  });

  test("direct messages: only within their conversation, edited and erased", async (store) => {
    await seededSalons(store);
    const alice = await createUser(store, "alice");
    const bob = await createUser(store, "bob");
    const mallory = await createUser(store, "mallory");
    const [id] = await store.appendMessages([dm(alice, bob, "psst")]);
    const fromBob: MessageTarget = { kind: "direct", userA: bob.id, userB: alice.id, id };
    const fromMallory: MessageTarget = { kind: "direct", userA: mallory.id, userB: alice.id, id };
    assert.equal(await store.messageFacts(fromMallory), undefined, "another conversation");
    assert.equal(await store.deleteMessage(fromMallory), false);
    assert.equal(
      await store.editMessage(fromMallory, {
        authorId: alice.id,
        text: "x",
        at: T0,
        sentAfter: 0,
      }),
      false,
    );
    const facts = await store.messageFacts(fromBob);
    assert.equal(facts?.authorId, alice.id);
    assert.equal(facts?.to?.id, bob.id);
    assert.equal(
      await store.editMessage(fromBob, {
        authorId: alice.id,
        text: "psst!",
        at: T0 + 7,
        sentAfter: T0,
      }),
      true,
    );
    let page = await store.directHistory(alice.id, bob.id, { limit: 10 });
    assert.equal(page.messages[0].text, "psst!");
    assert.equal(page.messages[0].editedAt, T0 + 7);
    assert.equal(await store.deleteMessage(fromBob), true);
    page = await store.directHistory(bob.id, alice.id, { after: 0, limit: 10 });
    assert.equal(page.messages[0].text, "");
    assert.equal(page.messages[0].deleted, true);
  });

  test("reports: once per reporter and message, listed while open, closed once", async (store) => {
    const { Général } = await seededSalons(store);
    const alice = await createUser(store, "alice", "Alice");
    const bob = await createUser(store, "bob", "Bob");
    const carol = await createUser(store, "carol", "Carol");
    const mod = await createUser(store, "mod", "Mod", "moderator");
    const [id] = await store.appendMessages([said(Général.id, alice, "rude")]);
    const base = { salonId: Général.id, messageId: id, authorId: alice.id, messageAt: T0 };
    const first = await store.addReport({
      ...base,
      reporterId: bob.id,
      reason: "rude",
      at: T0 + 1,
    });
    assert.equal(first.created, true);
    assert.equal(first.report.salonId, Général.id);
    assert.deepEqual(first.report.message, {
      id,
      from: { username: "alice", alias: "Alice" },
      text: "rude",
      at: T0,
      deleted: false,
    });
    assert.deepEqual(first.report.by, { username: "bob", alias: "Bob" });
    assert.equal(first.report.reason, "rude");
    assert.equal(first.report.at, T0 + 1);
    const again = await store.addReport({ ...base, reporterId: bob.id, reason: "x", at: T0 + 2 });
    assert.equal(again.created, false);
    assert.equal(again.report.id, first.report.id);
    assert.equal(again.report.reason, "rude", "a second report changes nothing");
    const other = await store.addReport({ ...base, reporterId: carol.id, reason: "", at: T0 + 3 });
    assert.equal(other.created, true);
    assert.deepEqual((await store.openReports(100)).map((r) => r.id), [
      first.report.id,
      other.report.id,
    ]);
    assert.deepEqual((await store.openReports(1)).map((r) => r.id), [first.report.id]);
    const resolved = await store.resolveReport(first.report.id, {
      byUserId: mod.id,
      note: "warned",
      at: T0 + 10,
    });
    assert.equal(resolved?.resolvedAt, T0 + 10);
    assert.equal(
      await store.resolveReport(first.report.id, { byUserId: null, note: "", at: T0 + 11 }),
      undefined,
      "closed once",
    );
    assert.equal(
      await store.resolveReport(999_999, { byUserId: null, note: "", at: T0 + 11 }),
      undefined,
    );
    assert.deepEqual((await store.openReports(100)).map((r) => r.id), [other.report.id]);
    // A resolved report still counts for the once-per-reporter rule.
    const late = await store.addReport({ ...base, reporterId: bob.id, reason: "y", at: T0 + 20 });
    assert.equal(late.created, false);
    assert.deepEqual((await store.openReports(100)).map((r) => r.id), [other.report.id]);
  });

  test("a report shows the message as it stands: edited, then erased or purged", async (store) => {
    const { Général } = await seededSalons(store);
    const alice = await createUser(store, "alice");
    const bob = await createUser(store, "bob");
    const ids = await store.appendMessages([
      said(Général.id, alice, "one"),
      said(Général.id, alice, "two"),
    ]);
    const report = async (messageId: number) =>
      (await store.addReport({
        salonId: Général.id,
        messageId,
        authorId: alice.id,
        messageAt: T0,
        reporterId: bob.id,
        reason: "",
        at: T0,
      })).report.id;
    const r1 = await report(ids[0]);
    const r2 = await report(ids[1]);
    await store.editMessage(inSalon(Général.id, ids[0]), {
      authorId: alice.id,
      text: "one, edited",
      at: T0 + 3,
      sentAfter: T0,
    });
    await store.deleteMessage(inSalon(Général.id, ids[1]));
    let open = new Map((await store.openReports(10)).map((r) => [r.id, r.message]));
    assert.equal(open.get(r1)?.text, "one, edited");
    assert.equal(open.get(r1)?.editedAt, T0 + 3);
    assert.deepEqual([open.get(r2)?.text, open.get(r2)?.deleted], ["", true]);
    // A ban with purge deletes the rows: the reports stay, their message shown as gone.
    await store.ban({ userId: alice.id, reason: "", createdAt: T0 + 4 }, null, true);
    open = new Map((await store.openReports(10)).map((r) => [r.id, r.message]));
    assert.deepEqual(open.get(r1), {
      id: ids[0],
      from: { username: "alice", alias: "alice" },
      text: "",
      at: T0,
      deleted: true,
    });
  });
}
