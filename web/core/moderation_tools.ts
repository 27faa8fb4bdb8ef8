/**
 * The moderator's tools (issue 11 item 6) without a view: the user list and
 * its search, kick, ban, unban, mute, unmute, slow mode (PROTOCOL 5.4),
 * announce, and for admins the shutdown
 * countdown, its cancel and roles. Everything goes through the admin HTTP
 * API with the session's own token (PROTOCOL.md section 3 accepts a
 * moderator's or admin's bearer token), so every action has one answer:
 * done, or a refusal in words. Fields are checked here first, with the
 * server's limits, so that an obvious mistake is named before anything is
 * sent.
 *
 * @module
 */

import { computed, signal } from "@preact/signals-core";
import { localTime } from "./api.ts";
import * as admin from "./admin_api.ts";
import type { AdminUser, Role } from "./admin_api.ts";

/** Longest reason (protocol/admin.ts REASON_MAX). */
export const REASON_MAX = 500;
/** Longest kick in minutes (protocol/admin.ts KICK_MINUTES_MAX). */
export const KICK_MINUTES_MAX = 525_600;
/** Longest countdown in seconds (protocol/admin.ts SHUTDOWN_SECONDS_MAX). */
export const SHUTDOWN_SECONDS_MAX = 3600;
/** Longest mute in minutes (PROTOCOL 5.4). */
export const MUTE_MINUTES_MAX = 43_200;
/** A mute's default length in minutes (PROTOCOL 5.4). */
export const MUTE_MINUTES_DEFAULT = 10;
/** Longest slow mode in seconds (PROTOCOL 5.4). */
export const SLOW_MODE_MAX = 3600;
/** Users shown for one search. */
export const SHOWN = 50;

/** What an action ended with: done (`ok`) or refused, in words. */
export interface Outcome {
  /** Whether it was done. */
  ok: boolean;
  /** The sentence to show. */
  message: string;
  /** The field a refusal concerns (`minutes`, `reason`, `text`, `seconds`). */
  field?: string;
}

/** Users whose username or alias contains `query` (case-insensitive), by username. */
export function searchUsers(users: AdminUser[], query: string): AdminUser[] {
  const q = query.trim().toLowerCase();
  return users
    .filter((u) => !q || u.username.toLowerCase().includes(q) || u.alias.toLowerCase().includes(q))
    .sort((a, b) => a.username.localeCompare(b.username))
    .slice(0, SHOWN);
}

/** What is in force against a user, in words ("" when nothing). */
export function sanctionOf(u: AdminUser): string {
  if (u.banned) return "banned";
  if (u.bannedUntil) return `kicked until ${localTime(u.bannedUntil)}`;
  return "";
}

/** The mutes in force on a user: `salon` undefined for the one everywhere. */
export function mutesOf(u: AdminUser): Array<{ salon?: string; until: string }> {
  return [
    ...(u.mutedUntil ? [{ until: u.mutedUntil }] : []),
    ...(u.mutedIn ?? []),
  ];
}

/** The mutes in force, in words ("" when none). */
export function muteOf(u: AdminUser): string {
  return mutesOf(u).map((m) =>
    `muted ${m.salon === undefined ? "" : `in ${m.salon} `}until ${localTime(m.until)}`
  ).join(", ");
}

/** Parses a mute's minutes: empty means the server's default (10); at most 43200. */
export function parseMuteMinutes(text: string): number | undefined | Outcome {
  const t = text.trim();
  if (!t) return undefined;
  const n = Number(t);
  if (!Number.isFinite(n) || n <= 0 || n > MUTE_MINUTES_MAX) {
    return {
      ok: false,
      field: "minutes",
      message: `Minutes must be a number greater than 0 and at most ${MUTE_MINUTES_MAX} (30 days).`,
    };
  }
  return n;
}

/** Parses slow mode seconds: a whole number from 0 (off) to 3600. */
export function parseSlowMode(text: string): number | Outcome {
  const n = Number(text.trim());
  if (!text.trim() || !Number.isInteger(n) || n < 0 || n > SLOW_MODE_MAX) {
    return {
      ok: false,
      field: "seconds",
      message: `Seconds must be a whole number from 0 (off) to ${SLOW_MODE_MAX}.`,
    };
  }
  return n;
}

