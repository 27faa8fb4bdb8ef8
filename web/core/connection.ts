/**
 * The connection machine: one WebSocket at a time, a token hello, welcomed,
 * dropped, waiting (backoff with jitter), or stopped for good (kicked,
 * banned, credentials refused, logged out). The socket and the clock are
 * injected, so the machine runs in `deno test` with a fake socket and a
 * manual clock.
 *
 * States: `idle` → `connecting` → `open` → (drop) `waiting` → `connecting`…;
 * any → `stopped`. No reconnect is ever scheduled from `stopped`.
 *
 * @module
 */

import { backoffDelay, type BackoffOptions } from "./backoff.ts";
import { type ChatFrame, type ClientRequest, decodeFrame, encodeRequest } from "./codec.ts";

/** The part of a WebSocket the machine uses. */
export interface SocketLike {
  /** Sends one text frame. */
  send(data: string): void;
  /** Closes the socket. */
  close(code?: number, reason?: string): void;
  /** Called once open. */
  onopen: ((ev: unknown) => void) | null;
  /** Called for each frame. */
  onmessage: ((ev: { data: unknown }) => void) | null;
  /** Called once closed. */
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  /** Called on a transport error (a close follows). */
  onerror: ((ev: unknown) => void) | null;
}

/** Time, timers and randomness, injected. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Schedules `fn` in `ms`. */
  setTimeout(fn: () => void, ms: number): number;
  /** Cancels a timer. */
  clearTimeout(id: number): void;
  /** A number in [0, 1). */
  random(): number;
}

/** The browser's clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms) as unknown as number,
  clearTimeout: (id) => globalThis.clearTimeout(id),
  random: () => Math.random(),
};

/** Why the machine stopped for good. */
export type StopReason = "kicked" | "banned" | "credentials" | "replaced" | "logged_out";

/** The machine's state, as views show it. */
export type ConnectionState =
  | { kind: "idle" }
  | { kind: "connecting"; attempt: number }
  | { kind: "open" }
  | { kind: "waiting"; attempt: number; retryAt: number }
  | { kind: "stopped"; reason: StopReason; until?: string; message?: string };

/** What the machine needs. */
export interface ConnectionOptions {
  /** Opens a socket (the browser: `new WebSocket(url)`). */
  createSocket: () => SocketLike;
  /** The clock (default: the system's). */
  clock?: Clock;
  /** The hello to send once open (a token hello). */
  hello: () => ClientRequest;
  /** Every decoded server frame, in order. */
  onFrame: (frame: ChatFrame) => void;
  /** Every state change. */
  onState: (state: ConnectionState) => void;
  /** Backoff settings. */
  backoff?: BackoffOptions;
  /** Liveness: a `ping` after this long without a frame (default 25 s). */
  idlePingMs?: number;
  /** Liveness: the socket is given up this long after that ping without any frame (default 10 s). */
  pongTimeoutMs?: number;
}

/** The WebSocket connection with reconnects. */
export class Connection {
  #opts: ConnectionOptions;
  #clock: Clock;
  #socket: SocketLike | null = null;
  #state: ConnectionState = { kind: "idle" };
  #attempt = 0;
  #retryTimer: number | null = null;
  #liveTimer: number | null = null;
  #pingSent = false;
  /** Set by a `kicked`/`banned` frame: the close that follows stops the machine. */
  #sanction: { reason: "kicked" | "banned"; until?: string; message?: string } | null = null;

  /** Builds an idle machine; {@link Connection.start} connects. */
  constructor(opts: ConnectionOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
  }

  /** The current state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** Connects (from `idle` or `stopped`, e.g. after a new login). */
  start(): void {
    this.#sanction = null;
    this.#attempt = 0;
    this.#connect();
  }

  /** Reconnects at once when waiting (the browser came back online). */
  retryNow(): void {
    if (this.#state.kind === "waiting") {
      this.#clearRetry();
      this.#connect();
    }
  }

  /** Stops for good (log out): closes the socket, no reconnect. */
  stop(reason: StopReason = "logged_out"): void {
    this.#clearRetry();
    this.#clearLive();
    const socket = this.#socket;
    this.#socket = null;
    this.#setState({ kind: "stopped", reason });
    if (socket) {
      socket.onclose = null;
      socket.close(1000, "bye");
    }
  }

