/**
 * `GET /admin/inspect` (PROTOCOL.md 5.5; decisions in docs/protocol.md,
 * "Inspection stream (5.5)"): the inspection stream as a WebSocket, on the
 * main port for admins, and on the local admin socket with no credentials.
 *
 * On the main port: `Authorization: Bearer T` at the upgrade, or, without
 * it (browsers cannot set headers), a first frame `{"type":"auth","token":T}`
 * within {@link INSPECT_AUTH_MS}. Not authenticated: close 4401; not an
 * admin: close 4403; {@link INSPECT_WATCHERS_MAX} watchers already: 1013.
 * The stream itself is runtime/inspection.ts.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import type { IncomingMessage } from "node:http";
// @ts-types="@types/ws"
import type { WebSocket as NodeWs } from "ws";
import { CLOSE } from "../actors/session.ts";
import type { Accounts } from "../auth/accounts.ts";
import { bearerToken } from "../auth/tokens.ts";
import { addressKey } from "../lib/address.ts";
import { INSPECT_WATCHERS_MAX, type Inspection, type Watcher } from "../runtime/inspection.ts";
import type { InspectSocket } from "../runtime/inspection_watcher.ts";
import { clientAddress } from "./body.ts";
import { Heartbeat } from "./heartbeat.ts";
import { isUpgradeRequest } from "./node_ws.ts";
import { originAllowed, type WsDeps, type WsOptions } from "./ws.ts";

/** Time allowed for the `auth` frame of a socket opened without a bearer header, ms. */
export const INSPECT_AUTH_MS = 10_000;

/** Longest token accepted in an `auth` frame, characters. */
const TOKEN_MAX = 512;

/** Close code when every watcher slot is taken ("try again later"). */
export const CLOSE_TRY_LATER = 1013;

/** The token of a first frame `{"type":"auth","token":T}`, or undefined when it is not one. */
export function authFrameToken(data: unknown): string | undefined {
  if (typeof data !== "string" || data.length > TOKEN_MAX + 64) return undefined;
  let frame: unknown;
  try {
    frame = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof frame !== "object" || frame === null || Array.isArray(frame)) return undefined;
  const { type, token } = frame as Record<string, unknown>;
  if (type !== "auth" || typeof token !== "string") return undefined;
  if (token.length === 0 || token.length > TOKEN_MAX) return undefined;
  return token;
}

