/**
 * Edit, delete and reports through the admin API (PROTOCOL.md 5.4) and the
 * permission matrix of every new action: member / moderator / admin / the
 * admin socket × WebSocket / HTTP / socket. Each refusal says why, carries
 * the request's `ref` on a socket, and changes nothing in the store.
 */

import assert from "node:assert/strict";
import { type AdminSession, pw, startAdminSession } from "./admin_fixture.ts";
import {
  assertErrorFrame,
  loginHttp,
  registerHttp,
  session,
  type TestClient,
} from "./ws_client.ts";

const GENERAL = "Général";
const G = encodeURIComponent(GENERAL);

interface World {
  fx: AdminSession;
  tokens: Record<string, string>;
  clients: Record<string, TestClient>;
  salonId: number;
}

/** alice (member), bob (member), mod (moderator), boss (admin); all logged in on both ways. */
async function world(fx: AdminSession): Promise<World> {
  const store = fx.srv.server.store;
  const tokens: Record<string, string> = {};
  const clients: Record<string, TestClient> = {};
  for (
    const [name, role] of [
      ["alice", "member"],
      ["bob", "member"],
      ["mod", "moderator"],
      ["boss", "admin"],
    ] as const
  ) {
    await registerHttp(fx.srv.url, name, name[0].toUpperCase() + name.slice(1), pw(name));
    if (role !== "member") await store.setRole((await store.userByName(name))!.id, role);
    tokens[name] = await loginHttp(fx.srv.url, name, pw(name));
    clients[name] = (await session(fx.srv, { token: tokens[name] }, name)).client;
  }
  const salonId = (await store.listSalons()).find((s) => s.name === GENERAL)!.id;
  return { fx, tokens, clients, salonId };
}

async function say(w: World, who: string, text: string): Promise<number> {
  const ok = await w.clients[who].request({ type: "say", salon: GENERAL, text });
  assert.equal(ok.type, "ok", JSON.stringify(ok));
  return ok.id;
}

async function textOf(w: World, id: number): Promise<string | undefined> {
  return (await w.fx.srv.server.store.messageFacts({ kind: "salon", salonId: w.salonId, id }))
    ?.text;
}

Deno.test("admin API: DELETE /admin/salons/{salon}/messages/{id} (moderator, admin, socket; a member 403), audited, members told", async () => {
  const fx = await startAdminSession();
  try {
    const w = await world(fx);
    const ids = await Promise.all([1, 2, 3, 4].map((n) => say(w, "alice", `message ${n}`)));
    // A member's bearer, even on their own message: 403, nothing changed.
    const member = await fx.http(
      "DELETE",
      `/admin/salons/${G}/messages/${ids[0]}`,
      undefined,
      w.tokens.alice,
    );
    assert.equal(member.status, 403, member.text);
    assert.equal(member.body.error.code, "forbidden");
    assert.equal(await textOf(w, ids[0]), "message 1");
    // Moderator and admin bearers, and the socket.
    const byMod = await fx.http("DELETE", `/admin/salons/${G}/messages/${ids[0]}`, {
      reason: "spam",
    }, w.tokens.mod);
    assert.deepEqual([byMod.status, byMod.body], [200, { ok: true }]);
    const byAdmin = await fx.http(
      "DELETE",
      `/admin/salons/${G}/messages/${ids[1]}`,
      undefined,
      w.tokens.boss,
    );
    assert.equal(byAdmin.status, 200, byAdmin.text);
    const bySocket = await fx.sock("DELETE", `/admin/salons/${G}/messages/${ids[2]}`);
    assert.equal(bySocket.status, 200, bySocket.text);
    for (const id of ids.slice(0, 3)) assert.equal(await textOf(w, id), "");
    assert.equal(await textOf(w, ids[3]), "message 4");
    const deleted = await w.clients.bob.next((f) => f.type === "deleted" && f.id === ids[2]);
    assert.equal(deleted.salon, GENERAL);
    const audit = (await fx.srv.server.store.listAudit(10)).filter((e) =>
      e.action === "delete_message"
    );
    assert.deepEqual(audit.map((e) => [e.actor, e.via, e.target, e.reason]), [
      ["server", "socket", `alice@${GENERAL}#${ids[2]}`, ""],
      ["boss", "http", `alice@${GENERAL}#${ids[1]}`, ""],
      ["mod", "http", `alice@${GENERAL}#${ids[0]}`, "spam"],
    ]);
    // Unknown salon, unknown id, ids that are not ids: clear errors, nothing changed.
    const cases: Array<[string, number, string]> = [
      [`/admin/salons/Nowhere/messages/${ids[3]}`, 404, "unknown_salon"],
      [`/admin/salons/${G}/messages/999`, 404, "not_found"],
      [`/admin/salons/${G}/messages/abc`, 400, "invalid"],
      [`/admin/salons/${G}/messages/0`, 400, "invalid"],
      [`/admin/salons/${G}/messages/1.5`, 400, "invalid"],
      [`/admin/salons/${G}/messages/-1`, 400, "invalid"],
      [`/admin/salons/${G}/messages/99999999999999999999`, 400, "invalid"],
    ];
    for (const [path, status, code] of cases) {
      const res = await fx.sock("DELETE", path);
      assert.equal(res.status, status, `${path}: ${res.text}`);
      assert.equal(res.body.error.code, code, path);
    }
    const long = await fx.sock("DELETE", `/admin/salons/${G}/messages/${ids[3]}`, {
      reason: "x".repeat(10_000),
    });
    assert.equal(long.status, 400, long.text);
    assert.equal(await textOf(w, ids[3]), "message 4");
  } finally {
    await fx.stop();
  }
});

