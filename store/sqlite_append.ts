/**
 * The one write path of chat messages and membership changes into SQLite:
 * a batch of messages in one `BEGIN IMMEDIATE` transaction, salon ids taken
 * from the salon's counter (which never goes back, even after a purge),
 * direct ids from the table; a membership change (join, leave, request,
 * withdrawal) or a read marker in a transaction of its own. Each message
 * also moves its sender's read marker, and a direct refreshes both users'
 * conversation rows, in the message's transaction. Used by the writer thread
 * (`sqlite_writer_worker.ts`) and, for an in-memory database, by the store
 * itself.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import { mentionColumn } from "./mentions_sql.ts";
import { SqliteMarkers } from "./sqlite_markers.ts";
import type { NewMessage, ReadMark, ReadOutcome } from "./store.ts";

const NEXT_SALON_ID =
  "UPDATE salons SET last_message_id = last_message_id + 1 WHERE id = ? RETURNING last_message_id";
const INSERT_SALON_MESSAGE =
  "INSERT INTO messages (salon_id, id, user_id, text, created_at, mentions) VALUES (?, ?, ?, ?, ?, ?)";
const INSERT_MENTION =
  "INSERT INTO message_mentions (user_id, salon_id, message_id) VALUES (?, ?, ?)";
const INSERT_DIRECT_MESSAGE = `INSERT INTO direct_messages
  (from_user_id, to_user_id, pair_low, pair_high, text, created_at) VALUES (?, ?, ?, ?, ?, ?)`;

const ADD_MEMBER =
  "INSERT OR IGNORE INTO memberships (salon_id, user_id, joined_at) VALUES (?, ?, ?)";
const REMOVE_MEMBER = "DELETE FROM memberships WHERE salon_id = ? AND user_id = ?";
const ADD_JOIN_REQUEST =
  "INSERT OR IGNORE INTO join_requests (salon_id, user_id, created_at) VALUES (?, ?, ?)";
const REMOVE_JOIN_REQUEST = "DELETE FROM join_requests WHERE salon_id = ? AND user_id = ?";

/**
 * One membership change: `addMember` also closes a pending request;
 * `at` is the time stored with a membership or a request (epoch ms).
 */
export type MembershipChange =
  | { op: "addMember"; salonId: number; userId: number; at: number }
  | { op: "removeMember"; salonId: number; userId: number }
  | { op: "addJoinRequest"; salonId: number; userId: number; at: number }
  | { op: "removeJoinRequest"; salonId: number; userId: number };

/** Appends batches of messages to one connection, with its statements prepared once. */
export class SqliteAppender {
  readonly #db: DatabaseSync;
  readonly #nextSalonId: StatementSync;
  /** Prepared at the first salon message (see {@link SqliteAppender.constructor}). */
  #insertSalon: StatementSync | undefined;
  readonly #insertDirect: StatementSync;
  #insertMention: StatementSync | undefined;

  readonly #addMember: StatementSync;
  readonly #removeMember: StatementSync;
  readonly #addJoinRequest: StatementSync;
  readonly #removeJoinRequest: StatementSync;
  readonly #markers: SqliteMarkers;

  /**
   * Prepares the statements on `db` (migrated already). Those that name the
   * columns of the latest migrations (the salon message insert, with its
   * mentions) wait for the first salon message, so that a store opened on an
   * older schema (a migration test) still opens.
   */
  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#nextSalonId = db.prepare(NEXT_SALON_ID);
    this.#insertDirect = db.prepare(INSERT_DIRECT_MESSAGE);
    this.#addMember = db.prepare(ADD_MEMBER);
    this.#removeMember = db.prepare(REMOVE_MEMBER);
    this.#addJoinRequest = db.prepare(ADD_JOIN_REQUEST);
    this.#removeJoinRequest = db.prepare(REMOVE_JOIN_REQUEST);
    this.#markers = new SqliteMarkers(db);
  }

  /** Applies a `read` in its own transaction (see Store.markRead). */
  markRead(mark: ReadMark): ReadOutcome {
    return this.#markers.markRead(mark);
  }

  /**
   * Applies one membership change in its own transaction. Returns whether a
   * row changed (for the removals: whether there was something to remove).
   * Throws, having rolled back, on any failure.
   */
  applyMembership(change: MembershipChange): boolean {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      let changed: number | bigint;
      switch (change.op) {
        case "addMember":
          changed = this.#addMember.run(change.salonId, change.userId, change.at).changes;
          this.#removeJoinRequest.run(change.salonId, change.userId);
          break;
        case "removeMember":
          changed = this.#removeMember.run(change.salonId, change.userId).changes;
          break;
        case "addJoinRequest":
          changed = this.#addJoinRequest.run(change.salonId, change.userId, change.at).changes;
          break;
        case "removeJoinRequest":
          changed = this.#removeJoinRequest.run(change.salonId, change.userId).changes;
          break;
      }
      this.#db.exec("COMMIT");
      return Number(changed) > 0;
    } catch (e) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw e;
    }
  }

  /**
   * Commits the batch in one transaction and returns the ids in batch order.
   * Throws (having rolled back: nothing of the batch is stored) on any failure.
   */
  append(batch: readonly NewMessage[]): number[] {
    if (batch.length === 0) return [];
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const ids = batch.map((m) => this.#one(m));
      this.#db.exec("COMMIT");
      return ids;
    } catch (e) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw e;
    }
  }

  #one(m: NewMessage): number {
    if (m.kind === "salon") {
      const row = this.#nextSalonId.get(m.salonId);
      if (!row) throw new Error(`salon ${m.salonId} does not exist`);
      const id = Number(row.last_message_id);
      const mentions = m.mentions ?? [];
      this.#insertSalon ??= this.#db.prepare(INSERT_SALON_MESSAGE);
      this.#insertSalon.run(m.salonId, id, m.userId, m.text, m.at, mentionColumn(mentions));
      if (mentions.length > 0) {
        this.#insertMention ??= this.#db.prepare(INSERT_MENTION);
        for (const { userId } of mentions) this.#insertMention.run(userId, m.salonId, id);
      }
      this.#markers.salonSent(m.userId, m.salonId, id);
      return id;
    }
    const low = Math.min(m.fromUserId, m.toUserId);
    const high = Math.max(m.fromUserId, m.toUserId);
    const result = this.#insertDirect.run(m.fromUserId, m.toUserId, low, high, m.text, m.at);
    const id = Number(result.lastInsertRowid);
    this.#markers.directSent(m.fromUserId, m.toUserId, id, m.at);
    return id;
  }
}
