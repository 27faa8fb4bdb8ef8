/**
 * The moderation desk (runtime/moderation.ts) against a real in-memory
 * SQLite store and a real account service, with a recording fake of the
 * live ports: who may do what (roles re-read from the store), what each act
 * stores, what it asks of the live actors, and what it writes to the audit log.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Accounts } from "../auth/accounts.ts";
import { hashPassword } from "../auth/password.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import { DEFAULT_SALONS, parseSalons } from "../config/salons.ts";
import { ProtocolError } from "../protocol/errors.ts";
import { nameKey } from "../protocol/names.ts";
import {
  type LivePorts,
  Moderation,
  type Moderator,
  type PendingView,
  serverModerator,
} from "../runtime/moderation.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import type {
  AuditVia,
  Role,
  SalonRecord,
  SanctionRecord,
  Store,
  UserRecord,
} from "../store/store.ts";

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
const MINUTE = 60_000;
const PASSWORD = "correct horse battery";
const ADDRESS = "192.0.2.7";
const iso = (t: number) => new Date(t).toISOString();

let sharedHash: Promise<string> | undefined;

/** One argon2 hash of PASSWORD for every test account (hashing is slow on purpose). */
function passwordHash(): Promise<string> {
  return sharedHash ??= hashPassword(PASSWORD);
}

/** A call made to the live ports. */
type Call = [string, ...unknown[]];

/** A recording LivePorts, with the answers each test chooses. */
class FakeLive implements LivePorts {
  calls: Call[] = [];
  online = new Set<number>();
  pending: PendingView[] = [];
  /** Pending requests the fake `decide` knows, as `<salon key>:<user id>`. */
  decidable = new Set<string>();
  salonKeys = new Set<string>();
  startAnswer = true;
  cancelAnswer = true;

  names(): string[] {
    return this.calls.map((c) => c[0]);
  }
  of(name: string): unknown[][] {
    return this.calls.filter((c) => c[0] === name).map((c) => c.slice(1));
  }
  isOnline(userId: number): boolean {
    return this.online.has(userId);
  }
  pendingRequests(): PendingView[] {
    this.calls.push(["pendingRequests"]);
    return this.pending;
  }
  decide(salon: string, userId: number, accept: boolean) {
    this.calls.push(["decide", salon, userId, accept]);
    const key = nameKey(salon);
    if (!this.salonKeys.has(key)) return Promise.resolve("unknown_salon" as const);
    if (!this.decidable.delete(`${key}:${userId}`)) return Promise.resolve("not_pending" as const);
    return Promise.resolve("ok" as const);
  }
  punish(userId: number, frame: string): void {
    this.calls.push(["punish", userId, JSON.parse(frame)]);
  }
  trackSanction(sanction: SanctionRecord, username: string): void {
    this.calls.push(["trackSanction", sanction, username]);
  }
  liftSanctions(userId: number): void {
    this.calls.push(["liftSanctions", userId]);
  }
  requestsWithdrawn(userId: number, salonIds: number[]): void {
    this.calls.push(["requestsWithdrawn", userId, salonIds]);
  }
  broadcast(frame: string): void {
    this.calls.push(["broadcast", JSON.parse(frame)]);
  }
  startShutdown(seconds: number): boolean {
    this.calls.push(["startShutdown", seconds]);
    return this.startAnswer;
  }
  cancelShutdown(): boolean {
    this.calls.push(["cancelShutdown"]);
    return this.cancelAnswer;
  }
  roleChanged(userId: number, role: Role): void {
    this.calls.push(["roleChanged", userId, role]);
  }
  // -- mute and slow mode (PROTOCOL 5.4; their desk rules are tested over the sockets)
  knownSalons: Array<{ id: number; name: string; key: string }> = [];
  salonNamed(name: string) {
    return this.knownSalons.find((s) => s.key === nameKey(name));
  }
  salonById(id: number) {
    return this.knownSalons.find((s) => s.id === id);
  }
  trackMute(mute: unknown, username: string, replaced: readonly number[]): void {
    this.calls.push(["trackMute", mute, username, replaced]);
  }
  liftMutes(userId: number, muteIds: readonly number[]): void {
    this.calls.push(["liftMutes", userId, muteIds]);
  }
  slowModeChanged(salonId: number, seconds: number): void {
    this.calls.push(["slowModeChanged", salonId, seconds]);
  }
}

/** Everything around one desk. */
interface Desk {
  store: Store;
  accounts: Accounts;
  live: FakeLive;
  desk: Moderation;
  /** The desk's clock, epoch ms; tests move it. */
  clock: { t: number };
  salons: Map<string, SalonRecord>;
  /** Accounts by username. */
  u: Record<string, UserRecord>;
  /** The identity of an account, as a route builds it at login. */
  as(username: string, via?: AuditVia): Moderator;
}

