/**
 * The root actor (system id `server`): spawns one salon actor per salon
 * (connection actors are started beside it by {@link startConnection}), keeps the registry of live sessions
 * (enforcing the per-user session limit), delivers direct messages once
 * committed, and coalesces presence changes into at most one `presence`
 * frame per second per session. Who gets which change, the watch lists and
 * `typing` in direct conversations are in server_presence.ts and presence.ts.
 *
 * Pure: every effect goes through `deps` (given as input).
 *
 * @module
 */

import {
  type Actor,
  type ActorRefFrom,
  createActor,
  enqueueActions,
  fromPromise,
  sendTo,
  setup,
} from "xstate";
import { directEvent, errorEvent, okEvent } from "../protocol/events.ts";
import { connectionMachine, HISTORY_RATE, MEMBERSHIP_RATE, type SocketPort } from "./connection.ts";
import { TokenBuckets } from "../lib/token_bucket.ts";
import { salonMachine } from "./salon.ts";
import type { Role, SanctionRecord } from "../store/store.ts";
import { PresenceDesk, WATCH_RATE } from "./presence.ts";
import { RecentTimes } from "./recent_times.ts";
import {
  applyWatch,
  DIRECT_TYPING_INTERVAL_MS,
  flushPresence,
  relayDirectTyping,
} from "./server_presence.ts";
import { sanctionMachine } from "./sanction.ts";
import { MuteBook } from "./mute_book.ts";
import { muteMachine, muteSystemId } from "./mute.ts";
import {
  dropMutes,
  expireMute,
  muteActors,
  muteInput,
  putMute,
  tellMutes,
} from "./server_mutes.ts";
import { revokes } from "./session.ts";
import { shutdownMachine } from "./shutdown.ts";

export type {
  DirectResult,
  ServerContext,
  ServerDeps,
  ServerEvent,
  ServerInput,
} from "./server_types.ts";
import type { ServerContext, ServerDeps, ServerEvent, ServerInput } from "./server_types.ts";
export { PRESENCE_UNSENT_BYTES, type PresenceChange } from "./presence.ts";
export type { SalonPort } from "./server_presence.ts";

type E<T extends ServerEvent["type"]> = Extract<ServerEvent, { type: T }>;

/** The system id of the actor of a sanction. */
export function sanctionSystemId(id: number): string {
  return `sanction:${id}`;
}

/** The system id of a salon actor, from the salon's comparison key. */
export function salonSystemId(key: string): string {
  return `salon:${key}`;
}

