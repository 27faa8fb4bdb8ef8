/**
 * Direct messages in the browser client's core, without a browser: the list
 * from `welcome.directs` paged with `conversations`, a conversation's history
 * (`with`, `before`, `after` on reconnect), sending `direct` shown once, read
 * markers and typing with `with`, people found with `who` (`limit`), and the
 * watch list of the users on screen (PROTOCOL 5.1).
 */

import assert from "node:assert/strict";
import { Chat, READ_DELAY_MS } from "../web/core/chat.ts";
import { directKey } from "../web/core/keys.ts";
import { WATCH_EVERY_MS, WATCH_LIMIT } from "../web/core/stores/people.ts";
import { FakeClock, type FakeSocket, socketFactory } from "./web_fakes.ts";

const alice = { username: "alice", alias: "Alice" };
const bob = { username: "bob", alias: "Bob" };
const carol = { username: "carol", alias: "Carol" };
const B = directKey("bob");

const conv = (u: { username: string; alias: string }, n: number, unread = 0) => ({
  with: u,
  latest: n,
  lastRead: n - unread,
  unread,
  at: `2026-11-24T09:${String(59 - (n % 60)).padStart(2, "0")}:00.000Z`,
});

function welcome(over: Record<string, unknown> = {}) {
  return {
    type: "welcome",
    user: { ...alice, role: "member" },
    token: "t",
    salons: [
      {
        name: "Petit",
        policy: "auto",
        member: true,
        pending: false,
        online: 2,
        members: 3,
        presence: "push",
      },
      {
        name: "Grand",
        policy: "open",
        member: true,
        pending: false,
        online: 500,
        members: 1000,
        presence: "watch",
      },
      {
        name: "Dehors",
        policy: "open",
        member: false,
        pending: false,
        online: 0,
        members: 0,
        presence: "push",
      },
    ],
    limits: { maxTextLength: 100, messagesPerSecond: 5 },
    directs: [conv(bob, 5, 2)],
    ...over,
  };
}

const dm = (id: number, from = bob, to = alice, text = `d${id}`) => ({
  id,
  from,
  to,
  text,
  at: `2026-11-24T10:00:${String(id % 60).padStart(2, "0")}.000Z`,
});

function started(over: Record<string, unknown> = {}) {
  const clock = new FakeClock();
  const f = socketFactory();
  const chat = new Chat({ createSocket: f.create, clock });
  chat.connect("tok");
  const s = f.sockets[0];
  s.open();
  s.receive(welcome(over));
  // The auto salon's newest page: answered empty.
  const h = s.last("history")!;
  s.receive({ type: "history", ref: h.ref, salon: "Petit", messages: [], more: false });
  return { clock, f, chat, s };
}

/** Opens the conversation with bob and answers its newest page with ids 1..5. */
function openBob(chat: Chat, s: FakeSocket, more = true) {
  chat.open(B);
  const h = s.last("history")!;
  assert.deepEqual({ ...h, ref: undefined }, {
    type: "history",
    with: "bob",
    limit: 50,
    ref: undefined,
  });
  s.receive({
    type: "history",
    ref: h.ref,
    with: "bob",
    messages: [1, 2, 3, 4, 5].map((i) => dm(i)),
    more,
  });
}

const ids = (chat: Chat) => chat.messages.thread(B).value.items.map((i) => i.id);

Deno.test("directs: the list comes from welcome.directs with unread counts; a full page pages on with conversations", () => {
  const { chat, s } = started();
  assert.deepEqual(chat.salons.directs.value.map((d) => [d.with.alias, d.unread]), [["Bob", 2]]);
  assert.equal(chat.people.moreConversations.value, false, "one conversation: nothing older");

  const full = Array.from(
    { length: 50 },
    (_, i) => conv({ username: `u${i}`, alias: `U${i}` }, i + 1),
  );
  const more = started({ directs: full });
  assert.equal(more.chat.people.moreConversations.value, true, "50 listed: older ones may exist");
  more.chat.moreConversations();
  const req = more.s.last("conversations")!;
  const oldest = more.chat.salons.directs.value.at(-1)!.at;
  assert.deepEqual({ ...req, ref: undefined }, {
    type: "conversations",
    before: oldest,
    limit: 50,
    ref: undefined,
  });
  more.chat.moreConversations();
  assert.equal(
    more.s.sent.filter((x) => x.type === "conversations").length,
    1,
    "one page at a time",
  );
  more.s.receive({
    type: "conversations",
    ref: req.ref,
    directs: [conv(carol, 70, 1), full[49]],
    more: false,
  });
  assert.equal(more.chat.salons.directs.value.length, 51, "appended, no duplicate");
  assert.equal(more.chat.salons.directs.value.at(-1)!.with.username, "carol");
  assert.equal(more.chat.people.moreConversations.value, false);
  more.chat.moreConversations();
  assert.equal(more.s.sent.filter((x) => x.type === "conversations").length, 1, "no more pages");
  void s;
});

