/**
 * The permission matrix of moderation (PROTOCOL.md sections 2.2 and 3): every
 * role (member, moderator, admin) and the admin socket, by every path
 * (WebSocket frames, `/admin/*` with a bearer token, the admin socket with no
 * credentials), for every action. Members are refused everywhere, moderators
 * may do everything but shutdown, cancel, role, account creation and
 * lifting a sanction imposed by an admin or the admin socket, admins
 * and the socket may do everything; `/admin/*` without a valid token is 401.
 *
 * Each cell checks the answer and what a user would notice: the effect when
 * allowed, its absence when refused.
 */

import assert from "node:assert/strict";
import { assertError } from "./helpers.ts";
import {
  ADMIN_PW,
  type AdminServer,
  type Json,
  pw,
  readyStatus,
  type Res,
  send,
  startAdminServer,
} from "./admin_fixture.ts";
import {
  assertErrorFrame,
  type Frame,
  loginHttp,
  registerHttp,
  session,
  type TestClient,
  type TestServer,
} from "./ws_client.ts";

const COMPTA = "Comptabilité";
const MARKETING = "Marketing";

/** A server with its admin socket in a temp dir, and `admin` bootstrapped. */
type Fx = AdminServer;

function setup(): Promise<Fx> {
  return startAdminServer({
    prefix: "causerie-admin-perm-",
    env: { CAUSERIE_SHUTDOWN_SECONDS: "30" },
  });
}

type Role = "member" | "moderator" | "admin";
type Path = "http" | "ws" | "socket";

/** Who acts, and how. */
interface Caller {
  role: Role;
  path: Path;
  token?: string;
  ws?: TestClient;
}

/** What an attempt answered. */
type Outcome =
  | { kind: "http"; res: Res }
  | { kind: "ws"; frame: Frame; ref: string };

function show(o: Outcome): string {
  return o.kind === "http"
    ? `${o.res.status} ${o.res.text.slice(0, 300)}`
    : JSON.stringify(o.frame);
}

/**
 * Performs one action by the caller's path: the frame on its WebSocket, or the
 * HTTP request with its token, or the request on the admin socket.
 */
async function attempt(
  fx: Fx,
  caller: Caller,
  req: { method: string; path: string; body?: unknown },
  frame?: Record<string, unknown>,
): Promise<Outcome> {
  if (caller.path === "ws") {
    assert.ok(frame, `no WebSocket frame for ${req.method} ${req.path}`);
    const ref = caller.ws!.ref("mod");
    const reply = await caller.ws!.request({ ...frame, ref });
    return { kind: "ws", frame: reply, ref };
  }
  const res = caller.path === "socket"
    ? await fx.sock(req.method, req.path, req.body)
    : await fx.http(req.method, req.path, req.body, caller.token);
  return { kind: "http", res };
}

function assertForbidden(o: Outcome): void {
  if (o.kind === "ws") assertErrorFrame(o.frame, "forbidden", o.ref);
  else assertError(o.res, 403, "forbidden");
}

/** Asserts success: the HTTP status, or a WebSocket reply of this type with the ref. */
function assertDone(o: Outcome, status: number, wsType = "ok"): Json {
  if (o.kind === "ws") {
    assert.equal(o.frame.type, wsType, show(o));
    assert.equal(o.frame.ref, o.ref, show(o));
    return o.frame;
  }
  assert.equal(o.res.status, status, show(o));
  return o.res.body;
}

async function listing(fx: Fx, username: string): Promise<Json | undefined> {
  const res = await fx.sock("GET", "/admin/users");
  assert.equal(res.status, 200, res.text);
  return (res.body.users as Json[]).find((u) => u.username === username);
}

async function pendingOf(fx: Fx): Promise<Array<[string, string]>> {
  const res = await fx.sock("GET", "/admin/join-requests");
  assert.equal(res.status, 200, res.text);
  return (res.body.pending as Json[]).map((p) => [p.salon, p.username]);
}

/** A member with a WebSocket session, used to observe notices and countdowns. */
async function registerWs(srv: TestServer, name: string): Promise<TestClient> {
  const { client } = await session(srv, {
    type: "register",
    username: name,
    alias: `Alias ${name}`,
    password: pw(name),
  }, name);
  return client;
}

