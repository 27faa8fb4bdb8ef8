/**
 * Salon events across instances (issue 15), on the salon channels of
 * runtime/salon_relay.ts besides messages and memberships: join requests and
 * their end, `typing`, a member's `read` marker, `edited`/`deleted` frames
 * and slow mode. Each is encoded compactly and decoded strictly: a bus is
 * shared, and a payload that is not exactly one of these is refused before a
 * salon actor or a socket sees it.
 *
 * | body | event |
 * |---|---|
 * | `{"r":user,"s":since}` | a join request stored (user: `{id,username,alias,role}`) |
 * | `{"c":userId,"x":"rejected"\|"withdrawn"}` | a request closed without membership |
 * | `{"y":user}` | a `typing` relayed by the typer's instance |
 * | `{"rd":userId,"n":id}` | a member's `read` marker moved to `id` |
 * | `{"ed":{"id","t","at","me"?}}` | a message edited (`at`: editedAt, epoch ms) |
 * | `{"dl":id}` | a message deleted |
 * | `{"sm":seconds}` | a slow mode stored (0-3600) |
 *
 * @module
 */

import type { SalonNews } from "../actors/salon.ts";
import { MAX_MENTIONS } from "../protocol/mentions.ts";
import { ROLES, type UserSummary } from "../store/store.ts";
import type { WireBody } from "./cluster_channel.ts";
import { isId } from "./cluster_channel.ts";

/** The latest time a `Date` holds, epoch ms. */
export const MAX_DATE_MS = 8.64e15;

/** The longest text an edit may carry (CAUSERIE_MAX_TEXT's ceiling). */
const MAX_EDIT_TEXT = 16_000;

/** The longest username or alias accepted from the bus (both are far shorter when registered). */
const MAX_NAME = 256;

/** The highest slow mode, seconds (PROTOCOL 5.4). */
const MAX_SLOW_MODE = 3600;

/** Whether `u` is a user summary (a role this server knows). */
export function isUser(u: unknown): u is UserSummary {
  const v = u as Partial<UserSummary> | null;
  return typeof v === "object" && v !== null && isId(v.id) &&
    typeof v.username === "string" && v.username.length > 0 && v.username.length <= MAX_NAME &&
    typeof v.alias === "string" && v.alias.length > 0 && v.alias.length <= MAX_NAME &&
    (ROLES as readonly unknown[]).includes(v.role);
}

/** Whether `v` is a time a `Date` holds (epoch ms, whole). */
function isTime(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= MAX_DATE_MS;
}

/** Only the four fields of a user (a payload may carry more; they are not kept). */
function userOf(u: UserSummary): UserSummary {
  return { id: u.id, username: u.username, alias: u.alias, role: u.role };
}

/** An edit as it crosses the bus. */
export interface EditedNews {
  /** The message's id in the salon. */
  id: number;
  /** The new text. */
  text: string;
  /** When it was edited, epoch ms. */
  editedAt: number;
  /** Usernames the new text mentions; absent when none. */
  mentions?: string[];
}

/** A salon event received from another instance. */
export type SalonEventPayload =
  | { news: SalonNews }
  | { edited: EditedNews }
  | { deleted: number }
  | { slowMode: number };

/** The body of a join request, its end, a `typing` or a `read`. */
export function encodeNews(news: SalonNews): WireBody {
  if ("requested" in news) return { r: userOf(news.requested), s: news.since };
  if ("closed" in news) return { c: news.closed, x: news.outcome };
  if ("typing" in news) return { y: userOf(news.typing) };
  return { rd: news.read, n: news.id };
}

/**
 * The body of an `edited` or `deleted` frame this instance sent to a salon's
 * members (built by protocol/edit_events.ts); undefined for any other frame.
 */
export function encodeSalonFrame(frame: string): WireBody | undefined {
  const f = JSON.parse(frame) as Record<string, unknown>;
  if (f.type === "deleted") return { dl: f.id };
  if (f.type !== "edited") return undefined;
  const ed: Record<string, unknown> = { id: f.id, t: f.text, at: Date.parse(f.editedAt as string) };
  if (Array.isArray(f.mentions) && f.mentions.length > 0) ed.me = f.mentions;
  return { ed };
}

/** Decodes an edit; undefined when any field is off. */
function decodeEdited(v: unknown): EditedNews | undefined {
  const e = v as Record<string, unknown> | null;
  if (
    typeof e !== "object" || e === null || Array.isArray(e) || !isId(e.id) ||
    typeof e.t !== "string" || e.t.length > MAX_EDIT_TEXT || !isTime(e.at)
  ) return undefined;
  const edited: EditedNews = { id: e.id, text: e.t, editedAt: e.at };
  if (e.me !== undefined) {
    if (
      !Array.isArray(e.me) || e.me.length === 0 || e.me.length > MAX_MENTIONS ||
      !e.me.every((m) => typeof m === "string" && m.length > 0 && m.length <= MAX_NAME)
    ) return undefined;
    edited.mentions = e.me as string[];
  }
  return edited;
}

/** Decodes a salon event's body; undefined when it is none of them, exactly. */
export function decodeSalonEvent(b: WireBody): SalonEventPayload | undefined {
  if (b.r !== undefined) {
    return isUser(b.r) && isTime(b.s)
      ? { news: { requested: userOf(b.r), since: b.s } }
      : undefined;
  }
  if (b.c !== undefined) {
    return isId(b.c) && (b.x === "rejected" || b.x === "withdrawn")
      ? { news: { closed: b.c, outcome: b.x } }
      : undefined;
  }
  if (b.y !== undefined) return isUser(b.y) ? { news: { typing: userOf(b.y) } } : undefined;
  if (b.rd !== undefined) {
    return isId(b.rd) && isId(b.n) ? { news: { read: b.rd, id: b.n } } : undefined;
  }
  if (b.ed !== undefined) {
    const edited = decodeEdited(b.ed);
    return edited && { edited };
  }
  if (b.dl !== undefined) return isId(b.dl) ? { deleted: b.dl } : undefined;
  if (b.sm !== undefined) {
    return Number.isSafeInteger(b.sm) && (b.sm as number) >= 0 &&
        (b.sm as number) <= MAX_SLOW_MODE
      ? { slowMode: b.sm as number }
      : undefined;
  }
  return undefined;
}
