/**
 * docs/machines/ and docs/machines.md match the machines: regenerated in
 * memory and compared with the committed files.
 */

import assert from "node:assert/strict";
import { machineDocs } from "../tools/machines.ts";
import { MACHINES } from "../actors/machines.ts";

const ROOT = new URL("../", import.meta.url);

Deno.test("the committed machine docs match the machines (else: run deno task machines)", async () => {
  const files = machineDocs();
  for (const [path, expected] of Object.entries(files)) {
    let committed: string | null = null;
    try {
      committed = await Deno.readTextFile(new URL(path, ROOT));
    } catch { /* missing */ }
    assert.ok(committed === expected, `${path} differs from the machines: run deno task machines`);
  }
  const written = new Set(Object.keys(files));
  for await (const entry of Deno.readDir(new URL("docs/machines/", ROOT))) {
    const path = `docs/machines/${entry.name}`;
    assert.ok(written.has(path), `${path} belongs to no machine: run deno task machines`);
  }
});

Deno.test("every machine of actors/ is in the registry, under its id", async () => {
  const ids = new Set<string>();
  for await (const entry of Deno.readDir(new URL("actors/", ROOT))) {
    const text = await Deno.readTextFile(new URL(`actors/${entry.name}`, ROOT));
    if (!text.includes(".createMachine(")) continue;
    for (const m of text.matchAll(/\.createMachine\(\{\s*id: "([^"]+)"/g)) ids.add(m[1]);
  }
  assert.deepEqual([...ids].sort(), Object.keys(MACHINES).sort());
  for (const [name, machine] of Object.entries(MACHINES)) assert.equal(machine.id, name);
});