/** The server machine. */
export const serverMachine = setup({
  types: {
    context: {} as ServerContext,
    events: {} as ServerEvent,
    input: {} as ServerInput,
  },
  actors: {
    salon: salonMachine,
    sanction: sanctionMachine,
    shutdown: shutdownMachine,
    mute: muteMachine,
    /** Drains the server through the injected effect. */
    drain: fromPromise<void, { deps: ServerDeps }>(({ input }) => input.deps.drain()),
  },
  delays: {
    /** Shortest interval between two presence frames. */
    presenceInterval: ({ context }) => context.presenceIntervalMs,
  },
  guards: {
    /** Presence changes are waiting, or sessions wait for the changes they missed. */
    hasPresenceChanges: ({ context }) =>
      context.changes.size > 0 || context.presence.heldSessions > 0,
    /** The countdown ended by being cancelled. */
    wasCancelled: ({ event }) =>
      (event as unknown as { output?: { outcome?: string } }).output?.outcome === "cancelled",
  },
  actions: {
    /** Spawns one actor per salon, registered under `salon:<key>`. */
    spawnSalons: enqueueActions(({ context, enqueue }) => {
      for (const input of context.salons) {
        const id = salonSystemId(input.salon.key);
        enqueue.spawnChild("salon", { id, systemId: id, input });
      }
    }),
    /**
     * Registers a session, tells its salons, records presence when it is the
     * user's first, and replaces the oldest session beyond the limit.
     */
    registerSession: enqueueActions(({ context, event, enqueue, system }) => {
      const { session } = event as E<"SESSION_UP">;
      const uid = session.user.id;
      let list = context.sessions.get(uid);
      if (!list) context.sessions.set(uid, list = []);
      list.push(session);
      for (const salon of context.deps.salonsOf(uid)) salon.send({ type: "SESSION_UP", session });
      if (list.length === 1 && !context.elsewhere.has(uid)) {
        context.changes.set(uid, { username: session.user.username, status: "online" });
        enqueue.raise({ type: "PRESENCE_CHANGED" });
      }
      for (let i = 0; i < list.length - context.maxSessions; i++) {
        const oldest = system.get(list[i].id);
        if (oldest) enqueue.sendTo(oldest, { type: "REPLACED" });
      }
    }),
    /** Forgets a session, tells its salons, records presence when it was the user's last. */
    unregisterSession: enqueueActions(({ context, event, enqueue }) => {
      const { session } = event as E<"SESSION_DOWN">;
      const uid = session.user.id;
      const list = context.sessions.get(uid);
      if (!list) return;
      const i = list.indexOf(session);
      if (i < 0) return;
      list.splice(i, 1);
      context.presence.forget(session);
      for (const salon of context.deps.salonsOf(uid)) {
        salon.send({ type: "SESSION_DOWN", session });
      }
      if (list.length === 0) {
        context.sessions.delete(uid);
        if (context.elsewhere.has(uid)) return; // still online on another instance
        context.changes.set(uid, { username: session.user.username, status: "offline" });
        enqueue.raise({ type: "PRESENCE_CHANGED" });
      }
    }),
    /**
     * One window of presence: each change to the sessions that share a small
     * salon with its user or watch them, serialized once per group of
     * sessions getting the same changes; a full socket waits (server_presence.ts).
     */
    flushPresence: ({ context }) => flushPresence(context),
    /** Replaces a session's watch list; `presence` with the new names' status. */
    applyWatch: ({ context, event }) => {
      const { session, ref, users } = event as E<"WATCH">;
      applyWatch(context, session, ref, users);
    },
    /** `typing` to the other side of a direct conversation (3 s per pair). */
    relayDirectTyping: ({ context, event }) => {
      const { session, ref, to } = event as E<"TYPING_TO">;
      relayDirectTyping(context, session, ref, to);
    },
    /**
     * A child actor failed (a bug): log it, close its socket (1011), forget
     * its session, and stop it, so that one failure never takes the server down.
     */
    recoverFromChildFailure: enqueueActions(({ context, event, enqueue, self }) => {
      const failure = event as unknown as { type: string; error: unknown };
      const id = failure.type.slice("xstate.error.actor.".length);
      context.deps.reportError(
        `actor ${id} failed: ${
          failure.error instanceof Error ? failure.error.stack : String(failure.error)
        }`,
      );
      const child = self.getSnapshot().children[id];
      if (child) {
        const ctx = child.getSnapshot()?.context as { socket?: SocketPort } | undefined;
        ctx?.socket?.close(1011, "internal error; reconnect");
        enqueue.stopChild(id);
      }
      // A connection actor (not a child: see startConnection) has already closed its socket.
      for (const list of context.sessions.values()) {
        const session = list.find((s) => s.id === id);
        if (session) enqueue.raise({ type: "SESSION_DOWN", session });
      }
    }),
    /** Starts the actor of a sanction in force. */
    spawnSanction: enqueueActions(({ context, event, enqueue }) => {
      const { sanction, username } = event as E<"TRACK_SANCTION">;
      const id = sanctionSystemId(sanction.id);
      enqueue.spawnChild("sanction", {
        id,
        systemId: id,
        input: {
          sanction,
          username,
          now: () => context.deps.now(),
          onExpired: (s: SanctionRecord) => context.deps.sanctionExpired?.(s),
        },
      });
    }),
    /** Lifts every live sanction of a user. */
    liftSanctions: enqueueActions(({ event, enqueue, self }) => {
      const { userId } = event as E<"LIFT_SANCTIONS">;
      for (const [id, child] of Object.entries(self.getSnapshot().children)) {
        if (!id.startsWith("sanction:") || !child) continue;
        const ref = child as ActorRefFrom<typeof sanctionMachine>;
        if (ref.getSnapshot()?.context.sanction.userId === userId) {
          enqueue.sendTo(ref, { type: "LIFT" });
        }
      }
    }),
    /** `kicked`/`banned` to every session of a user, each then closed with 4403. */
    punish: enqueueActions(({ context, event, enqueue, system }) => {
      const { userId, frame } = event as E<"PUNISH">;
      for (const session of context.sessions.get(userId) ?? []) {
        const connection = system.get(session.id) as
          | ActorRefFrom<typeof connectionMachine>
          | undefined;
        if (connection) enqueue.sendTo(connection, { type: "SANCTIONED", frame });
      }
    }),
    /** Closes (4401) the sessions of a user whose credentials were revoked. */
    revokeSessions: enqueueActions(({ context, event, enqueue, system }) => {
      const { revocation } = event as E<"REVOKE_SESSIONS">;
      for (const session of context.sessions.get(revocation.userId) ?? []) {
        if (!revokes(revocation, session.user.id, session.tokenHash)) continue;
        const connection = system.get(session.id) as
          | ActorRefFrom<typeof connectionMachine>
          | undefined;
        if (connection) enqueue.sendTo(connection, { type: "REVOKED", reason: revocation.reason });
      }
    }),
    /** One frame to every session. */
    broadcast: ({ context, event }) => {
      const { frame } = event as E<"BROADCAST">;
      for (const list of context.sessions.values()) for (const s of list) s.send(frame);
    },
    /** A new role for the live sessions of a user. */
    applyRole: ({ context, event }) => {
      const { userId, role } = event as E<"ROLE_CHANGED">;
      for (const s of context.sessions.get(userId) ?? []) {
        (s.user as { role: Role }).role = role;
      }
    },
    /** A finished child (a closed connection, an ended sanction) leaves the tree. */
    forgetFinishedChild: enqueueActions(({ event, enqueue, self }) => {
      const id = event.type.slice("xstate.done.actor.".length);
      if (self.getSnapshot().children[id]) enqueue.stopChild(id);
    }),
    /** Tells the countdown to stop and announce `shutdown_cancelled`. */
    cancelCountdown: sendTo("shutdown", { type: "CANCEL" }),
    /** Tells the countdown to end now (a second signal). */
    skipCountdown: sendTo("shutdown", { type: "SKIP" }),
    /** Reports that the server has drained. */
    reportStopped: ({ context }) => context.deps.stopped(),
    // -- mute (PROTOCOL 5.4; server_mutes.ts)
    /** Starts the actor of a mute (lifting those it replaces), puts it in the book, `muted`. */
    spawnMute: enqueueActions(({ context, event, enqueue, system, self }) => {
      const e = event as E<"TRACK_MUTE">;
      for (const ref of muteActors(system, e.replaced)) enqueue.sendTo(ref, { type: "LIFT" });
      const id = muteSystemId(e.mute.id);
      enqueue.spawnChild("mute", { id, systemId: id, input: muteInput(context, e, self) });
      putMute(context, e);
    }),
    /** Lifts the actors of mutes (already lifted in the store), out of the book, `unmuted`. */
    liftMutes: enqueueActions(({ context, event, enqueue, system }) => {
      const { userId, muteIds } = event as E<"LIFT_MUTES">;
      for (const ref of muteActors(system, muteIds)) enqueue.sendTo(ref, { type: "LIFT" });
      dropMutes(context, userId, muteIds);
    }),
    /** A mute ran out: out of the book, `unmuted`. */
    expireMute: ({ context, event }) => expireMute(context, (event as E<"MUTE_EXPIRED">).mute),
    /** A new session of a muted user gets `muted` for each mute in force. */
    tellMutes: ({ context, event }) =>
      tellMutes(context, (event as E<"SESSION_UP">).session, context.deps.now()),
    // -- several instances (issue 15; runtime/cluster_presence.ts)
    /**
     * A user came online on another instance, or has no session left on any
     * other: a presence change when this instance holds none of their
     * sessions (one process's rule: the first and the last session anywhere),
     * and their salons count them online or not.
     */
    applyPresenceElsewhere: enqueueActions(({ context, event, enqueue }) => {
      const { userId, username, online } = event as E<"PRESENCE_ELSEWHERE">;
      if (online === context.elsewhere.has(userId)) return;
      if (online) context.elsewhere.add(userId);
      else context.elsewhere.delete(userId);
      for (const salon of context.deps.salonsOf(userId)) {
        salon.send({ type: "PRESENCE_ELSEWHERE", userId, online });
      }
      if (context.sessions.has(userId)) return;
      context.changes.set(userId, { username, status: online ? "online" : "offline" });
      enqueue.raise({ type: "PRESENCE_CHANGED" });
    }),
    /** Commits a direct message; the result comes back as DIRECT_DONE. */
    commitDirect: ({ context, event, self }) => {
      const { session, ref, to, text } = event as E<"DIRECT">;
      context.deps.commitDirect(
        session,
        to,
        text,
        (result) => self.send({ type: "DIRECT_DONE", session, ref, result }),
      );
    },
    /**
     * `ok` to the sender, then `direct`, serialized once, to every session of
     * both users (several instances: through the `relayDirect` dep).
     */
    deliverDirect: ({ context, event }) => {
      const { session, ref, result } = event as E<"DIRECT_DONE">;
      if (!result.ok) {
        session.send(errorEvent(result.code, result.message, ref));
        return;
      }
      session.send(okEvent(ref, { id: result.item.id, at: result.item.at }));
      if (context.deps.relayDirect) {
        // Several instances: delivered in the conversation's order, here and elsewhere.
        context.deps.relayDirect(session.user.id, result);
        return;
      }
      const frame = directEvent(result.item);
      const targets = new Set([
        ...(context.sessions.get(session.user.id) ?? []),
        ...(context.sessions.get(result.toUserId) ?? []),
      ]);
      for (const s of targets) s.send(frame);
      context.deps.delivered?.(targets.size);
    },
  },
}).createMachine({
  id: "server",
  context: ({ input }) => ({
    ...input,
    sessions: new Map(),
    changes: new Map(),
    presence: new PresenceDesk(),
    typed: new RecentTimes<string>(DIRECT_TYPING_INTERVAL_MS),
    buckets: {
      messages: new TokenBuckets({
        burst: input.limits.burst,
        perSecond: input.limits.ratePerSecond,
      }),
      membership: new TokenBuckets(input.membershipRate ?? MEMBERSHIP_RATE),
      history: new TokenBuckets(input.historyRate ?? HISTORY_RATE),
      watch: new TokenBuckets(input.watchRate ?? WATCH_RATE),
    },
    mutes: new MuteBook(),
    elsewhere: new Set(),
  }),
  type: "parallel",
  entry: "spawnSalons",
  states: {
    lifecycle: {
      initial: "running",
      states: {
        running: {
          on: {
            START_SHUTDOWN: { target: "shuttingDown" },
            SKIP_SHUTDOWN: { target: "draining" },
          },
        },
        shuttingDown: {
          invoke: {
            id: "shutdown",
            systemId: "shutdown",
            src: "shutdown",
            input: ({ context, event }) => ({
              seconds: (event as E<"START_SHUTDOWN">).seconds,
              firstTickMs: (event as E<"START_SHUTDOWN">).firstTickMs,
              broadcast: (frame: string) => {
                for (const list of context.sessions.values()) {
                  for (const s of list) s.send(frame);
                }
              },
            }),
            onDone: [
              { guard: "wasCancelled", target: "running" },
              { target: "draining" },
            ],
          },
          on: {
            CANCEL_SHUTDOWN: { actions: "cancelCountdown" },
            SKIP_SHUTDOWN: { actions: "skipCountdown" },
          },
        },
        draining: {
          invoke: {
            src: "drain",
            input: ({ context }) => ({ deps: context.deps }),
            onDone: { target: "stopped" },
            onError: { target: "stopped" },
          },
        },
        stopped: { entry: "reportStopped" },
      },
    },
    presence: {
      initial: "idle",
      states: {
        idle: {
          on: { PRESENCE_CHANGED: { target: "cooling", actions: "flushPresence" } },
        },
        cooling: {
          after: {
            presenceInterval: [
              {
                guard: "hasPresenceChanges",
                target: "cooling",
                reenter: true,
                actions: "flushPresence",
              },
              { target: "idle" },
            ],
          },
        },
      },
    },
  },
  on: {
    SESSION_UP: { actions: ["registerSession", "tellMutes"] },
    SESSION_DOWN: { actions: "unregisterSession" },
    DIRECT: { actions: "commitDirect" },
    DIRECT_DONE: { actions: "deliverDirect" },
    WATCH: { actions: "applyWatch" },
    TYPING_TO: { actions: "relayDirectTyping" },
    "xstate.error.actor.*": { actions: "recoverFromChildFailure" },
    "xstate.done.actor.*": { actions: "forgetFinishedChild" },
    TRACK_SANCTION: { actions: "spawnSanction" },
    LIFT_SANCTIONS: { actions: "liftSanctions" },
    PUNISH: { actions: "punish" },
    REVOKE_SESSIONS: { actions: "revokeSessions" },
    BROADCAST: { actions: "broadcast" },
    ROLE_CHANGED: { actions: "applyRole" },
    TRACK_MUTE: { actions: "spawnMute" },
    LIFT_MUTES: { actions: "liftMutes" },
    MUTE_EXPIRED: { actions: "expireMute" },
    PRESENCE_ELSEWHERE: { actions: "applyPresenceElsewhere" },
  },
});

