/**
 * The connection machine's mute check (PROTOCOL 5.4): a `say` or `direct`
 * of a muted user is refused with `error muted` and the end of the mute, at
 * the cost of one Map look-up for a user who is not muted (the server's
 * {@link MuteBook}, no store read). Guard and action of the machine; pure.
 *
 * @module
 */

import { errorEvent } from "../protocol/events.ts";
import { nameKey } from "../protocol/names.ts";
import { frameOf, refOf } from "./connection_frames.ts";
import type { ConnectionAction, ConnectionContext, ConnectionEvent } from "./connection_types.ts";

/**
 * When the sender of a `say` (in its salon) or `direct` (a mute everywhere
 * only) may write again; undefined when not muted.
 */
export function chatMutedUntil(
  context: ConnectionContext,
  event: ConnectionEvent,
): number | undefined {
  const book = context.mutes;
  const userId = context.session?.user.id;
  if (!book || userId === undefined || !book.has(userId)) return undefined;
  const frame = frameOf(event);
  const salonKey = frame.type === "say" ? nameKey(frame.salon) : null;
  return book.mutedUntil(userId, salonKey, context.deps.now());
}

/** The mute refusal, by action name. */
export const muteRefusals = {
  /** `error muted` with `until` at the top level; no token of the message bucket is used. */
  refuseMuted: ({ context, event }) => {
    const until = chatMutedUntil(context, event);
    const iso = new Date(until ?? context.deps.now()).toISOString();
    const frame = frameOf(event);
    context.socket.send(errorEvent(
      "muted",
      frame.type === "say"
        ? `you are muted in ${frame.salon.slice(0, 64)} until ${iso}; you can still read`
        : `you are muted until ${iso}: no direct messages either; you can still read`,
      refOf(event),
      iso,
    ));
  },
} satisfies Record<string, ConnectionAction>;
