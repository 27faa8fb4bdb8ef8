/**
 * The storage seam: one interface, used by everything, implemented by the
 * SQLite adapter (`sqlite.ts`) and the MySQL/MariaDB adapter.
 *
 * Times are milliseconds since the Unix epoch (UTC) everywhere in this
 * interface, so that neither database's date types leak through.
 *
 * @module
 */

export { UNREAD_MAX } from "./catchup_types.ts";
export type {
  ConversationPage,
  ConversationQuery,
  ConversationSummary,
  ReadMark,
  ReadOutcome,
  ReadTarget,
  SalonCatchup,
} from "./catchup_types.ts";
import type {
  ConversationPage,
  ConversationQuery,
  ReadMark,
  ReadOutcome,
  SalonCatchup,
} from "./catchup_types.ts";
export type {
  LegacyBatch,
  LegacyBatchResult,
  LegacyKind,
  LegacyMark,
  LegacyState,
} from "./legacy_types.ts";
import type { LegacyBatch, LegacyBatchResult, LegacyState } from "./legacy_types.ts";
export type {
  MessageEdit,
  MessageFacts,
  MessageTarget,
  NewReport,
  ReportRecord,
  ReportResolution,
} from "./edit_types.ts";
import type {
  MessageEdit,
  MessageFacts,
  MessageTarget,
  NewReport,
  ReportRecord,
  ReportResolution,
} from "./edit_types.ts";

import type { SalonConfig, SalonPolicy } from "../config/salons.ts";
import type { ClusterStore } from "./cluster_store.ts";

/** A user's role. */
export type Role = "member" | "moderator" | "admin";

/** Every role, least privileged first. */
export const ROLES: readonly Role[] = ["member", "moderator", "admin"];

/** A stored account. */
export interface UserRecord {
  /** Internal id; never shown to clients. */
  id: number;
  /** Username as registered. */
  username: string;
  /** Display name as registered. */
  alias: string;
  /** Role. */
  role: Role;
  /** Password hash, PHC string. */
  passwordHash: string;
  /** Creation time, epoch ms. */
  createdAt: number;
}

/** What it takes to create an account. */
export interface NewUser {
  /** Username as typed (already validated). */
  username: string;
  /** Alias as typed (already validated). */
  alias: string;
  /** Password hash, PHC string. */
  passwordHash: string;
  /** Role. */
  role: Role;
}

/** A stored salon. */
export interface SalonRecord {
  /** Internal id. */
  id: number;
  /** Name as configured. */
  name: string;
  /** Admission policy. */
  policy: SalonPolicy;
  /** Slow mode (PROTOCOL 5.4): a member may `say` once per this many seconds; 0 = off. */
  slowModeSeconds: number;
}

/** A kick (with an end) or a ban (without one). */
export interface SanctionRecord {
  /** Internal id. */
  id: number;
  /** The sanctioned user. */
  userId: number;
  /** Kind of sanction. */
  kind: "kick" | "ban";
  /** End of a kick, epoch ms; `null` for a ban. */
  until: number | null;
  /** Why, as given by the moderator (may be empty). */
  reason: string;
  /** When it was imposed, epoch ms. */
  createdAt: number;
}

/** A mute (PROTOCOL 5.4): in one salon, or everywhere (`salonId` null), until `until`. */
export interface MuteRecord {
  /** Internal id. */
  id: number;
  /** The muted user. */
  userId: number;
  /** The salon, or `null` for a mute everywhere (salons and direct messages). */
  salonId: number | null;
  /** End, epoch ms (absolute: a restart neither forgets nor extends it). */
  until: number;
  /** Why, as given by the moderator (may be empty). */
  reason: string;
  /** When it was imposed, epoch ms. */
  createdAt: number;
}

/** A mute in force with its author (`by` is `null` for the admin socket and signals). */
export interface AuthoredMute extends MuteRecord {
  /** Who imposed it, with their current role; `null`: the server itself. */
  by: { username: string; role: Role } | null;
}

