/**
 * Times by user id within a sliding window (a salon's join-request and
 * `member_joined` limits). Pure.
 *
 * @module
 */

/**
 * Times by key (a user id unless said otherwise), forgetting those older than a window: swept whenever the
 * map has doubled since the last sweep, so it holds about the users of the
 * last window only.
 */
export class RecentTimes<K = number> {
  readonly #windowMs: number;
  readonly #times = new Map<K, number>();
  #sweptSize = 0;

  /** Remembers times for `windowMs`. */
  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  /** Times for `windowMs`, starting with `entries` (user id, epoch ms). */
  static of<K>(windowMs: number, entries: Iterable<[K, number]>): RecentTimes<K> {
    const times = new RecentTimes<K>(windowMs);
    for (const [id, at] of entries) times.#times.set(id, at);
    return times;
  }

  /** Whether `userId` has a time within the window before `now`. */
  recent(userId: K, now: number): boolean {
    const at = this.#times.get(userId);
    return at !== undefined && now - at < this.#windowMs;
  }

  /** When the window of `userId` ends (epoch ms), if it is running at `now`. */
  until(userId: K, now: number): number | undefined {
    return this.recent(userId, now) ? this.#times.get(userId)! + this.#windowMs : undefined;
  }

  /** Records `now` for `userId`. */
  set(userId: K, now: number): void {
    this.#times.set(userId, now);
    if (this.#times.size >= Math.max(64, this.#sweptSize * 2)) {
      for (const [id, at] of this.#times) if (now - at >= this.#windowMs) this.#times.delete(id);
      this.#sweptSize = this.#times.size;
    }
  }

  /** Forgets `userId`. */
  delete(userId: K): void {
    this.#times.delete(userId);
  }

  /** Entries held. */
  get size(): number {
    return this.#times.size;
  }
}
