/**
 * Hostile input against the account API: every refusal is a 4xx with the
 * `{"error":{code,message}}` body naming the field at fault, and nothing is
 * changed by it.
 */

import assert from "node:assert/strict";
import { MAX_BODY_BYTES } from "../routes/body.ts";
import {
  assertError,
  bearer,
  loginOk,
  registerOk,
  type RequestBody,
  type TestApp,
  testApp,
  type TestResponse,
} from "./helpers.ts";

const PW = "victim password";
const MB = "x".repeat(1_000_000);
const SQL = ["' OR '1'='1", '"; DROP TABLE users; --', "\\"];
const WRONG_TYPES: unknown[] = [42, 1.5, true, false, {}, { a: 1 }, [], ["x"], null];

interface Endpoint {
  name: string;
  path: string;
  /** A body that would be accepted, to be spoiled one field at a time. */
  valid: Record<string, string>;
  needsAuth: boolean;
}

const REGISTER: Endpoint = {
  name: "register",
  path: "/api/register",
  valid: { username: "newbie", alias: "Newbie", password: "newbie password" },
  needsAuth: false,
};
const LOGIN: Endpoint = {
  name: "login",
  path: "/api/login",
  valid: { username: "victim", password: PW },
  needsAuth: false,
};
const PASSWORD: Endpoint = {
  name: "password",
  path: "/api/password",
  valid: { current: PW, next: "another password" },
  needsAuth: true,
};
const WITH_BODY = [REGISTER, LOGIN, PASSWORD];

interface Ctx {
  t: TestApp;
  token: string;
  send(ep: Endpoint, body: RequestBody, headers?: Record<string, string>): Promise<TestResponse>;
}

/** An app with one user "victim" logged in; checks afterwards that nothing changed. */
async function withVictim(fn: (ctx: Ctx) => Promise<void>): Promise<void> {
  const t = await testApp();
  try {
    await registerOk(t, "victim", "Victim", PW);
    const token = await loginOk(t, "victim", PW);
    const send = (ep: Endpoint, body: RequestBody, headers: Record<string, string> = {}) =>
      t.request("POST", ep.path, body, ep.needsAuth ? { ...bearer(token), ...headers } : headers);
    await fn({ t, token, send });
    // Nothing changed: no stray account, the token and the password still work.
    assert.equal(await t.store.userByName("newbie"), undefined);
    const me = await t.request("GET", "/api/me", undefined, bearer(token));
    assert.equal(me.status, 200, me.text);
    assert.deepEqual(me.body!.user, { username: "victim", alias: "Victim", role: "member" });
    await loginOk(t, "victim", PW, "203.0.113.250");
  } finally {
    await t.close();
  }
}