/** A `ws` socket as the inspection hub writes to it: each flush in one corked write. */
function nodeInspectSocket(ws: NodeWs): InspectSocket {
  return {
    sendAll(frames) {
      if (ws.readyState !== ws.OPEN) return;
      const socket = (ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
      socket?.cork();
      try {
        for (const frame of frames) ws.send(frame);
      } finally {
        socket?.uncork();
      }
    },
    bufferedAmount: () => ws.bufferedAmount,
    close: (code, reason) => ws.close(code, reason),
  };
}

/** Starts a watcher on `socket`, or closes it with 1013 when every slot is taken. */
function startWatching(inspection: Inspection, socket: InspectSocket): Watcher | undefined {
  const watcher = inspection.watch(socket);
  if (!watcher) {
    socket.close(
      CLOSE_TRY_LATER,
      `too many inspection watchers (${INSPECT_WATCHERS_MAX}); try again later`,
    );
  }
  return watcher;
}

/** `GET /admin/inspect` on the main port (admins; bearer header or `auth` frame). */
export function inspectRoute(
  inspection: Inspection,
  accounts: Accounts,
  deps: WsDeps,
  opts: WsOptions = {},
): MiddlewareHandler {
  const allowed = (opts.allowedOrigins ?? []).map((o) => new URL(o).origin);
  const heartbeat = new Heartbeat((opts.idleTimeoutSeconds ?? 30) * 1000);
  const { clock } = inspection;
  /** Admission tickets of upgrades under way, by request (released once authenticated). */
  const tickets = new WeakMap<IncomingMessage, { release(): void }>();

  const upgrade = deps.webSockets.upgradeWebSocket((c: Context) => {
    const headerToken = c.req.header("authorization") === undefined
      ? undefined
      : bearerToken(c.req.header("authorization")) ?? "";
    const incoming = (c.env as { incoming: IncomingMessage }).incoming;
    const ticket = tickets.get(incoming) ?? { release() {} };
    tickets.delete(incoming);
    let raw: NodeWs | undefined;
    let socket: InspectSocket | undefined;
    let watcher: Watcher | undefined;
    let deadline: unknown;
    /** `waiting` for the auth frame, `checking` the token, `open` (watching or closed). */
    let phase: "waiting" | "checking" | "done" = "waiting";

    const refuse = (code: number, reason: string) => {
      phase = "done";
      clock.clearTimeout(deadline);
      ticket.release();
      socket?.close(code, reason);
    };
    const authenticate = async (token: string) => {
      phase = "checking";
      clock.clearTimeout(deadline);
      let role: string;
      try {
        role = (await accounts.authenticate(token)).role;
      } catch {
        return refuse(CLOSE.unauthenticated, "unknown or expired token; log in again");
      }
      if (phase !== "checking" || !socket) return;
      if (role !== "admin") {
        return refuse(CLOSE.banned, "the inspection stream is for admins only");
      }
      phase = "done";
      ticket.release();
      watcher = startWatching(inspection, socket);
    };

    return {
      onOpen(_event, ws) {
        raw = ws.raw as NodeWs;
        heartbeat.track(raw);
        socket = nodeInspectSocket(raw);
        if (headerToken !== undefined) {
          if (headerToken === "") {
            return refuse(CLOSE.unauthenticated, "malformed Authorization header; use Bearer T");
          }
          void authenticate(headerToken);
          return;
        }
        deadline = clock.setTimeout(() => {
          if (phase === "waiting") {
            refuse(
              CLOSE.unauthenticated,
              `no auth frame within ${
                INSPECT_AUTH_MS / 1000
              } s; send {"type":"auth","token":"..."}`,
            );
          }
        }, INSPECT_AUTH_MS);
      },
      onMessage(event) {
        if (raw) heartbeat.heard(raw);
        // Frames after the first are ignored: the stream takes no requests.
        if (phase !== "waiting") return;
        const token = authFrameToken(event.data);
        if (token === undefined) {
          return refuse(
            CLOSE.unauthenticated,
            'the first frame must be {"type":"auth","token":"..."} with an admin token',
          );
        }
        void authenticate(token);
      },
      onClose() {
        phase = "done";
        clock.clearTimeout(deadline);
        ticket.release();
        watcher?.stop();
      },
      onError() {
        phase = "done";
        clock.clearTimeout(deadline);
        ticket.release();
        watcher?.stop();
      },
    };
  });

  return async (c, next) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket" || !isUpgradeRequest(c)) {
      return c.json({
        error: {
          code: "invalid",
          message: "GET /admin/inspect expects a WebSocket upgrade (Upgrade: websocket)",
        },
      }, 426);
    }
    if (!originAllowed(c.req.header("origin"), c.req.header("host"), allowed)) {
      return c.json({
        error: { code: "forbidden", message: "this Origin may not open a socket here" },
      }, 403);
    }
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    if (!incoming) return c.json({ error: { code: "invalid", message: "no connection" } }, 400);
    // Sockets waiting for their auth frame count like sockets waiting for their hello.
    const admitted = deps.admission.admit(addressKey(clientAddress(c)));
    if (!admitted.ok) {
      c.header("Retry-After", String(admitted.retryAfterSeconds));
      return c.json(
        { error: { code: "rate_limited", message: admitted.message } },
        admitted.status,
      );
    }
    incoming.socket.once("close", () => admitted.ticket.release());
    tickets.set(incoming, admitted.ticket);
    return await upgrade(c, next);
  };
}

/** A Deno WebSocket (the admin socket's server) as the inspection hub writes to it. */
function denoInspectSocket(ws: WebSocket): InspectSocket {
  return {
    sendAll(frames) {
      if (ws.readyState !== WebSocket.OPEN) return;
      for (const frame of frames) ws.send(frame);
    },
    bufferedAmount: () => ws.bufferedAmount,
    close: (code, reason) => ws.close(code, reason),
  };
}

/**
 * `GET /admin/inspect` on the admin socket: whoever can open the socket file
 * is admin, so the stream starts at once. Frames from the watcher are ignored.
 */
export function inspectSocketRoute(inspection: Inspection): MiddlewareHandler {
  return (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      return Promise.resolve(c.json({
        error: {
          code: "invalid",
          message: "GET /admin/inspect expects a WebSocket upgrade (Upgrade: websocket)",
        },
      }, 426));
    }
    const { socket, response } = Deno.upgradeWebSocket(c.req.raw, { idleTimeout: 30 });
    let watcher: Watcher | undefined;
    socket.onopen = () => {
      watcher = startWatching(inspection, denoInspectSocket(socket));
    };
    socket.onclose = () => watcher?.stop();
    socket.onerror = () => watcher?.stop();
    return Promise.resolve(response);
  };
}
