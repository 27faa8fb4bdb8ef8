/**
 * The SQLite adapter of {@link Store}, on `node:sqlite`: WAL journal, foreign
 * keys on, `synchronous=FULL`, every write in an explicit `BEGIN IMMEDIATE`
 * transaction, every statement prepared once with bound parameters. Chat
 * messages and membership changes (join, leave, join requests) of a file
 * database are committed by a writer thread on its own connection
 * (`sqlite_writer.ts`), so the disk sync of each commit does not stop the
 * event loop.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { SalonConfig } from "../config/salons.ts";
import { aliasKey, nameKey } from "../protocol/names.ts";
import { page, toAuthoredSanction, toSalon, toSalonUser, toSanction, toUser } from "./rows.ts";
import { type MembershipChange, SqliteAppender } from "./sqlite_append.ts";
import { SqliteMarkers } from "./sqlite_markers.ts";
import { SQLITE_PURGE_MENTIONS, sqliteUnreadMentions } from "./mentions_sql.ts";
import { migrate } from "./sqlite_migrate.ts";
import { SqliteWriterThread } from "./sqlite_writer.ts";
import {
  type AuditEntry,
  type AuthoredSanction,
  ConflictError,
  type ConversationPage,
  type ConversationQuery,
  type HistoryPage,
  type HistoryQuery,
  type NewMessage,
  type NewUser,
  type ReadMark,
  type ReadOutcome,
  type Role,
  type SalonCatchup,
  type SalonRecord,
  type SalonUserRow,
  type SanctionRecord,
  type SessionLookup,
  type Store,
  type UserRecord,
  type UserSummary,
} from "./store.ts";

const USER_COLUMNS = "id, username, alias, role, password_hash, created_at";

/**
 * A token's last use is written at most this often: each write is a synced
 * transaction on the event loop, and a 30-day expiry needs no finer clock.
 */
const TOKEN_TOUCH_MS = 60 * 60 * 1000;

/** Options of {@link openSqliteStore}. */
export interface SqliteOptions {
  /** Migration SQL; defaults to `sqlite_schema.sql` beside this file. */
  schema?: string;
  /** Told of what a migration found but did not stop for (aliases that look alike). */
  onWarning?: (message: string) => void;
}

/**
 * Opens (creating if needed) a SQLite database at `path` (`:memory:` for a
 * private in-memory one) and applies pending migrations.
 */
export async function openSqliteStore(path: string, opts: SqliteOptions = {}): Promise<Store> {
  const schema = opts.schema ??
    await Deno.readTextFile(new URL("./sqlite_schema.sql", import.meta.url));
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL");
    db.exec("PRAGMA foreign_keys = ON");
    migrate(db, schema, opts.onWarning ?? ((m) => console.warn(`causerie: ${m}`)));
  } catch (e) {
    db.close();
    throw e;
  }
  let writer: SqliteWriterThread | undefined;
  if (path !== ":memory:") {
    try {
      writer = await SqliteWriterThread.open(path);
    } catch (e) {
      db.close();
      throw e;
    }
  }
  return rejectInsteadOfThrowing(new SqliteStore(db, writer));
}

/**
 * `node:sqlite` is synchronous, so a failing statement throws inside the
 * method. The Store contract is promises: this wrapper turns every such
 * throw into a rejected promise, so callers handle one kind of failure.
 */
function rejectInsteadOfThrowing(store: SqliteStore): Store {
  return new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        try {
          return value.apply(target, args);
        } catch (e) {
          return Promise.reject(e);
        }
      };
    },
  });
}

class SqliteStore implements Store {
  readonly kind = "sqlite" as const;
  #db: DatabaseSync;
  #statements = new Map<string, StatementSync>();
  #closed = false;
  /** Commits chat messages on its own connection, off the event loop (file databases). */
  #writer: SqliteWriterThread | undefined;
  #appender: SqliteAppender | undefined;
  /** Catch-up reads (history after an id, markers, conversations) on this connection. */
  #markers: SqliteMarkers;

  constructor(db: DatabaseSync, writer?: SqliteWriterThread) {
    this.#db = db;
    this.#writer = writer;
    this.#markers = new SqliteMarkers(db);
  }

