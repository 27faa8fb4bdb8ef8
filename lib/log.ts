/**
 * A small leveled logger writing one line per event to stderr. Callers pass
 * facts, never secrets: no passwords, tokens or request bodies are logged.
 *
 * @module
 */

import type { LogLevel } from "../config/config.ts";

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Leveled logging functions. */
export interface Logger {
  /** Detail for developers. */
  debug(message: string): void;
  /** Normal operation. */
  info(message: string): void;
  /** Something unusual that the server handled. */
  warn(message: string): void;
  /** Something failed. */
  error(message: string): void;
}

/** A logger printing messages at `level` and above through `write`. */
export function createLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => console.error(line),
): Logger {
  const at = (l: LogLevel) => (message: string) => {
    if (ORDER[l] >= ORDER[level]) write(`${new Date().toISOString()} ${l} ${message}`);
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
