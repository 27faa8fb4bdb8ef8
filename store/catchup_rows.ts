/**
 * Rows of the catch-up queries (history `after`, read markers, conversations)
 * as both adapters read them, turned into the records of the Store
 * interface. Pure.
 *
 * @module
 */

import type { Role } from "./store.ts";
import type { ConversationSummary, HistoryPage, ReadOutcome } from "./store.ts";
import { type Row, toMessage } from "./rows.ts";

/** A page of `limit` read oldest first (`limit + 1` rows asked): `more` says newer ones exist. */
export function pageAfter(rows: Row[], limit: number): HistoryPage {
  return { messages: rows.slice(0, limit).map(toMessage), more: rows.length > limit };
}

/** Row to record: a conversation (`other_id`, `username`, `alias`, `role`, `latest_id`, `last_read`, `at`). */
export function toConversation(row: Row, unread: number): ConversationSummary {
  return {
    other: {
      id: Number(row.other_id),
      username: String(row.username),
      alias: String(row.alias),
      role: row.role as Role,
    },
    latest: Number(row.latest_id),
    lastRead: Number(row.last_read),
    unread,
    at: Number(row.at),
  };
}

/**
 * The page of conversations to answer from `rows` (newest first, `limit + 1`
 * asked). A page never ends inside a group of conversations sharing one `at`
 * (the next page starts strictly below the last `at` sent, and would miss the
 * rest of the group): such a group is left for the next page. When the group
 * fills the whole page, `tieAt` asks the caller to read the whole group.
 */
export function conversationPage(
  rows: Row[],
  limit: number,
): { rows: Row[]; more: boolean; tieAt?: number } {
  if (rows.length <= limit) return { rows, more: false };
  const page = rows.slice(0, limit);
  const lastAt = Number(page[page.length - 1].at);
  if (Number(rows[limit].at) !== lastAt) return { rows: page, more: true };
  const kept = page.filter((r) => Number(r.at) !== lastAt);
  if (kept.length > 0) return { rows: kept, more: true };
  return { rows: page, more: true, tieAt: lastAt };
}

/** The outcome of a `read` given the newest id there and the marker before it. */
export function readOutcome(id: number, latest: number, before: number): ReadOutcome {
  if (id > latest) return { outcome: "beyond", lastRead: before, latest };
  if (id <= before) return { outcome: "kept", lastRead: before, latest };
  return { outcome: "moved", lastRead: id, latest };
}