  #q(sql: string): StatementSync {
    let st = this.#statements.get(sql);
    if (!st) {
      st = this.#db.prepare(sql);
      this.#statements.set(sql, st);
    }
    return st;
  }

  #tx<T>(fn: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = fn();
      this.#db.exec("COMMIT");
      return result;
    } catch (e) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw e;
    }
  }

  ping(): Promise<void> {
    this.#q("SELECT 1").get();
    return Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#writer?.close();
    this.#statements.clear();
    this.#db.close();
  }

  syncSalons(salons: SalonConfig[], now: number): Promise<SalonRecord[]> {
    this.#tx(() => {
      const auto = salons.find((s) => s.policy === "auto");
      for (const s of salons) {
        const key = nameKey(s.name);
        const existing = this.#q("SELECT id FROM salons WHERE name_key = ?").get(key);
        if (existing) {
          this.#q("UPDATE salons SET name = ?, policy = ? WHERE id = ?")
            .run(s.name, s.policy, Number(existing.id));
        } else {
          this.#q("INSERT INTO salons (name, name_key, policy, created_at) VALUES (?, ?, ?, ?)")
            .run(s.name, key, s.policy, now);
        }
      }
      if (auto) {
        const autoId = Number(
          this.#q("SELECT id FROM salons WHERE name_key = ?").get(nameKey(auto.name))!.id,
        );
        this.#q("UPDATE salons SET policy = 'open' WHERE policy = 'auto' AND id <> ?").run(autoId);
        this.#q(
          "INSERT OR IGNORE INTO memberships (salon_id, user_id, joined_at) SELECT ?, id, ? FROM users",
        ).run(autoId, now);
        this.#q("DELETE FROM join_requests WHERE salon_id = ?").run(autoId);
      }
    });
    return this.listSalons();
  }

  listSalons(): Promise<SalonRecord[]> {
    return Promise.resolve(
      this.#q("SELECT id, name, policy FROM salons ORDER BY id").all().map(toSalon),
    );
  }

  createUser(user: NewUser, now: number): Promise<UserRecord> {
    const usernameKey = nameKey(user.username);
    const aliasKeyOf = aliasKey(user.alias);
    try {
      const id = this.#tx(() => {
        if (this.#q("SELECT 1 FROM users WHERE username_key = ?").get(usernameKey)) {
          throw new ConflictError("username");
        }
        if (this.#q("SELECT 1 FROM users WHERE alias_key = ?").get(aliasKeyOf)) {
          throw new ConflictError("alias");
        }
        const result = this.#q(
          `INSERT INTO users (username, username_key, alias, alias_key, password_hash, role, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        ).run(
          user.username,
          usernameKey,
          user.alias,
          aliasKeyOf,
          user.passwordHash,
          user.role,
          now,
        );
        const userId = Number(result.lastInsertRowid);
        this.#q(
          `INSERT INTO memberships (salon_id, user_id, joined_at)
           SELECT id, ?, ? FROM salons WHERE policy = 'auto'`,
        ).run(userId, now);
        return userId;
      });
      return Promise.resolve({
        id,
        username: user.username,
        alias: user.alias,
        role: user.role,
        passwordHash: user.passwordHash,
        createdAt: now,
      });
    } catch (e) {
      if (e instanceof ConflictError) return Promise.reject(e);
      const message = (e as Error).message ?? "";
      if (message.includes("users.username_key")) {
        return Promise.reject(new ConflictError("username"));
      }
      if (message.includes("users.alias_key")) return Promise.reject(new ConflictError("alias"));
      return Promise.reject(e);
    }
  }

  aliasTaken(alias: string): Promise<boolean> {
    return Promise.resolve(
      this.#q("SELECT 1 FROM users WHERE alias_key = ?").get(aliasKey(alias)) !== undefined,
    );
  }

  userByName(username: string): Promise<UserRecord | undefined> {
    return Promise.resolve(
      toUser(
        this.#q(`SELECT ${USER_COLUMNS} FROM users WHERE username_key = ?`).get(
          nameKey(username),
        ),
      ),
    );
  }

  userById(id: number): Promise<UserRecord | undefined> {
    return Promise.resolve(
      toUser(this.#q(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`).get(id)),
    );
  }

  hasAdmin(): Promise<boolean> {
    return Promise.resolve(
      this.#q("SELECT 1 FROM users WHERE role = 'admin' LIMIT 1").get() !== undefined,
    );
  }

  setRole(userId: number, role: Role): Promise<void> {
    this.#tx(() => this.#q("UPDATE users SET role = ? WHERE id = ?").run(role, userId));
    return Promise.resolve();
  }

  setPassword(userId: number, passwordHash: string): Promise<void> {
    this.#tx(() => {
      this.#q("UPDATE users SET password_hash = ? WHERE id = ?").run(passwordHash, userId);
      this.#q("DELETE FROM sessions WHERE user_id = ?").run(userId);
    });
    return Promise.resolve();
  }

  createSession(
    userId: number,
    tokenHash: string,
    opts: SessionLookup & { maxPerUser: number },
  ): Promise<void> {
    this.#tx(() => {
      this.#q("DELETE FROM sessions WHERE user_id = ? AND last_used_at < ?")
        .run(userId, opts.now - opts.maxIdleMs);
      this.#q(
        `DELETE FROM sessions WHERE user_id = ? AND token_hash NOT IN (
           SELECT token_hash FROM sessions WHERE user_id = ?
           ORDER BY last_used_at DESC, created_at DESC LIMIT ?)`,
      ).run(userId, userId, Math.max(0, opts.maxPerUser - 1));
      this.#q(
        "INSERT INTO sessions (token_hash, user_id, created_at, last_used_at) VALUES (?, ?, ?, ?)",
      ).run(tokenHash, userId, opts.now, opts.now);
    });
    return Promise.resolve();
  }

  sessionUser(tokenHash: string, opts: SessionLookup): Promise<UserRecord | undefined> {
    const row = this.#q(
      `SELECT s.last_used_at AS last_used_at, u.id AS id, u.username AS username, u.alias AS alias,
              u.role AS role, u.password_hash AS password_hash, u.created_at AS created_at
       FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.token_hash = ? AND s.revoked_by_ban = 0`,
    ).get(tokenHash);
    if (!row) return Promise.resolve(undefined);
    const lastUsed = Number(row.last_used_at);
    if (opts.now - lastUsed > opts.maxIdleMs) {
      this.#tx(() => this.#q("DELETE FROM sessions WHERE token_hash = ?").run(tokenHash));
      return Promise.resolve(undefined);
    }
    if (opts.now - lastUsed >= TOKEN_TOUCH_MS) {
      this.#tx(() =>
        this.#q("UPDATE sessions SET last_used_at = ? WHERE token_hash = ?").run(
          opts.now,
          tokenHash,
        )
      );
    }
    return Promise.resolve(toUser(row));
  }

  bannedTokenOwner(tokenHash: string): Promise<UserRecord | undefined> {
    return Promise.resolve(toUser(
      this.#q(
        `SELECT u.id AS id, u.username AS username, u.alias AS alias, u.role AS role,
                u.password_hash AS password_hash, u.created_at AS created_at
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = ? AND s.revoked_by_ban = 1`,
      ).get(tokenHash),
    ));
  }

  deleteSession(tokenHash: string): Promise<boolean> {
    const result = this.#tx(() =>
      this.#q("DELETE FROM sessions WHERE token_hash = ?").run(tokenHash)
    );
    return Promise.resolve(Number(result.changes) > 0);
  }

  deleteUserSessions(userId: number): Promise<number> {
    const result = this.#tx(() => this.#q("DELETE FROM sessions WHERE user_id = ?").run(userId));
    return Promise.resolve(Number(result.changes));
  }

  memberSalonIds(userId: number): Promise<number[]> {
    return Promise.resolve(
      this.#q("SELECT salon_id FROM memberships WHERE user_id = ? ORDER BY salon_id").all(userId)
        .map((r) => Number(r.salon_id)),
    );
  }

  pendingSalonIds(userId: number): Promise<number[]> {
    return Promise.resolve(
      this.#q("SELECT salon_id FROM join_requests WHERE user_id = ? ORDER BY salon_id").all(userId)
        .map((r) => Number(r.salon_id)),
    );
  }

  addSanction(
    sanction: Omit<SanctionRecord, "id">,
    byUserId: number | null,
  ): Promise<SanctionRecord> {
    const result = this.#tx(() =>
      this.#q(
        `INSERT INTO sanctions (user_id, kind, until_at, reason, by_user_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ).run(
        sanction.userId,
        sanction.kind,
        sanction.until,
        sanction.reason,
        byUserId,
        sanction.createdAt,
      )
    );
    return Promise.resolve({ ...sanction, id: Number(result.lastInsertRowid) });
  }

  activeSanction(userId: number, now: number): Promise<SanctionRecord | undefined> {
    return Promise.resolve(toSanction(
      this.#q(
        `SELECT id, user_id, kind, until_at, reason, created_at FROM sanctions
         WHERE user_id = ? AND lifted_at IS NULL AND (until_at IS NULL OR until_at > ?)
         ORDER BY (until_at IS NULL) DESC, until_at DESC LIMIT 1`,
      ).get(userId, now),
    ));
  }

  activeSanctionsOf(userId: number, now: number): Promise<AuthoredSanction[]> {
    return Promise.resolve(
      this.#q(
        `SELECT s.id AS id, s.user_id AS user_id, s.kind AS kind, s.until_at AS until_at,
                s.reason AS reason, s.created_at AS created_at,
                u.username AS by_username, u.role AS by_role
         FROM sanctions s LEFT JOIN users u ON u.id = s.by_user_id
         WHERE s.user_id = ? AND s.lifted_at IS NULL AND (s.until_at IS NULL OR s.until_at > ?)
         ORDER BY s.id`,
      ).all(userId, now).map(toAuthoredSanction),
    );
  }

  liftSanctions(userId: number, now: number, ids?: readonly number[]): Promise<number> {
    if (ids !== undefined && ids.length === 0) return Promise.resolve(0);
    const only = ids === undefined ? "" : ` AND id IN (${ids.map(() => "?").join(", ")})`;
    const result = this.#tx(() =>
      this.#q(
        `UPDATE sanctions SET lifted_at = ?
         WHERE user_id = ? AND lifted_at IS NULL AND (until_at IS NULL OR until_at > ?)${only}`,
      ).run(now, userId, now, ...(ids ?? []))
    );
    return Promise.resolve(Number(result.changes));
  }

  appendMessages(batch: NewMessage[]): Promise<number[]> {
    if (batch.length === 0) return Promise.resolve([]);
    if (this.#writer?.usable) return this.#writer.append(batch);
    // In memory (or if the writer thread died): commit here, on the event loop.
    this.#appender ??= new SqliteAppender(this.#db);
    return Promise.resolve(this.#appender.append(batch));
  }

  unreadMentions(
    userId: number,
    salons: ReadonlyArray<{ salonId: number; after: number }>,
  ): Promise<Map<number, number>> {
    return Promise.resolve(sqliteUnreadMentions((sql) => this.#q(sql), userId, salons));
  }

  salonHistory(salonId: number, query: HistoryQuery): Promise<HistoryPage> {
    if (query.after !== undefined) {
      return Promise.resolve(this.#markers.salonAfter(salonId, query.after, query.limit));
    }
    const rows = this.#q(
      `SELECT m.id AS id, m.text AS text, m.created_at AS created_at, m.mentions AS mentions,
              u.username AS from_username, u.alias AS from_alias
       FROM messages m JOIN users u ON u.id = m.user_id
       WHERE m.salon_id = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?`,
    ).all(salonId, query.before ?? Number.MAX_SAFE_INTEGER, query.limit + 1);
    return Promise.resolve(page(rows, query.limit));
  }

  directHistory(userA: number, userB: number, query: HistoryQuery): Promise<HistoryPage> {
    if (query.after !== undefined) {
      return Promise.resolve(this.#markers.directAfter(userA, userB, query.after, query.limit));
    }
    const rows = this.#q(
      `SELECT d.id AS id, d.text AS text, d.created_at AS created_at,
              f.username AS from_username, f.alias AS from_alias,
              t.username AS to_username, t.alias AS to_alias
       FROM direct_messages d
       JOIN users f ON f.id = d.from_user_id JOIN users t ON t.id = d.to_user_id
       WHERE d.pair_low = ? AND d.pair_high = ? AND d.id < ? ORDER BY d.id DESC LIMIT ?`,
    ).all(
      Math.min(userA, userB),
      Math.max(userA, userB),
      query.before ?? Number.MAX_SAFE_INTEGER,
      query.limit + 1,
    );
    return Promise.resolve(page(rows, query.limit));
  }

  markRead(mark: ReadMark): Promise<ReadOutcome> {
    if (this.#writer?.usable) return this.#writer.markRead(mark);
    this.#appender ??= new SqliteAppender(this.#db);
    return Promise.resolve(this.#appender.markRead(mark));
  }

  salonCatchup(userId: number, salonIds: readonly number[]): Promise<SalonCatchup[]> {
    return Promise.resolve(this.#markers.salonCatchup(userId, salonIds));
  }

  conversations(userId: number, query: ConversationQuery): Promise<ConversationPage> {
    return Promise.resolve(this.#markers.conversations(userId, query));
  }

  listMemberships(): Promise<SalonUserRow[]> {
    return Promise.resolve(
      this.#q(
        `SELECT m.salon_id AS salon_id, m.joined_at AS since, u.id AS user_id,
                u.username AS username, u.alias AS alias, u.role AS role
         FROM memberships m JOIN users u ON u.id = m.user_id ORDER BY m.salon_id, m.joined_at`,
      ).all().map(toSalonUser),
    );
  }

  listJoinRequests(): Promise<SalonUserRow[]> {
    return Promise.resolve(
      this.#q(
        `SELECT r.salon_id AS salon_id, r.created_at AS since, u.id AS user_id,
                u.username AS username, u.alias AS alias, u.role AS role
         FROM join_requests r JOIN users u ON u.id = r.user_id ORDER BY r.created_at, r.salon_id`,
      ).all().map(toSalonUser),
    );
  }

  /** A membership change: in the writer thread (file databases), else here. */
  #membership(change: MembershipChange): Promise<boolean> {
    if (this.#writer?.usable) return this.#writer.membership(change);
    this.#appender ??= new SqliteAppender(this.#db);
    return Promise.resolve(this.#appender.applyMembership(change));
  }

  addMember(salonId: number, userId: number, now: number): Promise<void> {
    return this.#membership({ op: "addMember", salonId, userId, at: now }).then(() => {});
  }

  removeMember(salonId: number, userId: number): Promise<boolean> {
    return this.#membership({ op: "removeMember", salonId, userId });
  }

  addJoinRequest(salonId: number, userId: number, now: number): Promise<void> {
    return this.#membership({ op: "addJoinRequest", salonId, userId, at: now }).then(() => {});
  }

  removeJoinRequest(salonId: number, userId: number): Promise<boolean> {
    return this.#membership({ op: "removeJoinRequest", salonId, userId });
  }

  listUsers(): Promise<UserSummary[]> {
    return Promise.resolve(
      this.#q("SELECT id, username, alias, role FROM users ORDER BY id").all().map((r) => ({
        id: Number(r.id),
        username: String(r.username),
        alias: String(r.alias),
        role: r.role as Role,
      })),
    );
  }

  listActiveSanctions(now: number): Promise<SanctionRecord[]> {
    return Promise.resolve(
      this.#q(
        `SELECT id, user_id, kind, until_at, reason, created_at FROM sanctions
         WHERE lifted_at IS NULL AND (until_at IS NULL OR until_at > ?) ORDER BY id`,
      ).all(now).map((r) => toSanction(r)!),
    );
  }

  ban(
    sanction: Omit<SanctionRecord, "id" | "kind" | "until">,
    byUserId: number | null,
    purge: boolean,
  ): Promise<{ sanction: SanctionRecord; withdrawnSalonIds: number[] }> {
    const result = this.#tx(() => {
      const inserted = this.#q(
        `INSERT INTO sanctions (user_id, kind, until_at, reason, by_user_id, created_at)
         VALUES (?, 'ban', NULL, ?, ?, ?)`,
      ).run(sanction.userId, sanction.reason, byUserId, sanction.createdAt);
      this.#q("UPDATE sessions SET revoked_by_ban = 1 WHERE user_id = ?").run(sanction.userId);
      const withdrawn = this.#q("SELECT salon_id FROM join_requests WHERE user_id = ?")
        .all(sanction.userId).map((r) => Number(r.salon_id));
      this.#q("DELETE FROM join_requests WHERE user_id = ?").run(sanction.userId);
      if (purge) {
        this.#q(SQLITE_PURGE_MENTIONS).run(sanction.userId);
        this.#q("DELETE FROM messages WHERE user_id = ?").run(sanction.userId);
        this.#q("DELETE FROM direct_messages WHERE from_user_id = ?").run(sanction.userId);
        this.#markers.purged(sanction.userId);
      }
      return { id: Number(inserted.lastInsertRowid), withdrawn };
    });
    return Promise.resolve({
      sanction: { ...sanction, id: result.id, kind: "ban", until: null },
      withdrawnSalonIds: result.withdrawn,
    });
  }

  addAudit(entry: AuditEntry): Promise<void> {
    this.#tx(() =>
      this.#q(
        "INSERT INTO audit_log (at, actor, action, target, reason, via) VALUES (?, ?, ?, ?, ?, ?)",
      ).run(entry.at, entry.actor, entry.action, entry.target, entry.reason, entry.via)
    );
    return Promise.resolve();
  }

  listAudit(limit: number): Promise<AuditEntry[]> {
    return Promise.resolve(
      this.#q(
        "SELECT at, actor, action, target, reason, via FROM audit_log ORDER BY id DESC LIMIT ?",
      ).all(limit).map((r) => ({
        at: Number(r.at),
        actor: String(r.actor),
        action: r.action as AuditEntry["action"],
        target: String(r.target),
        reason: String(r.reason),
        via: r.via as AuditEntry["via"],
      })),
    );
  }
}
