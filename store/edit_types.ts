/**
 * The types of edit, delete and reports in the Store (PROTOCOL.md 5.4, migration 8): a message
 * named by a client, its facts, an edit, reports. Re-exported by store/store.ts.
 *
 * @module
 */

import type { Mention } from "./store.ts";

/** A message named by a client: in a salon, or in the conversation of two users. */
export type MessageTarget =
  | { kind: "salon"; salonId: number; id: number }
  | { kind: "direct"; userA: number; userB: number; id: number };

/** What edit, delete and report need to know of a stored message. */
export interface MessageFacts {
  /** Id. */
  id: number;
  /** The author's id. */
  authorId: number;
  /** The author's names. */
  from: { username: string; alias: string };
  /** The recipient of a direct message. */
  to?: { id: number; username: string; alias: string };
  /** Text ('' once deleted). */
  text: string;
  /** Commit time, epoch ms. */
  at: number;
  /** Last edit, epoch ms; absent when never edited. */
  editedAt?: number;
  /** Whether it was deleted. */
  deleted: boolean;
}

/** An edit: the new text (and a salon message's new mentions), by its author, in the window. */
export interface MessageEdit {
  /** Only the author may edit. */
  authorId: number;
  /** The new text (already checked). */
  text: string;
  /** The edit time, epoch ms. */
  at: number;
  /** The message must have been sent at or after this (the edit window), epoch ms. */
  sentAfter: number;
  /** The members the new text mentions (salon messages; none: no mention). */
  mentions?: Mention[];
}

/** A report to record. */
export interface NewReport {
  /** The salon. */
  salonId: number;
  /** The reported message. */
  messageId: number;
  /** The message's author. */
  authorId: number;
  /** The message's commit time, epoch ms. */
  messageAt: number;
  /** Who reports. */
  reporterId: number;
  /** Why (may be empty). */
  reason: string;
  /** When, epoch ms. */
  at: number;
}

/** A stored report with the message as it stands now. */
export interface ReportRecord {
  /** Id. */
  id: number;
  /** The salon. */
  salonId: number;
  /** The message: its current text ('' once deleted or purged), author and time. */
  message: {
    id: number;
    from: { username: string; alias: string };
    text: string;
    at: number;
    editedAt?: number;
    deleted: boolean;
  };
  /** Who reported it. */
  by: { username: string; alias: string };
  /** Why (may be empty). */
  reason: string;
  /** When, epoch ms. */
  at: number;
  /** When it was resolved, epoch ms; absent while open. */
  resolvedAt?: number;
}

/** Who closes a report, and why. */
export interface ReportResolution {
  /** The moderator's id; `null`: the server itself (admin socket). */
  byUserId: number | null;
  /** A note (may be empty). */
  note: string;
  /** When, epoch ms. */
  at: number;
}
