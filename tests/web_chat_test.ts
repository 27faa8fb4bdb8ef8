/**
 * The browser client's stores and frame handlers, without a browser: each
 * message shown once, pending then confirmed, catch-up after a reconnect
 * without gap or duplicate, unread counts and read markers, typing.
 */

import assert from "node:assert/strict";
import { Chat, READ_DELAY_MS } from "../web/core/chat.ts";
import { salonKey } from "../web/core/keys.ts";
import { FakeClock, socketFactory } from "./web_fakes.ts";

const G = salonKey("Général");
const alice = { username: "alice", alias: "Alice" };
const bob = { username: "bob", alias: "Bob" };

function welcome(over: Record<string, unknown> = {}) {
  return {
    type: "welcome",
    user: { ...alice, role: "member" },
    token: "t",
    salons: [
      {
        name: "Général",
        policy: "auto",
        member: true,
        pending: false,
        online: 2,
        members: 2,
        presence: "push",
        latest: 3,
        lastRead: 1,
        unread: 2,
        mentions: 1,
      },
      {
        name: "Blabla",
        policy: "open",
        member: false,
        pending: false,
        online: 0,
        members: 0,
        presence: "push",
      },
    ],
    limits: { maxTextLength: 10, messagesPerSecond: 5 },
    directs: [],
    ...over,
  };
}

const msg = (id: number, from = bob, text = `m${id}`) => ({
  salon: "Général",
  id,
  from,
  text,
  at: `2026-11-24T10:00:0${id % 10}.000Z`,
});

/** A chat welcomed on its first socket, with Général's newest page loaded (ids 1..3). */
function started() {
  const clock = new FakeClock();
  const f = socketFactory();
  const chat = new Chat({ createSocket: f.create, clock });
  chat.connect("tok");
  const s = f.sockets[0];
  s.open();
  s.receive(welcome());
  const h = s.last("history")!;
  assert.deepEqual({ ...h, ref: undefined }, {
    type: "history",
    salon: "Général",
    limit: 50,
    ref: undefined,
  });
  s.receive({
    type: "history",
    ref: h.ref,
    salon: "Général",
    messages: [1, 2, 3].map((i) => msg(i)),
    more: false,
  });
  return { clock, f, chat, s };
}

const ids = (chat: Chat) => chat.messages.thread(G).value.items.map((i) => i.id);

Deno.test("chat: welcome fills the salons with their unread and mention counts and opens the auto salon", () => {
  const { chat } = started();
  assert.equal(chat.salons.active.value, G);
  const g = chat.salons.get("Général")!;
  assert.deepEqual([g.unread, g.mentions, g.lastRead, g.latest], [2, 1, 1, 3]);
  assert.equal(chat.salons.get("Blabla")!.member, false);
  assert.equal(chat.session.limits.value.maxTextLength, 10);
  assert.deepEqual(ids(chat), [1, 2, 3]);
});

Deno.test("chat: one's own message is pending at once, confirmed by ok's id, never doubled by the message event", () => {
  const { chat, s } = started();
  assert.equal(chat.say(G, "hello"), null);
  const say = s.last("say")!;
  assert.equal(say.text, "hello");
  assert.deepEqual(chat.messages.thread(G).value.pending.map((p) => p.text), ["hello"]);
  s.receive({ type: "ok", ref: say.ref, id: 4, at: "2026-11-24T10:00:04.000Z" });
  assert.deepEqual(chat.messages.thread(G).value.pending, []);
  assert.deepEqual(ids(chat), [1, 2, 3, 4]);
  s.receive({ type: "message", ...msg(4, alice, "hello"), mentions: ["bob"] });
  assert.deepEqual(ids(chat), [1, 2, 3, 4], "shown once");
  assert.deepEqual(chat.messages.thread(G).value.items[3].mentions, ["bob"]);
  s.receive({ type: "message", ...msg(4, alice, "hello") });
  assert.deepEqual(ids(chat), [1, 2, 3, 4]);
  assert.equal(chat.salons.get("Général")!.lastRead, 4, "sending moves one's marker");
});

