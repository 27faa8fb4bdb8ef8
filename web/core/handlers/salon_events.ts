/**
 * Handlers of the frames about salons, presence and moderation: `joined`,
 * `left`, `join_pending`, `join_rejected`, `member_joined`, `salon_stats`,
 * `presence`, `who`, `requests`, `join_request`.
 *
 * @module
 */

import type { ServerFrameOf } from "../../../protocol/server_frames.ts";
import { salonKey } from "../keys.ts";
import type { ChatContext } from "./context.ts";

/** `joined`: a member now; the open salon loads its messages. */
export function onJoined(ctx: ChatContext, f: ServerFrameOf<"joined">): void {
  ctx.takeRequest(f.ref);
  ctx.salons.update(f.salon, () => ({ member: true, pending: false }));
  const key = salonKey(f.salon);
  ctx.composer.setProblem(key, null);
  if (ctx.salons.active.value === key && !ctx.messages.thread(key).value.loaded) {
    ctx.loadLatest(key);
  }
}

/** `left`: no longer a member (or the request was withdrawn). */
export function onLeft(ctx: ChatContext, f: ServerFrameOf<"left">): void {
  ctx.takeRequest(f.ref);
  ctx.salons.update(f.salon, () => ({ member: false, pending: false, unread: 0, mentions: 0 }));
}

/** `join_pending`: waiting for a moderator. */
export function onJoinPending(ctx: ChatContext, f: ServerFrameOf<"join_pending">): void {
  ctx.takeRequest(f.ref);
  ctx.salons.update(f.salon, () => ({ pending: true }));
}

/** `join_rejected`: the request was declined. */
export function onJoinRejected(ctx: ChatContext, f: ServerFrameOf<"join_rejected">): void {
  ctx.salons.update(f.salon, () => ({ pending: false }));
  ctx.composer.setProblem(salonKey(f.salon), {
    code: "join_rejected",
    message: `A moderator declined your request to join ${f.salon}.`,
  });
}

/** `member_joined`: counts come with `salon_stats`; nothing else to keep. */
export function onMemberJoined(_ctx: ChatContext, _f: ServerFrameOf<"member_joined">): void {}

/** `salon_stats`: online and member counts. */
export function onSalonStats(ctx: ChatContext, f: ServerFrameOf<"salon_stats">): void {
  ctx.salons.update(f.salon, (s) => ({
    online: f.online,
    members: f.members,
    presence: f.presence ?? s.presence,
  }));
}

/** `presence`: statuses (pushed, or the answer to `watch`). */
export function onPresence(ctx: ChatContext, f: ServerFrameOf<"presence">): void {
  ctx.takeRequest(f.ref);
  ctx.presence.apply(f.changes);
}

/**
 * `who`: the listed members' statuses. Asked by "New message", its members
 * become the search results; those of a small salon have their presence
 * pushed, so they leave the watch list.
 */
export function onWho(ctx: ChatContext, f: ServerFrameOf<"who">): void {
  const req = ctx.takeRequest(f.ref);
  ctx.presence.apply(f.users.map((u) => ({ username: u.username, status: u.status })));
  if (req?.kind !== "who") return;
  ctx.people.searching.value = Math.max(0, ctx.people.searching.value - 1);
  ctx.people.addFound(f.users, f.more === true);
  if (ctx.salons.get(f.salon)?.presence === "push") {
    ctx.watcher.pushed(f.users.map((u) => u.username));
  }
}

/** `requests`: the join requests waiting (moderators). */
export function onRequests(ctx: ChatContext, f: ServerFrameOf<"requests">): void {
  ctx.takeRequest(f.ref);
  ctx.moderation.set(f.pending);
}

/** `join_request`: a new request (moderators). */
export function onJoinRequest(ctx: ChatContext, f: ServerFrameOf<"join_request">): void {
  ctx.moderation.add({ salon: f.salon, username: f.username, alias: f.alias, at: f.at });
}
