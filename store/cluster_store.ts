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

import type { UserSummary } from "./store.ts";

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