/** What a new socket brings to its connection actor. */
export interface NewConnection {
  /** Unique id in the process, also the actor's system id (`conn:N`). */
  id: string;
  /** The socket. */
  socket: SocketPort;
  /** The peer's address, for login throttling. */
  address: string;
}

/**
 * Starts the actor of a new socket in the server's actor system, with the
 * server as its parent: `system.get(id)` reaches it (the server sends it
 * REPLACED and SANCTIONED that way), the inspector sees it, its clock is the
 * system's, and a failure reaches the server's recovery. It is not listed
 * among the server's snapshot children: xstate copies a parent's children map
 * on every spawn and stop, which made each connect and disconnect cost
 * O(open connections), O(N²) for a login or shutdown wave.
 *
 * Returns the started actor; it stops by itself in its final state.
 */
export function startConnection(
  server: Actor<typeof serverMachine>,
  { id, socket, address }: NewConnection,
): Actor<typeof connectionMachine> {
  const { connectionDeps: deps, limits, buckets, mutes } = server.getSnapshot().context;
  const actor = createActor(connectionMachine, {
    id,
    systemId: id,
    parent: server,
    input: { id, socket, address, deps, limits, buckets, mutes },
  });
  // A failure (a bug) closes the socket; the server logs it and forgets the session.
  actor.subscribe({ error: () => socket.close(1011, "internal error; reconnect") });
  return actor.start();
}
