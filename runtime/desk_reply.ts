/**
 * How a desk's failed work for one frame reaches the client: a
 * `ProtocolError` becomes the `error` frame it describes (with `until` when
 * it has one); anything else is logged with its stack and answered
 * `internal`, "try again". Shared by the moderation desk and the message desk.
 *
 * @module
 */

import type { Session } from "../actors/session.ts";
import type { Logger } from "../lib/log.ts";
import { ProtocolError } from "../protocol/errors.ts";
import { errorEvent } from "../protocol/events.ts";

/** The `catch` handler of the work done for `frame` on `session`; `event` names it in the log. */
export function replyOnFailure(
  log: Logger,
  session: Session,
  frame: { type: string; ref?: string },
  event: string,
): (e: unknown) => void {
  return (e) => {
    if (e instanceof ProtocolError) {
      session.send(errorEvent(e.code, e.message, frame.ref, e.extra.until));
      return;
    }
    log.error(`${frame.type} failed`, {
      event,
      conn: session.id,
      user: session.user.username,
      error: e,
    });
    session.send(errorEvent("internal", `${frame.type} failed; try again`, frame.ref));
  };
}
