/**
 * `deno task bench [--quick] [--profile] [--rounds N] [--scenario a,b] [--attacks x,y] [--users N] [--inspect-watcher] [--out FILE]`
 * (`--only` is the same as `--scenario`; `--attacks` picks the attacks of pongAttack; `--users`
 * registers at least N users, so that an isolated scenario meets a Général as large as a full run's;
 * `--inspect-watcher` adds the fan-out target `causerie-watched`: the same server with one watcher
 * of the inspection stream, `GET /admin/inspect` on the admin socket, attached; the plain `causerie`
 * rounds stay unwatched, so one run measures fan-out with and without a watcher)
 *
 * Runs every scenario on Causerie (SQLite; MySQL too when
 * CAUSERIE_TEST_MYSQL_URL is set) and on the three baselines (bare Deno,
 * bare node:http + ws, Node socket.io), alternating targets within each round
 * and reversing the order from one round to the next, then writes
 * docs/benchmarks.md. Every server and the load generator run as separate
 * processes, each with its open-file limit raised to the hard limit. Causerie
 * runs as `deno run --allow-all main.ts` on a fresh temporary database shared
 * by the run's scenarios, with its defaults (rate 5/s, burst 10, 5 sessions
 * per user) except the per-address limits ({@link LIFTED}): every simulated
 * user connects from 127.0.0.1. "Pong under attack" runs Causerie with every
 * default, its normal users spread over other loopback addresses.
 *
 * Several instances (issue 15): `clusterFanout` and `clusterIngest` run the fan-out and ingest
 * loads on Causerie on MySQL three ways in the same run: one instance without a bus
 * (`causerie-mysql`), one with `CAUSERIE_BUS` (`causerie-mysql-bus`: what the bus costs per
 * message), and two instances with the bus (`causerie-cluster`: the sessions spread over both,
 * their CPU summed). They need CAUSERIE_TEST_MYSQL_URL (MariaDB) and CAUSERIE_TEST_BUS_URL
 * (Redis, `redis://127.0.0.1:6379/0`), both on loopback; without either they are skipped with a
 * line saying so. `--scenario clusterFanout,clusterIngest` runs them alone.
 *
 * @module
 */

import { type BenchReport, renderReport, type RunRecord } from "./report.ts";
import { summarizeProfile } from "./profile.ts";
import type { LoadgenConfig } from "./loadgen/main.ts";
import { type BenchDatabase, freshBenchDatabase } from "./mysql_db.ts";
import { type BusCost, measureBusCost } from "./bus_cost.ts";
import { ATTACKS } from "./loadgen/attacks.ts";
// @ts-types="@types/ws"
import WebSocket from "ws";

/** `causerie-watched`: Causerie (SQLite) with one watcher of `/admin/inspect` attached. */
type Target =
  | "causerie"
  | "causerie-watched"
  | "causerie-mysql"
  | "causerie-mysql-bus"
  | "causerie-cluster"
  | "bare"
  | "bare-node"
  | "socketio";
type Scenario =
  | "fanout"
  | "ingest"
  | "ingestWide"
  | "idle"
  | "storm"
  | "stormOneAddress"
  | "salons"
  | "pongAttack"
  | "clusterFanout"
  | "clusterIngest";

/** The load generator's scenario behind each of ours. */
const LOADGEN_SCENARIO: Record<Scenario, LoadgenConfig["scenario"]> = {
  fanout: "fanout",
  ingest: "ingest",
  ingestWide: "ingest",
  idle: "idle",
  storm: "storm",
  stormOneAddress: "storm",
  salons: "salons",
  pongAttack: "pongAttack",
  clusterFanout: "fanout",
  clusterIngest: "ingest",
};

/** The scenarios of several instances, and their targets (all on MySQL). */
const CLUSTER_SCENARIOS: Scenario[] = ["clusterFanout", "clusterIngest"];
const CLUSTER: Target[] = ["causerie-mysql", "causerie-mysql-bus", "causerie-cluster"];
/** How many instances `causerie-cluster` runs. */
const CLUSTER_INSTANCES = 2;

/**
 * Per-address limits lifted for every scenario but "pong under attack": the
 * load generator connects every simulated user from 127.0.0.1 (registrations
 * included), so the defaults (256 open connections, 60 new ones at once then
 * 10/s, 8 sockets awaiting their welcome, 10 registrations an hour per
 * address) would refuse the load itself.
 */
export const LIFTED: Record<string, string> = {
  CAUSERIE_MAX_CONNECTIONS_PER_ADDRESS: "10000000",
  CAUSERIE_CONNECT_BURST: "1000000",
  CAUSERIE_CONNECT_PER_SECOND: "1000000",
  CAUSERIE_PREWELCOME_PER_ADDRESS: "100000",
  CAUSERIE_REGISTER_PER_ADDRESS_PER_HOUR: "0",
  CAUSERIE_REGISTER_PER_MINUTE: "0",
};

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const SOCKETIO_DIR = `${ROOT}/bench/baselines/socketio`;
const PASSWORD = "bench-password-1";

