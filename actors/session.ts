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
  /**
   * SHA-256 hex of the token that opened the session (absent for stand-ins in
   * tests): a logout closes the sessions of its token, a password change those
   * of the other tokens.
   */
  readonly tokenHash?: string;
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
  /**
   * Handshake failed (bad credentials, invalid hello, no hello in time), or
   * the session's credentials were revoked (logout, password change).
   */
  unauthenticated: 4401,
  /** Kicked or banned. */
  banned: 4403,
  /** Replaced by a newer session of the same user (session limit). */
  replaced: 4409,
} as const;

/**
 * Which sessions of a user lose their credentials, and why: a logout (the
 * sessions of one token), a logout everywhere (all of them) or a password
 * change (all but the sessions of the token that made the change).
 */
export interface SessionRevocation {
  /** The user. */
  userId: number;
  /** Only the sessions opened with this token hash. */
  only?: string;
  /** Every session but those opened with this token hash. */
  except?: string;
  /** Close reason sent to the client (code 4401). */
  reason: string;
}

/** Whether `revocation` closes a session opened with `tokenHash` by `userId`. */
export function revokes(
  revocation: SessionRevocation,
  userId: number,
  tokenHash: string | undefined,
): boolean {
  if (revocation.userId !== userId) return false;
  if (revocation.only !== undefined && revocation.only !== tokenHash) return false;
  if (revocation.except !== undefined && revocation.except === tokenHash) return false;
  return true;
}