/**
 * Accounts: root and root2 (admins), mod and mod2 (moderators), mallory,
 * eve and bob (members).
 */
async function withDesk(fn: (d: Desk) => Promise<void>, log?: Logger): Promise<void> {
  const store = await openSqliteStore(":memory:");
  try {
    const clock = { t: T0 };
    const now = () => clock.t;
    const salonList = await store.syncSalons(parseSalons(DEFAULT_SALONS), T0);
    const salons = new Map(salonList.map((s) => [s.name, s]));
    const accounts = new Accounts({ store, now });
    const live = new FakeLive();
    for (const s of salonList) live.salonKeys.add(nameKey(s.name));
    const hash = await passwordHash();
    const u: Record<string, UserRecord> = {};
    const roles: Array<[string, Role]> = [
      ["root", "admin"],
      ["root2", "admin"],
      ["mod", "moderator"],
      ["mod2", "moderator"],
      ["mallory", "member"],
      ["eve", "member"],
      ["bob", "member"],
    ];
    for (const [name, role] of roles) {
      const alias = name[0].toUpperCase() + name.slice(1);
      u[name] = await store.createUser({ username: name, alias, passwordHash: hash, role }, T0);
    }
    const desk = new Moderation({
      store,
      accounts,
      live,
      kickMinutes: 7,
      shutdownSeconds: 10,
      maxText: 20,
      now,
      log,
    });
    const as = (username: string, via: AuditVia = "ws"): Moderator => ({
      username,
      userId: u[username].id,
      role: u[username].role,
      via,
    });
    await fn({ store, accounts, live, desk, clock, salons, u, as });
  } finally {
    await store.close();
  }
}

/** Outcome of an act: "ok", or "<code> <status>" for a ProtocolError. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    if (e instanceof ProtocolError) return `${e.code} ${e.status}`;
    throw e;
  }
}

/** Asserts that `p` fails with a ProtocolError of this code and status; returns it. */
async function refused(p: Promise<unknown>, code: string, status: number): Promise<ProtocolError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ProtocolError, `a ProtocolError, got ${e}`);
    assert.equal(`${e.code} ${e.status}`, `${code} ${status}`, e.message);
    assert.ok(e.message.length > 10, "a human sentence");
    return e;
  }
  assert.fail(`expected ${code} ${status}, but it succeeded`);
}

async function loginOutcome(d: Desk, username: string): Promise<string> {
  return await outcome(d.accounts.login({ username, password: PASSWORD }, ADDRESS));
}

// ---------------------------------------------------------------- permissions

const ACTS = [
  "inspect",
  "requests",
  "decide",
  "kick",
  "ban",
  "unban",
  "announce",
  "users",
  "audit",
  "shutdown",
  "cancelShutdown",
  "setRole",
  "createUser",
] as const;

/** Runs every act once as `who`, each with arguments that make it succeed when allowed. */
async function everyAct(d: Desk, who: Moderator): Promise<Record<string, string>> {
  d.live.decidable.add(`${nameKey("Comptabilité")}:${d.u.eve.id}`);
  const run: Record<(typeof ACTS)[number], () => Promise<unknown>> = {
    inspect: () => d.desk.assertCanInspect(who),
    requests: () => d.desk.requests(who),
    decide: () => d.desk.decide(who, "Comptabilité", "eve", true),
    kick: () => d.desk.kick(who, "mallory", { minutes: 1 }),
    ban: () => d.desk.ban(who, "bob"),
    unban: () => d.desk.unban(who, "bob"),
    announce: () => d.desk.announce(who, "hello all"),
    users: () => d.desk.users(who),
    audit: () => d.desk.audit(who),
    shutdown: () => d.desk.shutdown(who, 5),
    cancelShutdown: () => d.desk.cancelShutdown(who),
    setRole: () => d.desk.setRole(who, "eve", "moderator"),
    createUser: () =>
      d.desk.createUser(who, {
        username: "newbie",
        alias: "Newbie",
        password: PASSWORD,
        role: "member",
      }),
  };
  const results: Record<string, string> = {};
  for (const act of ACTS) results[act] = await outcome(run[act]());
  return results;
}

function expectAll(value: string, except: Record<string, string> = {}): Record<string, string> {
  return Object.fromEntries(ACTS.map((a) => [a, except[a] ?? value]));
}

