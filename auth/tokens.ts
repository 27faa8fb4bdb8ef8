/**
 * Session tokens: 256 random bits, base64url, shown to the client once and
 * stored only as their SHA-256 digest.
 *
 * @module
 */

import { createHash, randomBytes } from "node:crypto";

/** A token is forgotten after this long without use: 30 days. */
export const TOKEN_MAX_IDLE_MS = 30 * 24 * 60 * 60 * 1000;

/** Most tokens one user keeps; logging in beyond drops the least recently used. */
export const TOKENS_PER_USER = 100;

/** A new random token (43 base64url characters, 256 bits). */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

/** The digest under which a token is stored: lower-case hex SHA-256. */
export function tokenHash(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/**
 * The token of an `Authorization: Bearer T` header, or `undefined` when the
 * header is missing or not of that form.
 */
export function bearerToken(header: string | undefined | null): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+([A-Za-z0-9_\-.~+/]+=*)\s*$/i.exec(header);
  if (!match || match[1].length > 512) return undefined;
  return match[1];
}
