/**
 * "Pong under attack": normal users, welcomed in Général, each send `ping`
 * every second and time the `pong`, while one attacker (ONE account, ONE
 * source address, on its own thread: bench/loadgen/attacker.ts) runs each
 * attack in turn. The claim under test: no single account or address can
 * make other users wait more than 100 ms for a pong.
 *
 * Addresses: Linux routes the whole 127.0.0.0/8 to loopback, and node:net
 * binds a source address under Deno, so the server sees the normal users
 * from 127.0.2.1-50 (four each), the history seeders from 127.0.3.x, the
 * newcomers from 127.0.4.x and the attacker from its own address
 * (127.0.0.1 by default). Causerie runs with its default limits.
 *
 * @module
 */

import { Histogram, type LatencySummary } from "./stats.ts";
import { cpuPercent, machinePercent, sampleMachine, sampleProc } from "./stats.ts";
import { nullSink, Session } from "./session.ts";
import { connectMany, type ScenarioContext } from "./scenarios.ts";
import { type AttackName, type AttackReport, ATTACKS } from "./attacks.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function num(ctx: ScenarioContext, name: string, fallback: number): number {
  const v = ctx.params[name];
  return typeof v === "number" ? v : fallback;
}

/** One window of the run: the baseline, or an attack (plus its tail). */
interface Window {
  name: string;
  start: number;
  end: number;
  rtt: Histogram;
  /** Timer lateness of the normal users' own thread, ms. */
  late: Histogram;
  /** Pings of the window still waiting for their pong. */
  pending: number;
}

/** What one attack did to the normal users, and what the attacker saw. */
export interface AttackResult {
  /** Which attack. */
  attack: AttackName | "baseline";
  /** Pongs timed (pings sent in the window). */
  pings: number;
  /** Pong latency of the normal users, ms (lost = no pong within 10 s). */
  pong: LatencySummary;
  /** Whether the 100 ms bound held (max ≤ 100, nothing lost, no normal user closed). */
  pass: boolean;
  /** The normal users' own timer lateness (client-side noise), p99 / max, ms. */
  clientLateP99: number;
  /** The same, max. */
  clientLateMax: number;
  /** Normal users closed by the server during the window. */
  normalClosed: number;
  /** Server CPU over the window, % of one core. */
  serverCpu: number | null;
  /** The whole machine's CPU, % of all cores. */
  machineCpu: number | null;
  /** Server RSS before, at its highest (sampled every 250 ms) and 1 s after the window, bytes. */
  rssBefore: number | null;
  /** See {@link rssBefore}. */
  rssPeak: number | null;
  /** See {@link rssBefore}. */
  rssAfter: number | null;
  /** A newcomer (fresh account and address) connecting half-way: welcomed in ms, or why not. */
  newcomer: string;
  /** What the attacker saw. */
  attacker?: AttackReport;
}

