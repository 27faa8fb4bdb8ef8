/**
 * Handlers of the frames about the whole session: `welcome`, `kicked`,
 * `banned`, `notice`, `shutdown`, `shutdown_cancelled`, `pong`.
 *
 * @module
 */

import type { ServerFrameOf } from "../../../protocol/server_frames.ts";
import { type ConversationKey, salonKey } from "../keys.ts";
import type { ChatContext } from "./context.ts";

/** Conversations `welcome.directs` lists at most (PROTOCOL 5.2). */
export const DIRECTS_IN_WELCOME = 50;

/**
 * `welcome`: the user, limits, salons and conversations. On a reconnect,
 * every conversation that holds messages asks for what came after its
 * newest id (`history` `after`), so nothing is missed and nothing doubled.
 */
export function onWelcome(ctx: ChatContext, f: ServerFrameOf<"welcome">): void {
  const reconnect = ctx.session.welcomed;
  ctx.session.welcomed = true;
  ctx.session.user.value = f.user;
  ctx.session.limits.value = f.limits;
  ctx.session.countdown.value = null;
  ctx.salons.fromWelcome(f.salons, f.directs);
  // Mutes in force are told again by the server (`muted`, or `error muted` on a try): a new
  // session starts from what it says. Slow mode comes with each salon (PROTOCOL 5.4).
  ctx.restrictions.clearMutes();
  for (const s of f.salons) {
    ctx.restrictions.setSlowMode(s.name, s.slowModeSeconds ?? 0);
  }
  // welcome.directs holds the 50 most recent conversations: a full page may have older ones.
  ctx.people.moreConversations.value = (f.directs?.length ?? 0) >= DIRECTS_IN_WELCOME;
  ctx.watcher.newSession(f.user.username);
  if (f.user.role !== "member") {
    ctx.request({ type: "requests" }, { kind: "other" });
    ctx.request({ type: "reports" }, { kind: "other" });
  }
  if (reconnect) {
    for (const key of ctx.messages.loadedKeys()) catchUp(ctx, key);
  }
  const active = ctx.salons.active.value ?? firstSalon(ctx);
  if (active && !ctx.salons.active.value) ctx.salons.active.value = active;
  if (active && !ctx.messages.thread(active).value.loaded) ctx.loadLatest(active);
}

/** Asks for the messages after the newest one held. */
export function catchUp(ctx: ChatContext, key: ConversationKey): void {
  const after = ctx.messages.newest(key);
  const target = key.startsWith("s:") ? { salon: key.slice(2) } : { with: key.slice(2) };
  ctx.request({ type: "history", ...target, after, limit: 200 }, {
    kind: "history",
    key,
    mode: "after",
  });
}

function firstSalon(ctx: ChatContext): ConversationKey | null {
  const s = ctx.salons.salons.value.find((x) => x.policy === "auto") ??
    ctx.salons.salons.value.find((x) => x.member);
  return s ? salonKey(s.name) : null;
}

/** `kicked`: the connection machine stops; the countdown, if any, no longer concerns us. */
export function onKicked(ctx: ChatContext, _f: ServerFrameOf<"kicked">): void {
  ctx.session.countdown.value = null;
}

/** `banned`: as `kicked`. */
export function onBanned(ctx: ChatContext, _f: ServerFrameOf<"banned">): void {
  ctx.session.countdown.value = null;
}

/** `notice`: an announcement. */
export function onNotice(ctx: ChatContext, f: ServerFrameOf<"notice">): void {
  ctx.session.announce({ text: f.text, at: f.at });
}

/** `shutdown`: the countdown banner. */
export function onShutdown(ctx: ChatContext, f: ServerFrameOf<"shutdown">): void {
  ctx.session.countdown.value = { seconds: f.seconds, told: ctx.clock.now() };
}

/** `shutdown_cancelled`: the banner goes. */
export function onShutdownCancelled(ctx: ChatContext, _f: ServerFrameOf<"shutdown_cancelled">) {
  ctx.session.countdown.value = null;
}

/** `pong`: the connection machine already counted it as a sign of life. */
export function onPong(_ctx: ChatContext, _f: ServerFrameOf<"pong">): void {}
