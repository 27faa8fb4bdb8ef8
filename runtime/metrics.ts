/**
 * The Prometheus metrics of one server (PROTOCOL 5.5): `causerie_*` counters,
 * gauges and histograms in a private prom-client `Registry` (tests run
 * several servers in one process), with the runtime's default process metrics
 * under the same prefix.
 *
 * The hot path only adds to plain numbers through the narrow {@link Metrics}
 * interface (prom-client's own `inc()` builds a label hash and a result
 * object on every call); the numbers are copied into the registry by each
 * metric's `collect()` when `/metrics` is scraped. Gauges that are cheap to
 * compute then (connections, sessions, pending join requests, actors by
 * machine) are read from the live actor system at scrape time through
 * {@link LiveCounts}, so nothing is kept up to date for them meanwhile.
 *
 * Counts only: no label or value ever holds a username, salon name or text.
 *
 * @module
 */

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { RateLimit } from "../actors/connection_types.ts";
import type { CommitObserver } from "../store/message_writer.ts";
import type { NewMessage } from "../store/store.ts";
import { EventLoopLag } from "./event_loop_lag.ts";

export type { RateLimit } from "../actors/connection_types.ts";

/** The sanction kinds counted by `causerie_sanctions_total{kind}`. */
export type SanctionKind = "kick" | "ban" | "mute";

/** Every `limit` label of `causerie_rate_limited_total`, reported as 0 until it happens. */
export const RATE_LIMITS: readonly RateLimit[] = [
  "messages",
  "requests",
  "handshake",
  "membership",
  "history",
  "watch",
  "join_request",
];

/** Every `kind` label of `causerie_sanctions_total`. */
export const SANCTION_KINDS: readonly SanctionKind[] = ["kick", "ban", "mute"];

/**
 * What the running server reports as it works: counts only, each call adding
 * to a number (no allocation). {@link noMetrics} ignores everything.
 */
export interface Metrics extends CommitObserver {
  /** A `message` or `direct` frame was written to `frames` sessions by one fan-out. */
  delivered(frames: number): void;
  /** A request was refused with `error rate_limited` by `limit`. */
  rateLimited(limit: RateLimit): void;
  /** A moderator imposed a sanction. */
  sanctioned(kind: SanctionKind): void;
}

/** Metrics that go nowhere: the default of the hub, for tests and benches that do not care. */
export const noMetrics: Metrics = {
  committed() {},
  delivered() {},
  rateLimited() {},
  sanctioned() {},
};

/** The gauges read from the live server when `/metrics` is scraped. */
export interface LiveCounts {
  /** Open WebSocket connections (one connection actor each). */
  connections: number;
  /** Welcomed sessions. */
  sessions: number;
  /** Join requests waiting for a moderator, over every salon. */
  joinRequestsPending: number;
  /** Live actors by machine id. */
  actors: ReadonlyMap<string, number>;
}

/** Upper bounds of `causerie_commit_seconds`, seconds: a local disk sync to a slow remote database. */
export const COMMIT_SECONDS_BUCKETS = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
];

/** Upper bounds of `causerie_commit_batch_size`, messages per transaction. */
export const COMMIT_BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];

/**
 * Registers a counter whose value lives in plain numbers: `read` is asked at
 * each scrape (one number, or one per value of `label`).
 */
function counter(
  registry: Registry,
  def: {
    name: string;
    help: string;
    label?: string;
    read: () => number | Iterable<readonly [string, number]>;
  },
): void {
  new Counter({
    name: def.name,
    help: def.help,
    labelNames: def.label ? [def.label] : [],
    registers: [registry],
    collect(this: Counter<string>) {
      this.reset();
      const counts = def.read();
      if (typeof counts === "number") this.inc(counts);
      else for (const [value, n] of counts) this.inc({ [def.label!]: value }, n);
    },
  });
}

/** Options of {@link MetricSet}. */
export interface MetricSetOptions {
  /** Interval of the event-loop lag sampler, ms (default 100, `LAG_INTERVAL_MS`). */
  lagIntervalMs?: number;
}

/**
 * The metrics of one server: {@link Metrics} for the hot path, a registry
 * for `/metrics`. Start the live gauges with {@link MetricSet.readFrom} once
 * the hub exists; {@link MetricSet.stop} ends the lag sampler's timer.
 */
export class MetricSet implements Metrics {
  /** The private registry `/metrics` renders. */
  readonly registry: Registry = new Registry();
  #salonMessages = 0;
  #directMessages = 0;
  #deliveries = 0;
  readonly #rateLimited = new Map<RateLimit, number>(RATE_LIMITS.map((l) => [l, 0]));
  readonly #sanctions = new Map<SanctionKind, number>(SANCTION_KINDS.map((k) => [k, 0]));
  readonly #commitSeconds: Histogram;
  readonly #commitBatch: Histogram;
  readonly #lag: EventLoopLag;
  #live: (() => LiveCounts) | undefined;
  /** Machines seen so far: reported as 0 once their last actor is gone, not dropped. */
  readonly #machines = new Set<string>();

