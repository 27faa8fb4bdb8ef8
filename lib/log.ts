/**
 * The operations log: one JSON object per line on stderr, written by pino,
 * with `time` (ISO-8601), `level` (its name), `msg`, `event` (snake_case) and
 * the ids the caller knows (`conn`, `user`, `salon`). `CAUSERIE_LOG_FORMAT=pretty`
 * turns the same records into one readable line each for a terminal
 * (pino-pretty's formatter, called synchronously: no worker thread).
 *
 * Callers pass only the typed {@link LogFields}: there is no field for a
 * password, a token, a message text or a moderator's reason, and none may be
 * put into `msg`. The security log (lib/security_log.ts) is separate.
 *
 * @module
 */

import pino from "pino";
import { prettyFactory } from "pino-pretty";
import type { LogFormat, LogLevel } from "../config/config.ts";

/** A value of the start-up configuration as logged (secrets already masked). */
export type ConfigValue = string | number | boolean | null | readonly string[];

/**
 * What a log line may carry besides its message: ids and known non-secret
 * facts. Never a password, a token, a message or announcement text, or a
 * moderator's reason (free text typed by people).
 */
export interface LogFields {
  /** What happened, snake_case: `server_started`, `connection_opened`, `kick`, ... */
  event: string;
  /** The connection id (`conn:12`). */
  conn?: string;
  /** The user concerned: the session's user, or the target of a moderation act. */
  user?: string;
  /** The salon, by name. */
  salon?: string;
  /** The moderator (or `server`) who acted. */
  actor?: string;
  /** How a moderation act arrived: `ws`, `http`, `socket`, `signal`. */
  via?: string;
  /** A bus channel (several instances), unprefixed. */
  channel?: string;
  /** A close code or an error code. */
  code?: number | string;
  /** A failure: written with its type, message and stack. */
  error?: unknown;
  /** The client's address. */
  address?: string;
  /** How long it lasted, ms (a connection). */
  duration_ms?: number;
  /** A role given (`member`, `moderator`, `admin`). */
  role?: string;
  /** A kick's length, minutes. */
  minutes?: number;
  /** A countdown's length, seconds. */
  seconds?: number;
  /** Whether a ban deleted the user's messages. */
  purge?: boolean;
  /** A sanction's id. */
  sanction?: number;
  /** A sanction's kind: `kick` or `ban`. */
  kind?: string;
  /** An HTTP method. */
  method?: string;
  /** An HTTP path (without its query). */
  path?: string;
  /** Where the server listens (`http://127.0.0.1:8080`). */
  url?: string;
  /** The database kind (`sqlite`, `mysql`). */
  database?: string;
  /** A count (open-file limit, connections...). */
  count?: number;
  /** An instance's node id among several (issue 15). */
  node?: string;
  /** The start-up configuration, secrets masked (event `config`). */
  config?: Readonly<Record<string, ConfigValue | readonly Readonly<Record<string, string>>[]>>;
}

/** Leveled logging functions. */
export interface Logger {
  /** Detail for developers. */
  debug(message: string, fields?: LogFields): void;
  /** Normal operation. */
  info(message: string, fields?: LogFields): void;
  /** Something unusual that the server handled. */
  warn(message: string, fields?: LogFields): void;
  /** Something failed. */
  error(message: string, fields?: LogFields): void;
}

/** The `event` of a line logged without fields. */
export const DEFAULT_EVENT = "log";

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** `json` (default): one JSON object per line; `pretty`: one readable line per record. */
  format?: LogFormat;
  /** Colours in the pretty format (default: when stderr is a terminal and NO_COLOR is unset). */
  color?: boolean;
}

/** The keys of an error that are written: the driver's own properties (a query...) are not. */
function errorOf(e: unknown): unknown {
  if (!(e instanceof Error)) return { type: typeof e, message: String(e) };
  const s = pino.stdSerializers.err(e);
  const out: Record<string, unknown> = { type: s.type, message: s.message, stack: s.stack };
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string" || typeof code === "number") out.code = code;
  return out;
}

const OPTIONS: pino.LoggerOptions = {
  base: undefined,
  timestamp: pino.stdTimeFunctions.isoTime,
  errorKey: "error",
  serializers: { error: errorOf },
  formatters: { level: (label) => ({ level: label }) },
};

function colorWanted(): boolean {
  try {
    return Deno.stderr.isTerminal() && Deno.env.get("NO_COLOR") === undefined;
  } catch {
    return false;
  }
}

/**
 * A logger writing records at `level` and above: to stderr, or through
 * `write` (one line, without its newline; tests).
 */
export function createLogger(
  level: LogLevel,
  write?: (line: string) => void,
  opts: LoggerOptions = {},
): Logger {
  const pretty = opts.format === "pretty"
    ? prettyFactory({
      colorize: opts.color ?? (write === undefined && colorWanted()),
      singleLine: true,
      translateTime: "SYS:yyyy-mm-dd HH:MM:ss.l",
      messageFormat: "{event} {msg}",
      ignore: "event",
      errorLikeObjectKeys: ["error"],
    })
    : undefined;
  const stderr = write === undefined ? pino.destination({ dest: 2, sync: true }) : undefined;
  const out = (line: string) => {
    const text = pretty ? pretty(line).trimEnd() : line.trimEnd();
    if (write) write(text);
    else stderr!.write(text + "\n");
  };
  const logger = pino({ ...OPTIONS, level }, { write: out });
  const at = (l: LogLevel) => (message: string, fields?: LogFields) => {
    if (!logger.isLevelEnabled(l)) return;
    logger[l]({ event: DEFAULT_EVENT, ...fields }, message);
  };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
