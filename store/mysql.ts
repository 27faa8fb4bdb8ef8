/**
 * The MySQL/MariaDB adapter of {@link Store}, on a `mysql2` pool: every
 * statement prepared with bound parameters (`execute`), every write in an
 * explicit InnoDB transaction on a connection of its own, rolled back on
 * error (and retried whole on a deadlock). Same behaviour as `sqlite.ts`;
 * the schema is `schema.sql` at the root of the repository.
 *
 * @module
 */

import mysql from "mysql2/promise";
import type { Pool, PoolConnection } from "mysql2/promise";
import type { SalonConfig } from "../config/salons.ts";
import { aliasKey, nameKey } from "../protocol/names.ts";
import { page, toAuthoredSanction, toSalon, toSalonUser, toSanction, toUser } from "./rows.ts";
import { MYSQL_PURGE_MENTIONS, mysqlUnreadMentions } from "./mentions_sql.ts";
import { appendBatch } from "./mysql_append.ts";
import * as markers from "./mysql_markers.ts";
import {
  connectError,
  migrateMysql,
  parseMysqlUrl,
  poolOptions,
  SESSION_ISOLATION,
  SESSION_SQL_MODE,
  withoutSecret,
} from "./mysql_migrate.ts";
import { conflictOf, Sql, transaction } from "./mysql_sql.ts";
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

/** A token's last use is written at most this often (as in the SQLite adapter). */
const TOKEN_TOUCH_MS = 60 * 60 * 1000;

/** Options of {@link openMysqlStore}. */
export interface MysqlOptions {
  /** Migration SQL; defaults to `schema.sql` at the root of the repository. */
  schema?: string;
  /** Told of what a migration found but did not stop for (aliases that look alike). */
  onWarning?: (message: string) => void;
}

/**
 * Connects to `mysql://user:password@host:port/database` (the database must
 * exist), applies pending migrations and returns the store. Rejects with one
 * line saying what to fix, never containing the password.
 */
export async function openMysqlStore(url: string, opts: MysqlOptions = {}): Promise<Store> {
  const target = parseMysqlUrl(url);
  const schema = opts.schema ??
    await Deno.readTextFile(new URL("../schema.sql", import.meta.url));
  const pool = mysql.createPool(poolOptions(target));
  // Every new connection gets the strict session settings before its first use
  // (mysql2 runs a connection's commands in order).
  pool.pool.on("connection", (conn) => {
    conn.query(SESSION_SQL_MODE, (e: unknown) => {
      if (e) conn.destroy();
    });
    conn.query(SESSION_ISOLATION, (e: unknown) => {
      if (e) conn.destroy();
    });
  });
  let conn: PoolConnection;
  try {
    conn = await pool.getConnection();
  } catch (e) {
    await pool.end().catch(() => {});
    throw connectError(e, target);
  }
  try {
    await migrateMysql(conn, schema, opts.onWarning ?? ((m) => console.warn(`causerie: ${m}`)));
  } catch (e) {
    conn.release();
    await pool.end().catch(() => {});
    throw new Error(withoutSecret((e as Error).message, target.password), { cause: e });
  }
  conn.release();
  return new MysqlStore(pool);
}

class MysqlStore implements Store {
  readonly kind = "mysql" as const;
  #pool: Pool;
  #sql: Sql;
  #closing: Promise<void> | undefined;

  constructor(pool: Pool) {
    this.#pool = pool;
    this.#sql = new Sql(pool);
  }

