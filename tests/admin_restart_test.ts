/**
 * Moderation survives a restart on the same SQLite file: a kick keeps its
 * end (neither forgotten nor extended), a ban stays, a pending join request
 * can still be decided, the audit log is kept; a kick that ran out while the
 * server was down is no longer in force.
 */

import assert from "node:assert/strict";
import type { StartOptions } from "../main.ts";
import { assertError } from "./helpers.ts";
import {
  ADMIN_PW,
  type AdminServer,
  type Json,
  login,
  pw,
  refusedHello,
  registerWs,
  startAdminServer,
} from "./admin_fixture.ts";
import { assertErrorFrame, loginHttp, registerHttp, session } from "./ws_client.ts";

const COMPTA = "Comptabilité";

/** One run of the server on the shared database file, with its admin socket. */
type Run = AdminServer;

function run(dir: string, opts: StartOptions = {}): Promise<Run> {
  return startAdminServer({ dir, env: { CAUSERIE_DB: `sqlite:${dir}/causerie.db` }, start: opts });
}

/** A temp dir for the database and the socket; every run started is stopped, the dir removed. */
async function withDir(
  fn: (start: (opts?: StartOptions) => Promise<Run>) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "causerie-admin-restart-" });
  const runs: Run[] = [];
  try {
    await fn(async (opts) => {
      const r = await run(dir, opts);
      runs.push(r);
      return r;
    });
  } finally {
    for (const r of runs) await r.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

async function get(r: Run, path: string): Promise<Json> {
  const res = await r.sock("GET", path);
  assert.equal(res.status, 200, res.text);
  return res.body;
}

async function entry(r: Run, username: string): Promise<Json> {
  return ((await get(r, "/admin/users")).users as Json[]).find((u) => u.username === username);
}

Deno.test("a kick keeps its end, a ban stays, a pending request and the audit log survive a restart", async (t) => {
  await withDir(async (start) => {
    // First run, on a clock that moves on between two readings (as a real one may:
    // every reading is one millisecond later than the last).
    let readings = 0;
    const first = await start({ hub: { now: () => Date.now() + ++readings } });
    const adminToken = await loginHttp(first.srv.url, "admin", ADMIN_PW);
    const alice = await registerWs(first.srv, "alice");
    const aliceToken = alice.welcome.token as string;
    const bob = (await registerWs(first.srv, "bob")).client;
    await registerHttp(first.srv.url, "carol", "Carol", pw("carol"));

    assert.equal((await bob.request({ type: "join", salon: COMPTA })).type, "join_pending");
    const pendingBefore = (await get(first, "/admin/join-requests")).pending;
    assert.equal(pendingBefore.length, 1);

    const kick = await first.sock("POST", "/admin/users/alice/kick", {
      minutes: 10,
      reason: "cool down",
    });
    assert.equal(kick.status, 200, kick.text);
    const until = kick.body.until as string;
    assert.equal((await alice.client.waitClosed()).code, 4403);
    const ban = await first.http("POST", "/admin/users/carol/ban", { reason: "gone" }, adminToken);
    assert.equal(ban.status, 200, ban.text);
    assert.equal((await first.sock("POST", "/admin/announce", { text: "before" })).status, 200);
    const auditBefore = (await get(first, "/admin/audit")).entries as Json[];
    assert.deepEqual(auditBefore.map((e) => e.action), ["announce", "ban", "kick"]);
    await first.stop();

    // Second run on the same file.
    const second = await start();

    await t.step("the kick is still in force with the same end", async () => {
      const refused = await login(second, "alice");
      assertError(refused, 403, "banned", { withUntil: true });
      assert.equal(refused.body.error.until, until);
      for (const hello of [{ token: aliceToken }, { username: "alice", password: pw("alice") }]) {
        const { frame, close, ref } = await refusedHello(second.srv, hello);
        assertErrorFrame(frame, "banned", ref, { withUntil: true });
        assert.equal(frame.until, until, JSON.stringify(frame));
        assert.equal(close.code, 4403);
      }
      assert.equal((await entry(second, "alice")).bannedUntil, until);
    });

    await t.step("the ban is still in force", async () => {
      assertError(await login(second, "carol"), 403, "banned");
      const { frame, close, ref } = await refusedHello(second.srv, {
        username: "carol",
        password: pw("carol"),
      });
      assertErrorFrame(frame, "banned", ref);
      assert.equal(close.code, 4403);
      assert.equal((await entry(second, "carol")).banned, true);
    });

    await t.step("GET /admin/actors shows the sanction actors again", async () => {
      const actors = (await get(second, "/admin/actors")).actors as Json[];
      const root = actors.find((a) => a.parent === null);
      const sanctions = actors.filter((a) => a.machine === "sanction")
        .map((a) => ({ parent: a.parent, ...a.facts }))
        .sort((a, b) => a.username.localeCompare(b.username));
      assert.deepEqual(sanctions, [
        { parent: root.id, username: "alice", kind: "kick", until },
        { parent: root.id, username: "carol", kind: "ban" },
      ]);
    });

    await t.step("the audit log is kept", async () => {
      assert.deepEqual((await get(second, "/admin/audit")).entries, auditBefore);
    });

    await t.step("the pending request is listed as before, with the same at", async () => {
      assert.deepEqual((await get(second, "/admin/join-requests")).pending, pendingBefore);
    });

    await t.step("the pending request can be accepted", async () => {
      const pending = (await get(second, "/admin/join-requests")).pending as Json[];
      assert.deepEqual(
        pending.map((p) => [p.salon, p.username, p.alias]),
        [[COMPTA, "bob", "Bob"]],
      );
      const { client: bob2, welcome } = await session(second.srv, {
        username: "bob",
        password: pw("bob"),
      });
      const compta = (welcome.salons as Json[]).find((s) => s.name === COMPTA);
      assert.deepEqual([compta.member, compta.pending], [false, true]);
      const accept = await second.sock(
        "POST",
        `/admin/join-requests/${encodeURIComponent(COMPTA)}/bob/accept`,
      );
      assert.equal(accept.status, 200, accept.text);
      assert.deepEqual(await bob2.nextOfType("joined"), { type: "joined", salon: COMPTA });
      const ok = await bob2.request({ type: "say", salon: COMPTA, text: "merci" });
      assert.equal(ok.type, "ok", JSON.stringify(ok));
      assert.deepEqual((await get(second, "/admin/join-requests")).pending, []);
      const audit = (await get(second, "/admin/audit")).entries as Json[];
      assert.deepEqual(audit.slice(1), auditBefore);
      assert.equal(audit[0].action, "accept");
    });
  });
});

Deno.test("a kick that ran out while the server was down is not in force after the restart", async () => {
  await withDir(async (start) => {
    const first = await start();
    await registerHttp(first.srv.url, "dave", "Dave", pw("dave"));
    // 1.2 s: long enough to see it in force, short enough to run out during the restart.
    const kick = await first.sock("POST", "/admin/users/dave/kick", { minutes: 0.02 });
    assert.equal(kick.status, 200, kick.text);
    const until = kick.body.until as string;
    const refused = await login(first, "dave");
    assertError(refused, 403, "banned", { withUntil: true });
    assert.equal(refused.body.error.until, until);
    await first.stop();

    // Wait (bounded) until the end has passed, the server being down.
    const end = Date.parse(until);
    const deadline = Date.now() + 10_000;
    while (Date.now() <= end) {
      assert.ok(Date.now() < deadline, "the clock did not reach the end of the kick");
      await new Promise((r) => setTimeout(r, Math.min(50, end - Date.now() + 1)));
    }

    const second = await start();
    const ok = await login(second, "dave");
    assert.equal(ok.status, 200, ok.text);
    const { client } = await session(second.srv, { username: "dave", password: pw("dave") });
    await client.close();
    const listed = await entry(second, "dave");
    assert.ok(!("bannedUntil" in listed) && !("banned" in listed), JSON.stringify(listed));
    const actors = (await get(second, "/admin/actors")).actors as Json[];
    assert.deepEqual(actors.filter((a) => a.machine === "sanction"), []);
  });
});
