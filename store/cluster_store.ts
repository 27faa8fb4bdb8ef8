/**
 * What several instances share in MySQL besides the chat (issue 15): the
 * `nodes` table (one row per running instance, beating on the database's
 * clock) and the `live_sessions` table (the WebSocket sessions each instance
 * holds). Only the MySQL adapter implements it (`Store.cluster`); a bus
 * needs MySQL, so SQLite has no such tables.
 *
 * Every time here is the database's clock (epoch ms), never an instance's:
 * instances on several machines compare beats without trusting each other's
 * clocks.
 *
 * @module
 */

import type { NewMessage, Role, SanctionRecord, UserSummary } from "./store.ts";

/** A registered instance. */
export interface NodeRecord {
  /** Its id, random at each start. */
  id: string;
  /** When it registered, epoch ms (database clock). */
  startedAt: number;
  /** Its last beat, epoch ms (database clock). */
  beatAt: number;
}

/** What reaping dead instances did. */
export interface Reaped {
  /** The instances removed, with their live sessions. */
  nodes: string[];
  /** Users who had a session on them and have none left on any instance, ascending. */
  offlineUserIds: number[];
}

/** What moderation across instances re-reads of a user (runtime/cluster_users.ts). */
export interface UserState {
  /** The user's role now. */
  role: Role;
  /** Kicks and bans in force, ascending id. */
  sanctions: SanctionRecord[];
}

/** Most ids in one `IN` list of {@link ClusterStore.userStates}. */
export const USER_STATES_CHUNK = 500;

/** A live session, as `live_sessions` holds it. */
export interface LiveSessionRecord {
  /** The instance holding it. */
  nodeId: string;
  /** Its id on that instance. */
  sessionId: string;
  /** When it was recorded, epoch ms (database clock). */
  since: number;
}

/** A user with at least one live session on an instance. */
export interface LiveUserRecord {
  /** The instance. */
  nodeId: string;
  /** The user. */
  userId: number;
  /** The user's name (for `presence` frames). */
  username: string;
}

/** The cluster tables (MySQL only). */
export interface ClusterStore {
  /** The database's clock now, epoch ms. */
  clusterNow(): Promise<number>;
  /** Records a new instance, beaten now; an id taken already throws. Returns the beat time. */
  registerNode(nodeId: string): Promise<number>;
  /**
   * Records a beat of `nodeId`. Returns false, changing nothing, when the
   * node is no longer registered (another instance reaped it).
   */
  beatNode(nodeId: string): Promise<boolean>;
  /** The instances that beat within the last `withinMs`, oldest registration first. */
  liveNodes(withinMs: number): Promise<NodeRecord[]>;
  /**
   * Removes, in one transaction, every instance whose last beat is older
   * than `deadMs`, and their live sessions. Two instances reaping at once
   * never both report the same node.
   */
  reapDeadNodes(deadMs: number): Promise<Reaped>;
  /** Removes one instance and its live sessions (a clean stop). */
  unregisterNode(nodeId: string): Promise<Reaped>;
  /**
   * Records a live session of `userId` on `nodeId`. Returns false, storing
   * nothing, when the node is no longer registered (reaped).
   */
  addLiveSession(nodeId: string, sessionId: string, userId: number): Promise<boolean>;
  /** Removes a live session; returns whether it was there. */
  removeLiveSession(nodeId: string, sessionId: string): Promise<boolean>;
  /**
   * How many live sessions `userId` has on every instance that beat within
   * `aliveWithinMs` (sessions of a silent instance not reaped yet do not count).
   */
  countLiveSessions(userId: number, aliveWithinMs: number): Promise<number>;
  /**
   * The id of the last message committed in each salon (0 for none), by
   * salon id: the periodic check of the ordered delivery (runtime/salon_relay.ts)
   * compares it with what this instance delivered.
   */
  salonLatestIds(): Promise<Map<number, number>>;
  // -- moderation across instances (runtime/cluster_users.ts)
  /**
   * The role and the kicks and bans in force at `now` of each of `userIds`
   * that exists, by id: the periodic check of moderation across instances
   * re-reads the users with sessions on this instance. Read in chunks of
   * {@link USER_STATES_CHUNK} bound ids (primary key and `sanctions_user`
   * look-ups).
   */
  userStates(userIds: readonly number[], now: number): Promise<Map<number, UserState>>;
  // -- the shutdown countdown across instances (migration 10, runtime/cluster_shutdown.ts)
  /**
   * Records an admin's shutdown order as the latest (a cancel recorded first stays: the order
   * stays cancelled); forgets orders whose deadline is more than a day older.
   */
  recordShutdown(deadline: number): Promise<void>;
  /** Records the order of `deadline` cancelled (recorded or not yet). */
  cancelShutdownRecord(deadline: number): Promise<void>;
  /** The latest recorded order, if any. */
  shutdownRecord(): Promise<ShutdownRecord | undefined>;
  // -- presence and sessions across instances (issue 15, items 2 and 4)
  /**
   * The live sessions of `userId` on every instance that beat within
   * `aliveWithinMs`, oldest first (by `since`, then node and session id):
   * the session limit across instances replaces the first ones beyond it.
   */
  userLiveSessions(userId: number, aliveWithinMs: number): Promise<LiveSessionRecord[]>;
  /**
   * Users with more than `max` live sessions on the instances that beat
   * within `aliveWithinMs`, ascending (the periodic check of the session limit).
   */
  usersOverSessionLimit(max: number, aliveWithinMs: number): Promise<number[]>;
  /**
   * Who is online where: one row per instance that beat within
   * `aliveWithinMs` and user with a live session there (the rebuild of
   * presence across instances).
   */
  liveUsersByNode(aliveWithinMs: number): Promise<LiveUserRecord[]>;

