/**
 * The store's side of its writer thread: hands batches of messages and
 * membership changes to the worker, in order, and resolves each once the
 * worker has committed it (a batch with its ids, a change with whether a
 * row changed).
 *
 * @module
 */

import type { NewMessage, ReadMark, ReadOutcome } from "./store.ts";
import type { MembershipChange } from "./sqlite_append.ts";
import type { FromWriter, ToWriter } from "./sqlite_writer_protocol.ts";

interface Pending {
  promise: Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** A writer thread with its own connection to a SQLite file. */
export class SqliteWriterThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #seq = 0;
  #failure: Error | undefined;
  #terminated = false;
  /** Resolved when the thread has closed its connection. */
  #closed: PromiseWithResolvers<void> | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
  }

  /** Starts the thread and opens `path` (migrated already) in it. */
  static open(path: string): Promise<SqliteWriterThread> {
    const worker = new Worker(new URL("./sqlite_writer_worker.ts", import.meta.url), {
      type: "module",
      name: "causerie-sqlite-writer",
    });
    const thread = new SqliteWriterThread(worker);
    return new Promise((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<FromWriter>) => {
        const message = event.data;
        if (message.kind === "ready") {
          worker.onmessage = (e: MessageEvent<FromWriter>) => thread.#settle(e.data);
          resolve(thread);
        } else {
          worker.terminate();
          reject(
            new Error(
              `the writer thread could not open ${path}: ${
                message.kind === "refused" ? message.message : message.kind
              }`,
            ),
          );
        }
      };
      worker.onerror = (event) => {
        event.preventDefault();
        const error = new Error(`the writer thread failed: ${event.message}`);
        reject(error); // no effect once open
        thread.#fail(error);
      };
      thread.#post({ kind: "open", path });
    });
  }

  /** Whether the thread can still take batches. */
  get usable(): boolean {
    return this.#failure === undefined && !this.#terminated;
  }

  /** Commits `batch` in one transaction in the thread; resolves with its ids. */
  append(batch: NewMessage[]): Promise<number[]> {
    return this.#request<number[]>((seq) => ({ kind: "append", seq, batch }));
  }

  /** Applies one membership change in the thread; resolves with whether a row changed. */
  membership(change: MembershipChange): Promise<boolean> {
    return this.#request<boolean>((seq) => ({ kind: "membership", seq, change }));
  }

  /** Applies a `read` in the thread; resolves with what it did. */
  markRead(mark: ReadMark): Promise<ReadOutcome> {
    return this.#request<ReadOutcome>((seq) => ({ kind: "mark", seq, mark }));
  }

  #request<T>(message: (seq: number) => ToWriter): Promise<T> {
    if (!this.usable) {
      return Promise.reject(this.#failure ?? new Error("the writer thread is closed"));
    }
    const seq = ++this.#seq;
    const pending = Promise.withResolvers<T>();
    this.#pending.set(seq, pending as Pending);
    this.#post(message(seq));
    return pending.promise;
  }

  /** Waits for the batches in flight, then stops the thread. */
  async close(): Promise<void> {
    if (this.#terminated) return;
    await Promise.allSettled([...this.#pending.values()].map((p) => p.promise));
    if (this.#terminated) return; // failed meanwhile
    this.#terminated = true;
    this.#closed = Promise.withResolvers<void>();
    this.#post({ kind: "close" });
    await this.#closed.promise;
    this.#worker.terminate();
  }

  #post(message: ToWriter): void {
    this.#worker.postMessage(message);
  }

  #settle(message: FromWriter): void {
    if (message.kind === "closed") return this.#closed?.resolve();
    if (
      message.kind !== "done" && message.kind !== "applied" && message.kind !== "marked" &&
      message.kind !== "failed"
    ) return;
    const pending = this.#pending.get(message.seq);
    if (!pending) return;
    this.#pending.delete(message.seq);
    if (message.kind === "done") pending.resolve(message.ids);
    else if (message.kind === "applied") pending.resolve(message.changed);
    else if (message.kind === "marked") pending.resolve(message.outcome);
    else pending.reject(new Error(message.message));
  }

  #fail(error: Error): void {
    this.#failure = error;
    this.#closed?.resolve();
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
    if (!this.#terminated) {
      this.#terminated = true;
      this.#worker.terminate();
    }
  }
}