/** Registers a member over HTTP and returns the name. */
async function fresh(fx: Fx, name: string): Promise<string> {
  await registerHttp(fx.srv.url, name, `Alias ${name}`, pw(name));
  return name;
}

/** Every `/admin/*` request of section 3, with a body where one is needed. */
function everyAdminRequest(): Array<{ method: string; path: string; body?: unknown }> {
  return [
    { method: "GET", path: "/admin/users" },
    { method: "GET", path: "/admin/users?status=online" },
    { method: "POST", path: "/admin/users/target/kick", body: { minutes: 5 } },
    { method: "POST", path: "/admin/users/target/ban", body: { reason: "x" } },
    { method: "DELETE", path: "/admin/users/target/ban" },
    { method: "PUT", path: "/admin/users/target/role", body: { role: "admin" } },
    { method: "GET", path: "/admin/join-requests" },
    {
      method: "POST",
      path: `/admin/join-requests/${encodeURIComponent(COMPTA)}/requester/accept`,
    },
    {
      method: "POST",
      path: `/admin/join-requests/${encodeURIComponent(COMPTA)}/requester/reject`,
    },
    { method: "POST", path: "/admin/announce", body: { text: "hello" } },
    {
      method: "POST",
      path: "/admin/users",
      body: { username: "intruder", alias: "Intruder", password: pw("intruder"), role: "admin" },
    },
    { method: "POST", path: "/admin/shutdown", body: { seconds: 30 } },
    { method: "DELETE", path: "/admin/shutdown" },
    { method: "GET", path: "/admin/audit" },
    { method: "GET", path: "/admin/actors" },
  ];
}

/**
 * Runs every action as `caller` and checks each against the matrix. `world`
 * holds the fixture: `watcher` (a member session that sees notices and
 * countdowns) and two requesters with pending requests.
 */
