/**
 * Hostile input for edit, delete and reports (PROTOCOL.md 5.4): missing,
 * wrong-typed, oversized and hostile values, unknown salons and ids,
 * someone else's message, a conversation one is not in, a non-member, a
 * direct message reported, a 10 KB reason. Each gets a clear `error` with
 * the request's `ref`, the socket stays usable, and nothing is stored.
 */

import assert from "node:assert/strict";
import type { Store } from "../store/store.ts";
import { assertErrorFrame, assertServed, startTestServer, type TestClient } from "./ws_client.ts";
import { login, users } from "./ws_users.ts";
import { promote, say } from "./edits_helpers.ts";

/** Everything a hostile frame could have changed: texts, edit times, reports, audit lines. */
async function snapshot(store: Store, salonId: number, ids: number[]): Promise<string> {
  const facts = await Promise.all(
    ids.map((id) => store.messageFacts({ kind: "salon", salonId, id })),
  );
  return JSON.stringify({
    facts,
    reports: await store.openReports(100),
    audit: await store.listAudit(100),
  });
}

/** Sends `frame` with a ref and asserts the error code with that ref. */
async function refused(client: TestClient, frame: Record<string, unknown>, code: string) {
  const ref = `r${Math.random().toString(36).slice(2, 8)}`;
  const reply = await client.request({ ...frame, ref });
  assertErrorFrame(reply, code, ref);
  return reply;
}

