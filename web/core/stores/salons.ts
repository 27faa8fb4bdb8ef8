/**
 * The salons store: every salon with the user's membership and the unread
 * and mention counts (PROTOCOL 5.2), the direct conversations, and which
 * conversation is open.
 *
 * @module
 */

import { signal } from "@preact/signals-core";
import type { ConversationItem, SalonCatchupFields } from "../../../protocol/events.ts";
import type { SalonView } from "../../../protocol/http.ts";
import type { WelcomeSalon } from "../../../protocol/server_frames.ts";
import type { ConversationKey } from "../keys.ts";

/**
 * A salon as the client keeps it: the server's view of it (PROTOCOL 2.1,
 * 5.1) with the catch-up fields (5.2) always present, `unread` counted on
 * from the server's figure as messages arrive.
 */
export type SalonState = SalonView & SalonCatchupFields;

/** Unread state of one conversation, salon or direct. */
export interface Unread {
  /** Newest id known. */
  latest: number;
  /** Read marker. */
  lastRead: number;
  /** Unread count. */
  unread: number;
  /** Unread mentions. */
  mentions: number;
}

/** The salons and conversations. */
export class SalonsStore {
  /** Salons in the server's order. */
  readonly salons = signal<SalonState[]>([]);
  /** Direct conversations, newest first. */
  readonly directs = signal<ConversationItem[]>([]);
  /** The open conversation. */
  readonly active = signal<ConversationKey | null>(null);

  /** Replaces the list from a `welcome`. */
  fromWelcome(salons: WelcomeSalon[], directs: ConversationItem[] = []): void {
    this.salons.value = salons.map((s) => ({
      name: s.name,
      policy: s.policy,
      member: s.member,
      pending: s.pending,
      online: s.online,
      members: s.members ?? 0,
      presence: s.presence ?? "push",
      latest: s.latest ?? 0,
      lastRead: s.lastRead ?? 0,
      unread: s.unread ?? 0,
      mentions: s.mentions ?? 0,
      slowModeSeconds: s.slowModeSeconds ?? 0,
    }));
    this.directs.value = directs;
  }

  /** The salon named `name` (as configured), if known. */
  get(name: string): SalonState | undefined {
    return this.salons.value.find((s) => s.name === name);
  }

  /** Changes one salon. */
  update(name: string, change: (s: SalonState) => Partial<SalonState>): void {
    this.salons.value = this.salons.value.map((s) => s.name === name ? { ...s, ...change(s) } : s);
  }

  /** Unread state of a conversation. */
  unreadOf(key: ConversationKey): Unread | undefined {
    const name = key.slice(2);
    if (key.startsWith("s:")) return this.get(name);
    const d = this.directs.value.find((d) => d.with.username === name);
    return d && { ...d, mentions: 0 };
  }

  /** Changes the unread state of a conversation (a direct one unknown so far is added). */
  updateUnread(
    key: ConversationKey,
    change: (u: Unread) => Partial<Unread>,
    other?: { username: string; alias: string },
    at?: string,
  ): void {
    const name = key.slice(2);
    if (key.startsWith("s:")) return this.update(name, change);
    const list = this.directs.value;
    const found = list.find((d) => d.with.username === name);
    const base: ConversationItem = found ??
      {
        with: other ?? { username: name, alias: name },
        latest: 0,
        lastRead: 0,
        unread: 0,
        at: at ?? new Date(0).toISOString(),
      };
    const { mentions: _, ...changed } = change({ ...base, mentions: 0 });
    const next: ConversationItem = { ...base, ...changed, at: at ?? base.at };
    this.directs.value = [next, ...list.filter((d) => d !== found)].sort((a, b) =>
      b.at.localeCompare(a.at)
    );
  }
}
