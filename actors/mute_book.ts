/**
 * The mutes in force, by user (PROTOCOL 5.4), as the hot path reads them: a
 * connection asks it before each `say` and `direct` (one Map look-up for a
 * user who is not muted, no store read). The server machine keeps it: a mute
 * is written when imposed or restored at start-up and removed when it runs
 * out or is lifted. Pure data, shared like the users' token buckets.
 *
 * @module
 */

/** A mute as the book holds it. */
export interface LiveMute {
  /** The stored mute's id. */
  id: number;
  /** End, epoch ms. */
  until: number;
  /** Why (may be empty). */
  reason: string;
  /** The salon's name; absent for a mute everywhere. */
  salon?: string;
}

/** A user's mutes: everywhere, and by salon comparison key. */
interface UserMutes {
  everywhere?: LiveMute;
  salons: Map<string, LiveMute>;
}

/** The mutes in force, by user id. */
export class MuteBook {
  readonly #byUser = new Map<number, UserMutes>();

  /** Whether the user has any mute in the book (the cheap first check). */
  has(userId: number): boolean {
    return this.#byUser.has(userId);
  }

  /** Puts a mute in force, replacing the user's mute of the same salon (or everywhere). */
  set(userId: number, salonKey: string | null, mute: LiveMute): void {
    let mine = this.#byUser.get(userId);
    if (!mine) this.#byUser.set(userId, mine = { salons: new Map() });
    if (salonKey === null) mine.everywhere = mute;
    else mine.salons.set(salonKey, mute);
  }

  /**
   * Removes the mute `id` of a user, if it is still the one in force for its
   * salon (a replaced mute is gone already). Returns it, or undefined.
   */
  remove(userId: number, id: number): LiveMute | undefined {
    const mine = this.#byUser.get(userId);
    if (!mine) return undefined;
    let removed: LiveMute | undefined;
    if (mine.everywhere?.id === id) {
      removed = mine.everywhere;
      mine.everywhere = undefined;
    } else {
      for (const [key, m] of mine.salons) {
        if (m.id !== id) continue;
        removed = m;
        mine.salons.delete(key);
        break;
      }
    }
    if (!mine.everywhere && mine.salons.size === 0) this.#byUser.delete(userId);
    return removed;
  }

  /**
   * When the user may speak again at `now`: in the salon of `salonKey` (a
   * `say`: the later end of the mute everywhere and that salon's), or in
   * direct messages (`null`: the mute everywhere only). Undefined: not muted.
   * A mute is over at its end exactly.
   */
  mutedUntil(userId: number, salonKey: string | null, now: number): number | undefined {
    const mine = this.#byUser.get(userId);
    if (!mine) return undefined;
    let until = mine.everywhere && mine.everywhere.until > now ? mine.everywhere.until : 0;
    if (salonKey !== null) {
      const here = mine.salons.get(salonKey);
      if (here && here.until > now && here.until > until) until = here.until;
    }
    return until > 0 ? until : undefined;
  }

  /** The user's mutes in force at `now` (everywhere first). */
  of(userId: number, now: number): LiveMute[] {
    const mine = this.#byUser.get(userId);
    if (!mine) return [];
    const all = mine.everywhere ? [mine.everywhere, ...mine.salons.values()] : [
      ...mine.salons.values(),
    ];
    return all.filter((m) => m.until > now);
  }

  /** Users with a mute in the book. */
  get size(): number {
    return this.#byUser.size;
  }
}