async function runMatrix(
  t: Deno.TestContext,
  fx: Fx,
  caller: Caller,
  world: {
    watcher: TestClient;
    reqA: TestClient;
    reqB: TestClient;
    adminToken: string;
    modToken: string;
    tag: string;
  },
): Promise<void> {
  const may = (adminOnly: boolean) =>
    caller.role === "admin" || (caller.role === "moderator" && !adminOnly);
  const ws = caller.path === "ws";
  const tag = world.tag;

  await t.step("requests", async () => {
    const o = await attempt(fx, caller, { method: "GET", path: "/admin/join-requests" }, {
      type: "requests",
    });
    if (!may(false)) return assertForbidden(o);
    const body = assertDone(o, 200, "requests");
    const pairs = (body.pending as Json[]).map((p) => [p.salon, p.username]);
    assert.deepEqual(pairs, [[COMPTA, "reqa"], [MARKETING, "reqb"]], show(o));
  });

  await t.step("decide accept", async () => {
    const o = await attempt(fx, caller, {
      method: "POST",
      path: `/admin/join-requests/${encodeURIComponent(COMPTA)}/reqa/accept`,
    }, { type: "decide", salon: COMPTA, username: "reqa", accept: true });
    if (!may(false)) {
      assertForbidden(o);
      assert.deepEqual(await pendingOf(fx), [[COMPTA, "reqa"], [MARKETING, "reqb"]]);
      return;
    }
    assertDone(o, 200);
    assert.deepEqual(await world.reqA.nextOfType("joined"), { type: "joined", salon: COMPTA });
    assert.deepEqual(await pendingOf(fx), [[MARKETING, "reqb"]]);
  });

  await t.step("decide reject", async () => {
    const o = await attempt(fx, caller, {
      method: "POST",
      path: `/admin/join-requests/${MARKETING}/reqb/reject`,
    }, { type: "decide", salon: MARKETING, username: "reqb", accept: false });
    if (!may(false)) {
      assertForbidden(o);
      assert.ok((await pendingOf(fx)).some(([s, u]) => s === MARKETING && u === "reqb"));
      return;
    }
    assertDone(o, 200);
    assert.deepEqual(await world.reqB.nextOfType("join_rejected"), {
      type: "join_rejected",
      salon: MARKETING,
    });
    assert.deepEqual(await pendingOf(fx), []);
  });

  await t.step("kick", async () => {
    const victim = await fresh(fx, `kick${tag}`);
    const o = await attempt(fx, caller, {
      method: "POST",
      path: `/admin/users/${victim}/kick`,
      body: { minutes: 10, reason: "matrix" },
    }, { type: "kick", username: victim, minutes: 10, reason: "matrix" });
    if (!may(false)) {
      assertForbidden(o);
      assert.equal((await listing(fx, victim)).bannedUntil, undefined);
      return;
    }
    const body = assertDone(o, 200);
    assert.equal(typeof body.until, "string", show(o));
    assert.equal((await listing(fx, victim)).bannedUntil, body.until);
  });

  await t.step("ban", async () => {
    const victim = await fresh(fx, `ban${tag}`);
    const o = await attempt(fx, caller, {
      method: "POST",
      path: `/admin/users/${victim}/ban`,
      body: { reason: "matrix" },
    }, { type: "ban", username: victim, reason: "matrix" });
    if (!may(false)) {
      assertForbidden(o);
      assert.equal((await listing(fx, victim)).banned, undefined);
      return;
    }
    assertDone(o, 200);
    assert.equal((await listing(fx, victim)).banned, true);
  });

  await t.step("unban", async () => {
    // Imposed by a moderator: lifting it needs a moderator (issue 9, item 9).
    const victim = await fresh(fx, `unban${tag}`);
    const kicked = await fx.http(
      "POST",
      `/admin/users/${victim}/kick`,
      { minutes: 10 },
      world.modToken,
    );
    assert.equal(kicked.status, 200, kicked.text);
    const o = await attempt(fx, caller, {
      method: "DELETE",
      path: `/admin/users/${victim}/ban`,
    }, { type: "unban", username: victim });
    if (!may(false)) {
      assertForbidden(o);
      assert.equal((await listing(fx, victim)).bannedUntil, kicked.body.until);
      return;
    }
    assertDone(o, 200);
    assert.equal((await listing(fx, victim)).bannedUntil, undefined);
  });

  await t.step("unban of a kick from the admin socket (admin rank)", async () => {
    const victim = await fresh(fx, `unbansock${tag}`);
    const kicked = await fx.sock("POST", `/admin/users/${victim}/kick`, { minutes: 10 });
    assert.equal(kicked.status, 200, kicked.text);
    const o = await attempt(fx, caller, {
      method: "DELETE",
      path: `/admin/users/${victim}/ban`,
    }, { type: "unban", username: victim });
    if (!may(true)) {
      assertForbidden(o);
      assert.equal((await listing(fx, victim)).bannedUntil, kicked.body.until);
      return;
    }
    assertDone(o, 200);
    assert.equal((await listing(fx, victim)).bannedUntil, undefined);
  });

  await t.step("announce", async () => {
    const text = `announce by ${caller.role} over ${caller.path}`;
    const o = await attempt(fx, caller, {
      method: "POST",
      path: "/admin/announce",
      body: { text },
    }, { type: "announce", text });
    if (!may(false)) {
      assertForbidden(o);
      // The next notice the watcher sees is a later one: the refused one never went out.
      const marker = `marker after ${caller.role} over ${caller.path}`;
      const ok = await fx.sock("POST", "/admin/announce", { text: marker });
      assert.equal(ok.status, 200, ok.text);
      assert.equal((await world.watcher.nextOfType("notice")).text, marker);
      return;
    }
    assertDone(o, 200);
    assert.equal((await world.watcher.nextOfType("notice")).text, text);
  });

  // Role, account creation, users, audit and actors have no WebSocket frame.
  if (!ws) await httpOnlySteps();

  // Last: a shutdown that is not cancelled properly would stop the server.
  await t.step("shutdown and cancel", async () => {
    const o = await attempt(fx, caller, {
      method: "POST",
      path: "/admin/shutdown",
    }, { type: "shutdown" });
    if (!may(true)) {
      assertForbidden(o);
      assert.equal(await readyStatus(fx), 200, "a refused shutdown must not start a countdown");
      // Cancelling someone else's countdown is refused as well (HTTP only: no frame for it).
      const started = await fx.sock("POST", "/admin/shutdown", { seconds: 30 });
      assert.equal(started.status, 202, started.text);
      assert.deepEqual(await world.watcher.nextOfType("shutdown"), {
        type: "shutdown",
        seconds: 30,
      });
      if (!ws) {
        const cancel = await attempt(fx, caller, { method: "DELETE", path: "/admin/shutdown" });
        assertForbidden(cancel);
        assert.equal(await readyStatus(fx), 503, "a refused cancel must not stop the countdown");
      }
      const cancelled = await fx.sock("DELETE", "/admin/shutdown");
      assert.equal(cancelled.status, 200, cancelled.text);
      assert.deepEqual(await world.watcher.nextOfType("shutdown_cancelled"), {
        type: "shutdown_cancelled",
      });
      assert.equal(await readyStatus(fx), 200, "after a cancel the server must keep running");
      return;
    }
    const body = assertDone(o, 202);
    assert.equal(body.seconds, 30, show(o));
    assert.deepEqual(await world.watcher.nextOfType("shutdown"), { type: "shutdown", seconds: 30 });
    // The WebSocket has no cancel frame: the same admin cancels over HTTP.
    const cancel = ws
      ? {
        kind: "http" as const,
        res: await fx.http("DELETE", "/admin/shutdown", undefined, world.adminToken),
      }
      : await attempt(fx, caller, { method: "DELETE", path: "/admin/shutdown" });
    assertDone(cancel, 200);
    assert.deepEqual(await world.watcher.nextOfType("shutdown_cancelled"), {
      type: "shutdown_cancelled",
    });
    assert.equal(await readyStatus(fx), 200, "after a cancel the server must keep running");
  });

  async function httpOnlySteps(): Promise<void> {
    await t.step("role", async () => {
      const victim = await fresh(fx, `role${tag}`);
      const o = await attempt(fx, caller, {
        method: "PUT",
        path: `/admin/users/${victim}/role`,
        body: { role: "moderator" },
      });
      if (!may(true)) {
        assertForbidden(o);
        assert.equal((await listing(fx, victim)).role, "member");
        return;
      }
      assertDone(o, 200);
      assert.equal((await listing(fx, victim)).role, "moderator");
    });

    await t.step("create user", async () => {
      const name = `made${tag}`;
      const o = await attempt(fx, caller, {
        method: "POST",
        path: "/admin/users",
        body: { username: name, alias: `Made ${tag}`, password: pw(name), role: "moderator" },
      });
      if (!may(true)) {
        assertForbidden(o);
        assert.equal(await listing(fx, name), undefined);
        return;
      }
      const body = assertDone(o, 201);
      assert.deepEqual(body.user, { username: name, alias: `Made ${tag}`, role: "moderator" });
      assert.equal((await listing(fx, name)).role, "moderator");
    });

    await t.step("users", async () => {
      const o = await attempt(fx, caller, { method: "GET", path: "/admin/users" });
      if (!may(false)) return assertForbidden(o);
      const body = assertDone(o, 200);
      const names = (body.users as Json[]).map((u) => u.username);
      for (const n of ["admin", "mod", "member", "watcher", "reqa", "reqb"]) {
        assert.ok(names.includes(n), `${n} missing from ${show(o)}`);
      }
    });

    await t.step("audit", async () => {
      const o = await attempt(fx, caller, { method: "GET", path: "/admin/audit" });
      if (!may(false)) return assertForbidden(o);
      const body = assertDone(o, 200);
      // Newest first: the caller's own last act (create_user for admins, announce for moderators).
      const newest = (body.entries as Json[])[0];
      assert.ok(newest, show(o));
      assert.equal(newest.action, may(true) ? "create_user" : "announce", show(o));
      assert.equal(newest.via, caller.path, show(o));
      assert.equal(
        newest.actor,
        caller.path === "socket" ? "server" : caller.role === "admin" ? "admin" : "mod",
        show(o),
      );
    });

    await t.step("actors", async () => {
      const o = await attempt(fx, caller, { method: "GET", path: "/admin/actors" });
      if (!may(false)) return assertForbidden(o);
      const body = assertDone(o, 200);
      const roots = (body.actors as Json[]).filter((a) => a.parent === null);
      assert.equal(roots.length, 1, show(o));
    });
  }
}