Deno.test("permissions: a member is refused every act (403 forbidden), and nothing happens", async () => {
  await withDesk(async (d) => {
    const results = await everyAct(d, d.as("mallory"));
    assert.deepEqual(results, expectAll("forbidden 403"));
    assert.deepEqual(d.live.calls, [], "no live effect");
    assert.deepEqual(await d.store.listAudit(100), [], "nothing audited");
    assert.deepEqual(await d.store.listActiveSanctions(d.clock.t), [], "nobody sanctioned");
    assert.equal((await d.store.userByName("eve"))!.role, "member");
    assert.equal(await d.store.userByName("newbie"), undefined);
    const e = await refused(d.desk.kick(d.as("mallory"), "bob"), "forbidden", 403);
    assert.match(e.message, /moderator/, "says which role is needed");
  });
});

Deno.test("permissions: a moderator may moderate but not shut down, change roles or create users", async () => {
  await withDesk(async (d) => {
    const results = await everyAct(d, d.as("mod"));
    assert.deepEqual(
      results,
      expectAll("ok", {
        shutdown: "forbidden 403",
        cancelShutdown: "forbidden 403",
        setRole: "forbidden 403",
        createUser: "forbidden 403",
      }),
    );
    assert.equal(d.live.of("startShutdown").length, 0);
    assert.equal(d.live.of("cancelShutdown").length, 0);
    assert.equal(d.live.of("roleChanged").length, 0);
    assert.equal((await d.store.userByName("eve"))!.role, "member");
    assert.equal(await d.store.userByName("newbie"), undefined);
    const actions = (await d.store.listAudit(100)).map((e) => e.action).reverse();
    assert.deepEqual(actions, ["accept", "kick", "ban", "unban", "announce"]);
  });
});

for (const [label, who] of [["an admin", "root"], ["the admin socket", "socket"]] as const) {
  Deno.test(`permissions: ${label} may do everything`, async () => {
    await withDesk(async (d) => {
      const actor = who === "socket" ? serverModerator("socket") : d.as("root", "http");
      const results = await everyAct(d, actor);
      assert.deepEqual(results, expectAll("ok"));
      assert.deepEqual(d.live.of("startShutdown"), [[5]]);
      assert.deepEqual(d.live.of("cancelShutdown"), [[]]);
      assert.equal((await d.store.userByName("eve"))!.role, "moderator");
      assert.equal((await d.store.userByName("newbie"))!.role, "member");
      const entries = (await d.store.listAudit(100)).reverse();
      assert.deepEqual(entries.map((e) => e.action), [
        "accept",
        "kick",
        "ban",
        "unban",
        "announce",
        "shutdown",
        "cancel_shutdown",
        "role",
        "create_user",
      ]);
      const expected = who === "socket"
        ? { actor: "server", via: "socket" }
        : { actor: "root", via: "http" };
      for (const e of entries) assert.deepEqual({ actor: e.actor, via: e.via }, expected);
    });
  });
}

Deno.test("permissions: the role is re-read from the store on every act", async () => {
  await withDesk(async (d) => {
    // Mallory logged in as a member; an admin has since made her a moderator.
    const mallory = d.as("mallory");
    await refused(d.desk.announce(mallory, "hi"), "forbidden", 403);
    await d.store.setRole(d.u.mallory.id, "moderator");
    assert.equal(await outcome(d.desk.announce(mallory, "hi")), "ok");
    assert.equal(await outcome(d.desk.kick(mallory, "bob")), "ok");

    // A moderator demoted after login loses the rights at once.
    const mod = d.as("mod");
    await d.store.setRole(d.u.mod.id, "member");
    await refused(d.desk.kick(mod, "eve"), "forbidden", 403);
    await refused(d.desk.requests(mod), "forbidden", 403);

    // A session claiming more than the store says gets what the store says.
    const claims = { ...d.as("mod2"), role: "admin" as Role };
    await refused(d.desk.shutdown(claims, 3), "forbidden", 403);
    assert.equal(d.live.of("startShutdown").length, 0);
  });
});

Deno.test("sanctions: nobody can kick or ban themselves", async () => {
  await withDesk(async (d) => {
    await refused(d.desk.kick(d.as("mod"), "mod"), "forbidden", 403);
    await refused(d.desk.ban(d.as("mod"), "MOD"), "forbidden", 403);
    await refused(d.desk.kick(d.as("root"), "root"), "forbidden", 403);
    await refused(d.desk.ban(d.as("root"), "root"), "forbidden", 403);
    assert.deepEqual(d.live.calls, []);
    assert.deepEqual(await d.store.listActiveSanctions(d.clock.t), []);
    assert.deepEqual(await d.store.listAudit(10), []);
  });
});

