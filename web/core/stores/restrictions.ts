/**
 * The restrictions store (PROTOCOL 5.4, member side): the mutes in force on
 * the user (in one salon, or everywhere) and each salon's slow mode with the
 * time the user may speak there again. Times are the client's clock (epoch
 * ms); a mute's end is the server's absolute `until`.
 *
 * @module
 */

import { signal } from "@preact/signals-core";
import type { ConversationKey } from "../keys.ts";

/** A mute in force. */
export interface Mute {
  /** The salon, or undefined for a mute everywhere. */
  salon?: string;
  /** End, ISO-8601 UTC. */
  until: string;
  /** The moderator's reason, if any. */
  reason?: string;
}

/** Mutes keyed by salon name, "" for everywhere. */
const EVERYWHERE = "";

/** Mutes and slow mode. */
export class RestrictionsStore {
  /** Mutes in force, keyed by salon ("" = everywhere). */
  readonly mutes = signal<ReadonlyMap<string, Mute>>(new Map());
  /** Slow mode seconds per salon (absent or 0: off). */
  readonly slowMode = signal<ReadonlyMap<string, number>>(new Map());
  /** Per salon: when the user last spoke there (epoch ms), for slow mode. */
  readonly lastSaid = signal<ReadonlyMap<string, number>>(new Map());
  /** Per salon: the server said "not before" (epoch ms) with `error slow_mode`. */
  readonly retryAt = signal<ReadonlyMap<string, number>>(new Map());

  /** A `muted` frame (or an `error muted`): replaces the mute of that scope. */
  mute(m: Mute): void {
    const next = new Map(this.mutes.value);
    next.set(m.salon ?? EVERYWHERE, m);
    this.mutes.value = next;
  }

  /** An `unmuted` frame: that mute ended. */
  unmute(salon: string | undefined): void {
    const next = new Map(this.mutes.value);
    next.delete(salon ?? EVERYWHERE);
    this.mutes.value = next;
  }

  /**
   * The mute that stops the user from writing in `key` at `now`, if any: the
   * one of that salon or the one everywhere (a direct conversation: only the
   * one everywhere), the later-ending first.
   */
  muteOf(key: ConversationKey, now: number): Mute | null {
    const list = [this.mutes.value.get(EVERYWHERE)];
    if (key.startsWith("s:")) list.push(this.mutes.value.get(key.slice(2)));
    let best: Mute | null = null;
    for (const m of list) {
      if (!m || Date.parse(m.until) <= now) continue;
      if (!best || Date.parse(m.until) > Date.parse(best.until)) best = m;
    }
    return best;
  }

  /** Sets a salon's slow mode (`welcome`, `salon_settings`); turning it off forgets any wait. */
  setSlowMode(salon: string, seconds: number): void {
    const next = new Map(this.slowMode.value);
    next.set(salon, seconds);
    this.slowMode.value = next;
    if (seconds === 0) this.#forget(this.retryAt, salon);
  }

  /** The user spoke in `salon` at `now`. */
  said(salon: string, now: number): void {
    const next = new Map(this.lastSaid.value);
    next.set(salon, now);
    this.lastSaid.value = next;
    this.#forget(this.retryAt, salon);
  }

  /** The server refused a message for slow mode: not before `now + retryAfter` seconds. */
  refused(salon: string, now: number, retryAfterSeconds: number): void {
    const next = new Map(this.retryAt.value);
    next.set(salon, now + Math.max(0, retryAfterSeconds) * 1000);
    this.retryAt.value = next;
  }

  /**
   * Milliseconds before the user may speak in `salon` again (0: now). Only
   * for those slow mode applies to: the caller leaves moderators out.
   */
  waitLeft(salon: string, now: number): number {
    const seconds = this.slowMode.value.get(salon) ?? 0;
    if (seconds <= 0) return 0;
    const last = this.lastSaid.value.get(salon);
    const byLast = last === undefined ? 0 : last + seconds * 1000 - now;
    const byServer = (this.retryAt.value.get(salon) ?? 0) - now;
    return Math.max(0, byLast, byServer);
  }

  #forget(s: typeof this.retryAt, salon: string): void {
    if (!s.value.has(salon)) return;
    const next = new Map(s.value);
    next.delete(salon);
    s.value = next;
  }

  /** Forgets the mutes (a new session: the server tells again what is in force). */
  clearMutes(): void {
    this.mutes.value = new Map();
  }

  /** Forgets everything (log out). */
  reset(): void {
    this.mutes.value = new Map();
    this.slowMode.value = new Map();
    this.lastSaid.value = new Map();
    this.retryAt.value = new Map();
  }
}
