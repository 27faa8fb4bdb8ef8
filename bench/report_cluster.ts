/**
 * The "Several instances" section of docs/benchmarks.md (issue 15, item 6):
 * the fan-out and ingest loads on Causerie on MySQL with one instance
 * without a bus, one with the bus, and two with the bus, from the same run.
 * Reports the best rate of each, the ratio of two instances to one, and what
 * the bus costs per message (server CPU with the bus minus without, at the
 * same offered rate). Rendered by report.ts only when the run has cluster
 * results.
 *
 * @module
 */

import type { BenchReport, RunRecord } from "./report.ts";

/** What report.ts lends (no import cycle). */
export interface ClusterRenderTools {
  /** Display names of the targets. */
  names: Record<string, string>;
  /** A whole number, with thousands separators ("–" for none). */
  int: (n: number | null | undefined) => string;
  /** A Markdown table. */
  table: (head: string[], rows: string[][]) => string;
  /** The table of every step of a scenario. */
  stepTable: (r: BenchReport, scenario: string, primary: "deliveries" | "acked") => string;
  /** Machine CPU under which a step counts as below the knee, %. */
  belowKnee: number;
}

/** The fields of a step this section reads. */
interface ClusterStep {
  rate: number;
  ackedPerSec: number;
  deliveriesPerSec: number;
  serverCpu: number | null;
  machineCpu: number | null;
  pass: boolean;
}

const SCENARIOS = [
  { id: "clusterFanout", title: "fan-out", best: "bestDeliveriesPerSec", unit: "deliveries/s" },
  { id: "clusterIngest", title: "ingest", best: "bestAckedPerSec", unit: "acknowledged/s" },
] as const;

function runs(r: BenchReport, scenario: string, target: string): RunRecord[] {
  return r.runs.filter((x) => x.scenario === scenario && x.target === target && x.ok && x.result);
}

/** The best rate of `target` over its rounds, or null. */
function best(r: BenchReport, scenario: string, target: string, field: string): number | null {
  const values = runs(r, scenario, target).map((x) => Number(x.result![field]) || 0);
  return values.length ? Math.max(...values) : null;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/**
 * Server CPU per message that the bus adds, µs: at each offered rate where one
 * instance with the bus and one without both stayed within the bound below the
 * knee, (CPU with − CPU without) / messages per second; the median of those.
 * When no rate stayed below the knee, the same over every rate within the
 * bound, said so (`belowKnee` false).
 */
export function busCostPerMessage(
  r: BenchReport,
  scenario: string,
  belowKnee: number,
): { us: number; belowKnee: boolean } | null {
  const strict = busCost(r, scenario, belowKnee);
  if (strict !== null) return { us: strict, belowKnee: true };
  const loose = busCost(r, scenario, Infinity);
  return loose === null ? null : { us: loose, belowKnee: false };
}

function busCost(r: BenchReport, scenario: string, belowKnee: number): number | null {
  const usable = (target: string) => {
    const byRate = new Map<number, ClusterStep[]>();
    for (const run of runs(r, scenario, target)) {
      for (const s of run.result!.steps as ClusterStep[]) {
        if (!s.pass || s.serverCpu === null || s.machineCpu === null) continue;
        if (s.machineCpu >= belowKnee || !s.ackedPerSec) continue;
        byRate.set(s.rate, [...(byRate.get(s.rate) ?? []), s]);
      }
    }
    return byRate;
  };
  const without = usable("causerie-mysql");
  const withBus = usable("causerie-mysql-bus");
  const costs: number[] = [];
  for (const [rate, steps] of withBus) {
    const base = without.get(rate);
    if (!base) continue;
    const cpu = (list: ClusterStep[]) => median(list.map((s) => s.serverCpu!))!;
    const perSec = median(steps.map((s) => s.ackedPerSec))!;
    costs.push((cpu(steps) - cpu(base)) / 100 * 1e6 / perSec);
  }
  return median(costs);
}

/** The section, or nothing when the run has no cluster results. */
export function renderClusterSection(r: BenchReport, t: ClusterRenderTools): string[] {
  const present = SCENARIOS.filter((s) => r.runs.some((x) => x.scenario === s.id));
  if (present.length === 0) return [];
  const out: string[] = [];
  out.push("## Several instances");
  out.push("");
  out.push(
    "Causerie on MySQL three ways in the same run (MariaDB and Redis on loopback, on the same " +
      "cores as everything else): one instance without a bus, one instance with `CAUSERIE_BUS`, " +
      "and two instances with the bus, the sessions spread over both by user (the server CPU is " +
      "the sum of both). Fan-out: members on both instances, every message goes to every member " +
      "(a message committed on one instance reaches the other's members through Redis). Ingest: " +
      "each pair of users split over the two instances, so every direct message crosses the bus. " +
      "The ladders have the steps of fanout and ingest (rates compare at equal load), run " +
      "further to find each target's knee (ingest with 2,000 users: up to 8,000 messages/s). The goal (issue 15) is two instances carrying at least 1.5× the deliveries " +
      "of one where the machine is not already saturated by the load generator: read the " +
      "machine CPU column before the ratio; on two cores the load generator, MySQL, Redis and " +
      "both instances compete.",
  );
  out.push("");
  const rows: string[][] = [];
  for (const s of present) {
    const one = best(r, s.id, "causerie-mysql", s.best);
    for (const target of ["causerie-mysql", "causerie-mysql-bus", "causerie-cluster"]) {
      const v = best(r, s.id, target, s.best);
      if (v === null && runs(r, s.id, target).length === 0) continue;
      rows.push([
        s.title,
        t.names[target] ?? target,
        `${t.int(v)} ${s.unit}`,
        v !== null && one ? `${(v / one).toFixed(2)}×` : "–",
      ]);
    }
    const cost = busCostPerMessage(r, s.id, t.belowKnee);
    rows.push([
      s.title,
      "the bus, per message",
      cost === null
        ? "–"
        : `${cost.us.toFixed(1)} µs server CPU${cost.belowKnee ? "" : " (machine above the knee)"}`,
      "",
    ]);
  }
  out.push(t.table(["load", "target", "best within the bound", "/ one instance"], rows));
  out.push("");
  out.push(
    '"The bus, per message": the server CPU one instance spends with `CAUSERIE_BUS` minus ' +
      "without, at the same offered rate, per message (median over the rates where both stayed " +
      `within the bound with the machine under ${t.belowKnee}% CPU; when none was, over every ` +
      `rate within the bound, marked "machine above the knee"; "–" when no rate qualified).`,
  );
  if (r.busCost) {
    const b = r.busCost;
    out.push("");
    out.push(
      `The bus alone (bench/bus_cost.ts): ${t.int(b.messages)} salon payloads of one message ` +
        `(${b.payloadBytes} bytes) from one Redis bus to another in one process, each published ` +
        `when the previous one was sent: ${b.cpuUsPerMessage.toFixed(1)} µs of CPU per message ` +
        `for both sides together (encode, publish, receive, parse, decode; Redis's own CPU not ` +
        `counted), ${t.int(b.perSecond)} messages/s. The relay publishes once per salon per ` +
        "group commit, so a busy salon pays this once per batch, not per message.",
    );
  }
  out.push("");
  for (const s of present) {
    out.push(`### Several instances: ${s.title}, every step`);
    out.push("");
    out.push(t.stepTable(r, s.id, s.id === "clusterFanout" ? "deliveries" : "acked"));
    out.push("");
  }
  return out;
}