/** A member mentioned by a salon message (PROTOCOL.md 5.3). */
export interface Mention {
  /** The member's id (counted in {@link Store.unreadMentions}). */
  userId: number;
  /** The member's username as registered (listed in `mentions`). */
  username: string;
}

/** A message to commit: in a salon (with the members it mentions), or between two users. */
export type NewMessage =
  | {
    kind: "salon";
    salonId: number;
    userId: number;
    text: string;
    at: number;
    mentions?: Mention[];
  }
  | { kind: "direct"; fromUserId: number; toUserId: number; text: string; at: number };

/** A sanction in force with its author (`by` is `null` for the admin socket and signals). */
export interface AuthoredSanction extends SanctionRecord {
  /** Who imposed it, with their current role; `null`: the server itself. */
  by: { username: string; role: Role } | null;
}

/** Most unread mentions counted per salon (PROTOCOL.md 5.2 `mentions`: at most 1000). */
export const UNREAD_MENTIONS_CAP = 1000;

/** A stored message with its author (and recipient for a direct message). */
export interface StoredMessage {
  /** Id: grows within a salon, or within a direct conversation. */
  id: number;
  /** Author. */
  from: { username: string; alias: string };
  /** Recipient of a direct message. */
  to?: { username: string; alias: string };
  /** Text. */
  text: string;
  /** Commit time, epoch ms. */
  at: number;
  /** Usernames a salon message mentions, in order; absent when none. */
  mentions?: string[];
  /** Last edit, epoch ms; absent when never edited (PROTOCOL.md 5.4). */
  editedAt?: number;
  /** Deleted: the text is gone (empty), only the id and time remain (PROTOCOL.md 5.4). */
  deleted?: true;
}

/** A page of history: oldest first, and whether more messages exist beyond it. */
export interface HistoryPage {
  /** Messages, oldest first. */
  messages: StoredMessage[];
  /**
   * Whether messages older than the first one exist; with `after`, whether
   * messages newer than the last one exist.
   */
  more: boolean;
}

/**
 * Which page of history: at most `limit` messages with ids below `before`
 * (the newest of them), or above `after` (the oldest of them).
 */
export interface HistoryQuery {
  /** Only ids strictly below this; absent: from the newest. */
  before?: number;
  /** Only ids strictly above this, the oldest first (never with `before`). */
  after?: number;
  /** Most messages returned. */
  limit: number;
}

/** A user as the live server keeps it in memory. */
export interface UserSummary {
  /** Internal id. */
  id: number;
  /** Username as registered. */
  username: string;
  /** Alias as registered. */
  alias: string;
  /** Role. */
  role: Role;
}

/** A membership or a pending join request, with the user's names. */
export interface SalonUserRow {
  /** Salon id. */
  salonId: number;
  /** The user. */
  user: UserSummary;
  /** When the membership or request began, epoch ms. */
  since: number;
}

/** Every kind of moderation act recorded in the audit log. */
export type AuditAction =
  | "kick"
  | "ban"
  | "unban"
  | "accept"
  | "reject"
  | "announce"
  | "shutdown"
  | "cancel_shutdown"
  | "role"
  | "create_user"
  | "reset_password"
  // edit, delete and reports (PROTOCOL.md 5.4)
  | "delete_message"
  | "resolve_report"
  // -- mute and slow mode (PROTOCOL 5.4)
  | "mute"
  | "unmute"
  | "slow_mode";

/** Where a moderation act came from. */
export type AuditVia = "ws" | "http" | "socket" | "signal";

/** One line of the audit log. */
export interface AuditEntry {
  /** When, epoch ms. */
  at: number;
  /** Who acted (a username, or `server` for the admin socket and signals). */
  actor: string;
  /** What was done. */
  action: AuditAction;
  /** To whom or what (a username, `user@salon`, or empty). */
  target: string;
  /** Why, or the text of an announcement (may be empty). */
  reason: string;
  /** Through which path. */
  via: AuditVia;
}

