/** The browser client's pure helpers: text segments, colours, rows, token storage, API errors. */

import assert from "node:assert/strict";
import { call } from "../web/core/api.ts";
import { clearToken, loadToken, saveToken } from "../web/core/auth_storage.ts";
import { colourOf, COLOURS, rows, segments } from "../web/core/format.ts";

Deno.test("segments: HTML stays text, links and the server's mentions are marked, own mention flagged", () => {
  assert.deepEqual(segments("<img src=x onerror=alert(1)>"), [
    { kind: "text", text: "<img src=x onerror=alert(1)>" },
  ]);
  assert.deepEqual(
    segments(
      "see https://example.org/a?b=1. @Bob and @alice, mail x@bob",
      ["bob", "alice"],
      "alice",
    ),
    [
      { kind: "text", text: "see " },
      { kind: "link", text: "https://example.org/a?b=1", href: "https://example.org/a?b=1" },
      { kind: "text", text: ". " },
      { kind: "mention", text: "@Bob", me: false },
      { kind: "text", text: " and " },
      { kind: "mention", text: "@alice", me: true },
      { kind: "text", text: ", mail x@bob" },
    ],
  );
  assert.deepEqual(segments("@carol is not a member", ["bob"]), [
    { kind: "text", text: "@carol is not a member" },
  ]);
  assert.deepEqual(segments("javascript:alert(1)"), [{
    kind: "text",
    text: "javascript:alert(1)",
  }]);
});

Deno.test("colourOf: stable, case-blind, within the palette", () => {
  assert.equal(colourOf("Alice"), colourOf("alice"));
  for (const u of ["a", "bob", "carol", "dave"]) {
    assert.ok(colourOf(u) >= 0 && colourOf(u) < COLOURS);
  }
});

Deno.test("rows: day separators, one divider above the marker (not before one's own), grouping", () => {
  const m = (id: number, who: string, at: string) => ({
    id,
    from: { username: who, alias: who },
    text: "t",
    at,
  });
  const r = rows(
    [
      m(1, "bob", "2026-11-23T12:00:00.000Z"),
      m(2, "bob", "2026-11-24T12:00:00.000Z"),
      m(3, "bob", "2026-11-24T12:01:00.000Z"),
      m(4, "alice", "2026-11-24T12:02:00.000Z"),
      m(5, "bob", "2026-11-24T12:03:00.000Z"),
      m(6, "bob", "2026-11-24T12:30:00.000Z"),
    ],
    3,
    "alice",
  );
  assert.deepEqual(
    r.map((x) => x.kind === "message" ? `${x.item.id}${x.grouped ? "g" : ""}` : x.kind),
    [
      "day",
      "1",
      "day",
      "2",
      "3g",
      "4",
      "divider",
      "5",
      "6",
    ],
  );
  assert.equal(
    rows([m(1, "bob", "2026-11-24T12:00:00.000Z")], null, "a").some((x) => x.kind === "divider"),
    false,
  );
});

Deno.test("token storage: the tab's session by default, localStorage only with remember me", () => {
  const mem = () => {
    const m = new Map<string, string>();
    return {
      getItem: (k: string) => m.get(k) ?? null,
      setItem: (k: string, v: string) => void m.set(k, v),
      removeItem: (k: string) => void m.delete(k),
      m,
    };
  };
  const s = { session: mem(), local: mem() };
  saveToken(s, "t1", false);
  assert.equal(s.local.m.size, 0);
  assert.equal(loadToken(s), "t1");
  saveToken(s, "t2", true);
  assert.equal(loadToken({ session: mem(), local: s.local }), "t2", "remembered across tabs");
  clearToken(s);
  assert.equal(loadToken(s), null);
});

Deno.test("api: errors come back in words with their field; 429 says how long to wait", async () => {
  const answer = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    (() =>
      Promise.resolve(new Response(JSON.stringify(body), { status, headers }))) as typeof fetch;
  const taken = await call(
    answer(409, { error: { code: "alias_taken", message: "taken" } }),
    "/api/register",
    {},
    [
      "username",
      "alias",
    ],
  );
  assert.deepEqual(taken, {
    ok: false,
    problem: { code: "alias_taken", message: "taken", field: "alias" },
  });
  const invalid = await call(
    answer(400, { error: { code: "invalid", message: "password must be at least 8 characters" } }),
    "/api/register",
    {},
    ["username", "alias", "password"],
  );
  assert.equal(!invalid.ok && invalid.problem.field, "password");
  const slow = await call(
    answer(429, { error: { code: "rate_limited", message: "slow" } }, { "Retry-After": "42" }),
    "/api/login",
    {},
    [],
  );
  assert.equal(!slow.ok && slow.problem.retryAfter, 42);
  assert.match(!slow.ok ? slow.problem.message : "", /wait 42 s/);
  const kicked = await call(
    answer(403, { error: { code: "banned", message: "no", until: "2026-11-24T10:05:00.000Z" } }),
    "/api/login",
    {},
    [],
  );
  assert.match(!kicked.ok ? kicked.problem.message : "", /kicked until/);
  const down = await call(
    (() => Promise.reject(new TypeError("x"))) as typeof fetch,
    "/api/login",
    {},
    [],
  );
  assert.equal(!down.ok && down.problem.code, "network");
});
