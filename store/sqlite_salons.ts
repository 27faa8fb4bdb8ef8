/**
 * Salons on SQLite: the configured salons kept in step with the database,
 * and the memberships and pending join requests read at start-up and at
 * sign-in. Membership changes are written with the messages (writer thread,
 * `sqlite_append.ts`). Synchronous, like `node:sqlite`.
 *
 * @module
 */

import type { SalonConfig } from "../config/salons.ts";
import { nameKey } from "../protocol/names.ts";
import { toSalon, toSalonUser } from "./rows.ts";
import type { SqliteDb } from "./sqlite_db.ts";
import type { SalonRecord, SalonUserRow } from "./store.ts";

/**
 * Makes the stored salons match the configuration without losing anything
 * (see Store.syncSalons); returns every stored salon.
 */
export function syncSalons(db: SqliteDb, salons: SalonConfig[], now: number): SalonRecord[] {
  db.tx(() => {
    const auto = salons.find((s) => s.policy === "auto");
    for (const s of salons) {
      const key = nameKey(s.name);
      const existing = db.q("SELECT id FROM salons WHERE name_key = ?").get(key);
      if (existing) {
        db.q("UPDATE salons SET name = ?, policy = ? WHERE id = ?")
          .run(s.name, s.policy, Number(existing.id));
      } else {
        db.q("INSERT INTO salons (name, name_key, policy, created_at) VALUES (?, ?, ?, ?)")
          .run(s.name, key, s.policy, now);
      }
    }
    if (auto) {
      const autoId = Number(
        db.q("SELECT id FROM salons WHERE name_key = ?").get(nameKey(auto.name))!.id,
      );
      db.q("UPDATE salons SET policy = 'open' WHERE policy = 'auto' AND id <> ?").run(autoId);
      db.q(
        "INSERT OR IGNORE INTO memberships (salon_id, user_id, joined_at) SELECT ?, id, ? FROM users",
      ).run(autoId, now);
      db.q("DELETE FROM join_requests WHERE salon_id = ?").run(autoId);
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
export function listSalons(db: SqliteDb): SalonRecord[] {
  return db.q("SELECT * FROM salons ORDER BY id").all().map(
    toSalon,
  );
}

/** Ids of the salons the user is a member of. */
export function memberSalonIds(db: SqliteDb, userId: number): number[] {
  return db.q("SELECT salon_id FROM memberships WHERE user_id = ? ORDER BY salon_id").all(userId)
    .map((r) => Number(r.salon_id));
}

/** Ids of the salons where the user has a pending join request. */
export function pendingSalonIds(db: SqliteDb, userId: number): number[] {
  return db.q("SELECT salon_id FROM join_requests WHERE user_id = ? ORDER BY salon_id").all(userId)
    .map((r) => Number(r.salon_id));
}

/** Every membership, with the member's names. */
export function listMemberships(db: SqliteDb): SalonUserRow[] {
  return db.q(
    `SELECT m.salon_id AS salon_id, m.joined_at AS since, u.id AS user_id,
            u.username AS username, u.alias AS alias, u.role AS role
     FROM memberships m JOIN users u ON u.id = m.user_id ORDER BY m.salon_id, m.joined_at`,
  ).all().map(toSalonUser);
}

/** Every pending join request, with the requester's names. */
export function listJoinRequests(db: SqliteDb): SalonUserRow[] {
  return db.q(
    `SELECT r.salon_id AS salon_id, r.created_at AS since, u.id AS user_id,
            u.username AS username, u.alias AS alias, u.role AS role
     FROM join_requests r JOIN users u ON u.id = r.user_id ORDER BY r.created_at, r.salon_id`,
  ).all().map(toSalonUser);
}
