/**
 * Catching up on SQLite (PROTOCOL.md 5.2): history pages `after` an id, read
 * markers (one row per user and salon in `read_markers`; per user and
 * conversation, the `last_read` of the user's row of `conversations`), the
 * conversation rows written with every direct, and the indexed reads behind
 * `welcome.salons[]`, `welcome.directs` and `conversations`. Every statement
 * is prepared once, with bound parameters.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import { conversationPage, pageAfter, readOutcome, toConversation } from "./catchup_rows.ts";
import type { Row } from "./rows.ts";
import {
  type ConversationPage,
  type ConversationQuery,
  type HistoryPage,
  type ReadMark,
  type ReadOutcome,
  type SalonCatchup,
  UNREAD_MAX,
} from "./store.ts";

const SALON_AFTER =
  `SELECT m.id AS id, m.text AS text, m.created_at AS created_at, m.mentions AS mentions,
            m.edited_at AS edited_at, m.deleted AS deleted,
         u.username AS from_username, u.alias AS from_alias
  FROM messages m JOIN users u ON u.id = m.user_id
  WHERE m.salon_id = ? AND m.id > ? ORDER BY m.id LIMIT ?`;
const DIRECT_AFTER = `SELECT d.id AS id, d.text AS text, d.created_at AS created_at,
            d.edited_at AS edited_at, d.deleted AS deleted,
         f.username AS from_username, f.alias AS from_alias,
         t.username AS to_username, t.alias AS to_alias
  FROM direct_messages d
  JOIN users f ON f.id = d.from_user_id JOIN users t ON t.id = d.to_user_id
  WHERE d.pair_low = ? AND d.pair_high = ? AND d.id > ? ORDER BY d.id LIMIT ?`;

const BUMP_SALON_MARKER = `INSERT INTO read_markers (user_id, salon_id, last_read) VALUES (?, ?, ?)
  ON CONFLICT (user_id, salon_id) DO UPDATE SET last_read = MAX(last_read, excluded.last_read)`;
const TOUCH_CONVERSATION = `INSERT INTO conversations (user_id, other_id, latest_id, at, last_read)
  VALUES (?, ?, ?, ?, ?)
  ON CONFLICT (user_id, other_id) DO UPDATE SET
    at = CASE WHEN excluded.latest_id > latest_id THEN excluded.at ELSE at END,
    latest_id = MAX(latest_id, excluded.latest_id),
    last_read = MAX(last_read, excluded.last_read)`;
const SALON_COUNTER = "SELECT last_message_id FROM salons WHERE id = ?";
const SALON_MARKER = "SELECT last_read FROM read_markers WHERE user_id = ? AND salon_id = ?";
const CONVERSATION_MARKER =
  "SELECT latest_id, last_read FROM conversations WHERE user_id = ? AND other_id = ?";
const MOVE_CONVERSATION_MARKER = `UPDATE conversations SET last_read = MAX(last_read, ?)
  WHERE user_id = ? AND other_id = ?`;

const USER_MARKERS = "SELECT salon_id, last_read FROM read_markers WHERE user_id = ?";
const SALON_LATEST = "SELECT COALESCE(MAX(id), 0) AS latest FROM messages WHERE salon_id = ?";
const SALON_UNREAD = `SELECT COUNT(*) AS n FROM
  (SELECT 1 FROM messages WHERE salon_id = ? AND id > ? LIMIT ${UNREAD_MAX})`;
const DIRECT_UNREAD = `SELECT COUNT(*) AS n FROM
  (SELECT 1 FROM direct_messages WHERE pair_low = ? AND pair_high = ? AND id > ? LIMIT ${UNREAD_MAX})`;
const CONVERSATION_COLUMNS = `c.other_id AS other_id, u.username AS username, u.alias AS alias,
  u.role AS role, c.latest_id AS latest_id, c.last_read AS last_read, c.at AS at`;
const RECENT_CONVERSATIONS = `SELECT ${CONVERSATION_COLUMNS}
  FROM conversations c JOIN users u ON u.id = c.other_id
  WHERE c.user_id = ? AND c.at < ? ORDER BY c.at DESC, c.other_id DESC LIMIT ?`;
const CONVERSATIONS_AT = `SELECT ${CONVERSATION_COLUMNS}
  FROM conversations c JOIN users u ON u.id = c.other_id
  WHERE c.user_id = ? AND c.at = ? ORDER BY c.other_id DESC`;
const OLDER_CONVERSATION = "SELECT 1 FROM conversations WHERE user_id = ? AND at < ? LIMIT 1";

/** After a purge of a user's directs: conversations left without any message go... */
const PURGE_EMPTY = `DELETE FROM conversations WHERE (user_id = ? OR other_id = ?) AND NOT EXISTS
  (SELECT 1 FROM direct_messages d
   WHERE d.pair_low = MIN(conversations.user_id, conversations.other_id)
     AND d.pair_high = MAX(conversations.user_id, conversations.other_id))`;
/** ...and the others point at their newest remaining message. */
const PURGE_REFRESH = `UPDATE conversations SET
    latest_id = (SELECT MAX(d.id) FROM direct_messages d
                 WHERE d.pair_low = MIN(conversations.user_id, conversations.other_id)
                   AND d.pair_high = MAX(conversations.user_id, conversations.other_id)),
    at = (SELECT d.created_at FROM direct_messages d
          WHERE d.pair_low = MIN(conversations.user_id, conversations.other_id)
            AND d.pair_high = MAX(conversations.user_id, conversations.other_id)
          ORDER BY d.id DESC LIMIT 1)
  WHERE user_id = ? OR other_id = ?`;

