/**
 * Edit, delete and reports over real sockets (PROTOCOL.md 5.4): `edited` and
 * `deleted` reach everyone who can see the message, history shows the edit
 * time and the tombstone, the text is erased from the database, reports
 * reach moderators online and are resolved once; the edit window at its
 * exact boundary with an injected clock.
 */

import assert from "node:assert/strict";
import { manualClock } from "./helpers.ts";
import { assertErrorFrame, type Frame, startTestServer, type TestClient } from "./ws_client.ts";
import { login, users } from "./ws_users.ts";

/** `say` and wait for its `ok`; returns the new id. */
export async function say(client: TestClient, salon: string, text: string): Promise<number> {
  const ok = await client.request({ type: "say", salon, text });
  assert.equal(ok.type, "ok", JSON.stringify(ok));
  return ok.id;
}

/** The whole history of a salon or conversation (at most 200 messages). */
export async function history(
  client: TestClient,
  target: { salon: string } | { with: string },
): Promise<Frame[]> {
  const reply = await client.request({ type: "history", ...target, limit: 200 });
  assert.equal(reply.type, "history", JSON.stringify(reply));
  return reply.messages;
}

/** Makes a registered user a moderator (or admin) in the store, before they log in. */
export async function promote(
  srv: Awaited<ReturnType<typeof startTestServer>>,
  name: string,
  role: "moderator" | "admin" = "moderator",
): Promise<void> {
  const user = await srv.server.store.userByName(name);
  await srv.server.store.setRole(user!.id, role);
}

Deno.test("edit: the author within the window; every online member gets edited; history carries editedAt and the new mentions", async () => {
  const clock = manualClock();
  const srv = await startTestServer({}, { hub: { now: clock.now } });
  try {
    await users(srv, "alice", "bob", "carol");
    const a = await login(srv, "alice");
    const b = await login(srv, "bob");
    const c = await login(srv, "carol");
    const id = await say(a.client, "Général", "hello @bob");
    clock.advance(60_000);
    const ok = await a.client.request({ type: "edit", salon: "Général", id, text: "hello @carol" });
    const editedAt = new Date(clock.now()).toISOString();
    assert.deepEqual({ ...ok, ref: undefined }, { type: "ok", ref: undefined, id, editedAt });
    for (const client of [a.client, b.client, c.client]) {
      const frame = await client.next((f) => f.type === "edited");
      assert.deepEqual(frame, {
        type: "edited",
        salon: "Général",
        id,
        text: "hello @carol",
        editedAt,
        mentions: ["carol"],
      });
    }
    const [item] = await history(b.client, { salon: "Général" });
    assert.equal(item.text, "hello @carol");
    assert.equal(item.editedAt, editedAt);
    assert.deepEqual(item.mentions, ["carol"]);
    // The welcome's unread mentions follow the edit.
    const c2 = await login(srv, "carol", "carol2");
    const general = c2.welcome.salons.find((s: Frame) => s.name === "Général");
    assert.equal(general.mentions, 1);
  } finally {
    await srv.stop();
  }
});

Deno.test("edit window: at exactly CAUSERIE_EDIT_MINUTES the author may edit, one millisecond later forbidden, nothing changed", async () => {
  const clock = manualClock();
  const srv = await startTestServer({ CAUSERIE_EDIT_MINUTES: "2" }, { hub: { now: clock.now } });
  try {
    await users(srv, "alice", "bob");
    const a = await login(srv, "alice");
    const b = await login(srv, "bob");
    const first = await say(a.client, "Général", "first");
    const second = await say(a.client, "Général", "second");
    clock.advance(2 * 60_000);
    const ok = await a.client.request({ type: "edit", salon: "Général", id: first, text: "1st" });
    assert.equal(ok.type, "ok", JSON.stringify(ok));
    clock.advance(1);
    const late = await a.client.request(
      { type: "edit", salon: "Général", id: second, text: "2nd", ref: "late" },
    );
    assertErrorFrame(late, "forbidden", "late");
    assert.match(late.message, /2 minutes/);
    const items = await history(b.client, { salon: "Général" });
    assert.deepEqual(items.map((m) => [m.text, m.editedAt === undefined]), [
      ["1st", false],
      ["second", true],
    ]);
  } finally {
    await srv.stop();
  }
});

