/**
 * The composer store: the draft of each conversation and the inline problem
 * to show under the input (too long, sending too fast, not a member...).
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
}

/** Drafts and inline problems, per conversation. */
export class ComposerStore {
  /** Drafts by conversation. */
  readonly drafts = signal<ReadonlyMap<ConversationKey, string>>(new Map());
  /** The problem to show by conversation. */
  readonly problems = signal<ReadonlyMap<ConversationKey, ComposerProblem>>(new Map());

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
  }
}
