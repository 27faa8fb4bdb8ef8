/**
 * Issue 9, item 9: lifting a kick or a ban needs the rank that imposing
 * needs and at least the rank of the sanction's author. A moderator cannot
 * lift an admin's ban of a fellow moderator (nor an admin's ban of a member),
 * over the WebSocket `unban` frame or `DELETE /admin/users/{u}/ban`; the
 * refusal is `forbidden` (403) and says who can lift it, and the sanction
 * stays in force.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ADMIN_PW, type AdminServer, pw, startAdminServer } from "../admin_fixture.ts";
import { http, loginHttp, registerHttp, session, type TestClient } from "../ws_client.ts";

interface World {
  fx: AdminServer;
  adminToken: string;
  mod1Token: string;
  mod2Token: string;
  /** mod1's WebSocket session. */
  mod1: TestClient;
}

async function withWorld(fn: (w: World) => Promise<void>): Promise<void> {
  const fx = await startAdminServer({ prefix: "causerie-unban-rank-" });
  try {
    const url = fx.srv.url;
    const adminToken = await loginHttp(url, "admin", ADMIN_PW);
    for (const name of ["mod1", "mod2", "bob", "carol"]) {
      await registerHttp(url, name, name.toUpperCase(), pw(name));
    }
    for (const name of ["mod1", "mod2"]) {
      const res = await fx.http(
        "PUT",
        `/admin/users/${name}/role`,
        { role: "moderator" },
        adminToken,
      );
      assert.equal(res.status, 200, res.text);
    }
    const mod1Token = await loginHttp(url, "mod1", pw("mod1"));
    const mod2Token = await loginHttp(url, "mod2", pw("mod2"));
    const mod1 = (await session(fx.srv, { token: mod1Token }, "mod1")).client;
    await fn({ fx, adminToken, mod1Token, mod2Token, mod1 });
  } finally {
    await fx.stop();
  }
}

/** The login answer of `name` (`200`, or the refusal's status and code). */
async function loginStatus(w: World, name: string): Promise<string> {
  const res = await http(w.fx.srv.url, "POST", "/api/login", {
    username: name,
    password: pw(name),
  });
  return res.status === 200 ? "200" : `${res.status} ${res.body?.error?.code}`;
}

Deno.test("a moderator cannot lift an admin's ban of a fellow moderator (ws and http): forbidden, still banned", async () => {
  await withWorld(async (w) => {
    const ban = await w.fx.http("POST", "/admin/users/mod2/ban", { reason: "rogue" }, w.adminToken);
    assert.equal(ban.status, 200, ban.text);
    assert.equal(await loginStatus(w, "mod2"), "403 banned");

    const frame = await w.mod1.request({ type: "unban", username: "mod2" });
    assert.equal(frame.type, "error", JSON.stringify(frame));
    assert.equal(frame.code, "forbidden");
    assert.match(frame.message, /admin/, "says who can lift it");

    const res = await w.fx.http("DELETE", "/admin/users/mod2/ban", undefined, w.mod1Token);
    assert.equal(res.status, 403, res.text);
    assert.equal(res.body.error.code, "forbidden");
    assert.match(res.body.error.message, /admin/);

    assert.equal(await loginStatus(w, "mod2"), "403 banned", "the ban stands");
    const users = await w.fx.sock("GET", "/admin/users");
    assert.equal(
      users.body.users.find((u: { username: string }) => u.username === "mod2").banned,
      true,
    );

    // An admin may lift it.
    const lifted = await w.fx.http("DELETE", "/admin/users/mod2/ban", undefined, w.adminToken);
    assert.equal(lifted.status, 200, lifted.text);
    assert.equal(lifted.body.lifted, 1);
    assert.equal(await loginStatus(w, "mod2"), "200");
  });
});

Deno.test("a moderator cannot lift an admin's (or the admin socket's) sanction of a member; a fellow moderator's, yes", async () => {
  await withWorld(async (w) => {
    // An admin's ban of bob.
    const ban = await w.fx.http("POST", "/admin/users/bob/ban", {}, w.adminToken);
    assert.equal(ban.status, 200, ban.text);
    const frame = await w.mod1.request({ type: "unban", username: "bob" });
    assert.equal(frame.code, "forbidden", JSON.stringify(frame));
    assert.match(frame.message, /admin \(admin\).*only an admin can lift it/);
    const res = await w.fx.http("DELETE", "/admin/users/bob/ban", undefined, w.mod1Token);
    assert.equal(res.status, 403, res.text);
    assert.equal(await loginStatus(w, "bob"), "403 banned");

    // A kick from the admin socket counts as an admin's.
    const kick = await w.fx.sock("POST", "/admin/users/carol/kick", { minutes: 30 });
    assert.equal(kick.status, 200, kick.text);
    const sockFrame = await w.mod1.request({ type: "unban", username: "carol" });
    assert.equal(sockFrame.code, "forbidden", JSON.stringify(sockFrame));
    assert.match(sockFrame.message, /admin socket/);
    assert.equal(await loginStatus(w, "carol"), "403 banned");
    assert.equal((await w.fx.sock("DELETE", "/admin/users/carol/ban")).status, 200);

    // mod2's kick of carol: mod1 (same rank) may lift it, over ws or http.
    const modKick = await w.fx.http("POST", "/admin/users/carol/kick", {}, w.mod2Token);
    assert.equal(modKick.status, 200, modKick.text);
    const ok = await w.mod1.request({ type: "unban", username: "carol" });
    assert.equal(ok.type, "ok", JSON.stringify(ok));
    assert.equal(ok.lifted, 1);
    assert.equal(await loginStatus(w, "carol"), "200");
    const again = await w.fx.http("POST", "/admin/users/carol/kick", {}, w.mod2Token);
    assert.equal(again.status, 200, again.text);
    const viaHttp = await w.fx.http("DELETE", "/admin/users/carol/ban", undefined, w.mod1Token);
    assert.equal(viaHttp.status, 200, viaHttp.text);
    assert.equal(await loginStatus(w, "carol"), "200");
  });
});

Deno.test("with an admin's ban and a moderator's kick in force, a moderator's unban lifts neither", async () => {
  await withWorld(async (w) => {
    assert.equal((await w.fx.http("POST", "/admin/users/bob/kick", {}, w.mod2Token)).status, 200);
    assert.equal((await w.fx.http("POST", "/admin/users/bob/ban", {}, w.adminToken)).status, 200);
    const frame = await w.mod1.request({ type: "unban", username: "bob" });
    assert.equal(frame.code, "forbidden", JSON.stringify(frame));
    const users = await w.fx.sock("GET", "/admin/users");
    const bob = users.body.users.find((u: { username: string }) => u.username === "bob");
    assert.equal(bob.banned, true);
    assert.equal(typeof bob.bannedUntil, "string", "the kick is still in force too");
  });
});
