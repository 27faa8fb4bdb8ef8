/**
 * Importing the original server's database into SQLite (issue 13): the
 * mapping of original rows (`legacy_ids`), the progress marks
 * (`legacy_marks`), one batch of an import in one `BEGIN IMMEDIATE`
 * transaction, and the upgrade of a legacy password hash. Synchronous, like
 * `node:sqlite`: the adapter turns what these return or throw into promises.
 *
 * @module
 */

import { insertUser } from "./sqlite_accounts.ts";
import type { SqliteDb } from "./sqlite_db.ts";
import {
  type LegacyBatch,
  type LegacyBatchResult,
  type LegacyMark,
  type LegacyState,
} from "./store.ts";

const MAPPED = "SELECT our_id FROM legacy_ids WHERE kind = ? AND legacy_id = ?";
const MAP = "INSERT OR IGNORE INTO legacy_ids (kind, legacy_id, our_id) VALUES (?, ?, ?)";
const MARK = `INSERT INTO legacy_marks (kind, last_id) VALUES (?, ?)
  ON CONFLICT (kind) DO UPDATE SET last_id = MAX(last_id, excluded.last_id)`;
const BUMP_READ = `INSERT INTO read_markers (user_id, salon_id, last_read) VALUES (?, ?, ?)
  ON CONFLICT (user_id, salon_id) DO UPDATE SET last_read = MAX(last_read, excluded.last_read)`;

/** What earlier imports mapped and how far they got. */
export function legacyState(db: SqliteDb): LegacyState {
  const state: LegacyState = {
    clients: new Map(),
    salons: new Map(),
    marks: { membership: 0, message: 0 },
  };
  for (const r of db.q("SELECT kind, legacy_id, our_id FROM legacy_ids").all()) {
    const map = r.kind === "client" ? state.clients : state.salons;
    map.set(Number(r.legacy_id), Number(r.our_id));
  }
  for (const r of db.q("SELECT kind, last_id FROM legacy_marks").all()) {
    state.marks[r.kind as LegacyMark] = Number(r.last_id);
  }
  return state;
}

/** Stores one batch of an import and its marks in one transaction (see Store.importLegacy). */
export function importLegacy(db: SqliteDb, batch: LegacyBatch): LegacyBatchResult {
  return db.tx(() => {
    const userIds = (batch.users ?? []).map((u) => {
      const known = db.q(MAPPED).get("client", u.legacyId);
      if (known) return Number(known.our_id);
      const id = insertUser(db, u.user, u.createdAt);
      db.q(MAP).run("client", u.legacyId, id);
      return id;
    });
    for (const s of batch.salons ?? []) db.q(MAP).run("salon", s.legacyId, s.salonId);
    let membershipsAdded = 0;
    for (const m of batch.memberships ?? []) {
      membershipsAdded += Number(
        db.q("INSERT OR IGNORE INTO memberships (salon_id, user_id, joined_at) VALUES (?, ?, ?)")
          .run(m.salonId, m.userId, m.at).changes,
      );
    }
    const messageIds = appendMessages(db, batch.messages ?? []);
    for (const r of batch.read ?? []) db.q(BUMP_READ).run(r.userId, r.salonId, r.lastRead);
    for (const [kind, lastId] of Object.entries(batch.marks ?? {})) {
      if (lastId !== undefined) db.q(MARK).run(kind, lastId);
    }
    return { userIds, messageIds, membershipsAdded };
  });
}

/**
 * Inserts salon messages inside the current transaction: each salon's ids
 * reserved with one update of its counter, then one insert per message; each
 * sender's marker moves to their newest message of the batch.
 */
function appendMessages(db: SqliteDb, messages: NonNullable<LegacyBatch["messages"]>): number[] {
  const counts = new Map<number, number>();
  for (const m of messages) counts.set(m.salonId, (counts.get(m.salonId) ?? 0) + 1);
  const next = new Map<number, number>();
  for (const [salonId, n] of counts) {
    const row = db.q(
      "UPDATE salons SET last_message_id = last_message_id + ? WHERE id = ? RETURNING last_message_id",
    ).get(n, salonId);
    if (!row) throw new Error(`salon ${salonId} does not exist`);
    next.set(salonId, Number(row.last_message_id) - n + 1);
  }
  const insert = db.q(
    "INSERT INTO messages (salon_id, id, user_id, text, created_at) VALUES (?, ?, ?, ?, ?)",
  );
  const newest = new Map<string, [number, number, number]>();
  const ids = messages.map((m) => {
    const id = next.get(m.salonId)!;
    next.set(m.salonId, id + 1);
    insert.run(m.salonId, id, m.userId, m.text, m.at);
    newest.set(`${m.userId}:${m.salonId}`, [m.userId, m.salonId, id]);
    return id;
  });
  for (const [userId, salonId, id] of newest.values()) db.q(BUMP_READ).run(userId, salonId, id);
  return ids;
}

/** Replaces the hash `from` by `to` without touching sessions; false when it changed meanwhile. */
export function upgradePassword(db: SqliteDb, userId: number, from: string, to: string): boolean {
  return db.tx(() =>
    Number(
      db.q("UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?")
        .run(to, userId, from).changes,
    ) === 1
  );
}