  /**
   * Runs `fn` in one transaction on a connection of its own: committed if it
   * resolves, rolled back if it rejects. A deadlock victim is run again.
   */
  #tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return transaction(this.#pool, fn);
  }

  async ping(): Promise<void> {
    await this.#sql.rows("SELECT 1");
  }

  close(): Promise<void> {
    this.#closing ??= this.#pool.end();
    return this.#closing;
  }

  async syncSalons(salons: SalonConfig[], now: number): Promise<SalonRecord[]> {
    await this.#tx(async (sql) => {
      const auto = salons.find((s) => s.policy === "auto");
      for (const s of salons) {
        const key = nameKey(s.name);
        const existing = await sql.row("SELECT id FROM salons WHERE name_key = ? FOR UPDATE", [
          key,
        ]);
        if (existing) {
          await sql.run("UPDATE salons SET name = ?, policy = ? WHERE id = ?", [
            s.name,
            s.policy,
            Number(existing.id),
          ]);
        } else {
          await sql.run(
            "INSERT INTO salons (name, name_key, policy, created_at) VALUES (?, ?, ?, ?)",
            [s.name, key, s.policy, now],
          );
        }
      }
      if (auto) {
        const autoId = Number(
          (await sql.row("SELECT id FROM salons WHERE name_key = ?", [nameKey(auto.name)]))!.id,
        );
        await sql.run("UPDATE salons SET policy = 'open' WHERE policy = 'auto' AND id <> ?", [
          autoId,
        ]);
        await sql.run(
          `INSERT INTO memberships (salon_id, user_id, joined_at) SELECT ?, id, ? FROM users
           ON DUPLICATE KEY UPDATE joined_at = memberships.joined_at`,
          [autoId, now],
        );
        await sql.run("DELETE FROM join_requests WHERE salon_id = ?", [autoId]);
      }
    });
    return this.listSalons();
  }

  async listSalons(): Promise<SalonRecord[]> {
    return (await this.#sql.rows("SELECT id, name, policy FROM salons ORDER BY id")).map(toSalon);
  }

  async createUser(user: NewUser, now: number): Promise<UserRecord> {
    const usernameKey = nameKey(user.username);
    const aliasKeyOf = aliasKey(user.alias);
    try {
      const id = await this.#tx(async (sql) => {
        if (await sql.row("SELECT 1 FROM users WHERE username_key = ?", [usernameKey])) {
          throw new ConflictError("username");
        }
        if (await sql.row("SELECT 1 FROM users WHERE alias_key = ?", [aliasKeyOf])) {
          throw new ConflictError("alias");
        }
        const result = await sql.run(
          `INSERT INTO users (username, username_key, alias, alias_key, password_hash, role, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
          [user.username, usernameKey, user.alias, aliasKeyOf, user.passwordHash, user.role, now],
        );
        const userId = Number(result.insertId);
        await sql.run(
          `INSERT INTO memberships (salon_id, user_id, joined_at)
           SELECT id, ?, ? FROM salons WHERE policy = 'auto'`,
          [userId, now],
        );
        return userId;
      });
      return {
        id,
        username: user.username,
        alias: user.alias,
        role: user.role,
        passwordHash: user.passwordHash,
        createdAt: now,
      };
    } catch (e) {
      throw conflictOf(e) ?? e;
    }
  }

  async aliasTaken(alias: string): Promise<boolean> {
    return (await this.#sql.row("SELECT 1 FROM users WHERE alias_key = ?", [aliasKey(alias)])) !==
      undefined;
  }

  async userByName(username: string): Promise<UserRecord | undefined> {
    return toUser(
      await this.#sql.row(`SELECT ${USER_COLUMNS} FROM users WHERE username_key = ?`, [
        nameKey(username),
      ]),
    );
  }

  async userById(id: number): Promise<UserRecord | undefined> {
    return toUser(await this.#sql.row(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`, [id]));
  }

  async hasAdmin(): Promise<boolean> {
    const admin = await this.#sql.row("SELECT 1 FROM users WHERE role = 'admin' LIMIT 1");
    return admin !== undefined;
  }

  async setRole(userId: number, role: Role): Promise<void> {
    await this.#tx((sql) => sql.run("UPDATE users SET role = ? WHERE id = ?", [role, userId]));
  }

  async setPassword(userId: number, passwordHash: string): Promise<void> {
    await this.#tx(async (sql) => {
      await sql.run("UPDATE users SET password_hash = ? WHERE id = ?", [passwordHash, userId]);
      await sql.run("DELETE FROM sessions WHERE user_id = ?", [userId]);
    });
  }

  async createSession(
    userId: number,
    tokenHash: string,
    opts: SessionLookup & { maxPerUser: number },
  ): Promise<void> {
    await this.#tx(async (sql) => {
      await sql.run("DELETE FROM sessions WHERE user_id = ? AND last_used_at < ?", [
        userId,
        opts.now - opts.maxIdleMs,
      ]);
      // MySQL takes no LIMIT in an IN subquery nor a subquery on the table being
      // deleted from: read the user's tokens, most recently used first, and drop
      // those past the cap one by one.
      const tokens = await sql.rows(
        `SELECT token_hash FROM sessions WHERE user_id = ?
         ORDER BY last_used_at DESC, created_at DESC FOR UPDATE`,
        [userId],
      );
      const keep = Math.max(0, opts.maxPerUser - 1);
      for (const t of tokens.slice(keep)) {
        await sql.run("DELETE FROM sessions WHERE token_hash = ?", [t.token_hash as Uint8Array]);
      }
      await sql.run(
        "INSERT INTO sessions (token_hash, user_id, created_at, last_used_at) VALUES (?, ?, ?, ?)",
        [tokenHash, userId, opts.now, opts.now],
      );
    });
  }

  async sessionUser(tokenHash: string, opts: SessionLookup): Promise<UserRecord | undefined> {
    const row = await this.#sql.row(
      `SELECT s.last_used_at AS last_used_at, u.id AS id, u.username AS username, u.alias AS alias,
              u.role AS role, u.password_hash AS password_hash, u.created_at AS created_at
       FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.token_hash = ? AND s.revoked_by_ban = 0`,
      [tokenHash],
    );
    if (!row) return undefined;
    const lastUsed = Number(row.last_used_at);
    if (opts.now - lastUsed > opts.maxIdleMs) {
      await this.#tx((sql) => sql.run("DELETE FROM sessions WHERE token_hash = ?", [tokenHash]));
      return undefined;
    }
    if (opts.now - lastUsed >= TOKEN_TOUCH_MS) {
      await this.#tx((sql) =>
        sql.run("UPDATE sessions SET last_used_at = ? WHERE token_hash = ?", [opts.now, tokenHash])
      );
    }
    return toUser(row);
  }

  async bannedTokenOwner(tokenHash: string): Promise<UserRecord | undefined> {
    return toUser(
      await this.#sql.row(
        `SELECT u.id AS id, u.username AS username, u.alias AS alias, u.role AS role,
                u.password_hash AS password_hash, u.created_at AS created_at
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = ? AND s.revoked_by_ban = 1`,
        [tokenHash],
      ),
    );
  }

  async deleteSession(tokenHash: string): Promise<boolean> {
    const result = await this.#tx((sql) =>
      sql.run("DELETE FROM sessions WHERE token_hash = ?", [tokenHash])
    );
    return result.affectedRows > 0;
  }

  async deleteUserSessions(userId: number): Promise<number> {
    const result = await this.#tx((sql) =>
      sql.run("DELETE FROM sessions WHERE user_id = ?", [userId])
    );
    return result.affectedRows;
  }

  async memberSalonIds(userId: number): Promise<number[]> {
    return (await this.#sql.rows(
      "SELECT salon_id FROM memberships WHERE user_id = ? ORDER BY salon_id",
      [userId],
    )).map((r) => Number(r.salon_id));
  }

  async pendingSalonIds(userId: number): Promise<number[]> {
    return (await this.#sql.rows(
      "SELECT salon_id FROM join_requests WHERE user_id = ? ORDER BY salon_id",
      [userId],
    )).map((r) => Number(r.salon_id));
  }

  async addSanction(
    sanction: Omit<SanctionRecord, "id">,
    byUserId: number | null,
  ): Promise<SanctionRecord> {
    const result = await this.#tx((sql) =>
      sql.run(
        `INSERT INTO sanctions (user_id, kind, until_at, reason, by_user_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
        [
          sanction.userId,
          sanction.kind,
          sanction.until,
          sanction.reason,
          byUserId,
          sanction.createdAt,
        ],
      )
    );
    return { ...sanction, id: Number(result.insertId) };
  }

  async activeSanction(userId: number, now: number): Promise<SanctionRecord | undefined> {
    return toSanction(
      await this.#sql.row(
        `SELECT id, user_id, kind, until_at, reason, created_at FROM sanctions
         WHERE user_id = ? AND lifted_at IS NULL AND (until_at IS NULL OR until_at > ?)
         ORDER BY (until_at IS NULL) DESC, until_at DESC LIMIT 1`,
        [userId, now],
      ),
    );
  }

  async activeSanctionsOf(userId: number, now: number): Promise<AuthoredSanction[]> {
    return (await this.#sql.rows(
      `SELECT s.id AS id, s.user_id AS user_id, s.kind AS kind, s.until_at AS until_at,
              s.reason AS reason, s.created_at AS created_at,
              u.username AS by_username, u.role AS by_role
       FROM sanctions s LEFT JOIN users u ON u.id = s.by_user_id
       WHERE s.user_id = ? AND s.lifted_at IS NULL AND (s.until_at IS NULL OR s.until_at > ?)
       ORDER BY s.id`,
      [userId, now],
    )).map(toAuthoredSanction);
  }

  async liftSanctions(userId: number, now: number, ids?: readonly number[]): Promise<number> {
    if (ids !== undefined && ids.length === 0) return 0;
    const only = ids === undefined ? "" : ` AND id IN (${ids.map(() => "?").join(", ")})`;
    const result = await this.#tx((sql) =>
      sql.run(
        `UPDATE sanctions SET lifted_at = ?
         WHERE user_id = ? AND lifted_at IS NULL AND (until_at IS NULL OR until_at > ?)${only}`,
        [now, userId, now, ...(ids ?? [])],
      )
    );
    return result.affectedRows;
  }

  async appendMessages(batch: NewMessage[]): Promise<number[]> {
    if (batch.length === 0) return [];
    return await this.#tx((sql) => appendBatch(sql, batch));
  }

  unreadMentions(
    userId: number,
    salons: ReadonlyArray<{ salonId: number; after: number }>,
  ): Promise<Map<number, number>> {
    return mysqlUnreadMentions(this.#sql, userId, salons);
  }

  async salonHistory(salonId: number, query: HistoryQuery): Promise<HistoryPage> {
    if (query.after !== undefined) {
      return await markers.salonAfter(this.#sql, salonId, query.after, query.limit);
    }
    const rows = await this.#sql.rows(
      `SELECT m.id AS id, m.text AS text, m.created_at AS created_at, m.mentions AS mentions,
              u.username AS from_username, u.alias AS from_alias
       FROM messages m JOIN users u ON u.id = m.user_id
       WHERE m.salon_id = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?`,
      [salonId, query.before ?? Number.MAX_SAFE_INTEGER, query.limit + 1],
    );
    return page(rows, query.limit);
  }

  async directHistory(userA: number, userB: number, query: HistoryQuery): Promise<HistoryPage> {
    if (query.after !== undefined) {
      return await markers.directAfter(this.#sql, userA, userB, query.after, query.limit);
    }
    const rows = await this.#sql.rows(
      `SELECT d.id AS id, d.text AS text, d.created_at AS created_at,
              f.username AS from_username, f.alias AS from_alias,
              t.username AS to_username, t.alias AS to_alias
       FROM direct_messages d
       JOIN users f ON f.id = d.from_user_id JOIN users t ON t.id = d.to_user_id
       WHERE d.pair_low = ? AND d.pair_high = ? AND d.id < ? ORDER BY d.id DESC LIMIT ?`,
      [
        Math.min(userA, userB),
        Math.max(userA, userB),
        query.before ?? Number.MAX_SAFE_INTEGER,
        query.limit + 1,
      ],
    );
    return page(rows, query.limit);
  }

  async markRead(mark: ReadMark): Promise<ReadOutcome> {
    return await this.#tx((sql) => markers.markRead(sql, mark));
  }

  async salonCatchup(userId: number, salonIds: readonly number[]): Promise<SalonCatchup[]> {
    return await markers.salonCatchup(this.#sql, userId, salonIds);
  }

  async conversations(userId: number, query: ConversationQuery): Promise<ConversationPage> {
    return await markers.conversations(this.#sql, userId, query);
  }

  async listMemberships(): Promise<SalonUserRow[]> {
    return (await this.#sql.rows(
      `SELECT m.salon_id AS salon_id, m.joined_at AS since, u.id AS user_id,
              u.username AS username, u.alias AS alias, u.role AS role
       FROM memberships m JOIN users u ON u.id = m.user_id ORDER BY m.salon_id, m.joined_at, m.user_id`,
    )).map(toSalonUser);
  }

  async listJoinRequests(): Promise<SalonUserRow[]> {
    return (await this.#sql.rows(
      `SELECT r.salon_id AS salon_id, r.created_at AS since, u.id AS user_id,
              u.username AS username, u.alias AS alias, u.role AS role
       FROM join_requests r JOIN users u ON u.id = r.user_id ORDER BY r.created_at, r.salon_id, r.user_id`,
    )).map(toSalonUser);
  }

  async addMember(salonId: number, userId: number, now: number): Promise<void> {
    await this.#tx(async (sql) => {
      // Idempotent without INSERT IGNORE, which would also hide a missing salon or user.
      await sql.run(
        `INSERT INTO memberships (salon_id, user_id, joined_at) VALUES (?, ?, ?)
         ON DUPLICATE KEY UPDATE joined_at = joined_at`,
        [salonId, userId, now],
      );
      await sql.run("DELETE FROM join_requests WHERE salon_id = ? AND user_id = ?", [
        salonId,
        userId,
      ]);
    });
  }

  async removeMember(salonId: number, userId: number): Promise<boolean> {
    const result = await this.#tx((sql) =>
      sql.run("DELETE FROM memberships WHERE salon_id = ? AND user_id = ?", [salonId, userId])
    );
    return result.affectedRows > 0;
  }

  async addJoinRequest(salonId: number, userId: number, now: number): Promise<void> {
    await this.#tx((sql) =>
      sql.run(
        `INSERT INTO join_requests (salon_id, user_id, created_at) VALUES (?, ?, ?)
         ON DUPLICATE KEY UPDATE created_at = created_at`,
        [salonId, userId, now],
      )
    );
  }

  async removeJoinRequest(salonId: number, userId: number): Promise<boolean> {
    const result = await this.#tx((sql) =>
      sql.run("DELETE FROM join_requests WHERE salon_id = ? AND user_id = ?", [salonId, userId])
    );
    return result.affectedRows > 0;
  }

  async listUsers(): Promise<UserSummary[]> {
    const rows = await this.#sql.rows("SELECT id, username, alias, role FROM users ORDER BY id");
    return rows.map((r) => ({
      id: Number(r.id),
      username: String(r.username),
      alias: String(r.alias),
      role: r.role as Role,
    }));
  }

  async listActiveSanctions(now: number): Promise<SanctionRecord[]> {
    return (await this.#sql.rows(
      `SELECT id, user_id, kind, until_at, reason, created_at FROM sanctions
       WHERE lifted_at IS NULL AND (until_at IS NULL OR until_at > ?) ORDER BY id`,
      [now],
    )).map((r) => toSanction(r)!);
  }

  async ban(
    sanction: Omit<SanctionRecord, "id" | "kind" | "until">,
    byUserId: number | null,
    purge: boolean,
  ): Promise<{ sanction: SanctionRecord; withdrawnSalonIds: number[] }> {
    const result = await this.#tx(async (sql) => {
      const inserted = await sql.run(
        `INSERT INTO sanctions (user_id, kind, until_at, reason, by_user_id, created_at)
         VALUES (?, 'ban', NULL, ?, ?, ?)`,
        [sanction.userId, sanction.reason, byUserId, sanction.createdAt],
      );
      await sql.run("UPDATE sessions SET revoked_by_ban = 1 WHERE user_id = ?", [sanction.userId]);
      const withdrawn = (await sql.rows(
        "SELECT salon_id FROM join_requests WHERE user_id = ? FOR UPDATE",
        [sanction.userId],
      )).map((r) => Number(r.salon_id));
      await sql.run("DELETE FROM join_requests WHERE user_id = ?", [sanction.userId]);
      if (purge) {
        await sql.run(MYSQL_PURGE_MENTIONS, [sanction.userId]);
        await sql.run("DELETE FROM messages WHERE user_id = ?", [sanction.userId]);
        await sql.run("DELETE FROM direct_messages WHERE from_user_id = ?", [sanction.userId]);
        await markers.purged(sql, sanction.userId);
      }
      return { id: Number(inserted.insertId), withdrawn };
    });
    return {
      sanction: { ...sanction, id: result.id, kind: "ban", until: null },
      withdrawnSalonIds: result.withdrawn,
    };
  }

  async addAudit(entry: AuditEntry): Promise<void> {
    await this.#tx((sql) =>
      sql.run(
        "INSERT INTO audit_log (at, actor, action, target, reason, via) VALUES (?, ?, ?, ?, ?, ?)",
        [entry.at, entry.actor, entry.action, entry.target, entry.reason, entry.via],
      )
    );
  }

  async listAudit(limit: number): Promise<AuditEntry[]> {
    return (await this.#sql.rows(
      "SELECT at, actor, action, target, reason, via FROM audit_log ORDER BY id DESC LIMIT ?",
      [limit],
    )).map((r) => ({
      at: Number(r.at),
      actor: String(r.actor),
      action: r.action as AuditEntry["action"],
      target: String(r.target),
      reason: String(r.reason),
      via: r.via as AuditEntry["via"],
    }));
  }
}
