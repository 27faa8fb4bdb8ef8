/**
 * The MySQL/MariaDB adapter of {@link Store}, on a `mysql2` pool: every
 * statement prepared with bound parameters (`execute`), every write in an
 * explicit InnoDB transaction on a connection of its own, rolled back on
 * error (and retried whole on a deadlock). Same behaviour as `sqlite.ts`;
 * the schema is `schema.sql` at the root of the repository.
 *
 * This file connects and routes each Store method: accounts and sessions are
 * in `mysql_accounts.ts`, moderation in `mysql_moderation.ts`, salons and
 * memberships in `mysql_salons.ts`, history pages in `mysql_history.ts`,
 * catching up in `mysql_markers.ts`, message batches in `mysql_append.ts`;
 * the statement runner and transactions are in `mysql_sql.ts`, connecting
 * and migrations in `mysql_migrate.ts`.
 *
 * @module
 */

import mysql from "mysql2/promise";
import type { Pool, PoolConnection } from "mysql2/promise";
import type { SalonConfig } from "../config/salons.ts";
import type { ClusterStore } from "./cluster_store.ts";
import { MysqlClusterStore } from "./mysql_cluster.ts";
import { mysqlUnreadMentions } from "./mentions_sql.ts";
import * as accounts from "./mysql_accounts.ts";
import { appendBatch } from "./mysql_append.ts";
import * as edits from "./mysql_edits.ts";
import * as history from "./mysql_history.ts";
import * as legacy from "./mysql_legacy.ts";
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
import * as moderation from "./mysql_moderation.ts";
import * as mutes from "./mysql_mutes.ts";
import * as salons from "./mysql_salons.ts";
import { MysqlDb } from "./mysql_sql.ts";
import type {
  AuditEntry,
  AuthoredMute,
  AuthoredSanction,
  ConversationPage,
  ConversationQuery,
  HistoryPage,
  HistoryQuery,
  LegacyBatch,
  LegacyBatchResult,
  LegacyState,
  MuteRecord,
  NewMessage,
  NewUser,
  ReadMark,
  ReadOutcome,
  Role,
  SalonCatchup,
  SalonRecord,
  SalonUserRow,
  SanctionRecord,
  SessionLookup,
  Store,
  UserRecord,
  UserSummary,
} from "./store.ts";
import type {
  MessageEdit,
  MessageFacts,
  MessageTarget,
  NewReport,
  ReportRecord,
  ReportResolution,
} from "./store.ts";

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
  #db: MysqlDb;
  #closing: Promise<void> | undefined;
  /** The cluster tables (issue 15, migration 9; mysql_cluster.ts). */
  readonly cluster: ClusterStore;

  constructor(pool: Pool) {
    this.#pool = pool;
    this.#db = new MysqlDb(pool);
    this.cluster = new MysqlClusterStore(this.#db);
  }

  async ping(): Promise<void> {
    await this.#db.sql.rows("SELECT 1");
  }

  close(): Promise<void> {
    this.#closing ??= this.#pool.end();
    return this.#closing;
  }

  // --- salons, memberships (mysql_salons.ts) ---------------------------------

  syncSalons(config: SalonConfig[], now: number): Promise<SalonRecord[]> {
    return salons.syncSalons(this.#db, config, now);
  }

  listSalons(): Promise<SalonRecord[]> {
    return salons.listSalons(this.#db);
  }

  memberSalonIds(userId: number): Promise<number[]> {
    return salons.memberSalonIds(this.#db, userId);
  }

  pendingSalonIds(userId: number): Promise<number[]> {
    return salons.pendingSalonIds(this.#db, userId);
  }

  listMemberships(): Promise<SalonUserRow[]> {
    return salons.listMemberships(this.#db);
  }

  listJoinRequests(): Promise<SalonUserRow[]> {
    return salons.listJoinRequests(this.#db);
  }

  addMember(salonId: number, userId: number, now: number): Promise<void> {
    return salons.addMember(this.#db, salonId, userId, now);
  }

  removeMember(salonId: number, userId: number): Promise<boolean> {
    return salons.removeMember(this.#db, salonId, userId);
  }

  addJoinRequest(salonId: number, userId: number, now: number): Promise<void> {
    return salons.addJoinRequest(this.#db, salonId, userId, now);
  }

  removeJoinRequest(salonId: number, userId: number): Promise<boolean> {
    return salons.removeJoinRequest(this.#db, salonId, userId);
  }

  // --- accounts and sessions (mysql_accounts.ts) -----------------------------

  createUser(user: NewUser, now: number): Promise<UserRecord> {
    return accounts.createUser(this.#db, user, now);
  }

  aliasTaken(alias: string): Promise<boolean> {
    return accounts.aliasTaken(this.#db, alias);
  }

  userByName(username: string): Promise<UserRecord | undefined> {
    return accounts.userByName(this.#db, username);
  }

  userById(id: number): Promise<UserRecord | undefined> {
    return accounts.userById(this.#db, id);
  }

  hasAdmin(): Promise<boolean> {
    return accounts.hasAdmin(this.#db);
  }

  setRole(userId: number, role: Role): Promise<void> {
    return accounts.setRole(this.#db, userId, role);
  }

  setPassword(userId: number, passwordHash: string): Promise<void> {
    return accounts.setPassword(this.#db, userId, passwordHash);
  }

  listUsers(): Promise<UserSummary[]> {
    return accounts.listUsers(this.#db);
  }

  createSession(
    userId: number,
    tokenHash: string,
    opts: SessionLookup & { maxPerUser: number },
  ): Promise<void> {
    return accounts.createSession(this.#db, userId, tokenHash, opts);
  }

  sessionUser(tokenHash: string, opts: SessionLookup): Promise<UserRecord | undefined> {
    return accounts.sessionUser(this.#db, tokenHash, opts);
  }

  bannedTokenOwner(tokenHash: string): Promise<UserRecord | undefined> {
    return accounts.bannedTokenOwner(this.#db, tokenHash);
  }

  deleteSession(tokenHash: string): Promise<boolean> {
    return accounts.deleteSession(this.#db, tokenHash);
  }

  deleteUserSessions(userId: number): Promise<number> {
    return accounts.deleteUserSessions(this.#db, userId);
  }

  // --- moderation (mysql_moderation.ts) --------------------------------------

  addSanction(
    sanction: Omit<SanctionRecord, "id">,
    byUserId: number | null,
  ): Promise<SanctionRecord> {
    return moderation.addSanction(this.#db, sanction, byUserId);
  }

  activeSanction(userId: number, now: number): Promise<SanctionRecord | undefined> {
    return moderation.activeSanction(this.#db, userId, now);
  }

  activeSanctionsOf(userId: number, now: number): Promise<AuthoredSanction[]> {
    return moderation.activeSanctionsOf(this.#db, userId, now);
  }

  liftSanctions(userId: number, now: number, ids?: readonly number[]): Promise<number> {
    return moderation.liftSanctions(this.#db, userId, now, ids);
  }

  listActiveSanctions(now: number): Promise<SanctionRecord[]> {
    return moderation.listActiveSanctions(this.#db, now);
  }

  ban(
    sanction: Omit<SanctionRecord, "id" | "kind" | "until">,
    byUserId: number | null,
    purge: boolean,
  ): Promise<{ sanction: SanctionRecord; withdrawnSalonIds: number[] }> {
    return moderation.ban(this.#db, sanction, byUserId, purge);
  }

  addAudit(entry: AuditEntry): Promise<void> {
    return moderation.addAudit(this.#db, entry);
  }

  listAudit(limit: number): Promise<AuditEntry[]> {
    return moderation.listAudit(this.#db, limit);
  }

  // --- messages and catching up ----------------------------------------------

  async appendMessages(batch: NewMessage[]): Promise<number[]> {
    if (batch.length === 0) return [];
    return await this.#db.tx((sql) => appendBatch(sql, batch));
  }

  unreadMentions(
    userId: number,
    salons: ReadonlyArray<{ salonId: number; after: number }>,
  ): Promise<Map<number, number>> {
    return mysqlUnreadMentions(this.#db.sql, userId, salons);
  }

  salonHistory(salonId: number, query: HistoryQuery): Promise<HistoryPage> {
    return history.salonHistory(this.#db, salonId, query);
  }

  directHistory(userA: number, userB: number, query: HistoryQuery): Promise<HistoryPage> {
    return history.directHistory(this.#db, userA, userB, query);
  }

  markRead(mark: ReadMark): Promise<ReadOutcome> {
    return this.#db.tx((sql) => markers.markRead(sql, mark));
  }

  salonCatchup(userId: number, salonIds: readonly number[]): Promise<SalonCatchup[]> {
    return markers.salonCatchup(this.#db.sql, userId, salonIds);
  }

  conversations(userId: number, query: ConversationQuery): Promise<ConversationPage> {
    return markers.conversations(this.#db.sql, userId, query);
  }

  // --- importing the original server's database (mysql_legacy.ts) -----------

  legacyState(): Promise<LegacyState> {
    return legacy.legacyState(this.#db);
  }

  importLegacy(batch: LegacyBatch): Promise<LegacyBatchResult> {
    return legacy.importLegacy(this.#db, batch);
  }

  upgradePassword(userId: number, from: string, to: string): Promise<boolean> {
    return legacy.upgradePassword(this.#db, userId, from, to);
  }

  // --- edit, delete and reports (mysql_edits.ts, PROTOCOL.md 5.4) ------------------

  messageFacts(target: MessageTarget): Promise<MessageFacts | undefined> {
    return edits.messageFacts(this.#db, target);
  }

  editMessage(target: MessageTarget, edit: MessageEdit): Promise<boolean> {
    return edits.editMessage(this.#db, target, edit);
  }

  deleteMessage(target: MessageTarget): Promise<boolean> {
    return edits.deleteMessage(this.#db, target);
  }

  addReport(report: NewReport): Promise<{ report: ReportRecord; created: boolean }> {
    return edits.addReport(this.#db, report);
  }

  openReports(limit: number): Promise<ReportRecord[]> {
    return edits.openReports(this.#db, limit);
  }

  resolveReport(id: number, resolution: ReportResolution): Promise<ReportRecord | undefined> {
    return edits.resolveReport(this.#db, id, resolution);
  }

  // --- mute and slow mode (mysql_mutes.ts) -----------------------------------

  addMute(
    mute: Omit<MuteRecord, "id">,
    byUserId: number | null,
  ): Promise<{ mute: MuteRecord; replaced: number[] }> {
    return mutes.addMute(this.#db, mute, byUserId);
  }

  activeMutesOf(userId: number, now: number): Promise<AuthoredMute[]> {
    return mutes.activeMutesOf(this.#db, userId, now);
  }

  liftMutes(userId: number, now: number, ids: readonly number[]): Promise<number> {
    return mutes.liftMutes(this.#db, userId, now, ids);
  }

  listActiveMutes(now: number): Promise<MuteRecord[]> {
    return mutes.listActiveMutes(this.#db, now);
  }

  setSlowMode(salonId: number, seconds: number): Promise<boolean> {
    return mutes.setSlowMode(this.#db, salonId, seconds);
  }
}
