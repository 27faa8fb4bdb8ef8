/**
 * The attacks of the "pong under attack" scenario and what the attacker
 * reports (the attacker itself is the Worker in bench/loadgen/attacker.ts;
 * this module has no side effects, so that the orchestrator can import it).
 *
 * @module
 */

/** The attacks, in the order the scenario runs them. */
export const ATTACKS = [
  "flood",
  "joinLeave",
  "history",
  "reconnect",
  "wrongPassword",
  "register",
  "idleSockets",
  "oversized",
] as const;

/** One of {@link ATTACKS}. */
export type AttackName = typeof ATTACKS[number];

/** The attacker's account. */
export interface AttackerUser {
  /** Username. */
  username: string;
  /** Session token (token hellos). */
  token: string;
}

/** What the attacker saw during one attack. */
export interface AttackReport {
  /** Which attack. */
  attack: AttackName;
  /** How long it ran, ms. */
  ms: number;
  /** WebSocket upgrades answered 101. */
  connected: number;
  /** Upgrades refused, by HTTP status (or `error` when the TCP connect failed). */
  refused: Record<string, number>;
  /** Sessions welcomed. */
  welcomed: number;
  /** Frames sent. */
  framesSent: number;
  /** Bytes sent (frames and HTTP requests). */
  bytesSent: number;
  /** Frames received, by type (errors by `error:code`). */
  received: Record<string, number>;
  /** Server closes, by close code (`dropped`: TCP closed without a close frame). */
  closes: Record<string, number>;
  /** HTTP answers, by status (`/api` attacks). */
  http: Record<string, number>;
  /** Attack-specific figures. */
  extra: Record<string, number | string>;
}