  // -- salon events across instances (issue 15: join requests, membership recovery)
  /**
   * Closes `userId`'s pending join request for `salonId` if it is still
   * there, in one transaction: with `accept`, the user becomes a member.
   * Returns false, changing nothing, when there was no such request (another
   * instance decided first, or the request was withdrawn): of two moderators
   * deciding at once on two instances, exactly one gets true.
   */
  closeJoinRequest(salonId: number, userId: number, accept: boolean, now: number): Promise<boolean>;
  /**
   * A digest of each salon's member set (salons without members are absent),
   * as {@link membershipDigest} computes it from user ids: the check compares
   * it with what a replica holds and reloads only the salons that differ.
   */
  membershipDigests(): Promise<Map<number, string>>;
  /** The members of one salon, with their names (a replica's reload). */
  salonMembers(salonId: number): Promise<UserSummary[]>;

  // --- direct conversations in order (issue 15; store/mysql_direct_order.ts)
  /**
   * Commits a batch as `Store.appendMessages` does, after locking the
   * conversation of each direct message (two instances writing to one
   * conversation commit one after the other, so a conversation's ids are
   * committed in increasing order); with each direct message's previous id
   * in its conversation.
   */
  appendOrdered(batch: NewMessage[]): Promise<OrderedAppend>;
  /** The newest message id of every conversation of `userId` (0: none). */
  conversationBaseline(userId: number): Promise<number>;
  /**
   * The conversations (rows of `conversations`) of `userIds` whose newest
   * message was written at or after `since` (epoch ms).
   */
  recentConversations(userIds: readonly number[], since: number): Promise<ConversationLatest[]>;
}

/** An admin's shutdown order of the cluster (migration 10). */
export interface ShutdownRecord {
  /** Its deadline, epoch ms (the ordering instance's clock). */
  deadline: number;
  /** Whether it was cancelled. */
  cancelled: boolean;
}

/**
 * The digest of a member set: `count:sum:sum of squares` of the user ids, in
 * decimal (exact, with bigints). Two sets that differ by one or two users
 * never share it; it only decides whether a salon is read again, so a rare
 * collision of larger differences just waits for the next change.
 */
export function membershipDigest(userIds: Iterable<number>): string {
  let count = 0;
  let sum = 0n;
  let squares = 0n;
  for (const id of userIds) {
    const b = BigInt(id);
    count++;
    sum += b;
    squares += b * b;
  }
  return `${count}:${sum}:${squares}`;
}

/** What {@link ClusterStore.appendOrdered} committed. */
export interface OrderedAppend {
  /** The new ids, in batch order. */
  ids: number[];
  /**
   * For each direct message, the id of the message before it in its
   * conversation (0: it is the first); 0 for a salon message.
   */
  prev: number[];
}

/** The newest message of one user's conversation. */
export interface ConversationLatest {
  /** The user whose row it is. */
  userId: number;
  /** The other side. */
  otherId: number;
  /** The conversation's newest message id. */
  latestId: number;
}
