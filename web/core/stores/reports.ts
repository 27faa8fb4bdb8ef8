/**
 * The reports store (moderators, PROTOCOL 5.4): the open reports kept live
 * from `reports`, `report` and `report_resolved`, and for each report the
 * reported message in context (a few messages around it, from the thread
 * held or a `history` page asked for it).
 *
 * @module
 */

import { signal } from "@preact/signals-core";
import type { ReportItem } from "../moderation_frames.ts";
import type { ChatItem } from "./messages.ts";

/** Messages shown on each side of a reported one. */
export const CONTEXT_AROUND = 2;

/** The context of one report. */
export type ReportContext =
  | { state: "loading" }
  | { state: "shown"; items: ChatItem[] }
  | { state: "failed"; message: string };

/** A report as kept: the server's item, and whether its message was deleted since. */
export type KeptReport = ReportItem & { messageDeleted?: boolean };

/** A report as kept: a message the server already says is deleted is marked so. */
function kept(r: ReportItem): KeptReport {
  return r.message.deleted ? { ...r, messageDeleted: true } : r;
}

/** Open reports and their contexts. */
export class ReportsStore {
  /** Open reports, oldest first. */
  readonly open = signal<KeptReport[]>([]);
  /** Contexts by report id. */
  readonly contexts = signal<ReadonlyMap<number, ReportContext>>(new Map());
  /** The last outcome of an action taken from the queue (shown in a live region). */
  readonly outcome = signal<{ ok: boolean; message: string } | null>(null);

  /** Replaces the list (`reports`). */
  set(list: ReportItem[]): void {
    this.open.value = list.map(kept).sort((a, b) => a.id - b.id);
  }

  /** Adds one (`report`), once per id. */
  add(r: ReportItem): void {
    this.open.value = [...this.open.value.filter((x) => x.id !== r.id), kept(r)].sort((a, b) =>
      a.id - b.id
    );
  }

  /** Removes a resolved report (`report_resolved`, or the `ok` of one's own `resolve_report`). */
  remove(id: number): void {
    if (!this.open.value.some((r) => r.id === id)) return;
    this.open.value = this.open.value.filter((r) => r.id !== id);
    const next = new Map(this.contexts.value);
    next.delete(id);
    this.contexts.value = next;
  }

  /** Sets a report's context (null: hides it). */
  setContext(id: number, c: ReportContext | null): void {
    const next = new Map(this.contexts.value);
    if (c) next.set(id, c);
    else next.delete(id);
    this.contexts.value = next;
  }

  /** Message `id` of `salon` was deleted: the reports and contexts showing it say so. */
  messageDeleted(salon: string, id: number): void {
    if (this.open.value.some((r) => r.salon === salon && r.message.id === id)) {
      this.open.value = this.open.value.map((r) =>
        r.salon === salon && r.message.id === id ? { ...r, messageDeleted: true } : r
      );
    }
    const next = new Map(this.contexts.value);
    for (const r of this.open.value) {
      const c = next.get(r.id);
      if (r.salon !== salon || c?.state !== "shown" || !c.items.some((i) => i.id === id)) continue;
      next.set(r.id, {
        state: "shown",
        items: c.items.map((i) => i.id === id ? { ...i, text: "", deleted: true } : i),
      });
    }
    if (next.size) this.contexts.value = next;
  }

  /** Forgets everything (log out). */
  reset(): void {
    this.open.value = [];
    this.contexts.value = new Map();
    this.outcome.value = null;
  }
}

/** The messages of `items` around `id`: up to {@link CONTEXT_AROUND} on each side. */
export function around(items: ChatItem[], id: number): ChatItem[] {
  const at = items.findIndex((i) => i.id === id);
  if (at < 0) return [];
  return items.slice(Math.max(0, at - CONTEXT_AROUND), at + CONTEXT_AROUND + 1);
}