Deno.test("edit with CAUSERIE_EDIT_MINUTES=0: forbidden at once, nothing changed; delete still works", async () => {
  const srv = await startTestServer({ CAUSERIE_EDIT_MINUTES: "0" });
  try {
    await users(srv, "alice");
    const a = await login(srv, "alice");
    const id = await say(a.client, "Général", "as sent");
    const reply = await a.client.request(
      { type: "edit", salon: "Général", id, text: "changed", ref: "e0" },
    );
    assertErrorFrame(reply, "forbidden", "e0");
    assert.match(reply.message, /editing is turned off/);
    assert.equal((await history(a.client, { salon: "Général" }))[0].text, "as sent");
    const ok = await a.client.request({ type: "delete", salon: "Général", id });
    assert.equal(ok.type, "ok");
  } finally {
    await srv.stop();
  }
});

Deno.test("delete: the author; members get deleted; history shows a tombstone; the text is erased from the database; ids are never reused", async () => {
  const srv = await startTestServer();
  try {
    await users(srv, "alice", "bob");
    const a = await login(srv, "alice");
    const b = await login(srv, "bob");
    const id = await say(a.client, "Général", "a secret @bob");
    const ok = await a.client.request({ type: "delete", salon: "Général", id, ref: "d1" });
    assert.deepEqual(ok, { type: "ok", ref: "d1", id });
    for (const client of [a.client, b.client]) {
      assert.deepEqual(await client.next((f) => f.type === "deleted"), {
        type: "deleted",
        salon: "Général",
        id,
      });
    }
    const [item] = await history(b.client, { salon: "Général" });
    assert.deepEqual(Object.keys(item).sort(), ["at", "deleted", "id"]);
    assert.equal(item.deleted, true);
    assert.equal(item.id, id);
    // Erased, not hidden: the row holds no text any more.
    const general = (await srv.server.store.listSalons()).find((s) => s.name === "Général")!;
    const facts = await srv.server.store.messageFacts({ kind: "salon", salonId: general.id, id });
    assert.equal(facts?.text, "");
    const next = await say(a.client, "Général", "next");
    assert.equal(next, id + 1);
    // A deleted message cannot be edited.
    const edit = await a.client.request(
      { type: "edit", salon: "Général", id, text: "back", ref: "e" },
    );
    assertErrorFrame(edit, "forbidden", "e");
  } finally {
    await srv.stop();
  }
});

Deno.test("direct messages: edited and deleted reach both sides, with naming the other side as each receiver sees it", async () => {
  const srv = await startTestServer();
  try {
    await users(srv, "alice", "bob", "mallory");
    const a = await login(srv, "alice");
    const b = await login(srv, "bob");
    const m = await login(srv, "mallory");
    const ok = await a.client.request({ type: "direct", to: "bob", text: "psst" });
    const id = ok.id;
    const edit = await a.client.request({ type: "edit", with: "bob", id, text: "psst!" });
    assert.equal(edit.type, "ok", JSON.stringify(edit));
    const onA = await a.client.next((f) => f.type === "edited");
    const onB = await b.client.next((f) => f.type === "edited");
    assert.equal(onA.with, "bob");
    assert.equal(onB.with, "alice");
    assert.equal(onB.text, "psst!");
    // The other side cannot edit or delete it.
    assertErrorFrame(
      await b.client.request({ type: "edit", with: "alice", id, text: "x", ref: "be" }),
      "forbidden",
      "be",
    );
    assertErrorFrame(
      await b.client.request({ type: "delete", with: "alice", id, ref: "bd" }),
      "forbidden",
      "bd",
    );
    // Someone outside the conversation: not_found, whichever name they give.
    for (const other of ["alice", "bob"]) {
      assertErrorFrame(
        await m.client.request({ type: "delete", with: other, id, ref: "md" }),
        "not_found",
        "md",
      );
    }
    const del = await a.client.request({ type: "delete", with: "bob", id });
    assert.equal(del.type, "ok");
    assert.deepEqual(await b.client.next((f) => f.type === "deleted"), {
      type: "deleted",
      with: "alice",
      id,
    });
    const [item] = await history(b.client, { with: "alice" });
    assert.deepEqual(item, { id, at: item.at, deleted: true });
    assert.equal(m.client.frames.some((f) => f.type === "edited" || f.type === "deleted"), false);
  } finally {
    await srv.stop();
  }
});

