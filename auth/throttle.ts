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

  /**
   * Takes back one failure of `key` recorded at `at` (an attempt counted in
   * advance that turned out to succeed).
   */
  forgive(key: string, at: number): void {
    const list = this.#failures.get(key);
    if (!list) return;
    const i = list.lastIndexOf(at);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#failures.delete(key);
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
