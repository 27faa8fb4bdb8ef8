/**
 * The composer store: the draft of each conversation, the inline problem
 * to show under the input (too long, sending too fast, not a member...), and
 * the message being edited, if any.
 *
 * @module
 */

import { signal } from "@preact/signals-core";
import type { ConversationKey } from "../keys.ts";

/** A problem shown next to the message input. */
export interface ComposerProblem {
  /** Error code (`too_long`, `rate_limited`, `offline`...). */
  code: string;
  /** The sentence shown. */
  message: string;
  /** `info` for news rather than a problem (a report sent). */
  tone?: "info";
}

/** The message being edited in a conversation's composer (PROTOCOL 5.4 `edit`). */
export interface Editing {
  /** The message's id. */
  id: number;
  /** The draft put aside, restored when the edit ends. */
  saved: string;
}

/** Drafts and inline problems, per conversation. */
export class ComposerStore {
  /** Drafts by conversation. */
  readonly drafts = signal<ReadonlyMap<ConversationKey, string>>(new Map());
  /** The problem to show by conversation. */
  readonly problems = signal<ReadonlyMap<ConversationKey, ComposerProblem>>(new Map());

  /** The message being edited, by conversation. */
  readonly editing = signal<ReadonlyMap<ConversationKey, Editing>>(new Map());

  /** Starts editing message `id` whose text is `text`: the draft is put aside. */
  startEdit(key: ConversationKey, id: number, text: string): void {
    const held = this.editing.value.get(key);
    const saved = held ? held.saved : this.drafts.value.get(key) ?? "";
    const next = new Map(this.editing.value);
    next.set(key, { id, saved });
    this.editing.value = next;
    this.setDraft(key, text);
  }

  /** Ends the edit (saved or cancelled): the draft put aside comes back. */
  endEdit(key: ConversationKey): void {
    const held = this.editing.value.get(key);
    if (!held) return;
    const next = new Map(this.editing.value);
    next.delete(key);
    this.editing.value = next;
    this.setDraft(key, held.saved);
  }

  /** Sets a draft. */
  setDraft(key: ConversationKey, text: string): void {
    const next = new Map(this.drafts.value);
    if (text) next.set(key, text);
    else next.delete(key);
    this.drafts.value = next;
  }

  /** Shows (or clears, with null) the problem of a conversation. */
  setProblem(key: ConversationKey, problem: ComposerProblem | null): void {
    const next = new Map(this.problems.value);
    if (problem) next.set(key, problem);
    else next.delete(key);
    this.problems.value = next;
  }

  /** Forgets everything (log out). */
  reset(): void {
    this.drafts.value = new Map();
    this.problems.value = new Map();
    this.editing.value = new Map();
  }
}
