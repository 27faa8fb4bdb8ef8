/**
 * Mute, unmute and slow mode (PROTOCOL 5.4) in the permission matrix and
 * under hostile input: member / moderator / admin over WebSocket and HTTP,
 * and the admin socket, with the rank rules of a kick (not oneself, only
 * users whose role is below one's own; the admin socket may act on anyone;
 * lifting or replacing a mute needs the role of its author); and every bad
 * frame or body refused with a clear error, the socket still served, nothing
 * stored and nothing changed live.
 *
 * @module
 */

import assert from "node:assert/strict";
import { assertServed, type Frame, loginHttp, type TestClient } from "./ws_client.ts";
import { type Json, pw } from "./admin_fixture.ts";
import { type ClockedServer, member, say, startClocked } from "./mute_fixture.ts";

type Role = "member" | "moderator" | "admin";
type Way = "ws" | "http" | "socket";
type Action = "mute" | "unmute" | "slow_mode";

const RANK: Record<Role, number> = { member: 0, moderator: 1, admin: 2 };

/** The actors and targets of the matrix, by role. */
const ACTORS: Record<Role, string> = { member: "mem", moderator: "mod", admin: "adm" };
const TARGETS: Record<Role, string> = { member: "tmem", moderator: "tmod", admin: "tadm" };

interface World {
  server: ClockedServer;
  ws: Record<string, TestClient>;
  tokens: Record<string, string>;
}

async function world(): Promise<World> {
  const server = await startClocked();
  const ws: Record<string, TestClient> = {};
  const tokens: Record<string, string> = {};
  for (const role of ["member", "moderator", "admin"] as Role[]) {
    for (const name of [ACTORS[role], TARGETS[role]]) {
      ws[name] = await member(server, name, role);
      tokens[name] = await loginHttp(server.srv.url, name, pw(name));
    }
  }
  return { server, ws, tokens };
}

/** One act; resolves with `ok` or the error code. */
async function act(w: World, way: Way, actor: string, action: Action, target: string) {
  if (way === "ws") {
    const frame = action === "slow_mode"
      ? { type: "slow_mode", salon: "Blabla", seconds: 5 }
      : { type: action, username: target };
    const reply = await w.ws[actor].request(frame);
    return reply.type === "ok" ? "ok" : reply.code as string;
  }
  const [method, path, body] = action === "mute"
    ? ["POST", `/admin/users/${target}/mute`, {}]
    : action === "unmute"
    ? ["DELETE", `/admin/users/${target}/mute`, undefined]
    : ["PUT", "/admin/salons/Blabla/slow-mode", { seconds: 5 }];
  const res = way === "socket"
    ? await w.server.sock(method, path, body)
    : await w.server.http(method, path, body, w.tokens[actor]);
  if (res.status === 200) return "ok";
  assert.equal(res.status, res.body.error.code === "forbidden" ? 403 : res.status, res.text);
  return res.body.error.code as string;
}

/** Whether `actor` (role, or the socket) may mute or unmute `target` (role, or itself). */
function allowed(actor: Role | "socket", target: Role | "self"): boolean {
  if (actor === "socket") return true;
  if (target === "self" || actor === "member") return false;
  return RANK[target] < RANK[actor];
}

async function mutesInForce(w: World): Promise<number> {
  return (await w.server.srv.server.store.listActiveMutes(w.server.clock.now())).length;
}