Deno.test("sanctions: a moderator cannot sanction a moderator or an admin; an admin cannot sanction an admin; the socket can", async () => {
  await withDesk(async (d) => {
    const mod = d.as("mod");
    await refused(d.desk.kick(mod, "mod2"), "forbidden", 403);
    await refused(d.desk.ban(mod, "mod2"), "forbidden", 403);
    await refused(d.desk.kick(mod, "root"), "forbidden", 403);
    await refused(d.desk.ban(mod, "root"), "forbidden", 403);
    const root = d.as("root");
    await refused(d.desk.kick(root, "root2"), "forbidden", 403);
    await refused(d.desk.ban(root, "root2"), "forbidden", 403);
    assert.deepEqual(d.live.calls, [], "refused acts have no live effect");
    assert.deepEqual(await d.store.listActiveSanctions(d.clock.t), []);

    assert.equal(await outcome(d.desk.kick(root, "mod")), "ok", "an admin may kick a moderator");
    const socket = serverModerator("socket");
    assert.equal(await outcome(d.desk.kick(socket, "root2")), "ok");
    assert.equal(await outcome(d.desk.ban(socket, "root")), "ok");
    const sanctioned = (await d.store.listActiveSanctions(d.clock.t)).map((s) => s.userId);
    assert.deepEqual(sanctioned.sort(), [d.u.root.id, d.u.root2.id, d.u.mod.id].sort());
  });
});

// ---------------------------------------------------------------- kick

Deno.test("kick: stores until = now + minutes (fractions allowed), tracks it, punishes with kicked, audits", async () => {
  await withDesk(async (d) => {
    d.clock.t = T0 + 1234;
    const result = await d.desk.kick(d.as("mod"), "Mallory", { minutes: 1.5, reason: "calm down" });
    const until = d.clock.t + 90_000;
    assert.deepEqual(result, { until: iso(until) });

    const stored = await d.store.activeSanction(d.u.mallory.id, d.clock.t);
    assert.ok(stored);
    assert.deepEqual(
      { kind: stored.kind, until: stored.until, reason: stored.reason, userId: stored.userId },
      { kind: "kick", until, reason: "calm down", userId: d.u.mallory.id },
    );
    assert.deepEqual(d.live.of("trackSanction"), [[stored, "mallory"]]);
    assert.deepEqual(d.live.of("punish"), [[d.u.mallory.id, {
      type: "kicked",
      until: iso(until),
      reason: "calm down",
    }]]);
    assert.deepEqual(await d.store.listAudit(10), [{
      at: d.clock.t,
      actor: "mod",
      action: "kick",
      target: "mallory",
      reason: "calm down",
      via: "ws",
    }]);

    // The user cannot log in until then, and may at that time.
    const e = await refused(
      d.accounts.login({ username: "mallory", password: PASSWORD }, ADDRESS),
      "banned",
      403,
    );
    assert.equal(e.extra.until, iso(until));
    d.clock.t = until - 1;
    assert.equal(await loginOutcome(d, "mallory"), "banned 403");
    d.clock.t = until;
    assert.equal(await loginOutcome(d, "mallory"), "ok");
  });
});

Deno.test("kick: without minutes it lasts kickMinutes; without reason the reason is empty", async () => {
  await withDesk(async (d) => {
    const { until } = await d.desk.kick(d.as("root", "http"), "eve");
    assert.equal(until, iso(T0 + 7 * MINUTE));
    assert.deepEqual(d.live.of("punish"), [[d.u.eve.id, { type: "kicked", until, reason: "" }]]);
    const [entry] = await d.store.listAudit(1);
    assert.deepEqual(entry, {
      at: T0,
      actor: "root",
      action: "kick",
      target: "eve",
      reason: "",
      via: "http",
    });
  });
});

// ---------------------------------------------------------------- ban and unban

