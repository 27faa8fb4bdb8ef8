/**
 * The inspection stream `GET /admin/inspect` (PROTOCOL.md 5.5, decisions in
 * docs/protocol.md "Inspection stream (5.5)") over real sockets: the opening
 * snapshot, live actors, who may watch, secrets never shown, the watcher
 * limit, and the actor system's inspection detached when no one watches.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SimulatedClock } from "xstate";
// @ts-types="@types/ws"
import NodeWebSocket from "ws";
import { INSPECT_AUTH_MS } from "../routes/inspect.ts";
import { INSPECT_WATCHERS_MAX } from "../runtime/inspection.ts";
import { ADMIN_PW, type AdminSession, pw, registerWs, startAdminSession } from "./admin_fixture.ts";
import {
  type Frame,
  loginHttp,
  session,
  startTestServer,
  TestClient,
  type TestServer,
} from "./ws_client.ts";

/** The inspection URL of a test server. */
function inspectUrl(srv: TestServer): string {
  return `${srv.wsUrl.slice(0, -"/ws".length)}/admin/inspect`;
}

/** A watcher that authenticates with an `auth` frame, as a browser does. */
async function watchWithFrame(srv: TestServer, token: string, name = "watcher") {
  const client = await TestClient.connect(inspectUrl(srv), name);
  client.send({ type: "auth", token });
  return client;
}

/** A watcher that authenticates with a bearer header at the upgrade, as tools do. */
function watchWithHeader(srv: TestServer, token: string, name = "watcher") {
  const ws = new NodeWebSocket(inspectUrl(srv), { headers: { authorization: `Bearer ${token}` } });
  return TestClient.open(ws as unknown as WebSocket, name);
}

/** A watcher on the admin socket (no token). */
function watchOnSocket(fx: AdminSession, name = "socket watcher") {
  const ws = new NodeWebSocket(`ws+unix://${socketPaths.get(fx)}:/admin/inspect`);
  return TestClient.open(ws as unknown as WebSocket, name);
}

/** The admin socket path of each server started by {@link adminServer}. */
const socketPaths = new WeakMap<AdminSession, string>();

/** An admin session whose admin socket path is known. */
async function adminServer(
  opts: Parameters<typeof startAdminSession>[0] = {},
): Promise<AdminSession> {
  const dir = await Deno.makeTempDir({ prefix: "causerie-inspect-" });
  try {
    const fx = await startAdminSession({ ...opts, dir });
    socketPaths.set(fx, `${dir}/admin.sock`);
    const stop = fx.stop;
    fx.stop = async () => {
      try {
        await stop();
      } finally {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    };
    return fx;
  } catch (e) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  }
}

/** Waits for the opening (every snapshot up to `@causerie.live`); returns its snapshots. */
async function opening(client: TestClient): Promise<Frame[]> {
  const live = await client.next((f) => f.type === "@causerie.live", undefined, "@causerie.live");
  const index = client.frames.indexOf(live);
  const snapshots = client.frames.slice(0, index);
  assert.ok(snapshots.every((f) => f.type === "@xstate.snapshot"), JSON.stringify(snapshots));
  assert.equal(live.actors, snapshots.length);
  assert.equal(typeof live.at, "number");
  return snapshots;
}

/** The next frame matching, as `what`. */
function next(client: TestClient, what: string, predicate: (f: Frame) => boolean) {
  return client.next(predicate, undefined, what);
}

/** Makes `name` a moderator and returns a token of theirs. */
async function moderatorToken(fx: AdminSession, name: string): Promise<string> {
  await registerWs(fx.srv, name).then(({ client }) => client.close());
  const res = await fx.sock("PUT", `/admin/users/${name}/role`, { role: "moderator" });
  assert.equal(res.status, 200, res.text);
  return await loginHttp(fx.srv.url, name, pw(name));
}