/** Parses a kick's minutes: empty means the server's default (5). */
export function parseMinutes(text: string): number | undefined | Outcome {
  const t = text.trim();
  if (!t) return undefined;
  const n = Number(t);
  if (!Number.isFinite(n) || n <= 0) {
    return { ok: false, field: "minutes", message: "Minutes must be a number greater than 0." };
  }
  if (n > KICK_MINUTES_MAX) {
    return { ok: false, field: "minutes", message: `Minutes must be at most ${KICK_MINUTES_MAX}.` };
  }
  return n;
}

/** Parses a countdown: empty means the server's default. */
export function parseSeconds(text: string): number | undefined | Outcome {
  const t = text.trim();
  if (!t) return undefined;
  const n = Number(t);
  if (!Number.isInteger(n) || n < 1 || n > SHUTDOWN_SECONDS_MAX) {
    return {
      ok: false,
      field: "seconds",
      message: `Seconds must be a whole number from 1 to ${SHUTDOWN_SECONDS_MAX}.`,
    };
  }
  return n;
}

function reasonProblem(reason: string): Outcome | null {
  return [...reason].length > REASON_MAX
    ? {
      ok: false,
      field: "reason",
      message: `The reason must be at most ${REASON_MAX} characters.`,
    }
    : null;
}

const isOutcome = (x: unknown): x is Outcome => typeof x === "object" && x !== null;

/** The moderator's tools. */
export class ModerationTools {
  /** Every user, as last loaded. */
  readonly users = signal<AdminUser[]>([]);
  /** The search text. */
  readonly query = signal("");
  /** The users matching the search. */
  readonly found = computed(() => searchUsers(this.users.value, this.query.value));
  /** Whether the list is being loaded. */
  readonly loading = signal(false);
  /** The last action's outcome, shown in the panel (a live region). */
  readonly outcome = signal<Outcome | null>(null);
  readonly #fetch: typeof fetch;
  readonly #token: () => string | null;

  /** Tools calling `fetcher` with the token `token()` returns. */
  constructor(fetcher: typeof fetch, token: () => string | null) {
    this.#fetch = fetcher;
    this.#token = token;
  }

