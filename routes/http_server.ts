/**
 * The public HTTP server: Hono on `node:http` (through `@hono/node-server`),
 * with the WebSocket upgrade handed to `ws` (through `@hono/node-ws`).
 *
 * Why not `Deno.serve`: Deno's WebSocket reads a whole message, fragments
 * included, before the application can look at its size (a 600 MiB
 * fragmented message kills the process), and its accept loop ends the process
 * when file descriptors run out. `ws` refuses a message from its frame header
 * (`maxPayload`), and `node:http` with `maxConnections` below the descriptor
 * limit sheds connections and recovers. docs/architecture.md says more.
 *
 * @module
 */

import { createAdaptorServer } from "@hono/node-server";
import type { Hono } from "hono";
import type { Server } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { addressKey } from "../lib/address.ts";
import type { Logger } from "../lib/log.ts";
import type { WebSocketSupport } from "./node_ws.ts";

/** Limits of the HTTP server. */
export interface HttpLimits {
  /** Open TCP connections at most (WebSockets included); more are closed on accept. */
  maxConnections: number;
  /** Open TCP connections per client address (IPv6 by /64), proxies excepted; more are closed. */
  maxConnectionsPerAddress: number;
  /** Time allowed for a request's headers, ms. */
  headersTimeoutMs: number;
  /** Time allowed for a whole request (headers and body), ms. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long, ms. */
  keepAliveTimeoutMs: number;
}

/** Defaults of {@link HttpLimits} (`maxConnections` comes from the descriptor limit). */
export const HTTP_TIMEOUTS = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
} as const;

/** A listening server. */
export interface HttpServer {
  /** The port listened on. */
  port: number;
  /** The address listened on. */
  hostname: string;
  /** Stops accepting, closes idle and HTTP connections (WebSockets are the hub's), resolves once closed. */
  close(): Promise<void>;
}

/** How often a listener that shed connections checks that it still accepts, ms. */
export const ACCEPT_PROBE_MS = 2000;

/**
 * Listens on `hostname:port` with `app`. Throws `AddrInUse` / `AddrNotAvailable`
 * as `Deno.errors` do, so that callers can name the variable to fix.
 *
 * Connections past `maxConnections` are closed as they arrive. When file
 * descriptors run out while that happens, Deno's `node:net` may stop
 * accepting for good (measured on Deno 2.9.6 with 1,500 idle sockets against
 * a limit of 1,024); so once the server has shed connections, it probes
 * itself every {@link ACCEPT_PROBE_MS} and, if a probe is not accepted, listens
 * again on the same port with a fresh listener (connections already open are
 * kept).
 */
