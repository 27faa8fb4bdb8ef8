/**
 * Configuration from the environment, validated once at start-up.
 *
 * Every variable is optional; a value that is present but wrong stops the
 * process with one line naming the variable and what it expects.
 *
 * @module
 */

import { isLoopbackHost } from "../lib/address.ts";
import { parseTrustedProxies } from "../lib/proxies.ts";
import { passwordProblem } from "../protocol/names.ts";
import { DEFAULT_SALONS, parseSalons, type SalonConfig } from "./salons.ts";

/** Log levels, most verbose first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** How log lines are written: JSON objects, or readable lines for a terminal. */
export type LogFormat = "json" | "pretty";

/** The validated configuration of one server process. */
export interface Config {
  /** Interface to listen on. */
  host: string;
  /** TCP port to listen on; 0 picks a free one. */
  port: number;
  /** Database URL: `sqlite:PATH`, `sqlite::memory:` or `mysql://user:pass@host:port/db`. */
  db: string;
  /** Path of the local admin Unix socket. */
  adminSocket: string;
  /** Password for the bootstrap `admin` account, if given. Never logged. */
  adminPassword: string | undefined;
  /** Default kick length, minutes. */
  kickMinutes: number;
  /** Default shutdown countdown, seconds. */
  shutdownSeconds: number;
  /** Configured salons. */
  salons: SalonConfig[];
  /** Token bucket refill rate for `say` and `direct`, per second. */
  ratePerSecond: number;
  /** Token bucket size. */
  rateBurst: number;
  /** Longest message text, in characters. */
  maxText: number;
  /** Most concurrent WebSocket sessions per user. */
  maxSessions: number;
  /** Log verbosity. */
  logLevel: LogLevel;
  /** Log lines: `json` (one object per line) or `pretty` (for a terminal). */
  logFormat: LogFormat;
  /** Where the security log goes: `stderr`, `off` or a file path. */
  securityLog: string;
  // -- transport limits (issue 9, items 1 and 2)
  /** Open TCP connections at most; `undefined`: from the open-file limit. */
  maxConnections: number | undefined;
  /** Open TCP connections per client address (trusted proxies excepted). */
  maxConnectionsPerAddress: number;
  /** Sockets not yet welcomed, in total. */
  preWelcomeMax: number;
  /** Sockets not yet welcomed, per client address (IPv6 by /64). */
  preWelcomePerAddress: number;
  /** WebSocket connections an address may open in a burst. */
  connectBurst: number;
  /** WebSocket connections per second an address gets back. */
  connectPerSecond: number;
  /** Origins allowed to open a WebSocket besides the server's own. */
  allowedOrigins: string[];
  /** Password checks and hashes allowed to wait for a core; beyond, refused as busy. */
  hashQueue: number;
  /** Per-session request budget (every frame after welcome): bucket size. */
  requestBurst: number;
  /** Per-session request budget: refill rate, per second. */
  requestPerSecond: number;
  /** Whether anyone may register (`open`) or only admins create accounts (`closed`). */
  registration: "open" | "closed";
  /** Registrations allowed per client address (IPv6 by /64) per hour; 0: no limit. */
  registerPerAddressPerHour: number;
  /** Registrations allowed per minute over all addresses; 0: no limit. */
  registerPerMinute: number;
  /** Addresses and CIDR ranges whose `X-Forwarded-For`/`Forwarded` headers are believed. */
  trustedProxies: string[];
  // -- presence at scale (PROTOCOL 5.1)
  /** Salons with more members are large (presence not pushed); small again at 90% of it. */
  presenceSalonMax: number;
  // -- Stately's inspector for developers (issue 12, item 3)
  /** `stately`: the actor system is sent to Stately's inspector relay at `inspectUrl`. */
  inspect: "off" | "stately";
  /** The relay of Stately's inspector (a loopback `ws://` URL). */
  inspectUrl: string;
  // -- edit and delete (PROTOCOL 5.4)
  /** How long after sending an author may edit a message, minutes; 0: never. */
  editMinutes: number;
  // -- several instances (issue 15): absent without CAUSERIE_BUS (one process, as before)
  /** The bus between instances and the node timings; only with `CAUSERIE_BUS`. */
  cluster?: ClusterConfig;
}

