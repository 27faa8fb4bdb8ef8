/**
 * What a `welcome` tells about catching up (PROTOCOL.md 5.2): for each member
 * salon its newest id, the user's read marker, the unread and mention counts;
 * and the user's most recent direct conversations. Read from the store while
 * the hello is checked (indexed reads only), merged into the welcome when it
 * is sent.
 *
 * @module
 */

import type { ConversationItem, SalonCatchupFields, WelcomeCatchup } from "../protocol/events.ts";
import { CONVERSATIONS_DEFAULT } from "../protocol/frames.ts";
import type { SalonView } from "../protocol/http.ts";
import type { ConversationSummary, SalonCatchup } from "../store/store.ts";
import type { HubContext } from "./hub_context.ts";

/** A conversation as clients see it. */
export function conversationItem(c: ConversationSummary): ConversationItem {
  return {
    with: { username: c.other.username, alias: c.other.alias },
    latest: c.latest,
    lastRead: c.lastRead,
    unread: c.unread,
    at: new Date(c.at).toISOString(),
  };
}

/**
 * Unread messages that mention the user in each salon (above its marker), at
 * most 1000 each, by salon id: one indexed count per salon with unread
 * messages (`Store.unreadMentions`); a salon with none unread has none.
 */
export async function unreadMentionCounts(
  ctx: HubContext,
  userId: number,
  salons: readonly SalonCatchup[],
): Promise<Map<number, number>> {
  const behind = salons.filter((s) => s.unread > 0);
  const counts = behind.length === 0 ? new Map<number, number>() : await ctx.store.unreadMentions(
    userId,
    behind.map((s) => ({ salonId: s.salonId, after: s.lastRead })),
  );
  return new Map(salons.map((s): [number, number] => [s.salonId, counts.get(s.salonId) ?? 0]));
}

/** The ids of the salons `userId` is a member of (the hub's membership index). */
function memberSalonIds(ctx: HubContext, userId: number): number[] {
  const keys = ctx.memberships.salonsOf(userId);
  return [...ctx.salons.values()].filter((s) => keys.has(s.key)).map((s) => s.id);
}

/** Reads what the welcome of `userId` tells about catching up. */
export async function loadWelcomeCatchup(
  ctx: HubContext,
  userId: number,
): Promise<WelcomeCatchup> {
  const [salons, page] = await Promise.all([
    ctx.store.salonCatchup(userId, memberSalonIds(ctx, userId)),
    ctx.store.conversations(userId, { limit: CONVERSATIONS_DEFAULT }),
  ]);
  const mentions = await unreadMentionCounts(ctx, userId, salons);
  const byName = new Map<string, SalonCatchupFields>();
  for (const s of salons) {
    const salon = ctx.salons.get(s.salonId);
    if (!salon) continue;
    byName.set(salon.name, {
      latest: s.latest,
      lastRead: s.lastRead,
      unread: s.unread,
      mentions: mentions.get(s.salonId) ?? 0,
    });
  }
  return { salons: byName, directs: page.conversations.map(conversationItem) };
}

/** The welcome's salons: each member salon read for this welcome gains its catch-up fields. */
export function welcomeSalons(
  views: SalonView[],
  catchup: WelcomeCatchup | undefined,
): Array<SalonView | (SalonView & SalonCatchupFields)> {
  if (!catchup) return views;
  return views.map((v) => {
    const fields = v.member ? catchup.salons.get(v.name) : undefined;
    return fields ? { ...v, ...fields } : v;
  });
}
