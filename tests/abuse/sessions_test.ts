/**
 * Issue 9, item 7: sessions must not outlive their credentials (PROTOCOL.md
 * 5.6). A password change closes the user's other sessions with 4401
 * "credentials changed"; a logout closes the sessions opened with that token;
 * `POST /api/logout-all` closes every session of the user. What a client
 * notices: the close code and reason, the frames it no longer gets, and
 * that the other sessions go on.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createSecurityLog } from "../../lib/security_log.ts";
import {
  http,
  loginHttp,
  registerHttp,
  session,
  startTestServer,
  type TestClient,
  type TestServer,
} from "../ws_client.ts";

const PASSWORD = "sessions-password-1";
const NEXT = "sessions-password-2";

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

async function withServer(
  fn: (srv: TestServer, security: string[]) => Promise<void>,
): Promise<void> {
  const security: string[] = [];
  const srv = await startTestServer({}, {
    securityLog: createSecurityLog((line) => security.push(line)),
  });
  try {
    await registerHttp(srv.url, "alice", "Alice", PASSWORD);
    await registerHttp(srv.url, "bob", "Bob", PASSWORD);
    await fn(srv, security);
  } finally {
    await srv.stop();
  }
}

/** A session opened with `token`. */
async function open(srv: TestServer, token: string, name: string): Promise<TestClient> {
  return (await session(srv, { token }, name)).client;
}

/** The session is alive: it answers a ping. */
async function assertAlive(client: TestClient, what: string): Promise<void> {
  const pong = await client.request({ type: "ping" });
  assert.equal(pong.type, "pong", what);
  assert.ok(client.isOpen, what);
}

/** Bob sends alice a direct message and waits for his own copy. */
async function directToAlice(bob: TestClient, text: string): Promise<void> {
  const ok = await bob.request({ type: "direct", to: "alice", text });
  assert.equal(ok.type, "ok", JSON.stringify(ok));
  await bob.next((f) => f.type === "direct" && f.text === text);
}

function events(security: string[], event: string): Array<Record<string, unknown>> {
  return security.map((l) => JSON.parse(l)).filter((r) => r.event === event);
}

Deno.test("a password change closes every other session of the user with 4401 'credentials changed'", async () => {
  await withServer(async (srv, security) => {
    const keep = await loginHttp(srv.url, "alice", PASSWORD);
    const other = await loginHttp(srv.url, "alice", PASSWORD);
    const here = await open(srv, keep, "alice-here");
    const stolen = await open(srv, other, "alice-stolen");
    const byPassword = (await session(srv, { username: "alice", password: PASSWORD }, "pw")).client;
    const bob = await open(srv, await loginHttp(srv.url, "bob", PASSWORD), "bob");

    const res = await http(srv.url, "POST", "/api/password", {
      current: PASSWORD,
      next: NEXT,
    }, bearer(keep));
    assert.equal(res.status, 204, res.text);

    for (const client of [stolen, byPassword]) {
      assert.deepEqual(await client.waitClosed(), { code: 4401, reason: "credentials changed" });
    }
    // The session of the token that made the change stays and still reads.
    await assertAlive(here, "the session that changed the password stays");
    await directToAlice(bob, "after the change");
    const got = await here.next((f) => f.type === "direct" && f.text === "after the change");
    assert.equal(got.from.username, "bob");
    for (const client of [stolen, byPassword]) {
      assert.ok(!client.frames.some((f) => f.text === "after the change"), "no direct after");
    }
    await assertAlive(bob, "another user's session is untouched");

    // Every old token is revoked: a hello with the stolen one is refused.
    const again = await srv.connect("again");
    again.send({ type: "hello", token: other, ref: "h" });
    const refusal = await again.next((f) => f.type === "error");
    assert.equal(refusal.code, "bad_credentials");
    assert.equal((await again.waitClosed()).code, 4401);

    const recorded = events(security, "password_changed");
    assert.equal(recorded.length, 1, security.join("\n"));
    assert.equal(recorded[0].username, "alice");
    assert.equal(recorded[0].outcome, "accepted");
    assert.ok(!security.join("\n").includes(keep), "no token in the security log");
  });
});

