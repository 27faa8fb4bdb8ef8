/**
 * The browser client's core for PROTOCOL 5.4, without a browser, fed the
 * frames the protocol defines: mutes (banner state, composer refused),
 * slow mode (the wait from `welcome`, `salon_settings`, one's own `ok` and
 * `error slow_mode`), edit (Up arrow on one's last message, `edited`,
 * history `editedAt`), delete (tombstones from `ok`, `deleted` and history),
 * reports (sent with a reason; the moderator's live queue, its context, resolve
 * and delete from it).
 */

import assert from "node:assert/strict";
import { Chat } from "../web/core/chat.ts";
import { decodeFrame } from "../web/core/codec.ts";
import { directKey, salonKey } from "../web/core/keys.ts";
import { FakeClock, socketFactory } from "./web_fakes.ts";
import { actionsFor } from "../web/views/message_actions.tsx";

const G = salonKey("Général");
const B = salonKey("Blabla");
const alice = { username: "alice", alias: "Alice" };
const bob = { username: "bob", alias: "Bob" };

const salon = (name: string, policy: string, slowModeSeconds = 0) => ({
  name,
  policy,
  member: true,
  pending: false,
  online: 2,
  members: 2,
  presence: "push",
  latest: 3,
  lastRead: 3,
  unread: 0,
  mentions: 0,
  slowModeSeconds,
});

const msg = (id: number, from = bob, text = `m${id}`, name = "Général") => ({
  salon: name,
  id,
  from,
  text,
  at: `2026-11-24T10:00:0${id % 10}.000Z`,
});

/** A chat welcomed as `role`, Général's newest page loaded (ids 1..3, 2 is alice's). */
function started(role = "member", slow = 0, editMinutes?: number) {
  const clock = new FakeClock();
  const f = socketFactory();
  const chat = new Chat({ createSocket: f.create, clock });
  chat.connect("tok");
  const s = f.sockets[0];
  s.open();
  s.receive({
    type: "welcome",
    user: { ...alice, role },
    token: "t",
    salons: [salon("Général", "auto", slow), salon("Blabla", "open")],
    limits: {
      maxTextLength: 20,
      messagesPerSecond: 5,
      ...(editMinutes === undefined ? {} : { editMinutes }),
    },
    directs: [],
  });
  const h = s.sent.find((x) => x.type === "history")!;
  s.receive({
    type: "history",
    ref: h.ref,
    salon: "Général",
    messages: [msg(1), msg(2, alice, "mine"), msg(3)],
    more: false,
  });
  return { clock, chat, s, f };
}

const item = (chat: Chat, id: number, key = G) =>
  chat.messages.thread(key).value.items.find((i) => i.id === id)!;
const sentOf = (s: ReturnType<typeof started>["s"], type: string) =>
  s.sent.filter((x) => x.type === type);

Deno.test("5.4 frames are read by the codec (an unknown type still is not)", () => {
  for (
    const f of [
      { type: "muted", until: "2026-11-24T10:10:00.000Z" },
      { type: "unmuted" },
      { type: "salon_settings", salon: "Général", slowModeSeconds: 30 },
      { type: "edited", salon: "Général", id: 1, text: "x", editedAt: "2026-11-24T10:00:00.000Z" },
      { type: "deleted", with: "bob", id: 1 },
      { type: "reports", open: [] },
      { type: "report_resolved", report: 1, by: bob },
    ]
  ) assert.equal(decodeFrame(JSON.stringify(f))?.type, f.type);
  assert.equal(decodeFrame(JSON.stringify({ type: "muted_for_ever" })), null);
});

Deno.test("muted in a salon: that salon's composer refuses, others and directs do not; unmuted lifts it", () => {
  const { chat, s } = started();
  s.receive({ type: "muted", salon: "Général", until: "2026-11-24T10:10:00.000Z", reason: "calm" });
  const mute = chat.restrictions.muteOf(G, chat.clock.now())!;
  assert.deepEqual(mute, { salon: "Général", until: "2026-11-24T10:10:00.000Z", reason: "calm" });
  assert.match(chat.say(G, "hello") ?? "", /muted until/);
  assert.equal(sentOf(s, "say").length, 0, "nothing is sent while muted");
  assert.equal(chat.restrictions.muteOf(B, chat.clock.now()), null);
  assert.equal(chat.restrictions.muteOf(directKey("bob"), chat.clock.now()), null);
  s.receive({ type: "unmuted", salon: "Général" });
  assert.equal(chat.say(G, "hello"), null);
  assert.equal(sentOf(s, "say").length, 1);
});