/** Raised when a unique name is already taken. */
export class ConflictError extends Error {
  /** Which name collided. */
  readonly field: "username" | "alias";

  /** Builds the error for `field`. */
  constructor(field: "username" | "alias") {
    super(`${field} is already taken`);
    this.name = "ConflictError";
    this.field = field;
  }
}

/** Options for {@link Store.sessionUser}. */
export interface SessionLookup {
  /** Current time, epoch ms. */
  now: number;
  /** A token unused for longer than this is expired (and deleted). */
  maxIdleMs: number;
}

/**
 * Everything the server stores. Every method is atomic: it either happens
 * completely or not at all.
 */
export interface Store {
  /** Which adapter this is. */
  readonly kind: "sqlite" | "mysql";
  /**
   * The tables several instances share (issue 15): nodes and their live
   * sessions. MySQL only (a bus needs MySQL); absent on SQLite.
   */
  readonly cluster?: ClusterStore;
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  /** Releases every connection. Idempotent. */
  close(): Promise<void>;

  /**
   * Makes the stored salons match the configuration without losing anything:
   * new names are added, listed salons take the configured policy, unlisted
   * salons are kept (a formerly `auto` one becomes `open`), and every user is
   * made a member of the `auto` salon. Returns every stored salon.
   */
  syncSalons(salons: SalonConfig[], now: number): Promise<SalonRecord[]>;
  /** Every stored salon, in creation order. */
  listSalons(): Promise<SalonRecord[]>;

  /**
   * Creates an account and makes it a member of the `auto` salon, in one
   * transaction. Throws {@link ConflictError} when the username or alias is
   * taken (compared after NFC and lower-casing).
   */
  createUser(user: NewUser, now: number): Promise<UserRecord>;
  /**
   * Whether an account's alias looks like `alias` (same confusable skeleton,
   * protocol/names.ts `aliasKey`), checked before a registration pays for a
   * password hash.
   */
  aliasTaken(alias: string): Promise<boolean>;
  /** The account with this username (compared after NFC and lower-casing). */
  userByName(username: string): Promise<UserRecord | undefined>;
  /** The account with this id. */
  userById(id: number): Promise<UserRecord | undefined>;
  /** Whether at least one account has role `admin`. */
  hasAdmin(): Promise<boolean>;
  /** Changes a role. */
  setRole(userId: number, role: Role): Promise<void>;
  /** Replaces the password hash and revokes every session token of the user, atomically. */
  setPassword(userId: number, passwordHash: string): Promise<void>;

  /**
   * Stores a new session token hash. Drops the user's tokens idle longer than
   * `maxIdleMs`, and the oldest beyond `maxPerUser`.
   */
  createSession(
    userId: number,
    tokenHash: string,
    opts: SessionLookup & { maxPerUser: number },
  ): Promise<void>;
  /**
   * The user owning a token hash, or `undefined` when unknown or idle longer
   * than `maxIdleMs` (an expired token is deleted). Marks the token as used;
   * the use is recorded at most once an hour (each record is a synced write), so idle
   * time is known to the hour.
   */
  sessionUser(tokenHash: string, opts: SessionLookup): Promise<UserRecord | undefined>;
  /**
   * The owner of a token revoked by a ban (such tokens no longer
   * authenticate, but a hello with one is answered `banned`).
   */
  bannedTokenOwner(tokenHash: string): Promise<UserRecord | undefined>;
  /** Revokes one token. Returns whether it existed. */
  deleteSession(tokenHash: string): Promise<boolean>;
  /** Revokes every token of a user (a logout everywhere). Returns how many there were. */
  deleteUserSessions(userId: number): Promise<number>;

