/**
 * The live connection actors: one per socket, started in the server's actor
 * system, kept in a registry (not in the server's snapshot), and drained at
 * shutdown.
 *
 * @module
 */

import type { Actor } from "xstate";
import type { ConnectionEvent, connectionMachine } from "../actors/connection.ts";
import { startConnection } from "../actors/server.ts";
import { CLOSE } from "../actors/session.ts";
import { errorEvent } from "../protocol/events.ts";
import type { ParsedFrame } from "../protocol/frames.ts";
import type { HubContext } from "./hub_context.ts";

/** Longest wait for the sockets' close handshakes when stopping, ms. */
export const CLOSE_WAIT_MS = 3000;

/** The socket of a connection, as the transport hands it to the hub. */
export interface HubSocket {
  /** Sends one text frame. */
  send(frame: string): void;
  /** Closes with a code and a reason. */
  close(code: number, reason: string): void;
}

/** One socket as the hub sees it. */
export interface ConnectionHandle {
  /** The connection actor's id. */
  readonly id: string;
  /**
   * Hands a parsed (or refused) frame to the connection actor, with the
   * frame's size in bytes (when left out, the size of what the actor keeps
   * of it is used).
   */
  receive(parsed: ParsedFrame, bytes?: number): void;
  /** A frame read while the session was paused (past its budget), dropped unparsed. */
  dropped(): void;
  /** The socket closed, with this close code when known (logged). */
  closed(code?: number): void;
}

/** The registry of live connection actors. */
export interface Connections {
  /** A new socket from `address`; `onWelcome` is told when its session starts. */
  connect(
    socket: HubSocket,
    address: string,
    opts?: { onWelcome?: () => void },
  ): ConnectionHandle;
  /** The session of connection `id` (of user `username`) started: tells its `onWelcome`, once. */
  welcomed(id: string, username?: string): void;
  /**
   * Stops taking frames, commits what is queued, closes every socket with
   * 1001, then waits (at most `CLOSE_WAIT_MS`) for the close handshakes, so
   * that the close frames are on the wire before the process exits.
   */
  drainAndClose(reason: string): Promise<void>;
  /** The live connection actors. */
  actors(): Iterable<Actor<typeof connectionMachine>>;
  /** Ends the actors (and timers) of connections whose peers never answered the close. */
  endAll(): void;
}

const encoder = new TextEncoder();

/** Bytes of `text` in UTF-8. */
function utf8Length(text: string): number {
  return encoder.encode(text).byteLength;
}

/** An empty registry over the hub's server actor and writer. */
export function createConnections(ctx: HubContext): Connections {
  /** Told when a connection's session starts, by connection id (until then or its end). */
  const onWelcome = new Map<string, () => void>();
  /** Live connection actors by id; each leaves when it ends. */
  const connections = new Map<string, Actor<typeof connectionMachine>>();
  /** Told when the last connection actor has ended. */
  let onConnectionsGone: (() => void) | undefined;
  let draining = false;
  let counter = 0;
  /** Open sockets, for their `connection_closed` log line: when each opened, whose it is. */
  const opened = new Map<string, { at: number; user?: string }>();
  const logOpened = (id: string, address: string) => {
    opened.set(id, { at: ctx.now() });
    ctx.log.info("connection opened", { event: "connection_opened", conn: id, address });
  };
  const logClosed = (id: string, code: number | undefined) => {
    const open = opened.get(id);
    if (!open) return;
    opened.delete(id);
    ctx.log.info("connection closed", {
      event: "connection_closed",
      conn: id,
      ...(open.user === undefined ? {} : { user: open.user }),
      ...(code === undefined ? {} : { code }),
      duration_ms: ctx.now() - open.at,
    });
  };
  const forgetConnection = (id: string) => {
    connections.delete(id);
    onWelcome.delete(id);
    if (connections.size === 0) onConnectionsGone?.();
  };

  return {
    connect(socket, address, connectOpts) {
      const id = `conn:${++counter}`;
      logOpened(id, address);
      if (draining || ctx.lifecycle() === "stopped") {
        socket.close(CLOSE.goingAway, "the server is stopping; reconnect in a moment");
        logClosed(id, CLOSE.goingAway);
        return { id, receive() {}, dropped() {}, closed() {} };
      }
      const actor = startConnection(ctx.server(), { id, socket, address });
      if (actor.getSnapshot().status === "active") {
        connections.set(id, actor);
        if (connectOpts?.onWelcome) onWelcome.set(id, connectOpts.onWelcome);
        actor.subscribe({
          complete: () => forgetConnection(id),
          // The failure itself reaches the server's recovery (its parent) as an event.
          error: () => forgetConnection(id),
        });
      }
      const ref = () => connections.get(id);
      return {
        id,
        receive(parsed, bytes) {
          const actor = ref();
          if (!actor) return;
          if (draining) {
            const r = parsed.ok ? parsed.frame.ref : parsed.ref;
            socket.send(
              errorEvent("shutting_down", "the server is stopping; nothing more is taken", r),
            );
            return;
          }
          const size = bytes ?? utf8Length(JSON.stringify(parsed.ok ? parsed.frame : parsed));
          const event: ConnectionEvent = parsed.ok
            ? { type: "FRAME", frame: parsed.frame, bytes: size }
            : {
              type: "BAD_FRAME",
              ref: parsed.ref,
              frameType: parsed.type,
              message: parsed.message,
              bytes: size,
            };
          actor.send(event);
        },
        dropped() {
          ref()?.send({ type: "DROPPED" });
        },
        closed(code) {
          logClosed(id, code);
          ref()?.send({ type: "SOCKET_CLOSED" });
        },
      };
    },
    welcomed(id, username) {
      const open = opened.get(id);
      if (open && username !== undefined) open.user = username;
      const welcomed = onWelcome.get(id);
      onWelcome.delete(id);
      welcomed?.();
    },
    async drainAndClose(reason) {
      draining = true;
      await ctx.writer.close();
      for (const actor of connections.values()) {
        actor.getSnapshot().context.socket.close(CLOSE.goingAway, reason);
      }
      if (connections.size === 0) return;
      const done = Promise.withResolvers<void>();
      onConnectionsGone = done.resolve;
      const timer = setTimeout(done.resolve, CLOSE_WAIT_MS);
      await done.promise;
      clearTimeout(timer);
      onConnectionsGone = undefined;
    },
    actors: () => connections.values(),
    endAll() {
      for (const actor of [...connections.values()]) actor.send({ type: "SOCKET_CLOSED" });
    },
  };
}
