/**
 * People: the members found for "New message" (from `who` answers, merged
 * across the user's salons), whether older direct conversations exist
 * (`conversations` paging), and the watch list (PROTOCOL 5.1): the users on
 * screen whose presence is not pushed, sent whole, at most
 * {@link WATCH_LIMIT} names, never faster than the watch bucket refills.
 *
 * @module
 */

import { signal } from "@preact/signals-core";
import type { UserRef } from "../../../protocol/events.ts";
import type { Clock } from "../connection.ts";

/** Most names on a watch list (PROTOCOL 5.1; the server refuses more with `invalid`). */
export const WATCH_LIMIT = 200;
/** The watch bucket refills one token a second: one list a second at most, the latest wins. */
export const WATCH_EVERY_MS = 1000;

/** Search results, the conversation paging state, and the watch list. */
export class PeopleStore {
  /** Members of the user's salons, by lower-cased username (from `who`). */
  readonly found = signal<ReadonlyMap<string, UserRef>>(new Map());
  /** `who` answers still awaited. */
  readonly searching = signal(0);
  /** Some salon listed only part of its members (`more`). */
  readonly partial = signal(false);
  /** Older direct conversations exist beyond those listed. */
  readonly moreConversations = signal(false);
  /** A `conversations` page is on its way. */
  readonly loadingConversations = signal(false);

  /** Members from one `who` answer join the results. */
  addFound(users: UserRef[], more: boolean): void {
    const next = new Map(this.found.value);
    for (const u of users) {
      next.set(u.username.toLowerCase(), { username: u.username, alias: u.alias });
    }
    this.found.value = next;
    if (more) this.partial.value = true;
  }

  /** The people matching `query` (username or alias, case-insensitive), except `me`, by alias. */
  matching(query: string, me: string, max = 50): UserRef[] {
    const q = query.trim().toLowerCase();
    const mine = me.toLowerCase();
    return [...this.found.value.entries()]
      .filter(([k, u]) => k !== mine && (!q || k.includes(q) || u.alias.toLowerCase().includes(q)))
      .map(([, u]) => u)
      .sort((a, b) => a.alias.localeCompare(b.alias))
      .slice(0, max);
  }

  /** Forgets everything (log out). */
  reset(): void {
    this.found.value = new Map();
    this.searching.value = 0;
    this.partial.value = false;
    this.moreConversations.value = false;
    this.loadingConversations.value = false;
  }
}

/**
 * The watch list: each screen area (the direct list, the search results)
 * says which users it shows; the union of those whose presence is not
 * pushed goes out as one `watch`, only when it changed.
 */
export class Watcher {
  #areas = new Map<string, string[]>();
  #pushed = new Set<string>();
  #me = "";
  #sent = "";
  #lastAt = -Infinity;
  #timer: number | null = null;
  #send: (users: string[]) => boolean;
  #clock: Clock;

  /** `send` sends one `watch` (false when not connected). */
  constructor(send: (users: string[]) => boolean, clock: Clock) {
    this.#send = send;
    this.#clock = clock;
  }

  /** The users `area` shows now (replacing what it showed). */
  show(area: string, usernames: string[]): void {
    this.#areas.set(area, usernames);
    this.flush();
  }

  /** `username` shares a small salon with the user: its changes are pushed, no need to watch. */
  pushed(usernames: string[]): void {
    for (const u of usernames) this.#pushed.add(u.toLowerCase());
    this.flush();
  }

  /** The list that should be watched now. */
  list(): string[] {
    const out = new Map<string, string>();
    for (const names of this.#areas.values()) {
      for (const n of names) {
        const k = n.toLowerCase();
        if (k !== this.#me && !this.#pushed.has(k) && !out.has(k)) out.set(k, n);
      }
    }
    return [...out.values()].slice(0, WATCH_LIMIT);
  }

  /** Sends the list if it changed, or schedules it for when the bucket allows. */
  flush(): void {
    const list = this.list();
    const key = list.join("\n");
    if (key === this.#sent) return;
    const wait = this.#lastAt + WATCH_EVERY_MS - this.#clock.now();
    if (wait > 0) {
      if (this.#timer === null) {
        this.#timer = this.#clock.setTimeout(() => {
          this.#timer = null;
          this.flush();
        }, wait);
      }
      return;
    }
    if (this.#send(list)) {
      this.#sent = key;
      this.#lastAt = this.#clock.now();
    }
  }

  /** A new session (`welcome`) watches nothing: the list goes out again. */
  newSession(me: string): void {
    this.#me = me.toLowerCase();
    this.#sent = "";
    this.flush();
  }

  /** Forgets everything (log out). */
  reset(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#areas.clear();
    this.#pushed.clear();
    this.#sent = "";
    this.#me = "";
  }
}
