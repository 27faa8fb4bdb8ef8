/**
 * Where the inspector page's frames come from, framework-free:
 *
 * - an admin follows `GET /admin/inspect` (the browser cannot set headers,
 *   so the first frame is `{"type":"auth","token"}`); every frame goes to
 *   the store; a lost stream is reopened with backoff (web/core/backoff.ts)
 *   and starts again from a fresh snapshot; close 4401/4403 stops for good;
 * - a moderator, who may not open the stream, polls `GET /admin/actors`
 *   every {@link POLL_MS} (docs/protocol.md, "Inspector page and machines").
 *
 * @module
 */

import { backoffDelay } from "./backoff.ts";
import type { Clock, SocketLike } from "./connection.ts";
import type { InspectorStore, ListedActor } from "./inspector_store.ts";

/** How often a moderator's page asks `GET /admin/actors`, ms. */
export const POLL_MS = 2000;

/** What the feed is doing, for the page's status line. */
export type FeedStatus =
  | { kind: "connecting" }
  | { kind: "live" }
  | { kind: "polling" }
  | { kind: "waiting"; ms: number; attempt: number }
  | { kind: "refused"; message: string }
  | { kind: "stopped" };

/** What a feed needs. */
export interface FeedOptions {
  /** The store the frames go to. */
  store: InspectorStore;
  /** The session's token. */
  token: string;
  /** Time, timers and randomness. */
  clock: Clock;
  /** Told on every status change and after every applied frame or list. */
  onChange: (status: FeedStatus) => void;
}

/** The admin's live stream, with reconnects. */
export class StreamFeed {
  #opts: FeedOptions & { createSocket: () => SocketLike };
  #socket: SocketLike | null = null;
  #attempt = 0;
  #timer: number | null = null;
  #status: FeedStatus = { kind: "stopped" };

  /** A stream feed; `createSocket` opens `/admin/inspect` on the page's origin. */
  constructor(opts: FeedOptions & { createSocket: () => SocketLike }) {
    this.#opts = opts;
  }

  /** The current status. */
  get status(): FeedStatus {
    return this.#status;
  }

  #set(status: FeedStatus): void {
    this.#status = status;
    this.#opts.onChange(status);
  }

  /** Opens the stream (again). */
  start(): void {
    this.#timer = null;
    this.#set({ kind: "connecting" });
    const socket = this.#opts.createSocket();
    this.#socket = socket;
    socket.onopen = () => socket.send(JSON.stringify({ type: "auth", token: this.#opts.token }));
    socket.onmessage = (ev) => {
      if (socket !== this.#socket || typeof ev.data !== "string") return;
      let frame: unknown;
      try {
        frame = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (this.#status.kind !== "live") {
        // A new stream: forget the old tree, the stream sends every live actor again.
        this.#opts.store.reset();
        this.#attempt = 0;
        this.#status = { kind: "live" };
      }
      this.#opts.store.apply(frame);
      this.#opts.onChange(this.#status);
    };
    socket.onerror = () => {};
    socket.onclose = (ev) => {
      if (socket !== this.#socket) return;
      this.#socket = null;
      if (ev.code === 4401 || ev.code === 4403) {
        this.#set({
          kind: "refused",
          message: ev.code === 4403
            ? "Live events need an admin login."
            : "The session has ended; log in again.",
        });
        return;
      }
      const ms = backoffDelay(this.#attempt, this.#opts.clock.random());
      this.#attempt++;
      this.#set({ kind: "waiting", ms, attempt: this.#attempt });
      this.#timer = this.#opts.clock.setTimeout(() => this.start(), ms);
    };
  }

  /** Closes the stream for good. */
  stop(): void {
    if (this.#timer !== null) this.#opts.clock.clearTimeout(this.#timer);
    this.#timer = null;
    const s = this.#socket;
    this.#socket = null;
    s?.close(1000, "inspector closed");
    this.#set({ kind: "stopped" });
  }
}

/** The moderator's polling of `GET /admin/actors`. */
export class PollFeed {
  #opts: FeedOptions & { fetch: typeof fetch };
  #timer: number | null = null;
  #running = false;

  /** A polling feed. */
  constructor(opts: FeedOptions & { fetch: typeof fetch }) {
    this.#opts = opts;
  }

  /** Polls once now, then every {@link POLL_MS}. */
  start(): void {
    this.#running = true;
    void this.poll();
  }

  /** One poll; schedules the next. */
  async poll(): Promise<void> {
    this.#timer = null;
    let status: FeedStatus = { kind: "polling" };
    try {
      const res = await this.#opts.fetch("/admin/actors", {
        headers: { Authorization: `Bearer ${this.#opts.token}` },
      });
      if (res.status === 401 || res.status === 403) {
        status = {
          kind: "refused",
          message: res.status === 403
            ? "The inspector needs a moderator or admin login."
            : "The session has ended; log in again.",
        };
        this.#running = false;
      } else if (res.ok) {
        const body = await res.json() as { actors?: ListedActor[] };
        this.#opts.store.applyList(Array.isArray(body.actors) ? body.actors : []);
      } else {
        status = { kind: "waiting", ms: POLL_MS, attempt: 1 };
      }
    } catch {
      status = { kind: "waiting", ms: POLL_MS, attempt: 1 };
    }
    if (!this.#running) {
      this.#opts.onChange(status.kind === "refused" ? status : { kind: "stopped" });
      return;
    }
    this.#opts.onChange(status);
    this.#timer = this.#opts.clock.setTimeout(() => void this.poll(), POLL_MS);
  }

  /** Stops polling. */
  stop(): void {
    this.#running = false;
    if (this.#timer !== null) this.#opts.clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#opts.onChange({ kind: "stopped" });
  }
}
