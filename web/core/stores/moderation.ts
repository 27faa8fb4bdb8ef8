/**
 * The moderation store (moderators and admins): the join requests waiting
 * for a decision, kept live from `requests` and `join_request`.
 *
 * @module
 */

import { signal } from "@preact/signals-core";
import type { JoinRequestItem } from "../../../protocol/server_frames.ts";

/** Pending join requests. */
export class ModerationStore {
  /** Requests waiting, oldest first. */
  readonly requests = signal<JoinRequestItem[]>([]);

  /** Replaces the list (`requests` answer). */
  set(list: JoinRequestItem[]): void {
    this.requests.value = list;
  }

  /** Adds one request (`join_request`), once per salon and user. */
  add(r: JoinRequestItem): void {
    this.requests.value = [...this.requests.value.filter((x) => !same(x, r)), r];
  }

  /** Removes a request that was decided. */
  remove(salon: string, username: string): void {
    this.requests.value = this.requests.value.filter((x) => !same(x, { salon, username }));
  }

  /** Forgets everything (log out). */
  reset(): void {
    this.requests.value = [];
  }
}

function same(a: { salon: string; username: string }, b: { salon: string; username: string }) {
  return a.salon === b.salon && a.username.toLowerCase() === b.username.toLowerCase();
}
