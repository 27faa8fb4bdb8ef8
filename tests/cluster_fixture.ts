/**
 * Several Causerie instances on one fresh MySQL database and one Redis bus
 * (issue 15): in this process (`start()` from main.ts) or as child processes
 * (`deno run main.ts`, for SIGKILL), with short heartbeat timings. Tests need
 * both `CAUSERIE_TEST_MYSQL_URL` and `CAUSERIE_TEST_BUS_URL`; without either,
 * {@link clusterTest} registers them as ignored, named so.
 *
 * @module
 */

import { loadConfig } from "../config/config.ts";
import { silentLogger } from "../lib/log.ts";
import { silentSecurityLog } from "../lib/security_log.ts";
import { type RunningServer, start, type StartOptions } from "../main.ts";
import { BUS_SKIPPED, BUS_URL } from "./bus_fixture.ts";
import { adminRows, type FreshDatabase, freshDatabase, MYSQL_SKIPPED } from "./mysql_fixture.ts";
import { type Server, startServer } from "./server_process.ts";

/** Heartbeat timings of the fixture's instances, ms (short, for tests). */
export const TEST_BEAT_MS = 100;
/** Dead-node delay of the fixture's instances, ms. */
export const TEST_DEAD_MS = 1000;
/** Wait before a missing salon message id is read from MySQL, ms. */
export const TEST_GAP_WAIT_MS = 100;
/** Interval of the check of each salon's last id, ms. */
export const TEST_CHECK_MS = 300;

/**
 * Registers a test that needs MySQL and Redis: ignored (and named so) when
 * either test URL is unset.
 */
export function clusterTest(name: string, fn: () => Promise<void>): void {
  const missing = [
    MYSQL_SKIPPED ? "CAUSERIE_TEST_MYSQL_URL" : "",
    BUS_SKIPPED ? "CAUSERIE_TEST_BUS_URL" : "",
  ].filter((v) => v !== "");
  Deno.test({
    name: missing.length > 0 ? `${name} (${missing.join(" and ")} unset)` : name,
    ignore: missing.length > 0,
    fn,
  });
}

/** One instance of the cluster. */
export interface Instance {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** Its node id now (read from its log for a child process). */
  nodeId(): string;
  /** A clean stop (unregisters its node). */
  stop(): Promise<void>;
  /**
   * As if it died: a child process is SIGKILLed; an instance in this process
   * stops beating and closes its bus without unregistering, then stops.
   */
  kill(): Promise<void>;
  /** The in-process server (absent for a child process). */
  server?: RunningServer;
  /** The child process (absent in this process). */
  child?: Server;
}

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** Instances in this process (default 2). */
  inProcess?: number;
  /** Instances as child processes (default 0). */
  processes?: number;
  /** The bus URL (default `CAUSERIE_TEST_BUS_URL`). */
  bus?: string;
  /** More environment for every instance. */
  env?: Record<string, string>;
  /**
   * In-process instances (by index) that acknowledge salon messages but never
   * publish them (`StartOptions.testHooks.dropSalonPublishes`).
   */
  dropPublishesOn?: number[];
  /**
   * In-process instances (by index) that apply moderation effects but never
   * publish them (`StartOptions.testHooks.dropUserPublishes`).
   */
  dropUserPublishesOn?: number[];
  /**
   * In-process instances (by index) that never publish presence changes
   * (`StartOptions.testHooks.dropPresencePublishes`).
   */
  dropPresencePublishesOn?: number[];
  /**
   * In-process instances (by index) that never publish memberships, join
   * requests, typing, read markers, edits or slow modes
   * (`StartOptions.testHooks.dropSalonEvents`).
   */
  dropEventsOn?: number[];
  /**
   * In-process instances (by index) that acknowledge direct messages but
   * never publish them (`StartOptions.testHooks.dropDirectPublishes`).
   */
  dropDirectPublishesOn?: number[];
}

/** A running cluster. */
export interface Cluster {
  /** The shared database. */
  db: FreshDatabase;
  /** In-process instances first, then child processes. */
  instances: Instance[];
  /** The rows of `nodes` (id, beat_at), by id. */
  nodes(): Promise<Array<{ id: string; beatAt: number }>>;
  /** Stops every instance still running and drops the database. */
  dispose(): Promise<void>;
}

