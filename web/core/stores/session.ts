/**
 * The session store: who is logged in, the limits the server announced, the
 * connection's state, and the notices that concern the whole session
 * (kicked, banned, shutdown countdown, announcements).
 *
 * @module
 */

import { signal } from "@preact/signals-core";
import type { PublicUser } from "../../../protocol/http.ts";
import type { WelcomeLimits } from "../../../protocol/server_frames.ts";
import type { ConnectionState } from "../connection.ts";

/** An announcement (`notice`). */
export interface Announcement {
  /** Its text (shown as text, never as HTML). */
  text: string;
  /** When it was sent, ISO-8601. */
  at: string;
}

/** The running shutdown countdown. */
export interface Countdown {
  /** Seconds left when last told. */
  seconds: number;
  /** Local time (epoch ms) when it was told. */
  told: number;
}

/** The session's state. */
export class SessionStore {
  /** The welcomed user, or null before the first welcome. */
  readonly user = signal<PublicUser | null>(null);
  /** Limits from `welcome.limits`. */
  readonly limits = signal<WelcomeLimits>({ maxTextLength: 2000, messagesPerSecond: 5 });
  /** The connection machine's state. */
  readonly connection = signal<ConnectionState>({ kind: "idle" });
  /** The shutdown countdown, when one runs. */
  readonly countdown = signal<Countdown | null>(null);
  /** Announcements, oldest first (the last 20). */
  readonly announcements = signal<Announcement[]>([]);
  /** Whether at least one welcome arrived on the current login (later ones are reconnects). */
  welcomed = false;

  /** Adds an announcement. */
  announce(a: Announcement): void {
    this.announcements.value = [...this.announcements.value, a].slice(-20);
  }

  /** Forgets everything (log out). */
  reset(): void {
    this.user.value = null;
    this.countdown.value = null;
    this.announcements.value = [];
    this.welcomed = false;
  }
}
