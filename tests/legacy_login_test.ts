/**
 * Logging in with a password imported from the original server (issue 13),
 * over the real HTTP API and WebSocket: the unsalted SHA-256 is accepted,
 * replaced by argon2id in the same login and never accepted again as such;
 * a locked imported account (placeholder hash, `admin`/`server`) refuses
 * every password until an admin sets one with `PUT /admin/users/{u}/password`
 * or `deno task admin user password USER`, which closes its sessions.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { LEGACY_PREFIX, LOCKED_HASH, storedLegacyHash } from "../auth/legacy_password.ts";
import type { Store } from "../store/store.ts";
import {
  http,
  loginHttp,
  registerHttp,
  session,
  startTestServer,
  type TestServer,
} from "./ws_client.ts";

const ADMIN_PASSWORD = `admin-${crypto.randomUUID()}`;
const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

/** Imports accounts the way legacy/ does: a legacy hash or the lock. */
async function importUsers(
  store: Store,
  users: Array<{ id: number; username: string; hash: string }>,
): Promise<void> {
  await store.importLegacy({
    users: users.map((u) => ({
      legacyId: u.id,
      user: { username: u.username, alias: u.username, passwordHash: u.hash, role: "member" },
      createdAt: Date.now(),
    })),
  });
}

async function withServer(
  fn: (srv: TestServer, socket: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "causerie-legacy-login-" });
  await Deno.chmod(dir, 0o700);
  const socket = join(dir, "admin.sock");
  const srv = await startTestServer({
    CAUSERIE_ADMIN_SOCKET: socket,
    CAUSERIE_ADMIN_PASSWORD: ADMIN_PASSWORD,
  }, { adminSocket: true });
  try {
    await fn(srv, socket);
  } finally {
    await srv.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("legacy login: the old password works once as SHA-256, then as argon2id", async () => {
  await withServer(async (srv) => {
    const store = srv.server.store;
    // A short password: the original server had no length rule; logins take 1-256 characters.
    await importUsers(store, [{
      id: 1,
      username: "lena",
      hash: storedLegacyHash(sha256("soleil")),
    }]);
    const before = (await store.userByName("lena"))!.passwordHash;
    assert.equal(before, LEGACY_PREFIX + sha256("soleil"));

    const wrong = await http(srv.url, "POST", "/api/login", { username: "lena", password: "x" });
    assert.equal(wrong.status, 401);
    assert.equal(
      (await store.userByName("lena"))!.passwordHash,
      before,
      "a failure changes nothing",
    );
    // The hex digest itself is not a password.
    const digest = await http(srv.url, "POST", "/api/login", {
      username: "lena",
      password: sha256("soleil"),
    });
    assert.equal(digest.status, 401);

    const res = await http(srv.url, "POST", "/api/login", { username: "lena", password: "soleil" });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body!.user, { username: "lena", alias: "lena", role: "member" });
    assert.ok(!res.text.includes(sha256("soleil")), "the legacy hash never leaves the database");
    const after = (await store.userByName("lena"))!.passwordHash;
    assert.match(after, /^\$argon2id\$/);
    assert.ok(!after.includes(sha256("soleil")));

    // The same password goes on working (now against argon2id), over the WebSocket too.
    const { client, welcome } = await session(srv, { username: "lena", password: "soleil" });
    assert.equal(welcome.user.username, "lena");
    await client.close();
    // The token of the upgrading login is still valid: the upgrade revoked nothing.
    const me = await http(srv.url, "GET", "/api/me", undefined, {
      authorization: `Bearer ${res.body!.token}`,
    });
    assert.equal(me.status, 200);
  });
});

Deno.test("legacy login: a locked imported account refuses every password until reset", async () => {
  await withServer(async (srv, socket) => {
    const store = srv.server.store;
    await importUsers(store, [
      { id: 1, username: "admin_legacy", hash: storedLegacyHash("hashed_admin_password") },
      { id: 2, username: "mona", hash: LOCKED_HASH },
    ]);
    for (const password of ["hashed_admin_password", LOCKED_HASH, "anything at all"]) {
      const res = await http(srv.url, "POST", "/api/login", { username: "mona", password });
      assert.equal(res.status, 401, password);
      assert.equal(res.body!.error.code, "bad_credentials");
    }

    // Over HTTP: an admin sets a password; a member cannot.
    await registerHttp(srv.url, "nico", "nico", "nico long password");
    const nico = await loginHttp(srv.url, "nico", "nico long password");
    const refused = await http(srv.url, "PUT", "/admin/users/mona/password", {
      password: "new mona password",
    }, { authorization: `Bearer ${nico}` });
    assert.equal(refused.status, 403);
    const admin = await loginHttp(srv.url, "admin", ADMIN_PASSWORD);
    const auth = { authorization: `Bearer ${admin}` };
    for (const body of [{}, { password: "short" }, { password: 12345678 }]) {
      const bad = await http(srv.url, "PUT", "/admin/users/mona/password", body, auth);
      assert.equal(bad.status, 400, JSON.stringify(body));
    }
    const unknown = await http(srv.url, "PUT", "/admin/users/nobody/password", {
      password: "whatever password",
    }, auth);
    assert.equal(unknown.status, 404);
    const self = await http(srv.url, "PUT", "/admin/users/admin/password", {
      password: "whatever password",
    }, auth);
    assert.equal(self.status, 403, "an admin changes their own password with /api/password");
    assert.equal((await store.userByName("mona"))!.passwordHash, LOCKED_HASH, "nothing stored");

    const set = await http(srv.url, "PUT", "/admin/users/mona/password", {
      password: "new mona password",
    }, auth);
    assert.equal(set.status, 204, set.text);
    const { client } = await session(srv, { username: "mona", password: "new mona password" });
    // A second reset closes the live session (credentials changed).
    const again = await http(srv.url, "PUT", "/admin/users/mona/password", {
      password: "newer mona password",
    }, auth);
    assert.equal(again.status, 204);
    const closed = await client.closed;
    assert.equal(closed.code, 4401);
    const audit = await http(srv.url, "GET", "/admin/audit", undefined, auth);
    const resets = audit.body!.entries.filter((e: { action: string }) =>
      e.action === "reset_password"
    );
    assert.equal(resets.length, 2);
    assert.equal(resets[0].target, "mona");
    assert.equal(resets[0].reason, "", "the password is never in the audit log");

    // Through the admin socket with the CLI, the password read from stdin.
    const proc = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "cli/main.ts", "user", "password", "admin_legacy"],
      cwd: new URL("..", import.meta.url),
      env: { CAUSERIE_ADMIN_SOCKET: socket, NO_COLOR: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = proc.stdin.getWriter();
    await writer.write(new TextEncoder().encode("the old admin's new password\n"));
    await writer.close();
    const out = await proc.output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, text);
    assert.match(text, /new password set for admin_legacy/);
    assert.equal(
      (await loginHttp(srv.url, "admin_legacy", "the old admin's new password")).length > 0,
      true,
    );
  });
});
