/**
 * A salon's members kept sorted by username (compared lower-cased), so that a
 * `who` page of a salon of 10,000 members takes its first `limit` entries
 * without sorting anything. A join or leave costs one binary search and one
 * array splice. Pure.
 *
 * @module
 */

import type { UserSummary } from "../store/store.ts";

/** The order of the roster: a username's lower-cased form (usernames are ASCII). */
function keyOf(user: UserSummary): string {
  return user.username.toLowerCase();
}

/** Members sorted by username. */
export class MemberRoster {
  readonly #users: UserSummary[];

  /** A roster of `users` (sorted once). */
  constructor(users: Iterable<UserSummary>) {
    this.#users = [...users].sort((a, b) => {
      const ka = keyOf(a), kb = keyOf(b);
      return ka < kb ? -1 : ka > kb ? 1 : a.id - b.id;
    });
  }

  /** Index of the first entry whose key is not below `key`. */
  #lowerBound(key: string): number {
    let lo = 0, hi = this.#users.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keyOf(this.#users[mid]) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of `userId` among the entries of `key`, or -1. */
  #find(key: string, userId: number): number {
    for (let i = this.#lowerBound(key); i < this.#users.length; i++) {
      const u = this.#users[i];
      if (keyOf(u) !== key) break;
      if (u.id === userId) return i;
    }
    return -1;
  }

  /** Adds `user`, or replaces their entry. */
  upsert(user: UserSummary): void {
    const key = keyOf(user);
    const i = this.#find(key, user.id);
    if (i >= 0) this.#users[i] = user;
    else this.#users.splice(this.#lowerBound(key), 0, user);
  }

  /** Removes `user` (their username locates the entry). */
  remove(user: UserSummary): void {
    const i = this.#find(keyOf(user), user.id);
    if (i >= 0) this.#users.splice(i, 1);
  }

  /** Members, by username. */
  [Symbol.iterator](): Iterator<UserSummary> {
    return this.#users[Symbol.iterator]();
  }

  /** How many members. */
  get size(): number {
    return this.#users.length;
  }
}
