/**
 * Issue 9, "Also": security headers on every HTTP response (no sniffing, no
 * referrer, a CSP that allows nothing and no framing, no caching of token
 * answers), and the bootstrap admin password read from a file
 * (`CAUSERIE_ADMIN_PASSWORD_FILE`, a Docker secret).
 */

import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../../config/config.ts";
import { bearer, loginOk, registerOk, testApp } from "../helpers.ts";
import { http, loginHttp, startTestServer } from "../ws_client.ts";

const PW = "a fine password";

function assertSecurityHeaders(headers: Headers, where: string): void {
  assert.equal(headers.get("x-content-type-options"), "nosniff", where);
  assert.equal(headers.get("referrer-policy"), "no-referrer", where);
  assert.equal(
    headers.get("content-security-policy"),
    "default-src 'none'; frame-ancestors 'none'",
    where,
  );
  assert.equal(headers.get("x-frame-options"), "DENY", where);
}

Deno.test("every HTTP answer carries the security headers; token answers are not cached", async () => {
  const t = await testApp();
  try {
    await registerOk(t, "hed", "Hed", PW);
    const login = await t.request("POST", "/api/login", { username: "hed", password: PW });
    assert.equal(login.status, 200);
    assertSecurityHeaders(login.headers, "login");
    assert.equal(login.headers.get("cache-control"), "no-store");
    const token = login.body!.token!;
    const answers = {
      me: await t.request("GET", "/api/me", undefined, bearer(token)),
      badLogin: await t.request("POST", "/api/login", { username: "hed", password: "wrong one" }),
      notFound: await t.request("GET", "/nope"),
      healthz: await t.request("GET", "/healthz"),
      metrics: await t.request("GET", "/metrics"),
      tooLarge: await t.request("POST", "/api/login", "{}", { "content-length": "999999" }),
    };
    for (const [where, res] of Object.entries(answers)) assertSecurityHeaders(res.headers, where);
    assert.equal(answers.me.headers.get("cache-control"), "no-store");
    await loginOk(t, "hed", PW);
  } finally {
    await t.close();
  }
});

Deno.test("CAUSERIE_ADMIN_PASSWORD_FILE: read once, trailing newline stripped, never echoed", () => {
  const files: Record<string, string> = {
    "/run/secrets/admin": "from the file\n",
    "/run/secrets/short": "tiny\n",
  };
  const readFile = (path: string) => {
    if (!(path in files)) throw new Deno.errors.NotFound(`no ${path}`);
    return files[path];
  };
  const config = loadConfig({ CAUSERIE_ADMIN_PASSWORD_FILE: "/run/secrets/admin" }, readFile);
  assert.equal(config.adminPassword, "from the file");

  const refusal = (env: Record<string, string>) => {
    try {
      loadConfig(env, readFile);
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      return e;
    }
    assert.fail(`accepted ${JSON.stringify(env)}`);
  };
  const both = refusal({
    CAUSERIE_ADMIN_PASSWORD: "another one",
    CAUSERIE_ADMIN_PASSWORD_FILE: "/run/secrets/admin",
  });
  assert.equal(both.variable, "CAUSERIE_ADMIN_PASSWORD_FILE");
  assert.match(both.message, /not both/);
  assert.ok(!both.message.includes("another one") && !both.message.includes("from the file"));
  const missing = refusal({ CAUSERIE_ADMIN_PASSWORD_FILE: "/run/secrets/nope" });
  assert.match(missing.message, /^CAUSERIE_ADMIN_PASSWORD_FILE: cannot read \/run\/secrets\/nope/);
  const short = refusal({ CAUSERIE_ADMIN_PASSWORD_FILE: "/run/secrets/short" });
  assert.match(short.message, /at least 8/);
  assert.ok(!short.message.includes("tiny"));
});

Deno.test("a server started with CAUSERIE_ADMIN_PASSWORD_FILE has that admin", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/admin_password`, "secret from docker\n");
    const srv = await startTestServer({ CAUSERIE_ADMIN_PASSWORD_FILE: `${dir}/admin_password` });
    try {
      const token = await loginHttp(srv.url, "admin", "secret from docker");
      const me = await http(srv.url, "GET", "/api/me", undefined, bearer(token));
      assert.equal(me.body!.user.role, "admin");
    } finally {
      await srv.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