  /** Ids of the salons the user is a member of. */
  memberSalonIds(userId: number): Promise<number[]>;
  /** Ids of the salons where the user has a pending join request. */
  pendingSalonIds(userId: number): Promise<number[]>;

  /** Records a sanction; returns it with its id. */
  addSanction(
    sanction: Omit<SanctionRecord, "id">,
    byUserId: number | null,
  ): Promise<SanctionRecord>;
  /**
   * The sanction in force for a user at `now`: a ban if any, else the kick
   * ending last, else `undefined`.
   */
  activeSanction(userId: number, now: number): Promise<SanctionRecord | undefined>;
  /**
   * The sanctions in force for a user at `now`, oldest first, each with its
   * author's current username and role.
   */
  activeSanctionsOf(userId: number, now: number): Promise<AuthoredSanction[]>;
  /**
   * Lifts every sanction in force for a user (only those among `ids` when
   * given); returns how many were lifted.
   */
  liftSanctions(userId: number, now: number, ids?: readonly number[]): Promise<number>;

  /**
   * Commits a batch of messages in one transaction and returns their ids, in
   * order. Salon ids come from a per-salon counter that never goes back, so
   * an id is never reused, even after a purge.
   */
  appendMessages(batch: NewMessage[]): Promise<number[]>;
  /**
   * For each of `salons`, how many messages above `after` mention the user
   * (at most {@link UNREAD_MENTIONS_CAP}), one indexed range per salon.
   * Every salon asked for is in the answer (0 when none).
   */
  unreadMentions(
    userId: number,
    salons: ReadonlyArray<{ salonId: number; after: number }>,
  ): Promise<Map<number, number>>;
  /** A page of a salon's history. */
  salonHistory(salonId: number, query: HistoryQuery): Promise<HistoryPage>;
  /** A page of the direct conversation between two users (in either direction). */
  directHistory(userA: number, userB: number, query: HistoryQuery): Promise<HistoryPage>;

  /**
   * Records that a user has read up to `id` in a salon or a conversation. The
   * marker only moves forward (an upsert keeping the larger id); an id above
   * the newest ever handed out there changes nothing (`beyond`). The sender's
   * marker also moves with every message committed by {@link appendMessages}.
   */
  markRead(mark: ReadMark): Promise<ReadOutcome>;
  /**
   * Newest id, read marker and unread count (at most {@link UNREAD_MAX}) of
   * `userId` in each of `salonIds`, in that order; indexed reads only.
   */
  salonCatchup(userId: number, salonIds: readonly number[]): Promise<SalonCatchup[]>;
  /**
   * The user's direct conversations, most recent first (a note to self is a
   * conversation with oneself).
   */
  conversations(userId: number, query: ConversationQuery): Promise<ConversationPage>;

  /** Every membership, with the member's names (loaded once at start-up). */
  listMemberships(): Promise<SalonUserRow[]>;
  /** Every pending join request, with the requester's names. */
  listJoinRequests(): Promise<SalonUserRow[]>;
  /** Makes a user a member (idempotent) and closes any pending request of theirs there. */
  addMember(salonId: number, userId: number, now: number): Promise<void>;
  /** Ends a membership; returns whether there was one. */
  removeMember(salonId: number, userId: number): Promise<boolean>;
  /** Records a pending join request (idempotent). */
  addJoinRequest(salonId: number, userId: number, now: number): Promise<void>;
  /** Removes a pending join request; returns whether there was one. */
  removeJoinRequest(salonId: number, userId: number): Promise<boolean>;