/** Several instances on one MySQL database and one bus (issue 15). */
export interface ClusterConfig {
  /** The bus URL: `redis://[:password@]host:port/db` (or `rediss://`). Never logged whole. */
  bus: string;
  /** How often this instance beats in the `nodes` table, ms. */
  beatMs: number;
  /** An instance that has not beaten for this long is dead and reaped, ms. */
  deadMs: number;
  /** How long a missing salon message id may stay missing before it is read from MySQL, ms. */
  gapWaitMs: number;
  /** How often each salon's last message id is read from MySQL (catches unpublished ones), ms. */
  checkMs: number;
  /** Interval of the bus's self-probe (a silent subscription is found within two), ms. */
  probeMs: number;
}

/** A configuration problem: names the variable and what it expects. */
export class ConfigError extends Error {
  /** The environment variable at fault. */
  readonly variable: string;

  /** Builds the one-line explanation `VARIABLE: what is expected`. */
  constructor(variable: string, expected: string) {
    super(`${variable}: ${expected}`);
    this.name = "ConfigError";
    this.variable = variable;
  }
}

import { CONFIG_VARIABLES } from "./variables.ts";

export { CONFIG_VARIABLES };

type Env = Record<string, string | undefined>;

/**
 * The variables of {@link CONFIG_VARIABLES} from the process environment, one
 * by one, so that the process needs env access to `CAUSERIE_*` only.
 */
export function readEnvironment(): Env {
  const env: Env = {};
  for (const { name } of CONFIG_VARIABLES) env[name] = Deno.env.get(name);
  return env;
}

function read(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === "" ? undefined : v.trim();
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(name, `expected a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

function positive(env: Env, name: string, fallback: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d*\.?\d+$/.test(raw) || !(n > 0) || n > max) {
    throw new ConfigError(name, `expected a positive number up to ${max}, got "${raw}"`);
  }
  return n;
}

function database(env: Env): string {
  const raw = read(env, "CAUSERIE_DB") ?? "sqlite:data/causerie.db";
  if (raw === "sqlite::memory:") return raw;
  if (raw.startsWith("sqlite:")) {
    if (raw.length === "sqlite:".length) {
      throw new ConfigError("CAUSERIE_DB", "expected sqlite:PATH with a file path after sqlite:");
    }
    return raw;
  }
  if (raw.startsWith("mysql://")) {
    try {
      const url = new URL(raw);
      if (!url.hostname || url.pathname.length <= 1) throw new Error("incomplete");
    } catch {
      throw new ConfigError("CAUSERIE_DB", "expected mysql://user:password@host:3306/database");
    }
    return raw;
  }
  throw new ConfigError(
    "CAUSERIE_DB",
    "expected sqlite:PATH, sqlite::memory: or mysql://user:password@host:3306/database",
  );
}

function origins(env: Env): string[] {
  const raw = read(env, "CAUSERIE_ALLOWED_ORIGINS");
  if (raw === undefined) return [];
  return raw.split(",").map((s) => s.trim()).filter((s) => s !== "").map((s) => {
    let url: URL | undefined;
    try {
      url = new URL(s);
    } catch { /* below */ }
    if (!url || !/^https?:$/.test(url.protocol) || url.origin !== s.replace(/\/$/, "")) {
      throw new ConfigError(
        "CAUSERIE_ALLOWED_ORIGINS",
        `expected comma-separated origins such as https://chat.example.org (scheme, host, optional port; no path), got "${s}"`,
      );
    }
    return url.origin;
  });
}

/**
 * The bootstrap admin password: `CAUSERIE_ADMIN_PASSWORD`, or the content of
 * the file `CAUSERIE_ADMIN_PASSWORD_FILE` names (one trailing newline
 * removed); both at once is an error. Never put in a message.
 */
