/**
 * The SQLite adapter of {@link Store}, on `node:sqlite`: WAL journal, foreign
 * keys on, `synchronous=FULL`, every write in an explicit `BEGIN IMMEDIATE`
 * transaction, every statement prepared once with bound parameters. Chat
 * messages and membership changes (join, leave, join requests) of a file
 * database are committed by a writer thread on its own connection
 * (`sqlite_writer.ts`), so the disk sync of each commit does not stop the
 * event loop.
 *
 * This file opens the database and routes each Store method: accounts and
 * sessions are in `sqlite_accounts.ts`, moderation in `sqlite_moderation.ts`,
 * salons and memberships in `sqlite_salons.ts`, history pages in
 * `sqlite_history.ts`, catching up in `sqlite_markers.ts`, and the writes of
 * messages and membership changes in `sqlite_append.ts` (run by the writer
 * thread of `sqlite_writer.ts`, or here for an in-memory database).
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { SalonConfig } from "../config/salons.ts";
import * as accounts from "./sqlite_accounts.ts";
import { type MembershipChange, SqliteAppender } from "./sqlite_append.ts";
import { SqliteDb } from "./sqlite_db.ts";
import * as edits from "./sqlite_edits.ts";
import * as history from "./sqlite_history.ts";
import * as legacy from "./sqlite_legacy.ts";
import { SqliteMarkers } from "./sqlite_markers.ts";
import { sqliteUnreadMentions } from "./mentions_sql.ts";
import { migrate } from "./sqlite_migrate.ts";
import * as moderation from "./sqlite_moderation.ts";
import * as mutes from "./sqlite_mutes.ts";
import * as salons from "./sqlite_salons.ts";
import { SqliteWriterThread } from "./sqlite_writer.ts";
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
  #db: SqliteDb;
  #closed = false;
  /** Commits chat messages on its own connection, off the event loop (file databases). */
  #writer: SqliteWriterThread | undefined;
  #appender: SqliteAppender | undefined;
  /** Catch-up reads (history after an id, markers, conversations) on this connection. */
  #markers: SqliteMarkers;

  constructor(db: DatabaseSync, writer?: SqliteWriterThread) {
    this.#db = new SqliteDb(db);
    this.#writer = writer;
    this.#markers = new SqliteMarkers(db);
  }

  ping(): Promise<void> {
    this.#db.q("SELECT 1").get();
    return Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#writer?.close();
    this.#db.close();
  }

  // --- salons, memberships (sqlite_salons.ts) --------------------------------

  syncSalons(config: SalonConfig[], now: number): Promise<SalonRecord[]> {
    return Promise.resolve(salons.syncSalons(this.#db, config, now));
  }

  listSalons(): Promise<SalonRecord[]> {
    return Promise.resolve(salons.listSalons(this.#db));
  }

  memberSalonIds(userId: number): Promise<number[]> {
    return Promise.resolve(salons.memberSalonIds(this.#db, userId));
  }

  pendingSalonIds(userId: number): Promise<number[]> {
    return Promise.resolve(salons.pendingSalonIds(this.#db, userId));
  }

  listMemberships(): Promise<SalonUserRow[]> {
    return Promise.resolve(salons.listMemberships(this.#db));
  }

  listJoinRequests(): Promise<SalonUserRow[]> {
    return Promise.resolve(salons.listJoinRequests(this.#db));
  }

  // --- accounts and sessions (sqlite_accounts.ts) ----------------------------

  createUser(user: NewUser, now: number): Promise<UserRecord> {
    return Promise.resolve(accounts.createUser(this.#db, user, now));
  }

  aliasTaken(alias: string): Promise<boolean> {
    return Promise.resolve(accounts.aliasTaken(this.#db, alias));
  }

  userByName(username: string): Promise<UserRecord | undefined> {
    return Promise.resolve(accounts.userByName(this.#db, username));
  }

  userById(id: number): Promise<UserRecord | undefined> {
    return Promise.resolve(accounts.userById(this.#db, id));
  }

  hasAdmin(): Promise<boolean> {
    return Promise.resolve(accounts.hasAdmin(this.#db));
  }

  setRole(userId: number, role: Role): Promise<void> {
    return Promise.resolve(accounts.setRole(this.#db, userId, role));
  }

  setPassword(userId: number, passwordHash: string): Promise<void> {
    return Promise.resolve(accounts.setPassword(this.#db, userId, passwordHash));
  }

  listUsers(): Promise<UserSummary[]> {
    return Promise.resolve(accounts.listUsers(this.#db));
  }

  createSession(
    userId: number,
    tokenHash: string,
    opts: SessionLookup & { maxPerUser: number },
  ): Promise<void> {
    return Promise.resolve(accounts.createSession(this.#db, userId, tokenHash, opts));
  }

  sessionUser(tokenHash: string, opts: SessionLookup): Promise<UserRecord | undefined> {
    return Promise.resolve(accounts.sessionUser(this.#db, tokenHash, opts));
  }

  bannedTokenOwner(tokenHash: string): Promise<UserRecord | undefined> {
    return Promise.resolve(accounts.bannedTokenOwner(this.#db, tokenHash));
  }

  deleteSession(tokenHash: string): Promise<boolean> {
    return Promise.resolve(accounts.deleteSession(this.#db, tokenHash));
  }

  deleteUserSessions(userId: number): Promise<number> {
    return Promise.resolve(accounts.deleteUserSessions(this.#db, userId));
  }

  // --- moderation (sqlite_moderation.ts) -------------------------------------

  addSanction(
    sanction: Omit<SanctionRecord, "id">,
    byUserId: number | null,
  ): Promise<SanctionRecord> {
    return Promise.resolve(moderation.addSanction(this.#db, sanction, byUserId));
  }

  activeSanction(userId: number, now: number): Promise<SanctionRecord | undefined> {
    return Promise.resolve(moderation.activeSanction(this.#db, userId, now));
  }

  activeSanctionsOf(userId: number, now: number): Promise<AuthoredSanction[]> {
    return Promise.resolve(moderation.activeSanctionsOf(this.#db, userId, now));
  }

  liftSanctions(userId: number, now: number, ids?: readonly number[]): Promise<number> {
    return Promise.resolve(moderation.liftSanctions(this.#db, userId, now, ids));
  }

  listActiveSanctions(now: number): Promise<SanctionRecord[]> {
    return Promise.resolve(moderation.listActiveSanctions(this.#db, now));
  }

  ban(
    sanction: Omit<SanctionRecord, "id" | "kind" | "until">,
    byUserId: number | null,
    purge: boolean,
  ): Promise<{ sanction: SanctionRecord; withdrawnSalonIds: number[] }> {
    return Promise.resolve(moderation.ban(this.#db, this.#markers, sanction, byUserId, purge));
  }

  addAudit(entry: AuditEntry): Promise<void> {
    return Promise.resolve(moderation.addAudit(this.#db, entry));
  }

  listAudit(limit: number): Promise<AuditEntry[]> {
    return Promise.resolve(moderation.listAudit(this.#db, limit));
  }

  // --- messages and catching up ----------------------------------------------

  appendMessages(batch: NewMessage[]): Promise<number[]> {
    if (batch.length === 0) return Promise.resolve([]);
    if (this.#writer?.usable) return this.#writer.append(batch);
    // In memory (or if the writer thread died): commit here, on the event loop.
    return Promise.resolve(this.#localAppender().append(batch));
  }

  unreadMentions(
    userId: number,
    salons: ReadonlyArray<{ salonId: number; after: number }>,
  ): Promise<Map<number, number>> {
    return Promise.resolve(sqliteUnreadMentions((sql) => this.#db.q(sql), userId, salons));
  }

  salonHistory(salonId: number, query: HistoryQuery): Promise<HistoryPage> {
    return Promise.resolve(history.salonHistory(this.#db, this.#markers, salonId, query));
  }

  directHistory(userA: number, userB: number, query: HistoryQuery): Promise<HistoryPage> {
    return Promise.resolve(history.directHistory(this.#db, this.#markers, userA, userB, query));
  }

  markRead(mark: ReadMark): Promise<ReadOutcome> {
    if (this.#writer?.usable) return this.#writer.markRead(mark);
    return Promise.resolve(this.#localAppender().markRead(mark));
  }

  salonCatchup(userId: number, salonIds: readonly number[]): Promise<SalonCatchup[]> {
    return Promise.resolve(this.#markers.salonCatchup(userId, salonIds));
  }

  conversations(userId: number, query: ConversationQuery): Promise<ConversationPage> {
    return Promise.resolve(this.#markers.conversations(userId, query));
  }

  // --- membership changes (writer thread, or sqlite_append.ts here) -----------

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

  /** A membership change: in the writer thread (file databases), else here. */
  #membership(change: MembershipChange): Promise<boolean> {
    if (this.#writer?.usable) return this.#writer.membership(change);
    return Promise.resolve(this.#localAppender().applyMembership(change));
  }

  // --- importing the original server's database (sqlite_legacy.ts) ----------

  legacyState(): Promise<LegacyState> {
    return Promise.resolve(legacy.legacyState(this.#db));
  }

  importLegacy(batch: LegacyBatch): Promise<LegacyBatchResult> {
    return Promise.resolve(legacy.importLegacy(this.#db, batch));
  }

  upgradePassword(userId: number, from: string, to: string): Promise<boolean> {
    return Promise.resolve(legacy.upgradePassword(this.#db, userId, from, to));
  }

  // --- edit, delete and reports (sqlite_edits.ts, PROTOCOL.md 5.4) ------------------

  messageFacts(target: MessageTarget): Promise<MessageFacts | undefined> {
    return Promise.resolve(edits.messageFacts(this.#db, target));
  }

  editMessage(target: MessageTarget, edit: MessageEdit): Promise<boolean> {
    return Promise.resolve(edits.editMessage(this.#db, target, edit));
  }

  deleteMessage(target: MessageTarget): Promise<boolean> {
    return Promise.resolve(edits.deleteMessage(this.#db, target));
  }

  addReport(report: NewReport): Promise<{ report: ReportRecord; created: boolean }> {
    return Promise.resolve(edits.addReport(this.#db, report));
  }

  openReports(limit: number): Promise<ReportRecord[]> {
    return Promise.resolve(edits.openReports(this.#db, limit));
  }

  resolveReport(id: number, resolution: ReportResolution): Promise<ReportRecord | undefined> {
    return Promise.resolve(edits.resolveReport(this.#db, id, resolution));
  }

  // --- mute and slow mode (sqlite_mutes.ts) ----------------------------------

  addMute(
    mute: Omit<MuteRecord, "id">,
    byUserId: number | null,
  ): Promise<{ mute: MuteRecord; replaced: number[] }> {
    return Promise.resolve(mutes.addMute(this.#db, mute, byUserId));
  }

  activeMutesOf(userId: number, now: number): Promise<AuthoredMute[]> {
    return Promise.resolve(mutes.activeMutesOf(this.#db, userId, now));
  }

  liftMutes(userId: number, now: number, ids: readonly number[]): Promise<number> {
    return Promise.resolve(mutes.liftMutes(this.#db, userId, now, ids));
  }

  listActiveMutes(now: number): Promise<MuteRecord[]> {
    return Promise.resolve(mutes.listActiveMutes(this.#db, now));
  }

  setSlowMode(salonId: number, seconds: number): Promise<boolean> {
    return Promise.resolve(mutes.setSlowMode(this.#db, salonId, seconds));
  }

  /** The appender on this connection (in memory, or when the writer thread died). */
  #localAppender(): SqliteAppender {
    this.#appender ??= new SqliteAppender(this.#db.raw);
    return this.#appender;
  }
}