Deno.test("moderator delete: any salon message, an admin's too; audited with the author's name; a member may not", async () => {
  const srv = await startTestServer();
  try {
    await users(srv, "alice", "bob", "mod", "boss");
    await promote(srv, "mod");
    await promote(srv, "boss", "admin");
    const a = await login(srv, "alice");
    const b = await login(srv, "bob");
    const mod = await login(srv, "mod");
    const boss = await login(srv, "boss");
    const id = await say(a.client, "Général", "rude");
    const byAdmin = await say(boss.client, "Général", "admin words");
    assertErrorFrame(
      await b.client.request({ type: "delete", salon: "Général", id, ref: "x" }),
      "forbidden",
      "x",
    );
    const ok = await mod.client.request(
      { type: "delete", salon: "Général", id, reason: "be nice" },
    );
    assert.equal(ok.type, "ok", JSON.stringify(ok));
    assert.equal((await b.client.next((f) => f.type === "deleted")).id, id);
    const ok2 = await mod.client.request({ type: "delete", salon: "Général", id: byAdmin });
    assert.equal(ok2.type, "ok", JSON.stringify(ok2));
    const audit = await srv.server.store.listAudit(10);
    assert.deepEqual(
      audit.filter((e) => e.action === "delete_message").map((e) => [e.actor, e.target, e.reason]),
      [["mod", `boss@Général#${byAdmin}`, ""], ["mod", `alice@Général#${id}`, "be nice"]],
    );
    // The author's own delete is not audited.
    const own = await say(a.client, "Général", "mine");
    await a.client.request({ type: "delete", salon: "Général", id: own });
    assert.equal(
      (await srv.server.store.listAudit(10)).filter((e) => e.action === "delete_message").length,
      2,
    );
  } finally {
    await srv.stop();
  }
});

Deno.test("report: stored once per reporter, moderators online get it, reports lists it, resolve closes it once", async () => {
  const clock = manualClock();
  const srv = await startTestServer({}, { hub: { now: clock.now } });
  try {
    await users(srv, "alice", "bob", "mod");
    await promote(srv, "mod");
    const a = await login(srv, "alice");
    const b = await login(srv, "bob");
    const mod = await login(srv, "mod");
    const id = await say(a.client, "Général", "rude words");
    const at = new Date(clock.now()).toISOString();
    const ok = await b.client.request(
      { type: "report", salon: "Général", id, reason: "insult", ref: "r1" },
    );
    assert.equal(ok.type, "ok", JSON.stringify(ok));
    assert.equal(typeof ok.report, "number");
    const expected = {
      id: ok.report,
      salon: "Général",
      message: { id, from: { username: "alice", alias: "Alice" }, text: "rude words", at },
      by: { username: "bob", alias: "Bob" },
      reason: "insult",
      at,
    };
    assert.deepEqual(await mod.client.next((f) => f.type === "report"), {
      type: "report",
      report: expected,
    });
    // A second report changes nothing: ok again, no new frame, one report listed.
    const again = await b.client.request({ type: "report", salon: "Général", id, reason: "x" });
    assert.deepEqual([again.type, again.report], ["ok", ok.report]);
    const listed = await mod.client.request({ type: "reports", ref: "l" });
    assert.deepEqual(listed, { type: "reports", open: [expected], ref: "l" });
    assert.equal(mod.client.frames.filter((f) => f.type === "report").length, 1);
    assert.equal(a.client.frames.some((f) => f.type === "report"), false);
    // Members cannot list or resolve.
    assertErrorFrame(await b.client.request({ type: "reports", ref: "m" }), "forbidden", "m");
    assertErrorFrame(
      await b.client.request({ type: "resolve_report", report: ok.report, ref: "m2" }),
      "forbidden",
      "m2",
    );
    const resolved = await mod.client.request(
      { type: "resolve_report", report: ok.report, note: "warned", ref: "v" },
    );
    assert.deepEqual(resolved, { type: "ok", ref: "v" });
    assert.deepEqual(await mod.client.next((f) => f.type === "report_resolved"), {
      type: "report_resolved",
      report: ok.report,
      by: { username: "mod", alias: "Mod" },
    });
    assertErrorFrame(
      await mod.client.request({ type: "resolve_report", report: ok.report, ref: "v2" }),
      "not_found",
      "v2",
    );
    assert.deepEqual((await mod.client.request({ type: "reports" })).open, []);
    const audit = (await srv.server.store.listAudit(5)).find((e) => e.action === "resolve_report");
    assert.equal(audit?.actor, "mod");
    assert.equal(audit?.reason, "warned");
    assert.match(audit!.target, new RegExp(`alice@Général#${id}`));
  } finally {
    await srv.stop();
  }
});