  /** Registers every metric and starts the event-loop lag sampler. */
  constructor(opts: MetricSetOptions = {}) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: "causerie_" });
    // Gauges named `_total` fail `promtool check metrics`; their labelled twins stay.
    for (
      const name of ["active_handles_total", "active_requests_total", "active_resources_total"]
    ) {
      this.registry.removeSingleMetric(`causerie_nodejs_${name}`);
    }

    counter(this.registry, {
      name: "causerie_messages_total",
      help: "Chat messages committed to the database, by kind (salon or direct).",
      label: "kind",
      read: () => [["salon", this.#salonMessages], ["direct", this.#directMessages]],
    });
    counter(this.registry, {
      name: "causerie_deliveries_total",
      help: "message and direct frames written to sessions by fan-out (the sender's own included).",
      read: () => this.#deliveries,
    });
    counter(this.registry, {
      name: "causerie_rate_limited_total",
      help: "Requests refused with error rate_limited on WebSockets, by the limit that refused.",
      label: "limit",
      read: () => this.#rateLimited,
    });
    counter(this.registry, {
      name: "causerie_sanctions_total",
      help: "Sanctions imposed by moderators, by kind.",
      label: "kind",
      read: () => this.#sanctions,
    });
    this.#commitSeconds = new Histogram({
      name: "causerie_commit_seconds",
      help: "Duration of the message writer's transactions (group commits), seconds.",
      buckets: COMMIT_SECONDS_BUCKETS,
      registers,
    });
    this.#commitBatch = new Histogram({
      name: "causerie_commit_batch_size",
      help: "Messages per transaction of the message writer (group commit).",
      buckets: COMMIT_BATCH_BUCKETS,
      registers,
    });
    this.#lag = new EventLoopLag(this.registry, opts.lagIntervalMs);

    let live: LiveCounts | undefined;
    /** One read of the actor system per scrape, shared by the four gauges below. */
    const read = (): LiveCounts | undefined => {
      if (live === undefined && this.#live) {
        live = this.#live();
        queueMicrotask(() => live = undefined);
      }
      return live;
    };
    const gauge = (name: string, help: string, value: (l: LiveCounts) => number) => {
      new Gauge({
        name,
        help,
        registers,
        collect(this: Gauge) {
          const l = read();
          this.set(l ? value(l) : 0);
        },
      });
    };
    gauge("causerie_connections", "Open WebSocket connections.", (l) => l.connections);
    gauge("causerie_sessions", "Welcomed sessions (sockets past hello).", (l) => l.sessions);
    gauge(
      "causerie_join_requests_pending",
      "Join requests waiting for a moderator's decision, over every salon.",
      (l) => l.joinRequestsPending,
    );
    const machines = this.#machines;
    new Gauge({
      name: "causerie_actors",
      help: "Live actors of the actor system, by machine.",
      labelNames: ["machine"],
      registers,
      collect(this: Gauge<"machine">) {
        const l = read();
        for (const machine of l?.actors.keys() ?? []) machines.add(machine);
        for (const machine of machines) this.set({ machine }, l?.actors.get(machine) ?? 0);
      },
    });
  }

  /** Reads the live gauges from `live` at each scrape (until then they are 0). */
  readFrom(live: () => LiveCounts): void {
    this.#live = live;
  }

  /** The exposition text of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** The Content-Type of {@link MetricSet.render}'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Stops the event-loop lag sampler. Idempotent. */
  stop(): void {
    this.#lag.stop();
  }

  /** {@link CommitObserver}: one transaction of the message writer. */
  committed(batch: readonly NewMessage[], seconds: number, ok: boolean): void {
    this.#commitSeconds.observe(seconds);
    this.#commitBatch.observe(batch.length);
    if (!ok) return;
    let direct = 0;
    for (let i = 0; i < batch.length; i++) if (batch[i].kind === "direct") direct++;
    this.#directMessages += direct;
    this.#salonMessages += batch.length - direct;
  }

  /** {@link Metrics.delivered}. */
  delivered(frames: number): void {
    this.#deliveries += frames;
  }

  /** {@link Metrics.rateLimited}. */
  rateLimited(limit: RateLimit): void {
    this.#rateLimited.set(limit, (this.#rateLimited.get(limit) ?? 0) + 1);
  }

  /** {@link Metrics.sanctioned}. */
  sanctioned(kind: SanctionKind): void {
    this.#sanctions.set(kind, (this.#sanctions.get(kind) ?? 0) + 1);
  }
}