Deno.test("muted everywhere covers directs; the mute ends by itself at until", () => {
  const { chat, s, clock } = started();
  s.receive({ type: "muted", until: "2026-11-24T10:10:00.000Z" });
  assert.ok(chat.restrictions.muteOf(directKey("bob"), clock.now()));
  assert.ok(chat.restrictions.muteOf(B, clock.now()));
  clock.advance(10 * 60_000 - 1);
  assert.ok(chat.restrictions.muteOf(G, clock.now()), "one ms before until: still muted");
  clock.advance(1);
  assert.equal(chat.restrictions.muteOf(G, clock.now()), null, "at until: free");
  assert.doesNotMatch(chat.say(G, "back") ?? "", /muted/, "(the socket timed out meanwhile)");
});

Deno.test("error muted with until marks the message not sent and shows the mute", () => {
  const { chat, s } = started();
  chat.say(G, "hi");
  const ref = s.last("say")!.ref;
  s.receive({
    type: "error",
    ref,
    code: "muted",
    message: "you are muted",
    until: "2026-11-24T10:05:00.000Z",
  });
  assert.equal(chat.messages.thread(G).value.pending[0].error?.code, "muted");
  assert.match(chat.composer.problems.value.get(G)!.message, /muted/);
  assert.equal(chat.restrictions.muteOf(G, chat.clock.now())?.until, "2026-11-24T10:05:00.000Z");
  // A direct refused as muted means a mute everywhere.
  chat.say(directKey("bob"), "psst");
  s.receive({
    type: "error",
    ref: s.last("direct")!.ref,
    code: "muted",
    message: "you are muted",
    until: "2026-11-24T10:06:00.000Z",
  });
  assert.ok(chat.restrictions.muteOf(directKey("bob"), chat.clock.now()));
});

Deno.test("a new welcome forgets the mutes (the server tells them again) and reads slow mode", () => {
  const { chat, s, f, clock } = started();
  s.receive({ type: "muted", until: "2026-11-24T10:10:00.000Z" });
  s.drop(1006);
  assert.ok(chat.restrictions.muteOf(G, clock.now()), "kept while disconnected");
  clock.advance(1000);
  const s2 = f.sockets[1];
  s2.open();
  s2.receive({
    type: "welcome",
    user: { ...alice, role: "member" },
    token: "t",
    salons: [salon("Général", "auto", 15), salon("Blabla", "open")],
    limits: { maxTextLength: 20, messagesPerSecond: 5 },
  });
  assert.equal(chat.restrictions.muteOf(G, clock.now()), null);
  assert.equal(chat.restrictions.slowMode.value.get("Général"), 15);
});

Deno.test("slow mode: after one's message the composer waits the salon's seconds, then may send", () => {
  const { chat, s, clock } = started("member", 30);
  assert.equal(chat.slowModeWait(G), 0);
  assert.equal(chat.say(G, "one"), null);
  s.receive({ type: "ok", ref: s.last("say")!.ref, id: 4, at: "2026-11-24T10:00:04.000Z" });
  assert.equal(chat.slowModeWait(G), 30_000);
  assert.match(chat.say(G, "two") ?? "", /Slow mode: you may send again in 30 s/);
  assert.equal(sentOf(s, "say").length, 1, "the second message is not sent");
  assert.equal(chat.slowModeWait(B), 0, "another salon has no slow mode");
  clock.advance(29_999);
  assert.equal(chat.slowModeWait(G), 1);
  clock.advance(1);
  assert.equal(chat.slowModeWait(G), 0);
  assert.equal(chat.say(G, "two"), null);
});

Deno.test("slow mode: salon_settings turns it on and off; error slow_mode's retryAfter is the wait", () => {
  const { chat, s } = started();
  s.receive({ type: "salon_settings", salon: "Blabla", slowModeSeconds: 60 });
  chat.say(B, "hi");
  s.receive({
    type: "error",
    ref: s.last("say")!.ref,
    code: "slow_mode",
    message: "wait",
    retryAfter: 12,
  });
  assert.equal(chat.slowModeWait(B), 12_000);
  assert.match(chat.composer.problems.value.get(B)!.message, /Slow mode/);
  s.receive({ type: "salon_settings", salon: "Blabla", slowModeSeconds: 0 });
  assert.equal(chat.slowModeWait(B), 0);
});

