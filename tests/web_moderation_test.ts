/**
 * The moderator's tools in the browser client, without a browser: the user
 * search, each action's request on the admin API (with the session's token),
 * refusals shown in words, fields checked before anything is sent.
 */

import assert from "node:assert/strict";
import { ModerationTools, muteOf, sanctionOf, searchUsers } from "../web/core/moderation_tools.ts";
import type { AdminUser } from "../web/core/admin_api.ts";

interface Call {
  method: string;
  url: string;
  auth: string | null;
  body: unknown;
}

const USERS: AdminUser[] = [
  { username: "bob", alias: "Bobby", role: "member", status: "online" },
  { username: "alice", alias: "Alice", role: "moderator", status: "offline" },
  { username: "carol", alias: "Caro", role: "member", status: "offline", banned: true },
];

function fakeFetch(answer: (c: Call) => Response = () => new Response(null, { status: 204 })) {
  const calls: Call[] = [];
  const f = ((url: string, init: RequestInit) => {
    const headers = new Headers(init.headers);
    const c: Call = {
      method: init.method ?? "GET",
      url,
      auth: headers.get("authorization"),
      body: init.body ? JSON.parse(init.body as string) : undefined,
    };
    calls.push(c);
    if (c.method === "GET" && url === "/admin/users") {
      return Promise.resolve(Response.json({ users: USERS }));
    }
    return Promise.resolve(answer(c));
  }) as typeof fetch;
  return { f, calls };
}

const refusal = (status: number, code: string, message: string) =>
  Response.json({ error: { code, message } }, { status });

Deno.test("search finds users by username or alias, case-insensitive, sorted", () => {
  assert.deepEqual(searchUsers(USERS, "").map((u) => u.username), ["alice", "bob", "carol"]);
  assert.deepEqual(searchUsers(USERS, "BOB").map((u) => u.username), ["bob"]);
  assert.deepEqual(searchUsers(USERS, "caro").map((u) => u.username), ["carol"]);
  assert.deepEqual(searchUsers(USERS, "zz"), []);
});

Deno.test("a sanction in force is named", () => {
  assert.equal(sanctionOf(USERS[2]), "banned");
  assert.match(sanctionOf({ ...USERS[0], bannedUntil: "2030-01-01T00:00:00Z" }), /^kicked until /);
  assert.equal(sanctionOf(USERS[0]), "");
});

Deno.test("the user list loads with the session token and the search filters it", async () => {
  const { f, calls } = fakeFetch();
  const tools = new ModerationTools(f, () => "tok");
  await tools.load();
  assert.equal(calls[0].auth, "Bearer tok");
  assert.equal(tools.users.value.length, 3);
  tools.query.value = "ali";
  assert.deepEqual(tools.found.value.map((u) => u.username), ["alice"]);
});

Deno.test("kick sends minutes and reason, says what happened, reloads the list", async () => {
  const { f, calls } = fakeFetch(() => Response.json({ until: "x" }, { status: 200 }));
  const tools = new ModerationTools(f, () => "tok");
  const out = await tools.kick("bob", "2.5", " spam ");
  assert.deepEqual(calls[0], {
    method: "POST",
    url: "/admin/users/bob/kick",
    auth: "Bearer tok",
    body: { minutes: 2.5, reason: "spam" },
  });
  assert.deepEqual(out, { ok: true, message: "bob is kicked for 2.5 minutes." });
  assert.equal(calls[1].url, "/admin/users");
  assert.deepEqual(tools.outcome.value, out);
});

Deno.test("kick without minutes leaves the server's default; bad minutes are refused unsent", async () => {
  const { f, calls } = fakeFetch();
  const tools = new ModerationTools(f, () => "tok");
  await tools.kick("bob", "", "");
  assert.deepEqual(calls[0].body, {});
  for (const bad of ["0", "-1", "abc", "600000"]) {
    const out = await tools.kick("bob", bad, "");
    assert.equal(out.ok, false);
    assert.equal(out.field, "minutes");
  }
  const long = await tools.kick("bob", "1", "x".repeat(501));
  assert.equal(long.field, "reason");
  assert.equal(calls.filter((c) => c.method === "POST").length, 1);
});

Deno.test("the server's rank refusal is shown in its words", async () => {
  const { f } = fakeFetch(() =>
    refusal(403, "forbidden", "a moderator cannot kick a moderator or an admin")
  );
  const tools = new ModerationTools(f, () => "tok");
  const out = await tools.kick("alice", "5", "");
  assert.deepEqual(out, {
    ok: false,
    message: "Not allowed: a moderator cannot kick a moderator or an admin.",
  });
  assert.deepEqual(tools.outcome.value, out);
});

Deno.test("ban sends reason and purge; unban deletes the ban; the path is escaped", async () => {
  const { f, calls } = fakeFetch();
  const tools = new ModerationTools(f, () => "tok");
  const out = await tools.ban("bo/b", "abuse", true);
  assert.deepEqual(calls[0], {
    method: "POST",
    url: "/admin/users/bo%2Fb/ban",
    auth: "Bearer tok",
    body: { reason: "abuse", purge: true },
  });
  assert.match(out.message, /banned and their messages are deleted/);
  await tools.unban("carol");
  const del = calls.find((c) => c.method === "DELETE")!;
  assert.equal(del.url, "/admin/users/carol/ban");
});