function adminPasswordOf(env: Env, readFile: (path: string) => string): string | undefined {
  const direct = env["CAUSERIE_ADMIN_PASSWORD"];
  const file = read(env, "CAUSERIE_ADMIN_PASSWORD_FILE");
  if (file !== undefined && direct !== undefined && direct !== "") {
    throw new ConfigError(
      "CAUSERIE_ADMIN_PASSWORD_FILE",
      "set either CAUSERIE_ADMIN_PASSWORD or CAUSERIE_ADMIN_PASSWORD_FILE, not both",
    );
  }
  if (file === undefined) {
    if (direct === undefined || direct === "") return undefined;
    const problem = passwordProblem(direct, "the password");
    if (problem) throw new ConfigError("CAUSERIE_ADMIN_PASSWORD", problem);
    return direct;
  }
  let content: string;
  try {
    content = readFile(file);
  } catch (e) {
    const why = e instanceof Error ? e.name : "error";
    throw new ConfigError(
      "CAUSERIE_ADMIN_PASSWORD_FILE",
      `cannot read ${file} (${why}); check the path and that the server may read it`,
    );
  }
  const password = content.replace(/\r?\n$/, "");
  const problem = passwordProblem(password, `the password in ${file}`);
  if (problem) throw new ConfigError("CAUSERIE_ADMIN_PASSWORD_FILE", problem);
  return password;
}

/**
 * Reads and validates the configuration. Throws {@link ConfigError} on the
 * first bad value. `readFile` reads `CAUSERIE_ADMIN_PASSWORD_FILE` (tests
 * pass their own).
 */
