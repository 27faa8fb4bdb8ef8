/**
 * `causerie_event_loop_lag_seconds`: how late the event loop runs a timer.
 *
 * A timer is armed every {@link LAG_INTERVAL_MS}; when it fires, how much
 * later than asked is observed into a histogram. A loop blocked for 300 ms
 * (a synchronous disk sync, a huge JSON) shows as one observation of about
 * 300 ms minus the time left on the timer. prom-client's own
 * `nodejs_eventloop_lag_*` gauges rely on `perf_hooks.monitorEventLoopDelay`,
 * which under Deno records no blocking at all; they are kept (they are the
 * runtime's defaults) but this one is the one to watch.
 *
 * @module
 */

import { Histogram, type Registry } from "prom-client";

/** Interval of the sampler, ms: ten cheap wake-ups a second. */
export const LAG_INTERVAL_MS = 100;

/** Upper bounds of the histogram, seconds. */
export const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The sampler and its histogram, registered in one registry. */
export class EventLoopLag {
  readonly #histogram: Histogram;
  readonly #intervalMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #due = 0;
  #stopped = false;

  /** Registers the histogram in `registry` and starts sampling every `intervalMs`. */
  constructor(registry: Registry, intervalMs: number = LAG_INTERVAL_MS) {
    this.#histogram = new Histogram({
      name: "causerie_event_loop_lag_seconds",
      help: `How late the event loop ran a timer armed every ${intervalMs} ms, seconds.`,
      buckets: LAG_BUCKETS,
      registers: [registry],
    });
    this.#intervalMs = intervalMs;
    this.#arm();
  }

  #arm(): void {
    if (this.#stopped) return;
    this.#due = performance.now() + this.#intervalMs;
    this.#timer = setTimeout(this.#tick, this.#intervalMs);
  }

  readonly #tick = (): void => {
    this.#histogram.observe(Math.max(0, performance.now() - this.#due) / 1000);
    this.#arm();
  };

  /** Stops sampling. Idempotent. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }
}
