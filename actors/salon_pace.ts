/**
 * Slow mode of a salon (PROTOCOL 5.4): a member other than moderators and
 * admins may `say` once per `slowModeSeconds`; a `say` too early is refused
 * with `error slow_mode` and `retryAfter` (whole seconds, rounded up), and
 * the token the connection took from the user's message bucket is given
 * back. Guards and actions of the salon machine (actors/salon.ts spreads
 * them into its `setup()`); pure, through the sessions and the salon's deps.
 *
 * @module
 */

import { errorEvent, salonSettingsEvent } from "../protocol/events.ts";
import { nameKey } from "../protocol/names.ts";
import { RecentTimes } from "./recent_times.ts";
import type { SalonContext, SalonEvent } from "./salon_types.ts";

type SayEvent = Extract<SalonEvent, { type: "SAY" }>;

/** A salon action or guard's arguments. */
interface Args {
  context: SalonContext;
  event: SalonEvent;
}

/** The times of the last `say` of each paced member, or undefined when slow mode is off. */
export function pacing(seconds: number): RecentTimes | undefined {
  return seconds > 0 ? new RecentTimes(seconds * 1000) : undefined;
}

/** Whether slow mode applies to the sender of `event` (a member; not a moderator or admin). */
function paced(context: SalonContext, event: SalonEvent): event is SayEvent {
  return context.paced !== undefined && event.type === "SAY" &&
    event.session.user.role === "member";
}

/** The slow-mode guards, by name. */
export const paceGuards = {
  /** Slow mode is on, the sender is a plain member and spoke here less than its interval ago. */
  tooSoon: ({ context, event }: Args) =>
    paced(context, event) && context.paced!.recent(event.session.user.id, context.deps.now()),
};

/** The slow-mode actions, by name. */
export const paceActions = {
  /** Remembers when a paced member's `say` was accepted. */
  noteSaid: ({ context, event }: Args) => {
    if (paced(context, event)) context.paced!.set(event.session.user.id, context.deps.now());
  },
  /** `error slow_mode` with `retryAfter`; the message token is given back. */
  replySlowMode: ({ context, event }: Args) => {
    const { session, ref } = event as SayEvent;
    const now = context.deps.now();
    const until = context.paced?.until(session.user.id, now) ?? now;
    const retryAfter = Math.max(1, Math.ceil((until - now) / 1000));
    context.deps.refundMessageToken?.(session.user.id);
    session.send(errorEvent(
      "slow_mode",
      `${context.salon.name} is in slow mode: one message every ${context.slowModeSeconds} ` +
        `seconds; send it again in ${retryAfter} second${retryAfter === 1 ? "" : "s"}`,
      ref,
      undefined,
      retryAfter,
    ));
  },
  /**
   * A new slow mode (already stored): members' waits start afresh, and every
   * connected member gets `salon_settings`.
   */
  applySlowMode: ({ context, event }: Args) => {
    const { seconds } = event as Extract<SalonEvent, { type: "SET_SLOW_MODE" }>;
    context.slowModeSeconds = seconds;
    context.paced = pacing(seconds);
    const frame = salonSettingsEvent(context.salon.name, seconds);
    for (const sessions of context.online.values()) for (const s of sessions) s.send(frame);
  },
};

/**
 * Several instances (issue 15): the `say`s of paced members accepted on
 * other instances count here too, at their commit time, so that a member
 * with sessions on two instances speaks once per interval in all. A time
 * already recorded and later (this instance's own `say`) is kept.
 */
export function notePacedElsewhere(
  context: SalonContext,
  messages: ReadonlyArray<{ at: number; from: { username: string } }>,
): void {
  const paced = context.paced;
  if (!paced) return;
  const windowMs = context.slowModeSeconds * 1000;
  const now = context.deps.now();
  for (const m of messages) {
    const user = context.memberKeys.get(nameKey(m.from.username));
    if (!user || user.role !== "member") continue;
    const until = paced.until(user.id, now);
    if (until === undefined || until - windowMs < m.at) paced.set(user.id, m.at);
  }
}