Deno.test("inspect: an admin sees the opening snapshot, then a connection go awaitingHello -> active, a kick's sanction appear and the connection end", async () => {
  const fx = await adminServer();
  try {
    const watcher = await watchWithFrame(fx.srv, fx.adminToken);
    const snapshots = await opening(watcher);
    const root = snapshots.find((f) => f.actorId === "server");
    assert.ok(root, JSON.stringify(snapshots));
    assert.equal(root.machine, "server");
    assert.equal(root.status, "active");
    assert.equal(root.parentId, undefined);
    const salons = snapshots.filter((f) => f.machine === "salon");
    assert.ok(salons.length >= 1);
    for (const s of salons) {
      assert.equal(s.parentId, "server");
      assert.match(s.actorId, /^salon:/);
      assert.equal(typeof s.facts.salon, "string");
    }
    // The admin's own session (logged in over HTTP) has no socket: no connection yet.
    const before = (await fx.call("socket", "GET", "/admin/actors")).body.actors;
    assert.deepEqual(
      snapshots.map((f) => f.actorId).sort(),
      before.filter((a: Frame) => a.machine !== "unknown").map((a: Frame) => a.id).sort(),
      "the opening shows the actors of GET /admin/actors, with the same ids",
    );

    const { client: alice } = await registerWs(fx.srv, "alice");
    const born = await next(
      watcher,
      "a connection actor",
      (f) => f.type === "@xstate.actor" && f.machine === "connection",
    );
    const conn = born.actorId;
    assert.match(conn, /^conn:\d+$/);
    assert.equal(born.parentId, "server");
    const states: unknown[] = [];
    const active = await next(watcher, "the connection active", (f) => {
      if (f.type !== "@xstate.snapshot" || f.actorId !== conn) return false;
      states.push(f.value);
      return f.value === "active";
    });
    assert.equal(states[0], "awaitingHello", JSON.stringify(states));
    assert.ok(states.includes("authenticating"), JSON.stringify(states));
    assert.equal(active.facts.username, "alice");
    assert.equal(active.status, "active");
    assert.equal(active.parentId, "server");
    const frameEvent = await next(
      watcher,
      "the register frame reaching the connection",
      (f) => f.type === "@xstate.event" && f.actorId === conn && f.event.type === "FRAME",
    );
    assert.deepEqual(Object.keys(frameEvent.event).sort(), ["bytes", "frame", "type"]);
    assert.equal(frameEvent.event.frame, "register");

    const kick = await fx.sock("POST", "/admin/users/alice/kick", { minutes: 10 });
    assert.equal(kick.status, 200, kick.text);
    const sanction = await next(
      watcher,
      "a sanction actor",
      (f) => f.type === "@xstate.actor" && f.machine === "sanction",
    );
    assert.match(sanction.actorId, /^sanction:\d+$/);
    assert.equal(sanction.parentId, "server");
    const kicked = await next(
      watcher,
      "the sanction's snapshot",
      (f) => f.type === "@xstate.snapshot" && f.actorId === sanction.actorId,
    );
    assert.equal(kicked.facts.username, "alice");
    assert.equal(kicked.facts.kind, "kick");
    assert.equal(kicked.facts.until, kick.body.until);
    const end = await next(
      watcher,
      "the connection's final snapshot",
      (f) => f.type === "@xstate.snapshot" && f.actorId === conn && f.status !== "active",
    );
    assert.equal(end.status, "done");
    assert.equal(end.value, "closed");
    assert.equal((await alice.waitClosed()).code, 4403);

    // Lifting the kick ends the sanction actor.
    assert.equal((await fx.sock("DELETE", "/admin/users/alice/ban")).status, 200);
    const lifted = await next(
      watcher,
      "the sanction's final snapshot",
      (f) =>
        f.type === "@xstate.snapshot" && f.actorId === sanction.actorId && f.status !== "active",
    );
    assert.equal(lifted.status, "done");
    assert.equal(lifted.value, "lifted");
    assert.ok(watcher.frames.every((f) => typeof f.at === "number"));
    await watcher.close();
  } finally {
    await fx.stop();
  }
});

Deno.test("inspect: a join request actor appears and ends with the decision", async () => {
  const fx = await adminServer({
    env: { CAUSERIE_SALONS: "Général:auto,Secret:approval" },
  });
  try {
    const watcher = await watchWithHeader(fx.srv, fx.adminToken);
    await opening(watcher);
    const { client: dave } = await registerWs(fx.srv, "dave");
    assert.equal((await dave.request({ type: "join", salon: "Secret" })).type, "join_pending");
    const request = await next(
      watcher,
      "a join request actor",
      (f) => f.type === "@xstate.actor" && f.machine === "joinRequest",
    );
    assert.equal(request.parentId, "salon:secret");
    const res = await fx.sock("POST", "/admin/join-requests/Secret/dave/accept");
    assert.equal(res.status, 200, res.text);
    const end = await next(
      watcher,
      "the request's final snapshot",
      (f) =>
        f.type === "@xstate.snapshot" && f.actorId === request.actorId && f.status !== "active",
    );
    assert.equal(end.status, "done");
    assert.equal(end.value, "accepted");
    assert.equal(end.facts.username, "dave");
    // Closed here, not by the server's stop: a close the server starts ends on the client side
    // after the test (ws's close timer), and the next test's sanitizer would see that timer.
    await watcher.close();
  } finally {
    await fx.stop();
  }
});

