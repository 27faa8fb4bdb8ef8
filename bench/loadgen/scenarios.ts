/**
 * The benchmark scenarios, as run by the load generator against one server:
 * register, fan-out, ingest, idle sessions, login storm, many salons. Each
 * returns a plain JSON-able result; the orchestrator (bench/run.ts) compares
 * targets.
 *
 * Load is open-loop: a scheduler sends message k at time k/rate whatever
 * the server does, spread round-robin over enough senders that none exceeds
 * {@link PER_SENDER_MAX} messages per second (Causerie's default limit is 5
 * per second with a burst of 10: the limits are never lifted).
 *
 * @module
 */

import { Histogram, type LatencySummary, openFileLimit, type ProcSample } from "./stats.ts";
import { cpuPercent, machinePercent, sampleMachine, sampleProc } from "./stats.ts";
import { type Credentials, nullSink, Session, type Sink, type TargetKind } from "./session.ts";
import { Inspector } from "./inspector.ts";

/** Highest send rate of one session, messages per second (the server allows 5). */
export const PER_SENDER_MAX = 4;

/** What every scenario gets. */
export interface ScenarioContext {
  /** Server kind. */
  kind: TargetKind;
  /** Server port on 127.0.0.1. */
  port: number;
  /** Server process id, for /proc. */
  serverPid: number;
  /** Several instances: sessions go to `ports[i % n]` (user index i); their CPU is summed. */
  ports?: number[];
  /** The process ids of the instances (with `ports`). */
  serverPids?: number[];
  /** Users to be (Causerie: with tokens). */
  users: Credentials[];
  /** Scenario parameters. */
  params: Record<string, number | string | boolean>;
  /** Progress lines (stderr). */
  log: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function num(ctx: ScenarioContext, name: string, fallback: number): number {
  const v = ctx.params[name];
  return typeof v === "number" ? v : fallback;
}

/** Opens `n` sessions, `concurrency` at a time. */
export async function connectMany(
  ctx: ScenarioContext,
  n: number,
  opts: {
    credentials: (i: number) => Credentials;
    concurrency: number;
    sink?: Sink;
    bufferSize?: number;
    stopOnFailures?: number;
    localAddress?: (i: number) => string | undefined;
    deferHello?: boolean;
    timeoutMs?: number;
    /** Stop opening new sessions after this long, ms. */
    maxMs?: number;
  },
): Promise<
  { sessions: Session[]; ms: number; failures: number; firstError?: string; timedOut: boolean }
> {
  const sessions: Session[] = [];
  let failures = 0;
  let firstError: string | undefined;
  let next = 0;
  const t0 = performance.now();
  const stopAt = opts.stopOnFailures ?? Math.max(10, Math.ceil(n / 100));
  const endAt = t0 + (opts.maxMs ?? Infinity);
  let timedOut = false;
  const worker = async () => {
    while (next < n && failures < stopAt) {
      if (performance.now() > endAt) {
        timedOut = true;
        break;
      }
      const i = next++;
      try {
        sessions.push(
          await Session.connect({
            kind: ctx.kind,
            port: ctx.ports ? ctx.ports[i % ctx.ports.length] : ctx.port,
            credentials: opts.credentials(i),
            sink: opts.sink ?? nullSink,
            bufferSize: opts.bufferSize,
            localAddress: opts.localAddress?.(i),
            deferHello: opts.deferHello,
            timeoutMs: opts.timeoutMs ?? 60_000,
          }),
        );
      } catch (e) {
        failures++;
        firstError ??= (e as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, n) }, worker));
  return { sessions, ms: performance.now() - t0, failures, firstError, timedOut };
}

/** Per-step counters and histograms, fed by every session. */
class StepSink implements Sink {
  readonly steps: StepStats[] = [];
  lastFrameAt = performance.now();
  frames = 0;
  bytes = 0;
  strayErrors: Record<string, number> = {};

