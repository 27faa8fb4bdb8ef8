/**
 * Renders docs/benchmarks.md from one run's results. Every figure comes from
 * the run; the hand-written part between the `notes` markers of the previous
 * file is kept as it is.
 *
 * @module
 */

import { renderClusterSection } from "./report_cluster.ts";
import type { BusCost } from "./bus_cost.ts";
import type { ProfileSummary } from "./profile.ts";

/** One scenario on one target in one round. */
export interface RunRecord {
  /** Scenario name. */
  scenario: string;
  /** Target name. */
  target: string;
  /** Round number, from 1. */
  round: number;
  /** Whether the load generator finished. */
  ok: boolean;
  /** Wall time of the run, ms. */
  ms: number;
  /** The load generator's result. */
  result?: Record<string, unknown>;
  /** Why it failed. */
  error?: string;
  /** How long the server took to stop after the run, ms. */
  stopMs?: number;
  /** Whether it had to be killed (no exit within 20 s). */
  stopKilled?: boolean;
}

/** Everything a run produced. */
export interface BenchReport {
  /** The command as typed. */
  command: string;
  /** Quick mode. */
  quick: boolean;
  /** Rounds of each scenario. */
  rounds: Record<string, number>;
  /** Start, ISO. */
  startedAt: string;
  /** Wall time, ms. */
  durationMs: number;
  /** Machine and versions. */
  machine: Record<string, string>;
  /** The registration of the run's users. */
  registration: Record<string, unknown>;
  /** Parameters of each scenario. */
  params: Record<string, Record<string, number | string | boolean>>;
  /** Every run. */
  runs: RunRecord[];
  /** CPU profiles of Causerie (with --profile). */
  profiles: Array<{
    scenario: string;
    rate: number;
    users?: number;
    file: string;
    summary: ProfileSummary;
    result: Record<string, unknown>;
  }>;
  /** Things that went wrong or were skipped. */
  notes: string[];
  /** MySQL status. */
  mysql: string;
  /** The bus alone (bus_cost.ts), with the cluster scenarios. */
  busCost?: BusCost;
}

const NOTES_START = "<!-- notes:start -->";
const NOTES_END = "<!-- notes:end -->";

const TARGET_NAMES: Record<string, string> = {
  causerie: "Causerie (SQLite)",
  "causerie-watched": "Causerie (SQLite), one inspection watcher",
  "causerie-mysql": "Causerie (MySQL)",
  "causerie-mysql-bus": "Causerie (MySQL), one instance with the bus",
  "causerie-cluster": "Causerie (MySQL), two instances with the bus",
  bare: "bare Deno",
  "bare-node": "bare node:http + ws",
  socketio: "socket.io (Node)",
};

interface Latency {
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  lost: number;
}

interface Step {
  rate: number;
  senders: number;
  perSender: number;
  ackedPerSec: number;
  deliveriesPerSec: number;
  ack: Latency;
  delivery: Latency;
  serverCpu: number | null;
  loadgenCpu: number | null;
  machineCpu: number | null;
  serverRss: number | null;
  refused: number;
  errors: Record<string, number>;
  pass: boolean;
}

const int = (n: number | null | undefined) =>
  n === null || n === undefined ? "–" : Math.round(n).toLocaleString("en-US");
const ms = (n: number | null | undefined) =>
  n === null || n === undefined ? "∞" : n < 10 ? n.toFixed(1) : String(Math.round(n));
const pct = (n: number | null | undefined) => n === null || n === undefined ? "–" : `${n}%`;
const kb = (n: number | null | undefined) =>
  n === null || n === undefined ? "–" : `${(n / 1000).toFixed(1)} KB`;
const mb = (n: number | null | undefined) =>
  n === null || n === undefined ? "–" : `${(n / 1e6).toFixed(0)} MB`;
const ratio = (a: number | null, b: number | null) =>
  a === null || b === null || b === 0 ? null : a / b;
const fmtRatio = (r: number | null) => r === null ? "–" : `${r.toFixed(2)}×`;

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

function runsOf(r: BenchReport, scenario: string, target?: string): RunRecord[] {
  return r.runs.filter((x) => x.scenario === scenario && (!target || x.target === target));
}

/** Best value of `metric` over the successful rounds (max, or min with `lowest`). */
function bestOf(
  r: BenchReport,
  scenario: string,
  target: string,
  metric: (result: Record<string, unknown>) => number | null,
  lowest = false,
): number | null {
  let best: number | null = null;
  for (const run of runsOf(r, scenario, target)) {
    if (!run.ok || !run.result) continue;
    const v = metric(run.result);
    if (v === null || !Number.isFinite(v)) continue;
    if (best === null || (lowest ? v < best : v > best)) best = v;
  }
  return best;
}

function perRound(
  r: BenchReport,
  scenario: string,
  target: string,
  metric: (result: Record<string, unknown>) => number | null,
  fmt: (n: number | null) => string,
): string {
  const list = runsOf(r, scenario, target).map((run) =>
    run.ok && run.result ? fmt(metric(run.result)) : "failed"
  );
  return list.length > 1 ? ` (rounds: ${list.join(", ")})` : "";
}

/** "≥ " when no round of `target` broke the bound: the figure is a floor, not the limit. */
function floor(r: BenchReport, scenario: string, target: string): string {
  const list = runsOf(r, scenario, target).filter((x) => x.ok && x.result);
  if (list.length === 0) return "";
  return list.some((x) => x.result!.limitFound) ? "" : "≥ ";
}

