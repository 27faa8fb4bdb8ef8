/**
 * `GET /metrics` (PROTOCOL 5.5): the Prometheus text exposition of the
 * server's private registry (runtime/metrics.ts). No credentials, as
 * Prometheus expects: it carries counts only. Other methods fall through to
 * the app's JSON 404, like every other route.
 *
 * @module
 */

import { Hono } from "hono";

/** Where the exposition comes from (runtime/metrics.ts `MetricSet`). */
export interface MetricsSource {
  /** The exposition text of every metric. */
  render(): Promise<string>;
  /** Its Content-Type (`text/plain; version=0.0.4; charset=utf-8`). */
  readonly contentType: string;
}

/** The metrics route, mounted at `/`. */
export function metricsRoutes(source: MetricsSource): Hono {
  const app = new Hono();
  app.get("/metrics", async (c) =>
    c.body(await source.render(), 200, {
      "Content-Type": source.contentType,
      "Cache-Control": "no-store",
    }));
  return app;
}