Deno.test("inspect: the admin socket streams without a token; the bearer header works on the main port", async () => {
  const fx = await adminServer();
  try {
    const onSocket = await watchOnSocket(fx);
    const viaSocket = await opening(onSocket);
    const withHeader = await watchWithHeader(fx.srv, fx.adminToken);
    const viaHeader = await opening(withHeader);
    assert.deepEqual(viaSocket.map((f) => f.actorId), viaHeader.map((f) => f.actorId));
    await registerWs(fx.srv, "erin");
    for (const c of [onSocket, withHeader]) {
      await next(
        c,
        "erin's connection",
        (f) => f.type === "@xstate.snapshot" && f.facts?.username === "erin",
      );
    }
    await onSocket.close();
    await withHeader.close();
  } finally {
    await fx.stop();
  }
});

Deno.test("inspect: a moderator or a member is closed with 4403; a missing, bad or malformed token with 4401", async () => {
  const fx = await adminServer();
  try {
    const mod = await moderatorToken(fx, "mona");
    await registerWs(fx.srv, "mel").then(({ client }) => client.close());
    const member = await loginHttp(fx.srv.url, "mel", pw("mel"));
    for (const token of [mod, member]) {
      const byFrame = await watchWithFrame(fx.srv, token);
      assert.equal((await byFrame.waitClosed()).code, 4403);
      assert.equal(byFrame.frames.length, 0, JSON.stringify(byFrame.frames));
      const byHeader = await watchWithHeader(fx.srv, token);
      assert.equal((await byHeader.waitClosed()).code, 4403);
      assert.equal(byHeader.frames.length, 0);
    }
    const firstFrames: unknown[] = [
      { type: "auth", token: "not-a-token" },
      { type: "auth" },
      { type: "auth", token: 42 },
      { type: "auth", token: "" },
      { type: "auth", token: "x".repeat(100_000).slice(0, 60_000) },
      { type: "hello", username: "admin", password: ADMIN_PW },
      ["auth", fx.adminToken],
      null,
    ];
    for (const first of firstFrames) {
      const c = await TestClient.connect(inspectUrl(fx.srv), "bad auth");
      c.send(first);
      const closed = await c.waitClosed();
      assert.equal(closed.code, 4401, JSON.stringify(first).slice(0, 80));
      assert.ok(closed.reason.length > 0);
      assert.equal(c.frames.length, 0);
    }
    for (const raw of ["not json", new Uint8Array([1, 2, 3])]) {
      const c = await TestClient.connect(inspectUrl(fx.srv), "raw auth");
      c.sendRaw(raw);
      assert.equal((await c.waitClosed()).code, 4401);
    }
    const badHeader = await watchWithHeader(fx.srv, "unknown-token");
    assert.equal((await badHeader.waitClosed()).code, 4401);
    // The server goes on serving.
    const ok = await watchWithFrame(fx.srv, fx.adminToken);
    await opening(ok);
    await ok.close();
  } finally {
    await fx.stop();
  }
});

Deno.test("inspect: without a bearer header, no auth frame within 10 s closes with 4401 (injected clock)", async () => {
  const clock = new SimulatedClock();
  const srv = await startTestServer({}, { hub: { clock } });
  try {
    const c = await TestClient.connect(inspectUrl(srv), "silent");
    clock.increment(INSPECT_AUTH_MS - 1);
    // A socket still open answers: an auth frame now would still be read (checked below by the close).
    assert.equal(c.closeInfo, undefined);
    clock.increment(1);
    const closed = await c.waitClosed();
    assert.equal(closed.code, 4401);
    assert.match(closed.reason, /auth/);
  } finally {
    await srv.stop();
  }
});

Deno.test("inspect: frames after auth are ignored, an oversized one closes with 1009", async () => {
  const fx = await adminServer();
  try {
    const watcher = await watchWithFrame(fx.srv, fx.adminToken);
    await opening(watcher);
    watcher.send({ type: "auth", token: fx.adminToken });
    watcher.send({ type: "say", salon: "Général", text: "hi" });
    watcher.sendRaw("garbage");
    await registerWs(fx.srv, "gus");
    await next(
      watcher,
      "gus's connection",
      (f) => f.type === "@xstate.snapshot" && f.facts?.username === "gus",
    );
    assert.ok(watcher.isOpen);
    watcher.sendRaw("x".repeat(70_000));
    assert.equal((await watcher.waitClosed()).code, 1009);
  } finally {
    await fx.stop();
  }
});

