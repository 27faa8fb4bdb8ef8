/**
 * Names and the rules that make two of them "the same".
 *
 * PROTOCOL.md: usernames, aliases and salon names are compared after Unicode
 * NFC normalization and lower-casing (`Alice` and `alice` collide, `Général`
 * and `General` do not), and shown as registered.
 *
 * Aliases go further (issue 9, item 10): they are what other people read, so
 * two aliases that merely *look* alike are the same alias. Their key is the
 * UTS #39 confusable skeleton of the NFKC case-folded alias ({@link aliasKey}),
 * and invisible or formatting characters are refused in them.
 *
 * @module
 */

import { createHash } from "node:crypto";
import unhomoglyph from "unhomoglyph";

/** Usernames that nobody can register: they name the system itself. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(["admin", "server"]);

/**
 * Default-ignorable code points (zero-width spaces and joiners, variation
 * selectors, ...), except the tag characters that tell subdivision flags apart.
 */
const DEFAULT_IGNORABLE = /(?![\u{E0020}-\u{E007F}])\p{Default_Ignorable_Code_Point}/gu;

/** Longest alias key kept as it is, in UTF-8 bytes; a longer one is stored as a digest. */
export const ALIAS_KEY_MAX_BYTES = 1000;

/**
 * Full case folding, as near as JavaScript gets: upper then lower case, so
 * that `ß` folds like `SS` and `ς` like `σ`.
 */
function caseFold(text: string): string {
  return text.toUpperCase().toLowerCase();
}

/**
 * The comparison key of an alias: the UTS #39 confusable skeleton of the
 * NFKC case-folded alias, without default-ignorable characters, lower-cased
 * once more (the skeleton of `0` is `O`). Two aliases with the same key look
 * alike and cannot both exist; the reserved names are compared on it too.
 * The confusables data is the `unhomoglyph` package's (Unicode's
 * confusables.txt). A key longer than {@link ALIAS_KEY_MAX_BYTES} bytes
 * becomes `"\u0001"` + its SHA-256 (a character no alias can hold), so that it
 * fits a database index.
 *
 * @example
 * ```ts
 * aliasKey("аdmin") === aliasKey("admin"); // Cyrillic а
 * aliasKey("ＡＤＭＩＮ") === aliasKey("admin"); // fullwidth
 * aliasKey("ad\u200Bmin") === aliasKey("admin"); // zero-width space
 * ```
 */
export function aliasKey(alias: string): string {
  const folded = caseFold(alias.normalize("NFKC")).normalize("NFKC").replace(DEFAULT_IGNORABLE, "");
  const skeleton = unhomoglyph(folded.normalize("NFD")).normalize("NFD");
  const key = skeleton.toLowerCase().normalize("NFD");
  if (new TextEncoder().encode(key).byteLength <= ALIAS_KEY_MAX_BYTES) return key;
  return "\u0001" + createHash("sha256").update(key).digest("hex");
}

const RESERVED_ALIAS_KEYS: ReadonlySet<string> = new Set([...RESERVED_NAMES].map(aliasKey));

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

/**
 * A character that shows something: not a format character, separator, lone
 * mark or default-ignorable character, nor one of the letters and symbols
 * that render as blank space (Hangul fillers, the blank Braille pattern).
 */
const VISIBLE =
  /[^\p{Cf}\p{Z}\p{M}\p{Cc}\p{Default_Ignorable_Code_Point}\u115F\u1160\u2800\u3164\uFFA0]/u;

/**
 * The invisible characters an emoji sequence legitimately holds: a zero-width
 * joiner between two pictographs (👩‍💻), the emoji variation selector after a
 * pictograph or a keycap base (❤️, 1️⃣), and the tag characters of a
 * subdivision flag (🏴 + tags + cancel tag).
 */
const EMOJI_INVISIBLES = new RegExp(
  [
    String
      .raw`(?<=\p{Extended_Pictographic}(?:\uFE0F|\p{Emoji_Modifier})?)\u200D(?=\p{Extended_Pictographic})`,
    String.raw`(?<=[\p{Extended_Pictographic}#*0-9])\uFE0F`,
    String.raw`(?<=\u{1F3F4}[\u{E0020}-\u{E007E}]*)[\u{E0020}-\u{E007F}]`,
  ].join("|"),
  "gu",
);

/** Default-ignorable and format characters: invisible, so refused outside emoji sequences. */
const INVISIBLE_OR_FORMAT = /[\p{Default_Ignorable_Code_Point}\p{Cf}]/u;

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
  if (INVISIBLE_OR_FORMAT.test(text.replace(EMOJI_INVISIBLES, ""))) {
    return `${field} must not contain invisible or formatting characters ` +
      `(zero-width spaces or joiners outside emoji, soft hyphens, fillers)`;
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

/**
 * Whether a username or alias is reserved for the system: equal to a reserved
 * name after NFC and lower-casing, or looking like one ({@link aliasKey}).
 */
export function isReserved(name: string): boolean {
  return RESERVED_NAMES.has(nameKey(name)) || RESERVED_ALIAS_KEYS.has(aliasKey(name));
}