function targetsIn(r: BenchReport, scenario: string): string[] {
  return [...new Set(runsOf(r, scenario).map((x) => x.target))];
}

/** Server CPU time per delivery at a step, µs (CPU is % of one core). */
function usPerDelivery(s: Step): number | null {
  if (s.serverCpu === null || s.serverCpu === undefined || !s.deliveriesPerSec) return null;
  return (s.serverCpu / 100) * 1e6 / s.deliveriesPerSec;
}

/** Machine CPU (% of all cores) under which a step counts as below the knee. */
export const BELOW_KNEE_MACHINE_CPU = 70;

/**
 * Median server µs per delivery over the steps of `target` that stayed within
 * the bound below the knee (machine CPU under {@link BELOW_KNEE_MACHINE_CPU}%):
 * there the load generator does not yet compete for the cores.
 */
function cpuPerDelivery(r: BenchReport, scenario: string, target: string): number | null {
  const values: number[] = [];
  for (const run of runsOf(r, scenario)) {
    if (run.target !== target || !run.ok || !run.result) continue;
    for (const s of run.result.steps as Step[]) {
      const us = usPerDelivery(s);
      if (!s.pass || us === null || s.machineCpu === null) continue;
      if (s.machineCpu < BELOW_KNEE_MACHINE_CPU) values.push(us);
    }
  }
  if (values.length === 0) return null;
  values.sort((a, b) => a - b);
  const mid = values.length >> 1;
  return values.length % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

function stepTable(r: BenchReport, scenario: string, primary: "deliveries" | "acked"): string {
  const rows: string[][] = [];
  for (const run of runsOf(r, scenario)) {
    if (!run.ok || !run.result) {
      rows.push([
        TARGET_NAMES[run.target],
        String(run.round),
        `failed: ${run.error}`,
        ...Array(11).fill(""),
      ]);
      continue;
    }
    for (const s of run.result.steps as Step[]) {
      const errors = Object.entries(s.errors ?? {}).map(([k, v]) => `${k} ${v}`).join(", ");
      rows.push([
        TARGET_NAMES[run.target],
        String(run.round),
        `${int(s.rate)} (${s.senders} × ${s.perSender})`,
        int(s.ackedPerSec),
        int(s.deliveriesPerSec),
        `${ms(s.ack.p50)} / ${ms(s.ack.p90)} / ${ms(s.ack.p99)} / ${ms(s.ack.max)}`,
        `${ms(s.delivery.p50)} / ${ms(s.delivery.p90)} / ${ms(s.delivery.p99)} / ${
          ms(s.delivery.max)
        }`,
        pct(s.serverCpu),
        usPerDelivery(s) === null ? "–" : usPerDelivery(s)!.toFixed(1),
        mb(s.serverRss),
        pct(s.loadgenCpu),
        pct(s.machineCpu),
        (s.pass ? "yes" : "no") + (errors ? ` (${errors})` : ""),
      ]);
    }
  }
  void primary;
  return table(
    [
      "target",
      "round",
      "offered msg/s (senders × each)",
      "acked/s",
      "deliveries/s",
      "ack p50/p90/p99/max ms",
      "delivery p50/p90/p99/max ms",
      "server CPU",
      "server µs / delivery",
      "server RSS",
      "loadgen CPU",
      "machine CPU",
      "within bound",
    ],
    rows,
  );
}

/** Renders the Markdown page. */
export function renderReport(r: BenchReport, previous: string): string {
  const out: string[] = [];
  const seconds = Math.round(r.durationMs / 1000);
  out.push("# Benchmarks");
  out.push("");
  out.push(
    `Generated by \`${r.command}\` (started ${r.startedAt}, ${seconds} s; rounds: ${
      Object.entries(r.rounds).map(([k, v]) => `${k} ${v}`).join(", ")
    }). Every figure on this page comes from that run; the raw results are in the run's temporary directory (\`report.json\`). Re-run to refresh: the page is rewritten, except the notes at the end.`,
  );
  out.push("");
  out.push("## How it is measured");
  out.push("");
  out.push(
    [
      "- Four servers, each in its own process, started fresh for every scenario and round: **Causerie** (`deno run --allow-all main.ts`, default limits: 5 messages/s with a burst of 10 per user, 5 sessions per user, request budget 40 then 20/s per session; SQLite in a temporary directory, `synchronous=FULL`), the **bare Deno** baseline (`bench/baselines/bare_deno.ts`: `Deno.serve` + `Deno.upgradeWebSocket`, the same frames, no persistence, no actors: the runtime's limit), the **bare node_ws** baseline (`bench/baselines/bare_node_ws.ts`: the same server on Causerie's transport, `node:http` + `ws` with `maxPayload` 64 KiB and `handleUpgrade` on the `upgrade` event, run under Deno, each broadcast's WebSocket frame built once and written to every member's socket: the transport's limit, so that node_ws / bare Deno is what the transport costs and Causerie / node_ws what Causerie costs on it) and the **socket.io** baseline (`bench/baselines/socketio/server.mjs`, Node, rooms and acks, WebSocket transport only: what most people would pick).",
      '- The load generator connects every simulated user from 127.0.0.1, so for every scenario but "pong under attack" Causerie runs with its per-address limits lifted (`CAUSERIE_MAX_CONNECTIONS_PER_ADDRESS`, `CAUSERIE_CONNECT_BURST`, `CAUSERIE_CONNECT_PER_SECOND`, `CAUSERIE_PREWELCOME_PER_ADDRESS`, `CAUSERIE_REGISTER_PER_ADDRESS_PER_HOUR`, `CAUSERIE_REGISTER_PER_MINUTE`: `LIFTED` in `bench/run.ts`); every other limit keeps its default. "Pong under attack" keeps every default and spreads its users over other loopback addresses (Linux routes the whole 127.0.0.0/8 to loopback; the load generator binds source addresses through `node:net`).',
      "- The load generator (`bench/loadgen/`) is another process: a minimal WebSocket client on raw TCP (no client library; socket.io is spoken as engine.io v4 / socket.io v5 text packets). It sends on an open-loop schedule, round-robin over enough senders that none exceeds 4 messages/s, and raises the aggregate rate step by step until a step breaks its latency bound, then narrows the limit down. Send times travel inside the message text and the `ref` (socket.io: the ack id), so latencies are measured without parsing JSON: **ack** = send → `ok` (socket.io: the ack), **delivery** = send → `message` at each receiver.",
      "- In fan-out and many-salons, latency is timed on every sender and on one receiver in ten; the other receivers read every 50 ms and are only counted, which keeps the load generator cheap. A step passes only if every expected delivery arrived and nothing was refused.",
      "- Server CPU (% of one core) and RSS come from `/proc/PID`; machine CPU (% of both cores) from `/proc/stat` shows how much the machine was shared (other processes included).",
      "- Targets alternate within each round and the order is reversed from one round to the next; a target's figure is its best round (each round is listed where there are several). Ratios compare figures from the same run only.",
      "- The machine has 2 cores shared by the server, the load generator and whatever else runs: absolute figures drift from run to run, ratios much less.",
    ].join("\n"),
  );
  out.push("");
  out.push("## Machine and versions");
  out.push("");
  out.push(
    table(
      ["", ""],
      Object.entries(r.machine).map(([k, v]) => [k, v.replaceAll("|", "\\|")]),
    ),
  );
  out.push("");
  const reg = r.registration as { users?: number; ms?: number; perSec?: number };
  out.push(
    `Users: ${
      int(reg.users)
    } registered for the run over WebSocket \`register\` frames (argon2id each) in ${
      int((reg.ms ?? 0) / 1000)
    } s (${
      (reg.perSec ?? 0).toFixed(1)
    } registrations/s, 32 at a time); later sessions say hello with the token from their welcome. MySQL: ${r.mysql}.`,
  );
  out.push("");

  // ---- Summary
  const fan = (t: string) =>
    bestOf(r, "fanout", t, (x) => (x.bestDeliveriesPerSec as number) || null);
  const idleRss = (t: string) =>
    bestOf(r, "idle", t, (x) => (x.rssPerSessionGc ?? x.rssPerSession) as number | null, true);
  const idleRssRaw = (t: string) =>
    bestOf(r, "idle", t, (x) => x.rssPerSession as number | null, true);
  const idleRate = (t: string) => bestOf(r, "idle", t, (x) => x.sessionsPerSec as number | null);
  const stormRate = (t: string) => bestOf(r, "storm", t, (x) => x.loginsPerSec as number | null);
  const stormLag = (t: string) =>
    bestOf(r, "storm", t, (x) => (x.lag as { worstLagMs?: number })?.worstLagMs ?? null, true);
  const sal = (t: string) =>
    bestOf(r, "salons", t, (x) => (x.bestMessagesPerSalonPerSec as number) || null);
  const salDel = (t: string) =>
    bestOf(r, "salons", t, (x) => (x.bestDeliveriesPerSec as number) || null);

  const verdict = (ok: boolean | null) =>
    ok === null ? "not measured" : ok ? "**met**" : "**not met**";
  const rows: string[][] = [];
  /** Figures of the four targets; `floors` marks a figure that is a floor (≥). */
  const FOUR = ["causerie", "bare", "bare-node", "socketio"] as const;
  const row = (
    scenario: string,
    measure: string,
    values: Record<string, number | null>,
    fmt: (n: number | null) => string,
    target: string,
    verdictText: string,
    floors?: string,
  ) => {
    const v = (t: string) => values[t] ?? null;
    const cell = (t: string) =>
      values[t] === undefined ? "–" : (floors ? floor(r, floors, t) : "") + fmt(v(t));
    rows.push([
      scenario,
      measure,
      ...FOUR.map(cell),
      fmtRatio(ratio(v("causerie"), v("bare"))),
      fmtRatio(ratio(v("bare-node"), v("bare"))),
      fmtRatio(ratio(v("causerie"), v("bare-node"))),
      fmtRatio(ratio(v("causerie"), v("socketio"))),
      target,
      verdictText,
    ]);
  };
  const each = (get: (t: string) => number | null, targets: readonly string[] = FOUR) =>
    Object.fromEntries(targets.map((t) => [t, get(t)]));
  {
    const vals = each(fan);
    const rb = ratio(vals.causerie, vals.bare), rs = ratio(vals.causerie, vals.socketio);
    const rn = ratio(vals.causerie, vals["bare-node"]);
    const transport = ratio(vals["bare-node"], vals.bare);
    row(
      "Fan-out",
      "deliveries/s with delivery p99 ≤ 100 ms",
      vals,
      int,
      "≥ 0.9× bare, ≥ 1.5× socket.io; Causerie loses at most what the transport costs (≥ node_ws / bare)",
      verdict(rb === null || rs === null ? null : rb >= 0.9 && rs >= 1.5) +
        (rn !== null && transport !== null
          ? `; transport ${fmtRatio(transport)}, ours ${fmtRatio(rn)}`
          : ""),
      "fanout",
    );
  }
  if (runsOf(r, "fanout", "causerie-watched").length > 0) {
    // The same server with one watcher of /admin/inspect attached (--inspect-watcher).
    const watched = fan("causerie-watched"), plain = fan("causerie");
    const cost = ratio(watched, plain);
    row(
      "Fan-out, one inspection watcher",
      "deliveries/s with delivery p99 ≤ 100 ms",
      { causerie: watched },
      int,
      "watched / unwatched, same run",
      cost === null ? "not measured" : `${fmtRatio(cost)} of unwatched (${int(plain)})`,
    );
  }
  for (const scenario of ["ingest", "ingestWide"]) {
    if (runsOf(r, scenario).length === 0) continue;
    const best = (t: string) =>
      bestOf(r, scenario, t, (x) => (x.bestAckedPerSec as number) || null);
    const vals = each(best);
    const rb = ratio(vals.causerie, vals.bare);
    const users = r.params[scenario]?.users;
    const capped = runsOf(r, scenario, "causerie").some((x) => x.result?.capped);
    row(
      `Ingest (durable), ${int(Number(users))} users`,
      "acknowledged msg/s with ack p99 ≤ 50 ms" +
        (capped
          ? `; Causerie reached the ceiling of its workload (${
            int(Number(users) * 4)
          } msg/s: 4/s per user) without breaking the bound`
          : ""),
      vals,
      int,
      "≥ 0.7× bare echo",
      rb !== null && rb < 0.7 && capped
        ? "not measurable here: Causerie's workload hit its ceiling first"
        : verdict(rb === null ? null : rb >= 0.7),
      scenario,
    );
    if (capped) {
      // The same ladder, up to Causerie's ceiling: what the baselines did at the same offered load.
      const cap = Number(users) * 4;
      const same = (t: string) =>
        bestOf(r, scenario, t, (x) => {
          let top: number | null = null;
          for (const st of x.steps as Step[]) {
            if (st.pass && st.rate <= cap && (top === null || st.ackedPerSec > top)) {
              top = st.ackedPerSec;
            }
          }
          return top;
        });
      row(
        `Ingest (durable), ${int(Number(users))} users`,
        `the same, offered load up to ${int(cap)} msg/s for every target`,
        each(same),
        int,
        "",
        "",
      );
    }
  }
  {
    const vals = each(idleRss);
    const c = vals.causerie;
    const rb = ratio(c, vals.bare);
    row(
      "Idle sessions",
      "server RSS per session after a full GC (lower is better)",
      vals,
      kb,
      "≤ 1.3× bare and ≤ 30 KB",
      verdict(rb === null || c === null ? null : rb <= 1.3 && c <= 30_000),
    );
    const raw = each(idleRssRaw);
    const rr = ratio(raw.causerie, raw.bare);
    row(
      "Idle sessions",
      "server RSS per session as found, no forced GC",
      raw,
      kb,
      "(same)",
      verdict(rr === null || raw.causerie === null ? null : rr <= 1.3 && raw.causerie <= 30_000),
    );
    row("Idle sessions", "sessions established per second", each(idleRate), int, "reported", "–");
  }
  {
    const three = ["causerie", "bare", "bare-node"] as const;
    row(
      "Login storm",
      "password logins/s (bare baselines: hellos/s, no hashing)",
      each(stormRate, three),
      int,
      "reported",
      "–",
    );
    const one = runsOf(r, "stormOneAddress", "causerie").find((x) => x.ok && x.result);
    if (one) {
      const x = one.result as { ok: number; logins: number; errors: Record<string, number> };
      rows.push([
        "Login storm, one address",
        "welcomed / refused when every login comes from 127.0.0.1",
        `${int(x.ok)} / ${int(Object.values(x.errors).reduce((a, b) => a + b, 0))}`,
        "–",
        "–",
        "–",
        "–",
        "–",
        "–",
        "–",
        "reported",
        "–",
      ]);
    }
    // The probe shares the 2 cores: when its own timer was about as late as
    // the worst round trip, the figure says more about the machine than the server.
    const lag = stormLag("causerie");
    const lateRun = runsOf(r, "storm", "causerie").find((x) =>
      (x.result?.lag as { worstLagMs?: number } | undefined)?.worstLagMs === lag
    );
    const late = (lateRun?.result?.lag as { probeTimerLateMaxMs?: number } | undefined)
      ?.probeTimerLateMaxMs ?? 0;
    const lags = each(stormLag, three);
    rows.push([
      "Login storm",
      "worst event-loop lag during the storm, ms (an upper bound: ping round trip seen by a probe thread on the same 2 cores)",
      ms(lags.causerie),
      ms(lags.bare),
      ms(lags["bare-node"]),
      "–",
      "–",
      "–",
      "–",
      "–",
      "< 50 ms",
      lag !== null && lag >= 50 && late >= 0.8 * lag
        ? `inconclusive: the probe's own timer was ${ms(late)} ms late at the same time`
        : verdict(lag === null ? null : lag < 50),
    ]);
  }
  {
    const capped = runsOf(r, "salons", "causerie").some((x) => x.result?.capped);
    row(
      "Many salons",
      "messages per salon per second with delivery p99 ≤ 100 ms" +
        (capped ? " (Causerie reached its workload's ceiling, 4 msg/s per member)" : ""),
      each(sal),
      (v) => v === null ? "–" : v.toFixed(1),
      "ratio reported",
      "–",
      "salons",
    );
    row("Many salons", "deliveries/s at that rate", each(salDel), int, "", "", "salons");
  }
  {
    const run = runsOf(r, "pongAttack", "causerie").find((x) => x.ok && x.result);
    if (run) {
      const x = run.result as { worstPongMs: number; pass: boolean };
      rows.push([
        "Pong under attack",
        "worst pong of the normal users while one account and one address attack (default limits), ms",
        ms(Number.isFinite(x.worstPongMs) ? x.worstPongMs : null),
        "–",
        "–",
        "–",
        "–",
        "–",
        "–",
        "–",
        "≤ 100 ms for every attack",
        verdict(x.pass),
      ]);
    }
  }
  out.push("## Summary");
  out.push("");
  out.push(
    "A figure marked ≥ is the highest rate tried: that target never broke the bound within the steps of this run (or reached the ceiling of the workload), so it is a floor, and a ratio built on it is bounded accordingly. **node_ws / bare** is the transport's own cost (the same minimal server on `node:http` + `ws` instead of `Deno.serve`); **Causerie / node_ws** is ours, on the same transport.",
  );
  out.push("");
  out.push(
    table(
      [
        "scenario",
        "measure",
        "Causerie",
        "bare Deno",
        "bare node_ws",
        "socket.io",
        "Causerie / bare Deno",
        "node_ws / bare Deno (transport)",
        "Causerie / node_ws (ours)",
        "Causerie / socket.io",
        "target",
        "verdict",
      ],
      rows,
    ),
  );
  out.push("");
  // ---- Fan-out
  const p = r.params;
  out.push("## Fan-out");
  out.push("");
  out.push(
    `${
      p.fanout?.members ?? "?"
    } members online in one salon (Causerie: the \`auto\` salon Général), each with one session; every message goes to every member, the sender included. The aggregate rate starts at ${p.fanout?.start} messages/s and is multiplied by ${p.fanout?.factor} per step of ${
      Number(p.fanout?.stepMs) / 1000
    } s until delivery p99 passes 100 ms. Best deliveries/s within the bound: ${
      targetsIn(r, "fanout").map((t) =>
        `${TARGET_NAMES[t]} ${int(fan(t))}${
          perRound(r, "fanout", t, (x) => (x.bestDeliveriesPerSec as number) || null, int)
        }`
      ).join("; ")
    }.`,
  );
  out.push("");
  {
    const targets = targetsIn(r, "fanout");
    const us = new Map(targets.map((t) => [t, cpuPerDelivery(r, "fanout", t)]));
    const ratio = (a: string, b: string) => {
      const x = us.get(a), y = us.get(b);
      return x && y ? `${(x / y).toFixed(2)}×` : "–";
    };
    if (targets.length) {
      out.push(
        `Server CPU per delivery below the knee (median over the steps within the bound whose machine CPU stayed under ${BELOW_KNEE_MACHINE_CPU}%, where the load generator does not yet compete for the cores): ${
          targets.map((t) => {
            const v = us.get(t);
            return `${TARGET_NAMES[t]} ${v === null || v === undefined ? "–" : v.toFixed(1)} µs`;
          }).join("; ")
        }. Causerie / bare Deno ${ratio("causerie", "bare")}, Causerie / bare node_ws ${
          ratio("causerie", "bare-node")
        }.`,
      );
      out.push("");
    }
  }
  if (runsOf(r, "fanout").length) out.push(stepTable(r, "fanout", "deliveries"));
  out.push("");

  // ---- Ingest
  for (const scenario of ["ingest", "ingestWide"]) {
    if (runsOf(r, scenario).length === 0) continue;
    const users = Number(r.params[scenario]?.users ?? 0);
    const best = (t: string) =>
      bestOf(r, scenario, t, (x) => (x.bestAckedPerSec as number) || null);
    out.push(
      scenario === "ingest"
        ? "## Ingest with durability"
        : `## Ingest with durability, ${int(users)} users (Causerie's own ceiling)`,
    );
    out.push("");
    out.push(
      `${
        int(users)
      } users online in pairs, one session each, sending \`direct\` messages to their partner; an \`ok\` means committed (Causerie: after the SQLite transaction, \`synchronous=FULL\`). Each message is also delivered to both sides (2 deliveries). The bare baseline answers the same frames from memory: its rate is the runtime's echo rate. Causerie's senders stay at 4 messages/s or less (its limit is 5), so with ${
        int(users)
      } users its ladder stops at ${
        int(users * 4)
      } messages/s (marked capped); the baselines have no limit and go on with more messages per sender.${
        scenario === "ingest"
          ? " The next section repeats the scenario with more users, to find where Causerie itself stops."
          : ""
      } Best acknowledged messages/s with ack p99 ≤ 50 ms: ${
        targetsIn(r, scenario).map((t) =>
          `${TARGET_NAMES[t]} ${int(best(t))}${
            perRound(r, scenario, t, (x) => (x.bestAckedPerSec as number) || null, int)
          }`
        ).join("; ")
      }.`,
    );
    out.push("");
    out.push(stepTable(r, scenario, "acked"));
    out.push("");
  }

  // ---- Several instances (report_cluster.ts; only when the run has them)
  out.push(
    ...renderClusterSection(r, {
      names: TARGET_NAMES,
      int,
      table,
      stepTable,
      belowKnee: BELOW_KNEE_MACHINE_CPU,
    }),
  );

  // ---- Idle
  out.push("## Idle sessions");
  out.push("");
  out.push(
    `${
      int(Number(p.idle?.sessions))
    } authenticated sessions opened 200 at a time (Causerie: token hellos, at most 5 sessions per user), then left idle. RSS per session = (server RSS after the sessions settled − RSS before) / sessions, read twice: as found, and after a full garbage collection forced through the inspector (every server of this scenario runs with \`--inspect=127.0.0.1:PORT\`, nothing else changes), which leaves out garbage that V8 had not collected yet. The JS heap per session comes from the same inspector (\`Runtime.getHeapUsage\` after the GC).${
      p.idle?.toLimit
        ? " Then sessions are added until the open-file limit of the server or the load generator (both raised to the hard limit) is reached."
        : " (Quick mode stops there; the full run goes on to the open-file limit.)"
    }`,
  );
  out.push("");
  {
    const rows: string[][] = [];
    for (const run of runsOf(r, "idle")) {
      if (!run.ok || !run.result) {
        rows.push([TARGET_NAMES[run.target], String(run.round), `failed: ${run.error}`]);
        continue;
      }
      const x = run.result as Record<string, number | string | null>;
      rows.push([
        TARGET_NAMES[run.target],
        String(run.round),
        int(x.sessions as number),
        int(x.sessionsPerSec as number),
        `${mb(x.rssBefore as number)} → ${mb(x.rssAfter as number)}`,
        kb(x.rssPerSession as number),
        `${mb(x.rssBeforeGc as number)} → ${mb(x.rssAfterGc as number)}`,
        kb(x.rssPerSessionGc as number),
        kb(x.heapPerSession as number),
        x.maxSessions === undefined
          ? "–"
          : `${int(x.maxSessions as number)} of ${int(x.maxGoal as number)} (${x.maxGoalReason}${
            x.maxTimedOut ? "; stopped after 150 s" : ""
          }${x.maxFailures ? `; ${x.maxFailures} failed: ${x.maxFirstError}` : ""})`,
        x.maxSessions === undefined
          ? "–"
          : `${kb(x.rssPerSessionAtMax as number)} / ${kb(x.rssPerSessionAtMaxGc as number)}`,
        `${x.serverFileLimit} / ${x.loadgenFileLimit}`,
        mb(x.presenceBytes as number),
      ]);
    }
    out.push(
      table([
        "target",
        "round",
        "sessions",
        "sessions/s",
        "RSS before → after",
        "RSS / session",
        "after GC: RSS before → after",
        "RSS / session after GC",
        "JS heap / session",
        "at the file limit",
        "RSS / session there (as found / after GC)",
        "open-file limit server / loadgen",
        "bytes received by the clients (presence...)",
      ], rows),
    );
  }
  out.push("");

  // ---- Storm
  out.push("## Login storm");
  out.push("");
  out.push(
    `${
      int(Number(p.storm?.logins))
    } sockets are opened first, then every one sends a password \`hello\` at once (Causerie: argon2id verification on libuv's thread pool). The connections come from 64 loopback source addresses (127.0.1.1–64), as logins from many clients would: Causerie counts a login in flight against its per-address limit of 20 failures a minute, so from a single address the 21st concurrent login is refused (the "all from 127.0.0.1" row shows it when the run includes it). A worker thread in the load generator keeps one authenticated session sending \`ping\` every 60 ms (Causerie's request budget allows 20 frames/s per session); the worst lag is the longest ping round trip during the storm minus the median round trip just before it.`,
  );
  out.push("");
  {
    const rows: string[][] = [];
    for (const run of [...runsOf(r, "storm"), ...runsOf(r, "stormOneAddress")]) {
      const label = TARGET_NAMES[run.target] +
        (run.scenario === "stormOneAddress" ? ", all from 127.0.0.1" : "");
      if (!run.ok || !run.result) {
        rows.push([label, String(run.round), `failed: ${run.error}`]);
        continue;
      }
      const x = run.result as {
        logins: number;
        ok: number;
        errors: Record<string, number>;
        ms: number;
        loginsPerSec: number;
        latency: Latency;
        lag: {
          baselineRttP50: number;
          rtt: Latency;
          worstLagMs: number;
          probeTimerLateMaxMs: number;
          pings: number;
        };
      };
      rows.push([
        label,
        String(run.round),
        `${int(x.ok)} / ${int(x.logins)}`,
        Object.entries(x.errors).map(([k, v]) => `${k} ${v}`).join(", ") || "none",
        int(x.ms),
        String(x.loginsPerSec),
        `${ms(x.latency.p50)} / ${ms(x.latency.p99)} / ${ms(x.latency.max)}`,
        `${ms(x.lag.baselineRttP50)} → ${ms(x.lag.rtt.p99)} / ${
          ms(x.lag.rtt.max)
        } (${x.lag.pings} pings)`,
        ms(x.lag.worstLagMs),
        ms(x.lag.probeTimerLateMaxMs),
      ]);
    }
    out.push(
      table([
        "target",
        "round",
        "welcomed",
        "refused",
        "storm ms",
        "logins/s",
        "login latency p50/p99/max ms",
        "ping RTT before → p99/max during, ms",
        "worst lag ms",
        "probe's own timer lateness ms",
      ], rows),
    );
  }
  out.push("");

  // ---- Salons
  out.push("## Many salons");
  out.push("");
  out.push(
    `${int(Number(p.salons?.salons) * Number(p.salons?.members))} users in ${
      int(Number(p.salons?.salons))
    } salons of ${p.salons?.members} (Causerie: \`open\` salons added through \`CAUSERIE_SALONS\` on a copy of the run's database, joined with \`join\`), one session each. The rate starts at ${p.salons?.start} message per salon per second, every member speaking in turn, and rises by ×${p.salons?.factor} until delivery p99 passes 100 ms. Offered msg/s below is the total over all salons.`,
  );
  out.push("");
  {
    const rows: string[][] = [];
    for (const run of runsOf(r, "salons")) {
      if (!run.ok || !run.result) continue;
      const x = run.result as { connectMs: number; joinMs: number };
      rows.push([
        TARGET_NAMES[run.target],
        String(run.round),
        int(x.connectMs),
        int(x.joinMs),
      ]);
    }
    if (rows.length) {
      out.push(table(["target", "round", "sessions opened in ms", "joins done in ms"], rows));
      out.push("");
    }
  }
  if (runsOf(r, "salons").length) out.push(stepTable(r, "salons", "deliveries"));
  out.push("");

  // ---- Pong under attack
  if (runsOf(r, "pongAttack").length) {
    const pa = p.pongAttack ?? {};
    out.push("## Pong under attack");
    out.push("");
    out.push(
      `${
        pa.normals ?? 200
      } normal users (one account each, welcomed in Général, connected from 127.0.2.1–50: four per address) each send \`ping\` once a second and time the \`pong\`, while ONE attacker (one account, one address: 127.0.0.1, on its own thread of the load generator, so that its busy loop does not delay the normal users' timing) runs each attack in turn for ${
        Number(pa.attackMs ?? 10_000) / 1000
      } s. Causerie runs with every default limit (this scenario alone does not lift the per-address ones). Pongs are counted for pings sent during the attack and the second after it; a pong that never comes (10 s) counts as infinite. Before the attacks, 50 seeders (127.0.3.x) fill Blabla with 200 messages of the longest text allowed. Half-way through each attack a newcomer (a fresh account from a fresh address) connects and says hello. Attacks: **flood**: every session the account may hold (5) sends ping, who, history, say, bad JSON and unknown types as fast as its socket takes them, reconnecting when closed; **joinLeave**: the same with join/leave of the open salon Blabla and join requests to the three approval salons; **history**: the same with 200-message pages of Blabla; **reconnect**: 4 loops of connect, hello by token, 3 says, close; **wrongPassword**: wrong-password logins over HTTP (\`/api/login\`, 4 keep-alive connections) and over the socket (2 loops), against the attacker's own name, 20 normal users' names and admin; **register**: registrations over HTTP (2 connections) and \`register\` frames (1 loop); **idleSockets**: upgraded sockets that never say hello (20 loops opening as many as the server lets in, up to 2,000) plus 1,000 TCP connections that never finish their request headers; server RSS before, at its peak (sampled every 250 ms) and after; **oversized**: a frame header announcing 60 MiB followed by 1 MiB of it, and a text message in 60 KiB fragments up to 60 MiB, with and without a hello first. The bound: no pong over 100 ms, none lost, no normal user closed. "Client late" is the normal users' thread's own timer lateness: when it is close to the worst pong, the machine (2 cores shared by the server, the attacker and the normal users) rather than the server made them wait.`,
    );
    out.push("");
    const rows: string[][] = [];
    for (const run of runsOf(r, "pongAttack")) {
      if (!run.ok || !run.result) {
        rows.push([TARGET_NAMES[run.target], `failed: ${run.error}`]);
        continue;
      }
      for (const a of run.result.results as Array<Record<string, unknown>>) {
        const pong = a.pong as Latency;
        const rep = a.attacker as
          | {
            connected: number;
            welcomed: number;
            refused: Record<string, number>;
            closes: Record<string, number>;
            received: Record<string, number>;
            http: Record<string, number>;
            framesSent: number;
            extra: Record<string, number | string>;
          }
          | undefined;
        const list = (m: Record<string, number | string>) =>
          Object.entries(m).map(([k, v]) => `${k} ${typeof v === "number" ? int(v) : v}`)
            .join(", ");
        const saw = rep
          ? [
            `${int(rep.framesSent)} frames sent`,
            `upgrades: ${int(rep.connected)} accepted${
              Object.keys(rep.refused).length ? `, refused ${list(rep.refused)}` : ""
            }`,
            `${int(rep.welcomed)} welcomed`,
            Object.keys(rep.closes).length ? `closed: ${list(rep.closes)}` : "never closed",
            Object.keys(rep.received).length ? `received: ${list(rep.received)}` : "",
            Object.keys(rep.http).length ? `HTTP: ${list(rep.http)}` : "",
            Object.keys(rep.extra).length ? list(rep.extra) : "",
          ].filter(Boolean).join("; ")
          : "–";
        rows.push([
          String(a.attack),
          `${ms(pong.p50)} / ${ms(pong.p99)} / ${ms(pong.max)}`,
          `${int(a.pings as number)}${pong.lost ? ` (${pong.lost} lost)` : ""}`,
          `${ms(a.clientLateP99 as number)} / ${ms(a.clientLateMax as number)}`,
          String(a.normalClosed),
          pct(a.serverCpu as number | null),
          `${mb(a.rssBefore as number | null)} → ${mb(a.rssPeak as number | null)} → ${
            mb(a.rssAfter as number | null)
          }`,
          String(a.newcomer),
          a.attack === "baseline" ? "–" : a.pass ? "yes" : "**no**",
          saw.replaceAll("|", "\\|"),
        ]);
      }
    }
    out.push(
      table([
        "attack",
        "pong p50 / p99 / max ms",
        "pings",
        "client late p99 / max ms",
        "normal users closed",
        "server CPU",
        "server RSS before → peak → after",
        "newcomer",
        "≤ 100 ms",
        "what the attacker saw",
      ], rows),
    );
    out.push("");
  }

  // ---- Profiles
  out.push("## CPU profile of Causerie");
  out.push("");
  if (r.profiles.length === 0) {
    out.push(
      "Not taken in this run: `deno task bench --profile` runs Causerie under `deno run --cpu-prof` at a fixed fan-out and ingest rate and summarizes the profiles here (`bench/profile.ts FILE.cpuprofile` prints the same summary for any profile).",
    );
  }
  for (const prof of r.profiles) {
    const step = (prof.result.steps as Step[] | undefined)?.[0];
    if (prof.scenario === "idle") {
      const sessions = (prof.result.sessions as number | undefined) ?? 0;
      const perSec = prof.result.sessionsPerSec as number | undefined;
      out.push(
        `### idle: a wave of ${
          int(sessions)
        } token hellos, 200 at a time (whole process: start-up, the wave, shutdown; ${prof.summary.totalMs} ms sampled, ${prof.summary.idlePct}% idle${
          perSec ? `; ${int(perSec)} sessions/s` : ""
        })`,
      );
    } else {
      out.push(
        `### ${prof.scenario}${
          prof.users ? ` with ${int(prof.users)} users` : ""
        } at ${prof.rate} msg/s for ${
          step ? ((step as unknown as { durationMs: number }).durationMs / 1000).toFixed(1) : "?"
        } s (whole process: start-up, sessions, the step, shutdown; ${prof.summary.totalMs} ms sampled, ${prof.summary.idlePct}% idle${
          step
            ? `; that step: ${int(step.ackedPerSec)} acked/s, ${
              int(step.deliveriesPerSec)
            } deliveries/s, ack p99 ${ms(step.ack.p99)} ms, delivery p99 ${
              ms(step.delivery.p99)
            } ms, server CPU ${pct(step.serverCpu)}`
            : ""
        })`,
      );
    }
    out.push("");
    out.push(
      table(
        ["self time", "function", "", "inclusive time", "function"],
        Array.from(
          { length: Math.max(prof.summary.self.length, prof.summary.inclusive.length) },
          (_, i) => {
            const s = prof.summary.self[i];
            const t = prof.summary.inclusive[i];
            return [
              s ? `${s.pct}%` : "",
              s ? `\`${s.fn}\`` : "",
              "",
              t ? `${t.pct}%` : "",
              t ? `\`${t.fn}\`` : "",
            ];
          },
        ),
      ),
    );
    out.push("");
    if (prof.summary.watch.length) {
      out.push("Inclusive time of the frames that matter here (whole process):");
      out.push("");
      out.push(
        table(
          ["frame", "inclusive", "ms"],
          [
            ...prof.summary.watch.map((w) => [`\`${w.fn}\``, `${w.pct}%`, int(w.ms)]),
            ...(prof.summary.within ?? []).map((w) => [
              `\`${w.fn}\` within \`${w.caller}\``,
              `${w.pct}%`,
              int(w.ms),
            ]),
          ],
        ),
      );
      out.push("");
    }
  }

  // ---- Stopping
  out.push("## Stopping the servers");
  out.push("");
  out.push(
    "After each run the server gets SIGTERM (Causerie: a second one as soon as `/readyz` answers 503, which skips the countdown and drains at once) and is killed if it has not exited within 20 s. The load generator has closed its sockets by then.",
  );
  out.push("");
  {
    const scenarios = [...new Set(r.runs.map((x) => x.scenario))];
    const targets = [...new Set(r.runs.map((x) => x.target))];
    out.push(
      table(
        ["scenario", ...targets.map((t) => TARGET_NAMES[t])],
        scenarios.map((sc) => [
          sc,
          ...targets.map((t) =>
            runsOf(r, sc, t).map((x) =>
              x.stopMs === undefined ? "–" : `${int(x.stopMs)} ms${x.stopKilled ? " (killed)" : ""}`
            ).join(", ") || "–"
          ),
        ]),
      ),
    );
  }
  out.push("");

  if (r.notes.length) {
    out.push("## Run notes");
    out.push("");
    for (const n of r.notes) out.push(`- ${n}`);
    out.push("");
  }

  // ---- Preserved notes
  const start = previous.indexOf(NOTES_START);
  const end = previous.indexOf(NOTES_END);
  const kept = start >= 0 && end > start
    ? previous.slice(start, end + NOTES_END.length)
    : `${NOTES_START}\n## Notes\n\n(Hand-written analysis goes here; the generator keeps this section.)\n${NOTES_END}`;
  out.push(kept);
  out.push("");
  return out.join("\n");
}