  async #run(
    call: (f: typeof fetch, t: string) => Promise<{ ok: boolean; problem?: { message: string } }>,
    done: string,
    reload = true,
  ): Promise<Outcome> {
    const token = this.#token();
    const outcome: Outcome = !token
      ? { ok: false, message: "Not logged in; log in again." }
      : await call(this.#fetch, token).then((r) =>
        r.ok ? { ok: true, message: done } : { ok: false, message: r.problem!.message }
      );
    this.outcome.value = outcome;
    if (outcome.ok && reload) await this.load();
    return outcome;
  }

  /** Loads (or reloads) the user list. */
  async load(): Promise<Outcome | null> {
    const token = this.#token();
    if (!token) return null;
    this.loading.value = true;
    const r = await admin.listUsers(this.#fetch, token);
    this.loading.value = false;
    if (!r.ok) {
      this.outcome.value = { ok: false, message: `Users not loaded: ${r.problem.message}` };
      return this.outcome.value;
    }
    this.users.value = r.value.users;
    return null;
  }

  /** Kicks `username` for `minutes` (text, empty = 5) with an optional reason. */
  kick(username: string, minutes: string, reason: string): Promise<Outcome> {
    const m = parseMinutes(minutes);
    const bad = isOutcome(m) ? m : reasonProblem(reason);
    if (bad) return Promise.resolve(this.outcome.value = bad);
    const body: { minutes?: number; reason?: string } = {};
    if (m !== undefined) body.minutes = m as number;
    if (reason.trim()) body.reason = reason.trim();
    const span = m === undefined ? "5 minutes" : `${m} minute${m === 1 ? "" : "s"}`;
    return this.#run(
      (f, t) => admin.kickUser(f, t, username, body),
      `${username} is kicked for ${span}.`,
    );
  }

  /** Bans `username` for good, optionally deleting their messages. */
  ban(username: string, reason: string, purge: boolean): Promise<Outcome> {
    const bad = reasonProblem(reason);
    if (bad) return Promise.resolve(this.outcome.value = bad);
    const body: { reason?: string; purge?: boolean } = { purge };
    if (reason.trim()) body.reason = reason.trim();
    return this.#run(
      (f, t) => admin.banUser(f, t, username, body),
      purge ? `${username} is banned and their messages are deleted.` : `${username} is banned.`,
    );
  }

  /** Lifts a kick or ban. */
  unban(username: string): Promise<Outcome> {
    return this.#run(
      (f, t) => admin.unbanUser(f, t, username),
      `${username} may log in again.`,
    );
  }

  /** Changes a role (admins). */
  setRole(username: string, role: Role): Promise<Outcome> {
    return this.#run(
      (f, t) => admin.setRole(f, t, username, role),
      `${username} is now ${role === "admin" ? "an admin" : `a ${role}`}.`,
    );
  }

  /** Sends an announcement to every connected session. */
  announce(text: string): Promise<Outcome> {
    if (!text.trim()) {
      return Promise.resolve(
        this.outcome.value = { ok: false, field: "text", message: "Write the announcement first." },
      );
    }
    return this.#run((f, t) => admin.announce(f, t, text), "Announcement sent.", false);
  }

  /** Starts the shutdown countdown (admins); empty = the server's default. */
  shutdown(seconds: string): Promise<Outcome> {
    const s = parseSeconds(seconds);
    if (isOutcome(s)) return Promise.resolve(this.outcome.value = s);
    return this.#run(
      (f, t) => admin.startShutdown(f, t, s as number | undefined),
      "Shutdown countdown started.",
      false,
    );
  }

  /** Cancels the countdown (admins). */
  cancelShutdown(): Promise<Outcome> {
    return this.#run((f, t) => admin.cancelShutdown(f, t), "Shutdown cancelled.", false);
  }

  /**
   * Mutes `username` for `minutes` (text, empty = 10) in `salon` (undefined:
   * everywhere), with an optional reason.
   */
  mute(username: string, minutes: string, salon: string | undefined, reason: string) {
    const m = parseMuteMinutes(minutes);
    const bad = isOutcome(m) ? m : reasonProblem(reason);
    if (bad) return Promise.resolve(this.outcome.value = bad);
    const body: { minutes?: number; salon?: string; reason?: string } = {};
    if (m !== undefined) body.minutes = m as number;
    if (salon !== undefined) body.salon = salon;
    if (reason.trim()) body.reason = reason.trim();
    const n = (m as number | undefined) ?? MUTE_MINUTES_DEFAULT;
    const where = salon === undefined ? "everywhere" : `in ${salon}`;
    return this.#run(
      (f, t) => admin.muteUser(f, t, username, body),
      `${username} is muted ${where} for ${n} minute${n === 1 ? "" : "s"}.`,
    );
  }

  /** Ends the mute of `username` in `salon` (undefined: the one everywhere). */
  unmute(username: string, salon: string | undefined): Promise<Outcome> {
    return this.#run(
      (f, t) => admin.unmuteUser(f, t, username, salon),
      `${username} may write ${salon === undefined ? "everywhere" : `in ${salon}`} again.`,
    );
  }

  /** Sets `salon`'s slow mode to `seconds` (text, 0 = off). */
  slowMode(salon: string, seconds: string): Promise<Outcome> {
    const n = parseSlowMode(seconds);
    if (isOutcome(n)) return Promise.resolve(this.outcome.value = n);
    return this.#run(
      (f, t) => admin.setSlowMode(f, t, salon, n),
      n === 0
        ? `Slow mode is off in ${salon}.`
        : `Slow mode in ${salon}: one message every ${n} s per member.`,
      false,
    );
  }

  /** Forgets everything (log out). */
  reset(): void {
    this.users.value = [];
    this.query.value = "";
    this.outcome.value = null;
  }
}
