/**
 * The login limits of {@link Accounts}: failures per (username, address) and
 * per address, password checks per address in the hash queue, and the
 * growing wait per username. Re-exported by auth/accounts.ts.
 *
 * @module
 */

/** Failed logins allowed per (username, client address) within {@link LOGIN_WINDOW_MS}. */
export const FAILURES_PER_PAIR = 5;
/**
 * Failed logins allowed per client address (IPv6 by /64), all usernames
 * together, within {@link LOGIN_WINDOW_MS}: room for a whole office behind one
 * NAT mistyping, while one address cannot spray a password over every account.
 */
export const FAILURES_PER_ADDRESS = 100;
/**
 * Password checks one address may have in the hash queue at once; the others wait their turn
 * here, so that one address can never fill the queue that everyone's logins share.
 */
export const CHECKS_PER_ADDRESS = 8;
/** Failures of a username, from anywhere, after which every attempt waits first. */
export const USERNAME_DELAY_AFTER = 5;
/** First wait once a username passed {@link USERNAME_DELAY_AFTER} failures, ms; it doubles. */
export const USERNAME_DELAY_BASE_MS = 1000;
/** Longest wait before an attempt on a username is checked, ms. */
export const USERNAME_DELAY_MAX_MS = 30_000;
/** Window over which login failures count, ms. */
export const LOGIN_WINDOW_MS = 15 * 60_000;
