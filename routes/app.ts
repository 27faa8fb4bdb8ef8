/**
 * The Hono application: every route, one error handler, one not-found
 * handler, so that every failure is a `{"error":{code,message}}` body.
 *
 * @module
 */

import { Hono, type MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";
import type { Accounts } from "../auth/accounts.ts";
import type { Logger } from "../lib/log.ts";
import { ProtocolError } from "../protocol/errors.ts";
import type { Store } from "../store/store.ts";
import { NO_TRUSTED_PROXIES, type TrustedProxies } from "../lib/proxies.ts";
import { apiRoutes } from "./api.ts";
import { bodyLimit, clientAddressResolver } from "./body.ts";
import { adminRoutes } from "./admin.ts";
import { inspectRoute, inspectSocketRoute } from "./inspect.ts";
import { opsRoutes } from "./ops.ts";
import type { Hub } from "../runtime/hub.ts";
import type { BusHealth } from "../runtime/cluster_node.ts";
import { type WsDeps, type WsOptions, wsRoute } from "./ws.ts";
import { metricsRoutes, type MetricsSource } from "./metrics.ts";
import { inspectorPageRoutes, type WebOptions, webRoutes } from "./web.ts";

/** What the application needs. */
export interface AppOptions {
  /** The database. */
  store: Store;
  /** Account service. */
  accounts: Accounts;
  /** Logging. */
  log: Logger;
  /** Whether the shutdown countdown is running. */
  isShuttingDown?: () => boolean;
  /** The live chat; `/ws` is served when present. */
  hub?: Hub;
  /** WebSocket options. */
  ws?: WsOptions;
  /** The upgrade helper and admission gate; needed with `hub`. */
  wsDeps?: WsDeps;
  /** Proxies whose `X-Forwarded-For`/`Forwarded` are believed (default: none). */
  trustedProxies?: TrustedProxies;
  /** The browser client's files (default: web/dist/). */
  web?: WebOptions;
  /** `GET /metrics` is served when present (PROTOCOL 5.5). */
  metrics?: MetricsSource;
  /** The bus between instances (issue 15); `/readyz` reports it when present. */
  bus?: BusHealth;
}

/**
 * Security headers on every HTTP response: no MIME sniffing, no referrer, a
 * CSP that allows nothing and no framing (the API serves JSON, never a page),
 * and no caching of `/api` and `/admin` answers (tokens, private data). Not on
 * the WebSocket upgrade, whose 101 answer carries no content. A route that
 * sets its own Content-Security-Policy (the browser client's page) keeps it.
 */
export function securityHeaders(): MiddlewareHandler {
  const headers = secureHeaders({
    contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    xFrameOptions: "DENY",
    // HSTS belongs to whoever terminates TLS (docs/operations.md), not to a plain-HTTP backend.
    strictTransportSecurity: false,
    // Headers that only matter for HTML pages stay off the JSON API: each header costs time on
    // every response (measured: header handling was a fifth of the CPU of a /healthz load).
    crossOriginEmbedderPolicy: false,
    crossOriginResourcePolicy: false,
    crossOriginOpenerPolicy: false,
    originAgentCluster: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  });
  return async (c, next) => {
    if (c.req.header("upgrade")?.toLowerCase() === "websocket") return await next();
    let ownCsp: string | null = null;
    await headers(c, async () => {
      await next();
      ownCsp = c.res.headers.get("Content-Security-Policy");
      const path = c.req.path;
      // The inspector page is a page like `/` (no-cache with its ETag), not an API answer.
      if ((path.startsWith("/api/") || path.startsWith("/admin/")) && path !== "/admin/inspector") {
        c.res.headers.set("Cache-Control", "no-store");
      }
    });
    if (ownCsp) c.res.headers.set("Content-Security-Policy", ownCsp);
  };
}

/** Builds the HTTP application. */
export function createApp(opts: AppOptions): Hono {
  const app = new Hono();
  const isShuttingDown = opts.isShuttingDown ?? opts.hub?.isShuttingDown ?? (() => false);

  app.use(securityHeaders());
  app.use(clientAddressResolver(opts.trustedProxies ?? NO_TRUSTED_PROXIES));
  app.use("/api/*", bodyLimit);
  app.use("/admin/*", bodyLimit);
  app.route("/api", apiRoutes(opts.accounts));
  if (opts.hub) {
    const hub = opts.hub;
    if (!opts.wsDeps) throw new Error("createApp: the live chat needs wsDeps (upgrade helper)");
    app.get("/ws", wsRoute(hub, opts.wsDeps, opts.ws));
    // The inspector page before the admin API (whose middleware wants a bearer on every path).
    app.route("/", inspectorPageRoutes(opts.web));
    // Before the admin routes: its socket authenticates by itself (header or first frame).
    app.get("/admin/inspect", inspectRoute(hub.inspection, opts.accounts, opts.wsDeps, opts.ws));
    app.route(
      "/admin",
      adminRoutes({
        moderation: hub.moderation,
        accounts: opts.accounts,
        actors: () => hub.actorTree(),
        via: "http",
        messages: hub.messages,
      }),
    );
  }
  app.route("/", opsRoutes(opts.store, isShuttingDown, opts.bus));
  if (opts.metrics) app.route("/", metricsRoutes(opts.metrics));
  app.route("/", webRoutes(opts.web));

  return withErrorHandling(app, opts.log);
}

/**
 * The app of the local admin socket: the admin routes with full rights
 * (whoever can open the socket file is admin), and `/healthz`.
 */
export function createAdminSocketApp(
  opts: { hub: Hub; accounts: Accounts; log: Logger; metrics?: MetricsSource },
): Hono {
  const app = new Hono();
  app.use(securityHeaders());
  app.use("/admin/*", bodyLimit);
  app.get("/healthz", (c) => c.json({ status: "ok" }, 200));
  if (opts.metrics) app.route("/", metricsRoutes(opts.metrics));
  app.get("/admin/inspect", inspectSocketRoute(opts.hub.inspection));
  app.route(
    "/admin",
    adminRoutes({
      moderation: opts.hub.moderation,
      accounts: opts.accounts,
      actors: () => opts.hub.actorTree(),
      via: "socket",
      messages: opts.hub.messages,
    }),
  );
  return withErrorHandling(app, opts.log);
}

/** Every failure as a `{"error":{code,message}}` body. */
function withErrorHandling(app: Hono, log: Logger): Hono {
  app.notFound((c) =>
    c.json(
      {
        error: {
          code: "not_found",
          message: `no route ${c.req.method} ${new URL(c.req.url).pathname}; see PROTOCOL.md`,
        },
      },
      404,
    )
  );

  app.onError((err, c) => {
    if (err instanceof ProtocolError) {
      if (err.extra.retryAfterSeconds !== undefined) {
        c.header("Retry-After", String(err.extra.retryAfterSeconds));
      }
      return c.json(err.toBody(), err.status);
    }
    const path = new URL(c.req.url).pathname;
    log.error(`${c.req.method} ${path} failed`, {
      event: "http_error",
      method: c.req.method,
      path,
      error: err,
    });
    return c.json(
      { error: { code: "internal", message: "the server failed; try again, then report it" } },
      500,
    );
  });

  return app;
}
