/**
 * A {@link Bus} inside one process, for unit tests: several buses on one
 * {@link MemoryBroker} behave as instances on one Redis server. The broker
 * can be taken down and brought back, like a Redis restart: while it is
 * down, publishes reject and nothing is delivered; when it is back, every
 * bus tells its `resubscribed` listeners.
 *
 * @module
 */

import {
  type Bus,
  type BusHandler,
  type BusStatus,
  Listeners,
  prefixed,
  Subscriptions,
} from "./bus.ts";

/** The shared "server" of memory buses. */
export class MemoryBroker {
  readonly #buses = new Set<MemoryBus>();
  #up = true;

  /** Whether the broker is up. */
  get up(): boolean {
    return this.#up;
  }

  /** Takes the broker down: publishes reject, nothing is delivered. */
  down(): void {
    this.#up = false;
  }

  /** Brings the broker back; every bus resubscribes and tells its listeners. */
  restart(): void {
    this.#up = true;
    for (const bus of this.#buses) bus.resubscribed();
  }

  /** @internal */
  attach(bus: MemoryBus): void {
    this.#buses.add(bus);
  }

  /** @internal */
  detach(bus: MemoryBus): void {
    this.#buses.delete(bus);
  }

  /** @internal Delivers a prefixed channel's payload to every bus, after the current task. */
  send(channel: string, payload: string): void {
    const targets = [...this.#buses];
    queueMicrotask(() => {
      if (!this.#up) return;
      for (const bus of targets) bus.receive(channel, payload);
    });
  }
}

/** A bus on a {@link MemoryBroker}, channels prefixed with `prefix`. */
export class MemoryBus implements Bus {
  readonly #broker: MemoryBroker;
  readonly #prefix: string;
  readonly #subs = new Subscriptions();
  readonly #resubscribed = new Listeners<[]>();
  #closed = false;

  /** A bus on `broker`, its channels prefixed with `prefix` (the database name). */
  constructor(broker: MemoryBroker, prefix: string) {
    this.#broker = broker;
    this.#prefix = prefix;
    broker.attach(this);
  }

  publish(channel: string, payload: string): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("the bus is closed"));
    if (!this.#broker.up) return Promise.reject(new Error("the bus is down"));
    this.#broker.send(prefixed(this.#prefix, channel), payload);
    return Promise.resolve();
  }

  subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>> {
    this.#subs.add(prefixed(this.#prefix, channel), handler);
    return Promise.resolve(() => {
      this.#subs.remove(prefixed(this.#prefix, channel), handler);
      return Promise.resolve();
    });
  }

  onResubscribed(listener: () => void): () => void {
    return this.#resubscribed.add(listener);
  }

  status(): BusStatus {
    return this.#broker.up && !this.#closed ? "up" : "down";
  }

  ping(_timeoutMs: number): Promise<void> {
    return this.status() === "up"
      ? Promise.resolve()
      : Promise.reject(new Error("the bus is down"));
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#broker.detach(this);
    return Promise.resolve();
  }

  /** @internal Told by the broker: a payload on a prefixed channel. */
  receive(channel: string, payload: string): void {
    if (!this.#closed) this.#subs.deliver(channel, payload);
  }

  /** @internal Told by the broker when it is back. */
  resubscribed(): void {
    if (!this.#closed) this.#resubscribed.emit();
  }
}
