/**
 * The presence store: the status of the users the client was told about,
 * and who is typing where (each indication lasts a few seconds, or until
 * that user's message arrives).
 *
 * @module
 */

import { signal } from "@preact/signals-core";
import type { UserRef } from "../../../protocol/events.ts";
import type { PresenceChange } from "../../../protocol/server_frames.ts";
import type { Clock } from "../connection.ts";
import type { ConversationKey } from "../keys.ts";

/** How long a `typing` indication is shown without a new one, ms. */
export const TYPING_SHOWN_MS = 6000;

/** Someone typing. */
export interface Typist {
  /** Who. */
  user: UserRef;
  /** Local epoch ms when the indication ends. */
  until: number;
}

/** Presence and typing. */
export class PresenceStore {
  /** Username (lower-cased) to status. */
  readonly status = signal<ReadonlyMap<string, "online" | "offline">>(new Map());
  /** Conversation to the users typing there. */
  readonly typing = signal<ReadonlyMap<ConversationKey, Typist[]>>(new Map());
  #clock: Clock;
  #timer: number | null = null;

  /** Builds the store on `clock` (which expires typing indications). */
  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Applies presence changes. */
  apply(changes: PresenceChange[]): void {
    const next = new Map(this.status.value);
    for (const c of changes) next.set(c.username.toLowerCase(), c.status);
    this.status.value = next;
  }

  /** `user` is typing in `key`. */
  typingIn(key: ConversationKey, user: UserRef): void {
    const until = this.#clock.now() + TYPING_SHOWN_MS;
    const list = (this.typing.value.get(key) ?? []).filter((t) =>
      t.user.username !== user.username
    );
    this.#setTyping(key, [...list, { user, until }]);
    this.#schedule();
  }

  /** `username` sent a message in `key`: not typing any more. */
  stoppedTyping(key: ConversationKey, username: string): void {
    const list = this.typing.value.get(key);
    if (!list?.some((t) => t.user.username === username)) return;
    this.#setTyping(key, list.filter((t) => t.user.username !== username));
  }

  #setTyping(key: ConversationKey, list: Typist[]): void {
    const next = new Map(this.typing.value);
    if (list.length) next.set(key, list);
    else next.delete(key);
    this.typing.value = next;
  }

  /** Removes the indications that ended, and waits for the next end. */
  #schedule(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    let soonest = Infinity;
    for (const list of this.typing.value.values()) {
      for (const t of list) soonest = Math.min(soonest, t.until);
    }
    if (soonest === Infinity) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null;
      const now = this.#clock.now();
      const next = new Map<ConversationKey, Typist[]>();
      for (const [key, list] of this.typing.value) {
        const live = list.filter((t) => t.until > now);
        if (live.length) next.set(key, live);
      }
      this.typing.value = next;
      this.#schedule();
    }, Math.max(0, soonest - this.#clock.now()));
  }

  /** Forgets everything (log out; stops the timer). */
  reset(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.status.value = new Map();
    this.typing.value = new Map();
  }
}
