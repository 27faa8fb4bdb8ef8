/**
 * Issue 9, item 4: unlimited registration. Registrations are limited per
 * address (IPv6 by /64) and overall, answered `429 rate_limited` with
 * `Retry-After` (and `error rate_limited` to a `register` frame); a taken
 * alias is refused before any password hash; `CAUSERIE_REGISTRATION=closed`
 * leaves account creation to administrators. Every outcome is in the
 * security log.
 */

import assert from "node:assert/strict";
import { createSecurityLog } from "../../lib/security_log.ts";
import { assertError, manualClock, registerOk, testApp } from "../helpers.ts";
import { assertErrorFrame, http, loginHttp, startTestServer } from "../ws_client.ts";

const PW = "a fine password";

function register(
  t: Awaited<ReturnType<typeof testApp>>,
  username: string,
  address: string,
  alias = `Alias ${username}`,
) {
  return t.request("POST", "/api/register", { username, alias, password: PW }, {}, address);
}

Deno.test("per address: past the hourly allowance, 429 rate_limited with Retry-After", async () => {
  const clock = manualClock();
  const t = await testApp({ now: clock.now, registration: { perAddressPerHour: 3, perMinute: 0 } });
  try {
    for (let i = 0; i < 3; i++) {
      assert.equal((await register(t, `user${i}`, "198.51.100.7")).status, 201);
    }
    const refused = await register(t, "user3", "198.51.100.7");
    assertError(refused, 429, "rate_limited");
    // 3 per hour: one token every 20 minutes.
    assert.equal(refused.headers.get("retry-after"), "1200");
    assert.equal(await t.store.userByName("user3"), undefined);
    // Another address is not affected; an IPv6 /64 counts as one address.
    assert.equal((await register(t, "other", "198.51.100.8")).status, 201);
    for (let i = 0; i < 3; i++) {
      assert.equal((await register(t, `six${i}`, `2001:db8:1:2::${i + 1}`)).status, 201);
    }
    assertError(await register(t, "six3", "2001:db8:1:2:ffff::9"), 429, "rate_limited");
    assert.equal((await register(t, "six4", "2001:db8:1:3::1")).status, 201);
    // The bucket refills.
    clock.advance(1_200_000);
    assert.equal((await register(t, "user3", "198.51.100.7")).status, 201);
    assertError(await register(t, "user4", "198.51.100.7"), 429, "rate_limited");
  } finally {
    await t.close();
  }
});

Deno.test("overall: past the per-minute allowance, every address gets 429", async () => {
  const clock = manualClock();
  const t = await testApp({ now: clock.now, registration: { perAddressPerHour: 0, perMinute: 2 } });
  try {
    assert.equal((await register(t, "first", "192.0.2.1")).status, 201);
    assert.equal((await register(t, "second", "192.0.2.2")).status, 201);
    const refused = await register(t, "third", "192.0.2.3");
    assertError(refused, 429, "rate_limited");
    assert.equal(refused.headers.get("retry-after"), "30");
    clock.advance(30_000);
    assert.equal((await register(t, "third", "192.0.2.3")).status, 201);
  } finally {
    await t.close();
  }
});

Deno.test("a taken username or alias costs no allowance: it is refused before the hash", async () => {
  const t = await testApp({ registration: { perAddressPerHour: 2, perMinute: 0 } });
  try {
    assert.equal((await register(t, "alice", "203.0.113.1", "Alice")).status, 201);
    for (let i = 0; i < 5; i++) {
      assertError(await register(t, `bob${i}`, "203.0.113.1", "ALICE"), 409, "alias_taken");
      assertError(await register(t, "Alice", "203.0.113.1", `Bob ${i}`), 409, "username_taken");
    }
    // One allowance left after all those refusals.
    assert.equal((await register(t, "bob", "203.0.113.1", "Bob")).status, 201);
    assertError(await register(t, "carol", "203.0.113.1", "Carol"), 429, "rate_limited");
  } finally {
    await t.close();
  }
});

