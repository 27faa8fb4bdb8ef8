/**
 * An ordered delivery of one chain of committed messages on one instance
 * (issue 15, several instances): a salon's messages (runtime/salon_order.ts)
 * or one user's direct conversation (runtime/direct_order.ts) reach this
 * instance's sessions strictly in increasing id order, with no gap and no
 * duplicate, whatever the bus loses.
 *
 * Each message names the one before it in its chain (`prevOf`): a salon's
 * is its id minus one (a salon's ids are consecutive: its counter row in
 * MySQL), a direct's is the `prev` its commit read under the conversation's
 * lock. The store holds, within a chain, every committed id below the ones it
 * returns. Hence, with `last` the id delivered last:
 *
 * - an offered message at or below `last` is a duplicate and dropped; one
 *   whose previous id is at or below `last` is delivered, and so is every
 *   buffered one that follows it; one that follows a message not seen yet is
 *   buffered (at most {@link CHAIN_BUFFER_MAX}; beyond, left to the store) and
 *   a wait of `waitMs` starts;
 * - when the wait ends with a message still buffered, the chain is read from
 *   the store after `last` and delivered;
 * - `latest` (the periodic check of the chain's newest id) starts the same
 *   wait when the store is ahead: it catches the last message of an instance
 *   that died between its commit and its publish;
 * - `catchUp` reads at once (after the bus was lost).
 *
 * Pure: time comes through a clock (xstate's `SimulatedClock` in tests), the
 * store and the delivery through ports.
 *
 * @module
 */

/** Timers: `setTimeout`/`clearTimeout`, or xstate's `SimulatedClock`. */
export interface OrderClock {
  /** Runs `fn` after `ms`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer of {@link OrderClock.setTimeout}. */
  clearTimeout(id: unknown): void;
}

/** A committed message as an order sees it. */
export interface ChainedMessage {
  /** Its id. */
  id: number;
  /** Deleted since (read from the store): skipped, never delivered. */
  deleted?: true;
}

/** What an order needs. */
export interface ChainOrderPorts<M extends ChainedMessage> {
  /** Delivers messages to this instance's sessions, in increasing ids. */
  deliver(messages: M[]): void;
  /** Reads committed messages of the chain above `after`, oldest first, and whether more follow. */
  readAfter(after: number): Promise<{ messages: M[]; more: boolean }>;
  /** The id before `m` in its chain; undefined when unknown (read from the store). */
  prevOf(m: M): number | undefined;
  /** The timers of the wait. */
  clock: OrderClock;
  /** How long a message may wait for the one before it before the store is read, ms. */
  waitMs: number;
  /** Told when reading the store failed (the read is tried again after another wait). */
  onError(error: unknown): void;
}

/** Most messages buffered per chain; beyond, the newest are left to the store. */
export const CHAIN_BUFFER_MAX = 1000;

/** An ordered delivery of one chain of messages on this instance (see the module). */
export class ChainOrder<M extends ChainedMessage> {
  readonly #ports: ChainOrderPorts<M>;
  #last: number;
  readonly #early = new Map<number, M>();
  #timer: unknown = undefined;
  #reading = false;
  #readAgain = false;
  /** A read failed: the next wait reads whatever is buffered. */
  #retry = false;
  /** The newest id the store was seen to hold (the periodic check). */
  #known = 0;
  #stopped = false;

  /** Delivers what follows `last` (what was delivered before this order started). */
  constructor(last: number, ports: ChainOrderPorts<M>) {
    this.#last = last;
    this.#ports = ports;
  }

  /** The id delivered last (or the baseline). */
  get last(): number {
    return this.#last;
  }

  /** How many messages wait for an earlier one. */
  get buffered(): number {
    return this.#early.size;
  }

  /** Messages committed somewhere (this instance's commits, or from the bus), in any order. */
  offer(messages: M[]): void {
    if (this.#stopped) return;
    for (const m of messages) {
      if (m.id <= this.#last || this.#early.has(m.id)) continue;
      if (this.#early.size >= CHAIN_BUFFER_MAX) {
        // Left to the store: the wait reads it with the rest.
        this.#known = Math.max(this.#known, m.id);
        continue;
      }
      this.#early.set(m.id, m);
    }
    this.#release();
  }

  /** The store's newest id for this conversation (the periodic check): a gap if ahead. */
  latest(id: number): void {
    if (this.#stopped) return;
    if (id > this.#known) this.#known = id;
    if (this.#known > this.#last) this.#arm();
  }

  /** Reads the store now (the bus was lost and is back: anything may be missing). */
  catchUp(): void {
    if (this.#stopped) return;
    this.#disarm();
    this.#read();
  }

  /** Cancels the wait; nothing is delivered any more. */
  stop(): void {
    this.#stopped = true;
    this.#disarm();
    this.#early.clear();
  }

  /** The buffered message that follows `last`, if any (the smallest id whose prev is known). */
  #following(): M | undefined {
    const prevOf = this.#ports.prevOf;
    // Consecutive ids (a salon's, often a conversation's): one look-up.
    const next = this.#early.get(this.#last + 1);
    if (next && (prevOf(next) ?? Infinity) <= this.#last) return next;
    let best: M | undefined;
    for (const m of this.#early.values()) {
      if ((prevOf(m) ?? Infinity) <= this.#last && (!best || m.id < best.id)) best = m;
    }
    return best;
  }

  /** Delivers the run that follows `last`; waits if messages remain buffered. */
  #release(): void {
    const run: M[] = [];
    for (let m = this.#following(); m; m = this.#following()) {
      this.#early.delete(m.id);
      // Smaller ids still buffered were left behind by a store read: duplicates.
      if (m.id !== this.#last + 1) {
        for (const id of this.#early.keys()) if (id < m.id) this.#early.delete(id);
      }
      this.#last = m.id;
      if (!m.deleted) run.push(m);
    }
    if (run.length > 0) this.#ports.deliver(run);
    if (this.#early.size > 0 || this.#known > this.#last) this.#arm();
    else this.#disarm();
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#reading) return;
    this.#timer = this.#ports.clock.setTimeout(() => {
      this.#timer = undefined;
      if (this.#retry || this.#early.size > 0 || this.#known > this.#last) this.#read();
    }, this.#ports.waitMs);
  }

  #disarm(): void {
    if (this.#timer === undefined) return;
    this.#ports.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Reads every committed message after `last` from the store and delivers it. */
  async #read(): Promise<void> {
    if (this.#reading) {
      this.#readAgain = true;
      return;
    }
    this.#reading = true;
    this.#retry = false;
    try {
      do {
        this.#readAgain = false;
        let more = true;
        while (more && !this.#stopped) {
          const page = await this.#ports.readAfter(this.#last);
          more = page.messages.length > 0 && page.more;
          const run: M[] = [];
          for (const m of page.messages) {
            if (m.id <= this.#last) continue; // delivered meanwhile (from the bus)
            // Within a conversation the store holds every committed id below m.id.
            this.#last = m.id;
            if (!m.deleted) run.push(m);
          }
          for (const id of this.#early.keys()) if (id <= this.#last) this.#early.delete(id);
          if (run.length > 0 && !this.#stopped) this.#ports.deliver(run);
        }
      } while (this.#readAgain && !this.#stopped);
      // Read to the end: an id the check saw and the store no longer has is no message.
      if (this.#known > this.#last) this.#known = this.#last;
    } catch (e) {
      this.#ports.onError(e);
      this.#reading = false;
      this.#retry = true;
      if (!this.#stopped) this.#arm(); // try again after another wait
      return;
    }
    this.#reading = false;
    if (!this.#stopped) this.#release();
  }
}
