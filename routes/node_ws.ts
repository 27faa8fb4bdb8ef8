/**
 * WebSocket upgrades on `node:http`, decided by Hono: the `upgrade` event of
 * the server runs the Hono app; a route that calls {@link
 * WebSocketSupport.upgradeWebSocket} accepts, and the socket is handed to
 * `ws`; any other answer (403, 429 with `Retry-After`, 503, each with its
 * JSON body) is written to the socket as is.
 *
 * `ws` refuses a message larger than `maxPayload` from its frame header,
 * fragmented messages included, before buffering it (close 1009).
 *
 * This plays the part of `@hono/node-ws`, which writes a refused upgrade as a
 * bare status line (no body, no `Retry-After`), keeps a pending entry forever
 * when `ws` aborts a handshake, and has no `maxPayload` option.
 *
 * @module
 */

import type { Context, Hono } from "hono";
import { defineWebSocketHelper, type UpgradeWebSocket, type WSEvents } from "hono/ws";
import { WSContext } from "hono/ws";
import type { IncomingMessage, Server } from "node:http";
import { STATUS_CODES } from "node:http";
import type { Buffer } from "node:buffer";
import type { Duplex } from "node:stream";
// @ts-types="@types/ws"
import { type WebSocket, WebSocketServer } from "ws";

/** Where an accepting route leaves its events for the `upgrade` handler. */
const ACCEPTED = Symbol("websocket accepted");

/** Set on the env of requests that came through the server's `upgrade` event. */
const VIA_UPGRADE = Symbol("via the upgrade event");

type UpgradeEnv = {
  incoming: IncomingMessage;
  outgoing: undefined;
  [ACCEPTED]?: WSEvents<WebSocket>;
  [VIA_UPGRADE]?: true;
};

/**
 * Whether the request came through the server's `upgrade` event (with
 * `Connection: Upgrade`): only those can become WebSockets. A `GET /ws` with
 * `Upgrade: websocket` but no `Connection: Upgrade` is an ordinary request.
 */
export function isUpgradeRequest(c: Context): boolean {
  return (c.env as UpgradeEnv | undefined)?.[VIA_UPGRADE] === true;
}

/** Whether a socket's frames are being dropped unread (its session is past its budget). */
export interface ReadGate {
  /** True while frames are dropped. */
  closed(): boolean;
  /** A frame was dropped. */
  dropped(): void;
}

const gates = new WeakMap<WebSocket, ReadGate>();

/**
 * Drops the frames of `ws` while `gate.closed()`, before they are decoded or
 * wrapped in an event: under a flood, a dropped frame costs no allocation.
 */
export function setReadGate(ws: WebSocket, gate: ReadGate): void {
  gates.set(ws, gate);
}

/** The upgrade helper for routes, and the hook for the server. */
export interface WebSocketSupport {
  /** Hono's `upgradeWebSocket`, for `node:http`. */
  upgradeWebSocket: UpgradeWebSocket<WebSocket>;
  /** Serves upgrades of `server` with `app`. */
  attach(server: Server, app: Hono): void;
}

/** Upgrade support whose messages are at most `maxPayload` bytes. */
export function createWebSocketSupport(opts: { maxPayload: number }): WebSocketSupport {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: opts.maxPayload,
    perMessageDeflate: false,
    clientTracking: false,
  });

  const upgradeWebSocket = defineWebSocketHelper<WebSocket>((c: Context, events) => {
    const env = c.env as UpgradeEnv | undefined;
    if (!env?.[VIA_UPGRADE]) return;
    env[ACCEPTED] = events;
    return new Response(null, { status: 200 });
  }) as UpgradeWebSocket<WebSocket>;

  return {
    upgradeWebSocket,
    attach(server, app) {
      server.on("upgrade", async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        socket.on("error", () => socket.destroy());
        const env: UpgradeEnv = { incoming: req, outgoing: undefined, [VIA_UPGRADE]: true };
        let response: Response;
        try {
          response = await app.request(urlOf(req), { headers: headersOf(req) }, env);
        } catch {
          socket.destroy();
          return;
        }
        const events = env[ACCEPTED];
        if (!events) {
          await writeResponse(socket, response);
          return;
        }
        await response.body?.cancel();
        wss.handleUpgrade(req, socket, head, (ws) => open(ws, req, events));
      });
    },
  };
}

