/**
 * What the import prints: the summary on stdout (what was imported or
 * skipped and why, every renamed account, the accounts an admin must unlock)
 * and, on a terminal, one progress line on stderr.
 *
 * @module
 */

import type { ImportReport, ListedIds, Progress, Renamed } from "./importer.ts";

const REASONS: Record<Exclude<Renamed["reason"], "taken">, string> = {
  reserved: "a reserved name",
  invalid: "not valid in Causerie",
};

/** Why a name was taken, by kind of name. */
const TAKEN = {
  username: "the same name as another account, ignoring case",
  alias: "looks the same as another account's alias",
  salon: "the same name as another salon, ignoring case",
} as const;

const TEXT_RULES: Record<keyof ImportReport["textChanges"], string> = {
  utf8_cut: "a character cut by the original server replaced by U+FFFD",
  latin1: "not UTF-8: read as latin1 (the column's character set)",
  replaced: "invalid UTF-8 sequences replaced by U+FFFD",
  controls: "control or bidirectional characters replaced by U+FFFD",
  split: `longer than CAUSERIE_MAX_TEXT: split into consecutive messages`,
  no_time: "no timestamp: given the previous message's time",
};

function ids(list: ListedIds): string {
  const more = list.count - list.ids.length;
  return `${list.ids.join(", ")}${more > 0 ? ` and ${more} more` : ""}`;
}

function renamed(title: string, kind: keyof typeof TAKEN, list: Renamed[]): string[] {
  if (list.length === 0) return [];
  return [
    `  ${title}:`,
    ...list.map((r) =>
      `    ${JSON.stringify(r.original)} -> ${JSON.stringify(r.name)} (original id ${r.legacyId}: ${
        r.reason === "taken" ? TAKEN[kind] : REASONS[r.reason]
      })`
    ),
  ];
}

function skipped(table: Record<string, ListedIds>): string[] {
  return Object.entries(table).map(([reason, list]) =>
    `  skipped, ${reason}: ${list.count} (original ids ${ids(list)})`
  );
}

/** The summary printed at the end of an import. */
export function formatSummary(
  report: ImportReport,
  where: { source: string; target: string },
): string {
  const seconds = Math.max(report.elapsedMs, 1) / 1000;
  const rate = Math.round(report.messages.read / seconds);
  const lines = [
    `Imported ${where.source} into ${where.target} in ${seconds.toFixed(1)} s` +
    (report.messages.read > 0 ? ` (${rate} messages per second)` : ""),
    `users: ${report.usersImported} imported, ${report.usersKnown} imported by an earlier run`,
    ...renamed("usernames changed (they log in with the new name)", "username", report.usernames),
    ...renamed("aliases changed", "alias", report.aliases),
  ];
  if (report.locked.length > 0) {
    lines.push(
      `  cannot log in until an admin sets a password (placeholder password hash, or the ` +
        `original admin/server accounts): ${report.locked.join(", ")}`,
      `    unlock one with: deno task admin user password USERNAME (while the server runs)`,
    );
  }
  lines.push(
    `salons: ${report.salonsMapped} imported, ${
      report.salonsMapped - report.salonsCreated.length
    } of them into salons of the same name` +
      (report.salonsCreated.length > 0
        ? `; created: ${
          report.salonsCreated.map((s) => `${JSON.stringify(s.name)} (policy ${s.policy})`).join(
            ", ",
          )
        }`
        : ""),
    ...renamed("salon names changed", "salon", report.salonNames),
    `memberships: ${report.memberships.read} read, ${report.memberships.added} added, ` +
      `${report.memberships.already} already there`,
    ...skipped(report.memberships.skipped),
    `messages: ${report.messages.read} read, ${report.messages.stored} stored`,
    ...skipped(report.messages.skipped),
  );
  for (const [rule, list] of Object.entries(report.textChanges)) {
    if (list.count === 0) continue;
    lines.push(
      `  text: ${list.count} ${TEXT_RULES[rule as keyof typeof TEXT_RULES]} (original ids ${
        ids(list)
      })`,
    );
  }
  if (report.usernames.length > 0 || report.locked.length > 0) {
    lines.push("Tell the users listed above their new username, or unlock their account.");
  }
  return lines.join("\n");
}

/** One progress line: the table, a bar and the counter. */
export function progressLine(p: Progress, width = 24): string {
  const fraction = p.total === 0 ? 1 : Math.min(1, p.done / p.total);
  const filled = Math.round(fraction * width);
  return `${p.table.padEnd(14)} [${"#".repeat(filled)}${".".repeat(width - filled)}] ` +
    `${p.done}/${p.total}`;
}