  /** Every account, in creation order. */
  listUsers(): Promise<UserSummary[]>;
  /** Sanctions in force at `now` (bans, and kicks not yet over), oldest first. */
  listActiveSanctions(now: number): Promise<SanctionRecord[]>;
  /**
   * A ban, atomically: records it, revokes every token of the user (keeping
   * them marked as revoked by a ban, see {@link Store.bannedTokenOwner}), withdraws
   * their pending join requests and, with `purge`, deletes every salon and
   * direct message they wrote. Returns the salons whose requests were withdrawn.
   */
  ban(
    sanction: Omit<SanctionRecord, "id" | "kind" | "until">,
    byUserId: number | null,
    purge: boolean,
  ): Promise<{ sanction: SanctionRecord; withdrawnSalonIds: number[] }>;
  /** Appends to the audit log. */
  addAudit(entry: AuditEntry): Promise<void>;
  /** The newest audit entries, newest first. */
  listAudit(limit: number): Promise<AuditEntry[]>;

  // --- mute and slow mode (PROTOCOL 5.4) --------------------------------------

  /**
   * Records a mute, atomically lifting (at `mute.createdAt`) every mute in
   * force for the same user and the same salon (or everywhere): a new mute
   * replaces the previous one. Returns it with its id and the ids replaced.
   */
  addMute(
    mute: Omit<MuteRecord, "id">,
    byUserId: number | null,
  ): Promise<{ mute: MuteRecord; replaced: number[] }>;
  /** The mutes in force for a user at `now`, oldest first, each with its author's current role. */
  activeMutesOf(userId: number, now: number): Promise<AuthoredMute[]>;
  /** Lifts those of `ids` that are mutes of the user in force at `now`; returns how many. */
  liftMutes(userId: number, now: number, ids: readonly number[]): Promise<number>;
  /** Every mute in force at `now`, oldest first. */
  listActiveMutes(now: number): Promise<MuteRecord[]>;
  /** Sets a salon's slow mode (0-3600 s, 0 = off); false when there is no such salon. */
  setSlowMode(salonId: number, seconds: number): Promise<boolean>;

  // --- importing the original server's database (issue 13) ------------------

  /** What earlier imports mapped and how far they got. */
  legacyState(): Promise<LegacyState>;
  /** Stores one batch of an import and its progress marks in one transaction. */
  importLegacy(batch: LegacyBatch): Promise<LegacyBatchResult>;
  /**
   * Replaces the password hash `from` by `to` (a legacy hash upgraded at a
   * login) without touching sessions; returns false, changing nothing, when
   * the stored hash is no longer `from` (changed or reset meanwhile).
   */
  upgradePassword(userId: number, from: string, to: string): Promise<boolean>;

  // --- edit, delete and reports (PROTOCOL.md 5.4, migration 8) ---------------

  /**
   * The message `target` names, with its author and state, or `undefined`
   * when there is none (a direct message is looked for in the conversation of
   * `userA` and `userB` only, so an id of another conversation is not found).
   */
  messageFacts(target: MessageTarget): Promise<MessageFacts | undefined>;
  /**
   * Replaces the text of a message written by `edit.authorId` at or after
   * `edit.sentAfter` and not deleted, sets its edit time and, for a salon
   * message, its mentions (the column and the `message_mentions` rows), in one
   * transaction. Returns false, changing nothing, when no such message exists.
   */
  editMessage(target: MessageTarget, edit: MessageEdit): Promise<boolean>;
  /**
   * Erases a message: its text becomes empty, its mentions go (column and
   * rows), and it is marked deleted; the row stays, so its id is never reused.
   * Returns false, changing nothing, when there is no such message or it was
   * deleted already.
   */
  deleteMessage(target: MessageTarget): Promise<boolean>;
  /**
   * Records a report, once per reporter and message: a second one of the same
   * message by the same user changes nothing (`created: false`, the first
   * report returned).
   */
  addReport(report: NewReport): Promise<{ report: ReportRecord; created: boolean }>;
  /** The open reports, oldest first, at most `limit`. */
  openReports(limit: number): Promise<ReportRecord[]>;
  /**
   * Closes an open report; returns it as it now stands, or `undefined`
   * (nothing changed) when no open report has this id.
   */
  resolveReport(id: number, resolution: ReportResolution): Promise<ReportRecord | undefined>;
}
