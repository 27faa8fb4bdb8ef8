/**
 * Names and the rules that make two of them "the same".
 *
 * PROTOCOL.md: usernames, aliases and salon names are compared after Unicode
 * NFC normalization and lower-casing (`Alice` and `alice` collide, `Général`
 * and `General` do not), and shown as registered.
 *
 * @module
 */

/** Usernames that nobody can register: they name the system itself. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(["admin", "server"]);

/** Username rule: 3–32 of `[A-Za-z0-9_.-]`. */
export const USERNAME_PATTERN = /^[A-Za-z0-9_.-]{3,32}$/;

/** Alias length bounds, in Unicode characters (code points) after NFC. */
export const ALIAS_MIN = 1;
/** Longest alias, in Unicode characters. */
export const ALIAS_MAX = 64;
/** Shortest password, in Unicode characters. */
export const PASSWORD_MIN = 8;
/** Longest password, in Unicode characters. */
export const PASSWORD_MAX = 256;

/**
 * The comparison key of a name: NFC, then lower-case, then NFC again (lower-casing
 * can produce sequences that compose differently).
 *
 * @example
 * ```ts
 * nameKey("Alice") === nameKey("alice"); // true
 * nameKey("Général") === nameKey("General"); // false
 * ```
 */
export function nameKey(name: string): string {
  return name.normalize("NFC").toLowerCase().normalize("NFC");
}

/** Number of Unicode characters (code points) in a string. */
export function charCount(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/**
 * Characters no display name may contain: C0/C1 controls, line and paragraph
 * separators, lone surrogates, unassigned code points, and the bidirectional
 * marks, overrides and isolates that let a name render as something else.
 */
const FORBIDDEN_IN_NAMES =
  /[\p{Cc}\p{Zl}\p{Zp}\p{Cs}\p{Cn}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;

/** A character that shows something: not a format character, separator or lone mark. */
const VISIBLE = /[^\p{Cf}\p{Z}\p{M}\p{Cc}]/u;

/**
 * Why an alias or salon name is not acceptable, or `undefined` when it is.
 * The sentence is written for the person who typed it.
 */
export function displayNameProblem(
  value: string,
  field: string,
  max: number = ALIAS_MAX,
): string | undefined {
  const text = value.normalize("NFC");
  const n = charCount(text);
  if (n < ALIAS_MIN) return `${field} must not be empty`;
  if (n > max) return `${field} must be at most ${max} characters (got ${n})`;
  if (FORBIDDEN_IN_NAMES.test(text)) {
    return `${field} must not contain control, separator or bidirectional-override characters`;
  }
  if (text.trim() !== text) return `${field} must not start or end with whitespace`;
  if (!VISIBLE.test(text)) return `${field} must contain at least one visible character`;
  return undefined;
}

/** Why a username is not acceptable, or `undefined` when it is. */
export function usernameProblem(value: string, field = "username"): string | undefined {
  if (!USERNAME_PATTERN.test(value)) {
    return `${field} must be 3 to 32 characters among letters A-Z, digits, '_', '.' and '-'`;
  }
  return undefined;
}

/** Why a password is not acceptable, or `undefined` when it is. */
export function passwordProblem(value: string, field = "password"): string | undefined {
  const n = charCount(value);
  if (n < PASSWORD_MIN) return `${field} must be at least ${PASSWORD_MIN} characters`;
  if (n > PASSWORD_MAX) return `${field} must be at most ${PASSWORD_MAX} characters`;
  return undefined;
}

/** Whether a username or alias is reserved for the system. */
export function isReserved(name: string): boolean {
  return RESERVED_NAMES.has(nameKey(name));
}
