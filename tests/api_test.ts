/**
 * The account API of PROTOCOL.md section 1, through `app.request()`.
 */

import assert from "node:assert/strict";
import {
  assertError,
  bearer,
  loginOk,
  manualClock,
  registerOk,
  type TestApp,
  testApp,
  type TestAppOptions,
} from "./helpers.ts";
import { Accounts } from "../auth/accounts.ts";
import { createLogger } from "../lib/log.ts";
import { createApp } from "../routes/app.ts";
import { openSqliteStore } from "../store/sqlite.ts";

const PW = "correct horse battery";

/** Runs `fn` with a fresh app and closes its store afterwards. */
async function withApp(
  fn: (t: TestApp) => Promise<void>,
  opts: TestAppOptions = {},
): Promise<void> {
  const t = await testApp(opts);
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

function register(t: TestApp, username: string, alias: string, password = PW) {
  return t.request("POST", "/api/register", { username, alias, password });
}

function login(t: TestApp, username: string, password: string, address?: string) {
  return t.request("POST", "/api/login", { username, password }, {}, address);
}

function assertRetryAfter(res: { headers: Headers }, max = 60): number {
  const value = res.headers.get("retry-after");
  assert.ok(value !== null, "Retry-After header missing");
  assert.match(value, /^[1-9][0-9]*$/);
  assert.ok(Number(value) <= max, `Retry-After ${value} > ${max}`);
  return Number(value);
}

Deno.test("register: 201 with exactly {user:{username,alias,role:member}}", async () => {
  await withApp(async (t) => {
    const res = await register(t, "Alice_01", "Alice in Wonderland");
    assert.equal(res.status, 201, res.text);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    assert.deepEqual(res.body, {
      user: { username: "Alice_01", alias: "Alice in Wonderland", role: "member" },
    });
  });
});

Deno.test("register: case variants of a username are taken (409 username_taken)", async () => {
  await withApp(async (t) => {
    await registerOk(t, "Alice", "Alice", PW);
    for (const name of ["alice", "ALICE", "aLiCe"]) {
      assertError(await register(t, name, `other ${name}`), 409, "username_taken");
    }
    // The username is checked before the alias.
    assertError(await register(t, "alice", "Alice"), 409, "username_taken");
    assertError(await register(t, "bob", "ALICE"), 409, "alias_taken");
    assertError(await register(t, "bob", "alice"), 409, "alias_taken");
    assert.equal(await t.store.userByName("bob"), undefined);
  });
});

Deno.test("register: the reserved names admin and server are refused", async () => {
  await withApp(async (t) => {
    for (const name of ["admin", "Admin", "ADMIN", "server", "Server", "SERVER"]) {
      assertError(await register(t, name, `alias of ${name}`), 409, "username_taken");
      assert.equal(await t.store.userByName(name), undefined);
    }
    for (const alias of ["admin", "Server"]) {
      assertError(await register(t, "carol", alias), 409, "alias_taken");
    }
    assert.equal(await t.store.userByName("carol"), undefined);
  });
});

Deno.test("register: aliases compare after NFC and lower-casing, accents matter", async () => {
  await withApp(async (t) => {
    const decomposed = "Ame\u0301lie";
    const user = await registerOk(t, "amelie", decomposed, PW);
    // The alias is stored in NFC (protocol/fields.ts): same text, composed.
    assert.equal(user.alias, "Am\u00e9lie");
    assertError(await register(t, "amelie2", "Am\u00e9lie"), 409, "alias_taken");
    assertError(await register(t, "amelie3", "AM\u00c9LIE"), 409, "alias_taken");
    assertError(await register(t, "amelie4", "AME\u0301LIE"), 409, "alias_taken");
    // Accents matter: these two are different names.
    assert.equal((await registerOk(t, "gen1", "G\u00e9n\u00e9ral", PW)).alias, "G\u00e9n\u00e9ral");
    assert.equal((await registerOk(t, "gen2", "General", PW)).alias, "General");
    assert.equal((await registerOk(t, "amelia", "Amelie", PW)).alias, "Amelie");
  });
});

Deno.test("register: length rules count Unicode characters, bounds included", async () => {
  await withApp(async (t) => {
    const emoji = "\u{1f600}";
    // Accepted at the bounds (aliases counted after NFC, passwords in code points).
    await registerOk(t, "abc", "a", "12345678");
    await registerOk(t, "a.b-c_d" + "x".repeat(25), emoji.repeat(64), emoji.repeat(8));
    await registerOk(t, "nfc_alias", "e\u0301".repeat(64), "p".repeat(256));
    const bad: [Record<string, string>, string][] = [
      [{ username: "ab" }, "username"],
      [{ username: "x".repeat(33) }, "username"],
      [{ username: "caf\u00e9" }, "username"],
      [{ username: "with space" }, "username"],
      [{ alias: emoji.repeat(65) }, "alias"],
      [{ alias: "" }, "alias"],
      [{ password: "1234567" }, "password"],
      [{ password: emoji.repeat(7) }, "password"],
      [{ password: "p".repeat(257) }, "password"],
    ];
    for (const [change, field] of bad) {
      const body = { username: "fresh", alias: "Fresh", password: PW, ...change };
      assertError(await t.request("POST", "/api/register", body), 400, "invalid", {
        mentions: field,
      });
    }
    assert.equal(await t.store.userByName("fresh"), undefined);
    assertError(await login(t, "abc", "p".repeat(257)), 400, "invalid", { mentions: "password" });
    assertError(await login(t, "abc", ""), 400, "invalid", { mentions: "password" });
  });
});

Deno.test("register: two concurrent registrations of one username, one wins", async () => {
  await withApp(async (t) => {
    const [a, b] = await Promise.all([register(t, "racer", "Racer A"), register(t, "RACER", "B")]);
    const statuses = [a.status, b.status].sort();
    assert.deepEqual(statuses, [201, 409], `${a.text} ${b.text}`);
    assertError(a.status === 409 ? a : b, 409, "username_taken");
  });
});

Deno.test("login: 200 {token, user}, case-insensitive username, distinct tokens", async () => {
  await withApp(async (t) => {
    await registerOk(t, "Dora", "Dora the Explorer", PW);
    const res = await login(t, "Dora", PW);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.keys(res.body!).sort(), ["token", "user"]);
    assert.deepEqual(res.body!.user, {
      username: "Dora",
      alias: "Dora the Explorer",
      role: "member",
    });
    const token = res.body!.token!;
    assert.match(token, /^[A-Za-z0-9_-]{22,}$/);

    const again = await login(t, "dORA", PW);
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body!.user!.username, "Dora");
    assert.notEqual(again.body!.token, token);

    const me = await t.request("GET", "/api/me", undefined, bearer(token));
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body!.user!.username, "Dora");
  });
});

