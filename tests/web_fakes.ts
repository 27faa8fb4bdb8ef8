/**
 * Fakes for the browser client's core: a clock whose timers run when the
 * test advances it, and sockets the test opens, feeds and closes.
 *
 * @module
 */

import type { Clock, SocketLike } from "../web/core/connection.ts";

/** A clock with timers, advanced by hand. */
export class FakeClock implements Clock {
  /** Current time, epoch ms. */
  t = Date.UTC(2026, 10, 24, 10, 0, 0);
  /** The value `random()` returns. */
  rand = 0.5;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 1;

  /** {@inheritDoc Clock.now} */
  now(): number {
    return this.t;
  }
  /** {@inheritDoc Clock.random} */
  random(): number {
    return this.rand;
  }
  /** {@inheritDoc Clock.setTimeout} */
  setTimeout(fn: () => void, ms: number): number {
    const id = this.#next++;
    this.#timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  /** {@inheritDoc Clock.clearTimeout} */
  clearTimeout(id: number): void {
    this.#timers.delete(id);
  }
  /** Timers waiting. */
  get pending(): number {
    return this.#timers.size;
  }
  /** Moves time on by `ms`, running the timers due, in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.#timers) if (e[1].at <= end && (!due || e[1].at < due[1].at)) due = e;
      if (!due) break;
      this.#timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = end;
  }
}

/** A socket driven by the test. */
export class FakeSocket implements SocketLike {
  /** Frames the client sent, parsed. */
  sent: Array<Record<string, unknown>> = [];
  /** Whether the client closed it. */
  closed = false;
  onopen: SocketLike["onopen"] = null;
  onmessage: SocketLike["onmessage"] = null;
  onclose: SocketLike["onclose"] = null;
  onerror: SocketLike["onerror"] = null;

  /** {@inheritDoc SocketLike.send} */
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  /** {@inheritDoc SocketLike.close} */
  close(): void {
    this.closed = true;
  }
  /** The server accepts the connection. */
  open(): void {
    this.onopen?.({});
  }
  /** The server sends a frame. */
  receive(frame: Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  /** The connection ends with `code`. */
  drop(code = 1006, reason = ""): void {
    this.onclose?.({ code, reason });
  }
  /** The last frame sent of `type`. */
  last(type: string): Record<string, unknown> | undefined {
    return this.sent.findLast((f) => f.type === type);
  }
}

/** A socket factory that records every socket it made. */
export function socketFactory(): { sockets: FakeSocket[]; create: () => FakeSocket } {
  const sockets: FakeSocket[] = [];
  return {
    sockets,
    create: () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
  };
}
