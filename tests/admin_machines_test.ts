/**
 * `GET /admin/machines` (PROTOCOL 5.5): every machine's definition keyed by
 * name, for a moderator's or admin's bearer token and on the admin socket;
 * refused to members (403) and without a token (401).
 */

import assert from "node:assert/strict";
import { machineDefinition, MACHINES } from "../actors/machines.ts";
import { type Json, login, pw, startAdminSession, VIAS } from "./admin_fixture.ts";
import { registerHttp } from "./ws_client.ts";

Deno.test("GET /admin/machines: every machine's definition by name, for admins, moderators and the admin socket", async () => {
  const fx = await startAdminSession();
  try {
    for (const via of VIAS) {
      const res = await fx.call(via, "GET", "/admin/machines");
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(Object.keys(res.body).sort(), Object.keys(MACHINES).sort(), via);
      for (const [name, machine] of Object.entries(MACHINES)) {
        assert.deepEqual(res.body[name], machineDefinition(machine), `${name} (${via})`);
      }
      const connection: Json = res.body.connection;
      assert.equal(connection.initial.target[0], "#connection.awaitingHello");
      assert.deepEqual(Object.keys(connection.states), [
        "awaitingHello",
        "authenticating",
        "active",
        "closed",
      ]);
      assert.equal(res.body.sanction.states.active.states.deciding.always.length, 2);
    }
    await registerHttp(fx.srv.url, "mod", "Mod", pw("mod"));
    await registerHttp(fx.srv.url, "mallory", "Mallory", pw("mallory"));
    const promote = await fx.sock("PUT", "/admin/users/mod/role", { role: "moderator" });
    assert.equal(promote.status, 200, promote.text);
    const modToken = (await login(fx, "mod")).body.token;
    const memberToken = (await login(fx, "mallory")).body.token;
    const asMod = await fx.http("GET", "/admin/machines", undefined, modToken);
    assert.equal(asMod.status, 200, asMod.text);
    assert.deepEqual(Object.keys(asMod.body).sort(), Object.keys(MACHINES).sort());
    const asMember = await fx.http("GET", "/admin/machines", undefined, memberToken);
    assert.equal(asMember.status, 403, asMember.text);
    assert.equal(asMember.body.error.code, "forbidden");
    const anonymous = await fx.http("GET", "/admin/machines");
    assert.equal(anonymous.status, 401, anonymous.text);
    assert.equal(anonymous.body.error.code, "unauthenticated");
    const wrong = await fx.http("GET", "/admin/machines", undefined, "not-a-token");
    assert.equal(wrong.status, 401, wrong.text);
  } finally {
    await fx.stop();
  }
});