Deno.test("a logout closes the sessions opened with that token (4401), and only those", async () => {
  await withServer(async (srv, security) => {
    const leaving = await loginHttp(srv.url, "alice", PASSWORD);
    const staying = await loginHttp(srv.url, "alice", PASSWORD);
    const a1 = await open(srv, leaving, "a1");
    const a2 = await open(srv, leaving, "a2");
    const a3 = await open(srv, staying, "a3");
    const bob = await open(srv, await loginHttp(srv.url, "bob", PASSWORD), "bob");

    const res = await http(srv.url, "POST", "/api/logout", undefined, bearer(leaving));
    assert.equal(res.status, 204, res.text);
    for (const client of [a1, a2]) {
      assert.deepEqual(await client.waitClosed(), { code: 4401, reason: "logged out" });
    }
    await assertAlive(a3, "a session of another token stays");
    await directToAlice(bob, "after the logout");
    await a3.next((f) => f.type === "direct" && f.text === "after the logout");
    for (const client of [a1, a2]) {
      assert.ok(!client.frames.some((f) => f.text === "after the logout"), "no direct after");
    }
    const recorded = events(security, "logout");
    assert.equal(recorded.length, 1, security.join("\n"));
    assert.equal(recorded[0].username, "alice");
  });
});

Deno.test("POST /api/logout-all: 204, every token revoked, every session closed (4401)", async () => {
  await withServer(async (srv, security) => {
    const t1 = await loginHttp(srv.url, "alice", PASSWORD);
    const t2 = await loginHttp(srv.url, "alice", PASSWORD);
    const s1 = await open(srv, t1, "s1");
    const s2 = await open(srv, t2, "s2");
    const s3 = (await session(srv, { username: "alice", password: PASSWORD }, "s3")).client;
    const bob = await open(srv, await loginHttp(srv.url, "bob", PASSWORD), "bob");

    const res = await http(srv.url, "POST", "/api/logout-all", undefined, bearer(t1));
    assert.equal(res.status, 204, res.text);
    assert.equal(res.text, "");
    for (const client of [s1, s2, s3]) {
      assert.deepEqual(await client.waitClosed(), { code: 4401, reason: "logged out everywhere" });
    }
    for (const token of [t1, t2]) {
      const me = await http(srv.url, "GET", "/api/me", undefined, bearer(token));
      assert.equal(me.status, 401, me.text);
      assert.equal(me.body?.error?.code, "unauthenticated");
    }
    await assertAlive(bob, "another user's session is untouched");
    // A new login works.
    await open(srv, await loginHttp(srv.url, "alice", PASSWORD), "fresh");

    const recorded = events(security, "logout_all");
    assert.equal(recorded.length, 1, security.join("\n"));
    assert.equal(recorded[0].username, "alice");
  });
});

Deno.test("POST /api/logout-all without a valid bearer: 401 unauthenticated, nothing closed", async () => {
  await withServer(async (srv) => {
    const token = await loginHttp(srv.url, "alice", PASSWORD);
    const alice = await open(srv, token, "alice");
    for (
      const headers of [{}, bearer("not-a-token"), { authorization: "Basic YWxpY2U6eA==" }]
    ) {
      const res = await http(srv.url, "POST", "/api/logout-all", undefined, headers);
      assert.equal(res.status, 401, res.text);
      assert.equal(res.body?.error?.code, "unauthenticated");
      assert.match(res.body?.error?.message ?? "", /log in/);
    }
    await assertAlive(alice, "nothing was closed");
    const me = await http(srv.url, "GET", "/api/me", undefined, bearer(token));
    assert.equal(me.status, 200, me.text);
  });
});

Deno.test("a hello checked while its token is logged out is refused, not welcomed", async () => {
  await withServer(async (srv) => {
    const token = await loginHttp(srv.url, "alice", PASSWORD);
    const store = srv.server.store;
    const original = store.sessionUser.bind(store);
    // The hello's token lookup answers only after the logout has gone through.
    const gate = Promise.withResolvers<void>();
    const entered = Promise.withResolvers<void>();
    let first = true;
    store.sessionUser = async (hash, opts) => {
      const result = await original(hash, opts);
      if (first) {
        first = false;
        entered.resolve();
        await gate.promise;
      }
      return result;
    };
    const client = await srv.connect("racing");
    client.send({ type: "hello", token, ref: "h" });
    await entered.promise;
    const res = await http(srv.url, "POST", "/api/logout", undefined, bearer(token));
    assert.equal(res.status, 204, res.text);
    gate.resolve();
    const reply = await client.next((f) => f.type === "welcome" || f.type === "error");
    assert.equal(reply.type, "error", JSON.stringify(reply));
    assert.equal(reply.code, "bad_credentials");
    assert.equal((await client.waitClosed()).code, 4401);
    store.sessionUser = original;
  });
});