Deno.test("directs: opening loads history with `with`, scrolling up pages with before, reconnect catches up with after", () => {
  const { chat, s, f, clock } = started();
  openBob(chat, s);
  assert.deepEqual(ids(chat), [1, 2, 3, 4, 5]);
  chat.loadOlder(B);
  const older = s.last("history")!;
  assert.equal(older.with, "bob");
  assert.equal(older.before, 1);
  s.receive({ type: "history", ref: older.ref, with: "bob", messages: [dm(0)], more: false });
  assert.deepEqual(ids(chat), [0, 1, 2, 3, 4, 5]);

  s.drop(1006);
  clock.advance(1000);
  const s2 = f.sockets[1];
  s2.open();
  s2.receive(welcome());
  const after = s2.sent.find((x) => x.type === "history" && x.with === "bob")!;
  assert.equal(after.after, 5, "asks what came after the newest held");
  s2.receive({ type: "direct", ...dm(7) });
  s2.receive({
    type: "history",
    ref: after.ref,
    with: "bob",
    messages: [dm(6), dm(7)],
    more: false,
  });
  assert.deepEqual(ids(chat), [0, 1, 2, 3, 4, 5, 6, 7], "no gap, no duplicate");
});

Deno.test("directs: the composer sends `direct`, pending then confirmed by ok's id, shown once", () => {
  const { chat, s } = started();
  openBob(chat, s);
  assert.equal(chat.say(B, "salut"), null);
  const sent = s.last("direct")!;
  assert.deepEqual({ ...sent, ref: undefined }, {
    type: "direct",
    to: "bob",
    text: "salut",
    ref: undefined,
  });
  assert.deepEqual(chat.messages.thread(B).value.pending.map((p) => p.text), ["salut"]);
  s.receive({ type: "ok", ref: sent.ref, id: 6, at: "2026-11-24T10:00:06.000Z" });
  s.receive({ type: "direct", ...dm(6, alice, bob, "salut") });
  assert.deepEqual(chat.messages.thread(B).value.pending, []);
  assert.deepEqual(ids(chat), [1, 2, 3, 4, 5, 6], "once");
  assert.equal(chat.salons.unreadOf(B)!.lastRead, 6, "sending moves one's marker");
});

Deno.test("directs: the unread count clears as messages come into view, with one read `with`", () => {
  const { chat, s, clock } = started();
  openBob(chat, s);
  assert.equal(chat.salons.unreadOf(B)!.unread, 2);
  chat.markRead(B, 4);
  chat.markRead(B, 5);
  assert.equal(chat.salons.unreadOf(B)!.unread, 0, "cleared at once");
  clock.advance(READ_DELAY_MS);
  const reads = s.sent.filter((x) => x.type === "read");
  assert.deepEqual(reads.map((r) => ({ ...r, ref: undefined })), [
    { type: "read", with: "bob", id: 5, ref: undefined },
  ]);
  // Another session read further.
  s.receive({ type: "direct", ...dm(8) });
  assert.equal(chat.salons.unreadOf(B)!.unread, 1);
  s.receive({ type: "read", with: "bob", id: 8 });
  assert.equal(chat.salons.unreadOf(B)!.unread, 0);
});

Deno.test("directs: typing is sent with `with` and shown from the other side's typing", () => {
  const { chat, s } = started();
  openBob(chat, s);
  chat.typing(B);
  assert.deepEqual(s.last("typing"), { type: "typing", with: "bob" });
  s.receive({ type: "typing", with: "bob", user: bob });
  assert.deepEqual(chat.presence.typing.value.get(B)!.map((t) => t.user.alias), ["Bob"]);
});

