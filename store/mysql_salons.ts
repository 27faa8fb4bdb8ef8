/**
 * Salons on MySQL/MariaDB: the configured salons kept in step with the
 * database, memberships and pending join requests (read at start-up and at
 * sign-in, and changed one at a time, each in its own transaction).
 *
 * @module
 */

import type { SalonConfig } from "../config/salons.ts";
import { nameKey } from "../protocol/names.ts";
import type { MysqlDb } from "./mysql_sql.ts";
import { toSalon, toSalonUser } from "./rows.ts";
import type { SalonRecord, SalonUserRow } from "./store.ts";

/**
 * Makes the stored salons match the configuration without losing anything
 * (see Store.syncSalons); returns every stored salon.
 */
export async function syncSalons(
  db: MysqlDb,
  salons: SalonConfig[],
  now: number,
): Promise<SalonRecord[]> {
  await db.tx(async (sql) => {
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
  return listSalons(db);
}

/**
 * Every stored salon, in creation order. Every column is read (`toSalon`
 * picks its own), so that the salons of a database not yet at migration 7
 * (no `slow_mode_seconds`: slow mode off) can still be listed, as the
 * migration tests do when they seed an older database through the store.
 */
export async function listSalons(db: MysqlDb): Promise<SalonRecord[]> {
  return (await db.sql.rows("SELECT * FROM salons ORDER BY id"))
    .map(toSalon);
}

/** Ids of the salons the user is a member of. */
export async function memberSalonIds(db: MysqlDb, userId: number): Promise<number[]> {
  return (await db.sql.rows(
    "SELECT salon_id FROM memberships WHERE user_id = ? ORDER BY salon_id",
    [userId],
  )).map((r) => Number(r.salon_id));
}

/** Ids of the salons where the user has a pending join request. */
export async function pendingSalonIds(db: MysqlDb, userId: number): Promise<number[]> {
  return (await db.sql.rows(
    "SELECT salon_id FROM join_requests WHERE user_id = ? ORDER BY salon_id",
    [userId],
  )).map((r) => Number(r.salon_id));
}

/** Every membership, with the member's names. */
export async function listMemberships(db: MysqlDb): Promise<SalonUserRow[]> {
  return (await db.sql.rows(
    `SELECT m.salon_id AS salon_id, m.joined_at AS since, u.id AS user_id,
            u.username AS username, u.alias AS alias, u.role AS role
     FROM memberships m JOIN users u ON u.id = m.user_id ORDER BY m.salon_id, m.joined_at, m.user_id`,
  )).map(toSalonUser);
}

/** Every pending join request, with the requester's names. */
export async function listJoinRequests(db: MysqlDb): Promise<SalonUserRow[]> {
  return (await db.sql.rows(
    `SELECT r.salon_id AS salon_id, r.created_at AS since, u.id AS user_id,
            u.username AS username, u.alias AS alias, u.role AS role
     FROM join_requests r JOIN users u ON u.id = r.user_id ORDER BY r.created_at, r.salon_id, r.user_id`,
  )).map(toSalonUser);
}

/** Makes a user a member (idempotent) and closes any pending request of theirs there. */
export async function addMember(
  db: MysqlDb,
  salonId: number,
  userId: number,
  now: number,
): Promise<void> {
  await db.tx(async (sql) => {
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

/** Ends a membership; returns whether there was one. */
export async function removeMember(db: MysqlDb, salonId: number, userId: number): Promise<boolean> {
  const result = await db.tx((sql) =>
    sql.run("DELETE FROM memberships WHERE salon_id = ? AND user_id = ?", [salonId, userId])
  );
  return result.affectedRows > 0;
}

/** Records a pending join request (idempotent). */
export async function addJoinRequest(
  db: MysqlDb,
  salonId: number,
  userId: number,
  now: number,
): Promise<void> {
  await db.tx((sql) =>
    sql.run(
      `INSERT INTO join_requests (salon_id, user_id, created_at) VALUES (?, ?, ?)
       ON DUPLICATE KEY UPDATE created_at = created_at`,
      [salonId, userId, now],
    )
  );
}

/** Removes a pending join request; returns whether there was one. */
export async function removeJoinRequest(
  db: MysqlDb,
  salonId: number,
  userId: number,
): Promise<boolean> {
  const result = await db.tx((sql) =>
    sql.run("DELETE FROM join_requests WHERE salon_id = ? AND user_id = ?", [salonId, userId])
  );
  return result.affectedRows > 0;
}
