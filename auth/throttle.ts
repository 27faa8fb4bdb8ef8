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

/** Options of {@link TokenBuckets}. */
export interface TokenBucketsOptions {
  /** Tokens a full bucket holds (the burst); 0 means no limit at all. */
  capacity: number;
  /** Time for an empty bucket to fill up again, ms (the rate is capacity per period). */
  periodMs: number;
  /** Most keys tracked; beyond, the least recently used are forgotten (a full bucket). */
  maxKeys?: number;
}

/**
 * Token buckets per key (a client address, or one shared key for a global
 * limit): each starts full and refills continuously at `capacity` per
 * `periodMs`. Time is passed in, never read.
 */
export class TokenBuckets {
  readonly #capacity: number;
  readonly #perMs: number;
  readonly #maxKeys: number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  /** Builds the buckets. */
  constructor(opts: TokenBucketsOptions) {
    this.#capacity = opts.capacity;
    this.#perMs = opts.capacity / opts.periodMs;
    this.#maxKeys = opts.maxKeys ?? 100_000;
  }

  #level(key: string, now: number): number {
    const b = this.#buckets.get(key);
    if (!b) return this.#capacity;
    return Math.min(this.#capacity, b.tokens + Math.max(0, now - b.at) * this.#perMs);
  }

  /** Seconds until `key` has a token, or 0 when it has one now (nothing is taken). */
  retryAfter(key: string, now: number): number {
    if (this.#capacity === 0) return 0;
    const level = this.#level(key, now);
    if (level >= 1) return 0;
    return Math.max(1, Math.ceil((1 - level) / this.#perMs / 1000));
  }

  /** Takes one token of `key`; false (and nothing taken) when the bucket is empty. */
  take(key: string, now: number): boolean {
    if (this.#capacity === 0) return true;
    const level = this.#level(key, now);
    if (level < 1) return false;
    this.#buckets.delete(key);
    this.#buckets.set(key, { tokens: level - 1, at: now });
    if (this.#buckets.size > this.#maxKeys) {
      const oldest = this.#buckets.keys().next().value;
      if (oldest !== undefined) this.#buckets.delete(oldest);
    }
    return true;
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
