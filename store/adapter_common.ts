/**
 * What both adapters decide alike, apart from their SQL: when a session token
 * has expired or its use is worth recording, how many older tokens a new one
 * leaves, the record of a new account, which sanctions a lift is about, and
 * the outcome of a ban. Row-to-record conversions are in `rows.ts`.
 *
 * @module
 */

import type { NewUser, SanctionRecord, SessionLookup, UserRecord } from "./store.ts";

/**
 * A token's last use is written at most this often: each write is a synced
 * transaction, and a 30-day expiry needs no finer clock.
 */
export const TOKEN_TOUCH_MS = 60 * 60 * 1000;

/**
 * What a lookup does with a token last used at `lastUsed`: `expired` (delete
 * it, nobody is signed in), `touch` (record this use) or `fresh` (nothing to
 * write).
 */
export function sessionUse(lastUsed: number, opts: SessionLookup): "expired" | "touch" | "fresh" {
  if (opts.now - lastUsed > opts.maxIdleMs) return "expired";
  if (opts.now - lastUsed >= TOKEN_TOUCH_MS) return "touch";
  return "fresh";
}

/** How many of a user's existing tokens a new one leaves (the most recently used). */
export function keptTokens(maxPerUser: number): number {
  return Math.max(0, maxPerUser - 1);
}

/** The record of the account just created from `user` with id `id`. */
export function newUserRecord(user: NewUser, id: number, now: number): UserRecord {
  return {
    id,
    username: user.username,
    alias: user.alias,
    role: user.role,
    passwordHash: user.passwordHash,
    createdAt: now,
  };
}

/**
 * The condition a lift adds for `ids` (one `?` per id, appended to the
 * parameters by the caller): empty when every sanction is lifted, `undefined`
 * when `ids` is an empty list (nothing to lift).
 */
export function liftFilter(ids: readonly number[] | undefined): string | undefined {
  if (ids === undefined) return "";
  if (ids.length === 0) return undefined;
  return ` AND id IN (${placeholders(ids.length)})`;
}

/** `?, ?, ?`: one bound parameter per value of a list of `n`. */
export function placeholders(n: number): string {
  return Array.from({ length: n }, () => "?").join(", ");
}

/** What {@link import("./store.ts").Store.ban} returns, from the new sanction's id. */
export function banOutcome(
  sanction: Omit<SanctionRecord, "id" | "kind" | "until">,
  id: number,
  withdrawnSalonIds: number[],
): { sanction: SanctionRecord; withdrawnSalonIds: number[] } {
  return { sanction: { ...sanction, id, kind: "ban", until: null }, withdrawnSalonIds };
}
