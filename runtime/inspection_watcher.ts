/**
 * One watcher of the inspection stream: a bounded queue of serialized frames
 * between two flushes, and the rule for a slow watcher: drop, count, and say
 * so (`@causerie.dropped`) once its socket has drained. Memory per watcher is
 * bounded by {@link WATCHER_QUEUE_MAX} frames plus what its socket buffers
 * (about {@link WATCHER_BUFFERED_MAX}).
 *
 * @module
 */

/** Frames queued for one watcher between two flushes at most; more are dropped. */
export const WATCHER_QUEUE_MAX = 2000;

/** Bytes a watcher's socket may hold unsent; past it, new frames are dropped. */
export const WATCHER_BUFFERED_MAX = 1024 * 1024;

/** The socket of a watcher, as the transport hands it over. */
export interface InspectSocket {
  /** Writes frames, one JSON text each, in one go (corked where the transport allows). */
  sendAll(frames: readonly string[]): void;
  /** Bytes written but not yet sent. */
  bufferedAmount(): number;
  /** Closes with a code and a reason. */
  close(code: number, reason: string): void;
}

/** A watcher's queue over its socket. */
export class WatcherQueue {
  readonly #socket: InspectSocket;
  readonly #now: () => number;
  #queue: string[] = [];
  #dropped = 0;
  #closed = false;

  /** A queue writing to `socket`; `now` stamps the `@causerie.dropped` frame. */
  constructor(socket: InspectSocket, now: () => number) {
    this.#socket = socket;
    this.#now = now;
  }

  /** Whether frames wait to be written (or a drop to be told). */
  get pending(): boolean {
    return !this.#closed && (this.#queue.length > 0 || this.#dropped > 0);
  }

  /** Frames dropped since the last `@causerie.dropped` frame. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Whether the socket is over its limit. */
  #congested(): boolean {
    try {
      return this.#socket.bufferedAmount() > WATCHER_BUFFERED_MAX;
    } catch {
      return false;
    }
  }

  /** Queues a frame, or drops and counts it when the queue is full or the socket is slow. */
  offer(frame: string): void {
    if (this.#closed) return;
    if (this.#dropped > 0 || this.#queue.length >= WATCHER_QUEUE_MAX || this.#congested()) {
      this.#dropped++;
      return;
    }
    this.#queue.push(frame);
  }

  /**
   * Writes the queued frames in one go, then `@causerie.dropped` if frames
   * were dropped; does nothing while the socket is over its limit (new
   * frames go on being dropped and counted until it drains).
   */
  flush(): void {
    if (!this.pending || this.#congested()) return;
    const frames = this.#queue;
    this.#queue = [];
    if (this.#dropped > 0) {
      frames.push(
        JSON.stringify({ type: "@causerie.dropped", dropped: this.#dropped, at: this.#now() }),
      );
      this.#dropped = 0;
    }
    this.write(frames);
  }

  /** Writes frames at once, past the queue (the opening snapshot). */
  write(frames: readonly string[]): void {
    if (this.#closed || frames.length === 0) return;
    try {
      this.#socket.sendAll(frames);
    } catch { /* a socket closing meanwhile: its close event ends the watcher */ }
  }

  /** Stops queuing and closes the socket. */
  close(code: number, reason: string): void {
    this.stop();
    try {
      this.#socket.close(code, reason);
    } catch { /* already closed */ }
  }

  /** Stops queuing (the socket closed). */
  stop(): void {
    this.#closed = true;
    this.#queue = [];
  }
}
