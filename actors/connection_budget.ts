/**
 * The arithmetic of a session's request budget and of flood detection, for
 * the connection machine's named guards and actions. Pure.
 *
 * @module
 */

import { tokensAt } from "../lib/token_bucket.ts";
import type { ConnectionContext } from "./connection_types.ts";

/** Refused frames this far apart or more start a new run (not a flood). */
export const FLOOD_GAP_MS = 1000;

/** The session's request tokens at `now`. */
export function requestTokens(context: ConnectionContext, now: number): number {
  const rate = { burst: context.limits.requestBurst, perSecond: context.limits.requestPerSecond };
  return tokensAt(rate, context.requests, now);
}

/**
 * The budget after a frame accepted at `now`: one token spent. A stay past the
 * budget ends only once a whole {@link FLOOD_GAP_MS} has passed without a
 * refusal: a flooder whose reading is paused gets a frame through after each
 * pause, and that must not reset its stay.
 */
export function spentRequest(
  context: ConnectionContext,
  now: number,
): Pick<ConnectionContext, "requests" | "overBudgetSince"> {
  const stillPast = context.overBudgetSince !== undefined &&
    now - context.lastRefusal < FLOOD_GAP_MS;
  return {
    requests: { tokens: requestTokens(context, now) - 1, at: now },
    overBudgetSince: stillPast ? context.overBudgetSince : undefined,
  };
}

/**
 * The budget after a frame refused at `now` for lack of budget: it costs a
 * token too (down to `-requestBurst`), and the stay past the budget starts
 * (or goes on).
 */
export function overBudget(
  context: ConnectionContext,
  now: number,
): Pick<ConnectionContext, "requests" | "overBudgetSince"> {
  const tokens = Math.max(-context.limits.requestBurst, requestTokens(context, now) - 1);
  return { requests: { tokens, at: now }, overBudgetSince: context.overBudgetSince ?? now };
}

/** The run of refused frames after a refusal at `now` (a quiet gap starts a new run). */
export function refusalRun(
  context: ConnectionContext,
  now: number,
): Pick<ConnectionContext, "refusedSince" | "lastRefusal"> {
  const newRun = context.refusedSince === undefined ||
    now - context.lastRefusal >= FLOOD_GAP_MS;
  return { refusedSince: newRun ? now : context.refusedSince, lastRefusal: now };
}

/** Longest pause of a peer past its budget, ms. */
export const MAX_PAUSE_MS = 2000;

/**
 * How long to stop reading from a session past its budget, at `now`: until its
 * budget holds a token again (at least one refill step, at most {@link MAX_PAUSE_MS}).
 */
export function pauseMs(context: ConnectionContext, now: number): number {
  const missing = 1 - requestTokens(context, now);
  const ms = Math.ceil(missing * 1000 / context.limits.requestPerSecond);
  return Math.min(MAX_PAUSE_MS, Math.max(Math.ceil(1000 / context.limits.requestPerSecond), ms));
}

/** Whether the session has stayed past its request budget for the flood period at `now`. */
function overBudgetTooLong(context: ConnectionContext, now: number): boolean {
  return context.overBudgetSince !== undefined &&
    now - context.overBudgetSince >= context.limits.floodMs;
}

/**
 * Whether frames have kept being refused for the flood period, or the
 * session has stayed past its request budget that long (at `now`).
 */
export function floodTooLong(context: ConnectionContext, now: number): boolean {
  return (context.refusedSince !== undefined &&
    context.lastRefusal - context.refusedSince >= context.limits.floodMs) ||
    overBudgetTooLong(context, now);
}
