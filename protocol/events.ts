/**
 * Server events of the WebSocket protocol (PROTOCOL.md section 2.3), as
 * typed builders. Every builder returns the frame's JSON text, so a frame
 * sent to many sockets is serialized once.
 *
 * @module
 */

import type { ErrorCode } from "./errors.ts";
import type { PublicUser, SalonView } from "./http.ts";

/** `{username, alias}` as carried in `message`, `direct` and `member_joined`. */
export interface UserRef {
  /** Username as registered. */
  username: string;
  /** Alias as registered. */
  alias: string;
}

/** A salon message as stored and shown (the `message` event without `type`). */
export interface MessageItem {
  /** Salon name. */
  salon: string;
  /** Id, growing within the salon. */
  id: number;
  /** Author. */
  from: UserRef;
  /** Text. */
  text: string;
  /** Commit time, ISO-8601 UTC. */
  at: string;
  /** Usernames of the salon's members written as `@username` (PROTOCOL.md 5.3); absent when none. */
  mentions?: string[];
  /** Time of the last edit, ISO-8601 UTC; absent when never edited (PROTOCOL.md 5.4). */
  editedAt?: string;
}

/** A direct message (the `direct` event without `type`). */
export interface DirectItem {
  /** Id, growing within the conversation. */
  id: number;
  /** Sender. */
  from: UserRef;
  /** Recipient. */
  to: UserRef;
  /** Text. */
  text: string;
  /** Commit time, ISO-8601 UTC. */
  at: string;
  /** Time of the last edit, ISO-8601 UTC; absent when never edited (PROTOCOL.md 5.4). */
  editedAt?: string;
}

/** A history item of a deleted message: its text is gone, only its id and time remain (5.4). */
export interface TombstoneItem {
  /** Id. */
  id: number;
  /** Commit time, ISO-8601 UTC. */
  at: string;
  /** Always true. */
  deleted: true;
}

/** Adds `ref` when the request carried one. */
function withRef<T extends object>(frame: T, ref: string | undefined): T & { ref?: string } {
  return ref === undefined ? frame : { ...frame, ref };
}

/**
 * `error` `{code, message, ref?, until?, retryAfter?}`: `until` for a kick
 * or a mute, `retryAfter` (whole seconds) for slow mode (PROTOCOL 5.4).
 */
export function errorEvent(
  code: ErrorCode,
  message: string,
  ref?: string,
  until?: string,
  retryAfter?: number,
): string {
  const frame: Record<string, unknown> = { type: "error" };
  if (ref !== undefined) frame.ref = ref;
  frame.code = code;
  frame.message = message;
  if (until !== undefined) frame.until = until;
  if (retryAfter !== undefined) frame.retryAfter = retryAfter;
  return JSON.stringify(frame);
}

/**
 * `welcome` after a successful hello; `directs` (PROTOCOL 5.2) is added when
 * given, after `limits`.
 */
export function welcomeEvent(
  user: PublicUser,
  token: string,
  salons: SalonView[],
  limits: { maxTextLength: number; messagesPerSecond: number; editMinutes?: number },
  ref?: string,
  directs?: ConversationItem[],
): string {
  const frame = directs === undefined
    ? { type: "welcome", user, token, salons, limits }
    : { type: "welcome", user, token, salons, limits, directs };
  return JSON.stringify(withRef(frame, ref));
}

/** `ok` for a committed `say` or `direct` (`id`, `at`), or a bare `ok`. */
export function okEvent(
  ref: string | undefined,
  fields: { id?: number; at?: string } = {},
): string {
  return JSON.stringify(withRef({ type: "ok", ...fields }, ref));
}

/** `message` in a salon. */
export function messageEvent(item: MessageItem): string {
  return JSON.stringify({ type: "message", ...item });
}

/** `direct` to both sides of a conversation. */
export function directEvent(item: DirectItem): string {
  return JSON.stringify({ type: "direct", ...item });
}

/** `joined`, `left`, `join_pending` or `join_rejected` for a salon. */
export function salonEvent(
  type: "joined" | "left" | "join_pending" | "join_rejected",
  salon: string,
  ref?: string,
): string {
  return JSON.stringify(withRef({ type, salon }, ref));
}

/** `member_joined` to a salon's connected members. */
export function memberJoinedEvent(salon: string, user: UserRef): string {
  return JSON.stringify({ type: "member_joined", salon, user });
}

/** `history` answer. */
export function historyEvent(
  target: { salon: string } | { with: string },
  messages: Array<MessageItem | DirectItem | TombstoneItem>,
  more: boolean,
  ref?: string,
): string {
  return JSON.stringify(withRef({ type: "history", ...target, messages, more }, ref));
}