Deno.test("slow mode: one's message from another session counts; moderators never wait", () => {
  const { chat, s } = started("member", 30);
  s.receive({ type: "message", ...msg(4, alice, "from my phone") });
  assert.equal(chat.slowModeWait(G), 30_000);
  const mod = started("moderator", 30);
  mod.s.receive({ type: "message", ...msg(4, alice, "mod") });
  assert.equal(mod.chat.slowModeWait(G), 0);
});

Deno.test("edit window: welcome.limits.editMinutes closes Edit (menu and Up arrow) once it has passed", () => {
  // alice's message 2 was sent at 10:00:02; the window is 15 minutes.
  const { chat, clock } = started("member", 0, 15);
  const mine = item(chat, 2);
  clock.t = Date.parse(mine.at) + 15 * 60_000;
  assert.ok(chat.canEdit(mine), "still editable at exactly 15 minutes");
  assert.deepEqual(actionsFor(mine, G, "alice", "member", chat.canEdit(mine)), ["edit", "delete"]);
  assert.equal(chat.lastOwn(G), 2);
  clock.t += 1;
  assert.equal(chat.canEdit(mine), false);
  assert.deepEqual(actionsFor(mine, G, "alice", "member", chat.canEdit(mine)), ["delete"]);
  assert.equal(chat.lastOwn(G), null, "the Up arrow no longer offers it");
  // 0: editing is off on that server; another's message is never editable.
  const off = started("member", 0, 0);
  assert.equal(off.chat.canEdit(item(off.chat, 2)), false);
  assert.equal(chat.canEdit(item(chat, 1)), false);
  // A server that does not announce it decides alone.
  const older = started();
  older.clock.t += 365 * 24 * 60 * 60_000;
  assert.ok(older.chat.canEdit(item(older.chat, 2)));
});

Deno.test("edit: Up arrow's message goes to the composer, edit is sent, ok shows the new text as edited", () => {
  const { chat, s } = started();
  chat.composer.setDraft(G, "");
  assert.equal(chat.lastOwn(G), 2);
  assert.ok(chat.startEdit(G, 2));
  assert.equal(chat.composer.drafts.value.get(G), "mine");
  chat.composer.setDraft(G, "mine, fixed");
  assert.equal(chat.saveEdit(G), null);
  const edit = s.last("edit")!;
  assert.deepEqual({ ...edit, ref: undefined }, {
    type: "edit",
    salon: "Général",
    id: 2,
    text: "mine, fixed",
    ref: undefined,
  });
  assert.equal(chat.composer.editing.value.get(G), undefined, "the edit ended");
  s.receive({ type: "ok", ref: edit.ref });
  assert.equal(item(chat, 2).text, "mine, fixed");
  assert.ok(item(chat, 2).editedAt);
});

Deno.test("edit: the draft put aside comes back; unchanged text sends nothing; empty is refused", () => {
  const { chat, s } = started();
  chat.composer.setDraft(G, "half written");
  chat.startEdit(G, 2);
  assert.equal(chat.composer.drafts.value.get(G), "mine");
  assert.equal(chat.saveEdit(G), null);
  assert.equal(sentOf(s, "edit").length, 0, "unchanged: nothing sent");
  assert.equal(chat.composer.drafts.value.get(G), "half written");
  chat.startEdit(G, 2);
  chat.composer.setDraft(G, "  ");
  assert.match(chat.saveEdit(G)!, /Write the new text/);
  chat.cancelEdit(G);
  assert.equal(chat.composer.drafts.value.get(G), "half written");
});

Deno.test("edit: refused after the window (forbidden) or gone (not_found) is said under the composer", () => {
  const { chat, s } = started();
  chat.startEdit(G, 2);
  chat.composer.setDraft(G, "late");
  chat.saveEdit(G);
  s.receive({ type: "error", ref: s.last("edit")!.ref, code: "forbidden", message: "too late" });
  assert.match(
    chat.composer.problems.value.get(G)!.message,
    /Not edited: not allowed \(too late\)/,
  );
  assert.equal(item(chat, 2).text, "mine");
});

Deno.test("edited from someone else updates the text live; history editedAt is kept; an older copy does not undo it", () => {
  const { chat, s } = started();
  s.receive({
    type: "edited",
    salon: "Général",
    id: 3,
    text: "m3 better",
    editedAt: "2026-11-24T10:01:00.000Z",
  });
  assert.deepEqual([item(chat, 3).text, item(chat, 3).editedAt], [
    "m3 better",
    "2026-11-24T10:01:00.000Z",
  ]);
  chat.messages.add(G, [{ ...msg(3) }]);
  assert.equal(item(chat, 3).text, "m3 better", "a stale page does not undo the edit");
  chat.messages.add(G, [{ ...msg(3), text: "m3 best", editedAt: "2026-11-24T10:02:00.000Z" }]);
  assert.equal(item(chat, 3).text, "m3 best", "a later edit wins");
});