  /** Sends a request; false when not welcomed (the caller shows it as not sent). */
  send(request: ClientRequest): boolean {
    if (this.#state.kind !== "open" || !this.#socket) return false;
    this.#socket.send(encodeRequest(request));
    return true;
  }

  #setState(state: ConnectionState): void {
    this.#state = state;
    this.#opts.onState(state);
  }

  #connect(): void {
    this.#setState({ kind: "connecting", attempt: this.#attempt });
    let socket: SocketLike;
    try {
      socket = this.#opts.createSocket();
    } catch {
      this.#dropped(1006);
      return;
    }
    this.#socket = socket;
    socket.onopen = () => {
      if (this.#socket !== socket) return;
      socket.send(encodeRequest(this.#opts.hello()));
      this.#armLiveness();
    };
    socket.onmessage = (ev) => {
      if (this.#socket !== socket || typeof ev.data !== "string") return;
      this.#armLiveness();
      const frame = decodeFrame(ev.data);
      if (!frame) return;
      this.#observe(frame);
      this.#opts.onFrame(frame);
    };
    socket.onerror = () => {};
    socket.onclose = (ev) => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      this.#dropped(ev.code, ev.reason);
    };
  }

  /** Frames that steer the machine: welcome resets the backoff, sanctions stop it. */
  #observe(frame: ChatFrame): void {
    if (frame.type === "welcome") {
      this.#attempt = 0;
      this.#setState({ kind: "open" });
    } else if (frame.type === "kicked") {
      this.#sanction = { reason: "kicked", until: frame.until, message: frame.reason };
    } else if (frame.type === "banned") {
      this.#sanction = { reason: "banned", message: frame.reason };
    } else if (frame.type === "error" && this.#state.kind === "connecting") {
      // Refused hello: banned (a kick carries until), or credentials no longer valid.
      if (frame.code === "banned") {
        this.#sanction = frame.until
          ? { reason: "kicked", until: frame.until, message: frame.message }
          : { reason: "banned", message: frame.message };
      } else if (frame.code === "bad_credentials") {
        this.#stopOnClose = { reason: "credentials", message: frame.message };
      }
    }
  }

  #stopOnClose: { reason: StopReason; message?: string } | null = null;

  #dropped(code: number, reason = ""): void {
    this.#clearLive();
    if (this.#sanction) {
      const s = this.#sanction;
      this.#setState({ kind: "stopped", reason: s.reason, until: s.until, message: s.message });
      return;
    }
    if (this.#stopOnClose) {
      const s = this.#stopOnClose;
      this.#stopOnClose = null;
      this.#setState({ kind: "stopped", reason: s.reason, message: s.message });
      return;
    }
    if (code === 4403) {
      this.#setState({ kind: "stopped", reason: "banned", message: reason || undefined });
      return;
    }
    if (code === 4401) {
      this.#setState({ kind: "stopped", reason: "credentials", message: reason || undefined });
      return;
    }
    if (code === 4409) {
      this.#setState({ kind: "stopped", reason: "replaced", message: reason || undefined });
      return;
    }
    const delay = backoffDelay(this.#attempt, this.#clock.random(), this.#opts.backoff);
    const attempt = this.#attempt;
    this.#attempt += 1;
    this.#setState({ kind: "waiting", attempt, retryAt: this.#clock.now() + delay });
    this.#retryTimer = this.#clock.setTimeout(() => {
      this.#retryTimer = null;
      this.#connect();
    }, delay);
  }

  /** After every frame: ping when quiet, give the socket up when even the ping gets nothing. */
  #armLiveness(): void {
    this.#clearLive();
    this.#pingSent = false;
    const idle = this.#opts.idlePingMs ?? 25_000;
    this.#liveTimer = this.#clock.setTimeout(() => this.#quiet(), idle);
  }

  #quiet(): void {
    const socket = this.#socket;
    if (!socket) return;
    if (this.#pingSent || this.#state.kind !== "open") {
      // Nothing came back: the link is dead even if the browser has not noticed.
      this.#socket = null;
      socket.onclose = null;
      socket.close(4000, "no answer");
      this.#dropped(1006);
      return;
    }
    this.#pingSent = true;
    socket.send(encodeRequest({ type: "ping" }));
    this.#liveTimer = this.#clock.setTimeout(
      () => this.#quiet(),
      this.#opts.pongTimeoutMs ?? 10_000,
    );
  }

  #clearRetry(): void {
    if (this.#retryTimer !== null) this.#clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }

  #clearLive(): void {
    if (this.#liveTimer !== null) this.#clock.clearTimeout(this.#liveTimer);
    this.#liveTimer = null;
  }
}
