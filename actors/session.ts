/**
 * What the machines know of one authenticated WebSocket session: who it is,
 * and how to write to it. Writing is the socket's business (routes/ws.ts);
 * the machines only call these functions.
 *
 * @module
 */

import type { UserSummary } from "../store/store.ts";

/** An authenticated session, as passed between actors. */
export interface Session {
  /** The connection actor's id (also its system id), unique in the process. */
  readonly id: string;
  /** The user. */
  readonly user: UserSummary;
  /** Sends one text frame; never throws (a dead or slow socket is closed instead). */
  send(frame: string): void;
  /** Closes the socket with a WebSocket close code and reason. */
  close(code: number, reason: string): void;
  /**
   * Bytes sent but not yet written to the network (absent: always 0). Presence
   * waits while this is high, rather than piling up in the socket's buffer.
   */
  unsent?(): number;
}

/** WebSocket close codes used by the server. */
export const CLOSE = {
  /** Server going away (shutdown, idle peer). */
  goingAway: 1001,
  /** Policy violation: flood, slow consumer. */
  policy: 1008,
  /** Frame too large. */
  tooBig: 1009,
  /** Handshake failed: bad credentials, invalid hello, no hello in time. */
  unauthenticated: 4401,
  /** Kicked or banned. */
  banned: 4403,
  /** Replaced by a newer session of the same user (session limit). */
  replaced: 4409,
} as const;
