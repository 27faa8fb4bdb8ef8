/**
 * What the `directs` bus channel carries (issue 15, several instances), and
 * its strict decoder: a body from the bus is input like any other, so every
 * field is checked before a session or an order sees it.
 *
 * Bodies (JSON, short keys; `o`, the publisher's origin, is added and checked
 * by runtime/cluster_channel.ts), exactly one kind each:
 *
 * - `{"d":{"id","p","f":[userId,username,alias],"t":[userId,username,alias],"x":text,"at":ms}}`:
 *   a committed direct message; `p` is the id before it in its conversation
 *   (0: none).
 * - `{"ed":{"u":userId,"w":username,"id","x":text,"ea":iso}}`: `edited`, for
 *   the sessions of user `u`, who sees the conversation `with` `w`.
 * - `{"de":{"u","w","id"}}`: `deleted`, likewise.
 * - `{"rd":{"u","w","id"}}`: the `read` marker of user `u` moved.
 * - `{"ty":{"u":toUserId,"f":[username,alias]}}`: `typing` from `f` to `u`.
 *
 * @module
 */

import { isId, type WireBody } from "./cluster_channel.ts";
import type { DirectItem, UserRef } from "../protocol/events.ts";

/** Longest name (username or alias) accepted from the bus, in UTF-16 units. */
const NAME_MAX = 1024;
/** Longest text accepted from the bus, in UTF-16 units (a frame is at most 64 KiB). */
const TEXT_MAX = 65_536;
/** The latest time a `Date` holds, epoch ms. */
const MAX_DATE_MS = 8.64e15;
/** Control characters, never in a name. */
const CONTROL = /\p{Cc}/u;

/** A direct message as delivered: its id, the one before it, the item and its frame. */
export interface RelayedDirect {
  /** Its id. */
  id: number;
  /** The id before it in its conversation (0: none); absent when read from the store. */
  prev?: number;
  /** Deleted since (read from the store): skipped. */
  deleted?: true;
  /** Sender's id. */
  fromUserId: number;
  /** Recipient's id. */
  toUserId: number;
  /** The `direct` frame's fields. */
  item: DirectItem;
}

/** What a body of the channel says, decoded. */
export type DirectsPayload =
  | { kind: "direct"; message: RelayedDirect }
  | { kind: "edited"; userId: number; with: string; id: number; text: string; editedAt: string }
  | { kind: "deleted"; userId: number; with: string; id: number }
  | { kind: "read"; userId: number; with: string; id: number }
  | { kind: "typing"; userId: number; from: UserRef };

/** The kinds' keys in a body. */
const KINDS = ["d", "ed", "de", "rd", "ty"] as const;

/** Whether `v` is a plain JSON object. */
function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Whether `v` is a name as the bus may carry it (non-empty, bounded, no control character). */
function isName(v: unknown): v is string {
  return typeof v === "string" && v.length > 0 && v.length <= NAME_MAX && !CONTROL.test(v);
}

/** Whether `v` is a text (bounded). */
function isText(v: unknown): v is string {
  return typeof v === "string" && v.length <= TEXT_MAX;
}

/** Whether `v` is an epoch time a `Date` can hold (whole ms). */
function isTime(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= MAX_DATE_MS;
}

/** Whether `v` is an ISO-8601 UTC time as the server writes them. */
function isIso(v: unknown): v is string {
  if (typeof v !== "string" || v.length > 30) return false;
  const t = Date.parse(v);
  return Number.isFinite(t) && new Date(t).toISOString() === v;
}

/** `[id, username, alias]`, or undefined. */
function userTriple(v: unknown): { id: number; ref: UserRef } | undefined {
  if (!Array.isArray(v) || v.length !== 3 || !isId(v[0]) || !isName(v[1]) || !isName(v[2])) {
    return undefined;
  }
  return { id: v[0], ref: { username: v[1], alias: v[2] } };
}

/** The wire form of a committed direct message. */
export function directBody(m: RelayedDirect): WireBody {
  return {
    d: {
      id: m.id,
      p: m.prev ?? 0,
      f: [m.fromUserId, m.item.from.username, m.item.from.alias],
      t: [m.toUserId, m.item.to.username, m.item.to.alias],
      x: m.item.text,
      at: Date.parse(m.item.at),
    },
  };
}

/** Decodes a direct message; undefined when any field is wrong. */
function decodeDirect(v: unknown): DirectsPayload | undefined {
  if (!isObject(v) || !isId(v.id) || !Number.isSafeInteger(v.p)) return undefined;
  const prev = v.p as number;
  if (prev < 0 || prev >= v.id) return undefined;
  const from = userTriple(v.f);
  const to = userTriple(v.t);
  if (!from || !to || !isText(v.x) || !isTime(v.at)) return undefined;
  return {
    kind: "direct",
    message: {
      id: v.id,
      prev,
      fromUserId: from.id,
      toUserId: to.id,
      item: { id: v.id, from: from.ref, to: to.ref, text: v.x, at: new Date(v.at).toISOString() },
    },
  };
}

/** Decodes `{u, w, id}` (with `x` and `ea` for an edit); undefined when wrong. */
function decodeChange(kind: "ed" | "de" | "rd", v: unknown): DirectsPayload | undefined {
  if (!isObject(v) || !isId(v.u) || !isName(v.w) || !isId(v.id)) return undefined;
  if (kind === "de") return { kind: "deleted", userId: v.u, with: v.w, id: v.id };
  if (kind === "rd") return { kind: "read", userId: v.u, with: v.w, id: v.id };
  if (!isText(v.x) || !isIso(v.ea)) return undefined;
  return { kind: "edited", userId: v.u, with: v.w, id: v.id, text: v.x, editedAt: v.ea };
}

/** Decodes `{u, f: [username, alias]}`; undefined when wrong. */
function decodeTyping(v: unknown): DirectsPayload | undefined {
  if (!isObject(v) || !isId(v.u) || !Array.isArray(v.f) || v.f.length !== 2) return undefined;
  const [username, alias] = v.f;
  if (!isName(username) || !isName(alias)) return undefined;
  return { kind: "typing", userId: v.u, from: { username, alias } };
}

/**
 * Decodes a body of the `directs` channel; `undefined` when it is not
 * exactly one known kind with every field right.
 */
export function decodeDirectsBody(b: WireBody): DirectsPayload | undefined {
  const present = KINDS.filter((k) => Object.hasOwn(b, k));
  if (present.length !== 1) return undefined;
  const kind = present[0];
  switch (kind) {
    case "d":
      return decodeDirect(b.d);
    case "ty":
      return decodeTyping(b.ty);
    default:
      return decodeChange(kind, b[kind]);
  }
}

/**
 * The wire form of an `edited` or `deleted` frame of a direct conversation
 * (built by protocol/edit_events.ts) for the sessions of `userId`;
 * undefined for any other frame.
 */
export function changeBody(userId: number, frame: string): WireBody | undefined {
  let f: unknown;
  try {
    f = JSON.parse(frame);
  } catch {
    return undefined;
  }
  if (!isObject(f) || typeof f.with !== "string") return undefined;
  if (f.type === "edited") {
    return { ed: { u: userId, w: f.with, id: f.id, x: f.text, ea: f.editedAt } };
  }
  if (f.type === "deleted") return { de: { u: userId, w: f.with, id: f.id } };
  return undefined;
}
