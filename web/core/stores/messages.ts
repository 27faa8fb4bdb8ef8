/**
 * The messages store: one thread per conversation, its messages sorted by id
 * and each id kept once (a message that comes both live and in a catch-up
 * page is stored once), plus the user's own messages still waiting for their
 * `ok` (pending) or refused (failed).
 *
 * @module
 */

import { type Signal, signal } from "@preact/signals-core";
import type { UserRef } from "../../../protocol/events.ts";
import type { ConversationKey } from "../keys.ts";

/** A stored message, salon or direct. */
export interface ChatItem {
  /** Id, growing within the conversation. */
  id: number;
  /** Author. */
  from: UserRef;
  /** Text, shown as text. */
  text: string;
  /** Commit time, ISO-8601. */
  at: string;
  /** Mentioned usernames (salon messages). */
  mentions?: string[];
  /** When it was last edited, ISO-8601 (PROTOCOL 5.4). */
  editedAt?: string;
  /** Deleted: a tombstone, its text erased (PROTOCOL 5.4). */
  deleted?: boolean;
}

/** One of the user's messages that has no id yet. */
export interface PendingItem {
  /** The request's ref. */
  ref: string;
  /** Text. */
  text: string;
  /** Local time it was sent, ISO-8601. */
  at: string;
  /** Why the server refused it (then it stays, marked failed, until dismissed). */
  error?: { code: string; message: string };
}

/** A conversation's messages. */
export interface Thread {
  /** Messages by id, oldest first. */
  items: ChatItem[];
  /** Older messages exist on the server. */
  more: boolean;
  /** The newest page was loaded once. */
  loaded: boolean;
  /** A page of older messages is being fetched. */
  loadingOlder: boolean;
  /** The user's messages waiting for their `ok`, or refused. */
  pending: PendingItem[];
}

const EMPTY: Thread = { items: [], more: false, loaded: false, loadingOlder: false, pending: [] };

