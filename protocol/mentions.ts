/**
 * Mentions (PROTOCOL.md 5.3): the usernames written as `@username` in a salon
 * message, matched like every name (NFC, then the case-insensitive
 * {@link nameKey}), at word boundaries, at most {@link MAX_MENTIONS}.
 *
 * The boundaries (recorded in docs/protocol.md, "Mentions"):
 * - before the `@`: the start of the text, or a character that is none of a
 *   letter, mark, digit or connector (`_`) of any script, nor one of `.`, `-`,
 *   `+`, `/`, `@`. So `(@alice)`, `hi @alice`, `,@alice` mention alice, while
 *   `x@alice` (an e-mail address), `a.b@alice`, `site/@alice` (a URL path) and
 *   `@@alice` do not;
 * - the name: the longest run of username characters `[A-Za-z0-9_.-]` after
 *   the `@`; when the run is no member's name, trailing `.` and `-` are taken
 *   off one at a time (`@alice.` and `@alice...` end a sentence) and tried
 *   again. Nothing else is ever taken off: `@alicex` and `@alice.x` are not
 *   alice;
 * - after the run: the end of the text, or a character that is none of a
 *   letter, mark, digit or connector of any script: `@alice,` `@alice's`
 *   `@alice!` mention alice, `@aliceé` and `@alice` + U+0301 do not.
 *
 * The text is put in NFC first, as names are (so a Kelvin sign U+212A is a
 * `K`). The scan looks only at each `@` and the run after it, so it costs one
 * pass over the text and at most a few map lookups per `@`, whatever the text.
 *
 * @module
 */

import { nameKey } from "./names.ts";

/** Most usernames a message mentions: the first this many distinct ones, in order of appearance. */
export const MAX_MENTIONS = 20;

/** Shortest and longest username (protocol/names.ts USERNAME_PATTERN). */
const NAME_MIN = 3;
const NAME_MAX = 32;

/** A character that may be part of a username. */
function isNameChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) ||
    c === 0x5f || c === 0x2e || c === 0x2d;
}

/** A letter, mark, digit or connector punctuation of any script: inside a word. */
const WORD_CHAR = /[\p{L}\p{M}\p{N}\p{Pc}]/u;

/** Characters that, right before an `@`, make it part of something else (mail, URL, `@@`). */
const GLUED_BEFORE = new Set([".", "-", "+", "/", "@"]);

/** The code point of `text` that ends at index `end` (exclusive), as a string. */
function charBefore(text: string, end: number): string {
  const low = text.charCodeAt(end - 1);
  if (end >= 2 && low >= 0xdc00 && low <= 0xdfff) {
    const high = text.charCodeAt(end - 2);
    if (high >= 0xd800 && high <= 0xdbff) return text.slice(end - 2, end);
  }
  return text[end - 1];
}

/** Whether an `@` at `at` may start a mention. */
function boundaryBefore(text: string, at: number): boolean {
  if (at === 0) return true;
  let end = at;
  // An emoji's variation selector (U+FE0F, U+FE0E) or joiner is a mark, not a word: `❤️@alice`.
  while (end > 0 && EMOJI_TAIL.has(text[end - 1])) end--;
  if (end < at) return end === 0 || PICTOGRAPH.test(charBefore(text, end));
  const c = charBefore(text, at);
  return !GLUED_BEFORE.has(c) && !WORD_CHAR.test(c);
}

/** What may follow a pictograph inside one emoji: variation selectors and the zero-width joiner. */
const EMOJI_TAIL = new Set(["\uFE0F", "\uFE0E", "\u200D"]);

/** A pictograph (the base of an emoji). */
const PICTOGRAPH = /\p{Extended_Pictographic}/u;

/** Whether a name may end at `end`: the end of the text or a character outside words. */
function boundaryAfter(text: string, end: number): boolean {
  if (end >= text.length) return true;
  const c = String.fromCodePoint(text.codePointAt(end)!);
  return !WORD_CHAR.test(c);
}

/**
 * The members mentioned in `text`: for each `@name` at word boundaries (see
 * the module's documentation), `lookup` gets the name's comparison key
 * ({@link nameKey}) and answers the member it names, or `undefined`. Returns
 * the first `max` distinct members found, in order of first appearance
 * (empty when none).
 *
 * @example
 * ```ts
 * const members = new Map([["alice", "alice"], ["bob", "Bob"]]);
 * findMentions("hi @Alice, @bob and @BOB!", (k) => members.get(k)); // ["alice", "Bob"]
 * ```
 */
export function findMentions<T>(
  text: string,
  lookup: (key: string) => T | undefined,
  max: number = MAX_MENTIONS,
): T[] {
  const found: T[] = [];
  let at = text.indexOf("@");
  if (at < 0 || max <= 0) return found;
  const t = text.normalize("NFC");
  const seen = new Set<T>();
  at = t.indexOf("@");
  while (at >= 0) {
    let end = at + 1;
    while (end < t.length && isNameChar(t.charCodeAt(end))) end++;
    if (end > at + 1 && boundaryBefore(t, at) && boundaryAfter(t, end)) {
      const member = memberOfRun(t, at + 1, end, lookup);
      if (member !== undefined && !seen.has(member)) {
        seen.add(member);
        found.push(member);
        if (found.length >= max) break;
      }
    }
    at = t.indexOf("@", end);
  }
  return found;
}

/**
 * The member named by the run `t[start, end)`: the whole run, or the run
 * without some of its trailing `.` and `-`, the longest that names a member.
 */
function memberOfRun<T>(
  t: string,
  start: number,
  end: number,
  lookup: (key: string) => T | undefined,
): T | undefined {
  for (let stop = end; stop - start >= NAME_MIN; stop--) {
    if (stop - start <= NAME_MAX) {
      const member = lookup(nameKey(t.slice(start, stop)));
      if (member !== undefined) return member;
    }
    const last = t.charCodeAt(stop - 1);
    if (last !== 0x2e && last !== 0x2d) return undefined;
  }
  return undefined;
}
