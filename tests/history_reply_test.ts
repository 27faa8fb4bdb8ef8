/**
 * `cappedHistoryEvent` (protocol/history_reply.ts): the 256 KiB cap of a
 * `history` reply, which end is cut, and the UTF-8 length it counts with.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { MessageItem } from "../protocol/events.ts";
import { historyEvent } from "../protocol/events.ts";
import {
  cappedHistoryEvent,
  HISTORY_REPLY_MAX_BYTES,
  utf8Length,
} from "../protocol/history_reply.ts";

function item(id: number, text: string): MessageItem {
  return {
    salon: "Général",
    id,
    from: { username: "alice", alias: "Alice" },
    text,
    at: "2026-11-24T10:00:00.000Z",
  };
}

const bytes = (s: string) => new TextEncoder().encode(s).byteLength;

Deno.test("the cap is 256 KiB", () => {
  assert.equal(HISTORY_REPLY_MAX_BYTES, 256 * 1024);
});

Deno.test("utf8Length counts like TextEncoder", () => {
  for (
    const s of [
      "",
      "abc",
      "é",
      "Général",
      "€",
      "\u{1F600}",
      "a\u{1F468}\u200D\u{1F469}b",
      "\uD800x",
      "x\uDC00",
    ]
  ) {
    assert.equal(utf8Length(s), bytes(s), JSON.stringify(s));
  }
});

Deno.test("a page that fits is sent whole, with its own more", () => {
  const page = [item(1, "a"), item(2, "b")];
  for (const more of [true, false]) {
    assert.equal(
      cappedHistoryEvent({ salon: "Général" }, page, more, "r"),
      historyEvent({ salon: "Général" }, page, more, "r"),
    );
  }
});

Deno.test("a page over the cap keeps its newest messages, fills up to the cap, and says more", () => {
  const page = Array.from({ length: 50 }, (_, i) => item(i + 1, "é".repeat(100 + i)));
  for (const max of [2000, 5000, 10_000]) {
    const frame = cappedHistoryEvent({ salon: "Général" }, page, false, "ref", max);
    assert.ok(bytes(frame) <= max, `${bytes(frame)} <= ${max}`);
    const parsed = JSON.parse(frame);
    assert.equal(parsed.more, true);
    assert.equal(parsed.ref, "ref");
    const ids = parsed.messages.map((m: MessageItem) => m.id);
    assert.equal(ids.at(-1), 50, "the newest is kept");
    assert.deepEqual(ids, Array.from({ length: ids.length }, (_, i) => 51 - ids.length + i));
    // One more message would not have fitted.
    const oneMore = historyEvent(
      { salon: "Général" },
      page.slice(50 - ids.length - 1),
      true,
      "ref",
    );
    assert.ok(bytes(oneMore) > max);
  }
});

Deno.test("one message larger than the cap is still sent, so that paging moves on", () => {
  const page = [item(1, "x".repeat(100)), item(2, "y".repeat(5000))];
  const parsed = JSON.parse(cappedHistoryEvent({ with: "bob" }, page, false, undefined, 1000));
  assert.deepEqual(parsed.messages.map((m: MessageItem) => m.id), [2]);
  assert.equal(parsed.more, true);
  assert.equal(parsed.with, "bob");
});

Deno.test("catching up (after): a page over the cap keeps its OLDEST messages and says more", () => {
  const page = Array.from({ length: 50 }, (_, i) => item(i + 1, "é".repeat(100 + i)));
  for (const max of [2000, 5000, 10_000]) {
    const frame = cappedHistoryEvent({ salon: "Général" }, page, false, "ref", max, "after");
    assert.ok(bytes(frame) <= max, `${bytes(frame)} <= ${max}`);
    const parsed = JSON.parse(frame);
    assert.equal(parsed.more, true);
    const ids = parsed.messages.map((m: MessageItem) => m.id);
    // The oldest of the page first, without a gap: `after` = the last id continues.
    assert.deepEqual(ids, Array.from({ length: ids.length }, (_, i) => i + 1));
    const oneMore = historyEvent({ salon: "Général" }, page.slice(0, ids.length + 1), true, "ref");
    assert.ok(bytes(oneMore) > max);
  }
  // One message larger than the cap: the oldest is still sent.
  const big = [item(1, "x".repeat(5000)), item(2, "y")];
  const parsed = JSON.parse(
    cappedHistoryEvent({ with: "bob" }, big, false, undefined, 1000, "after"),
  );
  assert.deepEqual([parsed.messages.map((m: MessageItem) => m.id), parsed.more], [[1], true]);
  // A page that fits keeps its own `more`.
  const small = [item(1, "a")];
  assert.equal(
    JSON.parse(cappedHistoryEvent({ salon: "G" }, small, false, "r", 1000, "after")).more,
    false,
  );
});
