/**
 * Rows as both adapters read them (column names of the shared schema) turned
 * into the records of the Store interface.
 *
 * @module
 */

import type { SalonPolicy } from "../config/salons.ts";
import type { Role } from "./store.ts";
import type {
  AuthoredSanction,
  HistoryPage,
  SalonRecord,
  SalonUserRow,
  SanctionRecord,
  StoredMessage,
  UserRecord,
} from "./store.ts";

/** A row: column name to value. */
export type Row = Record<string, unknown>;

/** Row to record: toUser. */
export function toUser(row: Row | undefined): UserRecord | undefined {
  if (!row) return undefined;
  return {
    id: Number(row.id),
    username: String(row.username),
    alias: String(row.alias),
    role: row.role as Role,
    passwordHash: String(row.password_hash),
    createdAt: Number(row.created_at),
  };
}

/** Row to record: toSalon. */
export function toSalon(row: Row): SalonRecord {
  return { id: Number(row.id), name: String(row.name), policy: row.policy as SalonPolicy };
}

/** Row to record: toSanction. */
export function toSanction(row: Row | undefined): SanctionRecord | undefined {
  if (!row) return undefined;
  return {
    id: Number(row.id),
    userId: Number(row.user_id),
    kind: row.kind as "kick" | "ban",
    until: row.until_at === null ? null : Number(row.until_at),
    reason: String(row.reason),
    createdAt: Number(row.created_at),
  };
}

/** Row to record: a sanction with its author (`by_username`, `by_role`; null for the server). */
export function toAuthoredSanction(row: Row): AuthoredSanction {
  return {
    ...toSanction(row)!,
    by: row.by_username === null || row.by_username === undefined
      ? null
      : { username: String(row.by_username), role: row.by_role as Role },
  };
}

/** Row to record: toSalonUser. */
export function toSalonUser(row: Row): SalonUserRow {
  return {
    salonId: Number(row.salon_id),
    since: Number(row.since),
    user: {
      id: Number(row.user_id),
      username: String(row.username),
      alias: String(row.alias),
      role: row.role as Role,
    },
  };
}

/** Row to record: toMessage. */
export function toMessage(row: Row): StoredMessage {
  const message: StoredMessage = {
    id: Number(row.id),
    from: { username: String(row.from_username), alias: String(row.from_alias) },
    text: String(row.text),
    at: Number(row.created_at),
  };
  if (row.to_username !== undefined) {
    message.to = { username: String(row.to_username), alias: String(row.to_alias) };
  }
  return message;
}

/** Row to record: page. */
export function page(rows: Row[], limit: number): HistoryPage {
  const more = rows.length > limit;
  const messages = rows.slice(0, limit).map(toMessage).reverse();
  return { messages, more };
}