/** Sizes, durations and targets of one mode. */
interface Profile {
  users: number;
  scenarios: Scenario[];
  rounds: Record<Scenario, number>;
  targets: Record<Scenario, Target[]>;
  budgetMs: number;
  fanout: Record<string, number>;
  ingest: Record<string, number>;
  ingestWide: Record<string, number>;
  idle: Record<string, number | boolean>;
  storm: Record<string, number>;
  stormOneAddress: Record<string, number>;
  salons: Record<string, number>;
  pongAttack: Record<string, number>;
  clusterFanout: Record<string, number>;
  clusterIngest: Record<string, number>;
}

const ALL: Target[] = ["causerie", "bare", "bare-node", "socketio"];
const BARE: Target[] = ["causerie", "bare", "bare-node"];

const QUICK: Profile = {
  users: 520,
  scenarios: ["fanout", "ingest", "idle", "storm", "stormOneAddress", "salons", "pongAttack"],
  rounds: {
    fanout: 1,
    ingest: 1,
    ingestWide: 1,
    idle: 1,
    storm: 1,
    stormOneAddress: 1,
    salons: 1,
    pongAttack: 1,
    clusterFanout: 1,
    clusterIngest: 1,
  },
  targets: {
    fanout: ALL,
    ingest: BARE,
    ingestWide: [],
    idle: ALL,
    storm: BARE,
    stormOneAddress: ["causerie"],
    salons: BARE,
    pongAttack: ["causerie"],
    clusterFanout: CLUSTER,
    clusterIngest: CLUSTER,
  },
  budgetMs: 240_000,
  fanout: {
    members: 500,
    start: 60,
    factor: 1.8,
    maxSteps: 5,
    bisect: 1,
    stepMs: 1000,
    drainMs: 1000,
    budgetMs: 14_000,
  },
  ingest: {
    users: 500,
    start: 500,
    factor: 2.5,
    maxSteps: 5,
    bisect: 0,
    stepMs: 1000,
    drainMs: 1000,
    budgetMs: 12_000,
  },
  ingestWide: {},
  idle: { sessions: 2000, settleMs: 1000, toLimit: false },
  storm: { logins: 300 },
  stormOneAddress: { logins: 300, addresses: 1 },
  salons: {
    salons: 50,
    members: 10,
    start: 4,
    factor: 2.5,
    maxSteps: 5,
    bisect: 0,
    stepMs: 1000,
    drainMs: 1000,
    budgetMs: 12_000,
  },
  pongAttack: { normals: 200, seeders: 50, attackMs: 4000, gapMs: 2000, baselineMs: 3000 },
  clusterFanout: {
    members: 200,
    start: 30,
    factor: 2,
    maxSteps: 2,
    bisect: 0,
    stepMs: 1000,
    drainMs: 1000,
    budgetMs: 8000,
  },
  clusterIngest: {
    users: 200,
    start: 200,
    factor: 2,
    maxSteps: 2,
    bisect: 0,
    stepMs: 1000,
    drainMs: 1000,
    budgetMs: 8000,
  },
};

const FULL: Profile = {
  users: 10_001,
  scenarios: [
    "fanout",
    "ingest",
    "ingestWide",
    "idle",
    "storm",
    "stormOneAddress",
    "salons",
    "pongAttack",
    "clusterFanout",
    "clusterIngest",
  ],
  rounds: {
    fanout: 2,
    ingest: 1,
    ingestWide: 1,
    idle: 1,
    storm: 2,
    stormOneAddress: 1,
    salons: 1,
    pongAttack: 1,
    clusterFanout: 2,
    clusterIngest: 1,
  },
  targets: {
    fanout: ALL,
    ingest: ALL,
    ingestWide: BARE,
    idle: ALL,
    storm: BARE,
    stormOneAddress: ["causerie"],
    salons: ALL,
    pongAttack: ["causerie"],
    clusterFanout: CLUSTER,
    clusterIngest: CLUSTER,
  },
  budgetMs: 45 * 60_000,
  fanout: {
    members: 1000,
    start: 40,
    factor: 1.4,
    maxSteps: 10,
    bisect: 2,
    retries: 1,
    stepMs: 3000,
    budgetMs: 90_000,
  },
  ingest: {
    users: 1000,
    start: 500,
    factor: 1.6,
    maxSteps: 12,
    bisect: 1,
    retries: 1,
    stepMs: 3000,
    budgetMs: 90_000,
  },
  ingestWide: {
    users: 10_000,
    start: 2000,
    factor: 1.5,
    maxSteps: 10,
    bisect: 1,
    retries: 1,
    stepMs: 3000,
    budgetMs: 90_000,
  },
  idle: { sessions: 10_000, settleMs: 3000, toLimit: true },
  storm: { logins: 1000 },
  stormOneAddress: { logins: 1000, addresses: 1 },
  salons: {
    salons: 1000,
    members: 10,
    start: 1,
    factor: 1.5,
    maxSteps: 10,
    bisect: 1,
    retries: 1,
    stepMs: 3000,
    budgetMs: 90_000,
  },
  pongAttack: { normals: 200, seeders: 50, attackMs: 10_000, gapMs: 3000, baselineMs: 5000 },
  // The steps of fanout and ingest (comparisons at equal rates), run further (two more fan-out
  // steps; 2,000 users, so up to 8,000 messages/s): each target's knee is found, not the top of a
  // ladder one instance already reaches.
  clusterFanout: {
    members: 1000,
    start: 40,
    factor: 1.4,
    maxSteps: 13,
    bisect: 2,
    retries: 1,
    stepMs: 3000,
    budgetMs: 90_000,
  },
  clusterIngest: {
    users: 2000,
    start: 500,
    factor: 1.6,
    maxSteps: 12,
    bisect: 1,
    retries: 1,
    stepMs: 3000,
    budgetMs: 90_000,
  },
};

