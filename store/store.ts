/**
 * The storage seam: one interface, used by everything, implemented by the
 * SQLite adapter (`sqlite.ts`) and the MySQL/MariaDB adapter.
 *
 * Times are milliseconds since the Unix epoch (UTC) everywhere in this
 * interface, so that neither database's date types leak through.
 *
 * @module
 */

import type { SalonConfig, SalonPolicy } from "../config/salons.ts";

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
   * than `maxIdleMs` (an expired token is deleted). Marks the token as used.
   */
  sessionUser(tokenHash: string, opts: SessionLookup): Promise<UserRecord | undefined>;
  /** Revokes one token. Returns whether it existed. */
  deleteSession(tokenHash: string): Promise<boolean>;
  /** Revokes every token of a user. */
  deleteUserSessions(userId: number): Promise<void>;

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
  /** Lifts every sanction in force for a user; returns how many were lifted. */
  liftSanctions(userId: number, now: number): Promise<number>;
}
