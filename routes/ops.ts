/**
 * Operations endpoints: `/healthz` (the process is up) and `/readyz` (the
 * database answers and the server is not shutting down).
 *
 * @module
 */

import { Hono } from "hono";
import type { Store } from "../store/store.ts";

/** How long `/readyz` waits for the database. */
export const READY_TIMEOUT_MS = 2000;

/** The operations routes, mounted at `/`. */
export function opsRoutes(store: Store, isShuttingDown: () => boolean): Hono {
  const ops = new Hono();

  ops.get("/healthz", (c) => c.json({ status: "ok" }, 200));

  ops.get("/readyz", async (c) => {
    if (isShuttingDown()) {
      return c.json({ status: "shutting_down", database: "unchecked" }, 503);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        store.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("timeout")), READY_TIMEOUT_MS);
        }),
      ]);
      return c.json({ status: "ready", database: "ok" }, 200);
    } catch {
      return c.json({ status: "unavailable", database: "unreachable" }, 503);
    } finally {
      clearTimeout(timer);
    }
  });

  return ops;
}