Deno.test("login: wrong password and unknown user are the same 401 bad_credentials", async () => {
  await withApp(async (t) => {
    await registerOk(t, "erin", "Erin", PW);
    const wrong = await login(t, "erin", "not the password");
    const unknown = await login(t, "nobody", PW);
    assertError(wrong, 401, "bad_credentials");
    assertError(unknown, 401, "bad_credentials");
    assert.equal(wrong.body!.error!.message, unknown.body!.error!.message);
  });
});

Deno.test("login: a kicked user gets 403 banned with until, then may return", async () => {
  const clock = manualClock();
  await withApp(async (t) => {
    await registerOk(t, "frank", "Frank", PW);
    const user = (await t.store.userByName("frank"))!;
    const until = clock.now() + 5 * 60_000;
    await t.store.addSanction(
      { userId: user.id, kind: "kick", until, reason: "spam", createdAt: clock.now() },
      null,
    );
    const res = await login(t, "frank", PW);
    assertError(res, 403, "banned", { withUntil: true });
    assert.equal(res.body!.error!.until, new Date(until).toISOString());
    assert.match(res.body!.error!.until!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // A wrong password still gets 401: a sanction is only revealed to the owner.
    assertError(await login(t, "frank", "wrong password"), 401, "bad_credentials");
    clock.advance(5 * 60_000);
    await loginOk(t, "frank", PW);
  }, { now: clock.now });
});

Deno.test("login: a banned user gets 403 banned without until", async () => {
  await withApp(async (t) => {
    await registerOk(t, "gina", "Gina", PW);
    const user = (await t.store.userByName("gina"))!;
    await t.store.addSanction(
      { userId: user.id, kind: "ban", until: null, reason: "", createdAt: Date.now() },
      null,
    );
    const res = await login(t, "gina", PW);
    assertError(res, 403, "banned");
    assert.equal("until" in res.body!.error!, false);
  });
});

Deno.test("tokens expire after 30 days without use; use keeps them alive", async () => {
  const clock = manualClock();
  const day = 24 * 60 * 60 * 1000;
  await withApp(async (t) => {
    await registerOk(t, "quentin", "Quentin", PW);
    const used = await loginOk(t, "quentin", PW);
    const idle = await loginOk(t, "quentin", PW);
    clock.advance(29 * day);
    assert.equal((await t.request("GET", "/api/me", undefined, bearer(used))).status, 200);
    clock.advance(29 * day);
    assert.equal((await t.request("GET", "/api/me", undefined, bearer(used))).status, 200);
    assertError(await t.request("GET", "/api/me", undefined, bearer(idle)), 401, "unauthenticated");
    assertError(
      await t.request("POST", "/api/logout", undefined, bearer(idle)),
      401,
      "unauthenticated",
    );
  }, { now: clock.now });
});

Deno.test("password: 204, every token revoked, the new password replaces the old", async () => {
  await withApp(async (t) => {
    await registerOk(t, "hugo", "Hugo", PW);
    const token = await loginOk(t, "hugo", PW);
    const other = await loginOk(t, "hugo", PW);
    const next = "a brand new secret";
    const res = await t.request("POST", "/api/password", { current: PW, next }, bearer(token));
    assert.equal(res.status, 204, res.text);
    assert.equal(res.text, "");
    for (const tok of [token, other]) {
      assertError(
        await t.request("GET", "/api/me", undefined, bearer(tok)),
        401,
        "unauthenticated",
      );
    }
    assertError(await login(t, "hugo", PW), 401, "bad_credentials");
    const fresh = await loginOk(t, "hugo", next);
    assert.equal(
      (await t.request("GET", "/api/me", undefined, bearer(fresh))).status,
      200,
    );
  });
});

Deno.test("password: wrong current 401, short next 400, no bearer 401", async () => {
  await withApp(async (t) => {
    await registerOk(t, "ines", "Ines", PW);
    const token = await loginOk(t, "ines", PW);
    const auth = bearer(token);
    assertError(
      await t.request(
        "POST",
        "/api/password",
        { current: "not it at all", next: "long enough" },
        auth,
      ),
      401,
      "bad_credentials",
    );
    assertError(
      await t.request("POST", "/api/password", { current: PW, next: "short" }, auth),
      400,
      "invalid",
      { mentions: "next" },
    );
    assertError(
      await t.request("POST", "/api/password", { current: PW, next: "long enough" }),
      401,
      "unauthenticated",
    );
    // Nothing changed: the token still works and so does the old password.
    assert.equal((await t.request("GET", "/api/me", undefined, auth)).status, 200);
    await loginOk(t, "ines", PW);
  });
});

Deno.test("logout: 204, the token is revoked, a second logout is 401", async () => {
  await withApp(async (t) => {
    await registerOk(t, "jules", "Jules", PW);
    const token = await loginOk(t, "jules", PW);
    const other = await loginOk(t, "jules", PW);
    const res = await t.request("POST", "/api/logout", undefined, bearer(token));
    assert.equal(res.status, 204, res.text);
    assert.equal(res.text, "");
    assertError(
      await t.request("GET", "/api/me", undefined, bearer(token)),
      401,
      "unauthenticated",
    );
    assertError(
      await t.request("POST", "/api/logout", undefined, bearer(token)),
      401,
      "unauthenticated",
    );
    assertError(await t.request("POST", "/api/logout"), 401, "unauthenticated");
    // Only that token: the other session lives on.
    assert.equal((await t.request("GET", "/api/me", undefined, bearer(other))).status, 200);
  });
});

Deno.test("me: the user and the five default salons, member of Général only", async () => {
  await withApp(async (t) => {
    await registerOk(t, "karim", "Karim", PW);
    const token = await loginOk(t, "karim", PW);
    const res = await t.request("GET", "/api/me", undefined, bearer(token));
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.keys(res.body!).sort(), ["salons", "user"]);
    assert.deepEqual(res.body!.user, { username: "karim", alias: "Karim", role: "member" });
    const salon = (name: string, policy: string, member: boolean) => ({
      name,
      policy,
      member,
      pending: false,
      online: 0,
      members: member ? 1 : 0,
      presence: "push",
      slowModeSeconds: 0, // PROTOCOL 5.4
    });
    assert.deepEqual(res.body!.salons, [
      salon("G\u00e9n\u00e9ral", "auto", true),
      salon("Blabla", "open", false),
      salon("Comptabilit\u00e9", "approval", false),
      salon("Informatique", "approval", false),
      salon("Marketing", "approval", false),
    ]);
    assertError(await t.request("GET", "/api/me"), 401, "unauthenticated");
  });
});

