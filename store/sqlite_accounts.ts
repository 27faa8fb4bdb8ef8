/**
 * Accounts and sessions on SQLite: creating an account (and its membership
 * of the `auto` salon), looking accounts up, roles and passwords, session
 * tokens (stored as hashes) and their expiry. Synchronous, like `node:sqlite`:
 * the adapter turns what these return or throw into promises.
 *
 * @module
 */

import { aliasKey, nameKey } from "../protocol/names.ts";
import { keptTokens, newUserRecord, sessionUse } from "./adapter_common.ts";
import { toUser, toUserSummary, USER_COLUMNS } from "./rows.ts";
import type { SqliteDb } from "./sqlite_db.ts";
import {
  ConflictError,
  type NewUser,
  type Role,
  type SessionLookup,
  type UserRecord,
  type UserSummary,
} from "./store.ts";

/**
 * Inserts an account and its membership of the `auto` salon, inside the
 * caller's transaction; throws {@link ConflictError} when the username or
 * alias is taken. Returns the new id.
 */
export function insertUser(db: SqliteDb, user: NewUser, now: number): number {
  const usernameKey = nameKey(user.username);
  const aliasKeyOf = aliasKey(user.alias);
  if (db.q("SELECT 1 FROM users WHERE username_key = ?").get(usernameKey)) {
    throw new ConflictError("username");
  }
  if (db.q("SELECT 1 FROM users WHERE alias_key = ?").get(aliasKeyOf)) {
    throw new ConflictError("alias");
  }
  const result = db.q(
    `INSERT INTO users (username, username_key, alias, alias_key, password_hash, role, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).run(user.username, usernameKey, user.alias, aliasKeyOf, user.passwordHash, user.role, now);
  const userId = Number(result.lastInsertRowid);
  db.q(
    `INSERT INTO memberships (salon_id, user_id, joined_at)
     SELECT id, ?, ? FROM salons WHERE policy = 'auto'`,
  ).run(userId, now);
  return userId;
}

/**
 * Creates an account and makes it a member of the `auto` salon, in one
 * transaction; throws {@link ConflictError} when the username or alias is taken.
 */
export function createUser(db: SqliteDb, user: NewUser, now: number): UserRecord {
  try {
    const id = db.tx(() => insertUser(db, user, now));
    return newUserRecord(user, id, now);
  } catch (e) {
    throw conflictOf(e) ?? e;
  }
}

/**
 * The {@link ConflictError} a failed account creation stands for, if any: one
 * already thrown, or a unique constraint failure on `users` (named by column).
 */
function conflictOf(e: unknown): ConflictError | undefined {
  if (e instanceof ConflictError) return e;
  const message = (e as Error).message ?? "";
  if (message.includes("users.username_key")) return new ConflictError("username");
  if (message.includes("users.alias_key")) return new ConflictError("alias");
  return undefined;
}

/** Whether an account's alias looks like `alias` (same confusable skeleton). */
export function aliasTaken(db: SqliteDb, alias: string): boolean {
  return db.q("SELECT 1 FROM users WHERE alias_key = ?").get(aliasKey(alias)) !== undefined;
}

/** The account with this username (compared by its key). */
export function userByName(db: SqliteDb, username: string): UserRecord | undefined {
  return toUser(
    db.q(`SELECT ${USER_COLUMNS} FROM users WHERE username_key = ?`).get(nameKey(username)),
  );
}

/** The account with this id. */
export function userById(db: SqliteDb, id: number): UserRecord | undefined {
  return toUser(db.q(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`).get(id));
}

/** Whether at least one account has role `admin`. */
export function hasAdmin(db: SqliteDb): boolean {
  return db.q("SELECT 1 FROM users WHERE role = 'admin' LIMIT 1").get() !== undefined;
}

/** Changes a role. */
export function setRole(db: SqliteDb, userId: number, role: Role): void {
  db.tx(() => db.q("UPDATE users SET role = ? WHERE id = ?").run(role, userId));
}

/** Replaces the password hash and revokes every session token of the user, atomically. */
export function setPassword(db: SqliteDb, userId: number, passwordHash: string): void {
  db.tx(() => {
    db.q("UPDATE users SET password_hash = ? WHERE id = ?").run(passwordHash, userId);
    db.q("DELETE FROM sessions WHERE user_id = ?").run(userId);
  });
}

/** Every account, in creation order. */
export function listUsers(db: SqliteDb): UserSummary[] {
  return db.q("SELECT id, username, alias, role FROM users ORDER BY id").all().map(toUserSummary);
}

/**
 * Stores a new session token hash, dropping the user's tokens idle too long
 * and the oldest beyond `maxPerUser`.
 */
export function createSession(
  db: SqliteDb,
  userId: number,
  tokenHash: string,
  opts: SessionLookup & { maxPerUser: number },
): void {
  db.tx(() => {
    db.q("DELETE FROM sessions WHERE user_id = ? AND last_used_at < ?")
      .run(userId, opts.now - opts.maxIdleMs);
    db.q(
      `DELETE FROM sessions WHERE user_id = ? AND token_hash NOT IN (
         SELECT token_hash FROM sessions WHERE user_id = ?
         ORDER BY last_used_at DESC, created_at DESC LIMIT ?)`,
    ).run(userId, userId, keptTokens(opts.maxPerUser));
    db.q(
      "INSERT INTO sessions (token_hash, user_id, created_at, last_used_at) VALUES (?, ?, ?, ?)",
    ).run(tokenHash, userId, opts.now, opts.now);
  });
}

/**
 * The user owning a token hash, or `undefined` when unknown, revoked by a ban
 * or expired (an expired token is deleted); records the use at most hourly.
 */
export function sessionUser(
  db: SqliteDb,
  tokenHash: string,
  opts: SessionLookup,
): UserRecord | undefined {
  const row = db.q(
    `SELECT s.last_used_at AS last_used_at, u.id AS id, u.username AS username, u.alias AS alias,
            u.role AS role, u.password_hash AS password_hash, u.created_at AS created_at
     FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.token_hash = ? AND s.revoked_by_ban = 0`,
  ).get(tokenHash);
  if (!row) return undefined;
  const use = sessionUse(Number(row.last_used_at), opts);
  if (use === "expired") {
    db.tx(() => db.q("DELETE FROM sessions WHERE token_hash = ?").run(tokenHash));
    return undefined;
  }
  if (use === "touch") {
    db.tx(() =>
      db.q("UPDATE sessions SET last_used_at = ? WHERE token_hash = ?").run(opts.now, tokenHash)
    );
  }
  return toUser(row);
}

/** The owner of a token revoked by a ban. */
export function bannedTokenOwner(db: SqliteDb, tokenHash: string): UserRecord | undefined {
  return toUser(
    db.q(
      `SELECT u.id AS id, u.username AS username, u.alias AS alias, u.role AS role,
              u.password_hash AS password_hash, u.created_at AS created_at
       FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.token_hash = ? AND s.revoked_by_ban = 1`,
    ).get(tokenHash),
  );
}

/** Revokes one token; returns whether it existed. */
export function deleteSession(db: SqliteDb, tokenHash: string): boolean {
  const result = db.tx(() => db.q("DELETE FROM sessions WHERE token_hash = ?").run(tokenHash));
  return Number(result.changes) > 0;
}

/** Revokes every token of a user; returns how many there were. */
export function deleteUserSessions(db: SqliteDb, userId: number): number {
  const result = db.tx(() => db.q("DELETE FROM sessions WHERE user_id = ?").run(userId));
  return Number(result.changes);
}
