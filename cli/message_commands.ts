/**
 * The admin commands of edit, delete and reports (PROTOCOL.md 5.4):
 * `reports` (a table of the open reports), `resolve REPORT [--note N]` and
 * `delete SALON ID [--reason R]`, each one request to the admin API.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { AdminClient } from "./client.ts";
import { table } from "./table.ts";

/** The lines of `help` for these commands. */
export const MESSAGE_USAGE =
  `  reports                                   list the open reports (the reported message with them)
  resolve REPORT [--note N]                 close a report
  delete SALON ID [--reason R]              erase a salon message (its text is deleted for good)`;

/** The commands this file runs. */
export const MESSAGE_COMMANDS: ReadonlySet<string> = new Set(["reports", "resolve", "delete"]);

/** A report as `GET /admin/reports` lists it. */
interface Report {
  id: number;
  salon: string;
  message: { id: number; from: { username: string }; text: string; deleted?: boolean };
  by: { username: string };
  reason: string;
  at: string;
}

/** Longest message text shown in the `reports` table, characters. */
const SHOWN_TEXT = 60;

/** A cell: one line, at most `max` characters. */
function cell(text: string, max: number): string {
  const line = text.replace(/\s+/g, " ").trim();
  return [...line].length > max ? `${[...line].slice(0, max - 1).join("")}…` : line;
}

/** A whole number from 1 for `what`, or a usage error built by `usage`. */
function id(raw: string, what: string, usage: (message: string) => Error): number {
  if (!/^[0-9]{1,15}$/.test(raw) || Number(raw) < 1) {
    throw usage(`${what} must be a whole number from 1, got "${raw}"`);
  }
  return Number(raw);
}

/**
 * Runs `reports`, `resolve` or `delete`; returns what to print. `usage`
 * builds the error of a mistake in the command line (exit status 64).
 */
export async function runMessageCommand(
  command: string,
  args: string[],
  client: AdminClient,
  usage: (message: string) => Error,
): Promise<string> {
  const parse = (options: Record<string, { type: "string" }>, needed: string[]) => {
    let parsed;
    try {
      parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
    } catch (e) {
      throw usage(`${command}: ${(e as Error).message}; run help for the usage`);
    }
    if (parsed.positionals.length !== needed.length) {
      throw usage(`${command} needs ${needed.join(" ") || "no arguments"}; run help for the usage`);
    }
    return parsed;
  };
  switch (command) {
    case "reports": {
      parse({}, []);
      const body = await client.request("GET", "/admin/reports") as { open: Report[] };
      return table(
        ["ID", "SALON", "MESSAGE", "AUTHOR", "TEXT", "BY", "REASON", "AT"],
        body.open.map((r) => [
          r.id,
          r.salon,
          r.message.id,
          r.message.from.username,
          r.message.deleted ? "(deleted)" : cell(r.message.text, SHOWN_TEXT),
          r.by.username,
          cell(r.reason, SHOWN_TEXT),
          r.at,
        ]),
      );
    }
    case "resolve": {
      const { values, positionals } = parse({ note: { type: "string" } }, ["REPORT"]);
      const report = id(positionals[0], "REPORT", usage);
      await client.request(
        "POST",
        `/admin/reports/${report}/resolve`,
        values.note === undefined ? {} : { note: values.note },
      );
      return `resolved report ${report}`;
    }
    default: {
      const { values, positionals } = parse({ reason: { type: "string" } }, ["SALON", "ID"]);
      const message = id(positionals[1], "ID", usage);
      await client.request(
        "DELETE",
        `/admin/salons/${encodeURIComponent(positionals[0])}/messages/${message}`,
        values.reason === undefined ? {} : { reason: values.reason },
      );
      return `deleted message ${message} of ${positionals[0]}`;
    }
  }
}