Deno.test("ban with purge: tokens revoked, requests withdrawn, messages deleted, ids keep growing", async () => {
  await withDesk(async (d) => {
    const { store, u } = d;
    const general = d.salons.get("Général")!;
    const compta = d.salons.get("Comptabilité")!;
    const marketing = d.salons.get("Marketing")!;
    const tokens = [await d.accounts.issueToken(u.bob), await d.accounts.issueToken(u.bob)];
    const eveToken = await d.accounts.issueToken(u.eve);
    await store.addJoinRequest(compta.id, u.bob.id, T0);
    await store.addJoinRequest(marketing.id, u.bob.id, T0);
    await store.addJoinRequest(compta.id, u.eve.id, T0);
    const salonMsg = (userId: number, text: string) => ({
      kind: "salon" as const,
      salonId: general.id,
      userId,
      text,
      at: T0,
    });
    const direct = (fromUserId: number, toUserId: number, text: string) => ({
      kind: "direct" as const,
      fromUserId,
      toUserId,
      text,
      at: T0,
    });
    assert.deepEqual(
      await store.appendMessages([
        salonMsg(u.eve.id, "e1"),
        salonMsg(u.bob.id, "b1"),
        salonMsg(u.eve.id, "e2"),
        salonMsg(u.bob.id, "b2"),
      ]),
      [1, 2, 3, 4],
    );
    await store.appendMessages([
      direct(u.bob.id, u.eve.id, "psst"),
      direct(u.eve.id, u.bob.id, "hm"),
    ]);

    await d.desk.ban(d.as("mod"), "bob", { reason: "spam", purge: true });

    for (const token of tokens) {
      await refused(d.accounts.authenticate(token), "unauthenticated", 401);
    }
    assert.equal((await d.accounts.authenticate(eveToken)).username, "eve", "others keep theirs");
    assert.deepEqual(await store.pendingSalonIds(u.bob.id), []);
    assert.deepEqual(await store.pendingSalonIds(u.eve.id), [compta.id]);
    const withdrawn = d.live.of("requestsWithdrawn");
    assert.equal(withdrawn.length, 1);
    assert.equal(withdrawn[0][0], u.bob.id);
    assert.deepEqual([...(withdrawn[0][1] as number[])].sort(), [compta.id, marketing.id].sort());

    const [[sanction, username]] = d.live.of("trackSanction") as [[SanctionRecord, string]];
    assert.equal(username, "bob");
    assert.deepEqual({ kind: sanction.kind, until: sanction.until, userId: sanction.userId }, {
      kind: "ban",
      until: null,
      userId: u.bob.id,
    });
    assert.deepEqual(d.live.of("punish"), [[u.bob.id, { type: "banned", reason: "spam" }]]);

    const history = await store.salonHistory(general.id, { limit: 50 });
    assert.deepEqual(history.messages.map((m) => [m.id, m.text]), [[1, "e1"], [3, "e2"]]);
    const directs = await store.directHistory(u.eve.id, u.bob.id, { limit: 50 });
    assert.deepEqual(directs.messages.map((m) => m.text), ["hm"], "bob's direct messages are gone");
    assert.deepEqual(await store.appendMessages([salonMsg(u.eve.id, "e3")]), [5], "no id reused");

    const [entry] = await store.listAudit(1);
    assert.deepEqual(entry, {
      at: T0,
      actor: "mod",
      action: "ban",
      target: "bob",
      reason: "spam (purged)",
      via: "ws",
    });
    // Banned for good: no login, ever, and no `until`.
    d.clock.t = T0 + 10 * 365 * 24 * 60 * MINUTE;
    const e = await refused(
      d.accounts.login({ username: "bob", password: PASSWORD }, ADDRESS),
      "banned",
      403,
    );
    assert.equal(e.extra.until, undefined);
    assert.ok(await store.userByName("bob"), "the username stays taken");
  });
});

Deno.test("ban without purge keeps the user's messages", async () => {
  await withDesk(async (d) => {
    const general = d.salons.get("Général")!;
    await d.store.appendMessages([
      { kind: "salon", salonId: general.id, userId: d.u.bob.id, text: "b1", at: T0 },
    ]);
    await d.desk.ban(serverModerator("socket"), "bob");
    const history = await d.store.salonHistory(general.id, { limit: 50 });
    assert.deepEqual(history.messages.map((m) => m.text), ["b1"]);
    assert.deepEqual(d.live.of("requestsWithdrawn"), [[d.u.bob.id, []]]);
    assert.deepEqual(d.live.of("punish"), [[d.u.bob.id, { type: "banned", reason: "" }]]);
    assert.equal((await d.store.listAudit(1))[0].reason, "");
  });
});

Deno.test("unban lifts kicks and bans: login works again; returns how many were lifted", async () => {
  await withDesk(async (d) => {
    const mod = d.as("mod");
    await d.desk.kick(mod, "bob", { minutes: 30 });
    await d.desk.ban(mod, "bob", { reason: "again" });
    assert.equal(await loginOutcome(d, "bob"), "banned 403");

    d.clock.t = T0 + MINUTE;
    assert.deepEqual(await d.desk.unban(mod, "Bob"), { lifted: 2 });
    assert.deepEqual(d.live.of("liftSanctions"), [[d.u.bob.id]]);
    assert.deepEqual(await d.store.listActiveSanctions(d.clock.t), []);
    assert.equal(await loginOutcome(d, "bob"), "ok");
    assert.deepEqual(await d.store.listAudit(1), [{
      at: T0 + MINUTE,
      actor: "mod",
      action: "unban",
      target: "bob",
      reason: "",
      via: "ws",
    }]);

    assert.deepEqual(await d.desk.unban(mod, "bob"), { lifted: 0 }, "nothing left to lift");
  });
});

// ---------------------------------------------------------------- announce