Deno.test("chat: too_long and rate_limited are explained inline and the message marked not sent", () => {
  const { chat, s } = started();
  assert.match(chat.say(G, "x".repeat(11)) ?? "", /at most 10/);
  chat.say(G, "hi");
  s.receive({ type: "error", ref: s.last("say")!.ref, code: "rate_limited", message: "wait 1 s" });
  assert.equal(chat.messages.thread(G).value.pending[0].error?.code, "rate_limited");
  assert.match(chat.composer.problems.value.get(G)!.message, /too fast.*wait 1 s/i);
});

Deno.test("chat: catch-up after a reconnect asks after the newest id, pages until done, no gap, no duplicate", () => {
  const { chat, f, s, clock } = started();
  chat.say(G, "lost?");
  s.drop(1006);
  assert.equal(chat.messages.thread(G).value.pending[0].error?.code, "offline");
  clock.advance(1000);
  const s2 = f.sockets[1];
  s2.open();
  s2.receive(welcome({ salons: welcome().salons }));
  const h1 = s2.last("history")!;
  assert.equal(h1.after, 3);
  // A live message overtakes the catch-up page.
  s2.receive({ type: "message", ...msg(7) });
  s2.receive({
    type: "history",
    ref: h1.ref,
    salon: "Général",
    messages: [4, 5].map((i) => msg(i)),
    more: true,
  });
  const h2 = s2.last("history")!;
  assert.notEqual(h2.ref, h1.ref);
  assert.equal(h2.after, 7, "continues after the newest held");
  s2.receive({ type: "history", ref: h2.ref, salon: "Général", messages: [], more: false });
  assert.deepEqual(ids(chat), [1, 2, 3, 4, 5, 7]);
  // Had the page come after 5 with 6 and 7 (7 already live), 7 stays single.
  chat.messages.add(G, [msg(6), msg(7)]);
  assert.deepEqual(ids(chat), [1, 2, 3, 4, 5, 6, 7]);
});

Deno.test("chat: older pages with before, more from the reply", () => {
  const clock = new FakeClock();
  const f = socketFactory();
  const chat = new Chat({ createSocket: f.create, clock });
  chat.connect("tok");
  const s = f.sockets[0];
  s.open();
  s.receive(welcome());
  s.receive({
    type: "history",
    ref: s.last("history")!.ref,
    salon: "Général",
    messages: [51, 52].map((i) => msg(i)),
    more: true,
  });
  chat.loadOlder(G);
  const h = s.last("history")!;
  assert.equal(h.before, 51);
  chat.loadOlder(G);
  assert.equal(s.sent.filter((x) => x.type === "history").length, 2, "one page at a time");
  s.receive({
    type: "history",
    ref: h.ref,
    salon: "Général",
    messages: [49, 50].map((i) => msg(i)),
    more: false,
  });
  assert.deepEqual(ids(chat), [49, 50, 51, 52]);
  assert.equal(chat.messages.thread(G).value.more, false);
});

Deno.test("chat: unread counts grow with others' messages and mentions, and one read goes out when seen", () => {
  const { chat, s, clock } = started();
  s.receive({ type: "message", ...msg(4), mentions: ["alice"] });
  let g = chat.salons.get("Général")!;
  assert.deepEqual([g.unread, g.mentions, g.latest], [3, 2, 4]);
  chat.markRead(G, 3);
  chat.markRead(G, 4);
  g = chat.salons.get("Général")!;
  assert.deepEqual([g.unread, g.mentions, g.lastRead], [0, 0, 4]);
  assert.equal(s.last("read"), undefined, "coalesced");
  clock.advance(READ_DELAY_MS);
  assert.deepEqual({ ...s.last("read"), ref: undefined }, {
    type: "read",
    salon: "Général",
    id: 4,
    ref: undefined,
  });
  assert.equal(s.sent.filter((x) => x.type === "read").length, 1);
  chat.markRead(G, 2);
  clock.advance(READ_DELAY_MS);
  assert.equal(s.sent.filter((x) => x.type === "read").length, 1, "never backwards");
});

