/**
 * Reconnect delays: exponential backoff with jitter, so that a thousand
 * clients dropped by one restart do not come back in the same second.
 *
 * @module
 */

/** Backoff settings. */
export interface BackoffOptions {
  /** First delay's ceiling, ms (default 1000). */
  baseMs?: number;
  /** Largest delay, ms (default 30000). */
  capMs?: number;
}

/**
 * The delay before reconnect attempt `attempt` (0 for the first): the
 * ceiling `min(cap, base * 2^attempt)`, of which the upper half is random
 * ("equal jitter": never zero, never more than the ceiling).
 */
export function backoffDelay(attempt: number, random: number, opts: BackoffOptions = {}): number {
  const base = opts.baseMs ?? 1000;
  const cap = opts.capMs ?? 30_000;
  const ceiling = Math.min(cap, base * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random * (ceiling / 2));
}