/** Index of the first item whose id is >= `id` (items sorted by id). */
function lowerBound(items: ChatItem[], id: number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (items[mid].id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Merges `incoming` into `items` (both sorted or not): each id once. A copy
 * already there is replaced by a later one carrying the same id (so that
 * the `message` event's `mentions` complete the copy built from `ok`).
 * Returns the ids that were new.
 */
export function mergeItems(items: ChatItem[], incoming: ChatItem[]): {
  items: ChatItem[];
  added: number[];
} {
  const out = items.slice();
  const added: number[] = [];
  for (const item of incoming) {
    const last = out[out.length - 1];
    if (!last || item.id > last.id) {
      out.push(item);
      added.push(item.id);
      continue;
    }
    const at = lowerBound(out, item.id);
    if (out[at]?.id === item.id) out[at] = newer(out[at], item);
    else {
      out.splice(at, 0, item);
      added.push(item.id);
    }
  }
  return { items: out, added };
}

/**
 * The copy of one message to keep when it comes again: the later one, except
 * that a tombstone stays a tombstone and an edit is not undone by an older
 * copy (a page asked before the `edited` or `deleted` event, answered after).
 */
function newer(held: ChatItem, incoming: ChatItem): ChatItem {
  if (held.deleted) return held;
  if (!incoming.deleted && (held.editedAt ?? "") > (incoming.editedAt ?? "")) {
    return { ...held, ...incoming, text: held.text, editedAt: held.editedAt };
  }
  return { ...held, ...incoming };
}

/** Every thread. */
export class MessagesStore {
  #threads = new Map<ConversationKey, Signal<Thread>>();

  /** The thread's signal (created empty on first use). */
  thread(key: ConversationKey): Signal<Thread> {
    let s = this.#threads.get(key);
    if (!s) {
      s = signal(EMPTY);
      this.#threads.set(key, s);
    }
    return s;
  }

  /** Keys of the threads that hold messages (the open conversations to catch up). */
  loadedKeys(): ConversationKey[] {
    return [...this.#threads].filter(([, s]) => s.value.loaded).map(([k]) => k);
  }

  /** Changes a thread. */
  #set(key: ConversationKey, change: (t: Thread) => Partial<Thread>): void {
    const s = this.thread(key);
    s.value = { ...s.value, ...change(s.value) };
  }

  /** Adds messages (live, or a page); returns the ids that were new. */
  add(key: ConversationKey, incoming: ChatItem[]): number[] {
    let added: number[] = [];
    this.#set(key, (t) => {
      const merged = mergeItems(t.items, incoming);
      added = merged.added;
      return { items: merged.items };
    });
    return added;
  }

  /** A page of older messages (or the first page) arrived. */
  page(key: ConversationKey, items: ChatItem[], more: boolean, older: boolean): number[] {
    const t = this.thread(key).value;
    const added = this.add(key, items);
    this.#set(key, () => ({
      loaded: true,
      loadingOlder: false,
      more: older || !t.loaded ? more : t.more,
    }));
    return added;
  }

  /** Marks a thread as fetching older messages. */
  loadingOlder(key: ConversationKey, loading: boolean): void {
    this.#set(key, () => ({ loadingOlder: loading }));
  }

  /** Newest id held (0 when none). */
  newest(key: ConversationKey): number {
    const items = this.thread(key).value.items;
    return items.length ? items[items.length - 1].id : 0;
  }

  /** Oldest id held (0 when none). */
  oldest(key: ConversationKey): number {
    const items = this.thread(key).value.items;
    return items.length ? items[0].id : 0;
  }

  /** Shows one of the user's messages at once, before its `ok`. */
  addPending(key: ConversationKey, p: PendingItem): void {
    this.#set(key, (t) => ({ pending: [...t.pending, p] }));
  }

  /** The `ok` came: the pending message becomes the message `id` (kept once if already there). */
  confirm(key: ConversationKey, ref: string, item: ChatItem): void {
    this.#set(key, (t) => ({
      pending: t.pending.filter((p) => p.ref !== ref),
      items: mergeItems(t.items, [item]).items,
    }));
  }

  /** The server refused a pending message: it stays, marked failed. */
  fail(key: ConversationKey, ref: string, error: { code: string; message: string }): void {
    this.#set(key, (t) => ({
      pending: t.pending.map((p) => p.ref === ref ? { ...p, error } : p),
    }));
  }

  /** Removes a pending or failed message. */
  dismiss(key: ConversationKey, ref: string): void {
    this.#set(key, (t) => ({ pending: t.pending.filter((p) => p.ref !== ref) }));
  }

  /**
   * Message `id` was edited (`edited`, or one's own `ok`): new text, time and mentions.
   * A message not held changes nothing (its page will bring the new text).
   */
  edited(
    key: ConversationKey,
    id: number,
    text: string,
    editedAt: string,
    mentions?: string[] | null,
  ): void {
    this.#change(key, id, (i) => {
      if (i.deleted) return i;
      const next: ChatItem = { ...i, text, editedAt };
      // `edited` carries the new text's mentions (absent: none); one's own `ok` (null) does not.
      if (mentions !== null) {
        if (mentions?.length) next.mentions = mentions;
        else delete next.mentions;
      }
      return next;
    });
  }

  /** Message `id` was deleted: it becomes a tombstone (no text, no mentions). */
  deleted(key: ConversationKey, id: number): void {
    this.#change(key, id, (i) => ({ id: i.id, from: i.from, at: i.at, text: "", deleted: true }));
  }

  #change(key: ConversationKey, id: number, f: (i: ChatItem) => ChatItem): void {
    const items = this.thread(key).value.items;
    const at = lowerBound(items, id);
    if (items[at]?.id !== id) return;
    const next = items.slice();
    next[at] = f(items[at]);
    this.#set(key, () => ({ items: next }));
  }

  /** Forgets every thread (log out). */
  reset(): void {
    this.#threads.clear();
  }
}
