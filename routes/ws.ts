/**
 * `GET /ws`: who may upgrade (Origin, shutdown, admission), the upgrade
 * itself (`ws`, routes/node_ws.ts, which refuses a message over 64 KiB
 * from its frame header), the heartbeat, JSON parsing and schema validation.
 * Everything past a parsed frame belongs to the connection actor
 * (runtime/hub.ts).
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { Buffer } from "node:buffer";
import type { IncomingMessage } from "node:http";
// @ts-types="@types/ws"
import type { WebSocket as NodeWs } from "ws";
import { CLOSE } from "../actors/session.ts";
import { addressKey } from "../lib/address.ts";
import { type SecurityLog, silentSecurityLog } from "../lib/security_log.ts";
import type { Admission, AdmissionTicket } from "../runtime/admission.ts";
import type { ConnectionHandle, Hub } from "../runtime/hub.ts";
import { parseFrame } from "../protocol/frames.ts";
import { clientAddress } from "./body.ts";
import { Heartbeat } from "./heartbeat.ts";
import {
  isUpgradeRequest,
  ProtocolErrorEvent,
  setReadGate,
  type WebSocketSupport,
} from "./node_ws.ts";

/** A socket whose unsent data passes this many bytes is a slow consumer and is closed. */
export const SLOW_CONSUMER_BYTES = 1024 * 1024;

/** A slow consumer's connection is cut this long after its close frame was queued, ms. */
export const SLOW_CONSUMER_GRACE_MS = 10_000;

/** Options of {@link wsRoute}. */
export interface WsOptions {
  /**
   * Seconds between pings; a peer that has answered nothing (no pong, no
   * frame) since the previous ping is closed with 1001 (default 30).
   */
  idleTimeoutSeconds?: number;
  /**
   * Origins (`https://chat.example.org`) allowed besides the server's own;
   * clients that send no `Origin` are always allowed.
   */
  allowedOrigins?: readonly string[];
}

/** What {@link wsRoute} needs besides the hub. */
export interface WsDeps {
  /** The upgrade helper of the HTTP server (routes/http_server.ts). */
  webSockets: Pick<WebSocketSupport, "upgradeWebSocket">;
  /** Who may open a socket. */
  admission: Admission;
  /** Where refused upgrades and slow consumers are recorded. */
  security?: SecurityLog;
}

/**
 * A server text frame (unmasked, FIN) holding `text`, header and UTF-8
 * payload in one buffer.
 */
export function textFrame(text: string): Buffer {
  const n = Buffer.byteLength(text, "utf8");
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(head + n);
  frame[0] = 0x81;
  if (head === 2) frame[1] = n;
  else if (head === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    frame.writeUInt32BE(n >>> 0, 6);
  }
  frame.write(text, head, "utf8");
  return frame;
}

/**
 * The last frame built, by its text: a salon serializes a message once and
 * hands the same string to every member's session, so the frame (its UTF-8
 * encoding included) is built once per message, not once per member.
 */
let lastText: string | undefined;
let lastFrame: Buffer | undefined;

function frameOf(text: string): Buffer {
  if (text !== lastText) {
    lastFrame = textFrame(text);
    lastText = text;
  }
  return lastFrame!;
}

/**
 * Writes a text frame straight to the socket under `ws`. Safe because
 * nothing is compressed (no `permessage-deflate`): `ws` writes each of its own
 * frames (pings, close) synchronously and whole, so frames never interleave,
 * and `bufferedAmount` still counts what is waiting in the socket.
 */
function writeText(ws: NodeWs, text: string, flushed: () => void): void {
  const socket = (ws as unknown as { _socket?: CorkableSocket })._socket;
  if (!socket) {
    ws.send(text);
    return flushed();
  }
  if (!corked.has(socket)) {
    socket.cork();
    corked.set(socket, flushed);
    if (corked.size === 1) queueMicrotask(uncorkAll);
  }
  socket.write(frameOf(text));
}

/** The part of a `node:net` socket that {@link writeText} uses. */
interface CorkableSocket {
  write(b: Buffer): boolean;
  cork(): void;
  uncork(): void;
}

/**
 * Sockets written to since the current task began, each with what to check
 * once its frames are handed to the kernel. Frames for one socket in one task
 * (an `ok` and the `direct` it acknowledges, the messages of one group
 * commit) leave in one write once the task's synchronous work is done. Until
 * then they count in `bufferedAmount`, so the slow-consumer check waits for
 * the uncork: corked bytes are not unread bytes.
 */
