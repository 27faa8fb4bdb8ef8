/**
 * The bus between instances (issue 15): live events published by one
 * instance and delivered to the others, at most once. Whatever it drops is
 * recovered from MySQL, the truth; a bus only makes delivery fast.
 *
 * Adapters: `redis_bus.ts` (Redis pub/sub through ioredis, for
 * `CAUSERIE_BUS=redis://...`) and `memory_bus.ts` (one process, for tests).
 * Channel names given to an adapter are short (`salon:3`); the adapter
 * prefixes them with the database name, because Redis pub/sub channels are
 * shared by every database number of a Redis server.
 *
 * @module
 */

/** A message handler: the payload as published (UTF-8 text, usually JSON). */
export type BusHandler = (payload: string) => void;

/** Whether the bus can carry messages now. */
export type BusStatus = "up" | "down";

/** Publish and subscribe between instances, at most once. */
export interface Bus {
  /**
   * Publishes `payload` on `channel` (unprefixed). Rejects at once when the
   * bus is down (nothing is queued: a message published meanwhile is lost,
   * as a bus may lose any message).
   */
  publish(channel: string, payload: string): Promise<void>;
  /**
   * Calls `handler` for each payload published on `channel` (unprefixed) by
   * any instance, this one included. Resolves once the subscription is in
   * place (or, while the bus is down, once it is recorded: it is made when
   * the bus is back, and `resubscribed` is told). Returns the unsubscribe.
   */
  subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>>;
  /**
   * Calls `listener` each time the subscriptions are in place again after
   * the bus was lost (a Redis restart, a cut connection): whatever was
   * published meanwhile is lost, so callers catch up from the database.
   * Returns the removal of the listener.
   */
  onResubscribed(listener: () => void): () => void;
  /** Whether the bus is up now. */
  status(): BusStatus;
  /** Resolves when the bus answers a round trip within `timeoutMs`; rejects otherwise. */
  ping(timeoutMs: number): Promise<void>;
  /** Releases the connections. Idempotent. */
  close(): Promise<void>;
}

/** The full channel name: the prefix (the database name), a colon, the channel. */
export function prefixed(prefix: string, channel: string): string {
  return `${prefix}:${channel}`;
}

/** A set of listeners told in turn; one that throws does not stop the others. */
export class Listeners<A extends unknown[]> {
  readonly #set = new Set<(...args: A) => void>();

  /** Adds a listener; returns its removal. */
  add(listener: (...args: A) => void): () => void {
    this.#set.add(listener);
    return () => this.#set.delete(listener);
  }

  /** Calls every listener with `args`; returns the errors thrown. */
  emit(...args: A): unknown[] {
    const errors: unknown[] = [];
    for (const l of [...this.#set]) {
      try {
        l(...args);
      } catch (e) {
        errors.push(e);
      }
    }
    return errors;
  }
}

/**
 * The handlers of each channel, shared by the adapters: the first handler of
 * a channel makes its subscription, the last one leaving ends it.
 */
export class Subscriptions {
  readonly #byChannel = new Map<string, Set<BusHandler>>();

  /** Adds a handler; returns whether it is the channel's first. */
  add(channel: string, handler: BusHandler): boolean {
    let set = this.#byChannel.get(channel);
    const first = set === undefined;
    if (!set) this.#byChannel.set(channel, set = new Set());
    set.add(handler);
    return first;
  }

  /** Removes a handler; returns whether the channel has none left. */
  remove(channel: string, handler: BusHandler): boolean {
    const set = this.#byChannel.get(channel);
    if (!set || !set.delete(handler)) return false;
    if (set.size > 0) return false;
    this.#byChannel.delete(channel);
    return true;
  }

  /** The channels with at least one handler. */
  channels(): string[] {
    return [...this.#byChannel.keys()];
  }

  /** Hands `payload` to every handler of `channel`; returns the errors thrown. */
  deliver(channel: string, payload: string): unknown[] {
    const errors: unknown[] = [];
    for (const h of [...(this.#byChannel.get(channel) ?? [])]) {
      try {
        h(payload);
      } catch (e) {
        errors.push(e);
      }
    }
    return errors;
  }
}
