/**
 * The types of the salon machine (`salon.ts`): the effects it is given, its
 * input and context, and the events it handles. `salon.ts` re-exports them.
 *
 * @module
 */

import type { SalonPolicy } from "../config/salons.ts";
import type {
  HistoryPage,
  HistoryQuery,
  Mention,
  ReadOutcome,
  UserSummary,
} from "../store/store.ts";
import type { Decider } from "./join_request.ts";
import type { MemberRoster } from "./member_roster.ts";
import type { RecentTimes } from "./recent_times.ts";
import type { Session } from "./session.ts";

/** Effects a salon needs; the composition root provides them. */
export interface SalonDeps {
  /** The clock, epoch ms. */
  now(): number;
  /** Queues a message (with the members it mentions) for group commit; `done` runs after the commit. */
  commit(
    message: { salonId: number; userId: number; text: string; at: number; mentions?: Mention[] },
    done: (error: Error | undefined, id: number) => void,
  ): void;
  /** Persists a membership (and closes a pending request). */
  addMember(salonId: number, userId: number): Promise<void>;
  /** Persists the end of a membership. */
  removeMember(salonId: number, userId: number): Promise<void>;
  /** Persists a pending join request. */
  addJoinRequest(salonId: number, userId: number, since: number): Promise<void>;
  /** Persists the withdrawal of a request. */
  removeJoinRequest(salonId: number, userId: number): Promise<void>;
  /** Reads a page of history. */
  history(salonId: number, query: HistoryQuery): Promise<HistoryPage>;
  /**
   * Moves a member's read marker forward to `id` (PROTOCOL 5.2). Absent: a
   * `read` is answered `error internal`.
   */
  markRead?(salonId: number, userId: number, id: number): Promise<ReadOutcome>;
  /** Every live session of a user. */
  sessionsOf(userId: number): Iterable<Session>;
  /** Tells the rest of the server that a user's membership changed. */
  membershipChanged(userId: number, salonKey: string, member: boolean): void;
  /** Sends a frame to every online moderator and admin. */
  notifyModerators(frame: string): void;
  /** Reports an unexpected failure. */
  reportError(message: string): void;
  // -- metrics (PROTOCOL 5.5): counts only, no I/O
  /** Told once per fan-out of a `message` frame: how many sessions it was written to. */
  delivered?(frames: number): void;
  /** Told of each `error rate_limited` the salon sends (a join request within 10 minutes). */
  rateLimited?(limit: "join_request"): void;
  // -- slow mode (PROTOCOL 5.4)
  /** Gives back the message-bucket token a `say` refused by slow mode took. */
  refundMessageToken?(userId: number): void;
  // -- several instances (issue 15): both present only with a bus, absent in one process
  /**
   * Hands a committed message (its `ok` sent) to this instance's ordered
   * delivery, which publishes it and sends it back as `RELAYED` in id order.
   * Absent: the salon delivers it at once.
   */
  relay?(salonId: number, message: RelayedMessage): void;
  /** Tells the other instances of a membership stored here. */
  relayMembership?(salonId: number, change: MembershipChange): void;
  // -- presence across instances (issue 15): present only with a bus
  /**
   * Whether the user has a live session on another instance: such a member
   * stays in `online` (with no session here) for the counts and `who`.
   */
  onlineElsewhere?(userId: number): boolean;
  /** Tells the other instances of a join request, its end, a `typing` or a `read` here. */
  relayNews?(salonId: number, news: SalonNews): void;
  /**
   * Closes a pending request in MySQL if it is still there (with `accept`,
   * the user becomes a member); false when another instance closed it first.
   * Present with a bus only: the request's actors then decide through it.
   */
  closeRequest?(salonId: number, userId: number, accept: boolean): Promise<boolean>;
}

/** What else than messages and memberships a salon tells the other instances (issue 15). */
export type SalonNews =
  | { requested: UserSummary; since: number }
  | { closed: number; outcome: "rejected" | "withdrawn" }
  | { typing: UserSummary }
  | { read: number; id: number };

/** A committed salon message on its way to the members (the `message` frame's fields). */
export interface RelayedMessage {
  /** Its id in the salon. */
  id: number;
  /** Commit time, epoch ms. */
  at: number;
  /** The author. */
  from: { username: string; alias: string };
  /** The text. */
  text: string;
  /** Usernames it mentions; absent when none. */
  mentions?: string[];
  /** Last edit, epoch ms (a message read back from the store); absent when never edited. */
  editedAt?: number;
}

/** A membership stored by one instance, for the others. */
export type MembershipChange =
  | { joined: UserSummary; announce: boolean }
  | { left: number };

/** Input of the salon machine. */
export interface SalonInput {
  /** Salon identity. */
  salon: { id: number; name: string; key: string; policy: SalonPolicy };
  /** Members, loaded from the store. */
  members: UserSummary[];
  /** Pending requests, loaded from the store. */
  pending: Array<{ user: UserSummary; since: number }>;
  /** Effects. */
  deps: SalonDeps;
  /**
   * More members than this make the salon large (PROTOCOL 5.1); it is small
   * again at 90% of it or fewer. Default 100 (`PRESENCE_SALON_MAX`, presence.ts).
   */
  presenceMax?: number;
  /** Slow mode as stored (PROTOCOL 5.4), seconds; 0 or absent: off. */
  slowModeSeconds?: number;
}

