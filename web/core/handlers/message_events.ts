/**
 * Handlers of the frames about messages: `message`, `direct`, `history`,
 * `ok`, `error`, `read`, `typing`, `conversations`.
 *
 * @module
 */

import type { DirectItem, MessageItem } from "../../../protocol/events.ts";
import type { ServerFrameOf } from "../../../protocol/server_frames.ts";
import { type ConversationKey, directKey, salonKey } from "../keys.ts";
import type { ChatItem } from "../stores/messages.ts";
import type { ChatContext } from "./context.ts";
import { contextPage, errorOf, okOf } from "./moderation_events.ts";

/** A stored item from a `message`/`direct` event or a history item. */
export function toItem(m: MessageItem | DirectItem | ChatItem): ChatItem {
  const kept = m as Partial<ChatItem> & { id: number; at: string };
  // A deleted message's history item is `{id, at, deleted: true}` (PROTOCOL 5.4): a tombstone.
  if (kept.deleted) {
    return { id: m.id, at: m.at, from: { username: "", alias: "" }, text: "", deleted: true };
  }
  const item: ChatItem = { id: m.id, from: m.from, text: m.text, at: m.at };
  if ("mentions" in m && m.mentions) item.mentions = m.mentions;
  if (typeof kept.editedAt === "string") item.editedAt = kept.editedAt;
  return item;
}

function me(ctx: ChatContext): string {
  return ctx.session.user.value?.username ?? "";
}

function mentionsMe(ctx: ChatContext, mentions: string[] | undefined): boolean {
  const u = me(ctx).toLowerCase();
  return !!mentions?.some((m) => m.toLowerCase() === u);
}

/** A new message in `key`: stored once (if the thread is shown), counted as unread if not ours. */
function arrived(
  ctx: ChatContext,
  key: ConversationKey,
  item: ChatItem,
  other?: { username: string; alias: string },
): void {
  ctx.presence.stoppedTyping(key, item.from.username);
  const thread = ctx.messages.thread(key).value;
  // A thread never opened keeps no live messages: opening it loads the newest page, without a gap.
  const added = thread.loaded ? ctx.messages.add(key, [item]).length > 0 : true;
  const mine = item.from.username === me(ctx);
  ctx.salons.updateUnread(
    key,
    (u) => {
      if (item.id <= u.latest && !added) return {};
      if (mine) {
        return {
          latest: Math.max(u.latest, item.id),
          lastRead: Math.max(u.lastRead, item.id),
        };
      }
      if (item.id <= u.lastRead) return { latest: Math.max(u.latest, item.id) };
      return {
        latest: Math.max(u.latest, item.id),
        unread: Math.min(1000, u.unread + 1),
        mentions: u.mentions + (mentionsMe(ctx, item.mentions) ? 1 : 0),
      };
    },
    other,
    item.at,
  );
}

/** `message`: a salon message (ours too: never a second copy of one confirmed by `ok`). */
export function onMessage(ctx: ChatContext, f: ServerFrameOf<"message">): void {
  // One's own message from another session counts for slow mode too.
  if (f.from.username === me(ctx)) ctx.restrictions.said(f.salon, ctx.clock.now());
  arrived(ctx, salonKey(f.salon), toItem(f));
}

/** `direct`: a direct message, filed under the other user. */
export function onDirect(ctx: ChatContext, f: ServerFrameOf<"direct">): void {
  const other = f.from.username === me(ctx) ? f.to : f.from;
  arrived(ctx, directKey(other.username), toItem(f), other);
}

/**
 * `history`: a page. The newest page and older pages set whether older
 * messages exist; a catch-up page (`after`) asks for the next one until the
 * server says there is no more.
 */
export function onHistory(ctx: ChatContext, f: ServerFrameOf<"history">): void {
  const req = ctx.takeRequest(f.ref);
  if (req?.kind === "context") return contextPage(ctx, req, f.messages.map(toItem));
  if (req?.kind !== "history") return;
  const items = f.messages.map(toItem);
  const { key } = req;
  if (req.mode === "after") {
    ctx.messages.page(key, items, f.more, false);
    const newest = ctx.messages.newest(key);
    ctx.salons.updateUnread(key, (u) => ({ latest: Math.max(u.latest, newest) }));
    if (f.more && items.length) {
      const target = key.startsWith("s:") ? { salon: key.slice(2) } : { with: key.slice(2) };
      ctx.request(
        { type: "history", ...target, after: newest, limit: 200 },
        { kind: "history", key, mode: "after" },
      );
    }
  } else {
    ctx.messages.page(key, items, f.more, true);
  }
}

/** `ok`: a `say` becomes its message (by id, once); a decision leaves the list. */
export function onOk(ctx: ChatContext, f: ServerFrameOf<"ok">): void {
  const req = ctx.takeRequest(f.ref);
  if (!req || okOf(ctx, req, f)) return;
  if (req.kind === "say" && f.id !== undefined) {
    const user = ctx.session.user.value;
    const from = { username: user?.username ?? "", alias: user?.alias ?? "" };
    ctx.messages.confirm(req.key, f.ref!, {
      id: f.id,
      from,
      text: req.text,
      at: f.at ?? new Date(ctx.clock.now()).toISOString(),
    });
    ctx.composer.setProblem(req.key, null);
    if (req.key.startsWith("s:")) ctx.restrictions.said(req.key.slice(2), ctx.clock.now());
    ctx.salons.updateUnread(req.key, (u) => ({
      latest: Math.max(u.latest, f.id!),
      lastRead: Math.max(u.lastRead, f.id!),
    }));
  } else if (req.kind === "decide") {
    ctx.moderation.remove(req.salon, req.username);
  }
}

