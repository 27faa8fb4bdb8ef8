/**
 * The server machine's part of presence at scale and typing (PROTOCOL 5.1,
 * 5.3): flushing a presence window through the {@link PresenceDesk}, the
 * `watch` list and its reply, and the relay of `typing` in a direct
 * conversation. Called by the server machine's named actions. Pure: effects
 * go through the sessions and the deps in the context.
 *
 * @module
 */

import { errorEvent, typingEvent, watchReplyEvent } from "../protocol/events.ts";
import type { UserSummary } from "../store/store.ts";
import {
  type OnlineMembers,
  PRESENCE_UNSENT_BYTES,
  type PresenceChange,
  type PresenceDesk,
} from "./presence.ts";
import type { RecentTimes } from "./recent_times.ts";
import type { SalonEvent } from "./salon.ts";
import type { Session } from "./session.ts";

/** At most one `typing` per user and conversation is relayed per this long, ms (PROTOCOL 5.3). */
export const DIRECT_TYPING_INTERVAL_MS = 3 * 1000;

/** What the server knows of a salon actor: it sends it events and reads its presence mode. */
export interface SalonPort {
  /** Delivers an event to the salon. */
  send(event: SalonEvent): void;
  /** The salon's state: whether it is large, and its online members. */
  getSnapshot(): { context: { large: boolean; online: OnlineMembers } };
}

/** The part of the server's context presence and typing use. */
export interface PresenceContext {
  /** Live sessions by user id. */
  sessions: Map<number, Session[]>;
  /** Presence changes since the last `presence` frame, by user id (final status only). */
  changes: Map<number, PresenceChange>;
  /** Watch lists, held changes, and the planner of each window. */
  presence: PresenceDesk;
  /** When a `typing` was last relayed, by `sender id:recipient id`. */
  typed: RecentTimes<string>;
  /** Users online on another instance (issue 15; empty or absent in one process). */
  elsewhere?: ReadonlySet<number>;
  /** Effects. */
  deps: {
    /** The salon actors a user is a member of. */
    salonsOf(userId: number): Iterable<SalonPort>;
    /** The user with this name (any case or accent form), if registered. */
    knownUser?(name: string): UserSummary | undefined;
    /** The clock, epoch ms. */
    now(): number;
    /**
     * Several instances: a direct `typing` relayed here (within the 3 s limit,
     * kept on the typer's instance) goes to the recipient's sessions elsewhere.
     */
    typingElsewhere?(toUserId: number, from: { username: string; alias: string }): void;
  };
}

/** The online members of each small salon `userId` belongs to. */
function* pushSalons(context: PresenceContext, userId: number): Iterable<OnlineMembers> {
  for (const salon of context.deps.salonsOf(userId)) {
    const snapshot = salon.getSnapshot().context;
    if (!snapshot.large) yield snapshot.online;
  }
}

/**
 * Sends one window of presence: every change since the last window to the
 * sessions that share a small salon with the changed user or watch them, one
 * serialization per distinct list of changes; a session whose socket is
 * full waits and later gets everything it missed in one frame.
 */
export function flushPresence(context: PresenceContext): void {
  const changes = context.changes;
  context.changes = new Map();
  const deliveries = context.presence.plan(changes, {
    pushSalons: (userId) => pushSalons(context, userId),
    full: (s) => (s.unsent?.() ?? 0) > PRESENCE_UNSENT_BYTES,
  });
  for (const { frame, sessions } of deliveries) for (const s of sessions) s.send(frame);
}

/**
 * Replaces the watch list of `session` (unknown names ignored) and answers
 * `presence` with the current status of each user new on the list. A session
 * that has ended meanwhile is ignored.
 */
export function applyWatch(
  context: PresenceContext,
  session: Session,
  ref: string | undefined,
  names: string[],
): void {
  if (!context.sessions.get(session.user.id)?.includes(session)) return;
  const users = new Map<number, UserSummary>();
  for (const name of names) {
    const user = context.deps.knownUser?.(name);
    if (user) users.set(user.id, user);
  }
  const added = context.presence.watch(session, users.keys());
  session.send(watchReplyEvent(
    added.map((id) => ({
      username: users.get(id)!.username,
      status: context.sessions.has(id) || context.elsewhere?.has(id) ? "online" : "offline",
    })),
    ref,
  ));
}

/**
 * `typing` in a direct conversation: the other side's sessions get it, at
 * most once per 3 s per sender and recipient (more are dropped silently);
 * typing to oneself is dropped; an unknown user is `error unknown_user`.
 */
export function relayDirectTyping(
  context: PresenceContext,
  session: Session,
  ref: string | undefined,
  to: string,
): void {
  const target = context.deps.knownUser?.(to);
  if (!target) {
    session.send(errorEvent("unknown_user", `there is no user named "${to.slice(0, 64)}"`, ref));
    return;
  }
  const from = session.user;
  if (target.id === from.id) return;
  const key = `${from.id}:${target.id}`;
  const now = context.deps.now();
  if (context.typed.recent(key, now)) return;
  context.typed.set(key, now);
  const frame = typingEvent({ with: from.username }, {
    username: from.username,
    alias: from.alias,
  });
  for (const s of context.sessions.get(target.id) ?? []) s.send(frame);
  context.deps.typingElsewhere?.(target.id, { username: from.username, alias: from.alias });
}
