/**
 * Accounts and sessions on MySQL/MariaDB: creating an account (and its
 * membership of the `auto` salon), looking accounts up, roles and passwords,
 * session tokens (stored as hashes) and their expiry.
 *
 * @module
 */

import { aliasKey, nameKey } from "../protocol/names.ts";
import { keptTokens, newUserRecord, sessionUse } from "./adapter_common.ts";
import { conflictOf, type MysqlDb, type Sql } from "./mysql_sql.ts";
import { toUser, toUserSummary, USER_COLUMNS } from "./rows.ts";
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
 * transaction of `sql`; rejects with {@link ConflictError} when the username
 * or alias is taken. Resolves to the new id.
 */
export async function insertUser(sql: Sql, user: NewUser, now: number): Promise<number> {
  const usernameKey = nameKey(user.username);
  const aliasKeyOf = aliasKey(user.alias);
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
}

/**
 * Creates an account and makes it a member of the `auto` salon, in one
 * transaction; rejects with {@link ConflictError} when the username or alias is taken.
 */
export async function createUser(db: MysqlDb, user: NewUser, now: number): Promise<UserRecord> {
  try {
    const id = await db.tx((sql) => insertUser(sql, user, now));
    return newUserRecord(user, id, now);
  } catch (e) {
    throw conflictOf(e) ?? e;
  }
}

/** Whether an account's alias looks like `alias` (same confusable skeleton). */
export async function aliasTaken(db: MysqlDb, alias: string): Promise<boolean> {
  return (await db.sql.row("SELECT 1 FROM users WHERE alias_key = ?", [aliasKey(alias)])) !==
    undefined;
}

/** The account with this username (compared by its key). */
export async function userByName(db: MysqlDb, username: string): Promise<UserRecord | undefined> {
  return toUser(
    await db.sql.row(`SELECT ${USER_COLUMNS} FROM users WHERE username_key = ?`, [
      nameKey(username),
    ]),
  );
}

/** The account with this id. */
export async function userById(db: MysqlDb, id: number): Promise<UserRecord | undefined> {
  return toUser(await db.sql.row(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`, [id]));
}

/** Whether at least one account has role `admin`. */
export async function hasAdmin(db: MysqlDb): Promise<boolean> {
  const admin = await db.sql.row("SELECT 1 FROM users WHERE role = 'admin' LIMIT 1");
  return admin !== undefined;
}

/** Changes a role. */
export async function setRole(db: MysqlDb, userId: number, role: Role): Promise<void> {
  await db.tx((sql) => sql.run("UPDATE users SET role = ? WHERE id = ?", [role, userId]));
}

/** Replaces the password hash and revokes every session token of the user, atomically. */
export async function setPassword(
  db: MysqlDb,
  userId: number,
  passwordHash: string,
): Promise<void> {
  await db.tx(async (sql) => {
    await sql.run("UPDATE users SET password_hash = ? WHERE id = ?", [passwordHash, userId]);
    await sql.run("DELETE FROM sessions WHERE user_id = ?", [userId]);
  });
}

/** Every account, in creation order. */
export async function listUsers(db: MysqlDb): Promise<UserSummary[]> {
  const rows = await db.sql.rows("SELECT id, username, alias, role FROM users ORDER BY id");
  return rows.map(toUserSummary);
}

/**
 * Stores a new session token hash, dropping the user's tokens idle too long
 * and the oldest beyond `maxPerUser`.
 */
export async function createSession(
  db: MysqlDb,
  userId: number,
  tokenHash: string,
  opts: SessionLookup & { maxPerUser: number },
): Promise<void> {
  await db.tx(async (sql) => {
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
    for (const t of tokens.slice(keptTokens(opts.maxPerUser))) {
      await sql.run("DELETE FROM sessions WHERE token_hash = ?", [t.token_hash as Uint8Array]);
    }
    await sql.run(
      "INSERT INTO sessions (token_hash, user_id, created_at, last_used_at) VALUES (?, ?, ?, ?)",
      [tokenHash, userId, opts.now, opts.now],
    );
  });
}

/**
 * The user owning a token hash, or `undefined` when unknown, revoked by a ban
 * or expired (an expired token is deleted); records the use at most hourly.
 */
export async function sessionUser(
  db: MysqlDb,
  tokenHash: string,
  opts: SessionLookup,
): Promise<UserRecord | undefined> {
  const row = await db.sql.row(
    `SELECT s.last_used_at AS last_used_at, u.id AS id, u.username AS username, u.alias AS alias,
            u.role AS role, u.password_hash AS password_hash, u.created_at AS created_at
     FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.token_hash = ? AND s.revoked_by_ban = 0`,
    [tokenHash],
  );
  if (!row) return undefined;
  const use = sessionUse(Number(row.last_used_at), opts);
  if (use === "expired") {
    await db.tx((sql) => sql.run("DELETE FROM sessions WHERE token_hash = ?", [tokenHash]));
    return undefined;
  }
  if (use === "touch") {
    await db.tx((sql) =>
      sql.run("UPDATE sessions SET last_used_at = ? WHERE token_hash = ?", [opts.now, tokenHash])
    );
  }
  return toUser(row);
}

/** The owner of a token revoked by a ban. */
export async function bannedTokenOwner(
  db: MysqlDb,
  tokenHash: string,
): Promise<UserRecord | undefined> {
  return toUser(
    await db.sql.row(
      `SELECT u.id AS id, u.username AS username, u.alias AS alias, u.role AS role,
              u.password_hash AS password_hash, u.created_at AS created_at
       FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.token_hash = ? AND s.revoked_by_ban = 1`,
      [tokenHash],
    ),
  );
}

/** Revokes one token; returns whether it existed. */
export async function deleteSession(db: MysqlDb, tokenHash: string): Promise<boolean> {
  const result = await db.tx((sql) =>
    sql.run("DELETE FROM sessions WHERE token_hash = ?", [tokenHash])
  );
  return result.affectedRows > 0;
}

/** Revokes every token of a user; returns how many there were. */
export async function deleteUserSessions(db: MysqlDb, userId: number): Promise<number> {
  const result = await db.tx((sql) => sql.run("DELETE FROM sessions WHERE user_id = ?", [userId]));
  return result.affectedRows;
}