/** Largest id a query may be asked about (no cursor: from the end). */
const NO_CURSOR = Number.MAX_SAFE_INTEGER;

/** The catch-up statements of one SQLite connection, prepared on first use. */
export class SqliteMarkers {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  /** Works on `db` (migrated already). */
  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  #q(sql: string): StatementSync {
    let st = this.#statements.get(sql);
    if (!st) {
      st = this.#db.prepare(sql);
      this.#statements.set(sql, st);
    }
    return st;
  }

  // --- written with each message (inside the caller's transaction) ----------

  /** A salon message `id` by `userId`: their marker there moves to it. */
  salonSent(userId: number, salonId: number, id: number): void {
    this.#q(BUMP_SALON_MARKER).run(userId, salonId, id);
  }

  /**
   * A direct `id` from `fromId` to `toId` at `at`: both users' conversation
   * rows get it as their newest message, and the sender's marker moves to it.
   */
  directSent(fromId: number, toId: number, id: number, at: number): void {
    this.#q(TOUCH_CONVERSATION).run(fromId, toId, id, at, id);
    if (toId !== fromId) this.#q(TOUCH_CONVERSATION).run(toId, fromId, id, at, 0);
  }

  // --- read markers ------------------------------------------------------------

  /** Applies a `read` in its own transaction (see Store.markRead). */
  markRead(mark: ReadMark): ReadOutcome {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const outcome = "salonId" in mark ? this.#markSalon(mark) : this.#markDirect(mark);
      this.#db.exec("COMMIT");
      return outcome;
    } catch (e) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw e;
    }
  }

  #markSalon(mark: ReadMark & { salonId: number }): ReadOutcome {
    const latest = Number(this.#q(SALON_COUNTER).get(mark.salonId)?.last_message_id ?? 0);
    const before = Number(this.#q(SALON_MARKER).get(mark.userId, mark.salonId)?.last_read ?? 0);
    const outcome = readOutcome(mark.id, latest, before);
    if (outcome.outcome === "moved") this.salonSent(mark.userId, mark.salonId, mark.id);
    return outcome;
  }

  #markDirect(mark: ReadMark & { otherId: number }): ReadOutcome {
    const row = this.#q(CONVERSATION_MARKER).get(mark.userId, mark.otherId);
    const outcome = readOutcome(
      mark.id,
      Number(row?.latest_id ?? 0),
      Number(row?.last_read ?? 0),
    );
    if (outcome.outcome === "moved") {
      this.#q(MOVE_CONVERSATION_MARKER).run(mark.id, mark.userId, mark.otherId);
    }
    return outcome;
  }

  // --- reads -------------------------------------------------------------------------

  /** A page of a salon's history above `after`, oldest first. */
  salonAfter(salonId: number, after: number, limit: number): HistoryPage {
    return pageAfter(this.#q(SALON_AFTER).all(salonId, after, limit + 1) as Row[], limit);
  }

  /** A page of a direct conversation above `after`, oldest first. */
  directAfter(userA: number, userB: number, after: number, limit: number): HistoryPage {
    const rows = this.#q(DIRECT_AFTER).all(
      Math.min(userA, userB),
      Math.max(userA, userB),
      after,
      limit + 1,
    ) as Row[];
    return pageAfter(rows, limit);
  }

  /** See Store.salonCatchup. */
  salonCatchup(userId: number, salonIds: readonly number[]): SalonCatchup[] {
    const markers = new Map(
      this.#q(USER_MARKERS).all(userId).map((r): [number, number] => [
        Number(r.salon_id),
        Number(r.last_read),
      ]),
    );
    return salonIds.map((salonId) => {
      const lastRead = markers.get(salonId) ?? 0;
      const latest = Number(this.#q(SALON_LATEST).get(salonId)?.latest ?? 0);
      const unread = latest > lastRead
        ? Number(this.#q(SALON_UNREAD).get(salonId, lastRead)?.n ?? 0)
        : 0;
      return { salonId, latest, lastRead, unread };
    });
  }

  /** See Store.conversations. */
  conversations(userId: number, query: ConversationQuery): ConversationPage {
    const rows = this.#q(RECENT_CONVERSATIONS).all(
      userId,
      query.before ?? NO_CURSOR,
      query.limit + 1,
    ) as Row[];
    let page = conversationPage(rows, query.limit);
    if (page.tieAt !== undefined) {
      const group = this.#q(CONVERSATIONS_AT).all(userId, page.tieAt) as Row[];
      const older = this.#q(OLDER_CONVERSATION).get(userId, page.tieAt) !== undefined;
      page = { rows: group, more: older };
    }
    return {
      conversations: page.rows.map((r) => toConversation(r, this.#directUnread(userId, r))),
      more: page.more,
    };
  }

  #directUnread(userId: number, row: Row): number {
    const lastRead = Number(row.last_read);
    if (Number(row.latest_id) <= lastRead) return 0;
    const other = Number(row.other_id);
    return Number(
      this.#q(DIRECT_UNREAD).get(Math.min(userId, other), Math.max(userId, other), lastRead)?.n ??
        0,
    );
  }

  /**
   * After `userId`'s directs were purged (a ban), inside that transaction:
   * conversations point at their newest remaining message; emptied ones go.
   */
  purged(userId: number): void {
    this.#q(PURGE_EMPTY).run(userId, userId);
    this.#q(PURGE_REFRESH).run(userId, userId);
  }
}
