/**
 * The inspector page: served at /admin/inspector like `/` (strict CSP,
 * no-cache, ETag/304, brotli/gzip, nothing inline or from elsewhere) with
 * its own hashed bundle, without a bearer (the page logs in itself); the
 * statechart layout (ELK, offline) and its SVG with the current state
 * highlighted.
 */

import assert from "node:assert/strict";
import type { VNode } from "preact";
import { PAGE_CSP } from "../routes/web.ts";
import { machineDefinition, machineDefinitions } from "../actors/machines.ts";
import { layoutMachine } from "../lib/statechart_layout.ts";
import type { StateNodeJson } from "../lib/statechart_model.ts";
import { StatechartSvg } from "../web/inspector/statechart_diagram.tsx";
import { doorMachine } from "./statechart_fixture.ts";
import { startTestServer } from "./ws_client.ts";

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  const body = new Uint8Array(await res.arrayBuffer());
  return { res, body, text: new TextDecoder().decode(body) };
}

Deno.test("web: /admin/inspector serves the inspector page like /, with its own hashed bundle", async () => {
  const srv = await startTestServer();
  try {
    const page = await get(`${srv.url}/admin/inspector`, { "accept-encoding": "br, gzip" });
    assert.equal(page.res.status, 200, page.text);
    assert.match(page.res.headers.get("content-type")!, /^text\/html/);
    assert.equal(page.res.headers.get("content-encoding"), "br");
    assert.equal(page.res.headers.get("content-security-policy"), PAGE_CSP);
    assert.equal(page.res.headers.get("cache-control"), "no-cache");
    assert.equal(page.res.headers.get("x-frame-options"), "DENY");
    const etag = page.res.headers.get("etag")!;
    assert.match(etag, /^"[0-9a-f]+"$/);
    assert.match(page.text, /<title>Causerie inspector<\/title>/);
    assert.doesNotMatch(page.text, /<script(?![^>]*\bsrc=)[^>]*>/, "no inline script");
    assert.doesNotMatch(page.text, /\sstyle=|<style/, "no inline style");
    assert.doesNotMatch(page.text, /https?:\/\//, "nothing from another origin");
    const again = await get(`${srv.url}/admin/inspector`, { "if-none-match": etag });
    assert.equal(again.res.status, 304);

    const script = /src="(\/assets\/inspector-[0-9a-f]{12}\.js)"/.exec(page.text);
    assert.ok(script, page.text);
    const js = await get(`${srv.url}${script[1]}`, { "accept-encoding": "gzip" });
    assert.equal(js.res.status, 200);
    assert.equal(js.res.headers.get("content-encoding"), "gzip");
    assert.equal(js.res.headers.get("cache-control"), "public, max-age=31536000, immutable");
    const styles = [...page.text.matchAll(/href="(\/assets\/[a-z]+-[0-9a-f]{12}\.css)"/g)];
    assert.equal(styles.length, 2, page.text);
    for (const [, path] of styles) assert.equal((await get(`${srv.url}${path}`)).res.status, 200);

    // The rest of /admin still wants a bearer.
    const actors = await get(`${srv.url}/admin/actors`);
    assert.equal(actors.res.status, 401);
    const other = await get(`${srv.url}/admin/inspector/x`);
    assert.equal(other.res.status, 401);
  } finally {
    await srv.stop();
  }
});

Deno.test("layoutMachine places every state inside its container, with initial dots and labelled arrows", async () => {
  const layout = await layoutMachine(machineDefinition(doorMachine) as unknown as StateNodeJson);
  assert.equal(layout.machine, "door");
  const byPath = new Map(layout.states.map((s) => [s.path, s]));
  assert.deepEqual([...byPath.keys()].sort(), [
    "",
    "broken",
    "closed",
    "closed.checking",
    "closed.locked",
    "closed.unlocked",
    "open",
    "open.light",
    "open.light.off",
    "open.light.on",
    "open.sound",
    "open.sound.beeping",
    "open.sound.silent",
  ]);
  for (const s of layout.states) {
    if (s.path === "") continue;
    const parent = byPath.get(
      s.path.includes(".") ? s.path.slice(0, s.path.lastIndexOf(".")) : "",
    )!;
    assert.ok(
      s.x >= parent.x && s.y >= parent.y && s.x + s.width <= parent.x + parent.width + 0.5 &&
        s.y + s.height <= parent.y + parent.height + 0.5,
      `${s.path} lies inside ${parent.path || "the machine"}`,
    );
    assert.ok(s.width > 0 && s.height > 0);
  }
  assert.ok(byPath.get("open")!.container && !byPath.get("broken")!.container);
  assert.deepEqual(layout.initials.map((d) => d.path).sort(), [
    "",
    "closed",
    "open.light",
    "open.sound",
  ]);
  // One arrow per pair of states, one label line per event.
  const back = layout.edges.find((e) => e.source === "open" && e.target === "closed")!;
  assert.deepEqual(back.lines.sort(), ["CLOSE [isLocked]", "after autoClose"]);
  assert.ok(back.points.length >= 2 && back.labelBox);
  assert.equal(back.labelBox.height, 28);
  for (const e of layout.edges) assert.ok(e.points.length >= 2, e.id);
  assert.ok(layout.width > 0 && layout.height > 0);
  // Same definition, same layout.
  assert.deepEqual(
    await layoutMachine(machineDefinition(doorMachine) as unknown as StateNodeJson),
    layout,
  );
});

Deno.test("every real machine lays out", async () => {
  for (const [name, json] of Object.entries(machineDefinitions())) {
    const layout = await layoutMachine(json as unknown as StateNodeJson);
    assert.equal(layout.machine, name);
    assert.ok(layout.edges.every((e) => e.points.length >= 2), name);
  }
});

/** Every element of a vnode tree, depth first. */
function elements(node: unknown): VNode<Record<string, unknown>>[] {
  if (!node || typeof node !== "object") return [];
  if (Array.isArray(node)) return node.flatMap(elements);
  const v = node as VNode<Record<string, unknown>>;
  return [v, ...elements(v.props?.children)];
}

Deno.test("the SVG names the machine and marks the active states with a class and aria-current", async () => {
  const layout = await layoutMachine(machineDefinition(doorMachine) as unknown as StateNodeJson);
  const svg = StatechartSvg({ layout, active: { open: { light: "on", sound: "silent" } } });
  assert.equal(svg.props["aria-label"], "Statechart of door");
  const states = elements(svg).filter((e) => typeof e.props["data-path"] === "string");
  const current = states.filter((e) => e.props["aria-current"] === "true");
  assert.deepEqual(current.map((e) => e.props["data-path"]).sort(), [
    "open",
    "open.light",
    "open.light.on",
    "open.sound",
    "open.sound.silent",
  ]);
  for (const e of current) assert.match(String(e.props.class), /\bactive\b/);
  const closed = states.find((e) => e.props["data-path"] === "closed")!;
  assert.doesNotMatch(String(closed.props.class), /\bactive\b/);
  assert.equal(closed.props["aria-label"], "state closed");
  // Names are text children (escaped by Preact), never markup.
  const texts = elements(svg).filter((e) => e.type === "text" || e.type === "tspan")
    .map((e) => e.props.children);
  assert.ok(texts.includes("open (parallel)") && texts.includes("after autoClose"), String(texts));
});