Deno.test("chat: a read from another session clears the counts", () => {
  const { chat, s } = started();
  s.receive({ type: "read", salon: "Général", id: 3 });
  const g = chat.salons.get("Général")!;
  assert.deepEqual([g.unread, g.mentions, g.lastRead], [0, 0, 3]);
});

Deno.test("chat: typing is sent at most every 3 s, and shown for a few seconds or until the message", () => {
  const { chat, s, clock } = started();
  chat.typing(G);
  chat.typing(G);
  clock.advance(2999);
  chat.typing(G);
  assert.equal(s.sent.filter((x) => x.type === "typing").length, 1);
  clock.advance(1);
  chat.typing(G);
  assert.equal(s.sent.filter((x) => x.type === "typing").length, 2);
  s.receive({ type: "typing", salon: "Général", user: bob });
  assert.deepEqual(chat.presence.typing.value.get(G)?.map((t) => t.user.alias), ["Bob"]);
  s.receive({ type: "message", ...msg(4) });
  assert.equal(chat.presence.typing.value.get(G), undefined);
  s.receive({ type: "typing", salon: "Général", user: bob });
  clock.advance(6000);
  assert.equal(chat.presence.typing.value.get(G), undefined, "expired");
});

Deno.test("chat: join, join_pending, joined, left and a rejected request update the salon", () => {
  const { chat, s } = started();
  chat.join("Blabla");
  s.receive({ type: "join_pending", ref: s.last("join")!.ref, salon: "Blabla" });
  assert.equal(chat.salons.get("Blabla")!.pending, true);
  s.receive({ type: "join_rejected", salon: "Blabla" });
  assert.equal(chat.salons.get("Blabla")!.pending, false);
  assert.match(chat.composer.problems.value.get(salonKey("Blabla"))!.message, /declined/);
  chat.open(salonKey("Blabla"));
  s.receive({ type: "joined", salon: "Blabla" });
  assert.equal(chat.salons.get("Blabla")!.member, true);
  assert.equal(s.last("history")!.salon, "Blabla", "the open salon loads once joined");
  s.receive({ type: "left", salon: "Blabla" });
  assert.equal(chat.salons.get("Blabla")!.member, false);
});

Deno.test("chat: shutdown countdown, cancel, notice; kicked stops the machine", () => {
  const { chat, s, clock, f } = started();
  s.receive({ type: "shutdown", seconds: 10 });
  assert.equal(chat.session.countdown.value?.seconds, 10);
  s.receive({ type: "shutdown_cancelled" });
  assert.equal(chat.session.countdown.value, null);
  s.receive({ type: "notice", text: "<b>hi</b>", at: "2026-11-24T10:00:00.000Z" });
  assert.equal(chat.session.announcements.value[0].text, "<b>hi</b>");
  s.receive({ type: "kicked", until: "2026-11-24T10:05:00.000Z" });
  s.drop(4403);
  assert.equal(chat.session.connection.value.kind, "stopped");
  clock.advance(3_600_000);
  assert.equal(f.sockets.length, 1);
});

Deno.test("chat: a moderator gets the join requests live and decides", () => {
  const clock = new FakeClock();
  const f = socketFactory();
  const chat = new Chat({ createSocket: f.create, clock });
  chat.connect("tok");
  const s = f.sockets[0];
  s.open();
  s.receive(welcome({ user: { ...alice, role: "moderator" } }));
  const r = s.last("requests")!;
  s.receive({ type: "requests", ref: r.ref, pending: [] });
  s.receive({ type: "join_request", salon: "Secret", username: "bob", alias: "Bob", at: "x" });
  assert.equal(chat.moderation.requests.value.length, 1);
  chat.decide("Secret", "bob", true);
  s.receive({ type: "ok", ref: s.last("decide")!.ref });
  assert.equal(chat.moderation.requests.value.length, 0);
});

Deno.test("chat: a direct message is filed under the other user and counted", () => {
  const { chat, s } = started();
  s.receive({
    type: "direct",
    id: 9,
    from: bob,
    to: alice,
    text: "psst",
    at: "2026-11-24T10:00:09.000Z",
  });
  assert.deepEqual(chat.salons.directs.value.map((d) => [d.with.username, d.unread]), [["bob", 1]]);
});
