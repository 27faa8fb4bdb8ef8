/**
 * The users the hub has met (members, handshakes, registrations), by name
 * key, so that a direct message or a history request rarely reads the store.
 *
 * @module
 */

import { nameKey } from "../protocol/names.ts";
import type { Role, Store, UserRecord, UserSummary } from "../store/store.ts";

/** The public summary of a user record. */
export function summary(user: UserRecord | UserSummary): UserSummary {
  return { id: user.id, username: user.username, alias: user.alias, role: user.role };
}

/** Users by name key, filled as they are met and read from the store on a miss. */
export class UserDirectory {
  readonly #users = new Map<string, UserSummary>();
  readonly #store: Pick<Store, "userByName">;

  /** A directory that reads unknown names from `store`. */
  constructor(store: Pick<Store, "userByName">) {
    this.#store = store;
  }

  /** Keeps (or replaces) a user's summary. */
  remember(user: UserSummary): void {
    this.#users.set(nameKey(user.username), user);
  }

  /** The user with this name (any case or accent form), or undefined. */
  async resolve(name: string): Promise<UserSummary | undefined> {
    const key = nameKey(name);
    const known = this.#users.get(key);
    if (known) return known;
    const found = await this.#store.userByName(name);
    if (!found) return undefined;
    const s = summary(found);
    this.remember(s);
    return s;
  }

  /**
   * The user with this name if already met, without reading the store. Every
   * user is a member of the `auto` salon, so the hub meets them all at start
   * and at registration: this is complete for a running hub.
   */
  known(name: string): UserSummary | undefined {
    return this.#users.get(nameKey(name));
  }

  /** Updates the remembered role of a user. */
  roleChanged(userId: number, role: Role): void {
    for (const u of this.#users.values()) if (u.id === userId) u.role = role;
  }
}
