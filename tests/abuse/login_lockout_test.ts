/**
 * Issue 9, item 8: login lockout as denial of service. The hard block is per
 * (username, address); per username, attempts only wait (1 s, 2 s, 4 s ... at
 * most 30 s) and the right password still gets in; per address the limit is
 * generous enough for a NAT. `CAUSERIE_TRUSTED_PROXIES` says whose
 * `X-Forwarded-For`/`Forwarded` is believed. Failures and lockouts go to the
 * security log.
 */

import assert from "node:assert/strict";
import { parseTrustedProxies } from "../../lib/proxies.ts";
import { createSecurityLog } from "../../lib/security_log.ts";
import { clientAddressFrom } from "../../lib/proxies.ts";
import { assertError, loginOk, manualClock, registerOk, testApp } from "../helpers.ts";

const PW = "the right password";

/** A fake wait that records each delay and lets the clock move by it. */
function recordingSleep(clock: { advance(ms: number): void }) {
  const waits: number[] = [];
  return {
    waits,
    sleep: (ms: number) => {
      waits.push(ms);
      clock.advance(ms);
      return Promise.resolve();
    },
  };
}

Deno.test("guessing admin's password from elsewhere never locks admin out: attempts only wait", async () => {
  const clock = manualClock();
  const { waits, sleep } = recordingSleep(clock);
  const t = await testApp({ now: clock.now, sleep });
  try {
    await registerOk(t, "boss", "Boss", PW);
    // Ten attackers, each from its own address, three guesses each.
    for (let i = 0; i < 30; i++) {
      const res = await t.request(
        "POST",
        "/api/login",
        { username: "boss", password: `guess ${i}` },
        {},
        `198.51.100.${i % 10}`,
      );
      assertError(res, 401, "bad_credentials");
    }
    // The first five failures cost nothing; then 1 s, 2 s, 4 s ... capped at 30 s.
    assert.deepEqual(waits.slice(0, 6), [1000, 2000, 4000, 8000, 16000, 30000]);
    assert.ok(waits.every((w) => w <= 30_000));
    // The owner, from home, waits 30 s and gets in.
    waits.length = 0;
    await loginOk(t, "boss", PW, "192.0.2.50");
    assert.deepEqual(waits, [30_000]);
  } finally {
    await t.close();
  }
});

Deno.test("the hard block is per (username, address): 5 failures block that pair only", async () => {
  const clock = manualClock();
  const t = await testApp({ now: clock.now });
  try {
    await registerOk(t, "vic", "Vic", PW);
    await registerOk(t, "neighbour", "Neighbour", PW);
    for (let i = 0; i < 5; i++) {
      assertError(
        await t.request(
          "POST",
          "/api/login",
          { username: "vic", password: `x${i}` },
          {},
          "10.1.1.1",
        ),
        401,
        "bad_credentials",
      );
    }
    const blocked = await t.request(
      "POST",
      "/api/login",
      { username: "vic", password: PW },
      {},
      "10.1.1.1",
    );
    assertError(blocked, 429, "rate_limited");
    assert.match(blocked.headers.get("retry-after") ?? "", /^[1-9]\d*$/);
    // Same address, other user: fine. Same user, other address: fine.
    await loginOk(t, "neighbour", PW, "10.1.1.1");
    await loginOk(t, "vic", PW, "10.1.1.2");
  } finally {
    await t.close();
  }
});

Deno.test("one address behind which people mistype does not lock everyone behind it out", async () => {
  const t = await testApp();
  try {
    await registerOk(t, "office", "Office", PW);
    // Fifty colleagues behind one NAT each mistype once (twenty used to lock the address).
    for (let i = 0; i < 50; i++) {
      assertError(
        await t.request(
          "POST",
          "/api/login",
          { username: `colleague${i}`, password: "oops" },
          {},
          "203.0.113.10",
        ),
        401,
        "bad_credentials",
      );
    }
    await loginOk(t, "office", PW, "203.0.113.10");
  } finally {
    await t.close();
  }
});