const corked = new Map<CorkableSocket, () => void>();

function uncorkAll(): void {
  const batch = [...corked];
  corked.clear();
  for (const [socket, flushed] of batch) {
    try {
      socket.uncork();
      flushed();
    } catch { /* a socket destroyed meanwhile: nothing to flush or check */ }
  }
}

/** Longest wait for queued frames to leave before a close, ms. */
export const CLOSE_FLUSH_MS = 1000;

/** A session closed while its reading is paused is cut this long after its close frame, ms. */
export const PAUSED_CLOSE_GRACE_MS = 500;

/**
 * The socket as the actors see it: sends never throw, and a slow consumer is
 * closed (1008), reported through `abandoned` at once (its close frame sits
 * behind data the peer does not read) and cut after
 * {@link SLOW_CONSUMER_GRACE_MS}.
 *
 * A close waits (at most {@link CLOSE_FLUSH_MS}) for frames still being
 * written: closing while a write is in flight can lose the close frame, and
 * the peer would see the connection drop instead of the close code.
 */
export function socketPort(ws: NodeWs, abandoned: () => void): {
  send(frame: string): void;
  close(code: number, reason: string): void;
  unsent(): number;
  pause(ms: number): void;
  paused(): boolean;
  firstDropped(): boolean;
} {
  let closing = false;
  let resumeAt = 0;
  let droppedInPause = false;
  let resumeTimer: ReturnType<typeof setTimeout> | undefined;
  ws.once("close", () => clearTimeout(resumeTimer));
  const closeNow = (code: number, reason: string) => {
    try {
      ws.close(code, reason);
    } catch { /* already closing */ }
    // A paused socket is not read again: what waits in it (a flooder's backlog, megabytes
    // of frames) would all be decoded before the peer's close frame. The close frame is
    // sent; the connection is cut a moment later, answered or not.
    if (ws.isPaused) {
      clearTimeout(resumeTimer);
      const cut = setTimeout(() => ws.terminate(), PAUSED_CLOSE_GRACE_MS);
      ws.once("close", () => clearTimeout(cut));
    }
  };
  /** Once frames are out of the cork: past the limit, the peer is a slow consumer. */
  const checkUnread = () => {
    if (closing || ws.bufferedAmount <= SLOW_CONSUMER_BYTES) return;
    closing = true;
    closeNow(CLOSE.policy, "slow consumer: too much unread data");
    abandoned();
    const cut = setTimeout(() => ws.terminate(), SLOW_CONSUMER_GRACE_MS);
    ws.once("close", () => clearTimeout(cut));
  };
  return {
    unsent: () => ws.bufferedAmount,
    pause(ms) {
      const until = Date.now() + ms;
      if (until <= resumeAt || ws.readyState !== ws.OPEN) return;
      resumeAt = until;
      droppedInPause = false;
      ws.pause();
      clearTimeout(resumeTimer);
      resumeTimer = setTimeout(() => {
        resumeAt = 0;
        // A session being closed stays paused (see closeNow).
        if (!closing && ws.readyState === ws.OPEN) ws.resume();
      }, ms);
    },
    /** Whether frames are to be dropped unread: past the budget, or being closed. */
    paused: () => resumeAt !== 0 || closing,
    /** Whether this is the first frame dropped since the pause began (the one worth counting). */
    firstDropped() {
      if (droppedInPause) return false;
      droppedInPause = true;
      return true;
    },
    send(frame) {
      if (closing || ws.readyState !== ws.OPEN) return;
      try {
        writeText(ws, frame, checkUnread);
      } catch {
        return;
      }
    },
    close(code, reason) {
      if (closing) return;
      if (ws.readyState !== ws.OPEN && ws.readyState !== ws.CONNECTING) return;
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

/** `Sec-WebSocket-Key`: 16 bytes in base64 (RFC 6455 4.1), as `ws` checks it. */
const KEY_PATTERN = /^[+/0-9A-Za-z]{22}==$/;

function refuse(c: Context, status: number, code: string, message: string, retryAfter?: number) {
  if (retryAfter !== undefined) c.header("Retry-After", String(retryAfter));
  return c.json({ error: { code, message } }, status as 400);
}

/**
 * Whether `origin` may open a socket: no Origin (native clients, the CLI),
 * the server's own (same host as the request), or one of `allowed`.
 */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowed: readonly string[],
): boolean {
  if (origin === undefined) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.origin === "null") return false;
  if (host !== undefined && url.host.toLowerCase() === host.toLowerCase()) return true;
  return allowed.includes(url.origin);
}

/** The `/ws` handler. */
export function wsRoute(hub: Hub, deps: WsDeps, opts: WsOptions = {}): MiddlewareHandler {
  const security = deps.security ?? silentSecurityLog;
  const allowed = (opts.allowedOrigins ?? []).map((o) => new URL(o).origin);
  const heartbeat = new Heartbeat((opts.idleTimeoutSeconds ?? 30) * 1000);
  /** Admission tickets of upgrades under way, by request. */
  const tickets = new WeakMap<IncomingMessage, AdmissionTicket>();

  const upgrade = deps.webSockets.upgradeWebSocket((c: Context) => {
    const address = clientAddress(c);
    const incoming = (c.env as { incoming: IncomingMessage }).incoming;
    const ticket = tickets.get(incoming) ?? { release() {} };
    tickets.delete(incoming);
    let handle: ConnectionHandle | undefined;
    /** The socket is gone: `code` is its close code, when known (for the log). */
    const gone = (code?: number) => {
      ticket.release();
      const h = handle;
      handle = undefined;
      h?.closed(code);
    };
    return {
      onOpen(_event, ws) {
        const raw = ws.raw as NodeWs;
        heartbeat.track(raw);
        const port = socketPort(raw, () => {
          security.record({ event: "slow_consumer", address, outcome: "closed", detail: "1008" });
          gone(CLOSE.policy);
        });
        setReadGate(raw, {
          closed: () => port.paused(),
          // One drop per pause keeps the session past its budget; counting each would cost an
          // actor event per frame, which is what pausing avoids.
          dropped: () => {
            if (port.firstDropped()) handle?.dropped();
          },
        });
        handle = hub.connect(port, address, { onWelcome: () => ticket.release() });
      },
      onMessage(event, ws) {
        heartbeat.heard(ws.raw as NodeWs);
        // Frames `ws` had already read when the session was paused (past its budget) never get
        // here: the read gate (routes/node_ws.ts) drops them undecoded.
        if (!handle) return;
        const data = event.data;
        if (typeof data !== "string") {
          return handle.receive({ ok: false, message: "send text frames holding one JSON object" });
        }
        // `ws` already refused anything larger than 64 KiB (close 1009, maxPayload).
        handle.receive(parseFrame(data), Buffer.byteLength(data, "utf8"));
      },
      onClose: (event) => gone(event.code),
      // A protocol error (too large, bad UTF-8): `ws` sends the close itself, with this code.
      onError: (event) => gone(event instanceof ProtocolErrorEvent ? event.closeCode : undefined),
    };
  });

  return async (c, next) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket" || !isUpgradeRequest(c)) {
      return refuse(
        c,
        426,
        "invalid",
        "GET /ws expects a WebSocket upgrade (Upgrade: websocket, Connection: Upgrade)",
      );
    }
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    const version = c.req.header("sec-websocket-version");
    // Checked here rather than left to `ws`, so that the client gets a JSON reason.
    if (!KEY_PATTERN.test(c.req.header("sec-websocket-key") ?? "")) {
      return refuse(c, 400, "invalid", "missing or malformed Sec-WebSocket-Key");
    }
    if (version !== "13" && version !== "8") {
      c.header("Sec-WebSocket-Version", "13, 8");
      return refuse(c, 400, "invalid", "Sec-WebSocket-Version must be 13");
    }
    if (!incoming || !incoming.socket.readable || !incoming.socket.writable) {
      return refuse(c, 400, "invalid", "the connection closed during the upgrade");
    }
    const address = clientAddress(c);
    if (!originAllowed(c.req.header("origin"), c.req.header("host"), allowed)) {
      security.record({ event: "upgrade_refused", address, outcome: "refused", detail: "origin" });
      return refuse(c, 403, "forbidden", "this Origin may not open a socket here");
    }
    if (hub.isShuttingDown()) {
      return refuse(c, 503, "shutting_down", "the server is shutting down; try again later");
    }
    const admitted = deps.admission.admit(addressKey(address));
    if (!admitted.ok) {
      security.record({
        event: "upgrade_refused",
        address,
        outcome: "limited",
        detail: String(admitted.status),
      });
      return refuse(
        c,
        admitted.status,
        "rate_limited",
        admitted.message,
        admitted.retryAfterSeconds,
      );
    }
    // Released when the socket is welcomed or closes, whether or not the upgrade completes.
    incoming.socket.once("close", () => admitted.ticket.release());
    tickets.set(incoming, admitted.ticket);
    return await upgrade(c, next);
  };
}
