/**
 * Composition root: configuration -> store -> services -> Hono app -> Deno.serve.
 *
 * Run with `deno task start`. Configuration comes from CAUSERIE_* environment
 * variables (README.md lists them); a bad value stops start-up with one line
 * naming the variable.
 *
 * @module
 */

import { Accounts } from "./auth/accounts.ts";
import { ensureAdmin, NO_ADMIN_HINT } from "./auth/bootstrap.ts";
import { hashQueue } from "./auth/password.ts";
import { type Config, ConfigError, loadConfig, readEnvironment } from "./config/config.ts";
import { createLogger, type LogFields, type Logger } from "./lib/log.ts";
import { parseTrustedProxies } from "./lib/proxies.ts";
import { createSecurityLog, type SecurityLog, silentSecurityLog } from "./lib/security_log.ts";
import { connectionsFor, NOFILE_WARN_BELOW, openFileLimit } from "./lib/nofile.ts";
import { createAdminSocketApp, createApp } from "./routes/app.ts";
import { HTTP_TIMEOUTS, type HttpServer, listenHttp } from "./routes/http_server.ts";
import { createWebSocketSupport } from "./routes/node_ws.ts";
import { MAX_FRAME_BYTES } from "./protocol/frames.ts";
import { Admission } from "./runtime/admission.ts";
import { serveAdminSocket } from "./routes/admin_socket.ts";
import { createHub, type Hub, type HubOptions } from "./runtime/hub.ts";
import { MetricSet } from "./runtime/metrics.ts";
import { attachStately, type StatelyLink } from "./runtime/stately.ts";
import { type ClusterNode, joinCluster } from "./runtime/cluster_node.ts";
import { parseMysqlUrl } from "./store/mysql_migrate.ts";
import type { WsOptions } from "./routes/ws.ts";
import { openStore } from "./store/open.ts";
import type { Store } from "./store/store.ts";

/** A running server. */
export interface RunningServer {
  /** The port actually listened on (useful with `CAUSERIE_PORT=0`). */
  port: number;
  /** The host listened on. */
  hostname: string;
  /** The database, open until {@link RunningServer.stop}. */
  store: Store;
  /** The live chat. */
  hub: Hub;
  /** This instance among several; only with `CAUSERIE_BUS` (issue 15). */
  cluster?: ClusterNode;
  /** Stops listening, then closes the database. Idempotent. */
  stop(): Promise<void>;
}

/** Knobs for tests: shorter timers, a simulated clock. */
export interface StartOptions {
  /** WebSocket options (idle timeout). */
  ws?: WsOptions;
  /** Called if the root actor fails; `main` exits the process. */
  onFatal?: (error: unknown) => void;
  /** Called once a shutdown has drained and everything is closed; `main` exits 0. */
  onStopped?: () => void;
  /** Serve the admin socket at `config.adminSocket` (default true). */
  adminSocket?: boolean;
  /** The security log (default: from `CAUSERIE_SECURITY_LOG`). */
  securityLog?: SecurityLog;
  /**
   * TESTS ONLY, never read from the environment (so no deployment can turn
   * it on): `dropSalonPublishes` makes this instance acknowledge and deliver
   * its salon messages without ever publishing them on the bus, as an
   * instance dying between commit and publish (the failure test, issue 15).
   * `dropSalonEvents`: never publish memberships, join requests, typing,
   * read markers, edits, deletes or slow modes (the recovery tests).
   */
  testHooks?: {
    dropSalonPublishes?: boolean;
    /**
     * Moderation effects (kicks, bans, mutes, roles, notices, reports,
     * revocations) applied here but never published on the bus, as if the
     * bus lost them: the other instances converge through their check.
     */
    dropUserPublishes?: boolean;
    /**
     * Never publishes presence changes (a user's first or last session on
     * this instance) nor session-limit orders on the bus: the others learn
     * them from the periodic rebuild and check of `live_sessions` only (issue 15).
     */
    dropPresencePublishes?: boolean;
    /** Never publishes salon events (memberships, requests, typing, read, edits, slow mode). */
    dropSalonEvents?: boolean;
    /** The same for direct messages (runtime/cluster_directs.ts). */
    dropDirectPublishes?: boolean;
  };
  /** Overrides of the live chat's options. */
  hub?: Partial<Pick<HubOptions, "clock" | "now" | "presenceIntervalMs">> & {
    helloTimeoutMs?: number;
    floodMs?: number;
  };
}