const SCENARIOS: Scenario[] = [
  "fanout",
  "ingest",
  "ingestWide",
  "idle",
  "storm",
  "stormOneAddress",
  "salons",
  "pongAttack",
  "clusterFanout",
  "clusterIngest",
];

function parseArgs(args: string[]) {
  const opts = {
    quick: false,
    profile: false,
    rounds: undefined as number | undefined,
    only: undefined as Scenario[] | undefined,
    out: `${ROOT}/docs/benchmarks.md`,
    /** "Pong under attack": only these attacks (comma-separated). */
    attacks: undefined as string | undefined,
    /** Register at least this many users (so a scenario runs against a large Général). */
    users: undefined as number | undefined,
    /** Fan-out on Causerie with one watcher of the inspection stream attached. */
    inspectWatcher: false,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--quick") opts.quick = true;
    else if (a === "--profile") opts.profile = true;
    else if (a === "--rounds") opts.rounds = Number(args[++i]);
    else if (a === "--only" || a === "--scenario") {
      opts.only = (args[++i] ?? "").split(",") as Scenario[];
      const unknown = opts.only.filter((s) => !SCENARIOS.includes(s));
      if (unknown.length) {
        console.error(`unknown scenario ${unknown.join(", ")}; one of ${SCENARIOS.join(", ")}`);
        Deno.exit(2);
      }
    } else if (a === "--out") opts.out = args[++i];
    else if (a === "--attacks") opts.attacks = args[++i];
    else if (a === "--users") opts.users = Number(args[++i]);
    else if (a === "--inspect-watcher") opts.inspectWatcher = true;
    else {
      console.error(
        `unknown argument ${a}; usage: deno task bench [--quick] [--profile] [--rounds N] [--render report.json] [--scenario ${
          SCENARIOS.join(",")
        }] [--attacks ${ATTACKS.join(",")}] [--users N] [--inspect-watcher] [--out FILE]`,
      );
      Deno.exit(2);
    }
  }
  return opts;
}