Deno.test("deleted: a tombstone from the event, from one's own ok, and from a history item", () => {
  const { chat, s } = started();
  s.receive({ type: "deleted", salon: "Général", id: 3 });
  assert.deepEqual([item(chat, 3).deleted, item(chat, 3).text], [true, ""]);
  s.receive({ type: "message", ...msg(3) });
  assert.deepEqual(
    [item(chat, 3).deleted, item(chat, 3).text],
    [true, ""],
    "a tombstone stays one",
  );
  assert.ok(chat.deleteMessage(G, 2));
  const del = s.last("delete")!;
  assert.deepEqual({ ...del, ref: undefined }, {
    type: "delete",
    salon: "Général",
    id: 2,
    ref: undefined,
  });
  s.receive({ type: "ok", ref: del.ref });
  assert.equal(item(chat, 2).deleted, true);
  assert.equal(chat.lastOwn(G), null, "a deleted message is not offered for editing");
});

Deno.test("history items {id, at, deleted:true} are tombstones; direct edited/deleted use with", () => {
  const clock = new FakeClock();
  const f = socketFactory();
  const chat = new Chat({ createSocket: f.create, clock });
  chat.connect("tok");
  const s = f.sockets[0];
  s.open();
  s.receive({
    type: "welcome",
    user: { ...alice, role: "member" },
    token: "t",
    salons: [salon("Général", "auto")],
    limits: { maxTextLength: 20, messagesPerSecond: 5 },
  });
  s.receive({
    type: "history",
    ref: s.last("history")!.ref,
    salon: "Général",
    messages: [msg(1), { id: 2, at: "2026-11-24T10:00:02.000Z", deleted: true }, {
      ...msg(3),
      editedAt: "2026-11-24T10:00:09.000Z",
    }],
    more: false,
  });
  assert.deepEqual(item(chat, 2), {
    id: 2,
    at: "2026-11-24T10:00:02.000Z",
    from: { username: "", alias: "" },
    text: "",
    deleted: true,
  });
  assert.equal(item(chat, 3).editedAt, "2026-11-24T10:00:09.000Z");
  const D = directKey("bob");
  chat.open(D);
  s.receive({
    type: "history",
    ref: s.last("history")!.ref,
    with: "bob",
    messages: [{ id: 1, from: bob, to: alice, text: "hey", at: "2026-11-24T10:00:01.000Z" }],
    more: false,
  });
  s.receive({
    type: "edited",
    with: "bob",
    id: 1,
    text: "hey you",
    editedAt: "2026-11-24T10:00:05.000Z",
  });
  assert.equal(item(chat, 1, D).text, "hey you");
  s.receive({ type: "deleted", with: "bob", id: 1 });
  assert.equal(item(chat, 1, D).deleted, true);
});

Deno.test("report: sent with its reason; ok says it reached the moderators; a refusal is said", () => {
  const { chat, s } = started();
  assert.ok(chat.report("Général", 3, "  rude  "));
  const r = s.last("report")!;
  assert.deepEqual({ ...r, ref: undefined }, {
    type: "report",
    salon: "Général",
    id: 3,
    reason: "rude",
    ref: undefined,
  });
  s.receive({ type: "ok", ref: r.ref });
  const note = chat.composer.problems.value.get(G)!;
  assert.equal(note.tone, "info");
  assert.match(note.message, /Reported/);
  chat.report("Général", 1);
  assert.equal("reason" in s.last("report")!, false, "no reason: none sent");
  s.receive({ type: "error", ref: s.last("report")!.ref, code: "rate_limited", message: "slow" });
  assert.match(chat.composer.problems.value.get(G)!.message, /Not reported: slow/);
});

const report = (id: number, messageId: number, text = `m${messageId}`) => ({
  id,
  salon: "Général",
  message: { id: messageId, from: bob, text, at: "2026-11-24T10:00:00.000Z" },
  by: { username: "carol", alias: "Carol" },
  reason: "rude",
  at: "2026-11-24T10:00:30.000Z",
});

