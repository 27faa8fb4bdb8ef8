/**
 * What the connection machine reads from frame events (the frame, its ref
 * and size) and the salon requests it builds from frames. Pure.
 *
 * @module
 */

import { type ClientFrame, HISTORY_DEFAULT } from "../protocol/frames.ts";
import type { HistoryQuery } from "../store/store.ts";
import type { ConnectionEvent, SalonRequest } from "./connection_types.ts";
import type { Session } from "./session.ts";

/** Size in bytes of a frame event (0 when the route did not say). */
export function bytesOf(event: ConnectionEvent): number {
  return event.type === "FRAME" || event.type === "BAD_FRAME" ? event.bytes ?? 0 : 0;
}

/** The frame of a FRAME event. */
export function frameOf(event: ConnectionEvent): ClientFrame {
  return (event as Extract<ConnectionEvent, { type: "FRAME" }>).frame;
}

/** The `ref` of a frame event, parsed or not. */
export function refOf(event: ConnectionEvent): string | undefined {
  if (event.type === "FRAME") return event.frame.ref;
  return event.type === "BAD_FRAME" ? event.ref : undefined;
}

/** The store query of a `history` frame: `before` or `after` (never both), and the limit. */
export function historyQuery(frame: Extract<ClientFrame, { type: "history" }>): HistoryQuery {
  const query: HistoryQuery = { before: frame.before, limit: frame.limit ?? HISTORY_DEFAULT };
  if (frame.after !== undefined) query.after = frame.after;
  return query;
}

/**
 * The salon request a join, leave, who, history, read or typing frame stands
 * for (undefined for others).
 */
export function salonRequest(frame: ClientFrame, session: Session): SalonRequest | undefined {
  switch (frame.type) {
    case "join":
      return { type: "JOIN", session, ref: frame.ref };
    case "leave":
      return { type: "LEAVE", session, ref: frame.ref };
    case "who":
      return {
        type: "WHO",
        session,
        ref: frame.ref,
        ...(frame.status === undefined ? {} : { status: frame.status }),
        ...(frame.limit === undefined ? {} : { limit: frame.limit }),
      };
    case "typing":
      return { type: "TYPING", session, ref: frame.ref };
    case "history":
      return {
        type: "HISTORY",
        session,
        ref: frame.ref,
        query: historyQuery(frame),
      };
    case "read":
      return { type: "READ", session, ref: frame.ref, id: frame.id };
  }
  return undefined;
}
