/**
 * The browser client served by the server itself (routes/web.ts), over
 * HTTP: the page with its strict CSP, no-cache and ETag/304, hashed assets
 * cached for a year, brotli/gzip by Accept-Encoding, JSON 404s elsewhere,
 * and a first load under 150 KB compressed, with nothing from outside.
 * `deno task test` builds web/dist/ first (`deno task build`).
 */

import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { Hono } from "hono";
import { securityHeaders } from "../routes/app.ts";
import { acceptedEncodings, PAGE_CSP, webRoutes } from "../routes/web.ts";
import { startTestServer } from "./ws_client.ts";

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  const body = new Uint8Array(await res.arrayBuffer());
  return { res, body, text: new TextDecoder().decode(body) };
}

Deno.test("web: / serves the client with the page CSP, no-cache, an ETag and 304; assets are hashed and immutable", async () => {
  const srv = await startTestServer();
  try {
    const page = await get(`${srv.url}/`, { "accept-encoding": "br, gzip" });
    assert.equal(page.res.status, 200);
    assert.match(page.res.headers.get("content-type")!, /^text\/html/);
    assert.equal(page.res.headers.get("content-encoding"), "br");
    assert.equal(page.res.headers.get("content-security-policy"), PAGE_CSP);
    assert.equal(page.res.headers.get("cache-control"), "no-cache");
    assert.equal(page.res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(page.res.headers.get("x-frame-options"), "DENY");
    assert.match(page.res.headers.get("vary")!, /Accept-Encoding/);
    const etag = page.res.headers.get("etag")!;
    assert.match(etag, /^"[0-9a-f]+"$/);
    assert.match(page.text, /<div id="app">/);
    assert.doesNotMatch(page.text, /<script(?![^>]*\bsrc=)[^>]*>/, "no inline script");
    assert.doesNotMatch(page.text, /\sstyle=|<style/, "no inline style");
    assert.doesNotMatch(page.text, /https?:\/\//, "nothing from another origin");

    const again = await get(`${srv.url}/`, { "if-none-match": etag });
    assert.equal(again.res.status, 304);
    assert.equal(again.body.byteLength, 0);

    const script = /src="(\/assets\/app-([0-9a-f]{12})\.js)"/.exec(page.text)!;
    const styles = /href="(\/assets\/styles-([0-9a-f]{12})\.css)"/.exec(page.text)!;
    assert.ok(script && styles, page.text);
    let total = page.res.headers.get("content-length")
      ? Number(page.res.headers.get("content-length"))
      : 0;
    for (
      const [path, hash, type] of [[script[1], script[2], "text/javascript"], [
        styles[1],
        styles[2],
        "text/css",
      ]]
    ) {
      const gz = await get(`${srv.url}${path}`, { "accept-encoding": "gzip" });
      assert.equal(gz.res.status, 200);
      assert.equal(gz.res.headers.get("content-encoding"), "gzip");
      assert.equal(gz.res.headers.get("cache-control"), "public, max-age=31536000, immutable");
      assert.match(gz.res.headers.get("content-type")!, new RegExp(`^${type}`));
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", gz.body));
      const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
      assert.equal(hex.slice(0, 12), hash, "the name is the content's hash");
      const br = await get(`${srv.url}${path}`, { "accept-encoding": "br" });
      total += Number(br.res.headers.get("content-length"));
      const plain = await get(`${srv.url}${path}`, { "accept-encoding": "identity" });
      assert.equal(plain.res.headers.get("content-encoding"), null);
      assert.equal(Number(plain.res.headers.get("content-length")), plain.body.byteLength);
      if (type === "text/javascript") {
        assert.doesNotMatch(plain.text, /ZodError|zod/, "no schema library in the bundle");
        assert.doesNotMatch(
          plain.text.replaceAll("http://www.w3.org/", ""),
          /https?:\/\/[a-z]/i,
          "offline",
        );
      }
    }
    assert.ok(total <= 150 * 1024, `first load ${total} bytes compressed`);
    console.log(`first load, brotli: ${total} bytes`);

    const stale = await get(`${srv.url}/assets/app-000000000000.js`);
    assert.equal(stale.res.status, 404);
    assert.match(stale.res.headers.get("content-type")!, /json/);
  } finally {
    await srv.stop();
  }
});

Deno.test("web: unknown paths keep their JSON 404 and the API keeps its headers", async () => {
  const srv = await startTestServer();
  try {
    for (const path of ["/api/nope", "/admin/nope", "/ws/nope", "/somewhere", "/assets/x.js"]) {
      const r = await get(`${srv.url}${path}`);
      assert.ok(r.res.status === 404 || r.res.status === 401, `${path}: ${r.res.status}`);
      assert.match(r.res.headers.get("content-type")!, /^application\/json/, path);
      assert.equal(
        r.res.headers.get("content-security-policy"),
        "default-src 'none'; frame-ancestors 'none'",
        path,
      );
    }
    const api = await get(`${srv.url}/api/me`);
    assert.equal(api.res.headers.get("cache-control"), "no-store");
    assert.equal(
      api.res.headers.get("content-security-policy"),
      "default-src 'none'; frame-ancestors 'none'",
    );
  } finally {
    await srv.stop();
  }
});

Deno.test("web: a missing build answers 503 with what to run; a file built later is then served", async () => {
  const dir = await Deno.makeTempDir();
  const app = new Hono();
  app.use(securityHeaders());
  app.route("/", webRoutes({ dist: new URL(`file://${dir}/`) }));
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
  const url = `http://127.0.0.1:${server.addr.port}`;
  try {
    const missing = await get(`${url}/`);
    assert.equal(missing.res.status, 503);
    assert.match(missing.text, /deno task build/);
    await Deno.writeTextFile(`${dir}/index.html`, "<!doctype html><title>t</title>");
    const built = await get(`${url}/`, { "accept-encoding": "gzip;q=0, br;q=0" });
    assert.equal(built.res.status, 200);
    assert.equal(built.res.headers.get("content-encoding"), null, "q=0 refuses an encoding");
    assert.equal(built.text, "<!doctype html><title>t</title>");
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("web: the client's sources never hand text to the DOM as HTML", async () => {
  const walk = async (dir: URL): Promise<string[]> => {
    const out: string[] = [];
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory && e.name !== "dist") out.push(...await walk(new URL(`${e.name}/`, dir)));
      else if (/\.tsx?$/.test(e.name)) out.push(await Deno.readTextFile(new URL(e.name, dir)));
    }
    return out;
  };
  const sources = await walk(new URL("../web/", import.meta.url));
  assert.ok(sources.length > 10);
  for (const s of sources) {
    assert.doesNotMatch(
      s,
      /innerHTML|outerHTML|insertAdjacentHTML|dangerouslySetInnerHTML|document\.write/,
    );
  }
});

Deno.test("web: Accept-Encoding parsing", () => {
  assert.deepEqual([...acceptedEncodings("gzip, deflate, br;q=1.0, zstd;q=0")], [
    "gzip",
    "deflate",
    "br",
  ]);
  assert.deepEqual([...acceptedEncodings(undefined)], []);
  assert.ok(gzipSync("x").byteLength > 0);
});
