/**
 * Operations endpoints: `/healthz` (the process is up) and `/readyz` (the
 * database answers and the server is not shutting down; with a bus, whether
 * the bus answers too).
 *
 * @module
 */

import { Hono } from "hono";
import type { BusHealth } from "../runtime/cluster_node.ts";
import type { Store } from "../store/store.ts";

/** How long `/readyz` waits for the database (and the bus). */
export const READY_TIMEOUT_MS = 2000;

/** Rejects after `ms` unless `p` settles first. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      p,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("timeout")), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The operations routes, mounted at `/`. With `bus` (several instances),
 * `/readyz` adds `bus: "ok" | "unreachable"`; an unreachable bus leaves the
 * instance serving (its own users chat; instances catch up from MySQL), so it
 * answers 200 with `status: "degraded"`, never 503: Redis down everywhere
 * must not take every instance out of the load balancer.
 */
export function opsRoutes(store: Store, isShuttingDown: () => boolean, bus?: BusHealth): Hono {
  const ops = new Hono();

  ops.get("/healthz", (c) => c.json({ status: "ok" }, 200));

  ops.get("/readyz", async (c) => {
    if (isShuttingDown()) {
      return c.json({
        status: "shutting_down",
        database: "unchecked",
        ...(bus ? { bus: "unchecked" } : {}),
      }, 503);
    }
    const [database, busState] = await Promise.all([
      within(store.ping(), READY_TIMEOUT_MS).then(() => "ok", () => "unreachable"),
      bus
        ? within(bus.ping(READY_TIMEOUT_MS), READY_TIMEOUT_MS).then(() => "ok", () => "unreachable")
        : Promise.resolve(undefined),
    ]);
    const busField = busState === undefined ? {} : { bus: busState };
    if (database !== "ok") {
      return c.json({ status: "unavailable", database: "unreachable", ...busField }, 503);
    }
    const status = busState === "unreachable" ? "degraded" : "ready";
    return c.json({ status, database: "ok", ...busField }, 200);
  });

  return ops;
}
