/**
 * The salon's part of presence at scale and typing (PROTOCOL 5.1, 5.3): the
 * `who` page read from the sorted roster, the `salon_stats` counts and their
 * delivery, and the relay of `typing`. Called by the salon machine's named
 * guards and actions.
 *
 * @module
 */

import { salonStatsEvent, typingEvent, type WhoUser } from "../protocol/events.ts";
import type { UserSummary } from "../store/store.ts";
import type { SalonContext, SalonStats } from "./salon_types.ts";
import type { Session } from "./session.ts";

/** `salon_stats` goes out at most once per this long per salon, ms (PROTOCOL 5.1). */
export const SALON_STATS_INTERVAL_MS = 10 * 1000;

/** At most one `typing` per user and salon is relayed per this long, ms (PROTOCOL 5.3). */
export const TYPING_INTERVAL_MS = 3 * 1000;

/**
 * A `who` page (PROTOCOL 5.1): online members first, then (unless `status`
 * is `online`) the others, each part by username, at most `limit` of them;
 * `more` says that more members matched. Reads the sorted roster, so it never
 * sorts the whole membership: it stops once `limit` are found, and when few
 * members are online it sorts just those.
 */
export function whoPage(
  context: SalonContext,
  status: "online" | undefined,
  limit: number,
): { users: WhoUser[]; more: boolean; online: number; members: number } {
  const online = context.online.size;
  const members = context.members.size;
  const users: WhoUser[] = [];
  const entry = (u: UserSummary, s: "online" | "offline") => ({
    username: u.username,
    alias: u.alias,
    status: s,
  });
  if (online * 8 < context.roster.size) {
    const present = [...context.online.keys()].map((id) => context.members.get(id)!)
      .filter((u) => u !== undefined)
      .sort((a, b) => byUsername(a.username, b.username));
    for (const u of present.slice(0, limit)) users.push(entry(u, "online"));
  } else {
    for (const u of context.roster) {
      if (users.length >= limit) break;
      if (context.online.has(u.id)) users.push(entry(u, "online"));
    }
  }
  if (status !== "online") {
    for (const u of context.roster) {
      if (users.length >= limit) break;
      if (!context.online.has(u.id)) users.push(entry(u, "offline"));
    }
  }
  const matched = status === "online" ? online : members;
  return { users, more: matched > users.length, online, members };
}

/** The roster's order: usernames compared lower-cased. */
function byUsername(a: string, b: string): number {
  const ka = a.toLowerCase(), kb = b.toLowerCase();
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** The `salon_stats` counts of a salon now. */
export function statsOf(context: SalonContext): SalonStats {
  return {
    online: context.online.size,
    members: context.members.size,
    presence: context.large ? "watch" : "push",
  };
}

/** Whether the counts differ from the last `salon_stats` sent. */
export function statsChanged(context: SalonContext): boolean {
  const now = statsOf(context);
  const sent = context.statsSent;
  return now.online !== sent.online || now.members !== sent.members ||
    now.presence !== sent.presence;
}

/** `salon_stats`, serialized once, to every connected member; remembers what was sent. */
export function sendStats(context: SalonContext): void {
  const stats = statsOf(context);
  context.statsSent = stats;
  const frame = salonStatsEvent({ salon: context.salon.name, ...stats });
  for (const sessions of context.online.values()) for (const s of sessions) s.send(frame);
}

/** `typing` from `session`'s user to the salon's other connected members, at `now`. */
export function relayTyping(context: SalonContext, session: Session, now: number): void {
  const from = session.user;
  context.typed.set(from.id, now);
  const frame = typingEvent({ salon: context.salon.name }, {
    username: from.username,
    alias: from.alias,
  });
  for (const [userId, sessions] of context.online) {
    if (userId === from.id) continue;
    for (const s of sessions) s.send(frame);
  }
}

/**
 * Several instances (issue 15): a member online on another instance stays
 * in `online` (with no session here) while the server says so; one with no
 * session anywhere leaves it. The server's view wins over the event's flag,
 * which may be older.
 */
export function applyPresenceElsewhere(
  context: SalonContext,
  event: { userId: number; online: boolean },
): void {
  const { userId } = event;
  if (!context.members.has(userId)) return;
  const online = context.deps.onlineElsewhere?.(userId) ?? event.online;
  const set = context.online.get(userId);
  if (online && !set) context.online.set(userId, new Set());
  else if (!online && set && set.size === 0) context.online.delete(userId);
}
