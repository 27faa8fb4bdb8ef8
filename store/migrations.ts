/**
 * Versioned migrations, kept in plain SQL files: each migration starts with a
 * line `-- migration: N` and holds statements ending with `;` at the end of a
 * line. Both adapters record applied versions in `schema_migrations`.
 *
 * @module
 */

/** One migration: its version and its statements, in order. */
export interface Migration {
  /** Version number; applied in increasing order, each exactly once. */
  version: number;
  /** SQL statements without their trailing `;`. */
  statements: string[];
}

/**
 * Splits a migration file into migrations. Throws when versions are not
 * strictly increasing or a statement lies outside a migration.
 */
export function parseMigrations(sql: string): Migration[] {
  const migrations: Migration[] = [];
  let current: Migration | undefined;
  let buffer: string[] = [];
  for (const line of sql.split("\n")) {
    const marker = /^--\s*migration:\s*(\d+)\s*$/.exec(line.trim());
    if (marker) {
      if (buffer.join("").trim() !== "") {
        throw new Error(`statement without ';' before migration ${marker[1]}`);
      }
      const version = Number(marker[1]);
      if (current && version <= current.version) {
        throw new Error(
          `migration ${version} follows ${current.version}: keep versions increasing`,
        );
      }
      current = { version, statements: [] };
      migrations.push(current);
      buffer = [];
      continue;
    }
    if (line.trim().startsWith("--") || line.trim() === "") continue;
    if (!current) throw new Error("SQL before the first '-- migration: N' line");
    buffer.push(line);
    if (line.trimEnd().endsWith(";")) {
      const statement = buffer.join("\n").trim().replace(/;$/, "");
      current.statements.push(statement);
      buffer = [];
    }
  }
  if (buffer.join("").trim() !== "") throw new Error("last statement does not end with ';'");
  return migrations;
}
