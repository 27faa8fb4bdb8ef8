/**
 * The byte cap of a `history` reply (PROTOCOL.md 5.6): a page of long
 * messages must not trip the slow-consumer limit of its reader.
 *
 * @module
 */

import { type DirectItem, historyEvent, type MessageItem, type TombstoneItem } from "./events.ts";

/** Most UTF-8 bytes of one `history` frame: 256 KiB. */
export const HISTORY_REPLY_MAX_BYTES = 256 * 1024;

/** UTF-8 length of a string without encoding it (a lone surrogate counts 3, as U+FFFD). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** Which way a page was read: back from `before` (the default), or forward from `after`. */
export type HistoryDirection = "before" | "after";

/**
 * The `history` frame of a page (messages oldest first), holding at most
 * `maxBytes` of UTF-8. When the page does not fit, the messages farthest from
 * the cursor are left out and `more` is true: paging back (`before`), the
 * oldest go, so that asking again with `before` = the oldest id received goes
 * on without a gap; catching up (`after`), the newest go, so that asking
 * again with `after` = the newest id received does. One message is always
 * kept, whatever its size, so that paging always moves.
 */
export function cappedHistoryEvent(
  target: { salon: string } | { with: string },
  messages: Array<MessageItem | DirectItem | TombstoneItem>,
  more: boolean,
  ref?: string,
  maxBytes: number = HISTORY_REPLY_MAX_BYTES,
  direction: HistoryDirection = "before",
): string {
  const whole = historyEvent(target, messages, more, ref);
  if (whole.length * 3 <= maxBytes || utf8Length(whole) <= maxBytes) return whole;
  // The frame without messages ("more":false is the longer of the two), then
  // the messages nearest to the cursor while they fit, each after a comma but the first.
  let room = maxBytes - utf8Length(historyEvent(target, [], false, ref));
  const forward = direction === "after";
  let kept = 0;
  for (let k = 0; k < messages.length; k++) {
    const message = messages[forward ? k : messages.length - 1 - k];
    const size = utf8Length(JSON.stringify(message)) + (kept > 0 ? 1 : 0);
    if (kept > 0 && size > room) break;
    room -= size;
    kept++;
  }
  if (kept === messages.length) return whole;
  const page = forward ? messages.slice(0, kept) : messages.slice(messages.length - kept);
  return historyEvent(target, page, true, ref);
}
