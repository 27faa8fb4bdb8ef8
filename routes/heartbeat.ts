/**
 * The WebSocket heartbeat: `ws` has no idle timeout of its own. Every
 * interval each socket is pinged; a socket that answered nothing since the
 * previous ping (no pong, no frame) is closed with 1001 and cut. One timer
 * serves every socket, and runs only while there are sockets.
 *
 * @module
 */

// @ts-types="@types/ws"
import type { WebSocket as NodeWs } from "ws";
import { CLOSE } from "../actors/session.ts";

/** Pings sockets and cuts the silent ones. */
export class Heartbeat {
  readonly #intervalMs: number;
  readonly #heard = new Map<NodeWs, boolean>();
  #timer: ReturnType<typeof setInterval> | undefined;

  /** A heartbeat pinging every `intervalMs`. */
  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  /** Starts watching `ws` until it closes. */
  track(ws: NodeWs): void {
    this.#heard.set(ws, true);
    ws.on("pong", () => this.heard(ws));
    ws.once("close", () => {
      this.#heard.delete(ws);
      if (this.#heard.size === 0 && this.#timer !== undefined) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    });
    this.#timer ??= setInterval(() => this.#beat(), this.#intervalMs);
  }

  /** `ws` showed it is alive (a pong or a frame). */
  heard(ws: NodeWs): void {
    if (this.#heard.has(ws)) this.#heard.set(ws, true);
  }

  #beat(): void {
    for (const [ws, heard] of this.#heard) {
      if (!heard) {
        try {
          ws.close(CLOSE.goingAway, "no answer to ping");
        } catch { /* closing already */ }
        // A dead peer never completes the close handshake: cut it now.
        ws.terminate();
        continue;
      }
      this.#heard.set(ws, false);
      try {
        ws.ping();
      } catch { /* closing */ }
    }
  }
}