/** The scenario. */
export async function pongAttack(ctx: ScenarioContext): Promise<Record<string, unknown>> {
  const normals = num(ctx, "normals", 200);
  const seeders = num(ctx, "seeders", 50);
  const attackMs = num(ctx, "attackMs", 10_000);
  const tailMs = num(ctx, "tailMs", 1000);
  const gapMs = num(ctx, "gapMs", 3000);
  const baselineMs = num(ctx, "baselineMs", 5000);
  const pingEveryMs = num(ctx, "pingEveryMs", 1000);
  const maxText = num(ctx, "maxText", 2000);
  const attackerAddress = String(ctx.params.attackerAddress ?? "127.0.0.1");
  const only = typeof ctx.params.attacks === "string"
    ? ctx.params.attacks.split(",") as AttackName[]
    : [...ATTACKS];
  if (ctx.users.length < normals + seeders + 12) {
    throw new Error(`pong under attack needs ${normals + seeders + 12} users`);
  }
  const normalUsers = ctx.users.slice(0, normals);
  const seederUsers = ctx.users.slice(normals, normals + seeders);
  const newcomers = ctx.users.slice(normals + seeders, normals + seeders + 10);
  const attacker = ctx.users[ctx.users.length - 1];
  if (!attacker.token) throw new Error("the attacker needs a token (Causerie users file)");
  const normalAddress = (i: number) => `127.0.2.${1 + (i % 50)}`;

  // History to page through: seeders fill Blabla with messages of the longest text.
  const seed = await connectMany(ctx, seeders, {
    credentials: (i) => seederUsers[i],
    concurrency: 25,
    localAddress: (i) => `127.0.3.${1 + (i % 50)}`,
    bufferSize: 4096,
  });
  if (seed.failures > 0) throw new Error(`seeders: ${seed.failures} failed: ${seed.firstError}`);
  const long = "x".repeat(maxText);
  await Promise.all(seed.sessions.map(async (s) => {
    await s.join("Blabla");
    for (let i = 0; i < 4; i++) {
      s.ws.send(JSON.stringify({ type: "say", salon: "Blabla", text: long, ref: `s${i}` }));
    }
  }));
  await sleep(2000);
  for (const s of seed.sessions) s.close();
  ctx.log(`  seeded Blabla with ${seeders * 4} messages of ${maxText} characters`);

  // The normal users.
  const conn = await connectMany(ctx, normals, {
    credentials: (i) => normalUsers[i],
    concurrency: 50,
    localAddress: normalAddress,
    bufferSize: 8192,
  });
  if (conn.failures > 0) {
    throw new Error(`pong under attack: ${conn.failures} normal users failed: ${conn.firstError}`);
  }
  const sessions = conn.sessions;
  ctx.log(`  ${normals} normal users welcomed in ${Math.round(conn.ms)} ms`);

  const windows: Window[] = [];
  const windowAt = (t: number) => windows.find((w) => t >= w.start && t < w.end);
  let running = true;

  // Every normal user pings once per period, staggered over the period.
  const pingLoops = sessions.map(async (s, i) => {
    await sleep((i / sessions.length) * pingEveryMs);
    let next = performance.now();
    while (running && s.closeCode === undefined) {
      const at = performance.now();
      const w = windowAt(at);
      if (w) w.pending++;
      let rtt: number;
      try {
        rtt = await s.ping(10_000);
      } catch {
        rtt = Infinity;
      }
      if (w) {
        w.pending--;
        Number.isFinite(rtt) ? w.rtt.record(rtt) : w.rtt.recordLost(1);
      }
      next += pingEveryMs;
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
      else next = performance.now();
    }
  });
  // The normal users' thread's own lateness, to tell client noise from server lag.
  const lateLoop = (async () => {
    while (running) {
      const t = performance.now();
      await sleep(10);
      const late = performance.now() - t - 10;
      const w = windowAt(t);
      if (w) w.late.record(Math.max(0.001, late));
    }
  })();

  const rssPoll = (into: { peak: number | null }) => {
    const timer = setInterval(() => {
      const rss = sampleProc(ctx.serverPid)?.rss ?? null;
      if (rss !== null && (into.peak === null || rss > into.peak)) into.peak = rss;
    }, 250);
    return () => clearInterval(timer);
  };

  let newcomerIndex = 0;
  const newcomer = async (): Promise<string> => {
    const k = newcomerIndex++;
    const t0 = performance.now();
    try {
      const s = await Session.connect({
        kind: ctx.kind,
        port: ctx.port,
        credentials: newcomers[k % newcomers.length],
        sink: nullSink,
        bufferSize: 8192,
        localAddress: `127.0.4.${1 + k}`,
        timeoutMs: 10_000,
      });
      const ms = performance.now() - t0;
      s.close();
      return `welcomed in ${ms.toFixed(0)} ms`;
    } catch (e) {
      return `failed after ${(performance.now() - t0).toFixed(0)} ms: ${(e as Error).message}`;
    }
  };

  const measure = async (
    name: AttackName | "baseline",
    body: () => Promise<AttackReport | undefined>,
  ): Promise<AttackResult> => {
    const closed0 = sessions.filter((s) => s.closeCode !== undefined).length;
    const rss = { peak: null as number | null };
    const rssBefore = sampleProc(ctx.serverPid)?.rss ?? null;
    const server0 = sampleProc(ctx.serverPid);
    const machine0 = sampleMachine();
    const w: Window = {
      name,
      start: performance.now(),
      end: Infinity,
      rtt: new Histogram(),
      late: new Histogram(),
      pending: 0,
    };
    windows.push(w);
    const stopPoll = rssPoll(rss);
    const half = sleep(attackMs / 2).then(newcomer);
    const report = await body();
    await sleep(tailMs);
    w.end = performance.now();
    stopPoll();
    const server1 = sampleProc(ctx.serverPid);
    const machine1 = sampleMachine();
    // Pings sent in the window may still be waiting for their pong (10 s at most).
    const settle = performance.now();
    while (w.pending > 0 && performance.now() - settle < 10_500) await sleep(50);
    await sleep(Math.max(0, gapMs - (performance.now() - settle)));
    const closed = sessions.filter((s) => s.closeCode !== undefined).length - closed0;
    const pong = w.rtt.summary();
    const result: AttackResult = {
      attack: name,
      pings: w.rtt.count,
      pong,
      pass: w.rtt.lost === 0 && w.rtt.count > 0 && w.rtt.max <= 100 && closed === 0,
      clientLateP99: Math.round(w.late.percentile(0.99) * 10) / 10,
      clientLateMax: Math.round(w.late.max * 10) / 10,
      normalClosed: closed,
      serverCpu: cpuPercent(server0, server1),
      machineCpu: machinePercent(machine0, machine1),
      rssBefore,
      rssPeak: rss.peak,
      rssAfter: sampleProc(ctx.serverPid)?.rss ?? null,
      newcomer: await half,
      attacker: report,
    };
    const f = (v: number | null) => v === null ? "inf" : v.toFixed(1);
    ctx.log(
      `  ${name}: pong p50 ${f(pong.p50)} p99 ${f(pong.p99)} max ${
        f(pong.max)
      } ms (${w.rtt.count} pings, ` +
        `${w.rtt.lost} lost, client late max ${result.clientLateMax} ms), normal closed ${closed}, ` +
        `server cpu ${result.serverCpu}%, rss ${((rssBefore ?? 0) / 1e6).toFixed(0)}→${
          ((rss.peak ?? 0) / 1e6).toFixed(0)
        } MB, newcomer ${result.newcomer} ${result.pass ? "PASS" : "FAIL"}`,
    );
    if (report) {
      ctx.log(
        `    attacker: connected ${report.connected}, welcomed ${report.welcomed}, refused ${
          JSON.stringify(report.refused)
        }, closes ${JSON.stringify(report.closes)}, frames ${report.framesSent}, received ${
          JSON.stringify(report.received)
        }, http ${JSON.stringify(report.http)} ${JSON.stringify(report.extra)}`,
      );
    }
    return result;
  };

  const worker = new Worker(new URL("./attacker.ts", import.meta.url), { type: "module" });
  const attack = (name: AttackName) =>
    new Promise<AttackReport>((resolve, reject) => {
      worker.onmessage = (e) =>
        e.data.ok ? resolve(e.data.report) : reject(new Error(e.data.error));
      worker.onerror = (e) => {
        e.preventDefault();
        reject(new Error(`attacker: ${e.message}`));
      };
      worker.postMessage({
        cmd: "run",
        attack: name,
        port: ctx.port,
        address: attackerAddress,
        user: { username: attacker.username, token: attacker.token },
        others: normalUsers.slice(0, 20).map((u) => u.username),
        durationMs: attackMs,
        params: {
          sessions: num(ctx, "attackerSessions", 5),
          idleSockets: num(ctx, "idleSockets", 2000),
          slowSockets: num(ctx, "slowSockets", 1000),
          historyTop: seeders * 4 + 100,
        },
      });
    });

  const results: AttackResult[] = [];
  try {
    await sleep(1500); // every loop under way
    results.push(
      await measure("baseline", async () => {
        await sleep(Math.max(0, baselineMs - tailMs));
        return undefined;
      }),
    );
    for (const name of only) {
      results.push(await measure(name, () => attack(name)));
    }
  } finally {
    running = false;
    worker.terminate();
  }
  await Promise.race([Promise.all(pingLoops), sleep(11_000)]);
  await lateLoop;
  for (const s of sessions) s.close();
  const worst = results.filter((r) => r.attack !== "baseline");
  return {
    normals,
    attackMs,
    attackerAddress,
    normalAddresses: "127.0.2.1-50",
    results,
    pass: worst.every((r) => r.pass),
    worstPongMs: Math.max(...worst.map((r) => r.pong.max ?? Infinity)),
  };
}
