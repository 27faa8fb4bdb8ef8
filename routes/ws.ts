/**
 * `GET /ws`: the WebSocket upgrade, the frame size limit, JSON parsing and
 * schema validation. Everything past a parsed frame belongs to the
 * connection actor (runtime/hub.ts).
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { upgradeWebSocket } from "hono/deno";
import { CLOSE } from "../actors/session.ts";
import type { ConnectionHandle, Hub } from "../runtime/hub.ts";
import { MAX_FRAME_BYTES, parseFrame } from "../protocol/frames.ts";
import { clientAddress } from "./body.ts";

/** A socket whose unsent data passes this many bytes is a slow consumer and is closed. */
export const SLOW_CONSUMER_BYTES = 1024 * 1024;

/** Options of {@link wsRoute}. */
export interface WsOptions {
  /**
   * Seconds of silence before Deno pings the peer; a peer that does not
   * answer within as long again is closed (default 30).
   */
  idleTimeoutSeconds?: number;
}

/** Whether a text frame is larger than {@link MAX_FRAME_BYTES} in UTF-8. */
export function frameTooBig(text: string): boolean {
  if (text.length > MAX_FRAME_BYTES) return true;
  if (text.length * 3 <= MAX_FRAME_BYTES) return false;
  return new TextEncoder().encode(text).byteLength > MAX_FRAME_BYTES;
}

/** Longest wait for queued frames to leave before a close, ms. */
export const CLOSE_FLUSH_MS = 1000;

/**
 * The socket as the actors see it: sends never throw, and a slow consumer is
 * closed (1008) and reported through `abandoned` at once: its close frame
 * sits behind data the peer does not read, so its close event may never come.
 *
 * A close waits (at most {@link CLOSE_FLUSH_MS}) for frames still being
 * written: closing while a write is in flight can lose the close frame, and
 * the peer would see the connection drop instead of the close code.
 */
export function socketPort(ws: WebSocket, abandoned: () => void): {
  send(frame: string): void;
  close(code: number, reason: string): void;
  unsent(): number;
} {
  let closing = false;
  const closeNow = (code: number, reason: string) => {
    try {
      ws.close(code, reason);
    } catch { /* already closing */ }
  };
  return {
    unsent: () => ws.bufferedAmount,
    send(frame) {
      if (closing || ws.readyState !== WebSocket.OPEN) return;
      try {
        ws.send(frame);
      } catch {
        return;
      }
      if (ws.bufferedAmount > SLOW_CONSUMER_BYTES) {
        closing = true;
        closeNow(CLOSE.policy, "slow consumer: too much unread data");
        abandoned();
      }
    },
    close(code, reason) {
      if (closing) return;
      if (ws.readyState !== WebSocket.OPEN && ws.readyState !== WebSocket.CONNECTING) return;
      closing = true;
      if (ws.bufferedAmount === 0) return closeNow(code, reason);
      const deadline = Date.now() + CLOSE_FLUSH_MS;
      const wait = () => {
        if (ws.bufferedAmount === 0 || Date.now() >= deadline) closeNow(code, reason);
        else setTimeout(wait, 5);
      };
      setTimeout(wait, 5);
    },
  };
}

/** The `/ws` handler. */
export function wsRoute(hub: Hub, opts: WsOptions = {}): MiddlewareHandler {
  const upgrade = upgradeWebSocket((c: Context) => {
    const address = clientAddress(c);
    let handle: ConnectionHandle | undefined;
    const gone = () => {
      const h = handle;
      handle = undefined;
      h?.closed();
    };
    return {
      onOpen(_event, ws) {
        handle = hub.connect(socketPort(ws.raw as WebSocket, gone), address);
      },
      onMessage(event, ws) {
        if (!handle) return;
        const data = event.data;
        if (typeof data !== "string") {
          const size = data instanceof ArrayBuffer ? data.byteLength : (data as Blob).size ?? 0;
          if (size > MAX_FRAME_BYTES) return ws.close(CLOSE.tooBig, "frame larger than 64 KiB");
          return handle.receive({ ok: false, message: "send text frames holding one JSON object" });
        }
        if (frameTooBig(data)) return ws.close(CLOSE.tooBig, "frame larger than 64 KiB");
        handle.receive(parseFrame(data));
      },
      onClose: gone,
      onError: gone,
    };
  }, { idleTimeout: opts.idleTimeoutSeconds ?? 30 });

  return async (c, next) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      return c.json({
        error: {
          code: "invalid",
          message: "GET /ws expects a WebSocket upgrade (Upgrade: websocket)",
        },
      }, 426);
    }
    return await upgrade(c, next);
  };
}