/** "U+200B U+200E" for display: these characters are invisible. */
function codePoints(s: string): string {
  return [...s].map((c) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`)
    .join(" ");
}

function spoil(ep: Endpoint, field: string, value: unknown): Record<string, unknown> {
  return { ...ep.valid, [field]: value };
}

function without(ep: Endpoint, field: string): Record<string, unknown> {
  const body: Record<string, unknown> = { ...ep.valid };
  delete body[field];
  return body;
}

Deno.test("malformed, empty and non-object bodies: 400 invalid", async () => {
  const bodies = [
    "{",
    '{"username":',
    "not json",
    "{'username':'victim'}",
    '{"username":"victim",}',
    "",
    "   \n",
    "[]",
    "[1,2]",
    "42",
    '"a string"',
    "null",
    "true",
    "NaN",
  ];
  await withVictim(async ({ send }) => {
    for (const ep of WITH_BODY) {
      for (const body of bodies) {
        assertError(await send(ep, body), 400, "invalid");
      }
      assertError(await send(ep, undefined), 400, "invalid");
      assertError(await send(ep, [ep.valid]), 400, "invalid");
    }
  });
});

Deno.test("wrong types and missing fields: 400 invalid naming the field", async () => {
  await withVictim(async ({ send }) => {
    for (const ep of WITH_BODY) {
      for (const field of Object.keys(ep.valid)) {
        for (const value of WRONG_TYPES) {
          assertError(await send(ep, spoil(ep, field, value)), 400, "invalid", {
            mentions: field,
          });
        }
        assertError(await send(ep, without(ep, field)), 400, "invalid", { mentions: field });
      }
      assertError(await send(ep, {}), 400, "invalid");
    }
  });
});

// Issue 9: bodies are capped at 16 KiB, so a 1 MB string is now a 413; a string that fits
// the body but not the field still gets the precise 400.
Deno.test("long strings in each field: 400 invalid naming the field; 1 MB: 413", async () => {
  const long = "x".repeat(15_000);
  await withVictim(async ({ send }) => {
    for (const ep of WITH_BODY) {
      for (const field of Object.keys(ep.valid)) {
        assertError(await send(ep, spoil(ep, field, long)), 400, "invalid", { mentions: field });
        assertError(await send(ep, spoil(ep, field, MB)), 413, "too_long");
      }
    }
  });
});

Deno.test("bodies over 16 KiB: 413 too_long; exactly 16 KiB is read", async () => {
  await withVictim(async ({ send }) => {
    for (const ep of WITH_BODY) {
      const field = Object.keys(ep.valid)[0];
      assertError(
        await send(ep, spoil(ep, field, "y".repeat(MAX_BODY_BYTES + 10))),
        413,
        "too_long",
      );
      // A declared length over the limit is refused before reading.
      assertError(await send(ep, "{}", { "content-length": "99999999" }), 413, "too_long");
      // The boundary: MAX_BODY_BYTES bytes get a precise 400, one more byte a 413.
      const frame = JSON.stringify(spoil(ep, field, ""));
      const fill = MAX_BODY_BYTES - new TextEncoder().encode(frame).byteLength;
      const exact = JSON.stringify(spoil(ep, field, "z".repeat(fill)));
      assert.equal(exact.length, MAX_BODY_BYTES);
      assertError(await send(ep, exact), 400, "invalid", { mentions: field });
      assertError(await send(ep, exact + " "), 413, "too_long");
    }
  });
});

Deno.test("invalid UTF-8 bodies: 400 invalid", async () => {
  const enc = new TextEncoder();
  const spliced = (prefix: string, bad: number[], suffix: string) =>
    new Uint8Array([...enc.encode(prefix), ...bad, ...enc.encode(suffix)]);
  await withVictim(async ({ send }) => {
    for (const ep of WITH_BODY) {
      const [first, ...rest] = Object.keys(ep.valid);
      const tail = rest.map((f) => `,"${f}":"${ep.valid[f]}"`).join("") + "}";
      for (
        const bad of [[0xff], [0xfe, 0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80]]
      ) {
        assertError(await send(ep, spliced(`{"${first}":"ab`, bad, `cd"${tail}`)), 400, "invalid");
      }
      assertError(await send(ep, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), 400, "invalid");
      // A sequence cut short at the very end of the body.
      assertError(
        await send(ep, spliced(JSON.stringify(ep.valid), [0xe2, 0x82], "")),
        400,
        "invalid",
      );
    }
  });
});

// Issue 9: a huge nesting no longer fits the 16 KiB body (413); within the size, nesting past
// 32 levels is refused before parsing (400 saying so), and a nesting within it gets the
// precise 400 naming the field.
Deno.test("huge nesting: 413 or 400 invalid, no crash", async () => {
  const depth = 200_000;
  await withVictim(async ({ send }) => {
    for (const ep of WITH_BODY) {
      const field = Object.keys(ep.valid)[0];
      assertError(await send(ep, "[".repeat(depth) + "]".repeat(depth)), 413, "too_long");
      assertError(await send(ep, "[".repeat(depth)), 413, "too_long");
      for (const deep of [33, 2_000]) {
        assertError(await send(ep, "[".repeat(deep) + "]".repeat(deep)), 400, "invalid", {
          mentions: "deeper than 32",
        });
        assertError(await send(ep, "[".repeat(deep)), 400, "invalid", { mentions: "deeper" });
        const nested = `{"${field}":${'{"a":'.repeat(deep)}1${"}".repeat(deep)}}`;
        assertError(await send(ep, nested), 400, "invalid", { mentions: "deeper" });
      }
      const nested = `{"${field}":${'{"a":'.repeat(30)}1${"}".repeat(30)}}`;
      assertError(await send(ep, nested), 400, "invalid", { mentions: field });
      const arrays = `{"${field}":${"[".repeat(31)}${"]".repeat(31)}}`;
      assertError(await send(ep, arrays), 400, "invalid", { mentions: field });
    }
  });
});

Deno.test("__proto__ and other extra keys neither fill fields nor grant a role", async () => {
  await withVictim(async ({ t, send }) => {
    for (const ep of WITH_BODY) {
      const first = Object.keys(ep.valid)[0];
      const body = `{"__proto__":${JSON.stringify(ep.valid)}}`;
      assertError(await send(ep, body), 400, "invalid", { mentions: first });
      const ctor = `{"constructor":{"prototype":${JSON.stringify(ep.valid)}}}`;
      assertError(await send(ep, ctor), 400, "invalid", { mentions: first });
    }
    const sneaky = JSON.stringify({ username: "sneaky", alias: "Sneaky", password: PW }).slice(
      0,
      -1,
    ) +
      ',"role":"admin","__proto__":{"role":"admin"},"constructor":{"prototype":{"role":"admin"}}}';
    const res = await t.request("POST", "/api/register", sneaky);
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body!.user!.role, "member");
    assert.equal((await t.store.userByName("sneaky"))!.role, "member");
    const login = await t.request("POST", "/api/login", { username: "sneaky", password: PW });
    assert.equal(login.body!.user!.role, "member");
    // No prototype pollution.
    assert.equal(({} as Record<string, unknown>).role, undefined);
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, "role"), false);
  });
});

Deno.test("control characters in an alias: 400 invalid naming alias", async () => {
  const bad = ["\u0000", "\u001b", "\u202e", "\n", "\r", "\t", "\u007f", "\u0085", "\u2028"];
  bad.push("\u2066", "\ud800", "\udc00");
  await withVictim(async ({ t }) => {
    for (const c of bad) {
      for (const alias of [c, `Bob${c}`, `${c}Bob`, `Bo${c}b`]) {
        const res = await t.request("POST", "/api/register", spoil(REGISTER, "alias", alias));
        assertError(res, 400, "invalid", { mentions: "alias" });
      }
    }
    // Whitespace-only and padded aliases are refused too.
    for (const alias of ["", " ", " Bob", "Bob ", "\u3000"]) {
      const res = await t.request("POST", "/api/register", spoil(REGISTER, "alias", alias));
      assertError(res, 400, "invalid", { mentions: "alias" });
    }
  });
});

// PROTOCOL.md: "alias 1–64 printable characters"; an alias of invisible format
// characters only (category Cf) has no printable character at all.
Deno.test("an alias made only of invisible format characters is refused", async () => {
  await withVictim(async ({ t }) => {
    const invisible = ["\u200b", "\u200e", "\u200f", "\u2060", "\u00ad", "\u{e0001}"];
    const accepted: string[] = [];
    for (const [i, alias] of [...invisible, "\u200b\u200b\u200b"].entries()) {
      const body = { username: `invisible${i}`, alias, password: PW };
      const res = await t.request("POST", "/api/register", body);
      if (res.status === 400) assertError(res, 400, "invalid", { mentions: "alias" });
      else accepted.push(`${codePoints(alias)} -> ${res.status}`);
    }
    assert.deepEqual(accepted, []);
    // Visible text joined by a format character (an emoji ZWJ sequence) is fine.
    await registerOk(t, "coder", "\u{1f469}\u200d\u{1f4bb}", PW);
  });
});

Deno.test("SQL metacharacters: refused as usernames, stored verbatim as aliases", async () => {
  await withVictim(async ({ t, send }) => {
    for (const s of SQL) {
      assertError(await send(REGISTER, spoil(REGISTER, "username", s)), 400, "invalid", {
        mentions: "username",
      });
      assertError(await send(LOGIN, spoil(LOGIN, "username", s)), 400, "invalid", {
        mentions: "username",
      });
    }
    for (const [i, alias] of [...SQL, "%", "_", "%'%"].entries()) {
      // Metacharacters in the password too (padded to the minimum length).
      const password = `${alias}${"\\'\"".repeat(3)}`;
      const user = await registerOk(t, `sql_${i}`, alias, password);
      assert.equal(user.alias, alias);
      const res = await t.request("POST", "/api/login", { username: `sql_${i}`, password });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body!.user!.alias, alias);
      const me = await t.request("GET", "/api/me", undefined, bearer(res.body!.token!));
      assert.equal(me.body!.user!.alias, alias);
    }
    // LIKE wildcards in usernames match nothing but themselves.
    await registerOk(t, "a_c", "Underscore", "underscore pw");
    await registerOk(t, "abc", "Plain", "plain password");
    assertError(
      await t.request("POST", "/api/login", { username: "a_c", password: "plain password" }),
      401,
      "bad_credentials",
    );
    // As passwords of the victim: plain wrong passwords (4, under the throttle).
    for (const s of SQL) {
      assertError(await send(LOGIN, spoil(LOGIN, "password", s)), 401, "bad_credentials");
    }
    assertError(
      await send(PASSWORD, spoil(PASSWORD, "current", SQL[0])),
      401,
      "bad_credentials",
    );
    assertError(await send(PASSWORD, spoil(PASSWORD, "next", "\\")), 400, "invalid", {
      mentions: "next",
    });
    // The users table is still there and still holds the victim.
    assert.equal((await t.store.userByName("victim"))?.username, "victim");
  });
});

Deno.test("a SQL-looking new password is stored and works", async () => {
  const t = await testApp();
  try {
    await registerOk(t, "walter", "Walter", PW);
    const token = await loginOk(t, "walter", PW);
    const next = SQL[1];
    const res = await t.request("POST", "/api/password", { current: PW, next }, bearer(token));
    assert.equal(res.status, 204, res.text);
    await loginOk(t, "walter", next);
    assertError(
      await t.request("POST", "/api/login", { username: "walter", password: PW }),
      401,
      "bad_credentials",
    );
  } finally {
    await t.close();
  }
});

Deno.test("weird Authorization headers: 401 unauthenticated on password, logout, me", async () => {
  await withVictim(async ({ t, token }) => {
    const latin1 = (s: string) => String.fromCharCode(...new TextEncoder().encode(s));
    const headers = [
      "",
      "Bearer",
      "Bearer ",
      "Basic x",
      `Basic ${btoa("victim:" + PW)}`,
      `Bearer ${"A".repeat(10 * 1024)}`,
      `Bearer ${"A".repeat(513)}`,
      "Bearer \u00e9\u00e8\u00ff",
      `Bearer ${latin1("jeton\u2713\u{1f600}")}`,
      "Bearer ' OR '1'='1",
      'Bearer "; DROP TABLE sessions; --',
      `Bearer ${token} extra`,
      `Bearer ${token},Bearer ${token}`,
      `Token ${token}`,
      token,
      `Bearer${token}`,
      `Bearer ${token.slice(0, -1)}`,
      `Bearer ${token}x`,
      `Bearer ${token}=`,
    ];
    const nextBody = { current: PW, next: "another password" };
    for (const authorization of headers) {
      const h = { authorization };
      assertError(
        await t.request("POST", "/api/password", nextBody, h),
        401,
        "unauthenticated",
      );
      assertError(await t.request("POST", "/api/logout", undefined, h), 401, "unauthenticated");
      assertError(await t.request("GET", "/api/me", undefined, h), 401, "unauthenticated");
    }
  });
});

Deno.test("logout ignores bodies and me ignores query strings", async () => {
  await withVictim(async ({ t, token }) => {
    // Hostile bodies without a valid token: 401, never 5xx.
    for (const body of ["{", "", "null", '{"token":"' + token + '"}', MB]) {
      assertError(await t.request("POST", "/api/logout", body), 401, "unauthenticated");
    }
    const q = `/api/me?username=${encodeURIComponent(SQL[0])}&token=x&__proto__[role]=admin`;
    const me = await t.request("GET", q, undefined, bearer(token));
    assert.equal(me.status, 200, me.text);
    assert.deepEqual(me.body!.user, { username: "victim", alias: "Victim", role: "member" });
    // With a valid token of its own, a hostile body does not stop a logout.
    const spare = await loginOk(t, "victim", PW);
    const out = await t.request("POST", "/api/logout", "{ not json", bearer(spare));
    assert.equal(out.status, 204, out.text);
    assertError(
      await t.request("GET", "/api/me", undefined, bearer(spare)),
      401,
      "unauthenticated",
    );
  });
});

Deno.test("hostile bodies to password without a valid token: 401 before the body", async () => {
  await withVictim(async ({ t }) => {
    for (const body of ["{", "", "[]", JSON.stringify({ current: 1, next: null }), MB]) {
      assertError(await t.request("POST", "/api/password", body), 401, "unauthenticated");
    }
  });
});