Deno.test("hostile edit, delete, report, reports and resolve_report frames: a clear error with the ref, the socket usable, nothing stored", async () => {
  // A large message bucket: refused edits and reports spend tokens too (as a say to a non-member).
  const srv = await startTestServer({
    CAUSERIE_RATE_BURST: "1000",
    CAUSERIE_REQUEST_BURST: "1000",
  });
  try {
    await users(srv, "alice", "bob", "mallory", "mod");
    await promote(srv, "mod");
    const a = await login(srv, "alice");
    const b = await login(srv, "bob");
    const m = await login(srv, "mallory");
    const mod = await login(srv, "mod");
    const store = srv.server.store;
    const general = (await store.listSalons()).find((s) => s.name === "Général")!.id;
    // Marketing needs approval: alice is not a member.
    const mine = await say(a.client, "Général", "alice's message");
    const bobs = await say(b.client, "Général", "bob's message");
    const direct = (await b.client.request({ type: "direct", to: "mallory", text: "secret" })).id;
    const before = await snapshot(store, general, [mine, bobs]);

    const cases: Array<[Record<string, unknown>, string]> = [
      // edit
      [{ type: "edit", salon: "Général", id: bobs, text: "mine now" }, "forbidden"],
      [{ type: "edit", salon: "Général", id: 999, text: "x" }, "not_found"],
      [{ type: "edit", salon: "Nowhere", id: mine, text: "x" }, "unknown_salon"],
      [{ type: "edit", salon: "Marketing", id: 1, text: "x" }, "not_member"],
      [{ type: "edit", salon: "Général", id: "1", text: "x" }, "invalid"],
      [{ type: "edit", salon: "Général", id: 1.5, text: "x" }, "invalid"],
      [{ type: "edit", salon: "Général", id: 0, text: "x" }, "invalid"],
      [{ type: "edit", salon: "Général", id: -3, text: "x" }, "invalid"],
      [{ type: "edit", salon: "Général", id: 2 ** 60, text: "x" }, "invalid"],
      [{ type: "edit", salon: "Général", text: "x" }, "invalid"],
      [{ type: "edit", salon: "Général", id: mine }, "invalid"],
      [{ type: "edit", salon: "Général", id: mine, text: 42 }, "invalid"],
      [{ type: "edit", salon: "Général", id: mine, text: "" }, "invalid"],
      [{ type: "edit", salon: "Général", id: mine, text: "   " }, "invalid"],
      [{ type: "edit", salon: "Général", id: mine, text: "x".repeat(2001) }, "too_long"],
      [{ type: "edit", salon: "Général", id: mine, text: "bad\u0000byte" }, "invalid"],
      [{ type: "edit", salon: "Général", id: mine, text: "\u202Eevil" }, "invalid"],
      [{ type: "edit", id: mine, text: "x" }, "invalid"],
      [{ type: "edit", salon: "Général", with: "bob", id: mine, text: "x" }, "invalid"],
      [{ type: "edit", salon: ["Général"], id: mine, text: "x" }, "invalid"],
      [{ type: "edit", with: "nobody_here", id: direct, text: "x" }, "unknown_user"],
      // delete
      [{ type: "delete", salon: "Général", id: bobs }, "forbidden"],
      [{ type: "delete", salon: "Général", id: 999 }, "not_found"],
      [{ type: "delete", salon: "Nowhere", id: mine }, "unknown_salon"],
      [{ type: "delete", salon: "Général", id: "7" }, "invalid"],
      [{ type: "delete", salon: "Général", id: null }, "invalid"],
      [{ type: "delete", salon: "Général", id: mine, reason: "r".repeat(10_000) }, "invalid"],
      [{ type: "delete", salon: "Général", id: mine, reason: 5 }, "invalid"],
      [{ type: "delete", salon: "Général", id: mine, reason: "a\u0007b" }, "invalid"],
      [{ type: "delete", id: mine }, "invalid"],
      // someone else's conversation: not found, whether the id exists or not
      [{ type: "delete", with: "bob", id: direct }, "not_found"],
      [{ type: "delete", with: "mallory", id: direct }, "not_found"],
      [{ type: "delete", with: "mallory", id: direct + 1000 }, "not_found"],
      [{ type: "edit", with: "mallory", id: direct, text: "x" }, "not_found"],
      // report
      [{ type: "report", salon: "Général", id: mine }, "forbidden"],
      [{ type: "report", salon: "Général", id: 999 }, "not_found"],
      [{ type: "report", salon: "Nowhere", id: bobs }, "unknown_salon"],
      [{ type: "report", salon: "Marketing", id: 1 }, "not_member"],
      [{ type: "report", with: "bob", id: direct }, "invalid"],
      [{ type: "report", salon: "Général", with: "bob", id: bobs }, "invalid"],
      [{ type: "report", salon: "Général", id: bobs, reason: "r".repeat(10_000) }, "invalid"],
      [{ type: "report", salon: "Général", id: bobs, reason: ["x"] }, "invalid"],
      [{ type: "report", salon: "Général", id: "2" }, "invalid"],
      [{ type: "report", salon: "Général" }, "invalid"],
      // moderator frames from a member
      [{ type: "reports" }, "forbidden"],
      [{ type: "resolve_report", report: 1 }, "forbidden"],
      [{ type: "resolve_report", report: "1" }, "invalid"],
      [{ type: "resolve_report" }, "invalid"],
    ];
    for (const [frame, code] of cases) {
      const reply = await refused(a.client, frame, code);
      assert.ok(reply.message.length < 300, JSON.stringify(reply));
    }
    // A moderator: hostile resolutions.
    for (
      const [frame, code] of [
        [{ type: "resolve_report", report: 4242 }, "not_found"],
        [{ type: "resolve_report", report: 0 }, "invalid"],
        [{ type: "resolve_report", report: 1, note: "n".repeat(10_000) }, "invalid"],
        [{ type: "resolve_report", report: 1, note: {} }, "invalid"],
        // A moderator cannot delete a direct message they are not in.
        [{ type: "delete", with: "bob", id: direct }, "not_found"],
      ] as Array<[Record<string, unknown>, string]>
    ) await refused(mod.client, frame, code);
    // mallory, a side of the direct conversation, cannot delete bob's direct message either.
    await refused(m.client, { type: "delete", with: "bob", id: direct }, "forbidden");
    await refused(m.client, { type: "edit", with: "bob", id: direct, text: "x" }, "forbidden");

    for (const client of [a.client, m.client, mod.client]) await assertServed(client);
    assert.equal(await snapshot(store, general, [mine, bobs]), before, "nothing changed");
    const dm = await store.messageFacts({
      kind: "direct",
      userA: (await store.userByName("bob"))!.id,
      userB: (await store.userByName("mallory"))!.id,
      id: direct,
    });
    assert.deepEqual([dm?.text, dm?.deleted], ["secret", false]);
    assert.equal(
      b.client.frames.some((f) => f.type === "edited" || f.type === "deleted"),
      false,
    );
  } finally {
    await srv.stop();
  }
});

Deno.test("edit and report spend the message bucket (rate_limited when empty, nothing stored); delete does not", async () => {
  const srv = await startTestServer({
    CAUSERIE_RATE_BURST: "3",
    CAUSERIE_RATE_PER_SECOND: "0.001",
  });
  try {
    await users(srv, "alice", "bob");
    const a = await login(srv, "alice");
    const b = await login(srv, "bob");
    const id = await say(a.client, "Général", "one");
    const other = await say(b.client, "Général", "two");
    // alice: 1 token spent on say, 2 left.
    assert.equal(
      (await a.client.request({ type: "edit", salon: "Général", id, text: "1" })).type,
      "ok",
    );
    assert.equal(
      (await a.client.request({ type: "report", salon: "Général", id: other })).type,
      "ok",
    );
    await refused(a.client, { type: "edit", salon: "Général", id, text: "2" }, "rate_limited");
    await refused(a.client, { type: "report", salon: "Général", id: other }, "rate_limited");
    const store = srv.server.store;
    const general = (await store.listSalons()).find((s) => s.name === "Général")!.id;
    assert.equal((await store.messageFacts({ kind: "salon", salonId: general, id }))?.text, "1");
    assert.equal((await a.client.request({ type: "delete", salon: "Général", id })).type, "ok");
  } finally {
    await srv.stop();
  }
});
