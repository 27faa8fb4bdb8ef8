/**
 * The {@link Bus} on Redis pub/sub, through `ioredis`: one connection
 * publishes, one subscribes (a subscribed Redis connection may not publish).
 *
 * - Publishing never queues: while Redis is unreachable a publish rejects at
 *   once (`enableOfflineQueue: false`); the bus is at most once.
 * - ioredis reconnects by itself (every 50 ms more per attempt, at most 2 s
 *   apart). Subscriptions are made again by this adapter, not by ioredis
 *   (`autoResubscribe: false`), so that it knows when Redis has acknowledged
 *   them: then it tells `resubscribed`, and callers catch up from MySQL.
 * - Connection errors are not thrown: they turn {@link RedisBus.status} to
 *   `down` and are told once per outage through `onStatus`.
 * - A self-probe catches a silent subscription (a connection that looks up
 *   but delivers nothing, e.g. a half-open socket behind a proxy): every
 *   `probeMs` (default {@link BUS_PROBE_MS}) the bus publishes a token on a
 *   channel of its own and expects it back on its subscriber. A token
 *   published (Redis acknowledged it) but not received by the next probe
 *   means the subscription is silent: the subscriber reconnects, subscribes
 *   again and tells `resubscribed`, so callers catch up from MySQL. A silent
 *   subscription is thus found within two probe intervals.
 *
 * @module
 */

import { Redis, type RedisOptions } from "ioredis";
import {
  type Bus,
  type BusHandler,
  type BusStatus,
  Listeners,
  prefixed,
  Subscriptions,
} from "./bus.ts";

/** Options of {@link openRedisBus}. */
export interface RedisBusOptions {
  /** `redis://[:password@]host:port/db` (or `rediss://` for TLS). */
  url: string;
  /** Channel prefix: the database name. */
  prefix: string;
  /** Told when the bus goes down (with the error, if any) and when it is up again. */
  onStatus?: (status: BusStatus, error?: Error) => void;
  /** Longest wait for the first connection, ms (default 5000). */
  connectTimeoutMs?: number;
  /** Interval of the self-probe, ms (default {@link BUS_PROBE_MS}); 0 turns it off. */
  probeMs?: number;
  /**
   * Told when the self-probe found a connection silent, before it reconnects
   * it: `subscriber` when a probe Redis acknowledged never came back,
   * `publisher` when Redis never acknowledged the probe (a half-open socket).
   */
  onSilent?: (side: "publisher" | "subscriber") => void;
}

/**
 * Longest wait for Redis to acknowledge a publish, ms: a publish on a
 * half-open socket is dropped (at most once) rather than queued forever.
 */
export const PUBLISH_TIMEOUT_MS = 2000;

/** Default interval of the self-probe, ms (`CAUSERIE_BUS_PROBE_MS`). */
export const BUS_PROBE_MS = 5000;

/** Longest pause between two reconnection attempts, ms. */
export const REDIS_RETRY_MAX_MS = 2000;

/**
 * How long ioredis waits for a closing socket before destroying it, ms. Its
 * timer is armed even when the socket is closed already (between two
 * reconnection attempts), so {@link RedisBus.close} waits this long then.
 */
const DISCONNECT_MS = 100;