  ack(step: number, sentAt: number, timed: boolean): void {
    const s = this.steps[step];
    if (!s) return;
    s.acked++;
    if (timed) s.ackH.record(performance.now() - sentAt);
  }
  delivery(step: number, sentAt: number, timed: boolean): void {
    const s = this.steps[step];
    if (!s) return;
    s.delivered++;
    const now = performance.now();
    if (timed) s.delH.record(now - sentAt);
    if (now <= s.windowEnd) s.deliveredInWindow++;
  }
  refused(step: number, code: string): void {
    const s = this.steps[step];
    const errors = s ? s.errors : this.strayErrors;
    errors[code] = (errors[code] ?? 0) + 1;
    if (s) s.refused++;
  }
  frame(bytes: number): void {
    this.lastFrameAt = performance.now();
    this.frames++;
    this.bytes += bytes;
  }

  /** Waits until no frame has come for `quietMs` (at most `maxMs`). */
  async quiet(quietMs: number, maxMs: number): Promise<void> {
    const end = performance.now() + maxMs;
    while (performance.now() < end && performance.now() - this.lastFrameAt < quietMs) {
      await sleep(Math.min(50, quietMs / 2));
    }
  }
}

interface StepStats {
  sent: number;
  acked: number;
  refused: number;
  delivered: number;
  deliveredInWindow: number;
  windowEnd: number;
  errors: Record<string, number>;
  ackH: Histogram;
  delH: Histogram;
}

/** What one step of a ladder measured. */
export interface StepResult {
  /** Offered rate, messages per second. */
  rate: number;
  /** Sessions sending. */
  senders: number;
  /** Offered rate of each sender, messages per second. */
  perSender: number;
  /** Length of the sending window, ms. */
  durationMs: number;
  /** Messages sent. */
  sent: number;
  /** Messages acknowledged (`ok`). */
  acked: number;
  /** Messages refused (`error`), by code in `errors`. */
  refused: number;
  /** Refusals by code. */
  errors: Record<string, number>;
  /** Acknowledged messages per second of the window. */
  ackedPerSec: number;
  /** Deliveries (`message`/`direct` frames received) of the step's messages. */
  delivered: number;
  /** Deliveries expected. */
  expected: number;
  /** Deliveries per second of the window. */
  deliveriesPerSec: number;
  /** Deliveries that arrived within the window, per second (what the server sustained). */
  deliveriesInWindowPerSec: number;
  /** send -> ok. */
  ack: LatencySummary;
  /** send -> message, at each receiver. */
  delivery: LatencySummary;
  /** Server CPU over the window, % of one core. */
  serverCpu: number | null;
  /** Server RSS at the end of the window, bytes. */
  serverRss: number | null;
  /** Load generator CPU over the window, % of one core. */
  loadgenCpu: number | null;
  /** The whole machine's CPU use over the window, % of all cores (others' load shows here). */
  machineCpu: number | null;
  /** Sessions closed by the server so far. */
  closed: number;
  /** Whether the step met the scenario's latency bound. */
  pass: boolean;
}

interface LadderOptions {
  sink: StepSink;
  sessions: Session[];
  serverPid: number;
  /** Several instances: their CPU and RSS are summed. */
  serverPids?: number[];
  start: number;
  factor: number;
  maxSteps: number;
  bisect: number;
  durationMs: number;
  drainMs: number;
  /** Highest rate the workload can offer without breaking the limits (Causerie), or Infinity. */
  ceiling: number;
  /** A rate every target's ladder steps on exactly (Causerie's ceiling), for comparisons at equal load. */
  waypoint?: number;
  senders: (rate: number) => number;
  expectedPer: number;
  send: (k: number, step: number, t: number, rate: number) => void;
  /** Called before each step (to choose which sessions read lazily). */
  beforeStep?: (rate: number) => void;
  pass: (r: StepResult) => boolean;
  log: (line: string) => void;
  /** Whole-ladder time budget, ms. */
  budgetMs: number;
  /** A failed step is run again this many times before it counts (noise from other processes). */
  retries: number;
}

/** The server's CPU and RSS now: the sum over the instances when there are several. */
function sampleServer(o: LadderOptions): ProcSample | undefined {
  if (!o.serverPids) return sampleProc(o.serverPid);
  const samples = o.serverPids.map((pid) => sampleProc(pid));
  if (samples.some((x) => x === undefined)) return undefined;
  return {
    at: performance.now(),
    cpuMs: samples.reduce((sum, x) => sum + x!.cpuMs, 0),
    rss: samples.reduce((sum, x) => sum + x!.rss, 0),
  };
}

async function runStep(o: LadderOptions, step: number, rate: number): Promise<StepResult> {
  const stats: StepStats = {
    sent: 0,
    acked: 0,
    refused: 0,
    delivered: 0,
    deliveredInWindow: 0,
    windowEnd: Infinity,
    errors: {},
    ackH: new Histogram(),
    delH: new Histogram(),
  };
  o.beforeStep?.(rate);
  o.sink.steps[step] = stats;
  const server0 = sampleServer(o);
  const self0 = sampleProc("self");
  const machine0 = sampleMachine();
  const t0 = performance.now();
  const end = t0 + o.durationMs;
  let k = 0;
  while (true) {
    const now = performance.now();
    if (now >= end) break;
    const due = Math.floor((now - t0) * rate / 1000);
    // Bounded catch-up: never more than 50 ms worth of messages at once.
    const limit = Math.min(due, k + Math.max(1, Math.ceil(rate / 20)));
    while (k < limit) {
      o.send(k, step, performance.now(), rate);
      k++;
    }
    await sleep(2);
  }
  stats.windowEnd = performance.now();
  stats.sent = k;
  const server1 = sampleServer(o);
  const self1 = sampleProc("self");
  const machine1 = sampleMachine();
  const windowMs = stats.windowEnd - t0;
  // Drain: wait for every ack and delivery, or give up after drainMs.
  const drainEnd = performance.now() + o.drainMs;
  while (performance.now() < drainEnd) {
    const acksDone = stats.acked + stats.refused >= stats.sent;
    const delDone = stats.delivered >= (stats.sent - stats.refused) * o.expectedPer;
    if (acksDone && delDone) break;
    await sleep(10);
  }
  const expected = (stats.sent - stats.refused) * o.expectedPer;
  const ackLost = Math.max(0, stats.sent - stats.refused - stats.acked);
  const delLost = Math.max(0, expected - stats.delivered);
  stats.ackH.recordLost(ackLost);
  stats.delH.recordLost(delLost);
  o.sink.steps[step] = undefined as unknown as StepStats; // late frames are ignored
  const senders = o.senders(rate);
  const result: StepResult = {
    rate: Math.round(rate * 10) / 10,
    senders,
    perSender: Math.round(rate / senders * 100) / 100,
    durationMs: Math.round(windowMs),
    sent: stats.sent,
    acked: stats.acked,
    refused: stats.refused,
    errors: stats.errors,
    ackedPerSec: Math.round(stats.acked / windowMs * 1000),
    delivered: stats.delivered,
    expected,
    deliveriesPerSec: Math.round(stats.delivered / windowMs * 1000),
    deliveriesInWindowPerSec: Math.round(stats.deliveredInWindow / windowMs * 1000),
    ack: stats.ackH.summary(),
    delivery: stats.delH.summary(),
    serverCpu: cpuPercent(server0, server1),
    serverRss: server1?.rss ?? null,
    loadgenCpu: cpuPercent(self0, self1),
    machineCpu: machinePercent(machine0, machine1),
    closed: o.sessions.filter((s) => s.closeCode !== undefined).length,
    pass: false,
  };
  result.pass = o.pass(result);
  const fmt = (v: number | null) => v === null ? "inf" : v.toFixed(1);
  o.log(
    `  step ${step} rate ${result.rate}/s x${senders}: acked ${result.ackedPerSec}/s, ` +
      `deliveries ${result.deliveriesPerSec}/s, ack p99 ${fmt(result.ack.p99)} ms, ` +
      `delivery p99 ${fmt(result.delivery.p99)} ms, refused ${result.refused}, ` +
      `cpu server ${result.serverCpu}% loadgen ${result.loadgenCpu}% machine ${result.machineCpu}% ${
        result.pass ? "PASS" : "FAIL"
      }`,
  );
  return result;
}

/** Raises the rate step by step until a step fails, then narrows the limit down. */
async function ladder(
  o: LadderOptions,
): Promise<{ steps: StepResult[]; capped: boolean; limitFound: boolean }> {
  const steps: StepResult[] = [];
  const t0 = performance.now();
  let good = 0;
  let bad = Infinity;
  let rate = Math.min(o.start, o.ceiling);
  let capped = false;
  const over = () => performance.now() - t0 > o.budgetMs;
  for (let i = 0; i < o.maxSteps && !over(); i++) {
    await o.sink.quiet(250, 5000);
    let r = await runStep(o, steps.length, rate);
    steps.push(r);
    for (let t = 0; t < o.retries && !r.pass && !over(); t++) {
      await o.sink.quiet(500, 5000);
      r = await runStep(o, steps.length, rate);
      steps.push(r);
    }
    if (!r.pass) {
      bad = rate;
      break;
    }
    good = rate;
    if (rate >= o.ceiling) {
      capped = true;
      break;
    }
    const next = Math.min(rate * o.factor, o.ceiling);
    rate = o.waypoint !== undefined && rate < o.waypoint && next > o.waypoint ? o.waypoint : next;
  }
  // The first step already failed: come down until one passes (at most 3 times).
  for (let i = 0; i < 3 && good === 0 && Number.isFinite(bad) && !over(); i++) {
    rate = bad / o.factor;
    await o.sink.quiet(500, 5000);
    const r = await runStep(o, steps.length, rate);
    steps.push(r);
    if (r.pass) good = rate;
    else bad = rate;
  }
  for (let i = 0; i < o.bisect && Number.isFinite(bad) && good > 0 && !over(); i++) {
    const mid = Math.sqrt(good * bad);
    if (bad / good < 1.08) break;
    await o.sink.quiet(250, 5000);
    let r = await runStep(o, steps.length, mid);
    steps.push(r);
    for (let t = 0; t < o.retries && !r.pass && !over(); t++) {
      await o.sink.quiet(500, 5000);
      r = await runStep(o, steps.length, mid);
      steps.push(r);
    }
    if (r.pass) good = mid;
    else bad = mid;
  }
  return { steps, capped, limitFound: Number.isFinite(bad) };
}

function best(
  steps: StepResult[],
  metric: (s: StepResult) => number,
): StepResult | undefined {
  let top: StepResult | undefined;
  for (const s of steps) if (s.pass && (!top || metric(s) > metric(top))) top = s;
  return top;
}

function filler(n: number): string {
  const words = "le chat de la voisine a encore mangé les croissants du salon ce matin ";
  return words.repeat(Math.ceil(n / words.length)).slice(0, n);
}

/** Registers `count` users over WebSocket (`register` frames), keeping their tokens. */
export async function register(ctx: ScenarioContext): Promise<Record<string, unknown>> {
  const count = num(ctx, "count", 100);
  const prefix = String(ctx.params.prefix ?? "b");
  const password = String(ctx.params.password ?? "bench-password-1");
  const names = Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(5, "0")}`);
  const { sessions, ms, failures, firstError } = await connectMany(ctx, count, {
    credentials: (i) => ({ username: names[i], password, register: true }),
    concurrency: num(ctx, "concurrency", 32),
    bufferSize: 4096,
    stopOnFailures: 1,
  });
  const users = sessions.map((s) => ({ username: s.credentials.username, token: s.token }));
  for (const s of sessions) s.close();
  if (failures > 0) throw new Error(`registration failed: ${firstError}`);
  users.sort((a, b) => a.username < b.username ? -1 : 1);
  return { users, password, count: users.length, ms, perSec: count / ms * 1000 };
}

/** Fan-out: N members online in one salon, the send rate raised step by step. */
export async function fanout(ctx: ScenarioContext): Promise<Record<string, unknown>> {
  const members = num(ctx, "members", 1000);
  const sink = new StepSink();
  const conn = await connectMany(ctx, members, {
    credentials: (i) => ctx.users[i % ctx.users.length],
    concurrency: num(ctx, "concurrency", 100),
    sink,
  });
  if (conn.failures > 0) {
    throw new Error(`fan-out: ${conn.failures} sessions failed: ${conn.firstError}`);
  }
  ctx.log(`  ${members} members online in ${Math.round(conn.ms)} ms`);
  const sessions = conn.sessions;
  await sink.quiet(1200, 15_000);
  const text = filler(num(ctx, "textLength", 60));
  const senders = (rate: number) => Math.min(members, Math.ceil(rate / PER_SENDER_MAX));
  const salon = String(ctx.params.salon ?? "Général");
  const timedEvery = num(ctx, "timedEvery", 10);
  const lazyMs = num(ctx, "lazyMs", 50);
  const { steps, capped, limitFound } = await ladder({
    sink,
    sessions,
    serverPid: ctx.serverPid,
    ...(ctx.serverPids ? { serverPids: ctx.serverPids } : {}),
    start: num(ctx, "start", 50),
    factor: num(ctx, "factor", 1.5),
    maxSteps: num(ctx, "maxSteps", 10),
    bisect: num(ctx, "bisect", 1),
    durationMs: num(ctx, "stepMs", 3000),
    drainMs: num(ctx, "drainMs", 1500),
    ceiling: ctx.kind === "causerie" ? members * PER_SENDER_MAX : Infinity,
    senders,
    expectedPer: members,
    beforeStep: (rate) => {
      const n = senders(rate);
      sessions.forEach((s, i) => s.ws.readDelayMs = i < n || i % timedEvery === 0 ? 0 : lazyMs);
    },
    send: (k, step, t, rate) => {
      sessions[k % senders(rate)].say(salon, text, step, t);
    },
    pass: (r) =>
      r.delivery.p99 !== null && r.delivery.p99 <= 100 && r.delivered === r.expected &&
      r.refused === 0 && r.closed === 0,
    log: ctx.log,
    budgetMs: num(ctx, "budgetMs", 120_000),
    retries: num(ctx, "retries", 0),
  });
  for (const s of sessions) s.close();
  const top = best(steps, (s) => s.deliveriesPerSec);
  return {
    members,
    connectMs: conn.ms,
    steps,
    capped,
    limitFound,
    best: top ?? null,
    bestDeliveriesPerSec: top?.deliveriesPerSec ?? 0,
  };
}

/** Ingest: users in pairs sending direct messages; acknowledged messages per second. */
export async function ingest(ctx: ScenarioContext): Promise<Record<string, unknown>> {
  const users = num(ctx, "users", 1000) & ~1;
  const sink = new StepSink();
  const conn = await connectMany(ctx, users, {
    credentials: (i) => ctx.users[i % ctx.users.length],
    concurrency: num(ctx, "concurrency", 100),
    sink,
  });
  if (conn.failures > 0) {
    throw new Error(`ingest: ${conn.failures} sessions failed: ${conn.firstError}`);
  }
  ctx.log(`  ${users} users online in ${Math.round(conn.ms)} ms`);
  const sessions = conn.sessions;
  // Sessions in pairs: 2i <-> 2i+1 (sorted by index, not by connection order).
  const byIndex = new Map(sessions.map((s) => [s.credentials.username, s]));
  const ordered = Array.from({ length: users }, (_, i) => byIndex.get(ctx.users[i].username)!);
  await sink.quiet(1200, 15_000);
  const text = filler(num(ctx, "textLength", 60));
  const senders = (rate: number) => Math.min(users, Math.ceil(rate / PER_SENDER_MAX));
  const { steps, capped, limitFound } = await ladder({
    sink,
    sessions,
    serverPid: ctx.serverPid,
    ...(ctx.serverPids ? { serverPids: ctx.serverPids } : {}),
    start: num(ctx, "start", 200),
    factor: num(ctx, "factor", 1.5),
    maxSteps: num(ctx, "maxSteps", 10),
    bisect: num(ctx, "bisect", 1),
    durationMs: num(ctx, "stepMs", 3000),
    drainMs: num(ctx, "drainMs", 1500),
    ceiling: ctx.kind === "causerie" ? users * PER_SENDER_MAX : num(ctx, "baselineCeiling", 1e6),
    waypoint: users * PER_SENDER_MAX,
    senders,
    expectedPer: 2,
    send: (k, step, t, rate) => {
      const i = k % senders(rate);
      ordered[i].direct(ordered[i ^ 1].credentials.username, text, step, t);
    },
    pass: (r) => r.ack.p99 !== null && r.ack.p99 <= 50 && r.refused === 0 && r.closed === 0,
    log: ctx.log,
    budgetMs: num(ctx, "budgetMs", 120_000),
    retries: num(ctx, "retries", 0),
  });
  for (const s of sessions) s.close();
  const top = best(steps, (s) => s.ackedPerSec);
  return {
    users,
    connectMs: conn.ms,
    steps,
    capped,
    limitFound,
    best: top ?? null,
    bestAckedPerSec: top?.ackedPerSec ?? 0,
  };
}

/** Many salons: `salons` small salons of `members` each, one message per salon per second and up. */
export async function salons(ctx: ScenarioContext): Promise<Record<string, unknown>> {
  const nSalons = num(ctx, "salons", 1000);
  const members = num(ctx, "members", 10);
  const total = nSalons * members;
  const prefix = String(ctx.params.salonPrefix ?? "S");
  const salonName = (i: number) => `${prefix}${String(i).padStart(4, "0")}`;
  const sink = new StepSink();
  const conn = await connectMany(ctx, total, {
    credentials: (i) => ctx.users[i],
    concurrency: num(ctx, "concurrency", 100),
    sink,
    bufferSize: 8192,
  });
  if (conn.failures > 0) {
    throw new Error(`salons: ${conn.failures} sessions failed: ${conn.firstError}`);
  }
  const byName = new Map(conn.sessions.map((s) => [s.credentials.username, s]));
  const ordered = Array.from({ length: total }, (_, i) => byName.get(ctx.users[i].username)!);
  // Session i belongs to salon i % nSalons; joins run 100 at a time.
  const tj = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: 100 }, async () => {
    while (next < total) {
      const i = next++;
      await ordered[i].join(salonName(i % nSalons));
    }
  }));
  const joinMs = performance.now() - tj;
  ctx.log(
    `  ${total} sessions in ${Math.round(conn.ms)} ms, joined ${nSalons} salons in ${
      Math.round(joinMs)
    } ms`,
  );
  await sink.quiet(1200, 20_000);
  const text = filler(num(ctx, "textLength", 60));
  const timedEvery = num(ctx, "timedEvery", 10);
  const lazyMs = num(ctx, "lazyMs", 50);
  const { steps, capped, limitFound } = await ladder({
    sink,
    sessions: ordered,
    serverPid: ctx.serverPid,
    start: num(ctx, "start", 1) * nSalons,
    factor: num(ctx, "factor", 1.5),
    maxSteps: num(ctx, "maxSteps", 10),
    bisect: num(ctx, "bisect", 1),
    durationMs: num(ctx, "stepMs", 3000),
    drainMs: num(ctx, "drainMs", 1500),
    ceiling: ctx.kind === "causerie" ? total * PER_SENDER_MAX : Infinity,
    waypoint: total * PER_SENDER_MAX,
    senders: () => total,
    expectedPer: members,
    beforeStep: () => {
      ordered.forEach((s, i) => s.ws.readDelayMs = i % timedEvery === 0 ? 0 : lazyMs);
    },
    send: (k, step, t) => {
      const salon = k % nSalons;
      const member = Math.floor(k / nSalons) % members;
      ordered[salon + member * nSalons].say(salonName(salon), text, step, t);
    },
    pass: (r) =>
      r.delivery.p99 !== null && r.delivery.p99 <= 100 && r.delivered === r.expected &&
      r.refused === 0 && r.closed === 0,
    log: ctx.log,
    budgetMs: num(ctx, "budgetMs", 120_000),
    retries: num(ctx, "retries", 0),
  });
  for (const s of ordered) s.close();
  const top = best(steps, (s) => s.deliveriesPerSec);
  return {
    salons: nSalons,
    members,
    connectMs: conn.ms,
    joinMs,
    steps,
    capped,
    limitFound,
    best: top ?? null,
    bestMessagesPerSalonPerSec: top ? top.rate / nSalons : 0,
    bestDeliveriesPerSec: top?.deliveriesPerSec ?? 0,
  };
}

/** Idle sessions: RSS per session and sessions per second, then as many as file limits allow. */
export async function idle(ctx: ScenarioContext): Promise<Record<string, unknown>> {
  const target = num(ctx, "sessions", 10_000);
  const settleMs = num(ctx, "settleMs", 3000);
  const sink = new StepSink();
  const serverLimit = openFileLimit(ctx.serverPid) ?? 1024;
  const selfLimit = openFileLimit("self") ?? 1024;
  const maxUsers = ctx.users.length;
  const credentials = (i: number) => ctx.users[i % maxUsers];
  // With an inspector port, a full garbage collection before each reading
  // separates memory held per session from garbage not yet collected.
  // The inspector is attached only for each reading: while a session is
  // attached, Deno reports every WebSocket frame to it, which costs a lot.
  const inspectPort = num(ctx, "inspectPort", 0);
  const collected = async () => {
    if (!inspectPort) return { proc: undefined, heap: undefined };
    const inspector = await Inspector.connect(inspectPort);
    try {
      await inspector.collectGarbage();
      const heap = await inspector.heap();
      inspector.close();
      await sleep(500);
      return { proc: sampleProc(ctx.serverPid), heap };
    } finally {
      inspector.close();
    }
  };
  await sleep(500);
  const before = sampleProc(ctx.serverPid);
  const beforeGc = await collected();
  const first = await connectMany(ctx, target, {
    credentials,
    concurrency: num(ctx, "concurrency", 200),
    sink,
    bufferSize: 2048,
  });
  const sessions = first.sessions;
  ctx.log(
    `  ${sessions.length} sessions in ${Math.round(first.ms)} ms (${first.failures} failures${
      first.firstError ? `: ${first.firstError}` : ""
    })`,
  );
  await sink.quiet(1500, 60_000);
  await sleep(settleMs);
  const at = sampleProc(ctx.serverPid);
  const atGc = await collected();
  const perSession = (a: ProcSample | undefined, b: ProcSample | undefined, n: number) =>
    a && b && n > 0 ? Math.round((b.rss - a.rss) / n) : null;
  const result: Record<string, unknown> = {
    sessions: sessions.length,
    failures: first.failures,
    firstError: first.firstError ?? null,
    connectMs: first.ms,
    sessionsPerSec: Math.round(sessions.length / first.ms * 1000),
    rssBefore: before?.rss ?? null,
    rssAfter: at?.rss ?? null,
    rssPerSession: perSession(before, at, sessions.length),
    rssBeforeGc: beforeGc.proc?.rss ?? null,
    rssAfterGc: atGc.proc?.rss ?? null,
    rssPerSessionGc: perSession(beforeGc.proc, atGc.proc, sessions.length),
    heapBeforeGc: beforeGc.heap?.used ?? null,
    heapAfterGc: atGc.heap?.used ?? null,
    heapPerSession: beforeGc.heap && atGc.heap
      ? Math.round((atGc.heap.used - beforeGc.heap.used) / sessions.length)
      : null,
    serverFileLimit: serverLimit,
    loadgenFileLimit: selfLimit,
    presenceBytes: sink.bytes,
  };
  if (ctx.params.toLimit) {
    // Leave room for the server's own files (database, listeners, admin socket).
    const cap = Math.min(serverLimit, selfLimit) - 64;
    const users5 = maxUsers * 5;
    const goal = Math.min(cap, users5, num(ctx, "maxSessions", 100_000));
    const more = await connectMany(ctx, goal - sessions.length, {
      credentials: (i) => credentials(sessions.length + i),
      concurrency: num(ctx, "concurrency", 200),
      sink,
      bufferSize: 2048,
      stopOnFailures: 20,
      maxMs: num(ctx, "limitMaxMs", 150_000),
    });
    sessions.push(...more.sessions);
    await sink.quiet(1500, 60_000);
    await sleep(settleMs);
    const atMax = sampleProc(ctx.serverPid);
    const atMaxGc = await collected();
    const open = sessions.filter((s) => s.closeCode === undefined).length;
    ctx.log(
      `  at the limit: ${open} sessions open (goal ${goal}, ${more.failures} failures${
        more.firstError ? `: ${more.firstError}` : ""
      })`,
    );
    Object.assign(result, {
      maxGoal: goal,
      maxTimedOut: more.timedOut,
      maxGoalReason: goal === cap
        ? `open-file limit ${Math.min(serverLimit, selfLimit)} minus 64`
        : goal === users5
        ? `${maxUsers} users x 5 sessions`
        : "configured",
      maxSessions: open,
      maxFailures: more.failures,
      maxFirstError: more.firstError ?? null,
      rssAtMax: atMax?.rss ?? null,
      rssPerSessionAtMax: perSession(before, atMax, open),
      rssPerSessionAtMaxGc: perSession(beforeGc.proc, atMaxGc.proc, open),
      maxConnectMs: more.ms,
    });
  }
  for (const s of sessions) s.close();
  return result;
}

/** Login storm: `logins` password hellos at once; logins per second and the server's worst lag. */
export async function storm(ctx: ScenarioContext): Promise<Record<string, unknown>> {
  const logins = num(ctx, "logins", 1000);
  const password = String(ctx.params.password ?? "bench-password-1");
  const addresses = num(ctx, "addresses", 64);
  const probeUser = ctx.users[ctx.users.length - 1];
  const probe = new Worker(new URL("./lag_probe.ts", import.meta.url), { type: "module" });
  const probeReady = new Promise<void>((resolve, reject) => {
    probe.onmessage = (e) => e.data.ready ? resolve() : reject(new Error(String(e.data.error)));
    probe.onerror = (e) => reject(new Error(e.message));
  });
  probe.postMessage({ cmd: "init", kind: ctx.kind, port: ctx.port, credentials: probeUser });
  await probeReady;
  // Open every socket first, then send every hello at once.
  const sink = new StepSink();
  const open = await connectMany(ctx, logins, {
    credentials: (i) => ({ username: ctx.users[i].username, password }),
    concurrency: 200,
    sink,
    bufferSize: 4096,
    deferHello: true,
    localAddress: addresses > 1 ? (i) => `127.0.1.${1 + (i % addresses)}` : undefined,
  });
  if (open.failures > 0) {
    throw new Error(`storm: ${open.failures} sockets failed: ${open.firstError}`);
  }
  await sleep(1200); // the probe's baseline
  probe.postMessage({ cmd: "start" });
  const t0 = performance.now();
  const latency = new Histogram();
  let ok = 0;
  const errors: Record<string, number> = {};
  for (const s of open.sessions) s.hello();
  await Promise.all(open.sessions.map(async (s) => {
    try {
      await s.welcomed(120_000);
      ok++;
      latency.record(performance.now() - t0);
    } catch (e) {
      const code = (e as Error).message.split(":")[0];
      errors[code] = (errors[code] ?? 0) + 1;
    }
  }));
  const ms = performance.now() - t0;
  await sink.quiet(1200, 10_000);
  const lag = await new Promise<Record<string, unknown>>((resolve) => {
    probe.onmessage = (e) => resolve(e.data);
    probe.postMessage({ cmd: "stop" });
  });
  probe.terminate();
  for (const s of open.sessions) s.close();
  return {
    logins,
    addresses,
    ok,
    errors,
    ms,
    loginsPerSec: Math.round(ok / ms * 1000 * 10) / 10,
    latency: latency.summary(),
    lag,
  };
}