Deno.test("unknown routes and methods get a 404 JSON error body", async () => {
  await withApp(async (t) => {
    for (
      const [method, path] of [
        ["GET", "/nope"],
        ["GET", "/api/login"],
        ["POST", "/api/me"],
        ["DELETE", "/api/register"],
        ["GET", "/api"],
        ["GET", "/api/me/extra"],
      ]
    ) {
      assertError(await t.request(method, path), 404, "not_found");
    }
  });
});

Deno.test("healthz 200; readyz 200, then 503 once the store is closed", async () => {
  await withApp(async (t) => {
    const health = await t.request("GET", "/healthz");
    assert.equal(health.status, 200, health.text);
    const ready = await t.request("GET", "/readyz");
    assert.equal(ready.status, 200, ready.text);
    await t.close();
    const down = await t.request("GET", "/readyz");
    assert.equal(down.status, 503, down.text);
    assert.equal((await t.request("GET", "/healthz")).status, 200);
  });
});

Deno.test("login during the shutdown countdown: 503 shutting_down", async () => {
  let stopping = false;
  await withApp(async (t) => {
    await registerOk(t, "rita", "Rita", PW);
    const token = await loginOk(t, "rita", PW);
    stopping = true;
    assertError(await login(t, "rita", PW), 503, "shutting_down");
    assert.equal((await t.request("GET", "/readyz")).status, 503);
    // Sessions already open go on.
    assert.equal((await t.request("GET", "/api/me", undefined, bearer(token))).status, 200);
  }, { isShuttingDown: () => stopping });
});