export async function listenHttp(
  app: Hono,
  webSockets: WebSocketSupport,
  opts: {
    hostname: string;
    port: number;
    limits: HttpLimits;
    log: Logger;
    /** Peers exempt from the per-address cap (trusted reverse proxies). */
    isProxy?: (address: string) => boolean;
    /** Told of each connection closed for its address holding too many. */
    onShed?: (address: string) => void;
  },
): Promise<HttpServer> {
  const { limits, log } = opts;
  const sockets = new Set<Socket>();
  const perAddress = new Map<string, number>();
  const servers = new Set<Server>();
  let shedding = false;
  let probing = false;
  let closed = false;
  let probeHost = "";
  let lastWarning = 0;
  const warn = (message: string, event: string) => {
    const now = Date.now();
    if (now - lastWarning < 10_000) return;
    lastWarning = now;
    log.warn(message, { event });
  };

  const create = (): Server => {
    const server = createAdaptorServer({
      fetch: app.fetch,
      overrideGlobalObjects: false,
      serverOptions: {
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        // How often the two timeouts above are checked (Node's default, 30 s, makes them coarse).
        connectionsCheckingInterval: 1000,
      },
    }) as Server;
    server.maxConnections = limits.maxConnections;
    webSockets.attach(server, app);
    server.on("connection", (socket: Socket) => {
      // Each listener counts only its own connections: after listening again, the old ones
      // still count here.
      if (sockets.size >= limits.maxConnections) {
        shedding = true;
        socket.destroy();
        return;
      }
      const peer = socket.remoteAddress ?? "unknown";
      // The watchdog's probe of ourselves is not a client: it never counts against loopback's cap.
      if (!opts.isProxy?.(peer) && !(probing && peer === probeHost)) {
        const key = addressKey(peer);
        const open = perAddress.get(key) ?? 0;
        if (open >= limits.maxConnectionsPerAddress) {
          socket.destroy();
          opts.onShed?.(peer);
          return;
        }
        perAddress.set(key, open + 1);
        socket.once("close", () => {
          const n = (perAddress.get(key) ?? 1) - 1;
          if (n <= 0) perAddress.delete(key);
          else perAddress.set(key, n);
        });
      }
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
      if (sockets.size >= limits.maxConnections) {
        shedding = true;
        warn(
          `connection limit reached (${limits.maxConnections} open): new connections are closed until some end`,
          "connection_limit_reached",
        );
      }
    });
    servers.add(server);
    return server;
  };

  const listen = (server: Server, port: number) =>
    new Promise<void>((resolve, reject) => {
      const failed = (e: NodeJS.ErrnoException) => {
        if (e.code === "EADDRINUSE") reject(new Deno.errors.AddrInUse(e.message));
        else if (e.code === "EADDRNOTAVAIL") reject(new Deno.errors.AddrNotAvailable(e.message));
        else reject(e);
      };
      server.once("error", failed);
      server.listen(port, opts.hostname, () => {
        server.off("error", failed);
        // From now on an error (an accept that failed for lack of descriptors) is never fatal.
        server.on("error", (e: NodeJS.ErrnoException) => {
          shedding = true;
          warn(`the HTTP server reported ${e.code ?? e.message}; it goes on`, "http_server_error");
        });
        resolve();
      });
    });

  let current = create();
  await listen(current, opts.port);
  const address = current.address() as AddressInfo;
  probeHost = address.address === "0.0.0.0" || address.address === "::"
    ? (address.family === "IPv6" ? "::1" : "127.0.0.1")
    : address.address;

  /** Whether a connection to ourselves is accepted within a second. */
  const accepts = () =>
    new Promise<boolean>((resolve) => {
      const probe = connect({ host: probeHost, port: address.port });
      let settled = false;
      const onConnection = (socket: Socket) => {
        if (socket.remotePort === probe.localPort) done(true);
      };
      current.on("connection", onConnection);
      const done = (ok: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        current.off("connection", onConnection);
        probe.destroy();
        resolve(ok);
      };
      // A loaded event loop may take a while to accept: a whole second before giving up.
      const timer = setTimeout(() => done(false), 1000);
      probe.on("error", () => done(false));
    });

  let rebinding = false;
  const watchdog = setInterval(async () => {
    if (!shedding || rebinding || sockets.size >= limits.maxConnections) return;
    rebinding = true;
    try {
      probing = true;
      const accepting = await accepts().finally(() => probing = false);
      if (closed) return;
      if (accepting) {
        shedding = false;
        return;
      }
      log.warn("the HTTP server stopped accepting connections; listening again on the same port", {
        event: "listening_again",
      });
      const stale = current;
      stale.close(() => servers.delete(stale));
      current = create();
      await listen(current, address.port);
      // Closed meanwhile: the fresh listener must not outlive the server.
      if (closed) current.close();
      shedding = false;
    } catch (e) {
      log.error("listening again failed; retrying", { event: "listening_again_failed", error: e });
    } finally {
      rebinding = false;
    }
  }, ACCEPT_PROBE_MS);

  let closing: Promise<void> | undefined;
  return {
    port: address.port,
    hostname: address.address,
    close() {
      closed = true;
      clearInterval(watchdog);
      closing ??= (() => {
        const closed = [...servers].map((server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          })
        );
        // Upgraded sockets the hub did not close (a peer that never answered) end here.
        for (const socket of sockets) socket.destroy();
        return Promise.all(closed).then(() => {});
      })();
      return closing;
    },
  };
}