/** Starts a server with admin, mod (promoted by the admin), member, watcher, two requesters. */
async function world(fx: Fx) {
  const adminToken = await loginHttp(fx.srv.url, "admin", ADMIN_PW);
  await registerHttp(fx.srv.url, "mod", "Moderator", pw("mod"));
  const promote = await fx.http(
    "PUT",
    "/admin/users/mod/role",
    { role: "moderator" },
    adminToken,
  );
  assert.equal(promote.status, 200, promote.text);
  await registerHttp(fx.srv.url, "member", "Member", pw("member"));
  const modToken = await loginHttp(fx.srv.url, "mod", pw("mod"));
  const memberToken = await loginHttp(fx.srv.url, "member", pw("member"));
  const watcher = await registerWs(fx.srv, "watcher");
  const reqA = await registerWs(fx.srv, "reqa");
  const reqB = await registerWs(fx.srv, "reqb");
  assert.equal((await reqA.request({ type: "join", salon: COMPTA })).type, "join_pending");
  assert.equal((await reqB.request({ type: "join", salon: MARKETING })).type, "join_pending");
  return { adminToken, modToken, memberToken, watcher, reqA, reqB };
}

const CALLERS: Array<{ role: Role; path: Path }> = [
  { role: "member", path: "http" },
  { role: "member", path: "ws" },
  { role: "moderator", path: "http" },
  { role: "moderator", path: "ws" },
  { role: "admin", path: "http" },
  { role: "admin", path: "ws" },
  { role: "admin", path: "socket" },
];