Deno.test("CAUSERIE_TRUSTED_PROXIES: only a trusted proxy's forwarding headers are believed", async () => {
  const clock = manualClock();
  const t = await testApp({ now: clock.now, trustedProxies: parseTrustedProxies("10.0.0.1") });
  try {
    await registerOk(t, "pat", "Pat", PW);
    const viaProxy = (password: string, header: Record<string, string>) =>
      t.request("POST", "/api/login", { username: "pat", password }, header, "10.0.0.1");
    // One client behind the proxy fails five times: that client is blocked...
    for (let i = 0; i < 5; i++) {
      assertError(
        await viaProxy(`no${i}`, { "x-forwarded-for": "203.0.113.5" }),
        401,
        "bad_credentials",
      );
    }
    assertError(await viaProxy(PW, { "x-forwarded-for": "203.0.113.5" }), 429, "rate_limited");
    // ... another client behind the same proxy is not (X-Forwarded-For or Forwarded).
    assert.equal((await viaProxy(PW, { "x-forwarded-for": "203.0.113.6" })).status, 200);
    assert.equal(
      (await viaProxy(PW, { forwarded: 'for="[2001:db8::7]:4711";proto=https' })).status,
      200,
    );
    // A client that is not a trusted proxy cannot choose its address with the header.
    const direct = (password: string, i: number) =>
      t.request(
        "POST",
        "/api/login",
        { username: "pat", password },
        { "x-forwarded-for": `192.0.2.${i}` },
        "198.51.100.99",
      );
    for (let i = 0; i < 5; i++) assertError(await direct(`no${i}`, i), 401, "bad_credentials");
    assertError(await direct(PW, 77), 429, "rate_limited");
  } finally {
    await t.close();
  }
});

Deno.test("the client address: right-most untrusted hop, from either server's env shape", async () => {
  const trusted = parseTrustedProxies("10.0.0.0/8, ::1");
  const h = (o: Record<string, string>) => new Headers(o);
  assert.equal(
    clientAddressFrom(
      "10.0.0.2",
      h({ "x-forwarded-for": "6.6.6.6, 203.0.113.9, 10.0.0.3" }),
      trusted,
    ),
    "203.0.113.9",
  );
  assert.equal(
    clientAddressFrom("192.0.2.1", h({ "x-forwarded-for": "6.6.6.6" }), trusted),
    "192.0.2.1",
  );
  assert.equal(
    clientAddressFrom(
      "::ffff:10.0.0.2",
      h({ forwarded: "for=192.0.2.60;proto=http, for=10.1.1.1" }),
      trusted,
    ),
    "192.0.2.60",
  );
  assert.equal(clientAddressFrom("::1", h({ forwarded: 'for="_hidden"' }), trusted), "::1");
  assert.throws(() => parseTrustedProxies("10.0.0.0/33"), /not an address range/);
  assert.throws(() => parseTrustedProxies("proxy.local"), /not an IP address/);

  // The security log shows the address found, whether the app runs on Deno.serve
  // (c.env.remoteAddr) or on node:http through @hono/node-server (c.env.incoming.socket).
  const lines: string[] = [];
  const t = await testApp({
    trustedProxies: trusted,
    securityLog: createSecurityLog((line) => lines.push(line)),
  });
  try {
    const body = JSON.stringify({ username: "nobody", password: "wrong password" });
    const init = () => ({
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": "203.0.113.77" },
      body,
    });
    await t.app.request("/api/login", init(), { remoteAddr: { hostname: "10.0.0.5" } });
    await t.app.request("/api/login", init(), {
      incoming: { socket: { remoteAddress: "10.0.0.6" } },
      outgoing: {},
    });
    await t.app.request("/api/login", init(), {
      incoming: { socket: { remoteAddress: "192.0.2.200" } },
      outgoing: {},
    });
    const failed = lines.map((l) => JSON.parse(l)).filter((r) => r.event === "login_failed");
    assert.deepEqual(failed.map((r) => r.address), ["203.0.113.77", "203.0.113.77", "192.0.2.200"]);
  } finally {
    await t.close();
  }
});

Deno.test("failed logins and lockouts are in the security log, without passwords", async () => {
  const lines: string[] = [];
  const t = await testApp({ securityLog: createSecurityLog((line) => lines.push(line)) });
  try {
    await registerOk(t, "lou", "Lou", PW);
    for (let i = 0; i < 6; i++) {
      await t.request(
        "POST",
        "/api/login",
        { username: "lou", password: `secret${i}` },
        {},
        "10.2.2.2",
      );
    }
    const records = lines.map((l) => JSON.parse(l)).filter((r) => r.event !== "register");
    assert.deepEqual(records.map((r) => [r.event, r.outcome, r.detail]), [
      ["login_failed", "refused", "wrong_password"],
      ["login_failed", "refused", "wrong_password"],
      ["login_failed", "refused", "wrong_password"],
      ["login_failed", "refused", "wrong_password"],
      ["login_failed", "refused", "wrong_password"],
      ["lockout", "started", "username_and_address"],
      ["lockout", "started", "username_delay"],
      ["login_throttled", "refused", "username_and_address"],
    ]);
    assert.ok(records.every((r) => r.username === "lou" && r.address === "10.2.2.2"));
    assert.ok(lines.every((l) => !l.includes("secret")), "no password in the security log");
  } finally {
    await t.close();
  }
});
