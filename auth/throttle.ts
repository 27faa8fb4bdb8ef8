/**
 * Login throttling: failures are counted per key (a username, a client
 * address) over a sliding window; past the limit, attempts are refused until
 * the oldest failure leaves the window.
 *
 * @module
 */

/** Options of a {@link Throttle}. */
export interface ThrottleOptions {
  /** Failures allowed within the window; the next attempt is refused. */
  limit: number;
  /** Window length, ms. */
  windowMs: number;
  /** Most keys tracked; beyond, the least recently failed are forgotten. */
  maxKeys?: number;
}

/** Counts failures per key over a sliding window. Time is passed in, never read. */
export class Throttle {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #failures = new Map<string, number[]>();

  /** Builds a throttle. */
  constructor(opts: ThrottleOptions) {
    this.#limit = opts.limit;
    this.#windowMs = opts.windowMs;
    this.#maxKeys = opts.maxKeys ?? 100_000;
  }

  #recent(key: string, now: number): number[] {
    const list = this.#failures.get(key);
    if (!list) return [];
    const kept = list.filter((t) => now - t < this.#windowMs);
    if (kept.length === 0) this.#failures.delete(key);
    else if (kept.length !== list.length) this.#failures.set(key, kept);
    return kept;
  }

  /**
   * Seconds to wait before `key` may try again, or 0 when it may try now.
   */
  retryAfter(key: string, now: number): number {
    const recent = this.#recent(key, now);
    if (recent.length < this.#limit) return 0;
    const oldestThatMatters = recent[recent.length - this.#limit];
    return Math.max(1, Math.ceil((oldestThatMatters + this.#windowMs - now) / 1000));
  }

  /** Records a failure of `key` at `now`. */
  fail(key: string, now: number): void {
    const recent = this.#recent(key, now);
    recent.push(now);
    this.#failures.delete(key);
    this.#failures.set(key, recent.slice(-this.#limit));
    if (this.#failures.size > this.#maxKeys) {
      const oldest = this.#failures.keys().next().value;
      if (oldest !== undefined) this.#failures.delete(oldest);
    }
  }

  /** Failures of `key` within the window ending at `now`. */
  count(key: string, now: number): number {
    return this.#recent(key, now).length;
  }

  /** Forgets the failures of `key` (after a success). */
  reset(key: string): void {
    this.#failures.delete(key);
  }

  /** Number of keys currently tracked. */
  get size(): number {
    return this.#failures.size;
  }
}

/**
 * Limits how many tasks run at once per key; the others wait in order. The
 * allowance is read again each time a slot frees, so it may shrink as
 * failures accumulate. Keys with nothing running are forgotten.
 */
export class KeyedGate {
  readonly #running = new Map<string, number>();
  readonly #waiting = new Map<string, Array<() => void>>();

  /** Waits for a slot under `key`; resolves with the function that frees it. */
  async acquire(key: string, allowance: () => number): Promise<() => void> {
    while ((this.#running.get(key) ?? 0) >= allowance()) {
      await new Promise<void>((resolve) => {
        const queue = this.#waiting.get(key) ?? [];
        queue.push(resolve);
        this.#waiting.set(key, queue);
      });
    }
    this.#running.set(key, (this.#running.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.#running.get(key) ?? 1) - 1;
      if (n === 0) this.#running.delete(key);
      else this.#running.set(key, n);
      const queue = this.#waiting.get(key);
      const next = queue?.shift();
      if (queue && queue.length === 0) this.#waiting.delete(key);
      next?.();
    };
  }
}