/** The host and port of a bus URL, for messages (never the password). */
export function busWhere(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || "6379"}`;
  } catch {
    return "(invalid URL)";
  }
}

/**
 * Connects both connections and returns the bus. Rejects with one line
 * saying what to fix (never the password) when Redis cannot be reached.
 */
export async function openRedisBus(opts: RedisBusOptions): Promise<RedisBus> {
  const options: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    autoResubscribe: false,
    maxRetriesPerRequest: 1,
    connectTimeout: opts.connectTimeoutMs ?? 5000,
    disconnectTimeout: DISCONNECT_MS,
    retryStrategy: (times) => Math.min(times * 50, REDIS_RETRY_MAX_MS),
  };
  const publisher = new Redis(opts.url, {
    ...options,
    connectionName: "causerie-pub",
    commandTimeout: PUBLISH_TIMEOUT_MS,
  });
  const subscriber = new Redis(opts.url, { ...options, connectionName: "causerie-sub" });
  const bus = new RedisBus(publisher, subscriber, opts);
  try {
    await Promise.all([publisher.connect(), subscriber.connect()]);
  } catch (e) {
    await bus.close();
    const why = (e as { code?: string; message?: string }).code ?? (e as Error).message;
    throw new Error(
      `cannot reach Redis at ${busWhere(opts.url)} (${why}): is redis-server running and ` +
        `listening there? (CAUSERIE_BUS)`,
    );
  }
  bus.started();
  await bus.startProbe();
  return bus;
}

/** The Redis bus (see the module). */
export class RedisBus implements Bus {
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #prefix: string;
  readonly #subs = new Subscriptions();
  readonly #resubscribed = new Listeners<[]>();
  readonly #onStatus: (status: BusStatus, error?: Error) => void;
  #reported: BusStatus = "up";
  #lastError: Error | undefined;
  #closing: Promise<void> | undefined;
  #started = false;
  // -- self-probe
  readonly #probeMs: number;
  readonly #onSilent: (side: "publisher" | "subscriber") => void;
  readonly #probeChannel = `bus-probe:${crypto.randomUUID()}`;
  #probeTimer: ReturnType<typeof setInterval> | undefined;
  /** The token published by the last probe and not received yet. */
  #awaited: string | undefined;
  /** Whether Redis acknowledged the publish of {@link RedisBus.#awaited}. */
  #acknowledged = false;
  /** Tests only: messages are dropped until the subscriber reconnects (a silent subscription). */
  #deaf = false;

  /** @internal Use {@link openRedisBus}. */
  constructor(pub: Redis, sub: Redis, opts: RedisBusOptions) {
    this.#pub = pub;
    this.#sub = sub;
    this.#prefix = opts.prefix;
    this.#onStatus = opts.onStatus ?? (() => {});
    this.#probeMs = opts.probeMs ?? BUS_PROBE_MS;
    this.#onSilent = opts.onSilent ?? (() => {});
    for (const conn of [pub, sub]) {
      conn.on("error", (e: Error) => {
        this.#lastError = e;
      });
      conn.on("close", () => this.#report());
      conn.on("ready", () => this.#report());
    }
    sub.on("message", (channel: string, message: string) => {
      if (this.#deaf) return;
      this.#subs.deliver(channel, message);
    });
    sub.on("close", () => {
      this.#deaf = false; // a new connection is not silent
    });
    let first = true;
    sub.on("ready", () => {
      if (first) {
        first = false;
        return;
      }
      this.#resubscribe();
    });
  }

  publish(channel: string, payload: string): Promise<void> {
    return this.#pub.publish(prefixed(this.#prefix, channel), payload).then(() => {});
  }

  async subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>> {
    const full = prefixed(this.#prefix, channel);
    if (this.#subs.add(full, handler) && this.#sub.status === "ready") {
      // If the connection drops meanwhile, the next `ready` subscribes again.
      await this.#sub.subscribe(full).catch(() => {});
    }
    return async () => {
      if (this.#subs.remove(full, handler) && this.#sub.status === "ready") {
        await this.#sub.unsubscribe(full).catch(() => {});
      }
    };
  }

  onResubscribed(listener: () => void): () => void {
    return this.#resubscribed.add(listener);
  }

  status(): BusStatus {
    return this.#pub.status === "ready" && this.#sub.status === "ready" ? "up" : "down";
  }

  async ping(timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        Promise.all([this.#pub.ping(), this.#sub.ping()]),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("timeout")), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    clearInterval(this.#probeTimer);
    this.#probeTimer = undefined;
    this.#closing ??= Promise.all([ended(this.#pub), ended(this.#sub)]).then(() => {});
    return this.#closing;
  }

  /** @internal Both connections are up: status changes are told from now on. */
  started(): void {
    this.#started = true;
  }

  /** @internal Subscribes the probe's channel and starts probing (see the module). */
  async startProbe(): Promise<void> {
    if (this.#probeMs <= 0) return;
    await this.subscribe(this.#probeChannel, (token) => {
      if (token === this.#awaited) this.#awaited = undefined;
    });
    this.#probeTimer = setInterval(() => this.#probe(), this.#probeMs);
  }

  /**
   * TESTS ONLY: makes the subscription silent (the connection stays up, its
   * messages are dropped) until the subscriber reconnects.
   */
  silenceForTests(): void {
    this.#deaf = true;
  }

  /** One probe: the last token never came back → silent; then a new token. */
  #probe(): void {
    if (this.#closing) return;
    if (this.status() !== "up") {
      this.#awaited = undefined; // down is told by onStatus, and the reconnect resubscribes
      return;
    }
    if (this.#awaited !== undefined) {
      this.#awaited = undefined;
      if (this.#acknowledged) {
        // Redis took the probe and the subscriber never heard it: the subscription is silent.
        this.#onSilent("subscriber");
        this.#sub.disconnect(true); // ioredis reconnects; `ready` subscribes again and tells
      } else {
        // Redis never acknowledged it: the publisher's socket is the silent one.
        this.#onSilent("publisher");
        this.#pub.disconnect(true); // ioredis reconnects it; queued publishes fail (dropped)
      }
      return;
    }
    const token = crypto.randomUUID();
    this.#awaited = token; // the subscriber may receive it before the publish resolves
    this.#acknowledged = false;
    this.#pub.publish(prefixed(this.#prefix, this.#probeChannel), token).then(() => {
      if (this.#awaited === token) this.#acknowledged = true;
    }, () => {
      // Publishing failed (down, or no answer within PUBLISH_TIMEOUT_MS): told by the next probe
      // if the token is still awaited then; a bus down is told by onStatus.
    });
  }

  /** Subscribes every channel again, then tells the listeners (a later `ready` retries). */
  #resubscribe(): void {
    const channels = this.#subs.channels();
    const done = channels.length === 0 ? Promise.resolve() : this.#sub.subscribe(...channels);
    done.then(() => this.#resubscribed.emit(), () => {});
  }

  /** Tells `onStatus` when the bus goes down or comes back (once per change). */
  #report(): void {
    if (this.#closing || !this.#started) return;
    const now = this.status();
    if (now === this.#reported) return;
    this.#reported = now;
    this.#onStatus(now, now === "down" ? this.#lastError : undefined);
  }
}

/** Disconnects without reconnecting and resolves once the socket is closed. */
function ended(conn: Redis): Promise<void> {
  // Between two attempts (or never connected) there is no socket to wait for.
  if (["end", "wait", "close", "reconnecting"].includes(conn.status)) {
    conn.disconnect();
    return new Promise((resolve) => setTimeout(resolve, DISCONNECT_MS + 10));
  }
  return new Promise((resolve) => {
    conn.once("end", () => resolve());
    conn.disconnect();
  });
}
