/**
 * Who receives which presence change (actors/presence.ts), alone: the
 * audience of a change (small salons shared, watch lists), one frame per
 * group of sessions getting the same changes, changes held for full sockets,
 * the small/large threshold, and the sorted roster behind `who`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MemberRoster } from "../actors/member_roster.ts";
import {
  isLarge,
  type OnlineMembers,
  type PresenceChange,
  PresenceDesk,
  smallAgainAt,
} from "../actors/presence.ts";
import { whoPage } from "../actors/salon_presence.ts";
import type { SalonContext } from "../actors/salon_types.ts";
import type { Session } from "../actors/session.ts";
import type { UserSummary } from "../store/store.ts";

function user(id: number, username: string): UserSummary {
  return { id, username, alias: username.toUpperCase(), role: "member" };
}

function session(id: string, u: UserSummary): Session {
  return { id, user: u, send() {}, close() {} };
}

function online(...sessions: Session[]): OnlineMembers {
  const map = new Map<number, Set<Session>>();
  for (const s of sessions) {
    if (!map.has(s.user.id)) map.set(s.user.id, new Set());
    map.get(s.user.id)!.add(s);
  }
  return map;
}

function changes(...list: Array<[UserSummary, "online" | "offline"]>) {
  return new Map<number, PresenceChange>(
    list.map(([u, status]) => [u.id, { username: u.username, status }]),
  );
}

const A = user(1, "alice"), B = user(2, "bob"), C = user(3, "carol"), D = user(4, "dave");

Deno.test("isLarge: past the maximum it is large; it is small again at 90% of it or fewer", () => {
  assert.equal(isLarge(100, false, 100), false);
  assert.equal(isLarge(101, false, 100), true);
  assert.equal(isLarge(95, true, 100), true, "between 90% and the maximum it stays large");
  assert.equal(isLarge(91, true, 100), true);
  assert.equal(isLarge(90, true, 100), false);
  assert.equal(isLarge(95, false, 100), false, "and a small salon stays small there");
  assert.equal(smallAgainAt(100), 90);
  assert.equal(smallAgainAt(10), 9);
});

Deno.test("plan: a change reaches the online members of the user's small salons, once each", () => {
  const desk = new PresenceDesk();
  const a = session("a", A), b = session("b", B), c = session("c", C), d = session("d", D);
  const salon1 = online(a, b, c);
  const salon2 = online(b, c, d);
  const deliveries = desk.plan(changes([A, "online"]), {
    pushSalons: (id) => id === A.id ? [salon1, salon1] : [],
    full: () => false,
  });
  assert.equal(deliveries.length, 1, "one frame for everyone getting the same changes");
  assert.deepEqual(new Set(deliveries[0].sessions), new Set([a, b, c]));
  assert.equal(deliveries[0].sessions.length, 3, "a salon listed twice reaches each session once");
  assert.deepEqual(JSON.parse(deliveries[0].frame), {
    type: "presence",
    changes: [{ username: "alice", status: "online" }],
  });
  // Two changes with overlapping audiences: three groups, three frames.
  const two = desk.plan(changes([A, "offline"], [D, "online"]), {
    pushSalons: (id) => id === A.id ? [salon1] : id === D.id ? [salon2] : [],
    full: () => false,
  });
  const bySession = new Map<Session, string>();
  for (const { frame, sessions } of two) for (const s of sessions) bySession.set(s, frame);
  assert.equal(two.length, 3);
  assert.deepEqual(JSON.parse(bySession.get(a)!).changes, [{
    username: "alice",
    status: "offline",
  }]);
  assert.deepEqual(JSON.parse(bySession.get(d)!).changes, [{ username: "dave", status: "online" }]);
  assert.deepEqual(JSON.parse(bySession.get(b)!).changes, [
    { username: "alice", status: "offline" },
    { username: "dave", status: "online" },
  ]);
  assert.equal(
    two.find((x) => x.sessions.includes(b))!.sessions.includes(c),
    true,
    "b and c share",
  );
});

Deno.test("plan: a user in large salons only, watched by nobody, costs nothing (a 10,000-login wave)", () => {
  const desk = new PresenceDesk();
  const wave = new Map<number, PresenceChange>();
  for (let i = 0; i < 10_000; i++) wave.set(i, { username: `user${i}`, status: "online" });
  let salonsAsked = 0, fullAsked = 0;
  const deliveries = desk.plan(wave, {
    pushSalons: () => {
      salonsAsked++;
      return []; // Général is large: not a push salon
    },
    full: () => {
      fullAsked++;
      return false;
    },
  });
  assert.deepEqual(deliveries, [], "no frame at all");
  assert.equal(salonsAsked, 10_000, "one look-up per change");
  assert.equal(fullAsked, 0, "no session is visited");
});

Deno.test("watch: the list replaces the previous one, returns the new names, ends with the session", () => {
  const desk = new PresenceDesk();
  const c = session("c", C);
  const reach = () =>
    desk.plan(changes([A, "online"], [B, "online"], [D, "online"]), {
      pushSalons: () => [],
      full: () => false,
    }).flatMap((x) => x.sessions.includes(c) ? JSON.parse(x.frame).changes : []);
  assert.deepEqual(desk.watch(c, [A.id, B.id, A.id]), [A.id, B.id], "duplicates count once");
  assert.deepEqual(reach().map((x: PresenceChange) => x.username), ["alice", "bob"]);
  assert.deepEqual(desk.watch(c, [B.id, D.id]), [D.id], "only dave is new");
  assert.deepEqual(reach().map((x: PresenceChange) => x.username), ["bob", "dave"]);
  assert.deepEqual(desk.watch(c, []), [], "an empty list stops watching");
  assert.deepEqual(reach(), []);
  assert.equal(desk.watchedUsers, 0);
  desk.watch(c, [A.id]);
  desk.forget(c);
  assert.deepEqual(reach(), [], "the list ends with the session");
  assert.equal(desk.watchedUsers, 0);
});

Deno.test("plan: a full socket keeps its changes, latest status per user last, and gets one frame once drained", () => {
  const desk = new PresenceDesk();
  const a = session("a", A), b = session("b", B);
  let bFull = true;
  const sources = (salon: OnlineMembers) => ({
    pushSalons: () => [salon],
    full: (s: Session) => s === b && bFull,
  });
  const salon = online(a, b);
  let out = desk.plan(changes([C, "online"], [D, "online"]), sources(salon));
  assert.deepEqual(out.flatMap((x) => x.sessions), [a]);
  assert.equal(desk.heldSessions, 1);
  out = desk.plan(changes([C, "offline"]), sources(salon));
  assert.deepEqual(out.flatMap((x) => x.sessions), [a]);
  bFull = false;
  out = desk.plan(new Map(), sources(salon));
  assert.equal(out.length, 1);
  assert.deepEqual(out[0].sessions, [b]);
  assert.deepEqual(JSON.parse(out[0].frame).changes, [
    { username: "dave", status: "online" },
    { username: "carol", status: "offline" },
  ]);
  assert.equal(desk.heldSessions, 0);
});

Deno.test("MemberRoster: kept sorted by username (case-insensitive) through joins and leaves", () => {
  const roster = new MemberRoster([user(1, "zoe"), user(2, "Bob"), user(3, "alice")]);
  assert.deepEqual([...roster].map((u) => u.username), ["alice", "Bob", "zoe"]);
  roster.upsert(user(4, "carl"));
  roster.upsert(user(5, "Aaron"));
  roster.upsert({ ...user(4, "carl"), alias: "Carl 2" });
  assert.deepEqual([...roster].map((u) => u.username), ["Aaron", "alice", "Bob", "carl", "zoe"]);
  assert.equal([...roster].find((u) => u.id === 4)!.alias, "Carl 2", "replaced, not added");
  roster.remove(user(2, "Bob"));
  roster.remove(user(99, "nobody"));
  assert.deepEqual([...roster].map((u) => u.username), ["Aaron", "alice", "carl", "zoe"]);
  assert.equal(roster.size, 4);
});

/** The part of a salon's context `whoPage` reads. */
function whoContext(members: UserSummary[], onlineIds: number[]): SalonContext {
  return {
    members: new Map(members.map((u) => [u.id, u])),
    online: new Map(onlineIds.map((id) => [id, new Set()])),
    roster: new MemberRoster(members),
  } as unknown as SalonContext;
}