/** The counts `salon_stats` carries, and the presence mode. */
export interface SalonStats {
  /** Connected members (users). */
  online: number;
  /** Members. */
  members: number;
  /** `push` (small) or `watch` (large). */
  presence: "push" | "watch";
}

/** Salon state. Maps are updated in place by named actions (O(1) per event). */
export interface SalonContext {
  /** Salon identity. */
  salon: SalonInput["salon"];
  /** Members by user id. */
  members: Map<number, UserSummary>;
  /** Members by the comparison key of their username (protocol/names.ts `nameKey`), for mentions. */
  memberKeys: Map<string, UserSummary>;
  /** Pending requests by user id. */
  pending: Map<number, { user: UserSummary; since: number }>;
  /**
   * Online members: user id to their sessions. With several instances, a
   * member online only on another instance is here with no session (counts,
   * `who`, `salon_stats`); every fan-out writes to the sessions, so to none.
   */
  online: Map<number, Set<Session>>;
  /** When each user's last join request was taken (one per 10 minutes). */
  requested: RecentTimes;
  /** Users whose join request is being stored. */
  requesting: Set<number>;
  /** When `member_joined` last went out about each user. */
  announced: RecentTimes;
  /** Effects. */
  deps: SalonDeps;
  // -- presence at scale and typing (PROTOCOL 5.1, 5.3)
  /** Members sorted by username (for `who`). */
  roster: MemberRoster;
  /** More members than this make the salon large. */
  presenceMax: number;
  /** Whether the salon is large: presence is not pushed, typing is dropped. */
  large: boolean;
  /** The counts of the last `salon_stats` sent (at start: those of the start). */
  statsSent: SalonStats;
  /** When each member's last `typing` was relayed (one per 3 s). */
  typed: RecentTimes;
  // -- slow mode (PROTOCOL 5.4)
  /** Seconds between two `say` of a member; 0 = off. */
  slowModeSeconds: number;
  /** When each paced member's last `say` was accepted; undefined while slow mode is off. */
  paced: RecentTimes | undefined;
  // -- several instances (issue 15)
  /**
   * Counts changes of the members and pending requests held here: a reload
   * from MySQL read while it moved is stale and dropped (salon_recovery.ts).
   */
  epoch: number;
}

/** Events a salon handles. */
export type SalonEvent =
  | { type: "SESSION_UP"; session: Session }
  | { type: "SESSION_DOWN"; session: Session }
  | { type: "SAY"; session: Session; ref?: string; text: string }
  | {
    type: "COMMITTED";
    session: Session;
    ref?: string;
    id: number;
    at: number;
    text: string;
    mentions?: string[];
  }
  | { type: "COMMIT_FAILED"; session: Session; ref?: string; stopping: boolean }
  | { type: "JOIN"; session: Session; ref?: string }
  | { type: "LEAVE"; session: Session; ref?: string }
  | { type: "WHO"; session: Session; ref?: string; status?: "online"; limit?: number }
  | { type: "HISTORY"; session: Session; ref?: string; query: HistoryQuery }
  | { type: "READ"; session: Session; ref?: string; id: number }
  | { type: "MEMBER_STORED"; user: UserSummary; session?: Session; ref?: string }
  | { type: "MEMBER_REMOVED"; user: UserSummary; session?: Session; ref?: string }
  | { type: "REQUEST_STORED"; user: UserSummary; session: Session; ref?: string; since: number }
  | { type: "DECIDE"; userId: number; accept: boolean; decider: Decider }
  | { type: "REQUESTS_WITHDRAWN"; userId: number }
  | { type: "STORE_FAILED"; session: Session; ref?: string; op: "join" | "leave" | "request" }
  | { type: "ADD_MEMBER"; user: UserSummary }
  | { type: "TYPING"; session: Session; ref?: string }
  | { type: "SET_SLOW_MODE"; seconds: number }
  // -- several instances (issue 15)
  | { type: "RELAYED"; messages: RelayedMessage[] }
  | { type: "JOINED_ELSEWHERE"; user: UserSummary; announce: boolean }
  | { type: "LEFT_ELSEWHERE"; userId: number }
  | { type: "PRESENCE_ELSEWHERE"; userId: number; online: boolean }
  | { type: "REQUESTED_ELSEWHERE"; user: UserSummary; since: number }
  | { type: "REQUEST_CLOSED_ELSEWHERE"; userId: number; outcome: "rejected" | "withdrawn" }
  | { type: "TYPED_ELSEWHERE"; user: UserSummary }
  | { type: "MEMBERS_RELOADED"; add: UserSummary[]; remove: number[]; epoch: number }
  | {
    type: "REQUESTS_RELOADED";
    add: Array<{ user: UserSummary; since: number }>;
    remove: number[];
    epoch: number;
  };
