/**
 * The password-hash queue: argon2 work runs a few at a time (one core is kept
 * for the event loop), logins go ahead of registrations and password
 * changes, and the queue is bounded: past its length a request is refused at
 * once as busy instead of waiting behind thousands of others.
 *
 * @module
 */

import { ProtocolError } from "../protocol/errors.ts";

/** Which line a piece of work waits in. */
export type HashPriority = "login" | "other";

/** Options of a {@link HashQueue}. */
export interface HashQueueOptions {
  /** Pieces of work running at once. */
  concurrency: number;
  /** Pieces of work allowed to wait (both lines together); beyond, refused as busy. */
  maxWaiting: number;
}

/** The refusal of work that found the queue full. */
export function hashQueueBusy(): ProtocolError {
  return new ProtocolError(
    "internal",
    503,
    "the server is busy checking passwords; try again in a few seconds",
    { retryAfterSeconds: 2 },
  );
}

/** A bounded two-line queue in front of CPU-heavy work. */
export class HashQueue {
  #running = 0;
  readonly #logins: Array<() => void> = [];
  readonly #others: Array<() => void> = [];
  #opts: HashQueueOptions;

  /** A queue with these limits. */
  constructor(opts: HashQueueOptions) {
    this.#opts = { ...opts };
  }

  /** Changes the limits (start-up configuration). */
  configure(opts: Partial<HashQueueOptions>): void {
    this.#opts = { ...this.#opts, ...opts };
  }

  /** Pieces of work waiting now. */
  get waiting(): number {
    return this.#logins.length + this.#others.length;
  }

  /**
   * Runs `work` when a slot is free; throws {@link hashQueueBusy} at once when
   * `maxWaiting` pieces already wait.
   */
  async run<T>(priority: HashPriority, work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#opts.concurrency) {
      if (this.waiting >= this.#opts.maxWaiting) throw hashQueueBusy();
      const line = priority === "login" ? this.#logins : this.#others;
      await new Promise<void>((resolve) => line.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await work();
    } finally {
      // The slot passes straight to the next in line (logins first), or frees.
      const next = this.#logins.shift() ?? this.#others.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
