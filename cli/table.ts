/**
 * Plain-text tables for the CLI.
 *
 * @module
 */

/** Renders rows as aligned columns under a header; `(none)` when empty. */
export function table(headers: string[], rows: Array<Array<string | number | undefined>>): string {
  if (rows.length === 0) return "(none)";
  const cells = rows.map((r) => r.map((c) => (c === undefined ? "" : String(c))));
  const widths = headers.map((h, i) =>
    Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length))
  );
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}