Deno.test("permission matrix: mute, unmute and slow_mode for member, moderator, admin (ws, http) and the admin socket", async () => {
  const w = await world();
  try {
    const ways: Array<[Way, Role | "socket"]> = [];
    for (const role of ["member", "moderator", "admin"] as Role[]) {
      ways.push(["ws", role], ["http", role]);
    }
    ways.push(["socket", "socket"]);
    const problems: string[] = [];
    for (const [way, role] of ways) {
      const actor = role === "socket" ? "server" : ACTORS[role];
      for (const target of ["member", "moderator", "admin", "self"] as const) {
        if (role === "socket" && target === "self") continue;
        const name = target === "self" ? actor : TARGETS[target];
        const expected = allowed(role, target) ? "ok" : "forbidden";
        const label = `${way}:${role} mute ${target}`;
        const got = await act(w, way, actor, "mute", name);
        if (got !== expected) problems.push(`${label}: ${got}, expected ${expected}`);
        if (got === "ok") {
          assert.equal((await w.ws[name].nextOfType("muted")).type, "muted", label);
          // Lifting it needs the same rights.
          const lifted = await act(w, way, actor, "unmute", name);
          if (lifted !== "ok") problems.push(`${label} then unmute: ${lifted}`);
          await w.ws[name].nextOfType("unmuted");
        } else {
          assert.equal(await mutesInForce(w), 0, `${label}: nothing stored`);
          assert.equal((await say(w.ws[name], "Général", label)).type, "ok", label);
          // Unmuting is refused just the same (nothing to lift, but the rank is checked first).
          const unmute = await act(w, way, actor, "unmute", name);
          if (unmute !== "forbidden") problems.push(`${way}:${role} unmute ${target}: ${unmute}`);
        }
      }
      const slow = await act(w, way, actor, "slow_mode", "");
      const slowExpected = role === "member" ? "forbidden" : "ok";
      if (slow !== slowExpected) problems.push(`${way}:${role} slow_mode: ${slow}`);
    }
    assert.deepEqual(problems, []);
    // Every act that went through is in the audit log, with its path; none of the refused ones.
    const entries = (await w.server.sock("GET", "/admin/audit?limit=1000")).body.entries as Json[];
    const acts = entries.filter((e) => ["mute", "unmute", "slow_mode"].includes(e.action));
    const count = (action: string, via: string) =>
      acts.filter((e) => e.action === action && e.via === via).length;
    // moderator: 1 target per way; admin: 2 per way; socket: 3 (ws and http for each role).
    assert.equal(count("mute", "ws"), 3);
    assert.equal(count("mute", "http"), 3);
    assert.equal(count("mute", "socket"), 3);
    assert.equal(count("unmute", "ws") + count("unmute", "http") + count("unmute", "socket"), 9);
    assert.equal(count("slow_mode", "ws") + count("slow_mode", "http"), 4);
    assert.equal(count("slow_mode", "socket"), 1);
  } finally {
    await w.server.stop();
  }
});

Deno.test("lifting or replacing a mute needs the role of its author (as unban)", async () => {
  const w = await world();
  try {
    // An admin mutes a member; a moderator can neither lift nor replace (shorten) it.
    assert.equal(await act(w, "ws", "adm", "mute", "tmem"), "ok");
    const muted = await w.ws.tmem.nextOfType("muted");
    const unmute = await w.ws.mod.request({ type: "unmute", username: "tmem" });
    assert.equal(unmute.code, "forbidden");
    assert.match(unmute.message, /imposed by adm \(admin\); only an admin can lift it/);
    const replace = await w.ws.mod.request({ type: "mute", username: "tmem", minutes: 1 });
    assert.equal(replace.code, "forbidden");
    assert.match(replace.message, /only an admin can replace it/);
    assert.equal((await say(w.ws.tmem, "Général", "x")).until, muted.until, "unchanged");
    assert.equal(await mutesInForce(w), 1);
    // A mute in another salon is another mute: the moderator may impose that one.
    const other = await w.ws.mod.request({ type: "mute", username: "tmem", salon: "Blabla" });
    assert.equal(other.type, "ok");
    // The admin socket's mutes need an admin too; an admin lifts a moderator's.
    assert.equal(await act(w, "ws", "adm", "unmute", "tmem"), "ok");
    const lifted = await w.ws.adm.request({ type: "unmute", username: "tmem", salon: "Blabla" });
    assert.deepEqual([lifted.type, lifted.lifted], ["ok", 1]);
    assert.equal((await w.server.sock("POST", "/admin/users/tmem/mute", {})).status, 200);
    assert.equal((await w.ws.mod.request({ type: "unmute", username: "tmem" })).code, "forbidden");
    assert.match(
      (await w.ws.mod.request({ type: "unmute", username: "tmem" })).message,
      /the server \(admin socket\)/,
    );
  } finally {
    await w.server.stop();
  }
});