Deno.test("inspect: no frame carries a message text, a password, a token or a reason", async () => {
  const fx = await adminServer();
  try {
    const watcher = await watchWithFrame(fx.srv, fx.adminToken);
    const onSocket = await watchOnSocket(fx);
    await opening(watcher);
    const password = "Zebra-Password-9931";
    const text = "Secret-Message-Text-5521";
    const directText = "Secret-Direct-Text-7741";
    const reason = "Secret-Kick-Reason-3317";
    const announce = "Secret-Announcement-6613";
    const reg = await session(fx.srv, {
      type: "register",
      username: "zoe",
      alias: "Zoe",
      password,
    });
    const token = reg.welcome.token as string;
    const { client: yan } = await registerWs(fx.srv, "yan");
    const said = await reg.client.request({ type: "say", salon: "Général", text });
    assert.equal(said.type, "ok", JSON.stringify(said));
    const sent = await reg.client.request({ type: "direct", to: "yan", text: directText });
    assert.equal(sent.type, "ok", JSON.stringify(sent));
    await yan.nextOfType("direct");
    // A second session by token, then a wrong password.
    const again = await session(fx.srv, { username: "zoe", token }, "zoe again");
    const wrong = await fx.srv.connect("wrong");
    wrong.send({ type: "hello", username: "zoe", password: `${password}-wrong` });
    await wrong.waitClosed();
    assert.equal((await fx.sock("POST", "/admin/announce", { text: announce })).status, 200);
    await again.client.nextOfType("notice").catch(() => undefined);
    const kick = await fx.sock("POST", "/admin/users/zoe/kick", { minutes: 5, reason });
    assert.equal(kick.status, 200, kick.text);
    await reg.client.waitClosed();
    // The end of the kick's story reached the watchers: everything before it was written.
    for (const c of [watcher, onSocket]) {
      await next(
        c,
        "zoe's sanction",
        (f) => f.type === "@xstate.snapshot" && f.facts?.kind === "kick",
      );
      const all = JSON.stringify(c.frames);
      for (const secret of [password, text, directText, reason, announce, token, fx.adminToken]) {
        assert.ok(!all.includes(secret), `a frame carries ${secret}`);
      }
      // Something was shown of the session all the same.
      assert.ok(all.includes('"username":"zoe"'));
      assert.ok(all.includes('"frame":"say"'));
    }
    // Closed by the test, not by the server's stop (see the join request test).
    await watcher.close();
    await onSocket.close();
  } finally {
    await fx.stop();
  }
});

Deno.test(`inspect: at most ${INSPECT_WATCHERS_MAX} watchers; one more is closed with 1013`, async () => {
  const fx = await adminServer();
  try {
    const watchers: TestClient[] = [];
    for (let i = 0; i < INSPECT_WATCHERS_MAX; i++) {
      const w = i % 2 === 0 ? await watchOnSocket(fx) : await watchWithFrame(fx.srv, fx.adminToken);
      await opening(w);
      watchers.push(w);
    }
    const extra = await watchWithFrame(fx.srv, fx.adminToken);
    const closed = await extra.waitClosed();
    assert.equal(closed.code, 1013);
    assert.match(closed.reason, /try again/);
    const extraSocket = await watchOnSocket(fx);
    assert.equal((await extraSocket.waitClosed()).code, 1013);
    // A slot freed is a slot taken again.
    await watchers.pop()!.close();
    const after = await watchWithFrame(fx.srv, fx.adminToken);
    await opening(after);
    watchers.push(after);
    for (const w of watchers) await w.close();
  } finally {
    await fx.stop();
  }
});

Deno.test("inspect: the actor system's inspection is attached only while someone watches", async () => {
  const fx = await adminServer();
  try {
    const inspection = fx.srv.server.hub.inspection;
    assert.equal(inspection.attached(), false);
    const a = await watchWithFrame(fx.srv, fx.adminToken);
    await opening(a);
    const b = await watchOnSocket(fx);
    await opening(b);
    assert.equal(inspection.attached(), true);
    assert.equal(inspection.watchers(), 2);
    await a.close();
    await eventually(() => inspection.watchers() === 1);
    assert.equal(inspection.attached(), true);
    await b.close();
    await eventually(() => inspection.watchers() === 0);
    assert.equal(inspection.attached(), false);
  } finally {
    await fx.stop();
  }
});

/** Waits (a few ms at a time, at most 5 s) until `ok()`. */
async function eventually(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (ok()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail("condition not met within 5 s");
}