/** `who` answer. */
export function whoEvent(
  salon: string,
  users: Array<UserRef & { status: "online" | "offline" }>,
  ref?: string,
): string {
  return JSON.stringify(withRef({ type: "who", salon, users }, ref));
}

/** `pong`. */
export function pongEvent(ref?: string): string {
  return JSON.stringify(withRef({ type: "pong" }, ref));
}

/** `presence` with every change since the last one. */
export function presenceEvent(
  changes: Array<{ username: string; status: "online" | "offline" }>,
): string {
  return JSON.stringify({ type: "presence", changes });
}

// --- catching up, read markers, conversations (PROTOCOL.md 5.2) -------------

/** What `welcome.salons[]` gains for a member salon. */
export interface SalonCatchupFields {
  /** Newest message id (0: none). */
  latest: number;
  /** The user's read marker (0: nothing read). */
  lastRead: number;
  /** Messages above `lastRead`, at most 1000. */
  unread: number;
  /** Unread messages mentioning the user, at most 1000. */
  mentions: number;
}

/** One direct conversation, in `welcome.directs` and `conversations`. */
export interface ConversationItem {
  /** The other user. */
  with: UserRef;
  /** Newest message id of the conversation. */
  latest: number;
  /** The user's read marker in it. */
  lastRead: number;
  /** Messages above `lastRead`, at most 1000. */
  unread: number;
  /** Time of the newest message, ISO-8601 UTC. */
  at: string;
}

/**
 * What the hub read for a `welcome` while checking the hello: the catch-up
 * fields of each member salon (by salon name) and the most recent
 * conversations.
 */
export interface WelcomeCatchup {
  /** Salon name to its catch-up fields (member salons only). */
  salons: Map<string, SalonCatchupFields>;
  /** The most recent conversations, newest first. */
  directs: ConversationItem[];
}

/** `read` to the user's other sessions: the marker moved to `id`. */
export function readEvent(target: { salon: string } | { with: string }, id: number): string {
  return JSON.stringify({ type: "read", ...target, id });
}

/** `conversations` answer. */
export function conversationsEvent(
  directs: ConversationItem[],
  more: boolean,
  ref?: string,
): string {
  return JSON.stringify(withRef({ type: "conversations", directs, more }, ref));
}

// --- Presence at scale and typing (PROTOCOL 5.1, 5.3) --------------------------------

/** A member in a `who` answer. */
export type WhoUser = UserRef & { status: "online" | "offline" };

/**
 * `who` answer of v1.1: the listed members (online first, then by username),
 * whether more members matched than listed, and the salon's counts.
 */
export function whoPageEvent(
  salon: string,
  page: { users: WhoUser[]; more: boolean; online: number; members: number },
  ref?: string,
): string {
  return JSON.stringify(withRef({ type: "who", salon, ...page }, ref));
}

/** The reply to `watch`: `presence` with the current status of each name new on the list. */
export function watchReplyEvent(
  changes: Array<{ username: string; status: "online" | "offline" }>,
  ref?: string,
): string {
  return JSON.stringify(withRef({ type: "presence", changes }, ref));
}

/** `salon_stats` to a salon's connected members when a count changed. */
export function salonStatsEvent(
  stats: { salon: string; online: number; members: number; presence: "push" | "watch" },
): string {
  return JSON.stringify({ type: "salon_stats", ...stats });
}

/** `typing` relayed to a small salon's other members, or to the other side of a conversation. */
export function typingEvent(target: { salon: string } | { with: string }, user: UserRef): string {
  return JSON.stringify({ type: "typing", ...target, user });
}

// --- Mute and slow mode (PROTOCOL 5.4) ------------------------------------------

/** `muted` to every session of a muted user: `salon` absent for a mute everywhere. */
export function mutedEvent(mute: { salon?: string; until: string; reason?: string }): string {
  const frame: Record<string, unknown> = { type: "muted" };
  if (mute.salon !== undefined) frame.salon = mute.salon;
  frame.until = mute.until;
  if (mute.reason !== undefined && mute.reason !== "") frame.reason = mute.reason;
  return JSON.stringify(frame);
}

/** `unmuted` to every session of the user when a mute ends (expiry or unmute). */
export function unmutedEvent(salon?: string): string {
  return JSON.stringify(salon === undefined ? { type: "unmuted" } : { type: "unmuted", salon });
}

/** `salon_settings` to a salon's connected members when its slow mode changes. */
export function salonSettingsEvent(salon: string, slowModeSeconds: number): string {
  return JSON.stringify({ type: "salon_settings", salon, slowModeSeconds });
}
