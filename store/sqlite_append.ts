/**
 * The one write path of chat messages into SQLite: a batch in one
 * `BEGIN IMMEDIATE` transaction, salon ids taken from the salon's counter
 * (which never goes back, even after a purge), direct ids from the table.
 * Used by the writer thread (`sqlite_writer_worker.ts`) and, for an
 * in-memory database, by the store itself.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { NewMessage } from "./store.ts";

const NEXT_SALON_ID =
  "UPDATE salons SET last_message_id = last_message_id + 1 WHERE id = ? RETURNING last_message_id";
const INSERT_SALON_MESSAGE =
  "INSERT INTO messages (salon_id, id, user_id, text, created_at) VALUES (?, ?, ?, ?, ?)";
const INSERT_DIRECT_MESSAGE = `INSERT INTO direct_messages
  (from_user_id, to_user_id, pair_low, pair_high, text, created_at) VALUES (?, ?, ?, ?, ?, ?)`;

/** Appends batches of messages to one connection, with its statements prepared once. */
export class SqliteAppender {
  readonly #db: DatabaseSync;
  readonly #nextSalonId: StatementSync;
  readonly #insertSalon: StatementSync;
  readonly #insertDirect: StatementSync;

  /** Prepares the statements on `db` (migrated already). */
  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#nextSalonId = db.prepare(NEXT_SALON_ID);
    this.#insertSalon = db.prepare(INSERT_SALON_MESSAGE);
    this.#insertDirect = db.prepare(INSERT_DIRECT_MESSAGE);
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
      this.#insertSalon.run(m.salonId, id, m.userId, m.text, m.at);
      return id;
    }
    const low = Math.min(m.fromUserId, m.toUserId);
    const high = Math.max(m.fromUserId, m.toUserId);
    const result = this.#insertDirect.run(m.fromUserId, m.toUserId, low, high, m.text, m.at);
    return Number(result.lastInsertRowid);
  }
}
