/**
 * `/readyz` with and without a bus (issue 15): one process answers exactly as
 * before (no `bus` field); with a bus, an unreachable one degrades (200,
 * `status: "degraded"`), a database down is still 503.
 */

import assert from "node:assert/strict";
import { opsRoutes } from "../routes/ops.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import type { BusHealth } from "../runtime/cluster_node.ts";

const up: BusHealth = { ping: () => Promise.resolve() };
const down: BusHealth = { ping: () => Promise.reject(new Error("ECONNREFUSED")) };
const hung: BusHealth = { ping: () => new Promise(() => {}) };

async function readyz(
  bus: BusHealth | undefined,
  opts: { closed?: boolean; stopping?: boolean } = {},
): Promise<[number, unknown]> {
  const store = await openSqliteStore(":memory:");
  try {
    if (opts.closed) await store.close();
    const res = await opsRoutes(store, () => opts.stopping ?? false, bus).request("/readyz");
    return [res.status, await res.json()];
  } finally {
    await store.close();
  }
}

Deno.test("readyz without a bus: the same body as ever, no bus field", async () => {
  assert.deepEqual(await readyz(undefined), [200, { status: "ready", database: "ok" }]);
  assert.deepEqual(await readyz(undefined, { closed: true }), [
    503,
    { status: "unavailable", database: "unreachable" },
  ]);
  assert.deepEqual(await readyz(undefined, { stopping: true }), [
    503,
    { status: "shutting_down", database: "unchecked" },
  ]);
});

Deno.test("readyz with a bus: ok, or degraded (still 200) when the bus does not answer", async () => {
  assert.deepEqual(await readyz(up), [200, { status: "ready", database: "ok", bus: "ok" }]);
  assert.deepEqual(await readyz(down), [
    200,
    { status: "degraded", database: "ok", bus: "unreachable" },
  ]);
  assert.deepEqual(await readyz(down, { closed: true }), [
    503,
    { status: "unavailable", database: "unreachable", bus: "unreachable" },
  ]);
  assert.deepEqual(await readyz(up, { stopping: true }), [
    503,
    { status: "shutting_down", database: "unchecked", bus: "unchecked" },
  ]);
});

Deno.test("readyz with a bus that hangs: answered within the timeout, degraded", async () => {
  const started = Date.now();
  assert.deepEqual(await readyz(hung), [
    200,
    { status: "degraded", database: "ok", bus: "unreachable" },
  ]);
  assert.ok(Date.now() - started < 3000);
});
