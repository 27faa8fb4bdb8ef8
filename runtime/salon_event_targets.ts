/**
 * Where the salon events of other instances land on this one (issue 15):
 * join requests, their end and `typing` go to the salon's actor (as events
 * of its replica), a `read` marker to the user's sessions here, `edited` and
 * `deleted` to the salon's online members here, a slow mode to the salon's
 * record and actor. Every frame is built by the same builders as where the
 * event happened, so it is byte for byte what one process sends.
 *
 * @module
 */

import { readEvent } from "../protocol/events.ts";
import { deletedEvent, editedEvent } from "../protocol/edit_events.ts";
import type { Session } from "../actors/session.ts";
import type { HubContext } from "./hub_context.ts";
import type { SalonEventPayload } from "./salon_events.ts";

/** Applies a salon event of another instance to salon `salonId` here. */
export function deliverSalonEvent(
  ctx: HubContext,
  salonId: number,
  event: SalonEventPayload,
): void {
  const salon = ctx.salons.get(salonId);
  const ref = salon ? ctx.salonRef(salon.key) : undefined;
  if (!salon || !ref) return;
  const toOnline = (frame: string) => {
    const online = (ref.getSnapshot().context as { online: Map<number, Set<Session>> }).online;
    for (const sessions of online.values()) for (const s of sessions) s.send(frame);
  };
  // An `edited`/`deleted` never overtakes its message: it waits while the message does (a gap).
  const afterMessage = (id: number, frame: string) => {
    const send = () => toOnline(frame);
    if (!ctx.salonRelay?.()?.afterDelivered(salonId, id, send)) send();
  };
  if ("news" in event) {
    const news = event.news;
    if ("requested" in news) {
      ctx.users.remember(news.requested);
      ref.send({ type: "REQUESTED_ELSEWHERE", user: news.requested, since: news.since });
    } else if ("closed" in news) {
      ref.send({ type: "REQUEST_CLOSED_ELSEWHERE", userId: news.closed, outcome: news.outcome });
    } else if ("typing" in news) ref.send({ type: "TYPED_ELSEWHERE", user: news.typing });
    else {
      const frame = readEvent({ salon: salon.name }, news.id);
      for (const s of ctx.sessionsOf(news.read)) s.send(frame);
    }
  } else if ("edited" in event) {
    const { id, text, editedAt, mentions } = event.edited;
    afterMessage(
      id,
      editedEvent({ salon: salon.name }, id, text, new Date(editedAt).toISOString(), mentions),
    );
  } else if ("deleted" in event) {
    afterMessage(event.deleted, deletedEvent({ salon: salon.name }, event.deleted));
  } else {
    salon.slowModeSeconds = event.slowMode;
    ref.send({ type: "SET_SLOW_MODE", seconds: event.slowMode });
  }
}
