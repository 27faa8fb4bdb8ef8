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

import type { NewMessage } from "./store.ts";

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