/** Hides the password of a database URL, for messages. */
export function redactDbUrl(url: string): string {
  return url.replace(/^(mysql:\/\/[^:/@]*:)[^@]*@/, "$1***@");
}

/** Hides the password of a bus URL (`redis://:password@host...`), for messages. */
export function redactBusUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/[^:/@]*:)[^@]*@/, "$1***@");
}

/**
 * The start-up configuration as logged (event `config`): every setting but
 * the secrets, the database URL without its password and, for the admin
 * password, only whether one is set. An allowlist: a new secret setting is
 * never logged by mistake.
 */
export function configForLog(config: Config): NonNullable<LogFields["config"]> {
  return {
    host: config.host,
    port: config.port,
    db: redactDbUrl(config.db),
    admin_socket: config.adminSocket,
    admin_password_set: config.adminPassword !== undefined,
    salons: config.salons.map((s) => ({ name: s.name, policy: s.policy })),
    kick_minutes: config.kickMinutes,
    shutdown_seconds: config.shutdownSeconds,
    rate_per_second: config.ratePerSecond,
    rate_burst: config.rateBurst,
    max_text: config.maxText,
    max_sessions: config.maxSessions,
    log_level: config.logLevel,
    log_format: config.logFormat,
    security_log: config.securityLog,
    max_connections: config.maxConnections ?? null,
    max_connections_per_address: config.maxConnectionsPerAddress,
    prewelcome_max: config.preWelcomeMax,
    prewelcome_per_address: config.preWelcomePerAddress,
    connect_burst: config.connectBurst,
    connect_per_second: config.connectPerSecond,
    allowed_origins: config.allowedOrigins,
    hash_queue: config.hashQueue,
    request_burst: config.requestBurst,
    request_per_second: config.requestPerSecond,
    registration: config.registration,
    register_per_address_per_hour: config.registerPerAddressPerHour,
    register_per_minute: config.registerPerMinute,
    trusted_proxies: config.trustedProxies,
    presence_salon_max: config.presenceSalonMax,
    edit_minutes: config.editMinutes,
    inspect: config.inspect,
    // Several instances (issue 15): only with a bus, so one process logs what it always did.
    ...(config.cluster
      ? {
        bus: redactBusUrl(config.cluster.bus),
        node_beat_ms: config.cluster.beatMs,
        node_dead_ms: config.cluster.deadMs,
        salon_gap_wait_ms: config.cluster.gapWaitMs,
        salon_check_ms: config.cluster.checkMs,
        bus_probe_ms: config.cluster.probeMs,
      }
      : {}),
  };
}

/**
 * Starts a server for `config`: opens and migrates the store, syncs the
 * salons, bootstraps the admin, listens. Throws with a one-line message that
 * says what to fix.
 */