Deno.test("an internal failure is a 500 internal error body, logged without secrets", async () => {
  const lines: string[] = [];
  const store = await openSqliteStore(":memory:");
  try {
    const accounts = new Accounts({ store });
    const app = createApp({ store, accounts, log: createLogger("debug", (l) => lines.push(l)) });
    const post = (path: string, body: unknown) =>
      app.request(path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const secret = "sam secret pw";
    const reg = await post("/api/register", { username: "sam", alias: "Sam", password: secret });
    assert.equal(reg.status, 201, await reg.text());
    await store.close();
    const res = await post("/api/login", { username: "sam", password: secret });
    assert.equal(res.status, 500);
    const body = await res.json();
    assert.deepEqual(Object.keys(body), ["error"]);
    assert.deepEqual(Object.keys(body.error).sort(), ["code", "message"]);
    assert.equal(body.error.code, "internal");
    assert.ok(lines.length > 0);
    assert.ok(lines.every((l) => !l.includes(secret)), lines.join("\n"));
  } finally {
    await store.close();
  }
});

// Issue 9 item 8 changed the contract: the hard block is per (username, address) pair; the
// username alone only slows further attempts down (see tests/abuse/login_lockout_test.ts).
Deno.test("throttle: 5 failures for a username from one address give 429 with Retry-After", async () => {
  const clock = manualClock();
  await withApp(async (t) => {
    await registerOk(t, "lena", "Lena", PW);
    await registerOk(t, "marc", "Marc", PW);
    for (let i = 0; i < 5; i++) {
      assertError(await login(t, "lena", `wrong ${i}`, "10.0.0.1"), 401, "bad_credentials");
    }
    for (const name of ["lena", "LENA"]) {
      const res = await login(t, name, PW, "10.0.0.1");
      assertError(res, 429, "rate_limited");
      assert.equal(assertRetryAfter(res, 900), 900);
    }
    // Another username from the same address is not affected, nor the same one from elsewhere.
    await loginOk(t, "marc", PW, "10.0.0.1");
    await loginOk(t, "lena", PW, "10.0.1.1");
    clock.advance(900_000);
    await loginOk(t, "lena", PW, "10.0.0.1");
  }, { now: clock.now });
});

Deno.test("throttle: the window slides, failures expire one by one", async () => {
  const clock = manualClock();
  await withApp(async (t) => {
    await registerOk(t, "nina", "Nina", PW);
    for (let i = 0; i < 5; i++) {
      assertError(await login(t, "nina", "wrong password"), 401, "bad_credentials");
      clock.advance(10_000);
    }
    // Failures at 0, 10, 20, 30, 40 s; now 50 s: the one at 0 s leaves at 900 s.
    let res = await login(t, "nina", PW);
    assertError(res, 429, "rate_limited");
    assert.equal(assertRetryAfter(res, 900), 850);
    clock.advance(849_999);
    assert.equal(assertRetryAfter(await login(t, "nina", PW)), 1);
    clock.advance(1);
    // At 900 s only four failures remain in the window: one more try is allowed.
    assertError(await login(t, "nina", "wrong again"), 401, "bad_credentials");
    clock.advance(1_000);
    res = await login(t, "nina", PW);
    assertError(res, 429, "rate_limited");
    assert.equal(assertRetryAfter(res), 9);
    clock.advance(9_000);
    await loginOk(t, "nina", PW);
  }, { now: clock.now });
});

Deno.test("throttle: 100 failures from one address block it, not other addresses", async () => {
  const clock = manualClock();
  await withApp(async (t) => {
    await registerOk(t, "oscar", "Oscar", PW);
    for (let i = 0; i < 100; i++) {
      assertError(await login(t, `ghost${i}`, PW, "192.0.2.7"), 401, "bad_credentials");
    }
    const blocked = await login(t, "oscar", PW, "192.0.2.7");
    assertError(blocked, 429, "rate_limited");
    assertRetryAfter(blocked, 900);
    assertError(await login(t, "ghost999", PW, "192.0.2.7"), 429, "rate_limited");
    await loginOk(t, "oscar", PW, "192.0.2.8");
    clock.advance(900_000);
    await loginOk(t, "oscar", PW, "192.0.2.7");
  }, { now: clock.now });
});

Deno.test("throttle: wrong current passwords count as failed logins", async () => {
  await withApp(async (t) => {
    await registerOk(t, "paula", "Paula", PW);
    const token = await loginOk(t, "paula", PW);
    for (let i = 0; i < 5; i++) {
      const res = await t.request(
        "POST",
        "/api/password",
        { current: `guess number ${i}`, next: "whatever long" },
        bearer(token),
      );
      assertError(res, 401, "bad_credentials");
    }
    // The pair (paula, 127.0.0.1) is blocked; from elsewhere paula waits, then gets in.
    assertError(await login(t, "paula", PW), 429, "rate_limited");
    assert.equal(t.accounts.usernameDelayMs("paula"), 1000);
    await loginOk(t, "paula", PW, "10.9.9.9");
  });
});

// Attempts checked in parallel must not slip past the limit before their failures are counted
// (issue 9: per (username, address) pair and per address, at 5 and 100).
Deno.test("throttle: concurrent wrong guesses cannot exceed the limits", async () => {
  await withApp(async (t) => {
    await registerOk(t, "tess", "Tess", PW);
    const perUser = await Promise.all(
      Array.from({ length: 12 }, (_, i) => login(t, "tess", `wrong ${i}`, "10.3.0.1")),
    );
    const userCounts = { 401: 0, 429: 0 } as Record<number, number>;
    for (const res of perUser) {
      if (res.status === 401) assertError(res, 401, "bad_credentials");
      else assertError(res, 429, "rate_limited");
      userCounts[res.status]++;
    }
    const perAddress = await Promise.all(
      Array.from({ length: 110 }, (_, i) => login(t, `ghost${i}`, "some password", "10.4.0.1")),
    );
    const addressCounts = { 401: 0, 429: 0 } as Record<number, number>;
    for (const res of perAddress) {
      if (res.status === 401) assertError(res, 401, "bad_credentials");
      else assertError(res, 429, "rate_limited");
      addressCounts[res.status]++;
    }
    assert.deepEqual({ perUser: userCounts, perAddress: addressCounts }, {
      perUser: { 401: 5, 429: 7 },
      perAddress: { 401: 100, 429: 10 },
    });
  });
});
