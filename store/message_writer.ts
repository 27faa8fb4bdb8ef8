/**
 * Group commit: every message written within one tick of the event loop goes
 * into one transaction; each caller learns its id only after that
 * transaction has committed. One transaction is in flight at a time, so ids
 * are handed out in the order messages arrived.
 *
 * @module
 */

import type { NewMessage, Store } from "./store.ts";

/**
 * Called once per message: with its id after the commit, or with the error.
 * `prev` (only with an ordered {@link BatchAppend}, several instances): the
 * id of the message before it in its direct conversation, 0 for the first.
 */
export type WriteCallback = (error: Error | undefined, id: number, prev?: number) => void;

/**
 * Commits a batch in one transaction instead of `Store.appendMessages`: the
 * ids and each direct message's previous id in its conversation (several
 * instances: `ClusterStore.appendOrdered`).
 */
export type BatchAppend = (batch: NewMessage[]) => Promise<{ ids: number[]; prev: number[] }>;

/**
 * Told after every transaction of the writer (for metrics): the batch, how
 * long `appendMessages` took, and whether it committed. Called once per
 * batch, never per message; it must not throw and must not keep `batch`.
 */
export interface CommitObserver {
  /** A batch was committed (`ok`) or failed, after `seconds`. */
  committed(batch: readonly NewMessage[], seconds: number, ok: boolean): void;
}

/** Batches messages into transactions. */
export class MessageWriter {
  readonly #store: Store;
  #queue: NewMessage[] = [];
  #callbacks: WriteCallback[] = [];
  #scheduled = false;
  #inFlight: Promise<void> | undefined;
  #closed = false;

  readonly #onCallbackError: (error: unknown) => void;
  readonly #observer: CommitObserver | undefined;
  readonly #append: BatchAppend | undefined;

  /**
   * Writes into `store`; a callback that throws is reported to
   * `onCallbackError`; `observer` (optional) is told of every transaction;
   * `append` (optional) commits each batch instead of `store.appendMessages`.
   */
  constructor(
    store: Store,
    onCallbackError: (error: unknown) => void = console.error,
    observer?: CommitObserver,
    append?: BatchAppend,
  ) {
    this.#store = store;
    this.#onCallbackError = onCallbackError;
    this.#observer = observer;
    this.#append = append;
  }

  /** Messages waiting for their transaction. */
  get pending(): number {
    return this.#queue.length;
  }

  /**
   * Queues a message; `done` runs after its transaction commits (or fails).
   * Returns false, without calling `done`, once the writer is closed.
   */
  write(message: NewMessage, done: WriteCallback): boolean {
    if (this.#closed) return false;
    this.#queue.push(message);
    this.#callbacks.push(done);
    this.#schedule();
    return true;
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight) return;
    this.#scheduled = true;
    setTimeout(() => {
      this.#scheduled = false;
      this.#inFlight = this.#commit().finally(() => {
        this.#inFlight = undefined;
        if (this.#queue.length > 0) this.#schedule();
      });
    }, 0);
  }

  async #commit(): Promise<void> {
    const batch = this.#queue;
    const callbacks = this.#callbacks;
    this.#queue = [];
    this.#callbacks = [];
    if (batch.length === 0) return;
    let ids: number[];
    let prev: number[] | undefined;
    const started = performance.now();
    try {
      if (this.#append) ({ ids, prev } = await this.#append(batch));
      else ids = await this.#store.appendMessages(batch);
    } catch (e) {
      this.#observe(batch, started, false);
      const error = e instanceof Error ? e : new Error(String(e));
      for (const cb of callbacks) this.#call(cb, error, 0);
      return;
    }
    this.#observe(batch, started, true);
    for (let i = 0; i < callbacks.length; i++) {
      this.#call(callbacks[i], undefined, ids[i], prev?.[i]);
    }
  }

  /** Tells the observer (if any) of a transaction begun at `started` (performance.now()). */
  #observe(batch: readonly NewMessage[], started: number, ok: boolean): void {
    if (!this.#observer) return;
    try {
      this.#observer.committed(batch, (performance.now() - started) / 1000, ok);
    } catch (e) {
      this.#onCallbackError(e);
    }
  }

  /** Runs one callback; a throwing callback must not cost the others their answer. */
  #call(cb: WriteCallback, error: Error | undefined, id: number, prev?: number): void {
    try {
      cb(error, id, prev);
    } catch (e) {
      this.#onCallbackError(e);
    }
  }

  /**
   * Refuses new messages and resolves once everything queued so far is
   * committed and its callbacks have run.
   */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#inFlight || this.#scheduled || this.#queue.length > 0) {
      if (this.#inFlight) await this.#inFlight;
      else if (this.#queue.length > 0 && !this.#scheduled) this.#schedule();
      else await new Promise((r) => setTimeout(r, 0));
    }
  }
}
