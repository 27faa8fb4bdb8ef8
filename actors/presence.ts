/**
 * Who receives which presence change (PROTOCOL 5.1), in one place: a session
 * gets the changes of exactly the users who share a small salon with its
 * user, and of the users on its watch list. Also the per-session bookkeeping
 * behind it: watch lists, and the changes held for sessions whose socket is
 * too full to take a `presence` frame now (latest status per user wins).
 * The server machine calls it once per presence window. Pure.
 *
 * Cost: planning a window visits, for each changed user, the online members
 * of the small salons that user is in and the sessions watching the user,
 * nothing else; a user who is only in large salons and watched by nobody
 * costs O(1). Sessions that get the same changes share one serialized frame.
 *
 * @module
 */

import { presenceEvent } from "../protocol/events.ts";
import type { Session } from "./session.ts";

/** A user's presence change, as sent. */
export interface PresenceChange {
  /** Username. */
  username: string;
  /** Final status within the window. */
  status: "online" | "offline";
}

/**
 * A session whose socket holds more unsent bytes than this gets no presence
 * frame until it has drained; it then gets one frame with every change it
 * missed (final status per user). During a login wave the frames would
 * otherwise pile up in the buffers of the sockets that read slowest.
 */
export const PRESENCE_UNSENT_BYTES = 64 * 1024;

/**
 * Default `watch` budget of a user (PROTOCOL 5.1: burst 5, one per second),
 * shared by the user's sessions like the other request buckets.
 */
export const WATCH_RATE = { burst: 5, perSecond: 1 } as const;

/** The online members of a salon: user id to their live sessions. */
export type OnlineMembers = ReadonlyMap<number, ReadonlySet<Session>>;

/** One serialized `presence` frame and the sessions that get it. */
export interface PresenceDelivery {
  /** The frame, serialized once. */
  frame: string;
  /** Its recipients. */
  sessions: Session[];
}

/** What a window's planning reads from the rest of the server. */
export interface PresenceSources {
  /** The online members of each *small* salon the user is a member of. */
  pushSalons(userId: number): Iterable<OnlineMembers>;
  /** Whether a session's socket is too full for a presence frame now. */
  full(session: Session): boolean;
}

const NO_IDS: ReadonlySet<number> = new Set();
const NO_SESSIONS: ReadonlySet<Session> = new Set();

/**
 * Watch lists and held changes of the live sessions, and the planner of each
 * window's `presence` frames.
 */
export class PresenceDesk {
  /** Watched user id to the sessions watching them. */
  readonly #watchers = new Map<number, Set<Session>>();
  /** Session to the user ids on its watch list. */
  readonly #lists = new Map<Session, Set<number>>();
  /** Sessions held back by a full socket, with their pending changes (latest last). */
  readonly #held = new Map<Session, Map<number, PresenceChange>>();

  /**
   * Replaces the watch list of `session` with `userIds` (an empty list stops
   * watching). Returns the ids that are new on the list, in the given order.
   */
  watch(session: Session, userIds: Iterable<number>): number[] {
    const next = new Set(userIds);
    const previous = this.#lists.get(session) ?? NO_IDS;
    for (const id of previous) if (!next.has(id)) this.#unwatch(session, id);
    const added: number[] = [];
    for (const id of next) {
      if (previous.has(id)) continue;
      let set = this.#watchers.get(id);
      if (!set) this.#watchers.set(id, set = new Set());
      set.add(session);
      added.push(id);
    }
    if (next.size > 0) this.#lists.set(session, next);
    else this.#lists.delete(session);
    return added;
  }

  /** The user ids on the watch list of `session`. */
  watching(session: Session): ReadonlySet<number> {
    return this.#lists.get(session) ?? NO_IDS;
  }

  /** A session ended: its watch list and whatever it was owed are forgotten. */
  forget(session: Session): void {
    for (const id of this.#lists.get(session) ?? NO_IDS) this.#unwatch(session, id);
    this.#lists.delete(session);
    this.#held.delete(session);
  }

  /** How many sessions wait, held back by a full socket. */
  get heldSessions(): number {
    return this.#held.size;
  }

  /** How many users are on at least one watch list. */
  get watchedUsers(): number {
    return this.#watchers.size;
  }

  /**
   * Plans the frames of one window. `changes` holds the window's changes,
   * final status per user (in the order of each user's first change). Every
   * session in a changed user's audience gets a frame now, or, when its
   * socket is full, keeps the change (merged, latest last) until a later
   * window finds it drained. Sessions that get the same list of changes
   * share one frame.
   */
  plan(changes: ReadonlyMap<number, PresenceChange>, sources: PresenceSources): PresenceDelivery[] {
    const list = [...changes.values()];
    // Per session reached now: the indices of its changes, as a grouping key.
    const keys = new Map<Session, string>();
    const lastIndex = new Map<Session, number>();
    const fullNow = new Map<Session, boolean>();
    let i = 0;
    for (const [userId, change] of changes) {
      const index = i++;
      const reach = (s: Session) => {
        if (lastIndex.get(s) === index) return; // in two salons with the user, or also watching
        lastIndex.set(s, index);
        const held = this.#held.get(s);
        if (held) {
          held.delete(userId); // keep the order of the latest change
          held.set(userId, change);
          return;
        }
        let full = fullNow.get(s);
        if (full === undefined) fullNow.set(s, full = sources.full(s));
        if (full) this.#held.set(s, new Map([[userId, change]]));
        else keys.set(s, (keys.get(s) ?? "") + index + ",");
      };
      for (const online of sources.pushSalons(userId)) {
        for (const sessions of online.values()) for (const s of sessions) reach(s);
      }
      for (const s of this.#watchers.get(userId) ?? NO_SESSIONS) reach(s);
    }
    const groups = new Map<string, Session[]>();
    for (const [s, key] of keys) {
      const group = groups.get(key);
      if (group) group.push(s);
      else groups.set(key, [s]);
    }
    const out: PresenceDelivery[] = [];
    for (const [key, sessions] of groups) {
      const picked = key.slice(0, -1).split(",").map((n) => list[Number(n)]);
      out.push({ frame: presenceEvent(picked), sessions });
    }
    // Held sessions that have drained get everything they missed in one frame.
    for (const [s, held] of this.#held) {
      if (fullNow.get(s) ?? sources.full(s)) continue;
      this.#held.delete(s);
      out.push({ frame: presenceEvent([...held.values()]), sessions: [s] });
    }
    return out;
  }

  #unwatch(session: Session, userId: number): void {
    const set = this.#watchers.get(userId);
    if (!set) return;
    set.delete(session);
    if (set.size === 0) this.#watchers.delete(userId);
  }
}

/**
 * Whether a salon of `members` members is large, given whether it was large
 * before and the configured maximum: more than `max` members makes it large;
 * it becomes small again at 90% of `max` or fewer (hysteresis, so that a
 * salon at the threshold does not flip with every join and leave).
 */
export function isLarge(members: number, wasLarge: boolean, max: number): boolean {
  return wasLarge ? members > smallAgainAt(max) : members > max;
}

/** The member count at or below which a large salon becomes small again: 90% of `max`. */
export function smallAgainAt(max: number): number {
  return Math.floor(max * 0.9);
}

/** Default of `CAUSERIE_PRESENCE_SALON_MAX`: salons with more members are large. */
export const PRESENCE_SALON_MAX = 100;
