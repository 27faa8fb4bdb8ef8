/**
 * The types of importing the original server's database through the Store (issue 13, legacy/):
 * mappings, progress marks, batches. Re-exported by store/store.ts.
 *
 * @module
 */

import type { NewUser } from "./store.ts";

/** What an original row maps to: a `clients` row to `users.id`, a `salons` row to `salons.id`. */
export type LegacyKind = "client" | "salon";

/**
 * Progress of an import through the original tables read by increasing id:
 * the highest `salons_adheres.id` and `messages.message_id` already handled.
 */
export type LegacyMark = "membership" | "message";

/** What earlier imports did: the mapped rows and the progress marks (0: nothing yet). */
export interface LegacyState {
  /** Original `client_id` to our user id. */
  clients: Map<number, number>;
  /** Original `salon_id` to our salon id. */
  salons: Map<number, number>;
  /** Highest original id handled, per table read by id. */
  marks: Record<LegacyMark, number>;
}

/**
 * One batch of an import, committed in one transaction with its progress
 * marks: either all of it is stored, or none of it.
 */
export interface LegacyBatch {
  /**
   * Accounts to create, each made a member of the `auto` salon and mapped to
   * its original `client_id`; an id mapped already is skipped (its user id is
   * returned). A taken username or alias throws {@link ConflictError}.
   */
  users?: Array<{ legacyId: number; user: NewUser; createdAt: number }>;
  /** Existing salons to map to their original `salon_id` (a mapped id is left as it is). */
  salons?: Array<{ legacyId: number; salonId: number }>;
  /** Memberships to add (one already there is left as it is). */
  memberships?: Array<{ salonId: number; userId: number; at: number }>;
  /**
   * Salon messages, in order: each salon's ids come from its counter, so they
   * grow in batch order; every sender's read marker moves to their newest one.
   * They mention nobody.
   */
  messages?: Array<{ salonId: number; userId: number; text: string; at: number }>;
  /** Read markers to move forward to at least `lastRead` (never back). */
  read?: Array<{ userId: number; salonId: number; lastRead: number }>;
  /** Progress marks to record (a mark never goes back). */
  marks?: Partial<Record<LegacyMark, number>>;
}

/** What a {@link LegacyBatch} stored. */
export interface LegacyBatchResult {
  /** The user id of each entry of `users`, in order. */
  userIds: number[];
  /** The id of each entry of `messages`, in order. */
  messageIds: number[];
  /** Memberships that were not there before. */
  membershipsAdded: number;
}