Deno.test("whoPage: online first, then the others, by username; limit, more and the counts", () => {
  const members = ["eve", "bob", "dan", "amy", "cat"].map((n, i) => user(i + 1, n));
  const ctx = whoContext(members, [3, 1]); // dan, eve online
  const names = (p: ReturnType<typeof whoPage>) => p.users.map((u) => `${u.username}:${u.status}`);
  const all = whoPage(ctx, undefined, 200);
  assert.deepEqual(names(all), [
    "dan:online",
    "eve:online",
    "amy:offline",
    "bob:offline",
    "cat:offline",
  ]);
  assert.deepEqual({ more: all.more, online: all.online, members: all.members }, {
    more: false,
    online: 2,
    members: 5,
  });
  const three = whoPage(ctx, undefined, 3);
  assert.deepEqual(names(three), ["dan:online", "eve:online", "amy:offline"]);
  assert.equal(three.more, true);
  const onlineOnly = whoPage(ctx, "online", 200);
  assert.deepEqual(names(onlineOnly), ["dan:online", "eve:online"]);
  assert.equal(onlineOnly.more, false);
  const one = whoPage(ctx, "online", 1);
  assert.deepEqual(names(one), ["dan:online"]);
  assert.equal(one.more, true);
  // Many members, few online (the path that sorts just the online ones).
  const many = Array.from(
    { length: 1000 },
    (_, i) => user(i + 1, `u${String(i).padStart(4, "0")}`),
  );
  const big = whoPage(whoContext(many, [900, 5, 300]), undefined, 5);
  assert.deepEqual(names(big), [
    "u0004:online",
    "u0299:online",
    "u0899:online",
    "u0000:offline",
    "u0001:offline",
  ]);
  assert.equal(big.more, true);
});