/** Frames that must be refused, with the code they must get. */
function hostileFrames(): Array<[Record<string, unknown>, string, RegExp?]> {
  const long = "é".repeat(10 * 1024);
  return [
    [{ type: "mute", username: "tmem", minutes: 43201 }, "invalid", /at most 43200/],
    [{ type: "mute", username: "tmem", minutes: 0 }, "invalid", /greater than 0/],
    [{ type: "mute", username: "tmem", minutes: -5 }, "invalid", /greater than 0/],
    [{ type: "mute", username: "tmem", minutes: "10" }, "invalid", /minutes must be a number/],
    [{ type: "mute", username: "tmem", minutes: null }, "invalid", /minutes/],
    [{ type: "mute", username: "tmem", minutes: true }, "invalid", /minutes/],
    [{ type: "mute", username: "tmem", minutes: [10] }, "invalid", /minutes/],
    [{ type: "mute", username: "tmem", reason: long }, "invalid", /reason must be at most 500/],
    [{ type: "mute", username: "tmem", reason: "a\u0007b" }, "invalid", /control characters/],
    [{ type: "mute", username: "tmem", reason: 5 }, "invalid", /reason/],
    [{ type: "mute", username: "tmem", salon: "" }, "invalid", /salon must not be empty/],
    [{ type: "mute", username: "tmem", salon: "x".repeat(257) }, "invalid", /salon/],
    [{ type: "mute", username: "tmem", salon: 3 }, "invalid", /salon/],
    [{ type: "mute", username: "tmem", salon: "Nowhere" }, "unknown_salon", /Nowhere/],
    [{ type: "mute" }, "invalid", /username/],
    [{ type: "mute", username: 7 }, "invalid", /username/],
    [{ type: "mute", username: "nobody" }, "unknown_user", /nobody/],
    [{ type: "mute", username: "x' OR '1'='1" }, "unknown_user"],
    [{ type: "unmute" }, "invalid", /username/],
    [{ type: "unmute", username: "tmem", salon: "Nowhere" }, "unknown_salon"],
    [{ type: "unmute", username: "nobody" }, "unknown_user"],
    [{ type: "slow_mode", salon: "Blabla", seconds: -1 }, "invalid", /at least 0/],
    [{ type: "slow_mode", salon: "Blabla", seconds: 3601 }, "invalid", /at most 3600/],
    [{ type: "slow_mode", salon: "Blabla", seconds: 1.5 }, "invalid", /whole number/],
    [{ type: "slow_mode", salon: "Blabla", seconds: "30" }, "invalid", /must be a number/],
    [{ type: "slow_mode", salon: "Blabla", seconds: null }, "invalid", /seconds/],
    [{ type: "slow_mode", salon: "Blabla" }, "invalid", /seconds/],
    [{ type: "slow_mode", seconds: 30 }, "invalid", /salon/],
    [{ type: "slow_mode", salon: "Nowhere", seconds: 30 }, "unknown_salon", /Nowhere/],
  ];
}

/** Nothing changed: no mute, every salon without slow mode, no audit line, targets speak. */
async function assertNothingChanged(w: World, who: TestClient): Promise<void> {
  assert.equal(await mutesInForce(w), 0);
  const salons = await w.server.srv.server.store.listSalons();
  assert.deepEqual(salons.map((s) => s.slowModeSeconds), salons.map(() => 0));
  const entries = (await w.server.sock("GET", "/admin/audit")).body.entries as Json[];
  assert.deepEqual(entries.filter((e) => e.action !== "role"), []);
  const listed = (await w.server.sock("GET", "/admin/users")).body.users as Json[];
  assert.ok(listed.every((u) => u.mutedUntil === undefined && u.mutedIn === undefined));
  await assertServed(who);
  assert.equal((await say(w.ws.tmem, "Général", "still here")).type, "ok");
  assert.equal((await w.ws.tmem.request({ type: "direct", to: "mem", text: "hi" })).type, "ok");
  const welcome = w.ws.tmem.unread().filter((f: Frame) =>
    f.type === "muted" || f.type === "salon_settings"
  );
  assert.deepEqual(welcome, [], "no muted or salon_settings frame went out");
}

Deno.test("hostile mute, unmute and slow_mode frames: a clear error with the ref, nothing changed", async () => {
  const w = await world();
  try {
    const mod = w.ws.mod;
    for (const [frame, code, pattern] of hostileFrames()) {
      const reply = await mod.request(frame);
      const where = `${JSON.stringify(frame).slice(0, 80)} -> ${
        JSON.stringify(reply).slice(0, 200)
      }`;
      assert.equal(reply.type, "error", where);
      assert.equal(reply.code, code, where);
      if (pattern) assert.match(reply.message, pattern, where);
    }
    // Numbers JSON cannot carry: 1e309 parses as Infinity; NaN is not JSON at all.
    mod.sendRaw('{"type":"mute","username":"tmem","minutes":1e309,"ref":"inf"}');
    const inf = await mod.next((f) => f.ref === "inf");
    assert.deepEqual([inf.type, inf.code], ["error", "invalid"]);
    mod.sendRaw('{"type":"mute","username":"tmem","minutes":NaN,"ref":"nan"}');
    const nan = await mod.next((f) => f.type === "error" && f.ref === undefined);
    assert.equal(nan.code, "invalid");
    await assertNothingChanged(w, mod);
  } finally {
    await w.server.stop();
  }
});