function urlOf(req: IncomingMessage): URL {
  return new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`);
}

function headersOf(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    try {
      headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
    } catch { /* a header value fetch refuses: dropped */ }
  }
  return headers;
}

/** Writes a refusal (status, headers, body) to a socket that wanted an upgrade, then ends it. */
async function writeResponse(socket: Duplex, response: Response): Promise<void> {
  const body = new Uint8Array(await response.arrayBuffer());
  let head = `HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? ""}\r\n`;
  response.headers.forEach((value, name) => {
    if (name !== "content-length" && name !== "connection") head += `${name}: ${value}\r\n`;
  });
  head += `content-length: ${body.byteLength}\r\nconnection: close\r\n\r\n`;
  if (!socket.writable) return void socket.destroy();
  socket.write(head);
  // The HTTP server no longer watches a socket handed to `upgrade`: close it ourselves once the
  // answer is out (or after a second if the peer does not read it), or it would stay half-open.
  const cut = setTimeout(() => socket.destroy(), 1000);
  socket.once("close", () => clearTimeout(cut));
  socket.end(body, () => socket.destroy());
}

function open(ws: WebSocket, req: IncomingMessage, events: WSEvents<WebSocket>): void {
  const ctx = new WSContext<WebSocket>({
    raw: ws,
    url: urlOf(req),
    protocol: ws.protocol,
    get readyState() {
      return ws.readyState as 0 | 1 | 2 | 3;
    },
    send: (data) => ws.send(data),
    close: (code, reason) => ws.close(code, reason),
  });
  ws.on("message", (data, isBinary) => {
    const gate = gates.get(ws);
    if (gate?.closed()) return gate.dropped();
    // The server's binaryType is "nodebuffer": one Buffer per message.
    const bytes = data as Buffer;
    const payload = isBinary
      ? bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
      : bytes.toString("utf8");
    events.onMessage?.(new MessageEvent("message", { data: payload }), ctx);
  });
  ws.on("close", (code, reason) => {
    events.onClose?.(new CloseEvent("close", { code, reason: reason.toString() }), ctx);
  });
  ws.on("error", (error: Error) => {
    // A protocol error (a message over maxPayload, bad UTF-8): `ws` has queued its close frame and
    // would read and discard whatever the peer sends for 30 s more; cut it after a second.
    const cut = setTimeout(() => ws.terminate(), 1000);
    ws.once("close", () => clearTimeout(cut));
    events.onError?.(new ProtocolErrorEvent(closeCodeOf(error)), ctx);
  });
  events.onOpen?.(new Event("open"), ctx);
}

/**
 * The `error` event of a socket that `ws` closed for a protocol error: the
 * close code it sent (1009 too large, 1007 bad UTF-8, 1002 otherwise), which
 * the socket's own `close` event cannot tell (the peer never answers it).
 */
export class ProtocolErrorEvent extends Event {
  /** The close code `ws` sent, when it said. */
  readonly closeCode: number | undefined;

  /** An `error` event carrying `closeCode`. */
  constructor(closeCode: number | undefined) {
    super("error");
    this.closeCode = closeCode;
  }
}

/** The close code `ws` attached to a receiver error (its `status-code` symbol), if any. */
function closeCodeOf(error: Error): number | undefined {
  for (const key of Object.getOwnPropertySymbols(error)) {
    if (key.description === "status-code") {
      const code = (error as unknown as Record<symbol, unknown>)[key];
      return typeof code === "number" ? code : undefined;
    }
  }
  return undefined;
}
