/**
 * Migrations of the SQLite database: the versions recorded in
 * `schema_migrations`, each pending one applied in its own transaction,
 * and the alias-key recomputation that migration
 * {@link ALIAS_SKELETON_MIGRATION} needs.
 *
 * @module
 */

import type { DatabaseSync } from "node:sqlite";
import { aliasKey } from "../protocol/names.ts";
import { parseMigrations } from "./migrations.ts";
import {
  ALIAS_SKELETON_MIGRATION,
  aliasClashWarning,
  aliasKeyUpdates,
  planAliasKeys,
} from "./rows.ts";

/** Applies the migrations of `schema` not yet recorded; `warn` hears what they did not stop for. */
export function migrate(db: DatabaseSync, schema: string, warn: (message: string) => void): void {
  db.exec(
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
  );
  const applied = new Set(
    db.prepare("SELECT version FROM schema_migrations").all().map((r) => Number(r.version)),
  );
  for (const m of parseMigrations(schema)) {
    if (applied.has(m.version)) continue;
    db.exec("BEGIN IMMEDIATE");
    try {
      for (const s of m.statements) db.exec(s);
      if (m.version === ALIAS_SKELETON_MIGRATION) rekeyAliases(db, warn);
      db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)")
        .run(m.version, Date.now());
      db.exec("COMMIT");
    } catch (e) {
      db.exec("ROLLBACK");
      throw new Error(`migration ${m.version} failed: ${(e as Error).message}`);
    }
  }
}

/** Recomputes every alias key (migration {@link ALIAS_SKELETON_MIGRATION}), inside its transaction. */
function rekeyAliases(db: DatabaseSync, warn: (message: string) => void): void {
  const rows = db.prepare("SELECT id, alias, alias_key FROM users").all().map((r) => ({
    id: Number(r.id),
    alias: String(r.alias),
    key: String(r.alias_key),
  }));
  const plan = planAliasKeys(rows, aliasKey);
  for (const [sql, params] of aliasKeyUpdates(plan)) {
    db.prepare(sql).run(...(params as [string, number]));
  }
  for (const clash of plan.clashes) warn(aliasClashWarning(clash));
}