for (const { role, path } of CALLERS) {
  const label = path === "socket" ? "the admin socket (no credentials)" : `${role} over ${path}`;
  Deno.test(`permission matrix: ${label}`, async (t) => {
    const fx = await setup();
    try {
      const w = await world(fx);
      const token = role === "admin"
        ? w.adminToken
        : role === "moderator"
        ? w.modToken
        : w.memberToken;
      const caller: Caller = { role, path };
      if (path === "http") caller.token = token;
      if (path === "ws") caller.ws = (await session(fx.srv, { token }, `${role}-ws`)).client;
      await runMatrix(t, fx, caller, {
        ...w,
        tag: `${role.slice(0, 3)}${path}`,
      });
    } finally {
      await fx.stop();
    }
  });
}

Deno.test("every /admin request without a valid token is 401 unauthenticated and has no effect", async () => {
  const fx = await setup();
  try {
    const adminToken = await loginHttp(fx.srv.url, "admin", ADMIN_PW);
    await registerHttp(fx.srv.url, "target", "Target", pw("target"));
    const requester = await registerWs(fx.srv, "requester");
    assert.equal((await requester.request({ type: "join", salon: COMPTA })).type, "join_pending");
    const revoked = await loginHttp(fx.srv.url, "admin", ADMIN_PW);
    const logout = await fetch(`${fx.srv.url}/api/logout`, {
      method: "POST",
      headers: { authorization: `Bearer ${revoked}` },
    });
    await logout.body?.cancel();
    assert.equal(logout.status, 204);

    const variants: Array<[string, Record<string, string>]> = [
      ["no Authorization", {}],
      ["an unknown token", { authorization: "Bearer not-a-real-token" }],
      ["a revoked token", { authorization: `Bearer ${revoked}` }],
      ["an empty bearer", { authorization: "Bearer " }],
      ["Basic credentials", { authorization: `Basic ${btoa(`admin:${ADMIN_PW}`)}` }],
      ["the token without Bearer", { authorization: adminToken }],
    ];
    for (const req of everyAdminRequest()) {
      for (const [what, headers] of variants) {
        const res = await send(fx.srv.url, req.method, req.path, req.body, headers);
        try {
          assertError(res, 401, "unauthenticated");
        } catch (e) {
          throw new Error(`${req.method} ${req.path} with ${what}: ${(e as Error).message}`);
        }
      }
    }
    // Nothing happened: the target is neither kicked, banned nor promoted; no intruder;
    // the request is still pending; no countdown; no audit line.
    const target = await listing(fx, "target");
    assert.deepEqual(target, {
      username: "target",
      alias: "Target",
      role: "member",
      status: "offline",
    });
    assert.equal(await listing(fx, "intruder"), undefined);
    assert.deepEqual(await pendingOf(fx), [[COMPTA, "requester"]]);
    assert.equal(await readyStatus(fx), 200);
    const audit = await fx.sock("GET", "/admin/audit");
    assert.deepEqual(audit.body, { entries: [] });
    // And the same token in proper form works.
    const ok = await fx.http("GET", "/admin/users", undefined, adminToken);
    assert.equal(ok.status, 200, ok.text);
  } finally {
    await fx.stop();
  }
});