const log = (line: string) => console.error(`[bench] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  await sleep(10);
  return port;
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** Spawns `argv` through bash with the open-file limit raised to the hard limit. */
function spawnRaised(
  argv: string[],
  opts: { env?: Record<string, string>; cwd?: string; logFile: string; inheritStderr?: boolean },
): Deno.ChildProcess {
  const redirect = opts.inheritStderr
    ? `>>${shellQuote(opts.logFile)}`
    : `>>${shellQuote(opts.logFile)} 2>&1`;
  const script = `ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec ${
    argv.map(shellQuote).join(" ")
  } ${redirect}`;
  return new Deno.Command("bash", {
    args: ["-c", script],
    cwd: opts.cwd ?? ROOT,
    env: opts.env,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
}

/** A server under test. */
interface Server {
  target: Target;
  port: number;
  pid: number;
  child: Deno.ChildProcess;
  logFile: string;
  /** Causerie's admin socket. */
  adminSocket?: string;
  /** Several instances (`causerie-cluster`): every port and process id (`port`/`pid`: the first). */
  ports?: number[];
  pids?: number[];
  /** Stops the server: SIGTERM (twice for Causerie: countdown, then drain), SIGKILL after `waitMs` (20 s). */
  stop(waitMs?: number): Promise<{ ms: number; killed: boolean }>;
}

interface RunContext {
  tmp: string;
  mainDb: string;
  salonsDb: string;
  mysqlUrl?: string;
  mysqlSkip?: string;
  /** Redis for the cluster scenarios (CAUSERIE_TEST_BUS_URL). */
  busUrl?: string;
  salonsEnv: string;
  defaultSalonsEnv: string;
  serverSeq: number;
}

async function waitReady(port: number, child: Deno.ChildProcess, logFile: string): Promise<void> {
  let exited = false;
  child.status.then(() => exited = true);
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    if (exited) {
      const tail = (await Deno.readTextFile(logFile).catch(() => "")).trim().split("\n").slice(-3)
        .join(" | ");
      throw new Error(`server exited during start-up: ${tail}`);
    }
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      await r.body?.cancel();
      if (r.ok) return;
    } catch { /* not yet */ }
    await sleep(100);
  }
  throw new Error(`server not ready on port ${port} within 60 s`);
}

async function startServer(
  ctx: RunContext,
  target: Target,
  opts: {
    db?: string;
    salons?: string;
    cpuProfDir?: string;
    inspectPort?: number;
    /** Every limit at its default (not {@link LIFTED}). */
    defaultLimits?: boolean;
  } = {},
): Promise<Server> {
  const port = await freePort();
  const inspect = opts.inspectPort ? [`--inspect=127.0.0.1:${opts.inspectPort}`] : [];
  const logFile = `${ctx.tmp}/server-${++ctx.serverSeq}-${target}.log`;
  let child: Deno.ChildProcess;
  const adminSocket = `${ctx.tmp}/admin-${ctx.serverSeq}.sock`;
  const baseEnv = { ...Deno.env.toObject() };
  for (const k of Object.keys(baseEnv)) if (k.startsWith("CAUSERIE_")) delete baseEnv[k];
  if (target === "causerie-cluster") {
    throw new Error("causerie-cluster is started by startCluster");
  }
  if (
    target === "causerie" || target === "causerie-watched" || target === "causerie-mysql" ||
    target === "causerie-mysql-bus"
  ) {
    const onMysql = target === "causerie-mysql" || target === "causerie-mysql-bus";
    const db = onMysql ? ctx.mysqlUrl! : `sqlite:${opts.db ?? ctx.mainDb}`;
    const flags = ["run", ...inspect, "--allow-all"];
    if (opts.cpuProfDir) flags.push("--cpu-prof", `--cpu-prof-dir=${opts.cpuProfDir}`);
    child = spawnRaised([Deno.execPath(), ...flags, "main.ts"], {
      logFile,
      env: {
        ...baseEnv,
        CAUSERIE_PORT: String(port),
        CAUSERIE_DB: db,
        CAUSERIE_ADMIN_SOCKET: adminSocket,
        CAUSERIE_SALONS: opts.salons ?? ctx.defaultSalonsEnv,
        // Every simulated user connects from 127.0.0.1: lift the per-address limits.
        ...(opts.defaultLimits ? {} : LIFTED),
        ...(target === "causerie-mysql-bus" ? { CAUSERIE_BUS: ctx.busUrl! } : {}),
      },
    });
  } else if (target === "bare") {
    child = spawnRaised(
      [
        Deno.execPath(),
        "run",
        ...inspect,
        "--allow-net",
        "--allow-env",
        "bench/baselines/bare_deno.ts",
      ],
      { logFile, env: { ...baseEnv, BENCH_PORT: String(port) } },
    );
  } else if (target === "bare-node") {
    child = spawnRaised(
      [
        Deno.execPath(),
        "run",
        ...inspect,
        "--allow-net",
        "--allow-env",
        "--allow-read",
        "--allow-sys",
        "bench/baselines/bare_node_ws.ts",
      ],
      { logFile, env: { ...baseEnv, BENCH_PORT: String(port) } },
    );
  } else {
    child = spawnRaised(["node", ...inspect, "server.mjs"], {
      logFile,
      cwd: SOCKETIO_DIR,
      env: { ...baseEnv, BENCH_PORT: String(port) },
    });
  }
  try {
    await waitReady(port, child, logFile);
  } catch (e) {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    await child.status;
    throw e;
  }
  const isCauserie = target.startsWith("causerie");
  return {
    target,
    port,
    pid: child.pid,
    child,
    logFile,
    ...(isCauserie ? { adminSocket } : {}),
    async stop(waitMs = 20_000) {
      const t0 = Date.now();
      const signal = (s: Deno.Signal) => {
        try {
          child.kill(s);
        } catch { /* gone */ }
      };
      signal("SIGTERM");
      if (isCauserie) {
        // The first signal starts the countdown, the second skips to the drain;
        // a second signal sent before the countdown has started would be taken
        // for a first one, so wait for /readyz to say so (at most 10 s).
        const end = Date.now() + 10_000;
        let exited = false;
        child.status.then(() => exited = true);
        while (Date.now() < end && !exited) {
          try {
            const r = await fetch(`http://127.0.0.1:${port}/readyz`);
            await r.body?.cancel();
            if (r.status === 503) break;
          } catch {
            break; // not listening any more
          }
          await sleep(50);
        }
        signal("SIGTERM");
      }
      const done = await Promise.race([child.status.then(() => true), sleep(waitMs)]);
      if (!done) {
        signal("SIGKILL");
        await child.status;
      }
      return { ms: Date.now() - t0, killed: !done };
    },
  };
}

/**
 * `causerie-cluster`: {@link CLUSTER_INSTANCES} instances with the bus on one MySQL database,
 * started one after the other (the first migrates), stopped together.
 */
async function startCluster(
  ctx: RunContext,
  opts: { salons?: string } = {},
): Promise<Server> {
  const started: Server[] = [];
  try {
    for (let i = 0; i < CLUSTER_INSTANCES; i++) {
      started.push(await startServer(ctx, "causerie-mysql-bus", opts));
    }
  } catch (e) {
    await Promise.all(started.map((x) => x.stop()));
    throw e;
  }
  const [first] = started;
  return {
    ...first,
    target: "causerie-cluster",
    ports: started.map((x) => x.port),
    pids: started.map((x) => x.pid),
    // A signal stops one instance alone: each is stopped by its own SIGTERMs.
    async stop(waitMs?: number) {
      const all = await Promise.all(started.map((x) => x.stop(waitMs)));
      return {
        ms: Math.max(...all.map((x) => x.ms)),
        killed: all.some((x) => x.killed),
      };
    },
  };
}