Deno.test("announce: validates the text, broadcasts notice {text, at}, audits", async () => {
  await withDesk(async (d) => {
    const mod = d.as("mod");
    await refused(d.desk.announce(mod, ""), "invalid", 400);
    await refused(d.desk.announce(mod, "   \n "), "invalid", 400);
    await refused(d.desk.announce(mod, "x".repeat(21)), "too_long", 400);
    await refused(d.desk.announce(mod, "bell\u0007"), "invalid", 400);
    assert.deepEqual(d.live.calls, [], "nothing broadcast for a refused text");
    assert.deepEqual(await d.store.listAudit(10), []);

    d.clock.t = T0 + 5000;
    await d.desk.announce(mod, "x".repeat(20));
    await d.desk.announce(mod, "Maintenance à 22 h");
    assert.deepEqual(d.live.of("broadcast"), [
      [{ type: "notice", text: "x".repeat(20), at: iso(T0 + 5000) }],
      [{ type: "notice", text: "Maintenance à 22 h", at: iso(T0 + 5000) }],
    ]);
    const [entry] = await d.store.listAudit(1);
    assert.deepEqual(entry, {
      at: T0 + 5000,
      actor: "mod",
      action: "announce",
      target: "",
      reason: "Maintenance à 22 h",
      via: "ws",
    });
  });
});

// ---------------------------------------------------------------- shutdown

Deno.test("shutdown: starts the countdown (default seconds); 409 shutting_down when one runs", async () => {
  await withDesk(async (d) => {
    const root = d.as("root", "http");
    assert.deepEqual(await d.desk.shutdown(root), { seconds: 10 });
    assert.deepEqual(await d.desk.shutdown(root, 3), { seconds: 3 });
    assert.deepEqual(d.live.of("startShutdown"), [[10], [3]]);

    d.live.startAnswer = false;
    await refused(d.desk.shutdown(root, 4), "shutting_down", 409);
    const entries = await d.store.listAudit(10);
    assert.deepEqual(entries.map((e) => [e.action, e.reason]), [
      ["shutdown", "3 s"],
      ["shutdown", "10 s"],
    ], "a refused shutdown is not audited");
  });
});

Deno.test("cancelShutdown: 409 invalid when nothing runs; audited when it cancels", async () => {
  await withDesk(async (d) => {
    const root = d.as("root", "http");
    d.live.cancelAnswer = false;
    await refused(d.desk.cancelShutdown(root), "invalid", 409);
    assert.deepEqual(await d.store.listAudit(10), []);
    d.live.cancelAnswer = true;
    await d.desk.cancelShutdown(root);
    assert.deepEqual(d.live.of("cancelShutdown"), [[], []]);
    assert.deepEqual((await d.store.listAudit(10)).map((e) => e.action), ["cancel_shutdown"]);
  });
});

// ---------------------------------------------------------------- roles and accounts

Deno.test("setRole: changes the role, tells the live sessions, audits; the last admin stays admin", async () => {
  await withDesk(async (d) => {
    const socket = serverModerator("socket");
    await d.desk.setRole(d.as("root"), "eve", "moderator");
    assert.equal((await d.store.userByName("eve"))!.role, "moderator");
    assert.deepEqual(d.live.of("roleChanged"), [[d.u.eve.id, "moderator"]]);
    assert.deepEqual((await d.store.listAudit(1))[0], {
      at: T0,
      actor: "root",
      action: "role",
      target: "eve",
      reason: "moderator",
      via: "ws",
    });

    // Two admins: one may go. Then the other is the last one.
    await d.desk.setRole(socket, "root2", "member");
    assert.equal((await d.store.userByName("root2"))!.role, "member");
    const e = await refused(d.desk.setRole(socket, "root", "moderator"), "invalid", 409);
    assert.match(e.message, /last admin/);
    await refused(d.desk.setRole(d.as("root"), "root", "member"), "invalid", 409);
    assert.equal((await d.store.userByName("root"))!.role, "admin");
    assert.equal(await d.store.hasAdmin(), true);
    assert.equal(d.live.of("roleChanged").length, 2, "a refused change reaches no session");
    // Making the last admin admin again is no demotion.
    assert.equal(await outcome(d.desk.setRole(socket, "root", "admin")), "ok");
  });
});