Deno.test("admin API: GET /admin/reports and POST /admin/reports/{id}/resolve over HTTP and the socket; a member 403", async () => {
  const fx = await startAdminSession();
  try {
    const w = await world(fx);
    const id = await say(w, "alice", "rude");
    const ok = await w.clients.bob.request({ type: "report", salon: GENERAL, id, reason: "rude" });
    assert.equal(ok.type, "ok", JSON.stringify(ok));
    for (const [name, token] of [["alice", w.tokens.alice]] as const) {
      const res = await fx.http("GET", "/admin/reports", undefined, token);
      assert.equal(res.status, 403, `${name}: ${res.text}`);
      const resolve = await fx.http("POST", `/admin/reports/${ok.report}/resolve`, {}, token);
      assert.equal(resolve.status, 403, resolve.text);
    }
    const viaMod = await fx.http("GET", "/admin/reports", undefined, w.tokens.mod);
    assert.equal(viaMod.status, 200, viaMod.text);
    assert.deepEqual(viaMod.body.open.map((r: { id: number }) => r.id), [ok.report]);
    assert.equal(viaMod.body.open[0].message.text, "rude");
    const viaSocket = await fx.sock("GET", "/admin/reports");
    assert.deepEqual(viaSocket.body, viaMod.body);
    for (
      const [path, status, code] of [
        ["/admin/reports/abc/resolve", 400, "invalid"],
        ["/admin/reports/0/resolve", 400, "invalid"],
        ["/admin/reports/424242/resolve", 404, "not_found"],
      ] as const
    ) {
      const res = await fx.sock("POST", path);
      assert.equal(res.status, status, res.text);
      assert.equal(res.body.error.code, code);
    }
    const tooLong = await fx.sock("POST", `/admin/reports/${ok.report}/resolve`, {
      note: "n".repeat(10_000),
    });
    assert.equal(tooLong.status, 400, tooLong.text);
    assert.equal((await fx.sock("GET", "/admin/reports")).body.open.length, 1, "nothing changed");
    const done = await fx.sock("POST", `/admin/reports/${ok.report}/resolve`, { note: "handled" });
    assert.deepEqual([done.status, done.body], [200, { ok: true }]);
    assert.deepEqual(await w.clients.mod.next((f) => f.type === "report_resolved"), {
      type: "report_resolved",
      report: ok.report,
      by: { username: "server", alias: "server" },
    });
    const again = await fx.http(
      "POST",
      `/admin/reports/${ok.report}/resolve`,
      undefined,
      w.tokens.boss,
    );
    assert.equal(again.status, 404, again.text);
    assert.deepEqual((await fx.sock("GET", "/admin/reports")).body.open, []);
    const audit = (await fx.srv.server.store.listAudit(5)).find((e) =>
      e.action === "resolve_report"
    );
    assert.deepEqual([audit?.actor, audit?.via, audit?.reason], ["server", "socket", "handled"]);
  } finally {
    await fx.stop();
  }
});

/** Who may do what: each action, by each role, on each path it exists on. */
Deno.test("permission matrix: edit, delete, report, reports, resolve_report by member / moderator / admin over WebSocket", async () => {
  const fx = await startAdminSession();
  try {
    const w = await world(fx);
    const store = fx.srv.server.store;
    // Someone else's message: only moderators and admins may delete it; nobody else may edit it.
    for (const who of ["alice", "bob", "mod", "boss"]) {
      const victim = await say(w, who === "bob" ? "alice" : "bob", `by someone else, for ${who}`);
      const edit = await w.clients[who].request({
        type: "edit",
        salon: GENERAL,
        id: victim,
        text: "x",
        ref: "e",
      });
      assertErrorFrame(edit, "forbidden", "e");
      const del = await w.clients[who].request({
        type: "delete",
        salon: GENERAL,
        id: victim,
        ref: "d",
      });
      if (who === "mod" || who === "boss") {
        assert.deepEqual(del, { type: "ok", ref: "d", id: victim });
      } else {
        assertErrorFrame(del, "forbidden", "d");
        assert.equal(await textOf(w, victim), `by someone else, for ${who}`);
      }
      // Everyone may edit and delete their own, and report others'.
      const mine = await say(w, who, `mine, ${who}`);
      assert.equal(
        (await w.clients[who].request({ type: "edit", salon: GENERAL, id: mine, text: "edited" }))
          .type,
        "ok",
      );
      const other = await say(w, who === "alice" ? "bob" : "alice", "to report");
      const report = await w.clients[who].request({ type: "report", salon: GENERAL, id: other });
      assert.equal(report.type, "ok", JSON.stringify(report));
      assert.equal(
        (await w.clients[who].request({ type: "delete", salon: GENERAL, id: mine })).type,
        "ok",
      );
      // Listing and resolving: moderators and admins only.
      const list = await w.clients[who].request({ type: "reports", ref: "l" });
      const resolve = await w.clients[who].request({
        type: "resolve_report",
        report: report.report,
        ref: "r",
      });
      if (who === "mod" || who === "boss") {
        assert.equal(list.type, "reports");
        assert.deepEqual(resolve, { type: "ok", ref: "r" });
      } else {
        assertErrorFrame(list, "forbidden", "l");
        assertErrorFrame(resolve, "forbidden", "r");
      }
    }
    // Two reports by members stay open; nothing else was resolved behind their backs.
    assert.equal((await store.openReports(100)).length, 2);
  } finally {
    await fx.stop();
  }
});
