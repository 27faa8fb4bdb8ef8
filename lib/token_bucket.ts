/**
 * Token buckets: a size (`burst`) and a refill rate (`perSecond`), over an
 * injected clock (every call takes `now`, epoch ms), so that time-based
 * behaviour is tested with a simulated clock.
 *
 * {@link TokenBuckets} keeps one bucket per key (a user id): a key without an
 * entry has a full bucket, and buckets that are full again are forgotten, so
 * memory holds only the keys that spent tokens within the last refill time.
 *
 * @module
 */

/** Size and refill rate of a bucket. */
export interface BucketRate {
  /** Most tokens the bucket holds (and holds at first). */
  burst: number;
  /** Tokens added per second. */
  perSecond: number;
}

/** One bucket's state: tokens left (fractional) when last brought up to date. */
export interface BucketState {
  /** Tokens left. */
  tokens: number;
  /** When `tokens` was computed, epoch ms. */
  at: number;
}

/** The tokens of `state` at `now`, refilled but never above `burst`. */
export function tokensAt(rate: BucketRate, state: BucketState, now: number): number {
  const elapsed = Math.max(0, now - state.at);
  return Math.min(rate.burst, state.tokens + elapsed * rate.perSecond / 1000);
}

/** A bucket per key, forgotten once full again. */
export class TokenBuckets<K> {
  /** Size and refill rate of every bucket. */
  readonly rate: BucketRate;
  readonly #buckets = new Map<K, BucketState>();
  /** Size of the map after the last sweep: the next sweep runs when it has doubled. */
  #sweptSize = 0;

  /** Buckets of `rate.burst` tokens refilled at `rate.perSecond`. */
  constructor(rate: BucketRate) {
    if (!(rate.burst >= 1) || !(rate.perSecond > 0)) {
      throw new RangeError("a token bucket needs burst >= 1 and perSecond > 0");
    }
    this.rate = rate;
  }

  /** Tokens available to `key` at `now`. */
  available(key: K, now: number): number {
    const state = this.#buckets.get(key);
    return state ? tokensAt(this.rate, state, now) : this.rate.burst;
  }

  /** Takes one token of `key`; false (and nothing taken) when none is left. */
  take(key: K, now: number): boolean {
    const tokens = this.available(key, now);
    if (tokens < 1) return false;
    this.#buckets.set(key, { tokens: tokens - 1, at: now });
    if (this.#buckets.size >= Math.max(64, this.#sweptSize * 2)) this.sweep(now);
    return true;
  }

  /**
   * Gives back one token of `key` (a request refused after it took one),
   * never above `burst`.
   */
  refund(key: K, now: number): void {
    const state = this.#buckets.get(key);
    if (!state) return;
    const tokens = tokensAt(this.rate, state, now) + 1;
    if (tokens >= this.rate.burst) this.#buckets.delete(key);
    else this.#buckets.set(key, { tokens, at: now });
  }

  /** Forgets every bucket that is full at `now` (a missing bucket is a full one). */
  sweep(now: number): void {
    for (const [key, state] of this.#buckets) {
      if (tokensAt(this.rate, state, now) >= this.rate.burst) this.#buckets.delete(key);
    }
    this.#sweptSize = this.#buckets.size;
  }

  /** Buckets held in memory (those not known to be full). */
  get size(): number {
    return this.#buckets.size;
  }
}