export function loadConfig(
  env: Env,
  readFile: (path: string) => string = (path) => Deno.readTextFileSync(path),
): Config {
  const logLevel = (read(env, "CAUSERIE_LOG_LEVEL") ?? "info").toLowerCase();
  if (!["debug", "info", "warn", "error"].includes(logLevel)) {
    throw new ConfigError("CAUSERIE_LOG_LEVEL", `expected debug, info, warn or error`);
  }
  const logFormat = (read(env, "CAUSERIE_LOG_FORMAT") ?? "json").toLowerCase();
  if (logFormat !== "json" && logFormat !== "pretty") {
    throw new ConfigError(
      "CAUSERIE_LOG_FORMAT",
      `expected json or pretty, got "${logFormat.slice(0, 32)}"`,
    );
  }
  const adminPassword = adminPasswordOf(env, readFile);
  const registration = (read(env, "CAUSERIE_REGISTRATION") ?? "open").toLowerCase();
  if (registration !== "open" && registration !== "closed") {
    throw new ConfigError(
      "CAUSERIE_REGISTRATION",
      `expected open or closed, got "${registration}"`,
    );
  }
  const trustedProxies = (read(env, "CAUSERIE_TRUSTED_PROXIES") ?? "").split(",")
    .map((e) => e.trim()).filter((e) => e !== "");
  try {
    parseTrustedProxies(trustedProxies);
  } catch (e) {
    throw new ConfigError("CAUSERIE_TRUSTED_PROXIES", (e as Error).message);
  }
  let salons: SalonConfig[];
  try {
    salons = parseSalons(read(env, "CAUSERIE_SALONS") ?? DEFAULT_SALONS);
  } catch (e) {
    throw new ConfigError("CAUSERIE_SALONS", (e as Error).message);
  }
  const host = read(env, "CAUSERIE_HOST") ?? "127.0.0.1";
  if (/\s|\//.test(host)) {
    throw new ConfigError("CAUSERIE_HOST", `expected a host name or IP address, got "${host}"`);
  }
  const { inspect, inspectUrl } = inspection(env, host);
  const db = database(env);
  const cluster = clusterOf(env, db);
  return {
    host,
    port: integer(env, "CAUSERIE_PORT", 8080, 0, 65535),
    db,
    adminSocket: read(env, "CAUSERIE_ADMIN_SOCKET") ?? "data/admin.sock",
    adminPassword,
    kickMinutes: positive(env, "CAUSERIE_KICK_MINUTES", 5, 525600),
    shutdownSeconds: integer(env, "CAUSERIE_SHUTDOWN_SECONDS", 10, 1, 3600),
    salons,
    ratePerSecond: positive(env, "CAUSERIE_RATE_PER_SECOND", 5, 10000),
    rateBurst: integer(env, "CAUSERIE_RATE_BURST", 10, 1, 100000),
    maxText: integer(env, "CAUSERIE_MAX_TEXT", 2000, 1, 16000),
    maxSessions: integer(env, "CAUSERIE_MAX_SESSIONS", 5, 1, 1000),
    logLevel: logLevel as LogLevel,
    logFormat,
    securityLog: read(env, "CAUSERIE_SECURITY_LOG") ?? "stderr",
    maxConnections: read(env, "CAUSERIE_MAX_CONNECTIONS") === undefined
      ? undefined
      : integer(env, "CAUSERIE_MAX_CONNECTIONS", 0, 16, 10_000_000),
    maxConnectionsPerAddress: integer(
      env,
      "CAUSERIE_MAX_CONNECTIONS_PER_ADDRESS",
      256,
      1,
      10_000_000,
    ),
    preWelcomeMax: integer(env, "CAUSERIE_PREWELCOME_MAX", 1024, 1, 10_000_000),
    preWelcomePerAddress: integer(env, "CAUSERIE_PREWELCOME_PER_ADDRESS", 8, 1, 100_000),
    connectBurst: integer(env, "CAUSERIE_CONNECT_BURST", 60, 1, 10_000_000),
    connectPerSecond: positive(env, "CAUSERIE_CONNECT_PER_SECOND", 10, 10_000_000),
    allowedOrigins: origins(env),
    hashQueue: integer(env, "CAUSERIE_HASH_QUEUE", 64, 1, 1_000_000),
    // Request budget (issue 9, item 5).
    requestBurst: integer(env, "CAUSERIE_REQUEST_BURST", 40, 1, 100000),
    requestPerSecond: positive(env, "CAUSERIE_REQUEST_PER_SECOND", 20, 100000),
    registration,
    registerPerAddressPerHour: integer(env, "CAUSERIE_REGISTER_PER_ADDRESS_PER_HOUR", 10, 0, 1e6),
    registerPerMinute: integer(env, "CAUSERIE_REGISTER_PER_MINUTE", 60, 0, 1e6),
    trustedProxies,
    presenceSalonMax: integer(env, "CAUSERIE_PRESENCE_SALON_MAX", 100, 1, 10_000_000),
    inspect,
    inspectUrl,
    editMinutes: editMinutes(env),
    ...(cluster ? { cluster } : {}),
  };
}

/** Longest node timing, ms (an hour). */
const NODE_MS_MAX = 3_600_000;

/**
 * `CAUSERIE_BUS`, `CAUSERIE_NODE_BEAT_MS` and `CAUSERIE_NODE_DEAD_MS`: the
 * timings are checked even without a bus (a wrong value is an error), and
 * used only with one. A bus needs MySQL: instances share one database.
 */
