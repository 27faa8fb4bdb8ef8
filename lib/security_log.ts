/**
 * The security log: one JSON line per event that matters to whoever defends
 * the server (failed logins, lockouts, registrations, sanctions, floods,
 * slow consumers, refused connections), written by pino.
 *
 * Each line carries `time`, `event`, `outcome` and, when known, `username`
 * and `address`. Never a password, a token or a message text: callers pass
 * only the fields below.
 *
 * @module
 */

import pino from "pino";

/** One security event. */
export interface SecurityRecord {
  /** What happened, snake_case: `login_failed`, `lockout`, `register`, `sanction`, `flood`, ... */
  event: string;
  /** The account concerned (as typed by the client when it does not exist). */
  username?: string;
  /** The client's address. */
  address?: string;
  /** How it ended: `refused`, `accepted`, `closed`, `limited`, ... */
  outcome: string;
  /** A short fact without secrets (a kind, a close code, a count). */
  detail?: string;
}

/** Where security events go. */
export interface SecurityLog {
  /** Writes one event. */
  record(record: SecurityRecord): void;
}

/** A security log that drops everything. */
export const silentSecurityLog: SecurityLog = { record() {} };

/**
 * A security log writing JSON lines to `destination`: `"stderr"`, a file path
 * (appended to, created with mode 0600), or a function receiving each line
 * (tests).
 */
export function createSecurityLog(destination: string | ((line: string) => void)): SecurityLog {
  if (typeof destination === "function") {
    const write = destination;
    const logger = pino(options, { write: (line: string) => write(line.trimEnd()) });
    return { record: (r) => logger.info(clean(r)) };
  }
  const stream = destination === "stderr"
    ? pino.destination({ dest: 2, sync: true })
    : pino.destination({ dest: destination, sync: true, append: true, mkdir: true, mode: 0o600 });
  const logger = pino(options, stream);
  return { record: (r) => logger.info(clean(r)) };
}

const options: pino.LoggerOptions = {
  base: undefined,
  messageKey: "message",
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: () => ({ log: "security" }) },
};

/** Only the known fields, strings cut to a sane length (a username typed by an attacker). */
function clean(r: SecurityRecord): SecurityRecord {
  const cut = (s: string | undefined) => s === undefined ? undefined : s.slice(0, 128);
  const out: SecurityRecord = { event: r.event, outcome: r.outcome };
  if (r.username !== undefined) out.username = cut(r.username);
  if (r.address !== undefined) out.address = cut(r.address);
  if (r.detail !== undefined) out.detail = cut(r.detail);
  return out;
}