export async function start(
  config: Config,
  log: Logger,
  opts: StartOptions = {},
): Promise<RunningServer> {
  log.info("configuration", { event: "config", config: configForLog(config) });
  let store: Store;
  try {
    store = await openStore(config.db);
  } catch (e) {
    throw new Error(`cannot open database ${redactDbUrl(config.db)}: ${(e as Error).message}`);
  }
  let stopHub: (() => Promise<void>) | undefined;
  // The metrics of this server alone: tests run several servers in one process.
  const metrics = new MetricSet();
  let stately: StatelyLink | undefined;
  let cluster: ClusterNode | undefined;
  try {
    await store.syncSalons(config.salons, Date.now());
    const admin = await ensureAdmin(store, config.adminPassword, Date.now());
    if (admin === "missing") log.warn(NO_ADMIN_HINT, { event: "admin_missing" });
    if (admin === "created") {
      log.info("created user 'admin' from CAUSERIE_ADMIN_PASSWORD", {
        event: "admin_created",
        user: "admin",
      });
    }
    if (admin === "promoted") {
      log.info("gave user 'admin' the admin role and CAUSERIE_ADMIN_PASSWORD", {
        event: "admin_promoted",
        user: "admin",
      });
    }

    // Several instances (issue 15): only with CAUSERIE_BUS; config refuses a bus without MySQL.
    const reapHooks = { self: () => {}, others: (_nodes: string[]) => {} };
    if (config.cluster) {
      cluster = await joinCluster({
        cluster: config.cluster,
        store,
        database: parseMysqlUrl(config.db).database,
        log,
        // Issue 15, item 4: reaped (cut off), this instance closes every socket (clients
        // reconnect; their sessions are written again under the new id); having reaped dead
        // nodes, it publishes that their users are offline. The hub exists by the first beat.
        onReaped: () => reapHooks.self(),
        onReapedOthers: (reaped) => reapHooks.others(reaped.nodes),
      });
    }

    const security = opts.securityLog ??
      (config.securityLog === "off" ? silentSecurityLog : createSecurityLog(config.securityLog));
    const accounts = new Accounts({
      store,
      security,
      isShuttingDown: () => hub.isShuttingDown(),
      registration: {
        mode: config.registration,
        perAddressPerHour: config.registerPerAddressPerHour,
        perMinute: config.registerPerMinute,
      },
    });
    let stopAll: () => Promise<void> = () => Promise.resolve();
    const hub = await createHub({
      store,
      accounts,
      log,
      limits: {
        ratePerSecond: config.ratePerSecond,
        burst: config.rateBurst,
        maxText: config.maxText,
        helloTimeoutMs: opts.hub?.helloTimeoutMs,
        floodMs: opts.hub?.floodMs,
        requestBurst: config.requestBurst,
        requestPerSecond: config.requestPerSecond,
      },
      maxSessions: config.maxSessions,
      clock: opts.hub?.clock,
      now: opts.hub?.now,
      presenceIntervalMs: opts.hub?.presenceIntervalMs,
      presenceSalonMax: config.presenceSalonMax,
      onFatal: opts.onFatal,
      kickMinutes: config.kickMinutes,
      editMinutes: config.editMinutes,
      ...(cluster && config.cluster
        ? {
          cluster: {
            bus: cluster.bus,
            gapWaitMs: config.cluster.gapWaitMs,
            checkMs: config.cluster.checkMs,
            dropPublishes: opts.testHooks?.dropSalonPublishes === true,
            dropUserPublishes: opts.testHooks?.dropUserPublishes === true,
            presence: {
              nodeId: () => cluster!.nodeId(),
              aliveMs: config.cluster.deadMs,
              checkMs: config.cluster.beatMs,
              dropPublishes: opts.testHooks?.dropPresencePublishes === true,
            },
            dropEvents: opts.testHooks?.dropSalonEvents === true,
            dropDirectPublishes: opts.testHooks?.dropDirectPublishes === true,
          },
        }
        : {}),
      security,
      metrics,
      shutdownSeconds: config.shutdownSeconds,
      onStopped: () => {
        stopAll().then(() => opts.onStopped?.(), (e) => {
          log.error("stopping failed", { event: "stop_failed", error: e });
          opts.onStopped?.();
        });
      },
    });
    stopHub = () => hub.stop();
    reapHooks.self = () => hub.reapedSelf();
    reapHooks.others = (nodes) => hub.nodesReaped(nodes);
    metrics.readFrom(() => hub.liveCounts());
    // Stately's inspector for developers (CAUSERIE_INSPECT=stately; config refuses it off loopback).
    if (config.inspect === "stately") {
      stately = attachStately(hub.server, { url: config.inspectUrl, log });
    }
    hashQueue.configure({ maxWaiting: config.hashQueue });
    const nofile = openFileLimit();
    const maxConnections = config.maxConnections ?? connectionsFor(nofile);
    if (nofile !== undefined && nofile < NOFILE_WARN_BELOW) {
      log.warn(
        `the open-file limit (ulimit -n) is ${nofile}: at most ${maxConnections} connections; raise it (ulimit -n 65536, or nofile in compose.yaml)`,
        { event: "open_file_limit_low", count: nofile },
      );
    }
    const webSockets = createWebSocketSupport({ maxPayload: MAX_FRAME_BYTES });
    const admission = new Admission({
      preWelcomeTotal: config.preWelcomeMax,
      preWelcomePerAddress: config.preWelcomePerAddress,
      connectBurst: config.connectBurst,
      connectPerSecond: config.connectPerSecond,
    });
    const trustedProxies = parseTrustedProxies(config.trustedProxies);
    const app = createApp({
      store,
      accounts,
      log,
      hub,
      ws: { allowedOrigins: config.allowedOrigins, ...opts.ws },
      wsDeps: { webSockets, admission, security },
      trustedProxies,
      metrics,
      bus: cluster?.bus,
    });
    const adminSocket = opts.adminSocket === false ? undefined : await serveAdminSocket(
      config.adminSocket,
      createAdminSocketApp({ hub, accounts, log, metrics }).fetch,
    );
    const closeAdminSocket = () => adminSocket?.close() ?? Promise.resolve();
    stopHub = async () => {
      await closeAdminSocket();
      await hub.stop();
    };
    let server: HttpServer;
    try {
      server = await listenHttp(app, webSockets, {
        hostname: config.host,
        port: config.port,
        limits: {
          maxConnections,
          maxConnectionsPerAddress: config.maxConnectionsPerAddress,
          ...HTTP_TIMEOUTS,
        },
        log,
        isProxy: (address) => trustedProxies.trusts(address),
        onShed: (address) =>
          security.record({
            event: "connection_refused",
            address,
            outcome: "closed",
            detail: "connections per address",
          }),
      });
    } catch (e) {
      if (e instanceof Deno.errors.AddrInUse) {
        throw new Error(
          `CAUSERIE_PORT: port ${config.port} on ${config.host} is already in use; stop the other process or choose another port`,
        );
      }
      if (e instanceof Deno.errors.AddrNotAvailable) {
        throw new Error(`CAUSERIE_HOST: ${config.host} is not an address of this machine`);
      }
      throw e;
    }
    let stopping: Promise<void> | undefined;
    stopAll = () => {
      stopping ??= (async () => {
        stately?.stop();
        await closeAdminSocket();
        await hub.stop();
        await server.close();
        await cluster?.stop();
        await store.close();
        metrics.stop();
        log.info("stopped", { event: "server_stopped" });
      })();
      return stopping;
    };
    const shown = server.hostname.includes(":") ? `[${server.hostname}]` : server.hostname;
    log.info(`Causerie listening on http://${shown}:${server.port} (database ${store.kind})`, {
      event: "server_started",
      url: `http://${shown}:${server.port}`,
      database: store.kind,
    });
    return {
      port: server.port,
      hostname: server.hostname,
      store,
      hub,
      ...(cluster ? { cluster } : {}),
      stop: () => stopAll(),
    };
  } catch (e) {
    stately?.stop();
    await stopHub?.();
    await cluster?.stop();
    await store.close();
    metrics.stop();
    throw e;
  }
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(readEnvironment());
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`causerie: ${e.message}`);
      Deno.exit(1);
    }
    throw e;
  }
  const log = createLogger(config.logLevel, undefined, { format: config.logFormat });
  let server: RunningServer;
  try {
    server = await start(config, log, {
      onFatal: () => {
        console.error("causerie: the server actor failed (see the log above); exiting");
        Deno.exit(1);
      },
      onStopped: () => Deno.exit(0),
    });
  } catch (e) {
    log.error("start-up failed", { event: "start_failed", error: e });
    console.error(`causerie: ${(e as Error).message}`);
    Deno.exit(1);
  }
  // SIGTERM and SIGINT start the countdown; a second signal skips to the drain.
  const signal = () => {
    log.info("signal received: starting the shutdown countdown (again to skip it)", {
      event: "signal",
    });
    server.hub.signal();
  };
  Deno.addSignalListener("SIGINT", signal);
  Deno.addSignalListener("SIGTERM", signal);
}

if (import.meta.main) await main();
