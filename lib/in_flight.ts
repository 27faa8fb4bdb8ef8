/**
 * Promises still running, so that a stop can wait for the calls it started
 * (a database call in flight when a heartbeat or a check is stopped).
 *
 * @module
 */

/** The set of promises not settled yet. */
export class InFlight {
  readonly #set = new Set<Promise<unknown>>();

  /** Tracks `p` until it settles; returns it. */
  track<T>(p: Promise<T>): Promise<T> {
    this.#set.add(p);
    const done = () => this.#set.delete(p);
    p.then(done, done);
    return p;
  }

  /** Resolves once every promise tracked now has settled (never rejects). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#set]);
  }
}
