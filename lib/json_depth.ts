/**
 * The nesting depth of JSON text, measured on the raw text before
 * `JSON.parse` ever sees it: a body of a million `[` costs the parser (and
 * the event loop) far more than its bytes suggest, so deep nesting is refused
 * first, in one linear pass that allocates nothing.
 *
 * @module
 */

/** Deepest nesting of arrays and objects accepted in a request body or a WebSocket frame. */
export const MAX_JSON_DEPTH = 32;

/**
 * Whether `text` nests arrays and objects deeper than `max` (brackets inside
 * strings do not count). Meant to run before `JSON.parse`: text that is not
 * JSON at all is left for the parser to refuse.
 *
 * @example
 * ```ts
 * jsonTooDeep('{"a":[1,2]}', 2); // false
 * jsonTooDeep("[[[1]]]", 2); // true
 * jsonTooDeep('"[[[["', 2); // false
 * ```
 */
export function jsonTooDeep(text: string, max: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