Deno.test("createUser: an account with the given role, who can log in; name clashes refused", async () => {
  await withDesk(async (d) => {
    const socket = serverModerator("socket");
    const created = await d.desk.createUser(socket, {
      username: "Helene",
      alias: "Hélène",
      password: "another long password",
      role: "moderator",
    });
    assert.equal(created.username, "Helene");
    assert.equal(created.role, "moderator");
    assert.equal((await d.store.userByName("helene"))!.role, "moderator");
    const { user } = await d.accounts.login(
      { username: "helene", password: "another long password" },
      ADDRESS,
    );
    assert.equal(user.role, "moderator");
    const general = d.salons.get("Général")!;
    assert.deepEqual(await d.store.memberSalonIds(created.id), [general.id], "a member of Général");
    assert.deepEqual((await d.store.listAudit(1))[0], {
      at: T0,
      actor: "server",
      action: "create_user",
      target: "Helene",
      reason: "moderator",
      via: "socket",
    });
    await refused(
      d.desk.createUser(socket, {
        username: "HELENE",
        alias: "Other",
        password: PASSWORD,
        role: "member",
      }),
      "username_taken",
      409,
    );
    await refused(
      d.desk.createUser(socket, {
        username: "server",
        alias: "Srv",
        password: PASSWORD,
        role: "admin",
      }),
      "username_taken",
      409,
    );
  });
});

Deno.test("an unknown user is 404 unknown_user for every act naming one", async () => {
  await withDesk(async (d) => {
    const socket = serverModerator("socket");
    await refused(d.desk.kick(socket, "nobody"), "unknown_user", 404);
    await refused(d.desk.ban(socket, "nobody"), "unknown_user", 404);
    await refused(d.desk.unban(socket, "nobody"), "unknown_user", 404);
    await refused(d.desk.setRole(socket, "nobody", "moderator"), "unknown_user", 404);
    await refused(d.desk.decide(socket, "Comptabilité", "nobody", true), "unknown_user", 404);
    assert.deepEqual(d.live.calls, []);
    assert.deepEqual(await d.store.listAudit(10), []);
  });
});

// ---------------------------------------------------------------- join requests

Deno.test("decide: accept and reject through the live salon, audited as user@salon", async () => {
  await withDesk(async (d) => {
    const compta = nameKey("Comptabilité");
    d.live.decidable.add(`${compta}:${d.u.eve.id}`);
    d.live.decidable.add(`${nameKey("Marketing")}:${d.u.bob.id}`);
    await d.desk.decide(d.as("mod"), "Comptabilité", "Eve", true);
    await d.desk.decide(d.as("mod"), "Marketing", "bob", false);
    assert.deepEqual(d.live.of("decide"), [
      ["Comptabilité", d.u.eve.id, true],
      ["Marketing", d.u.bob.id, false],
    ]);
    const entries = (await d.store.listAudit(10)).reverse();
    assert.deepEqual(entries.map((e) => [e.action, e.target, e.actor]), [
      ["accept", "eve@Comptabilité", "mod"],
      ["reject", "bob@Marketing", "mod"],
    ]);
  });
});

Deno.test("decide: 404 unknown_salon for an unknown salon, 404 invalid without a pending request", async () => {
  await withDesk(async (d) => {
    d.live.decidable.add(`${nameKey("Comptabilité")}:${d.u.eve.id}`);
    await refused(d.desk.decide(d.as("mod"), "Nowhere", "eve", true), "unknown_salon", 404);
    await refused(d.desk.decide(d.as("mod"), "Marketing", "eve", true), "invalid", 404);
    await refused(d.desk.decide(d.as("mod"), "Comptabilité", "bob", false), "invalid", 404);
    assert.deepEqual(await d.store.listAudit(10), [], "a failed decision is not audited");
  });
});

Deno.test("requests: the live pending list, as is", async () => {
  await withDesk(async (d) => {
    d.live.pending = [
      { salon: "Comptabilité", username: "eve", alias: "Eve", at: iso(T0) },
      { salon: "Marketing", username: "bob", alias: "Bob", at: iso(T0 + 1) },
    ];
    assert.deepEqual(await d.desk.requests(d.as("mod")), d.live.pending);
  });
});

// ---------------------------------------------------------------- listings

Deno.test("users: every account with status, banned and bannedUntil; ?status=online", async () => {
  await withDesk(async (d) => {
    const socket = serverModerator("socket");
    d.live.online.add(d.u.eve.id);
    d.live.online.add(d.u.mod.id);
    const { until } = await d.desk.kick(socket, "mallory", { minutes: 10 });
    await d.desk.ban(socket, "bob");

    const all = await d.desk.users(d.as("mod"));
    assert.deepEqual(all, [
      { username: "root", alias: "Root", role: "admin", status: "offline" },
      { username: "root2", alias: "Root2", role: "admin", status: "offline" },
      { username: "mod", alias: "Mod", role: "moderator", status: "online" },
      { username: "mod2", alias: "Mod2", role: "moderator", status: "offline" },
      {
        username: "mallory",
        alias: "Mallory",
        role: "member",
        status: "offline",
        bannedUntil: until,
      },
      { username: "eve", alias: "Eve", role: "member", status: "online" },
      { username: "bob", alias: "Bob", role: "member", status: "offline", banned: true },
    ]);
    const online = await d.desk.users(d.as("mod"), { status: "online" });
    assert.deepEqual(online.map((x) => x.username), ["mod", "eve"]);

    // Once the kick has run out, it is no longer listed.
    d.clock.t = T0 + 10 * MINUTE;
    const later = await d.desk.users(d.as("mod"));
    const mallory = later.find((x) => x.username === "mallory")!;
    assert.equal("bannedUntil" in mallory, false);
    assert.equal(later.find((x) => x.username === "bob")!.banned, true);
  });
});