Deno.test("a role change applies at once to the user's existing token and WebSocket session", async () => {
  const fx = await setup();
  try {
    const adminToken = await loginHttp(fx.srv.url, "admin", ADMIN_PW);
    await registerHttp(fx.srv.url, "carol", "Carol", pw("carol"));
    const carolToken = await loginHttp(fx.srv.url, "carol", pw("carol"));
    const carol = (await session(fx.srv, { token: carolToken }, "carol")).client;
    const dave = await registerWs(fx.srv, "dave");

    // A member: refused on both paths, and not told of join requests.
    assertError(await fx.http("GET", "/admin/users", undefined, carolToken), 403, "forbidden");
    const r1 = carol.ref();
    carol.send({ type: "requests", ref: r1 });
    assertErrorFrame(await carol.next((f) => f.ref === r1), "forbidden", r1);

    const up = await fx.http("PUT", "/admin/users/carol/role", { role: "moderator" }, adminToken);
    assert.equal(up.status, 200, up.text);
    assert.equal((await fx.http("GET", "/admin/users", undefined, carolToken)).status, 200);
    const r2 = carol.ref();
    carol.send({ type: "requests", ref: r2 });
    assert.deepEqual(await carol.next((f) => f.ref === r2), {
      type: "requests",
      pending: [],
      ref: r2,
    });
    // As a moderator her session now hears of new requests.
    assert.equal((await dave.request({ type: "join", salon: COMPTA })).type, "join_pending");
    const notified = await carol.nextOfType("join_request");
    assert.equal(notified.username, "dave");
    assert.equal(notified.salon, COMPTA);
    // A moderator cannot promote herself.
    assertError(
      await fx.http("PUT", "/admin/users/carol/role", { role: "admin" }, carolToken),
      403,
      "forbidden",
    );

    const down = await fx.sock("PUT", "/admin/users/carol/role", { role: "member" });
    assert.equal(down.status, 200, down.text);
    assertError(await fx.http("GET", "/admin/users", undefined, carolToken), 403, "forbidden");
    const r3 = carol.ref();
    carol.send({ type: "kick", username: "dave", ref: r3 });
    assertErrorFrame(await carol.next((f) => f.ref === r3), "forbidden", r3);
    assert.equal((await listing(fx, "dave")).bannedUntil, undefined);
  } finally {
    await fx.stop();
  }
});

Deno.test("a kicked moderator can no longer moderate with the token issued before the kick", async () => {
  const fx = await setup();
  try {
    const adminToken = await loginHttp(fx.srv.url, "admin", ADMIN_PW);
    await registerHttp(fx.srv.url, "mod", "Moderator", pw("mod"));
    await registerHttp(fx.srv.url, "victim", "Victim", pw("victim"));
    const promote = await fx.http(
      "PUT",
      "/admin/users/mod/role",
      { role: "moderator" },
      adminToken,
    );
    assert.equal(promote.status, 200, promote.text);
    const modToken = await loginHttp(fx.srv.url, "mod", pw("mod"));
    const kick = await fx.http("POST", "/admin/users/mod/kick", { minutes: 10 }, adminToken);
    assert.equal(kick.status, 200, kick.text);

    // The kick keeps the moderator out: no login, no hello, and no acting with an old token.
    const ban = await fx.http("POST", "/admin/users/victim/ban", {}, modToken);
    assert.ok(
      ban.status === 401 || ban.status === 403,
      `a kicked moderator's token banned someone: ${ban.status} ${ban.text}`,
    );
    assert.equal((await listing(fx, "victim")).banned, undefined);
  } finally {
    await fx.stop();
  }
});
