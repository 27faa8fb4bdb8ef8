/**
 * What the salon machine builds from its context for others to read: the
 * `who` list, the items of a history page, the `join_request` frame for
 * moderators, and the input of a join request's actor. Pure.
 *
 * @module
 */

import type { MessageItem, TombstoneItem, UserRef } from "../protocol/events.ts";
import type { HistoryPage, UserSummary } from "../store/store.ts";
import type { JoinRequestInput } from "./join_request.ts";
import type { SalonContext } from "./salon_types.ts";

/** Every member with their status, for `who`. */
export function whoList(
  context: SalonContext,
): Array<UserRef & { status: "online" | "offline" }> {
  return [...context.members.values()].map((u) => ({
    username: u.username,
    alias: u.alias,
    status: context.online.has(u.id) ? "online" as const : "offline" as const,
  }));
}

/** The items of a `history` page of salon `name`. */
export function historyItems(name: string, page: HistoryPage): Array<MessageItem | TombstoneItem> {
  return page.messages.map((m) => {
    // A deleted message is a tombstone (PROTOCOL.md 5.4): its id and time, nothing else.
    if (m.deleted) return { id: m.id, at: new Date(m.at).toISOString(), deleted: true };
    const item: MessageItem = {
      salon: name,
      id: m.id,
      from: m.from,
      text: m.text,
      at: new Date(m.at).toISOString(),
    };
    if (m.mentions) item.mentions = m.mentions; // stored with the message, never parsed again
    if (m.editedAt !== undefined) item.editedAt = new Date(m.editedAt).toISOString();
    return item;
  });
}

/** The `join_request` frame moderators get when `user` asks to join salon `name`. */
export function joinRequestFrame(name: string, user: UserSummary, since: number): string {
  return JSON.stringify({
    type: "join_request",
    salon: name,
    username: user.username,
    alias: user.alias,
    at: new Date(since).toISOString(),
  });
}

/** The input of the actor of `user`'s pending request (since `since`). */
export function requestInput(
  context: SalonContext,
  user: UserSummary,
  since: number,
): JoinRequestInput {
  return {
    salonId: context.salon.id,
    salon: context.salon.name,
    user,
    since,
    deps: requestDeps(context),
  };
}

/**
 * How a request's actor stores its outcome: in one process the store's
 * membership and request calls; with a bus (`closeRequest`), a conditional
 * close in MySQL, so that of two instances deciding at once the second is
 * told `not_pending`, as a second decision in one process is.
 */
function requestDeps(context: SalonContext): JoinRequestInput["deps"] {
  const close = context.deps.closeRequest;
  if (!close) return { accept: context.deps.addMember, close: context.deps.removeJoinRequest };
  const closing = (accept: boolean) => async (salonId: number, userId: number) => {
    if (!await close(salonId, userId, accept)) throw new Error("not_pending");
  };
  return { accept: closing(true), close: closing(false) };
}
