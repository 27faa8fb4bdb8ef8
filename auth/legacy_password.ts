/**
 * Passwords imported from the original server (issue 13). Its
 * `password_hash` was the unsalted hex SHA-256 of the UTF-8 password; the
 * import stores it in `users.password_hash` as `$legacy-sha256$<64 hex>`, and
 * the first successful login replaces it with argon2id (auth/accounts.ts).
 * Rows whose hash was a placeholder (`hashed_admin_password`) or that were
 * the original `admin`/`server` accounts get {@link LOCKED_HASH}: nothing
 * verifies against it until an admin sets a password
 * (`deno task admin user password USER`).
 *
 * A legacy hash never leaves the database: it is compared here and nowhere
 * else, and no answer, log line or export carries `password_hash`.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";

/** Prefix of a stored legacy hash. */
export const LEGACY_PREFIX = "$legacy-sha256$";

/** The stored hash of an imported account that cannot log in until an admin resets it. */
export const LOCKED_HASH = "!locked-legacy";

const HEX64 = /^[0-9a-fA-F]{64}$/;

/** Whether an original `password_hash` is a real SHA-256 (64 hex digits) rather than a placeholder. */
export function isLegacySha256(originalHash: string): boolean {
  return HEX64.test(originalHash);
}

/** What to store for an original `password_hash`: the legacy form, or {@link LOCKED_HASH}. */
export function storedLegacyHash(originalHash: string): string {
  return isLegacySha256(originalHash) ? LEGACY_PREFIX + originalHash.toLowerCase() : LOCKED_HASH;
}

/** Whether a stored hash is a legacy one waiting for its first login. */
export function isLegacyHash(stored: string): boolean {
  return stored.startsWith(LEGACY_PREFIX) && HEX64.test(stored.slice(LEGACY_PREFIX.length));
}

/** Whether a stored hash is the lock of an imported account. */
export function isLockedHash(stored: string): boolean {
  return stored === LOCKED_HASH;
}

/**
 * Whether `password` matches a stored legacy hash: SHA-256 of its UTF-8
 * bytes compared in constant time (`timingSafeEqual` on two 32-byte buffers).
 */
export function verifyLegacy(stored: string, password: string): boolean {
  if (!isLegacyHash(stored)) return false;
  const expected = Buffer.from(stored.slice(LEGACY_PREFIX.length), "hex");
  const actual = createHash("sha256").update(password, "utf8").digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