function clusterOf(env: Env, db: string): ClusterConfig | undefined {
  const beatMs = integer(env, "CAUSERIE_NODE_BEAT_MS", 2000, 10, NODE_MS_MAX);
  const deadMs = integer(env, "CAUSERIE_NODE_DEAD_MS", 10_000, 10, NODE_MS_MAX);
  if (deadMs < 2 * beatMs) {
    throw new ConfigError(
      "CAUSERIE_NODE_DEAD_MS",
      `expected at least twice CAUSERIE_NODE_BEAT_MS (${2 * beatMs}), got ${deadMs}: ` +
        `a live instance that misses one beat must not be reaped`,
    );
  }
  const gapWaitMs = integer(env, "CAUSERIE_SALON_GAP_WAIT_MS", 200, 1, 60_000);
  const checkMs = integer(env, "CAUSERIE_SALON_CHECK_MS", 1000, 10, NODE_MS_MAX);
  const probeMs = integer(env, "CAUSERIE_BUS_PROBE_MS", 5000, 50, NODE_MS_MAX);
  const raw = read(env, "CAUSERIE_BUS");
  if (raw === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch { /* below */ }
  if (
    !url || (url.protocol !== "redis:" && url.protocol !== "rediss:") || !url.hostname ||
    !/^(\/\d{0,6})?$/.test(url.pathname) || url.search !== "" || url.hash !== ""
  ) {
    throw new ConfigError(
      "CAUSERIE_BUS",
      "expected redis://host:6379/0 (or rediss:// for TLS, redis://:password@host:6379/0 " +
        "with a password)",
    );
  }
  if (!db.startsWith("mysql://")) {
    throw new ConfigError(
      "CAUSERIE_BUS",
      `a bus joins instances that share one MySQL/MariaDB database, but CAUSERIE_DB is ` +
        `${db.split(":")[0]}: set CAUSERIE_DB=mysql://user:password@host:3306/database, ` +
        `or unset CAUSERIE_BUS to run one process`,
    );
  }
  return { bus: raw, beatMs, deadMs, gapWaitMs, checkMs, probeMs };
}

/** Longest edit window, minutes (a year). */
export const EDIT_MINUTES_MAX = 525_600;

/** `CAUSERIE_EDIT_MINUTES`: 0 (editing off) or a positive number of minutes, fractions allowed. */
/** Default of `CAUSERIE_EDIT_MINUTES`: how long an author may edit a message. */
export const DEFAULT_EDIT_MINUTES = 15;

function editMinutes(env: Env): number {
  const raw = read(env, "CAUSERIE_EDIT_MINUTES");
  if (raw === undefined) return DEFAULT_EDIT_MINUTES;
  const n = Number(raw);
  if (!/^\d*\.?\d+$/.test(raw) || !(n >= 0) || n > EDIT_MINUTES_MAX) {
    throw new ConfigError(
      "CAUSERIE_EDIT_MINUTES",
      `expected a number of minutes from 0 (editing off) to ${EDIT_MINUTES_MAX}, got "${raw}"`,
    );
  }
  return n;
}

/** Default relay of Stately's inspector (its own default, 8080, is Causerie's port). */
export const DEFAULT_INSPECT_URL = "ws://127.0.0.1:8081";

/**
 * `CAUSERIE_INSPECT` and `CAUSERIE_INSPECT_URL`: Stately's inspector is for a
 * developer's own machine, so it is refused unless the server listens on
 * loopback and the relay is on loopback too.
 */
function inspection(env: Env, host: string): Pick<Config, "inspect" | "inspectUrl"> {
  const inspect = (read(env, "CAUSERIE_INSPECT") ?? "off").toLowerCase();
  if (inspect !== "off" && inspect !== "stately") {
    throw new ConfigError("CAUSERIE_INSPECT", `expected off or stately, got "${inspect}"`);
  }
  const raw = read(env, "CAUSERIE_INSPECT_URL") ?? DEFAULT_INSPECT_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError("CAUSERIE_INSPECT_URL", `expected a ws:// URL, got "${raw}"`);
  }
  if (url.protocol !== "ws:" || !isLoopbackHost(url.hostname)) {
    throw new ConfigError(
      "CAUSERIE_INSPECT_URL",
      `expected a ws:// URL on this machine (localhost, 127.0.0.1 or [::1]), got "${raw}"`,
    );
  }
  if (inspect === "stately" && !isLoopbackHost(host)) {
    throw new ConfigError(
      "CAUSERIE_INSPECT",
      `stately is for a developer's machine: it sends every actor's state out of the process, ` +
        `so it needs CAUSERIE_HOST on loopback (127.0.0.1, ::1 or localhost), not "${host}"; ` +
        `set CAUSERIE_INSPECT=off or listen on loopback`,
    );
  }
  return { inspect, inspectUrl: url.href };
}