Deno.test("hostile mute, unmute and slow-mode bodies over HTTP and the admin socket: 4xx, nothing changed", async () => {
  const w = await world();
  try {
    const long = "é".repeat(10 * 1024);
    const cases: Array<[string, string, unknown, number, string]> = [
      ["POST", "/admin/users/tmem/mute", { minutes: 43201 }, 400, "invalid"],
      ["POST", "/admin/users/tmem/mute", { minutes: -1 }, 400, "invalid"],
      ["POST", "/admin/users/tmem/mute", { minutes: "10" }, 400, "invalid"],
      ["POST", "/admin/users/tmem/mute", { minutes: null }, 400, "invalid"],
      ["POST", "/admin/users/tmem/mute", { reason: "a".repeat(10 * 1024) }, 400, "invalid"],
      // 10 K characters of two bytes each: past the 16 KiB of a body.
      ["POST", "/admin/users/tmem/mute", { reason: long }, 413, "too_long"],
      ["POST", "/admin/users/tmem/mute", { salon: "" }, 400, "invalid"],
      ["POST", "/admin/users/tmem/mute", { salon: "Nowhere" }, 404, "unknown_salon"],
      ["POST", "/admin/users/tmem/mute", [1, 2], 400, "invalid"],
      ["POST", "/admin/users/nobody/mute", {}, 404, "unknown_user"],
      ["DELETE", "/admin/users/nobody/mute", undefined, 404, "unknown_user"],
      ["DELETE", "/admin/users/tmem/mute?salon=Nowhere", undefined, 404, "unknown_salon"],
      // The query follows the body's rules for `salon` (empty, past 256 characters: invalid).
      ["DELETE", "/admin/users/tmem/mute?salon=", undefined, 400, "invalid"],
      ["DELETE", `/admin/users/tmem/mute?salon=${"s".repeat(257)}`, undefined, 400, "invalid"],
      [
        "DELETE",
        `/admin/users/tmem/mute?salon=${"s".repeat(10 * 1024)}`,
        undefined,
        400,
        "invalid",
      ],
      ["PUT", "/admin/salons/Blabla/slow-mode", { seconds: -1 }, 400, "invalid"],
      ["PUT", "/admin/salons/Blabla/slow-mode", { seconds: 3601 }, 400, "invalid"],
      ["PUT", "/admin/salons/Blabla/slow-mode", { seconds: 1.5 }, 400, "invalid"],
      ["PUT", "/admin/salons/Blabla/slow-mode", { seconds: "5" }, 400, "invalid"],
      ["PUT", "/admin/salons/Blabla/slow-mode", {}, 400, "invalid"],
      ["PUT", "/admin/salons/Blabla/slow-mode", undefined, 400, "invalid"],
      ["PUT", "/admin/salons/Nowhere/slow-mode", { seconds: 5 }, 404, "unknown_salon"],
    ];
    const problems: string[] = [];
    for (const via of ["http", "socket"] as const) {
      for (const [method, path, body, status, code] of cases) {
        const res = via === "socket"
          ? await w.server.sock(method, path, body)
          : await w.server.http(method, path, body, w.tokens.adm);
        if (res.status !== status || res.body?.error?.code !== code) {
          problems.push(
            `${via} ${method} ${path} ${JSON.stringify(body)?.slice(0, 40)}: ${res.status} ${
              res.text.slice(0, 120)
            }`,
          );
        } else if (!(typeof res.body.error.message === "string" && res.body.error.message)) {
          problems.push(`${via} ${method} ${path}: no message`);
        }
      }
    }
    assert.deepEqual(problems, []);
    // A member's token, none, or a bad one: refused before anything is read.
    for (const token of [w.tokens.mem, undefined, "bogus"]) {
      const res = await w.server.http("POST", "/admin/users/tmem/mute", {}, token);
      assert.equal(res.status, token === w.tokens.mem ? 403 : 401, res.text);
    }
    await assertNothingChanged(w, w.ws.mod);
  } finally {
    await w.server.stop();
  }
});
