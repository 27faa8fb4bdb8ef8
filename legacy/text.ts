/**
 * The text rule of the import: how the bytes the original server stored
 * become Causerie text, never losing anything silently.
 *
 * 1. Columns are read as bytes. Bytes that are valid UTF-8 are kept as they
 *    are (utf8mb4 columns, and latin1 columns that a latin1 connection filled
 *    with the UTF-8 its clients sent, the usual case).
 * 2. Message texts only ({@link decodeStored}): bytes that are valid UTF-8
 *    except for a character cut at either end (the old server stored what one
 *    read of 1024 bytes held, so a long message was split inside a character)
 *    keep their text, and each cut end becomes one U+FFFD. A cut end is a
 *    lead byte followed only by continuation bytes, too few of them, at the
 *    end; or continuation bytes at the start. In a `latin1` column, where a
 *    lone é (0xE9) at the end of a word is also a lead byte and « (0xAB) is
 *    also a continuation byte, the ends count as cut only when the rest
 *    holds UTF-8 beyond ASCII, or, for the end, in a value of exactly 1024
 *    bytes (a full read).
 * 3. Other invalid bytes in a `latin1` column are genuine latin1 text: it is
 *    decoded as MySQL's latin1 (windows-1252), every byte a character.
 *    Names (usernames, aliases, salon names; {@link decodeName}) were never
 *    cut by a read: only rules 1, 3 and 4 apply to them.
 * 4. Otherwise each invalid sequence becomes U+FFFD.
 *
 * Then, for message texts ({@link cleanMessage}): CR LF and lone CR become LF;
 * the characters protocol/text.ts refuses (control characters other than tab
 * and newline, bidirectional overrides and isolates) become U+FFFD; an empty
 * or blank text is not imported (counted); a text longer than
 * `CAUSERIE_MAX_TEXT` characters is split into consecutive messages with the
 * same author and time. Every change is counted and reported by message id.
 *
 * @module
 */

/** How the bytes were read. */
export type Decoding = "utf8" | "utf8_cut" | "latin1" | "replaced";

/** Text decoded from stored bytes, and how. */
export interface Decoded {
  /** The text. */
  text: string;
  /** Which rule applied (see the module doc). */
  decoding: Decoding;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });
const UTF8_LENIENT = new TextDecoder("utf-8");
/** MySQL's latin1 is windows-1252 with 0x81, 0x8D, 0x8F, 0x90, 0x9D as C1 controls: WHATWG's too. */
const LATIN1 = new TextDecoder("windows-1252");

function utf8(bytes: Uint8Array): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Length of a UTF-8 sequence starting with `lead`, or 0 when it is not a lead byte. */
function sequenceLength(lead: number): number {
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/** The most the original server read from a socket at once: a longer message was stored cut. */
export const ORIGINAL_READ_BYTES = 1024;

const isContinuation = (byte: number) => (byte & 0xc0) === 0x80;

/** Rules 1, 3 and 4: whole UTF-8, else latin1 in a latin1 column, else U+FFFD for what is invalid. */
function decodeWhole(bytes: Uint8Array, charset: string): Decoded {
  const whole = utf8(bytes);
  if (whole !== undefined) return { text: whole, decoding: "utf8" };
  if (charset.toLowerCase() === "latin1") return { text: LATIN1.decode(bytes), decoding: "latin1" };
  return { text: UTF8_LENIENT.decode(bytes), decoding: "replaced" };
}

/** Decodes a stored name (rules 1, 3 and 4); `charset` is the column's character set. */
export function decodeName(bytes: Uint8Array, charset: string): Decoded {
  return decodeWhole(bytes, charset);
}

/** Decodes a stored message text by the rules of this module; `charset` is the column's. */
export function decodeStored(bytes: Uint8Array, charset: string): Decoded {
  const whole = utf8(bytes);
  if (whole !== undefined) return { text: whole, decoding: "utf8" };
  const latin1 = charset.toLowerCase() === "latin1";
  // A character cut at the start: at most three continuation bytes.
  let start = 0;
  while (start < 3 && start < bytes.length && isContinuation(bytes[start])) start++;
  // A character cut at the end: a lead byte among the last three, followed only by continuation
  // bytes, fewer than its sequence needs.
  let end = bytes.length;
  for (let i = Math.max(0, bytes.length - 3); i < bytes.length; i++) {
    const n = sequenceLength(bytes[i]);
    if (n > 0 && i + n > bytes.length && bytes.subarray(i + 1).every(isContinuation)) {
      end = i;
      break;
    }
  }
  if (start === 0 && end === bytes.length) return decodeWhole(bytes, charset);
  const middle = utf8(bytes.subarray(start, Math.max(start, end)));
  if (middle === undefined) return decodeWhole(bytes, charset);
  if (latin1 && !/[^\0-\x7f]/.test(middle)) {
    // In latin1 every byte is also a character (é at the end of "Comptabilité", « at the start):
    // without UTF-8 beyond ASCII in between, only a full read's end counts as cut.
    if (bytes.length !== ORIGINAL_READ_BYTES || end === bytes.length) {
      return decodeWhole(bytes, charset);
    }
    if (start > 0) {
      return { text: LATIN1.decode(bytes.subarray(0, end)) + "\uFFFD", decoding: "utf8_cut" };
    }
  }
  const text = (start > 0 ? "\uFFFD" : "") + middle + (end < bytes.length ? "\uFFFD" : "");
  return { text, decoding: "utf8_cut" };
}

/**
 * The characters protocol/text.ts refuses in a message: control characters
 * other than tab and newline (CR is turned into LF first), lone surrogates,
 * bidirectional overrides and isolates.
 */
const FORBIDDEN_IN_TEXT =
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\p{Cs}\u202A-\u202E\u2066-\u2069]/gu;

/** A message text made acceptable, or why it is not imported. */
export type CleanedMessage =
  | {
    /** The text in one or more parts of at most `max` characters, in order. */
    parts: string[];
    /** Characters replaced by U+FFFD (controls, overrides). */
    replaced: number;
  }
  | { skip: "empty" };

/** Applies the message rule of this module to decoded text. */
export function cleanMessage(text: string, max: number): CleanedMessage {
  let replaced = 0;
  const cleaned = text.replace(/\r\n?/g, "\n").replace(FORBIDDEN_IN_TEXT, () => {
    replaced++;
    return "\uFFFD";
  });
  if (cleaned.trim() === "") return { skip: "empty" };
  return { parts: splitText(cleaned, max), replaced };
}

/**
 * Cuts `text` into parts of at most `max` characters (code points), each cut
 * after the last whitespace of the second half of its window when there is
 * one; blank parts (whitespace left at the very end) are dropped.
 */
export function splitText(text: string, max: number): string[] {
  const chars = [...text];
  if (chars.length <= max) return [text];
  const parts: string[] = [];
  let i = 0;
  while (i < chars.length) {
    let end = Math.min(chars.length, i + max);
    if (end < chars.length) {
      for (let j = end; j > i + max / 2; j--) {
        if (/\s/.test(chars[j - 1])) {
          end = j;
          break;
        }
      }
    }
    const part = chars.slice(i, end).join("");
    if (part.trim() !== "") parts.push(part);
    i = end;
  }
  return parts;
}
