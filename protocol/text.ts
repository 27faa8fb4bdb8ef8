/**
 * The rule for message text (`say`, `direct`, `announce`).
 *
 * @module
 */

import type { ErrorCode } from "./errors.ts";
import { charCount } from "./names.ts";

/** Control characters other than tab and newline, lone surrogates, bidi overrides. */
const FORBIDDEN_IN_TEXT =
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\p{Cs}\u202A-\u202E\u2066-\u2069]/u;

/**
 * Why a message text is refused, or `undefined` when it is fine: `too_long`
 * past `max` characters (code points), `invalid` when empty, blank or
 * carrying control characters other than newline and tab.
 */
export function textProblem(
  text: string,
  max: number,
): { code: ErrorCode; message: string } | undefined {
  if (text.length === 0 || text.trim() === "") {
    return { code: "invalid", message: "text must contain something other than whitespace" };
  }
  if (text.length > max) {
    const n = charCount(text);
    if (n > max) {
      return { code: "too_long", message: `text must be at most ${max} characters (got ${n})` };
    }
  }
  if (FORBIDDEN_IN_TEXT.test(text)) {
    return {
      code: "invalid",
      message: "text must not contain control characters other than newline and tab",
    };
  }
  return undefined;
}
