/**
 * The delivery order of one salon on one instance (issue 15, several
 * instances): messages committed by any instance reach this instance's
 * members strictly in increasing id order, with no gap and no duplicate,
 * whatever the bus loses.
 *
 * Salon ids are a prefix in MySQL: each commit takes the next id from the
 * salon's counter row inside its transaction, so an id is visible only once
 * every smaller one is (deleted messages keep their row). Hence:
 *
 * - `next` is the id this instance delivers next. An offered message with a
 *   smaller id is a duplicate and dropped; the one equal to `next` is
 *   delivered with every buffered one that follows it; a larger one is
 *   buffered and a wait of `waitMs` starts.
 * - When the wait ends with a gap still open, the messages after `next - 1`
 *   are read from the store (the truth) and delivered; the page ends the gap
 *   because the store holds every committed id below the ones it returns.
 * - {@link SalonOrder.latest} (the periodic check of the salon's last id)
 *   starts the same wait when the store is ahead: it catches the last message
 *   of an instance that died between its commit and its publish.
 * - {@link SalonOrder.catchUp} reads at once (after the bus was lost).
 *
 * Pure: time comes through a clock (xstate's `SimulatedClock` in tests), the
 * store and the delivery through ports.
 *
 * @module
 */

/** A committed salon message, as delivered (the `message` frame's fields). */
export interface OrderedMessage {
  /** Its id in the salon. */
  id: number;
  /** Commit time, epoch ms. */
  at: number;
  /** The author. */
  from: { username: string; alias: string };
  /** The text. */
  text: string;
  /** Usernames it mentions; absent when none. */
  mentions?: string[];
  /** Deleted since (read from the store): skipped, never delivered. */
  deleted?: true;
}

/** Timers: `setTimeout`/`clearTimeout`, or xstate's `SimulatedClock`. */
export interface OrderClock {
  /** Runs `fn` after `ms`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer of {@link OrderClock.setTimeout}. */
  clearTimeout(id: unknown): void;
}

/** What a salon's order needs. */
export interface SalonOrderPorts {
  /** Delivers messages to this instance's members, in the order given (increasing ids). */
  deliver(messages: OrderedMessage[]): void;
  /** Reads committed messages with ids above `after`, oldest first, and whether more follow. */
  readAfter(after: number): Promise<{ messages: OrderedMessage[]; more: boolean }>;
  /** The timers of the wait. */
  clock: OrderClock;
  /** How long a gap may stay open before the store is read, ms. */
  waitMs: number;
  /** Told when reading the store failed (the read is tried again after another wait). */
  onError(error: unknown): void;
}

/** One salon's ordered delivery on this instance (see the module). */
export class SalonOrder {
  readonly #ports: SalonOrderPorts;
  #next: number;
  readonly #early = new Map<number, OrderedMessage>();
  #timer: unknown = undefined;
  #reading = false;
  #readAgain = false;
  /** The highest id the store was seen to hold (the periodic check). */
  #known = 0;
  #stopped = false;

  /** Delivers from `next` on (the salon's last committed id + 1 when this instance starts). */
  constructor(next: number, ports: SalonOrderPorts) {
    this.#next = next;
    this.#ports = ports;
  }

  /** The id delivered next. */
  get next(): number {
    return this.#next;
  }

  /** How many messages wait for a smaller id. */
  get buffered(): number {
    return this.#early.size;
  }

  /** Messages committed somewhere (this instance's commits, or from the bus), in any order. */
  offer(messages: OrderedMessage[]): void {
    if (this.#stopped) return;
    for (const m of messages) {
      if (m.id >= this.#next && !this.#early.has(m.id)) this.#early.set(m.id, m);
    }
    this.#release();
  }

  /** The store's last id for this salon (the periodic check): a gap if ahead of delivery. */
  latest(id: number): void {
    if (this.#stopped) return;
    if (id > this.#known) this.#known = id;
    if (this.#known >= this.#next) this.#arm();
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

  /** Delivers `next` and the buffered run after it; waits if a gap remains. */
  #release(): void {
    const run: OrderedMessage[] = [];
    for (let m = this.#early.get(this.#next); m; m = this.#early.get(this.#next)) {
      this.#early.delete(this.#next);
      this.#next++;
      if (!m.deleted) run.push(m);
    }
    if (run.length > 0) this.#ports.deliver(run);
    if (this.#early.size > 0 || this.#known >= this.#next) this.#arm();
    else this.#disarm();
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#reading) return;
    this.#timer = this.#ports.clock.setTimeout(() => {
      this.#timer = undefined;
      if (this.#early.size > 0 || this.#known >= this.#next) this.#read();
    }, this.#ports.waitMs);
  }

  #disarm(): void {
    if (this.#timer === undefined) return;
    this.#ports.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Reads every committed message after `next - 1` from the store and delivers it. */
  async #read(): Promise<void> {
    if (this.#reading) {
      this.#readAgain = true;
      return;
    }
    this.#reading = true;
    try {
      do {
        this.#readAgain = false;
        let more = true;
        while (more && !this.#stopped) {
          const page = await this.#ports.readAfter(this.#next - 1);
          more = page.messages.length > 0 && page.more;
          const run: OrderedMessage[] = [];
          for (const m of page.messages) {
            if (m.id < this.#next) continue; // delivered meanwhile (from the bus)
            // The store holds every committed id below m.id: a missing one is no message.
            this.#next = m.id + 1;
            if (!m.deleted) run.push(m);
          }
          for (const id of this.#early.keys()) if (id < this.#next) this.#early.delete(id);
          if (run.length > 0 && !this.#stopped) this.#ports.deliver(run);
        }
      } while (this.#readAgain && !this.#stopped);
      // Read to the end: an id the check saw and the store no longer has is no message.
      if (this.#known >= this.#next) this.#known = this.#next - 1;
    } catch (e) {
      this.#ports.onError(e);
      this.#reading = false;
      if (!this.#stopped) this.#arm(); // try again after another wait
      return;
    }
    this.#reading = false;
    if (!this.#stopped) this.#release();
  }
}
