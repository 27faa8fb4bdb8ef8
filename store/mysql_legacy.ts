/**
 * Importing the original server's database into MySQL/MariaDB (issue 13):
 * the mapping of original rows (`legacy_ids`), the progress marks
 * (`legacy_marks`), one batch of an import in one InnoDB transaction (the
 * messages in multi-row inserts), and the upgrade of a legacy password hash.
 * Bound parameters only.
 *
 * @module
 */

import { insertUser } from "./mysql_accounts.ts";
import { reserveSalonIds } from "./mysql_append.ts";
import { conflictOf, type MysqlDb, type Param, runChunked, type Sql } from "./mysql_sql.ts";
import {
  type LegacyBatch,
  type LegacyBatchResult,
  type LegacyMark,
  type LegacyState,
} from "./store.ts";

/** What earlier imports mapped and how far they got. */
export async function legacyState(db: MysqlDb): Promise<LegacyState> {
  const state: LegacyState = {
    clients: new Map(),
    salons: new Map(),
    marks: { membership: 0, message: 0 },
  };
  for (const r of await db.sql.rows("SELECT kind, legacy_id, our_id FROM legacy_ids")) {
    const map = r.kind === "client" ? state.clients : state.salons;
    map.set(Number(r.legacy_id), Number(r.our_id));
  }
  for (const r of await db.sql.rows("SELECT kind, last_id FROM legacy_marks")) {
    state.marks[r.kind as LegacyMark] = Number(r.last_id);
  }
  return state;
}

/** Stores one batch of an import and its marks in one transaction (see Store.importLegacy). */
export async function importLegacy(db: MysqlDb, batch: LegacyBatch): Promise<LegacyBatchResult> {
  try {
    return await db.tx(async (sql) => {
      const userIds: number[] = [];
      for (const u of batch.users ?? []) userIds.push(await createUser(sql, u));
      for (const s of batch.salons ?? []) {
        await sql.run(
          "INSERT IGNORE INTO legacy_ids (kind, legacy_id, our_id) VALUES ('salon', ?, ?)",
          [s.legacyId, s.salonId],
        );
      }
      let membershipsAdded = 0;
      for (const m of batch.memberships ?? []) {
        const result = await sql.run(
          "INSERT IGNORE INTO memberships (salon_id, user_id, joined_at) VALUES (?, ?, ?)",
          [m.salonId, m.userId, m.at],
        );
        membershipsAdded += result.affectedRows;
      }
      const messageIds = await appendMessages(sql, batch.messages ?? []);
      await bumpReadMarkers(sql, batch.read ?? []);
      for (const [kind, lastId] of Object.entries(batch.marks ?? {})) {
        if (lastId === undefined) continue;
        await sql.run(
          `INSERT INTO legacy_marks (kind, last_id) VALUES (?, ?)
           ON DUPLICATE KEY UPDATE last_id = GREATEST(last_id, VALUES(last_id))`,
          [kind, lastId],
        );
      }
      return { userIds, messageIds, membershipsAdded };
    });
  } catch (e) {
    throw conflictOf(e) ?? e;
  }
}

/** Creates one mapped account (member of the `auto` salon), or returns the one mapped already. */
async function createUser(
  sql: Sql,
  u: NonNullable<LegacyBatch["users"]>[number],
): Promise<number> {
  const known = await sql.row(
    "SELECT our_id FROM legacy_ids WHERE kind = 'client' AND legacy_id = ?",
    [u.legacyId],
  );
  if (known) return Number(known.our_id);
  const id = await insertUser(sql, u.user, u.createdAt);
  await sql.run(
    "INSERT INTO legacy_ids (kind, legacy_id, our_id) VALUES ('client', ?, ?)",
    [u.legacyId, id],
  );
  return id;
}

/**
 * Inserts salon messages inside the transaction: each salon's ids reserved
 * with one update of its counter (salons in id order), the rows in multi-row
 * inserts, then each sender's marker moved to their newest message.
 */
async function appendMessages(
  sql: Sql,
  messages: NonNullable<LegacyBatch["messages"]>,
): Promise<number[]> {
  const counts = new Map<number, number>();
  for (const m of messages) counts.set(m.salonId, (counts.get(m.salonId) ?? 0) + 1);
  const next = await reserveSalonIds(sql, counts);
  const rows: Param[][] = [];
  const newest = new Map<string, { userId: number; salonId: number; lastRead: number }>();
  const ids = messages.map((m) => {
    const id = next.get(m.salonId)!;
    next.set(m.salonId, id + 1);
    rows.push([m.salonId, id, m.userId, m.text, m.at]);
    newest.set(`${m.userId}:${m.salonId}`, { userId: m.userId, salonId: m.salonId, lastRead: id });
    return id;
  });
  await runChunked(
    sql,
    rows,
    (n) =>
      "INSERT INTO messages (salon_id, id, user_id, text, created_at) VALUES " +
      Array(n).fill("(?, ?, ?, ?, ?)").join(", "),
    (chunk) => chunk.flat(),
  );
  await bumpReadMarkers(sql, [...newest.values()]);
  return ids;
}

/** Moves read markers forward to at least `lastRead` (never back), in multi-row upserts. */
async function bumpReadMarkers(
  sql: Sql,
  read: NonNullable<LegacyBatch["read"]>,
): Promise<void> {
  await runChunked(
    sql,
    read,
    (n) =>
      "INSERT INTO read_markers (user_id, salon_id, last_read) VALUES " +
      Array(n).fill("(?, ?, ?)").join(", ") +
      " ON DUPLICATE KEY UPDATE last_read = GREATEST(last_read, VALUES(last_read))",
    (chunk) => chunk.flatMap((r) => [r.userId, r.salonId, r.lastRead]),
  );
}

/** Replaces the hash `from` by `to` without touching sessions; false when it changed meanwhile. */
export async function upgradePassword(
  db: MysqlDb,
  userId: number,
  from: string,
  to: string,
): Promise<boolean> {
  const result = await db.sql.run(
    "UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?",
    [to, userId, from],
  );
  return result.affectedRows === 1;
}
