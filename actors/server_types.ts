/**
 * The server machine's types: its deps, input, context and events, and the
 * outcome of a direct message. Re-exported by actors/server.ts.
 *
 * @module
 */

import type { DirectItem } from "../protocol/events.ts";
import type { ErrorCode } from "../protocol/errors.ts";
import type { BucketRate } from "../lib/token_bucket.ts";
import type { Role, SanctionRecord, UserSummary } from "../store/store.ts";
import type { ConnectionDeps, ConnectionLimits, UserBuckets } from "./connection.ts";
import type { MuteBook } from "./mute_book.ts";
import type { PresenceChange, PresenceDesk } from "./presence.ts";
import type { RecentTimes } from "./recent_times.ts";
import type { SalonInput } from "./salon.ts";
import type { MuteServerEvent } from "./server_mutes.ts";
import type { SalonPort } from "./server_presence.ts";
import type { Session, SessionRevocation } from "./session.ts";

/** The outcome of committing a direct message. */
export type DirectResult =
  | {
    ok: true;
    item: DirectItem;
    toUserId: number;
    /** Several instances: the id of the message before it in its conversation (0: none). */
    prev?: number;
  }
  | { ok: false; code: ErrorCode; message: string };

/** Effects the server needs; the composition root provides them. */
export interface ServerDeps {
  /** Resolves the recipient and commits a direct message; `done` runs after the commit. */
  commitDirect(from: Session, to: string, text: string, done: (result: DirectResult) => void): void;
  /** The salon actors a user is a member of. */
  salonsOf(userId: number): Iterable<SalonPort>;
  /** The user with this name (any case or accent form), if registered (`watch`, `typing`). */
  knownUser?(name: string): UserSummary | undefined;
  /** Reports an unexpected failure. */
  reportError(message: string): void;
  /** The clock, epoch ms (sanction timers). */
  now(): number;
  /**
   * At the end of the countdown: stop taking frames, commit what is queued,
   * close every socket with 1001. Resolves when done.
   */
  drain(): Promise<void>;
  /** Told once the server has drained (the process may exit). */
  stopped(): void;
  /** Told when a kick runs out. */
  sanctionExpired?(sanction: SanctionRecord): void;
  /** Told once per fan-out of a `direct` frame: how many sessions it was written to (metrics). */
  delivered?(frames: number): void;
  /**
   * Several instances (issue 15): a committed direct message, its `ok` sent,
   * is handed here instead of being written to the sessions at once; the
   * relay delivers it on this instance in its conversation's order and
   * publishes it for the others. Absent: one process, delivered at once.
   */
  relayDirect?(fromUserId: number, result: Extract<DirectResult, { ok: true }>): void;
  /**
   * Several instances: a direct `typing` relayed here also goes to the
   * recipient's sessions on the other instances.
   */
  typingElsewhere?(toUserId: number, from: { username: string; alias: string }): void;
}

/** Input of the server machine. */
export interface ServerInput {
  /** Every salon, with its members and pending requests. */
  salons: SalonInput[];
  /** Effects of the server itself. */
  deps: ServerDeps;
  /** Effects given to each connection. */
  connectionDeps: ConnectionDeps;
  /** Limits of each connection. */
  limits: ConnectionLimits;
  /** The `join`/`leave` budget of each user (default {@link MEMBERSHIP_RATE}). */
  membershipRate?: BucketRate;
  /** The `history` budget of each user (default {@link HISTORY_RATE}). */
  historyRate?: BucketRate;
  /** The `watch` budget of each user (default: burst 5, one per second). */
  watchRate?: BucketRate;
  /** Most sessions per user; beyond, the oldest is closed. */
  maxSessions: number;
  /** Shortest interval between two `presence` frames, ms. */
  presenceIntervalMs: number;
}

/** Server state. The registry maps are updated in place by named actions. */
export interface ServerContext extends ServerInput {
  /** Live sessions by user id, oldest first. */
  sessions: Map<number, Session[]>;
  /** Presence changes since the last `presence` frame, by user id (final status only). */
  changes: Map<number, PresenceChange>;
  /** Watch lists, changes held for sessions with a full socket, the planner of each window. */
  presence: PresenceDesk;
  /** When a direct `typing` was last relayed, by `sender id:recipient id`. */
  typed: RecentTimes<string>;
  /**
   * The users' `say`/`direct` and `join`/`leave` buckets, shared by every
   * session of a user and kept across reconnects (full ones are forgotten).
   */
  buckets: UserBuckets;
  /** The mutes in force (PROTOCOL 5.4), read by every connection before a `say` or `direct`. */
  mutes: MuteBook;
  /**
   * Several instances (issue 15): users with a live session on another
   * instance, as told by PRESENCE_ELSEWHERE; always empty in one process.
   * Such a user is online here too (presence, `watch`, counts, `who`).
   */
  elsewhere: Set<number>;
}

/** Events the server handles. */
export type ServerEvent =
  | { type: "SESSION_UP"; session: Session }
  | { type: "SESSION_DOWN"; session: Session }
  | { type: "DIRECT"; session: Session; ref?: string; to: string; text: string }
  | { type: "DIRECT_DONE"; session: Session; ref?: string; result: DirectResult }
  | { type: "PRESENCE_CHANGED" }
  | { type: "WATCH"; session: Session; ref?: string; users: string[] }
  | { type: "TYPING_TO"; session: Session; ref?: string; to: string }
  | { type: "START_SHUTDOWN"; seconds: number; firstTickMs?: number }
  | { type: "CANCEL_SHUTDOWN" }
  | { type: "SKIP_SHUTDOWN" }
  | { type: "TRACK_SANCTION"; sanction: SanctionRecord; username: string }
  | { type: "LIFT_SANCTIONS"; userId: number }
  | { type: "PUNISH"; userId: number; frame: string }
  | { type: "REVOKE_SESSIONS"; revocation: SessionRevocation }
  | { type: "BROADCAST"; frame: string }
  | { type: "ROLE_CHANGED"; userId: number; role: Role }
  | MuteServerEvent
  | PresenceElsewhereEvent;

/**
 * Several instances (issue 15): `userId` now has a live session on another
 * instance (`online`), or no longer on any other one.
 */
export interface PresenceElsewhereEvent {
  type: "PRESENCE_ELSEWHERE";
  userId: number;
  username: string;
  online: boolean;
}
