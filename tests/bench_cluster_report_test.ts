/**
 * The "Several instances" section of the benchmark page (bench/report_cluster.ts): the
 * per-message cost of the bus from steps at equal offered rates, and the ratios.
 */

import assert from "node:assert/strict";
import type { BenchReport } from "../bench/report.ts";
import { busCostPerMessage, renderClusterSection } from "../bench/report_cluster.ts";

const step = (rate: number, serverCpu: number, machineCpu: number, pass = true) => ({
  rate,
  ackedPerSec: rate,
  deliveriesPerSec: rate * 100,
  serverCpu,
  machineCpu,
  pass,
});

function report(steps: Record<string, ReturnType<typeof step>[]>, best: Record<string, number>) {
  return {
    runs: Object.entries(steps).map(([target, list]) => ({
      scenario: "clusterFanout",
      target,
      round: 1,
      ok: true,
      ms: 1,
      result: { steps: list, bestDeliveriesPerSec: best[target] },
    })),
  } as unknown as BenchReport;
}

Deno.test("bench cluster report: the bus's cost per message at equal rates, below the knee", () => {
  const r = report({
    "causerie-mysql": [step(100, 10, 40), step(200, 20, 60), step(400, 40, 90)],
    "causerie-mysql-bus": [step(100, 11, 40), step(200, 22, 60), step(400, 48, 90)],
    "causerie-cluster": [step(100, 12, 40)],
  }, { "causerie-mysql": 20_000, "causerie-mysql-bus": 19_000, "causerie-cluster": 36_000 });
  // 1% of a core at 100 msg/s = 100 µs per message; 2% at 200/s = 100 µs; 400/s is above 70%.
  assert.deepEqual(busCostPerMessage(r, "clusterFanout", 70), { us: 100, belowKnee: true });
  const page = renderClusterSection(r, {
    names: {},
    int: (n) => String(n),
    table: (head, rows) => [head, ...rows].map((x) => x.join(" | ")).join("\n"),
    stepTable: () => "",
    belowKnee: 70,
  }).join("\n");
  assert.match(page, /causerie-cluster \| 36000 deliveries\/s \| 1\.80×/);
  assert.match(page, /the bus, per message \| 100\.0 µs server CPU \|/);
});

Deno.test("bench cluster report: above the knee the cost is still given, marked so", () => {
  const r = report({
    "causerie-mysql": [step(100, 10, 95), step(200, 30, 99, false)],
    "causerie-mysql-bus": [step(100, 12, 95), step(200, 35, 99)],
  }, {});
  assert.deepEqual(busCostPerMessage(r, "clusterFanout", 70), { us: 200, belowKnee: false });
  assert.equal(busCostPerMessage(report({}, {}), "clusterFanout", 70), null);
});