Deno.test("moderator: reports asked at welcome, live report added once, report_resolved removes it", () => {
  const { chat, s } = started("moderator");
  const ask = s.last("reports")!;
  assert.ok(ask.ref);
  s.receive({ type: "reports", ref: ask.ref, open: [report(2, 1)] });
  s.receive({ type: "report", report: report(5, 3) });
  s.receive({ type: "report", report: report(5, 3) });
  assert.deepEqual(chat.reports.open.value.map((r) => r.id), [2, 5]);
  s.receive({ type: "report_resolved", report: 2, by: { username: "mod2", alias: "M" } });
  assert.deepEqual(chat.reports.open.value.map((r) => r.id), [5]);
  // A member asks nothing of the sort.
  assert.equal(started().s.last("reports"), undefined);
});

Deno.test("moderator: resolve sends the note, ok removes the report and says so", () => {
  const { chat, s } = started("moderator");
  s.receive({ type: "report", report: report(7, 3) });
  chat.resolveReport(7, " handled ");
  const r = s.last("resolve_report")!;
  assert.deepEqual({ ...r, ref: undefined }, {
    type: "resolve_report",
    report: 7,
    note: "handled",
    ref: undefined,
  });
  s.receive({ type: "ok", ref: r.ref });
  assert.deepEqual(chat.reports.open.value, []);
  assert.match(chat.reports.outcome.value!.message, /Report 7 resolved/);
});

Deno.test("moderator: the context comes from the thread held, else from history before id+3, limit 5", () => {
  const { chat, s } = started("moderator");
  s.receive({ type: "report", report: report(1, 40) });
  chat.showContext(1);
  assert.equal(chat.reports.contexts.value.get(1)?.state, "loading");
  const h = s.last("history")!;
  assert.deepEqual({ ...h, ref: undefined }, {
    type: "history",
    salon: "Général",
    before: 43,
    limit: 5,
    ref: undefined,
  });
  s.receive({
    type: "history",
    ref: h.ref,
    salon: "Général",
    messages: [38, 39, 40, 41, 42].map((i) => msg(i)),
    more: true,
  });
  const c = chat.reports.contexts.value.get(1)!;
  assert.equal(c.state, "shown");
  assert.deepEqual(c.state === "shown" && c.items.map((i) => i.id), [38, 39, 40, 41, 42]);
  assert.equal(chat.messages.thread(G).value.items.length, 3, "the thread gets no gap");
  // A deletion reaches the report and its context.
  s.receive({ type: "deleted", salon: "Général", id: 40 });
  assert.equal(chat.reports.open.value[0].messageDeleted, true);
  const after = chat.reports.contexts.value.get(1)!;
  assert.equal(after.state === "shown" && after.items[2].deleted, true);
});

Deno.test("moderator: a context refused (not a member) is said; one-click delete from a report", () => {
  const { chat, s } = started("moderator");
  s.receive({ type: "report", report: report(3, 9) });
  chat.showContext(3);
  s.receive({ type: "error", ref: s.last("history")!.ref, code: "not_member", message: "no" });
  const c = chat.reports.contexts.value.get(3)!;
  assert.match(c.state === "failed" ? c.message : "", /not a member of Général/);
  chat.deleteMessage(G, 9, "", 3);
  s.receive({ type: "ok", ref: s.last("delete")!.ref });
  assert.equal(chat.reports.open.value[0].messageDeleted, true);
  assert.equal(chat.reports.outcome.value?.message, "Message deleted.");
});

Deno.test("edit: ok's editedAt is kept; edited brings the new mentions (absent: none)", () => {
  const { chat, s } = started();
  chat.startEdit(G, 2);
  chat.composer.setDraft(G, "hi @bob");
  chat.saveEdit(G);
  s.receive({ type: "ok", ref: s.last("edit")!.ref, id: 2, editedAt: "2026-11-24T10:03:00.000Z" });
  assert.equal(item(chat, 2).editedAt, "2026-11-24T10:03:00.000Z");
  s.receive({
    type: "edited",
    salon: "Général",
    id: 3,
    text: "@alice look",
    editedAt: "2026-11-24T10:04:00.000Z",
    mentions: ["alice"],
  });
  assert.deepEqual(item(chat, 3).mentions, ["alice"]);
  s.receive({
    type: "edited",
    salon: "Général",
    id: 3,
    text: "never mind",
    editedAt: "2026-11-24T10:05:00.000Z",
  });
  assert.equal(item(chat, 3).mentions, undefined);
});

Deno.test("moderator: a report whose message the server says is deleted is shown deleted", () => {
  const { chat, s } = started("moderator");
  const r = report(4, 2, "");
  s.receive({ type: "report", report: { ...r, message: { ...r.message, deleted: true } } });
  assert.equal(chat.reports.open.value[0].messageDeleted, true);
});