Deno.test("announce needs a text; shutdown checks seconds; cancel deletes the countdown", async () => {
  const { f, calls } = fakeFetch();
  const tools = new ModerationTools(f, () => "tok");
  assert.equal((await tools.announce("  ")).field, "text");
  await tools.announce("Maintenance at noon");
  assert.deepEqual(calls[0], {
    method: "POST",
    url: "/admin/announce",
    auth: "Bearer tok",
    body: { text: "Maintenance at noon" },
  });
  for (const bad of ["0", "1.5", "3601", "x"]) {
    assert.equal((await tools.shutdown(bad)).field, "seconds");
  }
  await tools.shutdown("30");
  assert.deepEqual(calls[1].body, { seconds: 30 });
  await tools.shutdown("");
  assert.deepEqual(calls[2].body, {});
  const r = await tools.cancelShutdown();
  assert.deepEqual([calls[3].method, calls[3].url], ["DELETE", "/admin/shutdown"]);
  assert.equal(r.message, "Shutdown cancelled.");
});

Deno.test("a running countdown and nothing-to-cancel are explained", async () => {
  const { f } = fakeFetch((c) =>
    c.method === "POST"
      ? refusal(409, "shutting_down", "already counting down")
      : refusal(409, "invalid", "no shutdown countdown is running")
  );
  const tools = new ModerationTools(f, () => "tok");
  assert.equal((await tools.shutdown("10")).message, "A shutdown countdown is already running.");
  assert.equal((await tools.cancelShutdown()).message, "no shutdown countdown is running.");
});

Deno.test("roles are changed with PUT; an unreachable server is said so", async () => {
  const { f, calls } = fakeFetch();
  const tools = new ModerationTools(f, () => "tok");
  const out = await tools.setRole("bob", "moderator");
  assert.deepEqual([calls[0].method, calls[0].url, calls[0].body], [
    "PUT",
    "/admin/users/bob/role",
    { role: "moderator" },
  ]);
  assert.equal(out.message, "bob is now a moderator.");
  const down = new ModerationTools(
    (() => Promise.reject(new TypeError("x"))) as typeof fetch,
    () => "t",
  );
  assert.match((await down.announce("hi")).message, /cannot be reached/);
});

// --- PROTOCOL 5.4: mute, unmute, slow mode -------------------------------------------------------

Deno.test("mute sends minutes, salon and reason; says where and how long; reloads the list", async () => {
  const { f, calls } = fakeFetch(() => Response.json({ until: "x" }, { status: 200 }));
  const tools = new ModerationTools(f, () => "tok");
  const out = await tools.mute("bob", "15", "Général", " heated ");
  assert.deepEqual(calls[0], {
    method: "POST",
    url: "/admin/users/bob/mute",
    auth: "Bearer tok",
    body: { minutes: 15, salon: "Général", reason: "heated" },
  });
  assert.deepEqual(out, { ok: true, message: "bob is muted in Général for 15 minutes." });
  assert.equal(calls[1].url, "/admin/users");
  const everywhere = await tools.mute("bob", "", undefined, "");
  assert.deepEqual(calls[2].body, {}, "no minutes: the server's default");
  assert.equal(everywhere.message, "bob is muted everywhere for 10 minutes.");
});

Deno.test("mute refuses bad minutes (0, 43201, text) and a long reason without sending", async () => {
  const { f, calls } = fakeFetch();
  const tools = new ModerationTools(f, () => "tok");
  for (const bad of ["0", "-5", "43201", "ten"]) {
    const out = await tools.mute("bob", bad, undefined, "");
    assert.equal(out.field, "minutes", bad);
    assert.match(out.message, /at most 43200/);
  }
  assert.equal((await tools.mute("bob", "43200", undefined, "x".repeat(501))).field, "reason");
  assert.equal(calls.length, 0);
});

Deno.test("unmute deletes the mute, with the salon in the query when given", async () => {
  const { f, calls } = fakeFetch();
  const tools = new ModerationTools(f, () => "tok");
  const out = await tools.unmute("bob", "Général");
  assert.deepEqual([calls[0].method, calls[0].url], [
    "DELETE",
    `/admin/users/bob/mute?salon=${encodeURIComponent("Général")}`,
  ]);
  assert.equal(out.message, "bob may write in Général again.");
  await tools.unmute("bob", undefined);
  assert.equal(calls[2].url, "/admin/users/bob/mute");
});

Deno.test("slow mode is put with whole seconds 0-3600; others are refused unsent", async () => {
  const { f, calls } = fakeFetch();
  const tools = new ModerationTools(f, () => "tok");
  const on = await tools.slowMode("Général", "30");
  assert.deepEqual(calls[0], {
    method: "PUT",
    url: `/admin/salons/${encodeURIComponent("Général")}/slow-mode`,
    auth: "Bearer tok",
    body: { seconds: 30 },
  });
  assert.equal(on.message, "Slow mode in Général: one message every 30 s per member.");
  assert.equal((await tools.slowMode("Général", "0")).message, "Slow mode is off in Général.");
  for (const bad of ["-1", "3601", "1.5", "", "x"]) {
    assert.equal((await tools.slowMode("Général", bad)).field, "seconds", bad);
  }
  assert.equal(calls.length, 2);
});

Deno.test("a mute in force is named", () => {
  assert.equal(muteOf(USERS[0]), "");
  assert.match(
    muteOf({ ...USERS[0], mutedUntil: "2026-11-24T10:00:00.000Z" }),
    /^muted until /,
  );
  assert.match(
    muteOf({
      ...USERS[0],
      mutedUntil: "2026-11-24T10:00:00.000Z",
      mutedIn: [{ salon: "Général", until: "2026-11-24T11:00:00.000Z" }],
    }),
    /^muted until .*, muted in Général until /,
  );
});
