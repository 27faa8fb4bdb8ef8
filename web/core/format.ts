/**
 * Pure helpers for showing messages: text cut into plain text, links and
 * mentions (never HTML), a stable colour per sender, and the rows of a
 * thread (day separators, the "new messages" divider, grouping).
 *
 * @module
 */

import type { ChatItem } from "./stores/messages.ts";

/** A piece of a message's text. */
export type Segment =
  | { kind: "text"; text: string }
  | { kind: "link"; text: string; href: string }
  | { kind: "mention"; text: string; me: boolean };

const TOKEN = /\bhttps?:\/\/[^\s<>"']+|@[A-Za-z0-9_.-]+/g;

/**
 * Cuts a text into segments: `http(s)://` links (trailing punctuation left
 * out) and `@name` for the usernames in `mentions` (the server's list).
 */
export function segments(text: string, mentions: string[] = [], me = ""): Segment[] {
  const named = new Set(mentions.map((m) => m.toLowerCase()));
  const out: Segment[] = [];
  let last = 0;
  const push = (s: Segment) => {
    const prev = out[out.length - 1];
    if (s.kind === "text" && prev?.kind === "text") prev.text += s.text;
    else out.push(s);
  };
  for (const m of text.matchAll(TOKEN)) {
    let token = m[0];
    const start = m.index!;
    if (token.startsWith("@")) {
      let name = token.slice(1);
      while (name && !named.has(name.toLowerCase()) && /[.-]$/.test(name)) name = name.slice(0, -1);
      const before = start > 0 ? text[start - 1] : "";
      if (!named.has(name.toLowerCase()) || /[\p{L}\p{N}_.+\/@-]/u.test(before)) continue;
      token = "@" + name;
      if (start > last) push({ kind: "text", text: text.slice(last, start) });
      push({ kind: "mention", text: token, me: name.toLowerCase() === me.toLowerCase() });
    } else {
      token = token.replace(/[.,;:!?)\]}]+$/, "");
      if (start > last) push({ kind: "text", text: text.slice(last, start) });
      push({ kind: "link", text: token, href: token });
    }
    last = start + token.length;
  }
  if (last < text.length) push({ kind: "text", text: text.slice(last) });
  return out;
}

/** Number of sender colours in the style sheet (`.c0` … `.c11`). */
export const COLOURS = 12;

/** A stable colour index for a username (FNV-1a of its lower-case form). */
export function colourOf(username: string): number {
  let h = 0x811c9dc5;
  for (const ch of username.toLowerCase()) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % COLOURS;
}

/** One row of a thread as shown. */
export type Row =
  | { kind: "day"; key: string; label: string }
  | { kind: "divider"; key: string }
  | { kind: "message"; key: string; item: ChatItem; grouped: boolean };

/** Consecutive messages of one sender within this many ms are grouped. */
export const GROUP_MS = 5 * 60_000;

/** The local calendar day of an ISO time, e.g. `2026-11-24`. */
function dayOf(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

/**
 * The rows of `items`: a day separator when the local day changes, the
 * "new messages" divider before the first message above `readMarker` that is
 * not the user's own, and `grouped` for a message following one of the same
 * sender on the same day within {@link GROUP_MS}.
 */
export function rows(items: ChatItem[], readMarker: number | null, me: string): Row[] {
  const out: Row[] = [];
  let prev: ChatItem | null = null;
  let dividerShown = readMarker === null;
  for (const item of items) {
    const day = dayOf(item.at);
    const newDay = !prev || dayOf(prev.at) !== day;
    if (newDay) {
      out.push({
        kind: "day",
        key: `day-${item.id}`,
        label: new Date(item.at).toLocaleDateString(undefined, {
          weekday: "long",
          year: "numeric",
          month: "long",
          day: "numeric",
        }),
      });
    }
    let divider = false;
    if (!dividerShown && item.id > readMarker! && item.from.username !== me) {
      out.push({ kind: "divider", key: "divider" });
      dividerShown = divider = true;
    }
    const grouped = !!prev && !newDay && !divider &&
      prev.from.username === item.from.username &&
      Date.parse(item.at) - Date.parse(prev.at) < GROUP_MS;
    out.push({ kind: "message", key: `m-${item.id}`, item, grouped });
    prev = item;
  }
  return out;
}
