/**
 * Which salons each user belongs to, kept in step with the salon actors, so
 * that a session opening or closing is announced to its salons only.
 *
 * @module
 */

/** User id to the keys of the salons they are a member of. */
export class MembershipIndex {
  readonly #byUser = new Map<number, Set<string>>();

  /** Records a membership. */
  add(userId: number, salonKey: string): void {
    let set = this.#byUser.get(userId);
    if (!set) this.#byUser.set(userId, set = new Set());
    set.add(salonKey);
  }

  /** Forgets a membership. */
  remove(userId: number, salonKey: string): void {
    const set = this.#byUser.get(userId);
    if (!set) return;
    set.delete(salonKey);
    if (set.size === 0) this.#byUser.delete(userId);
  }

  /** Keys of the salons of a user. */
  salonsOf(userId: number): ReadonlySet<string> {
    return this.#byUser.get(userId) ?? EMPTY;
  }
}

const EMPTY: ReadonlySet<string> = new Set();