/** A watcher of the inspection stream that reads every frame, counting them. */
interface InspectWatcher {
  /** Closes the stream; resolves with the frames read and the drops reported. */
  close(): Promise<{ frames: number; dropped: number }>;
}

/** Attaches one watcher to `GET /admin/inspect` on Causerie's admin socket (no token needed). */
async function attachInspectWatcher(socketPath: string): Promise<InspectWatcher> {
  const ws = new WebSocket(`ws+unix://${socketPath}:/admin/inspect`, { perMessageDeflate: false });
  let frames = 0;
  let dropped = 0;
  const closed = new Promise<void>((resolve) => ws.once("close", () => resolve()));
  ws.on("message", (data) => {
    frames++;
    const text = data.toString();
    if (text.includes('"@causerie.dropped"')) dropped += JSON.parse(text).dropped;
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return {
    async close() {
      ws.close(1000, "bench done");
      await Promise.race([closed, sleep(2000)]);
      ws.terminate();
      return { frames, dropped };
    },
  };
}

/** Runs the load generator; resolves with its result object. */
async function runLoadgen(
  ctx: RunContext,
  server: Server,
  scenario: LoadgenConfig["scenario"],
  params: Record<string, number | string | boolean>,
  usersFile?: string,
): Promise<Record<string, unknown>> {
  const id = crypto.randomUUID().slice(0, 8);
  const cfgPath = `${ctx.tmp}/loadgen-${id}.json`;
  const outPath = `${ctx.tmp}/result-${id}.json`;
  const config: LoadgenConfig = {
    scenario,
    kind: server.target.startsWith("causerie")
      ? "causerie"
      : server.target === "socketio"
      ? "socketio"
      : "bare",
    port: server.port,
    serverPid: server.pid,
    ...(server.ports ? { ports: server.ports, serverPids: server.pids } : {}),
    usersFile,
    params: { hardLimitMs: 12 * 60_000, ...params },
  };
  Deno.writeTextFileSync(cfgPath, JSON.stringify(config));
  const child = spawnRaised(
    [Deno.execPath(), "run", "--allow-all", "bench/loadgen/main.ts", cfgPath, outPath],
    { logFile: `${ctx.tmp}/loadgen.log`, inheritStderr: true },
  );
  const timeout = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, 13 * 60_000);
  const status = await child.status;
  clearTimeout(timeout);
  const out = JSON.parse(
    await Deno.readTextFile(outPath).catch(() =>
      JSON.stringify({
        ok: false,
        error: `no result (the load generator exited with code ${status.code}${
          status.signal ? `, signal ${status.signal}` : ""
        })`,
      })
    ),
  );
  if (!out.ok) throw new Error(out.error);
  return out.result;
}

function namesFile(ctx: RunContext, count: number): string {
  const path = `${ctx.tmp}/names.json`;
  const users = Array.from({ length: count }, (_, i) => ({
    username: `b${String(i).padStart(5, "0")}`,
  }));
  Deno.writeTextFileSync(path, JSON.stringify({ password: PASSWORD, users }));
  return path;
}

function salonList(n: number): string {
  const base =
    "Général:auto,Blabla:open,Comptabilité:approval,Informatique:approval,Marketing:approval";
  const extra = Array.from({ length: n }, (_, i) => `S${String(i).padStart(4, "0")}:open`);
  return [base, ...extra].join(",");
}

async function commandOutput(cmd: string, args: string[], cwd = ROOT): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" })
      .output();
    return new TextDecoder().decode(out.stdout).trim();
  } catch {
    return "";
  }
}

async function machineInfo(tmp: string): Promise<Record<string, string>> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? "unknown";
  const cores = (cpuinfo.match(/^processor\s*:/gm) ?? []).length;
  const mem = /MemTotal:\s+(\d+) kB/.exec(await Deno.readTextFile("/proc/meminfo").catch(() => ""));
  const kernel = await commandOutput("uname", ["-sr"]);
  const fs = await commandOutput("bash", [
    "-c",
    `df -T ${shellQuote(tmp)} | tail -1 | awk '{print $2}'`,
  ]);
  const hardLimit = await commandOutput("bash", ["-c", "ulimit -Hn"]);
  const softLimit = await commandOutput("bash", ["-c", "ulimit -Sn"]);
  const deno = (await commandOutput(Deno.execPath(), ["--version"])).split("\n").join(", ");
  const node = await commandOutput("node", ["--version"]);
  const sio = JSON.parse(
    await Deno.readTextFile(`${SOCKETIO_DIR}/node_modules/socket.io/package.json`).catch(() =>
      '{"version":"?"}'
    ),
  ).version;
  const commit = await commandOutput("git", ["rev-parse", "--short", "HEAD"]);
  const dirty = await commandOutput("git", ["status", "--porcelain", "--untracked-files=no"]);
  return {
    cpu: `${model} x ${cores}`,
    memory: mem ? `${Math.round(Number(mem[1]) / 1024 / 1024)} GiB` : "unknown",
    kernel,
    tmpFilesystem: fs,
    openFiles: `soft ${softLimit}, hard ${hardLimit} (children raised to ${hardLimit})`,
    deno,
    node,
    socketio: sio,
    causerie: `${commit}${dirty ? " (with uncommitted changes)" : ""}`,
  };
}