Deno.test("directs: New message asks each member salon `who` with a limit; results search by name; starting lists it", () => {
  const { chat, s } = started();
  chat.findPeople();
  const whos = s.sent.filter((x) => x.type === "who");
  assert.deepEqual(whos.map((w) => [w.salon, w.limit]), [["Petit", 200], ["Grand", 200]]);
  assert.equal(chat.people.searching.value, 2);
  s.receive({
    type: "who",
    ref: whos[0].ref,
    salon: "Petit",
    users: [{ ...alice, status: "online" }, { ...carol, status: "online" }],
  });
  s.receive({
    type: "who",
    ref: whos[1].ref,
    salon: "Grand",
    users: [{ ...bob, status: "offline" }, {
      username: "dave",
      alias: "Caroline",
      status: "online",
    }],
    more: true,
    online: 500,
    members: 1000,
  });
  assert.equal(chat.people.searching.value, 0);
  assert.equal(chat.people.partial.value, true);
  assert.deepEqual(chat.people.matching("", "alice").map((u) => u.username), [
    "bob",
    "carol",
    "dave",
  ]);
  assert.deepEqual(chat.people.matching("CAROL", "alice").map((u) => u.username), [
    "carol",
    "dave",
  ]);
  assert.equal(chat.presence.status.value.get("carol"), "online");
  assert.equal(chat.presence.status.value.get("bob"), "offline");

  const key = chat.startDirect(carol);
  assert.equal(key, directKey("carol"));
  assert.deepEqual(
    chat.salons.directs.value.map((d) => d.with.alias),
    ["Carol", "Bob"],
    "listed first",
  );
  chat.open(key);
  assert.equal(s.last("history")!.with, "carol");
  chat.say(key, "hello Carol");
  assert.equal(s.last("direct")!.to, "carol");
});

Deno.test("directs: users on screen are watched (whole list, at most 200, once a second), pushed ones left out, renewed per session", () => {
  const { chat, s, clock, f } = started();
  const watches = (sock: FakeSocket) =>
    sock.sent.filter((x) => x.type === "watch").map((w) => w.users as string[]);
  chat.watcher.show("directs", ["bob"]);
  assert.deepEqual(watches(s), [["bob"]]);
  chat.watcher.show("directs", ["bob"]);
  assert.equal(watches(s).length, 1, "unchanged: not sent again");
  chat.watcher.show("search", ["carol", "alice", "dave"]);
  assert.equal(watches(s).length, 1, "the bucket: not twice within a second");
  chat.watcher.show("search", ["carol", "dave", "erin"]);
  clock.advance(WATCH_EVERY_MS);
  assert.deepEqual(
    watches(s),
    [["bob"], ["bob", "carol", "dave", "erin"]],
    "the latest list, never oneself",
  );

  // carol shares the small salon Petit: her changes are pushed.
  chat.findPeople();
  const petit = s.sent.find((x) => x.type === "who" && x.salon === "Petit")!;
  s.receive({
    type: "who",
    ref: petit.ref,
    salon: "Petit",
    users: [{ ...carol, status: "online" }],
  });
  clock.advance(WATCH_EVERY_MS);
  assert.deepEqual(watches(s).at(-1), ["bob", "dave", "erin"]);

  chat.watcher.show("search", Array.from({ length: 300 }, (_, i) => `p${i}`));
  clock.advance(WATCH_EVERY_MS);
  assert.equal(watches(s).at(-1)!.length, WATCH_LIMIT);

  chat.watcher.show("search", []);
  clock.advance(WATCH_EVERY_MS);
  assert.deepEqual(watches(s).at(-1), ["bob"]);

  s.receive({ type: "presence", ref: "x", changes: [{ username: "bob", status: "online" }] });
  assert.equal(chat.presence.status.value.get("bob"), "online");

  s.drop(1006);
  clock.advance(1000);
  const s2 = f.sockets[1];
  s2.open();
  s2.receive(welcome());
  assert.deepEqual(watches(s2), [["bob"]], "a new session watches again");
});