/** The test hooks of in-process instance `n`, from the options' index lists. */
function testHooksOf(opts: ClusterOptions, n: number): NonNullable<StartOptions["testHooks"]> {
  const on = (list: number[] | undefined) => list?.includes(n) === true;
  return {
    ...(on(opts.dropPublishesOn) ? { dropSalonPublishes: true } : {}),
    ...(on(opts.dropUserPublishesOn) ? { dropUserPublishes: true } : {}),
    ...(on(opts.dropPresencePublishesOn) ? { dropPresencePublishes: true } : {}),
    ...(on(opts.dropEventsOn) ? { dropSalonEvents: true } : {}),
    ...(on(opts.dropDirectPublishesOn) ? { dropDirectPublishes: true } : {}),
  };
}

/** The environment of every instance. */
function environment(db: FreshDatabase, bus: string, extra: Record<string, string>) {
  return {
    CAUSERIE_HOST: "127.0.0.1",
    CAUSERIE_PORT: "0",
    CAUSERIE_DB: db.url,
    CAUSERIE_BUS: bus,
    CAUSERIE_NODE_BEAT_MS: String(TEST_BEAT_MS),
    CAUSERIE_NODE_DEAD_MS: String(TEST_DEAD_MS),
    CAUSERIE_SALON_GAP_WAIT_MS: String(TEST_GAP_WAIT_MS),
    CAUSERIE_SALON_CHECK_MS: String(TEST_CHECK_MS),
    CAUSERIE_SECURITY_LOG: "off",
    CAUSERIE_LOG_LEVEL: "info",
    ...extra,
  };
}

/** Starts one instance in this process, with these test hooks. */
async function inProcess(
  env: Record<string, string>,
  testHooks: NonNullable<StartOptions["testHooks"]>,
): Promise<Instance> {
  const server = await start(loadConfig(env), silentLogger, {
    adminSocket: false,
    securityLog: silentSecurityLog,
    ...(Object.keys(testHooks).length > 0 ? { testHooks } : {}),
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    nodeId: () => server.cluster!.nodeId(),
    stop: () => server.stop(),
    async kill() {
      await server.cluster!.halt();
      await server.stop();
    },
    server,
  };
}

/** Starts one instance as a child process (`deno run main.ts`). */
async function childProcess(
  env: Record<string, string>,
  dir: string,
  n: number,
): Promise<Instance> {
  const child = await startServer({ ...env, CAUSERIE_ADMIN_SOCKET: `${dir}/admin-${n}.sock` });
  const nodeId = () => {
    const ids = [...child.output().matchAll(/registered (?:again )?as node ([0-9a-f-]{36})/g)];
    if (ids.length === 0) throw new Error(`no node id in the child's log:\n${child.output()}`);
    return ids[ids.length - 1][1];
  };
  return {
    url: child.url,
    nodeId,
    async stop() {
      child.kill("SIGTERM");
      child.kill("SIGTERM"); // a second signal skips the countdown
      await child.finished();
    },
    async kill() {
      child.kill("SIGKILL");
      await child.finished();
    },
    child,
  };
}

/** Starts the cluster on a fresh database (migrated by the first instance). */
export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const bus = opts.bus ?? BUS_URL;
  if (!bus) throw new Error("CAUSERIE_TEST_BUS_URL is not set");
  const db = await freshDatabase();
  const dir = await Deno.makeTempDir({ prefix: "causerie-cluster-" });
  const env = environment(db, bus, opts.env ?? {});
  const instances: Instance[] = [];
  const dispose = async () => {
    for (const i of instances) {
      if (i.child) await i.child.dispose();
      else await i.server?.stop();
    }
    await db.drop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    for (let n = 0; n < (opts.inProcess ?? 2); n++) {
      instances.push(
        await inProcess(env, testHooksOf(opts, n)),
      );
    }
    for (let n = 0; n < (opts.processes ?? 0); n++) {
      instances.push(await childProcess(env, dir, n));
    }
  } catch (e) {
    await dispose();
    throw e;
  }
  return {
    db,
    instances,
    async nodes() {
      const rows = await adminRows(db.name, "SELECT id, beat_at FROM nodes ORDER BY id");
      return rows.map((r) => ({ id: String(r.id), beatAt: Number(r.beat_at) }));
    },
    dispose,
  };
}
