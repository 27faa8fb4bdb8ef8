/**
 * The server machine's side of mutes (PROTOCOL 5.4): the {@link MuteBook}
 * the connections read, kept up to date as mutes are imposed, lifted and run
 * out, and the `muted`/`unmuted` frames to the user's sessions (a session
 * that starts while a mute is in force is told at once). Called by the
 * server machine's named actions; pure, through the sessions.
 *
 * @module
 */

import type { AnyActorRef } from "xstate";
import { mutedEvent, unmutedEvent } from "../protocol/events.ts";
import type { MuteRecord } from "../store/store.ts";
import { type MuteInput, muteSystemId } from "./mute.ts";
import type { LiveMute, MuteBook } from "./mute_book.ts";
import type { Session } from "./session.ts";

/** The events of the server machine about mutes. */
export type MuteServerEvent =
  | {
    type: "TRACK_MUTE";
    mute: MuteRecord;
    username: string;
    /** The salon (name and comparison key); absent for a mute everywhere. */
    salon?: { name: string; key: string };
    /** Mutes this one replaces (already lifted in the store): their actors are lifted. */
    replaced: readonly number[];
  }
  | { type: "LIFT_MUTES"; userId: number; muteIds: readonly number[] }
  | { type: "MUTE_EXPIRED"; mute: MuteRecord };

/** What of the server's context these functions use. */
export interface MuteHolder {
  /** Live sessions by user id. */
  sessions: Map<number, Session[]>;
  /** The mutes in force. */
  mutes: MuteBook;
}

/** The live actors of these mutes (those still running). */
export function muteActors(
  system: { get(id: string): AnyActorRef | undefined },
  ids: readonly number[],
): AnyActorRef[] {
  const refs: AnyActorRef[] = [];
  for (const id of ids) {
    const ref = system.get(muteSystemId(id));
    if (ref) refs.push(ref);
  }
  return refs;
}

/** The input of a mute's actor: it reports its expiry to the server as MUTE_EXPIRED. */
export function muteInput(
  context: { deps: { now(): number } },
  event: Extract<MuteServerEvent, { type: "TRACK_MUTE" }>,
  server: { send(event: MuteServerEvent): void },
): MuteInput {
  return {
    mute: event.mute,
    username: event.username,
    ...(event.salon ? { salon: event.salon.name } : {}),
    now: () => context.deps.now(),
    onExpired: (mute) => server.send({ type: "MUTE_EXPIRED", mute }),
  };
}

/** The `muted` frame of a mute. */
function mutedFrame(m: LiveMute): string {
  return mutedEvent({
    ...(m.salon === undefined ? {} : { salon: m.salon }),
    until: new Date(m.until).toISOString(),
    reason: m.reason,
  });
}

/** One frame to every session of a user. */
function toUser(context: MuteHolder, userId: number, frame: string): void {
  for (const s of context.sessions.get(userId) ?? []) s.send(frame);
}

/** A mute is in force: into the book (replacing that salon's), `muted` to the user's sessions. */
export function putMute(
  context: MuteHolder,
  event: Extract<MuteServerEvent, { type: "TRACK_MUTE" }>,
) {
  const { mute, salon } = event;
  const live: LiveMute = {
    id: mute.id,
    until: mute.until,
    reason: mute.reason,
    ...(salon ? { salon: salon.name } : {}),
  };
  context.mutes.set(mute.userId, salon?.key ?? null, live);
  toUser(context, mute.userId, mutedFrame(live));
}

/** Mutes lifted (already in the store): out of the book, `unmuted` to the user's sessions. */
export function dropMutes(context: MuteHolder, userId: number, ids: readonly number[]): void {
  for (const id of ids) {
    const removed = context.mutes.remove(userId, id);
    if (removed) toUser(context, userId, unmutedEvent(removed.salon));
  }
}

/** A mute ran out: out of the book (unless replaced meanwhile), `unmuted` to the user's sessions. */
export function expireMute(context: MuteHolder, mute: MuteRecord): void {
  dropMutes(context, mute.userId, [mute.id]);
}

/** A new session of a muted user hears of each mute in force. */
export function tellMutes(context: MuteHolder, session: Session, now: number): void {
  if (!context.mutes.has(session.user.id)) return;
  for (const m of context.mutes.of(session.user.id, now)) session.send(mutedFrame(m));
}
