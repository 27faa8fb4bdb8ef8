/**
 * The Hono application: every route, one error handler, one not-found
 * handler, so that every failure is a `{"error":{code,message}}` body.
 *
 * @module
 */

import { Hono } from "hono";
import type { Accounts } from "../auth/accounts.ts";
import type { Logger } from "../lib/log.ts";
import { ProtocolError } from "../protocol/errors.ts";
import type { Store } from "../store/store.ts";
import { apiRoutes } from "./api.ts";
import { opsRoutes } from "./ops.ts";
import type { Hub } from "../runtime/hub.ts";
import { type WsOptions, wsRoute } from "./ws.ts";

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
}

/** Builds the HTTP application. */
export function createApp(opts: AppOptions): Hono {
  const app = new Hono();
  const isShuttingDown = opts.isShuttingDown ?? (() => false);

  app.route("/api", apiRoutes(opts.accounts));
  if (opts.hub) app.get("/ws", wsRoute(opts.hub, opts.ws));
  app.route("/", opsRoutes(opts.store, isShuttingDown));

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
    opts.log.error(
      `${c.req.method} ${new URL(c.req.url).pathname} failed: ${(err as Error).stack ?? err}`,
    );
    return c.json(
      { error: { code: "internal", message: "the server failed; try again, then report it" } },
      500,
    );
  });

  return app;
}
