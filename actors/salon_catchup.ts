/**
 * The salon machine's answers that read or move what a member has seen
 * (PROTOCOL.md 2.2 and 5.2): a page of history (before or after an id, cut to
 * 256 KiB of frame) and a `read` marker. Effects go through the salon's deps;
 * the machine calls these from its named actions.
 *
 * @module
 */

import { errorEvent, okEvent, readEvent } from "../protocol/events.ts";
import { cappedHistoryEvent, HISTORY_REPLY_MAX_BYTES } from "../protocol/history_reply.ts";
import type { SalonContext, SalonEvent } from "./salon_types.ts";
import { historyItems } from "./salon_views.ts";

type E<T extends SalonEvent["type"]> = Extract<SalonEvent, { type: T }>;

/**
 * `history`: read from the store, answered when it comes back, cut to 256 KiB
 * of frame keeping the messages nearest to the cursor (the newest of the page
 * paging back with `before`, the oldest catching up with `after`).
 */
export function replyHistory(context: SalonContext, event: E<"HISTORY">): void {
  const { session, ref, query } = event;
  const name = context.salon.name;
  const direction = query.after === undefined ? "before" : "after";
  context.deps.history(context.salon.id, query).then(
    (page) =>
      session.send(
        cappedHistoryEvent(
          { salon: name },
          historyItems(name, page),
          page.more,
          ref,
          HISTORY_REPLY_MAX_BYTES,
          direction,
        ),
      ),
    (e) => {
      context.deps.reportError(`history of ${name} failed: ${e}`);
      session.send(errorEvent("internal", "history could not be read; try again", ref));
    },
  );
}

/**
 * `read` from a member: the marker moves forward in the store; `ok` with the
 * marker now held, and `read` to the user's other sessions when it moved. An
 * id above the newest ever handed out in the salon is refused (`invalid`),
 * nothing stored.
 */
export function replyRead(context: SalonContext, event: E<"READ">): void {
  const { session, ref, id } = event;
  const name = context.salon.name;
  if (!context.deps.markRead) {
    session.send(errorEvent("internal", "read markers are not available", ref));
    return;
  }
  context.deps.markRead(context.salon.id, session.user.id, id).then(
    ({ outcome, lastRead, latest }) => {
      if (outcome === "beyond") {
        session.send(errorEvent(
          "invalid",
          `${name} has no message ${id} (its newest id is ${latest}); ` +
            `send the id of a message you received`,
          ref,
        ));
        return;
      }
      session.send(okEvent(ref, { id: lastRead }));
      if (outcome !== "moved") return;
      const frame = readEvent({ salon: name }, lastRead);
      for (const s of context.deps.sessionsOf(session.user.id)) if (s !== session) s.send(frame);
      // Several instances: the user's sessions elsewhere get it too.
      context.deps.relayNews?.(context.salon.id, { read: session.user.id, id: lastRead });
    },
    (e) => {
      context.deps.reportError(`read marker in ${name} failed: ${e}`);
      session.send(errorEvent("internal", "the read marker could not be stored; try again", ref));
    },
  );
}