Deno.test("the register frame goes through the same limit: error rate_limited", async () => {
  const srv = await startTestServer({ CAUSERIE_REGISTER_PER_ADDRESS_PER_HOUR: "1" });
  try {
    const first = await srv.connect("first");
    first.send({ type: "register", username: "first", alias: "First", password: PW });
    assert.equal(
      (await first.next((f) => f.type === "welcome" || f.type === "error")).type,
      "welcome",
    );
    const second = await srv.connect("second");
    second.send({ type: "register", ref: "r", username: "second", alias: "Second", password: PW });
    const reply = await second.next((f) => f.type === "error");
    assertErrorFrame(reply, "rate_limited", "r");
    assert.equal((await second.waitClosed()).code, 4401);
    const over = await http(srv.url, "POST", "/api/register", {
      username: "third",
      alias: "Third",
      password: PW,
    });
    assert.equal(over.status, 429);
    assert.equal(over.body!.error.code, "rate_limited");
    assert.match(over.headers.get("retry-after") ?? "", /^[1-9]\d*$/);
  } finally {
    await srv.stop();
  }
});

Deno.test("CAUSERIE_REGISTRATION=closed: 403 forbidden to strangers, admins still create accounts", async () => {
  const lines: string[] = [];
  const srv = await startTestServer({
    CAUSERIE_REGISTRATION: "closed",
    CAUSERIE_ADMIN_PASSWORD: "admin password",
  }, { securityLog: createSecurityLog((line) => lines.push(line)) });
  try {
    const res = await http(srv.url, "POST", "/api/register", {
      username: "stranger",
      alias: "Stranger",
      password: PW,
    });
    assert.equal(res.status, 403, res.text);
    assert.equal(res.body!.error.code, "forbidden");
    assert.match(res.body!.error.message, /registration is closed; ask an administrator/);

    const client = await srv.connect("stranger");
    client.send({ type: "register", ref: "x", username: "stranger", alias: "S", password: PW });
    const reply = await client.next((f) => f.type === "error");
    assertErrorFrame(reply, "forbidden", "x");
    assert.match(reply.message, /registration is closed/);
    assert.equal((await client.waitClosed()).code, 4401);

    const admin = await loginHttp(srv.url, "admin", "admin password");
    const created = await http(srv.url, "POST", "/admin/users", {
      username: "invited",
      alias: "Invited",
      password: PW,
      role: "member",
    }, { authorization: `Bearer ${admin}` });
    assert.equal(created.status, 201, created.text);
    await loginHttp(srv.url, "invited", PW);

    const registrations = lines.map((l) => JSON.parse(l)).filter((r) => r.event === "register");
    assert.deepEqual(
      registrations.map((r) => [r.username, r.outcome, r.address !== undefined]),
      [["stranger", "refused", true], ["stranger", "refused", true], [
        "invited",
        "accepted",
        false,
      ]],
    );
    assert.ok(lines.every((l) => !l.includes(PW)), "no password in the security log");
  } finally {
    await srv.stop();
  }
});

Deno.test("registrations, accepted and refused, are in the security log", async () => {
  const lines: string[] = [];
  const t = await testApp({
    registration: { perAddressPerHour: 1, perMinute: 0 },
    securityLog: createSecurityLog((line) => lines.push(line)),
  });
  try {
    await registerOk(t, "zed", "Zed", PW);
    assertError(await register(t, "zoe", "127.0.0.1"), 429, "rate_limited");
    const records = lines.map((l) => JSON.parse(l));
    assert.deepEqual(
      records.map((r) => [r.event, r.username, r.address, r.outcome, r.detail]),
      [
        ["register", "zed", "127.0.0.1", "accepted", "self: member"],
        ["register", "zoe", "127.0.0.1", "refused", "self: rate_limited"],
      ],
    );
  } finally {
    await t.close();
  }
});
