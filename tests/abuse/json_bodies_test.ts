/**
 * Issue 9, item 3: event-loop stall by nested JSON. `/api` and `/admin`
 * bodies are capped at 16 KiB (413), must be sent as `application/json`
 * (415), and their nesting is checked on the text before `JSON.parse`; the
 * same depth rule holds for WebSocket frames.
 */

import assert from "node:assert/strict";
import { assertError, bearer, loginOk, registerOk, testApp } from "../helpers.ts";
import { assertErrorFrame, assertServed, startTestServer } from "../ws_client.ts";

const PW = "victim password";

/** Runs `fn` while counting the calls to JSON.parse. */
async function countingParses<T>(fn: () => T | Promise<T>): Promise<{ result: T; parses: number }> {
  const original = JSON.parse;
  let parses = 0;
  JSON.parse =
    ((text: string, reviver?: (this: unknown, key: string, value: unknown) => unknown) => {
      parses++;
      return original(text, reviver);
    }) as typeof JSON.parse;
  try {
    const result = await fn();
    return { result, parses };
  } finally {
    JSON.parse = original;
  }
}

Deno.test("a body over 16 KiB is refused with 413 too_long, declared or not", async () => {
  const t = await testApp();
  try {
    const body = { username: "victim", password: "p".repeat(17 * 1024) };
    assertError(await t.request("POST", "/api/login", body), 413, "too_long", {
      mentions: "16384",
    });
    // Declared larger than the limit: refused before reading, on any /api or /admin route.
    for (const path of ["/api/login", "/api/logout", "/admin/announce"]) {
      assertError(
        await t.request("POST", path, "{}", { "content-length": "20000" }),
        413,
        "too_long",
      );
    }
  } finally {
    await t.close();
  }
});

Deno.test("a body not sent as application/json is refused with 415 invalid", async () => {
  const t = await testApp();
  try {
    await registerOk(t, "victim", "Victim", PW);
    const json = JSON.stringify({ username: "victim", password: PW });
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]) {
      const res = await t.request("POST", "/api/login", json, { "content-type": type });
      assertError(res, 415, "invalid", { mentions: "application/json" });
    }
    // No Content-Type at all (bytes, so nothing adds one).
    const bare = await t.app.request("/api/login", {
      method: "POST",
      body: new TextEncoder().encode(json),
    }, { remoteAddr: { hostname: "127.0.0.1" } });
    assert.equal(bare.status, 415);
    assert.equal((await bare.json()).error.code, "invalid");
    // JSON, with or without a UTF-8 charset, is read.
    for (
      const type of ["application/json", "application/json; charset=utf-8", "Application/JSON"]
    ) {
      const res = await t.request("POST", "/api/login", json, { "content-type": type });
      assert.equal(res.status, 200, `${type}: ${res.text}`);
    }
    // A bodyless request needs no Content-Type.
    const token = await loginOk(t, "victim", PW);
    const out = await t.app.request("/api/logout", {
      method: "POST",
      headers: bearer(token),
    }, { remoteAddr: { hostname: "127.0.0.1" } });
    assert.equal(out.status, 204);
  } finally {
    await t.close();
  }
});

Deno.test("nesting deeper than 32 is refused with 400 before JSON.parse runs", async () => {
  const t = await testApp();
  try {
    const deep = `{"username":"victim","password":${"[".repeat(2000)}${"]".repeat(2000)}}`;
    const { result: res, parses } = await countingParses(() =>
      t.app.request("/api/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: deep,
      }, { remoteAddr: { hostname: "127.0.0.1" } })
    );
    const body = await res.json();
    assert.equal(res.status, 400);
    assert.equal(body.error.code, "invalid");
    assert.match(body.error.message, /deeper than 32/);
    assert.equal(parses, 0, "the body was parsed before its depth was checked");
    // Brackets inside strings do not count.
    const inString = await t.request("POST", "/api/login", {
      username: "victim",
      password: "[".repeat(100),
    });
    assertError(inString, 401, "bad_credentials");
  } finally {
    await t.close();
  }
});

Deno.test("a WebSocket frame nested deeper than 32 gets error invalid; the socket goes on", async () => {
  const srv = await startTestServer();
  try {
    const client = await srv.connect("deep");
    client.send({ type: "register", username: "deep", alias: "Deep", password: PW });
    await client.next((f) => f.type === "welcome");
    const ref = "nested";
    client.sendRaw(`{"type":"ping","ref":"${ref}","x":${"[".repeat(5000)}${"]".repeat(5000)}}`);
    const reply = await client.next((f) => f.type === "error");
    assertErrorFrame(reply, "invalid", undefined);
    assert.match(reply.message, /deeper than 32/);
    await assertServed(client);
  } finally {
    await srv.stop();
  }
});
