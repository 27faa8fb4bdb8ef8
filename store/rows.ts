/**
 * Rows as both adapters read them (column names of the shared schema) turned
 * into the records of the Store interface.
 *
 * @module
 */

import type { SalonPolicy } from "../config/salons.ts";
import { mentionsOfColumn } from "./mentions_sql.ts";
import type { Role } from "./store.ts";
import type {
  AuditEntry,
  AuthoredSanction,
  HistoryPage,
  SalonRecord,
  SalonUserRow,
  SanctionRecord,
  StoredMessage,
  UserRecord,
  UserSummary,
} from "./store.ts";

/** A row: column name to value. */
export type Row = Record<string, unknown>;

/** The columns of `users` that {@link toUser} reads. */
export const USER_COLUMNS = "id, username, alias, role, password_hash, created_at";

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

/** Row to record: an account without its secrets (`id, username, alias, role`). */
export function toUserSummary(row: Row): UserSummary {
  return {
    id: Number(row.id),
    username: String(row.username),
    alias: String(row.alias),
    role: row.role as Role,
  };
}

/** Row to record: a line of `audit_log`. */
export function toAudit(row: Row): AuditEntry {
  return {
    at: Number(row.at),
    actor: String(row.actor),
    action: row.action as AuditEntry["action"],
    target: String(row.target),
    reason: String(row.reason),
    via: row.via as AuditEntry["via"],
  };
}

/** Row to record: toSalon. */
export function toSalon(row: Row): SalonRecord {
  return {
    id: Number(row.id),
    name: String(row.name),
    policy: row.policy as SalonPolicy,
    slowModeSeconds: Number(row.slow_mode_seconds ?? 0),
  };
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
  const mentions = mentionsOfColumn(row.mentions);
  if (mentions) message.mentions = mentions;
  // Edit and delete (PROTOCOL.md 5.4, migration 8).
  if (row.edited_at !== null && row.edited_at !== undefined) {
    message.editedAt = Number(row.edited_at);
  }
  if (Number(row.deleted ?? 0) !== 0) message.deleted = true;
  return message;
}

/** Row to record: page. */
export function page(rows: Row[], limit: number): HistoryPage {
  const more = rows.length > limit;
  const messages = rows.slice(0, limit).map(toMessage).reverse();
  return { messages, more };
}

/** One user's alias as the alias-key migration reads it. */
export interface AliasRow {
  /** User id. */
  id: number;
  /** Alias as registered. */
  alias: string;
  /** The key stored today. */
  key: string;
}

/** What {@link planAliasKeys} decided. */
export interface AliasKeyPlan {
  /** Rows whose stored key changes, with the new key. */
  updates: Array<{ id: number; key: string }>;
  /** Existing aliases that look like an older one: kept, with a key of their own. */
  clashes: Array<{ id: number; alias: string; keptId: number; keptAlias: string }>;
}

/** The version of the migration that recomputes every alias key (both schema files). */
export const ALIAS_SKELETON_MIGRATION = 3;

/**
 * Recomputes the alias keys of existing users with `keyOf` (the confusable
 * skeleton). When several existing aliases share a key, the oldest account
 * keeps it and the others get a key no alias can produce (`\u0002` + id):
 * nobody is renamed or locked out, and new aliases still clash with the
 * oldest. Pure: the adapters apply the plan and report the clashes.
 */
export function planAliasKeys(rows: AliasRow[], keyOf: (alias: string) => string): AliasKeyPlan {
  const owner = new Map<string, AliasRow>();
  const plan: AliasKeyPlan = { updates: [], clashes: [] };
  for (const row of [...rows].sort((a, b) => a.id - b.id)) {
    const wanted = keyOf(row.alias);
    const kept = owner.get(wanted);
    let key = wanted;
    if (kept) {
      key = `\u0002${row.id}`;
      plan.clashes.push({ id: row.id, alias: row.alias, keptId: kept.id, keptAlias: kept.alias });
    } else {
      owner.set(wanted, row);
    }
    if (key !== row.key) plan.updates.push({ id: row.id, key });
  }
  return plan;
}

/**
 * The statements that apply `plan` without tripping the unique index half-way
 * (a new key may still be another row's old one): every changed row first
 * gets a temporary key of its own (`\u0003` + id), then its final key.
 */
export function aliasKeyUpdates(plan: AliasKeyPlan): Array<[string, unknown[]]> {
  const sql = "UPDATE users SET alias_key = ? WHERE id = ?";
  return [
    ...plan.updates.map(({ id }): [string, unknown[]] => [sql, [`\u0003${id}`, id]]),
    ...plan.updates.map(({ id, key }): [string, unknown[]] => [sql, [key, id]]),
  ];
}

/** The warning for one clash found by {@link planAliasKeys}. */
export function aliasClashWarning(c: AliasKeyPlan["clashes"][number]): string {
  return `aliases ${JSON.stringify(c.alias)} (user id ${c.id}) and ${
    JSON.stringify(c.keptAlias)
  } (user id ${c.keptId}) look alike; both are kept, new aliases are compared with the older one`;
}