async function ensureSocketIo(): Promise<void> {
  try {
    await Deno.stat(`${SOCKETIO_DIR}/node_modules/socket.io/package.json`);
    return;
  } catch { /* install */ }
  log("installing the socket.io baseline (npm ci in bench/baselines/socketio)");
  const out = await new Deno.Command("npm", {
    args: ["ci", "--no-audit", "--no-fund", "--loglevel=error"],
    cwd: SOCKETIO_DIR,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error("npm ci failed in bench/baselines/socketio");
}

/** `deno fmt` on the page, so that `deno task check` stays clean after a run. */
async function formatPage(path: string): Promise<void> {
  await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", path],
    cwd: ROOT,
    stdout: "null",
    stderr: "inherit",
  }).output();
}

async function main(): Promise<void> {
  // `--render report.json [--out FILE]`: rewrite the page from a saved run (no measuring).
  const at = Deno.args.indexOf("--render");
  if (at >= 0) {
    const report = JSON.parse(Deno.readTextFileSync(Deno.args[at + 1])) as BenchReport;
    // Summaries are recomputed from the profiles when they are still there.
    for (const p of report.profiles) {
      try {
        p.summary = summarizeProfile(p.file, 15, ROOT);
      } catch { /* keep the stored summary */ }
    }
    const outAt = Deno.args.indexOf("--out");
    const out = outAt >= 0 ? Deno.args[outAt + 1] : `${ROOT}/docs/benchmarks.md`;
    const previous = await Deno.readTextFile(out).catch(() => "");
    await Deno.writeTextFile(out, renderReport(report, previous));
    await formatPage(out);
    log(`rewrote ${out} from ${Deno.args[at + 1]}`);
    return;
  }
  const opts = parseArgs(Deno.args);
  const mode = opts.quick ? QUICK : FULL;
  const roundsOf = (s: Scenario) => opts.rounds ?? mode.rounds[s];
  const scenarios: Scenario[] = opts.only ?? mode.scenarios;
  const started = Date.now();
  const deadline = started + mode.budgetMs;
  // The socket.io baseline is installed only when a chosen scenario runs it.
  if (scenarios.some((s) => mode.targets[s].includes("socketio"))) await ensureSocketIo();
  const tmp = await Deno.makeTempDir({ prefix: "causerie-bench-" });
  const ctx: RunContext = {
    tmp,
    mainDb: `${tmp}/bench.db`,
    salonsDb: `${tmp}/salons.db`,
    mysqlUrl: Deno.env.get("CAUSERIE_TEST_MYSQL_URL") || undefined,
    busUrl: Deno.env.get("CAUSERIE_TEST_BUS_URL") || undefined,
    salonsEnv: salonList(mode.salons.salons),
    defaultSalonsEnv: salonList(0),
    serverSeq: 0,
  };
  log(`mode ${opts.quick ? "quick" : "full"}, temp dir ${tmp}`);
  const machine = await machineInfo(tmp);
  const runs: RunRecord[] = [];
  const notes: string[] = [];

  // Users: registered once, over WebSocket `register` frames (one argon2 hash each,
  // and a token for the later token hellos), on the run's SQLite database.
  // "Pong under attack" alone needs its normal users, the seeders, the newcomers and the attacker.
  const needUsers = Math.max(
    scenarios.some((s) => !["pongAttack", "salons", ...CLUSTER_SCENARIOS].includes(s))
      ? mode.users
      : 0,
    scenarios.includes("clusterFanout") ? mode.clusterFanout.members : 0,
    scenarios.includes("clusterIngest") ? mode.clusterIngest.users : 0,
    scenarios.includes("salons") ? mode.salons.salons * mode.salons.members + 1 : 0,
    scenarios.includes("pongAttack")
      ? mode.pongAttack.normals + mode.pongAttack.seeders + 12 + 1
      : 0,
    opts.users ?? 0,
  );
  const usersFile = `${tmp}/users.json`;
  let registration: Record<string, unknown> = {};
  {
    const server = await startServer(ctx, "causerie");
    try {
      log(`registering ${needUsers} users`);
      registration = await runLoadgen(ctx, server, "register", {
        count: needUsers,
        concurrency: 32,
        password: PASSWORD,
        prefix: "b",
      });
      Deno.writeTextFileSync(
        usersFile,
        JSON.stringify({ password: PASSWORD, users: registration.users }),
      );
      log(`registered ${needUsers} users in ${Math.round(registration.ms as number)} ms`);
      delete registration.users;
    } finally {
      await server.stop();
    }
  }
  // The many-salons scenario gets a copy with 1,000 more salons, so that the
  // other scenarios keep the default five (every welcome lists every salon).
  Deno.copyFileSync(ctx.mainDb, ctx.salonsDb);
  for (const suffix of ["-wal", "-shm"]) {
    try {
      Deno.copyFileSync(ctx.mainDb + suffix, ctx.salonsDb + suffix);
    } catch { /* checkpointed at close */ }
  }
  const names = namesFile(ctx, needUsers);

  const targetsFor = (s: Scenario): Target[] => {
    // Several instances: MySQL and Redis, or nothing (said once, below).
    if (CLUSTER_SCENARIOS.includes(s)) return ctx.mysqlUrl && ctx.busUrl ? [...CLUSTER] : [];
    const list: Target[] = [...mode.targets[s]];
    if (ctx.mysqlUrl && s !== "salons" && s !== "pongAttack") list.splice(1, 0, "causerie-mysql");
    // The same server with and without a watcher, in the same run: what inspection costs.
    if (opts.inspectWatcher && s === "fanout") list.splice(1, 0, "causerie-watched");
    return list;
  };

  let mysqlDb: BenchDatabase | undefined;
  if (ctx.mysqlUrl) {
    // Register the same users on MySQL (skipped with the reason if the server refuses it).
    try {
      mysqlDb = await freshBenchDatabase(ctx.mysqlUrl);
      ctx.mysqlUrl = mysqlDb.url;
      const server = await startServer(ctx, "causerie-mysql");
      try {
        const reg = await runLoadgen(ctx, server, "register", {
          count: needUsers,
          concurrency: 32,
          password: PASSWORD,
          prefix: "b",
        });
        Deno.writeTextFileSync(
          `${tmp}/users-mysql.json`,
          JSON.stringify({ password: PASSWORD, users: reg.users }),
        );
      } finally {
        await server.stop();
      }
    } catch (e) {
      ctx.mysqlSkip = (e as Error).message;
      notes.push(`Causerie on MySQL was not measured: ${ctx.mysqlSkip}`);
      log(`MySQL skipped: ${ctx.mysqlSkip}`);
      ctx.mysqlUrl = undefined;
    }
  }

  if (scenarios.some((s) => CLUSTER_SCENARIOS.includes(s)) && !(ctx.mysqlUrl && ctx.busUrl)) {
    const missing = [
      ctx.mysqlUrl ? "" : "CAUSERIE_TEST_MYSQL_URL (MariaDB)",
      ctx.busUrl ? "" : "CAUSERIE_TEST_BUS_URL (Redis)",
    ].filter((x) => x !== "").join(" and ");
    const line = `the cluster scenarios (several instances) were skipped: set ${missing}`;
    notes.push(line);
    log(line);
  }

  const paramsFor = (s: Scenario): Record<string, number | string | boolean> => {
    const p: Record<string, number | string | boolean> = { ...mode[s] };
    if (s === "storm" || s === "stormOneAddress") p.password = PASSWORD;
    if (s === "pongAttack" && opts.attacks) p.attacks = opts.attacks;
    return p;
  };

  for (const scenario of scenarios) {
    for (let round = 1; round <= roundsOf(scenario); round++) {
      const order = targetsFor(scenario);
      if (round % 2 === 0) order.reverse();
      for (const target of order) {
        if (Date.now() > deadline) {
          notes.push(
            `${scenario} round ${round} on ${target} skipped: the run's time budget ran out`,
          );
          continue;
        }
        log(`${scenario} round ${round}: ${target}`);
        const isCauserie = target.startsWith("causerie");
        const file = target === "causerie-mysql" || target === "causerie-mysql-bus" ||
            target === "causerie-cluster"
          ? `${tmp}/users-mysql.json`
          : isCauserie
          ? usersFile
          : names;
        const t0 = Date.now();
        let server: Server | undefined;
        try {
          // Idle sessions: an inspector port, to force a full GC before reading memory.
          const inspectPort = scenario === "idle" ? await freePort() : undefined;
          server = target === "causerie-cluster"
            ? await startCluster(ctx, { salons: ctx.defaultSalonsEnv })
            : await startServer(ctx, target, {
              db: scenario === "salons" ? ctx.salonsDb : ctx.mainDb,
              salons: scenario === "salons" ? ctx.salonsEnv : ctx.defaultSalonsEnv,
              inspectPort,
              defaultLimits: scenario === "pongAttack",
            });
          const params = paramsFor(scenario);
          if (inspectPort) params.inspectPort = inspectPort;
          const watcher = target === "causerie-watched" && server.adminSocket
            ? await attachInspectWatcher(server.adminSocket)
            : undefined;
          const result = await runLoadgen(ctx, server, LOADGEN_SCENARIO[scenario], params, file);
          if (watcher) {
            const seen = await watcher.close();
            notes.push(
              `${scenario} round ${round} on ${target}: one inspection watcher attached ` +
                `(${seen.frames} frames read, ${seen.dropped} events dropped)`,
            );
          }
          const stopped = await server.stop();
          server = undefined;
          runs.push({
            scenario,
            target,
            round,
            ok: true,
            ms: Date.now() - t0,
            result,
            stopMs: stopped.ms,
            stopKilled: stopped.killed,
          });
        } catch (e) {
          log(`${scenario} on ${target} failed: ${(e as Error).message}`);
          runs.push({
            scenario,
            target,
            round,
            ok: false,
            ms: Date.now() - t0,
            error: (e as Error).message,
          });
        } finally {
          await server?.stop();
        }
      }
    }
  }

  // CPU profiles of Causerie under fan-out and ingest load (deno run --cpu-prof).
  const profiles: BenchReport["profiles"] = [];
  if (opts.profile) {
    for (const scenario of ["fanout", "ingest", "idle"] as const) {
      // Whole-process profiles (deno run --cpu-prof, written at exit): an attached
      // inspector would cost more than what it measures (Deno reports every
      // WebSocket frame to it). Ingest uses 2,000 users, so that the rate can
      // go past the 1,000-user ceiling and the server still stops in time.
      const rate = scenario === "fanout" ? (opts.quick ? 150 : 80) : (opts.quick ? 1500 : 6000);
      const users = scenario === "ingest" ? (opts.quick ? 500 : 2000) : undefined;
      log(`profiling Causerie: ${scenario}${scenario === "idle" ? "" : ` at ${rate}/s`}`);
      const dir = `${tmp}/prof-${scenario}`;
      Deno.mkdirSync(dir);
      let server: Server | undefined;
      try {
        server = await startServer(ctx, "causerie", { cpuProfDir: dir });
        const params = scenario === "idle"
          // A login wave: the sessions established per second, not the memory.
          ? { ...paramsFor(scenario), sessions: opts.quick ? 2000 : 5000, toLimit: false }
          : {
            ...paramsFor(scenario),
            ...(users ? { users } : {}),
            start: rate,
            maxSteps: 1,
            bisect: 0,
            retries: 0,
            stepMs: opts.quick ? 3000 : 6000,
          };
        const result = await runLoadgen(ctx, server, scenario, params, usersFile);
        const stopped = await server.stop(60_000);
        server = undefined;
        // One profile per thread (the SQLite writer thread has its own): the main
        // thread's, where the sockets are served, is the largest.
        const found = [...Deno.readDirSync(dir)]
          .filter((f) => f.name.endsWith(".cpuprofile"))
          .sort((a, b) =>
            Deno.statSync(`${dir}/${b.name}`).size - Deno.statSync(`${dir}/${a.name}`).size
          )[0];
        if (!found) {
          throw new Error(
            `no .cpuprofile written (server stopped in ${stopped.ms} ms${
              stopped.killed ? ", killed" : ""
            })`,
          );
        }
        const file = `${tmp}/causerie-${scenario}.cpuprofile`;
        Deno.renameSync(`${dir}/${found.name}`, file);
        const summary = summarizeProfile(file, 15, ROOT);
        profiles.push({ scenario, rate, users, file, summary, result });
      } catch (e) {
        notes.push(`profile of ${scenario} failed: ${(e as Error).message}`);
      } finally {
        await server?.stop();
      }
    }
  }

  const command = `deno task bench${opts.quick ? " --quick" : ""}${
    opts.profile ? " --profile" : ""
  }${opts.rounds ? ` --rounds ${opts.rounds}` : ""}${
    opts.only ? ` --scenario ${opts.only.join(",")}` : ""
  }${opts.inspectWatcher ? " --inspect-watcher" : ""}`;
  // The bus alone, apart from the chat (bus_cost.ts), with the cluster scenarios.
  let busCost: BusCost | undefined;
  if (ctx.busUrl && scenarios.some((s) => CLUSTER_SCENARIOS.includes(s))) {
    log("the bus alone: 20,000 salon payloads through Redis");
    busCost = await measureBusCost(ctx.busUrl).catch((e) => {
      notes.push(`the bus's own cost could not be measured: ${(e as Error).message}`);
      return undefined;
    });
  }
  const report: BenchReport = {
    ...(busCost ? { busCost } : {}),
    command,
    quick: opts.quick,
    rounds: Object.fromEntries(scenarios.map((s) => [s, roundsOf(s)])),
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    machine,
    registration: { users: needUsers, ...registration },
    params: Object.fromEntries(scenarios.map((s) => [s, paramsFor(s)])),
    runs,
    profiles,
    notes,
    mysql: ctx.mysqlSkip ? `skipped: ${ctx.mysqlSkip}` : ctx.mysqlUrl ? "measured" : "not set",
  };
  await mysqlDb?.drop().catch((e) => log(`could not drop the MySQL bench database: ${e}`));
  Deno.writeTextFileSync(`${tmp}/report.json`, JSON.stringify(report, null, 1));
  const previous = await Deno.readTextFile(opts.out).catch(() => "");
  await Deno.writeTextFile(opts.out, renderReport(report, previous));
  await formatPage(opts.out);
  // Keep the logs, the raw results and the profiles; drop the databases.
  for (const entry of Deno.readDirSync(tmp)) {
    if (/\.db(-wal|-shm)?$/.test(entry.name)) Deno.removeSync(`${tmp}/${entry.name}`);
  }
  log(
    `wrote ${opts.out} (raw results in ${tmp}/report.json) in ${
      Math.round((Date.now() - started) / 1000)
    } s`,
  );
}

if (import.meta.main) {
  await main();
  // Keep-alive HTTP connections and finished children must not hold the process.
  Deno.exit(0);
}
