/**
 * The admin commands: one function per command of PROTOCOL.md section 4,
 * each a request to the admin API and a few lines of output.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { AdminClient } from "./client.ts";
import { table } from "./table.ts";

/** A mistake in the command line itself (exit status 64). */
export class UsageError extends Error {
  /** Builds the error; the message says what to type instead. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** What a command needs besides its arguments. */
export interface CommandContext {
  /** The admin API. */
  client: AdminClient;
  /** Asks for (or reads) a password. */
  readPassword: () => Promise<string>;
}

/** One line per command, for `help`. */
export const USAGE = `commands:
  users [--online]                          list accounts and their status
  requests                                  list pending join requests
  accept USER SALON | reject USER SALON     decide a join request
  kick USER [--minutes N] [--reason R]      disconnect and refuse USER for N minutes (default 5)
  ban USER [--purge] [--reason R]           ban USER for good (--purge deletes their messages)
  unban USER                                lift a kick or a ban
  announce TEXT                             send a notice to every connected session
  shutdown [--seconds N]                    start the shutdown countdown
  cancel-shutdown                           cancel the countdown
  user create USER --alias A --role ROLE    create an account (asks for the password, or reads stdin)
  user password USER                        set a new password (asks for it, or reads stdin); unlocks
                                            an account imported without a usable password
  role USER ROLE                            change a role (member, moderator, admin)
  mute USER [--minutes N] [--salon S] [--reason R]
                                            let USER read but not write for N minutes (default 10,
                                            at most 43200), in salon S or everywhere (directs too)
  unmute USER [--salon S]                   lift USER's mute in S (or the one everywhere)
  slow-mode SALON SECONDS                   one message per SECONDS per member in SALON
                                            (moderators exempt; 0 turns it off, at most 3600)
  audit [--limit N]                         the newest moderation acts
  actors                                    the live actor tree
  inspect                                   the live inspection stream as JSON lines, until Ctrl-C
  console                                   an interactive prompt (also KICK:user, BAN:user,
                                            ACCEPT:user:salon, REJECT:user:salon, KILL)`;

type Options = Record<string, { type: "string" | "boolean"; short?: string }>;

function parse(args: string[], options: Options, positionals: string[], command: string) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${command}: ${(e as Error).message}; run help for the usage`);
  }
  if (parsed.positionals.length < positionals.length) {
    throw new UsageError(
      `${command} needs ${positionals.join(" ")}; for example: ${command} ${
        positionals.map((p) => p.toLowerCase()).join(" ")
      }`,
    );
  }
  return parsed;
}

function number(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== "string" || value.trim() === "" || !Number.isFinite(n)) {
    throw new UsageError(`--${name} must be a number, got "${value}"`);
  }
  return n;
}

const enc = encodeURIComponent;

/** Runs one command; returns what to print. */
export async function runCommand(argv: string[], ctx: CommandContext): Promise<string> {
  const [command, ...args] = argv;
  const { client } = ctx;
  switch (command) {
    case undefined:
    case "help":
    case "--help":
    case "-h":
      return USAGE;
    case "users": {
      const { values } = parse(args, { online: { type: "boolean" } }, [], "users");
      const body = await client.request(
        "GET",
        `/admin/users${values.online ? "?status=online" : ""}`,
      ) as {
        users: Array<
          {
            username: string;
            alias: string;
            role: string;
            status: string;
            bannedUntil?: string;
            banned?: boolean;
            mutedUntil?: string;
            mutedIn?: Array<{ salon: string; until: string }>;
          }
        >;
      };
      return table(
        ["USERNAME", "ALIAS", "ROLE", "STATUS", "SANCTION"],
        body.users.map((u) => [
          u.username,
          u.alias,
          u.role,
          u.status,
          [
            u.banned ? "banned" : u.bannedUntil ? `kicked until ${u.bannedUntil}` : "",
            // Mutes (PROTOCOL 5.4) follow in the same column.
            u.mutedUntil ? `muted until ${u.mutedUntil}` : "",
            ...(u.mutedIn ?? []).map((m) => `muted in ${m.salon} until ${m.until}`),
          ].filter((part) => part !== "").join("; "),
        ]),
      );
    }
    case "requests": {
      parse(args, {}, [], "requests");
      const body = await client.request("GET", "/admin/join-requests") as {
        pending: Array<{ salon: string; username: string; alias: string; at: string }>;
      };
      return table(
        ["SALON", "USERNAME", "ALIAS", "SINCE"],
        body.pending.map((p) => [p.salon, p.username, p.alias, p.at]),
      );
    }
    case "accept":
    case "reject": {
      const { positionals } = parse(args, {}, ["USER", "SALON"], command);
      const [user, salon] = positionals;
      await client.request("POST", `/admin/join-requests/${enc(salon)}/${enc(user)}/${command}`);
      return `${command === "accept" ? "accepted" : "rejected"} ${user} in ${salon}`;
    }
    case "kick": {
      const { values, positionals } = parse(
        args,
        {
          minutes: { type: "string", short: "m" },
          reason: { type: "string", short: "r" },
        },
        ["USER"],
        "kick",
      );
      const body: Record<string, unknown> = {};
      const minutes = number(values.minutes, "minutes");
      if (minutes !== undefined) body.minutes = minutes;
      if (values.reason !== undefined) body.reason = values.reason;
      const answer = await client.request(
        "POST",
        `/admin/users/${enc(positionals[0])}/kick`,
        body,
      ) as {
        until: string;
      };
      return `kicked ${positionals[0]} until ${answer.until}`;
    }
    case "ban": {
      const { values, positionals } = parse(
        args,
        {
          purge: { type: "boolean" },
          reason: { type: "string", short: "r" },
        },
        ["USER"],
        "ban",
      );
      const body: Record<string, unknown> = { purge: values.purge === true };
      if (values.reason !== undefined) body.reason = values.reason;
      await client.request("POST", `/admin/users/${enc(positionals[0])}/ban`, body);
      return `banned ${positionals[0]}${values.purge ? " and deleted their messages" : ""}`;
    }
    case "unban": {
      const { positionals } = parse(args, {}, ["USER"], "unban");
      const answer = await client.request("DELETE", `/admin/users/${enc(positionals[0])}/ban`) as {
        lifted: number;
      };
      return answer.lifted > 0
        ? `unbanned ${positionals[0]}`
        : `${positionals[0]} was neither kicked nor banned`;
    }
    case "announce": {
      const { positionals } = parse(args, {}, ["TEXT"], "announce");
      await client.request("POST", "/admin/announce", { text: positionals.join(" ") });
      return "announced";
    }
    case "shutdown": {
      const { values } = parse(args, { seconds: { type: "string", short: "s" } }, [], "shutdown");
      const seconds = number(values.seconds, "seconds");
      const answer = await client.request(
        "POST",
        "/admin/shutdown",
        seconds === undefined ? {} : { seconds },
      ) as { seconds: number };
      return `shutting down in ${answer.seconds} seconds (cancel-shutdown to stop it)`;
    }
    case "cancel-shutdown": {
      parse(args, {}, [], "cancel-shutdown");
      await client.request("DELETE", "/admin/shutdown");
      return "shutdown cancelled";
    }
    case "user": {
      const [sub, ...rest] = args;
      if (sub === "password") {
        const { positionals } = parse(rest, {}, ["USER"], "user password");
        const password = await ctx.readPassword();
        await client.request("PUT", `/admin/users/${enc(positionals[0])}/password`, { password });
        return `new password set for ${positionals[0]}; their sessions were closed`;
      }
      if (sub !== "create") {
        throw new UsageError(
          "user needs a subcommand: user create USER --alias A --role ROLE, or user password USER",
        );
      }
      const { values, positionals } = parse(
        rest,
        {
          alias: { type: "string", short: "a" },
          role: { type: "string" },
        },
        ["USER"],
        "user create",
      );
      const username = positionals[0];
      const role = values.role ?? "member";
      const password = await ctx.readPassword();
      const answer = await client.request("POST", "/admin/users", {
        username,
        alias: values.alias ?? username,
        password,
        role,
      }) as { user: { username: string; role: string } };
      return `created ${answer.user.username} (${answer.user.role})`;
    }
    case "role": {
      const { positionals } = parse(args, {}, ["USER", "ROLE"], "role");
      await client.request("PUT", `/admin/users/${enc(positionals[0])}/role`, {
        role: positionals[1],
      });
      return `${positionals[0]} is now ${positionals[1]}`;
    }
    case "audit": {
      const { values } = parse(args, { limit: { type: "string", short: "n" } }, [], "audit");
      const limit = number(values.limit, "limit");
      const body = await client.request(
        "GET",
        `/admin/audit${limit === undefined ? "" : `?limit=${limit}`}`,
      ) as {
        entries: Array<
          { at: string; actor: string; action: string; target: string; reason: string; via: string }
        >;
      };
      return table(
        ["AT", "ACTOR", "ACTION", "TARGET", "REASON", "VIA"],
        body.entries.map((e) => [e.at, e.actor, e.action, e.target, e.reason, e.via]),
      );
    }
    case "actors": {
      parse(args, {}, [], "actors");
      const body = await client.request("GET", "/admin/actors") as {
        actors: Array<{ id: string; machine: string; state: unknown; parent: string | null }>;
      };
      return table(
        ["ID", "MACHINE", "STATE", "PARENT"],
        body.actors.map((a) => [a.id, a.machine, JSON.stringify(a.state), a.parent ?? ""]),
      );
    }
    // Mute and slow mode (PROTOCOL 5.4).
    case "mute": {
      const { values, positionals } = parse(
        args,
        {
          minutes: { type: "string", short: "m" },
          salon: { type: "string", short: "s" },
          reason: { type: "string", short: "r" },
        },
        ["USER"],
        "mute",
      );
      const body: Record<string, unknown> = {};
      const minutes = number(values.minutes, "minutes");
      if (minutes !== undefined) body.minutes = minutes;
      if (values.salon !== undefined) body.salon = values.salon;
      if (values.reason !== undefined) body.reason = values.reason;
      const answer = await client.request(
        "POST",
        `/admin/users/${enc(positionals[0])}/mute`,
        body,
      ) as { until: string };
      const where = values.salon === undefined ? "everywhere" : `in ${values.salon}`;
      return `muted ${positionals[0]} ${where} until ${answer.until}`;
    }
    case "unmute": {
      const { values, positionals } = parse(
        args,
        { salon: { type: "string", short: "s" } },
        ["USER"],
        "unmute",
      );
      const query = values.salon === undefined ? "" : `?salon=${enc(values.salon)}`;
      const answer = await client.request(
        "DELETE",
        `/admin/users/${enc(positionals[0])}/mute${query}`,
      ) as { lifted: number };
      const where = values.salon === undefined ? "everywhere" : `in ${values.salon}`;
      return answer.lifted > 0
        ? `unmuted ${positionals[0]} ${where}`
        : `${positionals[0]} was not muted ${where}`;
    }
    case "slow-mode": {
      const { positionals } = parse(args, {}, ["SALON", "SECONDS"], "slow-mode");
      const seconds = Number(positionals[1]);
      if (positionals[1].trim() === "" || !Number.isFinite(seconds)) {
        throw new UsageError(
          `slow-mode SECONDS must be a number of seconds (0 turns it off), got "${positionals[1]}"`,
        );
      }
      const answer = await client.request(
        "PUT",
        `/admin/salons/${enc(positionals[0])}/slow-mode`,
        { seconds },
      ) as { salon: string; slowModeSeconds: number };
      return answer.slowModeSeconds === 0
        ? `slow mode is off in ${answer.salon}`
        : `${answer.salon}: one message per ${answer.slowModeSeconds} seconds per member`;
    }
    case "inspect":
      throw new UsageError(
        "inspect streams until Ctrl-C: run it on its own (deno task admin inspect), not in the console",
      );
    default:
      throw new UsageError(`unknown command "${command}"; run help for the list`);
  }
}

/**
 * The original server's console syntax, as arguments of our commands:
 * `KICK:user`, `BAN:user`, `ACCEPT:user:salon`, `REJECT:user:salon`, `KILL`.
 * Returns undefined for anything else.
 */
export function legacyCommand(line: string): string[] | undefined {
  const text = line.trim();
  if (/^KILL$/i.test(text)) return ["shutdown"];
  const one = /^(KICK|BAN):(.+)$/i.exec(text);
  if (one) return [one[1].toLowerCase(), one[2].trim()];
  const two = /^(ACCEPT|REJECT):([^:]+):(.+)$/i.exec(text);
  if (two) return [two[1].toLowerCase(), two[2].trim(), two[3].trim()];
  return undefined;
}

/** Splits a console line into words; quotes ('...' or "...") keep spaces. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let current = "";
  let quote: string | undefined;
  let inWord = false;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(current);
      current = "";
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (quote) throw new UsageError(`unclosed ${quote} in: ${line}`);
  if (inWord) words.push(current);
  return words;
}
