/**
 * The moderation desk's vocabulary: who acts ({@link Moderator}), what the
 * desk needs ({@link ModerationOptions}), the live effects it asks of the
 * actors ({@link LivePorts}) and the views it returns.
 *
 * @module
 */

import type { Accounts } from "../auth/accounts.ts";
import type { Logger } from "../lib/log.ts";
import type { MuteListing, MuteLivePorts } from "./moderation_mutes.ts";
import type { AuditVia, Role, SanctionRecord, Store } from "../store/store.ts";

/** Who is acting. */
export interface Moderator {
  /** Username, or `server` for the admin socket and signals. */
  username: string;
  /** Account id; `null` for the admin socket and signals. */
  userId: number | null;
  /** Role at the time of the request (re-read from the store for accounts). */
  role: Role;
  /** Path of the request. */
  via: AuditVia;
}

/** The identity of the local admin socket and of signals: full rights. */
export function serverModerator(via: AuditVia): Moderator {
  return { username: "server", userId: null, role: "admin", via };
}

/** A pending request as listed to moderators. */
export interface PendingView {
  /** Salon name. */
  salon: string;
  /** Requester's username. */
  username: string;
  /** Requester's alias. */
  alias: string;
  /** When the request was made, ISO-8601. */
  at: string;
}

/** What the moderation desk needs from the live actors (mutes and slow mode: moderation_mutes.ts). */
export interface LivePorts extends MuteLivePorts {
  /** Whether a user has a live session. */
  isOnline(userId: number): boolean;
  /** Every pending request, oldest first. */
  pendingRequests(): PendingView[];
  /**
   * Accepts or rejects a pending request through its salon. Resolves once
   * stored; resolves `"unknown_salon"` or `"not_pending"` when it cannot.
   */
  decide(
    salon: string,
    userId: number,
    accept: boolean,
  ): Promise<"ok" | "unknown_salon" | "not_pending">;
  /** Sends `frame` to every session of a user, then closes them with 4403. */
  punish(userId: number, frame: string): void;
  /** Starts the actor that tracks a sanction in force. */
  trackSanction(sanction: SanctionRecord, username: string): void;
  /** Lifts the live actors of these sanctions (already lifted in the store) of a user. */
  liftSanctions(userId: number, sanctionIds: readonly number[]): void;
  /** Tells salons that a user's requests were withdrawn (already stored). */
  requestsWithdrawn(userId: number, salonIds: number[]): void;
  /** Sends a frame to every session. */
  broadcast(frame: string): void;
  /** Starts the countdown; false when one is already running. */
  startShutdown(seconds: number): boolean;
  /** Cancels the countdown; false when none is running. */
  cancelShutdown(): boolean;
  /** Updates the role of a user's live sessions. */
  roleChanged(userId: number, role: Role): void;
}

/** A user as listed by `GET /admin/users`. */
export interface UserListing {
  /** Username. */
  username: string;
  /** Alias. */
  alias: string;
  /** Role. */
  role: Role;
  /** `online` with at least one session, else `offline`. */
  status: "online" | "offline";
  /** End of a kick in force, ISO-8601. */
  bannedUntil?: string;
  /** A ban is in force. */
  banned?: boolean;
}

/** A user as listed by `GET /admin/users`, with their mutes (PROTOCOL 5.4). */
export type UserListingWithMutes = UserListing & MuteListing;

/** Options of {@link Moderation}. */
export interface ModerationOptions {
  /** The database. */
  store: Store;
  /** Accounts (creating users). */
  accounts: Accounts;
  /** Live effects. */
  live: LivePorts;
  /** Default kick length, minutes. */
  kickMinutes: number;
  /** Default countdown, seconds. */
  shutdownSeconds: number;
  /** Longest announcement, characters. */
  maxText: number;
  /** The clock, epoch ms. */
  now?: () => number;
  /** Where each act is logged (never its reason or text); default: nowhere. */
  log?: Logger;
  /**
   * Several instances (issue 15): told of an admin's shutdown and cancel (never of a signal's),
   * so that every instance follows. Absent: one process.
   */
  clusterShutdown?: { started(seconds: number): Promise<void>; cancelled(): Promise<void> };
}