Deno.test("audit: newest first, ISO times, limited", async () => {
  await withDesk(async (d) => {
    const mod = d.as("mod");
    d.clock.t = T0 + 1000;
    await d.desk.announce(mod, "one");
    d.clock.t = T0 + 2000;
    await d.desk.kick(mod, "eve", { reason: "two" });
    d.clock.t = T0 + 3000;
    await d.desk.unban(serverModerator("socket"), "eve");

    const entries = await d.desk.audit(mod);
    assert.deepEqual(entries, [
      {
        at: iso(T0 + 3000),
        actor: "server",
        action: "unban",
        target: "eve",
        reason: "",
        via: "socket",
      },
      { at: iso(T0 + 2000), actor: "mod", action: "kick", target: "eve", reason: "two", via: "ws" },
      {
        at: iso(T0 + 1000),
        actor: "mod",
        action: "announce",
        target: "",
        reason: "one",
        via: "ws",
      },
    ]);
    assert.deepEqual((await d.desk.audit(mod, 2)).map((e) => e.action), ["unban", "kick"]);
  });
});

// --- the operations log (issue 12, item 6) ------------------------------------------------------

Deno.test("log: every act is one info line with its event, actor, via, target user and salon; never a reason or a text", async () => {
  const lines: string[] = [];
  const log = createLogger("debug", (l) => lines.push(l));
  await withDesk(async (d) => {
    d.live.decidable.add(`${nameKey("Comptabilité")}:${d.u.eve.id}`);
    d.live.decidable.add(`${nameKey("Marketing")}:${d.u.bob.id}`);
    await d.desk.decide(d.as("mod"), "Comptabilité", "eve", true);
    await d.desk.decide(d.as("mod"), "Marketing", "bob", false);
    await d.desk.kick(d.as("mod"), "mallory", { reason: "reason-one-Xk2", minutes: 2 });
    await d.desk.ban(d.as("mod", "http"), "eve", { reason: "reason-two-Pq7", purge: true });
    await d.desk.unban(d.as("root"), "eve");
    await d.desk.announce(d.as("mod"), "notice-Vb4");
    await d.desk.setRole(d.as("root"), "bob", "moderator");
    await d.desk.shutdown(serverModerator("signal"), 30);
    await d.desk.cancelShutdown(d.as("root", "socket"));
    await d.desk.createUser(d.as("root"), {
      username: "zoe",
      alias: "Zoe",
      password: "zoe-password-Mn8",
      role: "member",
    });
  }, log);
  const records = lines.map((l) => JSON.parse(l));
  const picked = records.map((r) => {
    const { time: _t, msg: _m, ...rest } = r;
    return rest;
  });
  assert.deepEqual(picked, [
    {
      level: "info",
      event: "join_accepted",
      actor: "mod",
      via: "ws",
      user: "eve",
      salon: "Comptabilité",
    },
    {
      level: "info",
      event: "join_rejected",
      actor: "mod",
      via: "ws",
      user: "bob",
      salon: "Marketing",
    },
    {
      level: "info",
      event: "kick",
      actor: "mod",
      via: "ws",
      user: "mallory",
      sanction: 1,
      minutes: 2,
    },
    {
      level: "info",
      event: "ban",
      actor: "mod",
      via: "http",
      user: "eve",
      sanction: 2,
      purge: true,
    },
    { level: "info", event: "unban", actor: "root", via: "ws", user: "eve", count: 1 },
    { level: "info", event: "announce", actor: "mod", via: "ws" },
    {
      level: "info",
      event: "role_changed",
      actor: "root",
      via: "ws",
      user: "bob",
      role: "moderator",
    },
    { level: "info", event: "shutdown_started", actor: "server", via: "signal", seconds: 30 },
    { level: "info", event: "shutdown_cancelled", actor: "root", via: "socket" },
    { level: "info", event: "user_created", actor: "root", via: "ws", user: "zoe", role: "member" },
  ]);
  assert.ok(records.every((r) => typeof r.msg === "string" && r.msg.length > 0));
  const all = lines.join("\n");
  for (const secret of ["reason-one-Xk2", "reason-two-Pq7", "notice-Vb4", "zoe-password-Mn8"]) {
    assert.ok(!all.includes(secret), `${secret} is in the log:\n${all}`);
  }
});
