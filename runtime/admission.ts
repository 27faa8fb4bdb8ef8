/**
 * Who may open a WebSocket: sockets that have not been welcomed yet are
 * capped in total and per address, and each address has a bucket of
 * connections (one connection carries one hello, so this is also the hello
 * bucket). A refusal says which HTTP status the upgrade gets.
 *
 * @module
 */

/** Limits of {@link Admission}. */
export interface AdmissionLimits {
  /** Sockets not yet welcomed, in total; beyond: 503. */
  preWelcomeTotal: number;
  /** Sockets not yet welcomed, per address; beyond: 429. */
  preWelcomePerAddress: number;
  /** Connections an address may open at once before its bucket runs dry. */
  connectBurst: number;
  /** Connections per second an address gets back. */
  connectPerSecond: number;
}

/** A socket let in: released once welcomed or closed (idempotent). */
export interface AdmissionTicket {
  /** The socket was welcomed or closed: it no longer counts as waiting. */
  release(): void;
}

/** The answer of {@link Admission.admit}. */
export type AdmissionResult =
  | { ok: true; ticket: AdmissionTicket }
  | { ok: false; status: 429 | 503; message: string; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

/** Most addresses whose bucket is remembered; full buckets are forgotten first. */
const MAX_BUCKETS = 100_000;

/** Admission of WebSocket upgrades. Time is read from `now`. */
export class Admission {
  readonly #limits: AdmissionLimits;
  readonly #now: () => number;
  readonly #waiting = new Map<string, number>();
  readonly #buckets = new Map<string, Bucket>();
  #waitingTotal = 0;

  /** Builds the gate. */
  constructor(limits: AdmissionLimits, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
  }

  /** Lets a socket from `addressKey` in, or says why not. */
  admit(addressKey: string): AdmissionResult {
    const l = this.#limits;
    if (this.#waitingTotal >= l.preWelcomeTotal) {
      return {
        ok: false,
        status: 503,
        message: "too many connections are still saying hello; try again in a few seconds",
        retryAfterSeconds: 5,
      };
    }
    if ((this.#waiting.get(addressKey) ?? 0) >= l.preWelcomePerAddress) {
      return {
        ok: false,
        status: 429,
        message:
          `at most ${l.preWelcomePerAddress} connections per address may wait for their welcome; finish a hello first`,
        retryAfterSeconds: 1,
      };
    }
    const now = this.#now();
    const bucket = this.#bucket(addressKey, now);
    if (bucket.tokens < 1) {
      return {
        ok: false,
        status: 429,
        message: `too many connections from this address; at most ${l.connectPerSecond} per second`,
        retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / l.connectPerSecond)),
      };
    }
    bucket.tokens -= 1;
    this.#waiting.set(addressKey, (this.#waiting.get(addressKey) ?? 0) + 1);
    this.#waitingTotal++;
    let released = false;
    return {
      ok: true,
      ticket: {
        release: () => {
          if (released) return;
          released = true;
          this.#waitingTotal--;
          const n = (this.#waiting.get(addressKey) ?? 1) - 1;
          if (n <= 0) this.#waiting.delete(addressKey);
          else this.#waiting.set(addressKey, n);
        },
      },
    };
  }

  #bucket(key: string, now: number): Bucket {
    const l = this.#limits;
    let bucket = this.#buckets.get(key);
    if (bucket) {
      bucket.tokens = Math.min(
        l.connectBurst,
        bucket.tokens + (now - bucket.at) * l.connectPerSecond / 1000,
      );
      bucket.at = now;
      return bucket;
    }
    if (this.#buckets.size >= MAX_BUCKETS) this.#forgetFull(now);
    bucket = { tokens: l.connectBurst, at: now };
    this.#buckets.set(key, bucket);
    return bucket;
  }

  /** Forgets buckets that are full again (they would start full anyway). */
  #forgetFull(now: number): void {
    const l = this.#limits;
    for (const [key, b] of this.#buckets) {
      if (b.tokens + (now - b.at) * l.connectPerSecond / 1000 >= l.connectBurst) {
        this.#buckets.delete(key);
      }
    }
    // Still full of draining buckets: drop the oldest rather than grow without bound.
    while (this.#buckets.size >= MAX_BUCKETS) {
      const oldest = this.#buckets.keys().next().value;
      if (oldest === undefined) break;
      this.#buckets.delete(oldest);
    }
  }
}