/** Words for the codes a member meets while chatting. */
export function explain(code: string, message: string): string {
  switch (code) {
    case "too_long":
      return `Too long: ${message}`;
    case "rate_limited":
      return `Sending too fast: ${message}`;
    case "not_member":
      return `You are not a member here: ${message}`;
    case "shutting_down":
      return `The server is shutting down; this was not sent.`;
    case "muted":
      return `You are muted; this was not sent. ${message}`;
    case "slow_mode":
      return `Slow mode: this was not sent. ${message}`;
    default:
      return message;
  }
}

/** `error`: shown next to what it refused (the message, the salon, the list). */
export function onError(ctx: ChatContext, f: ServerFrameOf<"error">): void {
  const req = ctx.takeRequest(f.ref);
  if (!req || errorOf(ctx, req, f)) return;
  const problem = { code: f.code, message: explain(f.code, f.message) };
  if (req.kind === "say") {
    ctx.messages.fail(req.key, f.ref!, problem);
    ctx.composer.setProblem(req.key, problem);
    refusedSay(ctx, req.key, f);
  } else if (req.kind === "history") {
    ctx.messages.loadingOlder(req.key, false);
    if (req.mode !== "after") ctx.composer.setProblem(req.key, problem);
  } else if (req.kind === "membership") {
    ctx.composer.setProblem(salonKey(req.salon), problem);
  } else if (req.kind === "decide") {
    ctx.moderation.remove(req.salon, req.username);
  } else if (req.kind === "who") {
    ctx.people.searching.value = Math.max(0, ctx.people.searching.value - 1);
  } else if (req.kind === "conversations") {
    ctx.people.loadingConversations.value = false;
  }
}

/**
 * A `say` or `direct` refused for a 5.4 restriction: `error muted` (with
 * `until`) shows the mute (a direct is refused only by a mute everywhere; a
 * salon message counts as muted in that salon until the server says more),
 * `error slow_mode` (with `retryAfter`) the wait.
 */
function refusedSay(ctx: ChatContext, key: ConversationKey, f: ServerFrameOf<"error">): void {
  const salon = key.startsWith("s:") ? key.slice(2) : undefined;
  if (f.code === "muted" && f.until) {
    if (!ctx.restrictions.muteOf(key, ctx.clock.now())) {
      ctx.restrictions.mute({ salon, until: f.until });
    }
  } else if (f.code === "slow_mode" && salon !== undefined) {
    ctx.restrictions.refused(salon, ctx.clock.now(), f.retryAfter ?? 1);
  }
}

/** Unread messages above `marker` among those held, or the best estimate from the counts. */
export function unreadAbove(ctx: ChatContext, key: ConversationKey, marker: number) {
  const t = ctx.messages.thread(key).value;
  const u = ctx.salons.unreadOf(key);
  const latest = u?.latest ?? 0;
  if (marker >= latest) return { unread: 0, mentions: 0 };
  if (t.loaded && t.items.length && t.items[0].id <= marker + 1) {
    const mine = me(ctx);
    const after = t.items.filter((i) => i.id > marker && i.from.username !== mine);
    return {
      unread: after.length,
      mentions: after.filter((i) => mentionsMe(ctx, i.mentions)).length,
    };
  }
  const unread = Math.min(u?.unread ?? 0, key.startsWith("s:") ? latest - marker : Infinity);
  return { unread, mentions: Math.min(u?.mentions ?? 0, unread) };
}

/** `read`: another session of the user read up to `id`. */
export function onRead(ctx: ChatContext, f: ServerFrameOf<"read">): void {
  const key = f.salon !== undefined ? salonKey(f.salon) : directKey(f.with ?? "");
  const counts = unreadAbove(ctx, key, f.id);
  ctx.salons.updateUnread(key, (u) => f.id <= u.lastRead ? {} : { lastRead: f.id, ...counts });
}

/** `typing`: "Alice is typing…" for a few seconds. */
export function onTyping(ctx: ChatContext, f: ServerFrameOf<"typing">): void {
  const key = f.salon !== undefined ? salonKey(f.salon) : directKey(f.with ?? f.user.username);
  ctx.presence.typingIn(key, f.user);
}

/** `conversations`: older direct conversations join the list; `more` says whether others remain. */
export function onConversations(ctx: ChatContext, f: ServerFrameOf<"conversations">): void {
  ctx.takeRequest(f.ref);
  ctx.people.loadingConversations.value = false;
  ctx.people.moreConversations.value = f.more;
  const known = new Set(ctx.salons.directs.value.map((d) => d.with.username));
  ctx.salons.directs.value = [
    ...ctx.salons.directs.value,
    ...f.directs.filter((d) => !known.has(d.with.username)),
  ];
}
