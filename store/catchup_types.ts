/**
 * The read markers and catch-up types of the Store (PROTOCOL 5.2): read targets and outcomes,
 * where a user stands in a salon, direct conversations and their pages. Re-exported by
 * store/store.ts.
 *
 * @module
 */

import type { UserSummary } from "./store.ts";

/** Most unread messages counted per salon or conversation (`unread` stops there). */
export const UNREAD_MAX = 1000;

/** Whose marker a `read` moves: in a salon, or in the conversation with another user. */
export type ReadTarget = { salonId: number } | { otherId: number };

/** A `read`: `userId` has read up to message `id` of the target. */
export type ReadMark = ReadTarget & { userId: number; id: number };

/** What {@link Store.markRead} did. */
export interface ReadOutcome {
  /**
   * `moved`: the marker now is the id; `kept`: it already was at or above it
   * (nothing changed); `beyond`: no such message was ever handed out there
   * (nothing stored).
   */
  outcome: "moved" | "kept" | "beyond";
  /** The marker after the call (0: nothing read). */
  lastRead: number;
  /** The newest id handed out in the salon or the conversation (0: none). */
  latest: number;
}

/** Where a user stands in one salon they belong to. */
export interface SalonCatchup {
  /** Salon id. */
  salonId: number;
  /** Newest stored message id (0: none). */
  latest: number;
  /** The user's read marker (0: nothing read). */
  lastRead: number;
  /** Stored messages above `lastRead`, at most {@link UNREAD_MAX}. */
  unread: number;
}

/** One direct conversation as one of its two users sees it. */
export interface ConversationSummary {
  /** The other user (oneself for notes to self). */
  other: UserSummary;
  /** Newest message id of the conversation. */
  latest: number;
  /** The user's read marker in it (0: nothing read). */
  lastRead: number;
  /** Messages above `lastRead`, at most {@link UNREAD_MAX}. */
  unread: number;
  /** Time of the newest message, epoch ms. */
  at: number;
}

/** Which page of conversations: at most `limit`, newest first, all older than `before`. */
export interface ConversationQuery {
  /** Only conversations whose newest message is strictly older than this (epoch ms). */
  before?: number;
  /** Most conversations returned. */
  limit: number;
}

/** A page of conversations, newest first, and whether older ones exist. */
export interface ConversationPage {
  /** Conversations, newest message first. */
  conversations: ConversationSummary[];
  /** Whether conversations older than the last one exist. */
  more: boolean;
}
