/**
 * The live chat: builds the actor system (server, salons, connections) with
 * its real effects (store, group-commit writer, account service) and offers
 * the WebSocket route one call per socket.
 *
 * @module
 */

import {
  type Actor,
  type ActorOptions,
  type AnyActorLogic,
  type AnyActorRef,
  createActor,
} from "xstate";
import { type ConnectionEvent, type ConnectionLimits } from "../actors/connection.ts";
import { type DirectResult, salonSystemId, serverMachine } from "../actors/server.ts";
import type { SalonDeps, SalonEvent, SalonInput } from "../actors/salon.ts";
import type { Session } from "../actors/session.ts";
import { type Accounts, publicUser } from "../auth/accounts.ts";
import type { Logger } from "../lib/log.ts";
import { errorEvent, historyEvent, welcomeEvent } from "../protocol/events.ts";
import { ProtocolError } from "../protocol/errors.ts";
import type { HandshakeFrame, ParsedFrame } from "../protocol/frames.ts";
import type { SalonView } from "../protocol/http.ts";
import { nameKey } from "../protocol/names.ts";
import { MessageWriter } from "../store/message_writer.ts";
import type { SalonRecord, Store, UserRecord, UserSummary } from "../store/store.ts";
import { MembershipIndex } from "./membership_index.ts";

/** Options of {@link createHub}. */
export interface HubOptions {
  /** The database. */
  store: Store;
  /** Account service (hello, register). */
  accounts: Accounts;
  /** Logging. */
  log: Logger;
  /** Connection limits. */
  limits: Omit<ConnectionLimits, "helloTimeoutMs" | "floodMs" | "backlog"> & {
    helloTimeoutMs?: number;
    floodMs?: number;
  };
  /** Most sessions per user. */
  maxSessions: number;
  /** Shortest interval between presence frames, ms (default 1000). */
  presenceIntervalMs?: number;
  /** Clock for the actors' timers (xstate's SimulatedClock in tests). */
  clock?: ActorOptions<AnyActorLogic>["clock"];
  /** Current time, epoch ms (default Date.now). */
  now?: () => number;
  /** Called if the root actor itself fails (the server can no longer work). */
  onFatal?: (error: unknown) => void;
}

/** One socket as the hub sees it. */
export interface ConnectionHandle {
  /** The connection actor's id. */
  readonly id: string;
  /** Hands a parsed (or refused) frame to the connection actor. */
  receive(parsed: ParsedFrame): void;
  /** The socket closed. */
  closed(): void;
}

/** The running chat. */
export interface Hub {
  /** A new socket from `address`. */
  connect(
    socket: { send(frame: string): void; close(code: number, reason: string): void },
    address: string,
  ): ConnectionHandle;
  /** Connected members of a salon (users). */
  onlineCount(salonId: number): number;
  /** Salons as `user` sees them, with live online counts. */
  salonViews(userId: number): SalonView[];
  /** A new account: it joins the `auto` salon. */
  userRegistered(user: UserRecord): void;
  /** The root actor, for inspection. */
  readonly server: Actor<typeof serverMachine>;
  /** Refuses new messages, commits the queued ones, stops every actor. */
  stop(): Promise<void>;
}

function summary(user: UserRecord | UserSummary): UserSummary {
  return { id: user.id, username: user.username, alias: user.alias, role: user.role };
}

/** Loads salons, members and requests, and starts the actor system. */
export async function createHub(opts: HubOptions): Promise<Hub> {
  const { store, accounts, log } = opts;
  const now = opts.now ?? Date.now;
  const writer = new MessageWriter(
    store,
    (e) => log.error(`a message callback failed: ${e instanceof Error ? e.stack : e}`),
  );
  const index = new MembershipIndex();
  const [salons, memberships, requests] = await Promise.all([
    store.listSalons(),
    store.listMemberships(),
    store.listJoinRequests(),
  ]);
  const byId = new Map<number, SalonRecord & { key: string }>(
    salons.map((s) => [s.id, { ...s, key: nameKey(s.name) }]),
  );
  for (const m of memberships) index.add(m.user.id, byId.get(m.salonId)!.key);
  const users = new Map<string, UserSummary>();
  const remember = (u: UserSummary) => users.set(nameKey(u.username), u);
  for (const m of memberships) remember(m.user);

  const salonRef = (key: string): AnyActorRef | undefined => server.system.get(salonSystemId(key));
  const sessionsOf = (userId: number): Session[] =>
    server.getSnapshot().context.sessions.get(userId) ?? [];

  const salonDeps: SalonDeps = {
    now,
    commit: (m, done) => {
      if (!writer.write({ kind: "salon", ...m }, done)) {
        done(new Error("the server is stopping"), 0);
      }
    },
    addMember: (salonId, userId) => store.addMember(salonId, userId, now()),
    removeMember: (salonId, userId) => store.removeMember(salonId, userId).then(() => {}),
    addJoinRequest: (salonId, userId) => store.addJoinRequest(salonId, userId, now()),
    removeJoinRequest: (salonId, userId) => store.removeJoinRequest(salonId, userId).then(() => {}),
    history: (salonId, query) => store.salonHistory(salonId, query),
    sessionsOf,
    membershipChanged: (userId, key, member) =>
      member ? index.add(userId, key) : index.remove(userId, key),
    notifyModerators: (frame) => {
      for (const list of server.getSnapshot().context.sessions.values()) {
        for (const s of list) if (s.user.role !== "member") s.send(frame);
      }
    },
    reportError: (message) => log.error(message),
  };

  const salonInputs: SalonInput[] = salons.map((s) => ({
    salon: { id: s.id, name: s.name, key: nameKey(s.name), policy: s.policy },
    members: memberships.filter((m) => m.salonId === s.id).map((m) => m.user),
    pending: requests.filter((r) => r.salonId === s.id).map((r) => ({
      user: r.user,
      since: r.since,
    })),
    deps: salonDeps,
  }));

  async function resolveUser(name: string): Promise<UserSummary | undefined> {
    const key = nameKey(name);
    const known = users.get(key);
    if (known) return known;
    const found = await store.userByName(name);
    if (!found) return undefined;
    const s = summary(found);
    remember(s);
    return s;
  }

  function salonViews(userId: number): SalonView[] {
    const views: SalonView[] = [];
    for (const s of byId.values()) {
      const ref = salonRef(s.key);
      const ctx = ref?.getSnapshot().context as {
        members: Map<number, unknown>;
        pending: Map<number, unknown>;
        online: Map<number, unknown>;
      } | undefined;
      if (!ctx) continue;
      const member = ctx.members.has(userId);
      const online = ctx.online.size +
        (member && !ctx.online.has(userId) && sessionsOf(userId).length === 0 ? 1 : 0);
      views.push({
        name: s.name,
        policy: s.policy,
        member,
        pending: ctx.pending.has(userId),
        online,
      });
    }
    return views;
  }

  const limits: ConnectionLimits = {
    ratePerSecond: opts.limits.ratePerSecond,
    burst: opts.limits.burst,
    maxText: opts.limits.maxText,
    helloTimeoutMs: opts.limits.helloTimeoutMs ?? 10_000,
    floodMs: opts.limits.floodMs ?? 5_000,
    backlog: 100,
  };

  const server: Actor<typeof serverMachine> = createActor(serverMachine, {
    systemId: "server",
    ...(opts.clock ? { clock: opts.clock } : {}),
    input: {
      salons: salonInputs,
      maxSessions: opts.maxSessions,
      presenceIntervalMs: opts.presenceIntervalMs ?? 1000,
      limits,
      deps: {
        reportError: (message) => log.error(message),
        salonsOf: function* (userId) {
          for (const key of index.salonsOf(userId)) {
            const ref = salonRef(key);
            if (ref) yield ref as { send(event: SalonEvent): void };
          }
        },
        commitDirect: (from, to, text, done) => {
          resolveUser(to).then((target) => {
            if (!target) {
              done({
                ok: false,
                code: "unknown_user",
                message: `there is no user named "${to.slice(0, 64)}"`,
              });
              return;
            }
            const at = now();
            const accepted = writer.write(
              { kind: "direct", fromUserId: from.user.id, toUserId: target.id, text, at },
              (error, id) => {
                if (error) {
                  log.error(`direct message commit failed: ${error.message}`);
                  done({
                    ok: false,
                    code: "internal",
                    message: "the message could not be stored; send it again",
                  });
                  return;
                }
                const result: DirectResult = {
                  ok: true,
                  toUserId: target.id,
                  item: {
                    id,
                    from: { username: from.user.username, alias: from.user.alias },
                    to: { username: target.username, alias: target.alias },
                    text,
                    at: new Date(at).toISOString(),
                  },
                };
                done(result);
              },
            );
            if (!accepted) {
              done({
                ok: false,
                code: "shutting_down",
                message: "the server is shutting down; the message was not stored",
              });
            }
          }, (e) => {
            log.error(`direct message lookup failed: ${e}`);
            done({
              ok: false,
              code: "internal",
              message: "the message could not be stored; send it again",
            });
          });
        },
      },
      connectionDeps: {
        now,
        authenticate: async (frame: HandshakeFrame, address: string) => {
          let user: UserRecord;
          let token: string;
          if (frame.type === "register") {
            user = await accounts.register(frame);
            token = await accounts.issueToken(user);
          } else if ("token" in frame) {
            try {
              user = await accounts.authenticate(frame.token);
            } catch (e) {
              if (e instanceof ProtocolError && e.code === "unauthenticated") {
                throw new ProtocolError(
                  "bad_credentials",
                  401,
                  "the token is unknown, revoked or expired; log in again with your password",
                );
              }
              throw e;
            }
            await accounts.assertNotSanctioned(user);
            token = frame.token;
          } else {
            ({ user, token } = await accounts.login(frame, address));
          }
          const s = summary(user);
          remember(s);
          return { user: s, token };
        },
        welcome: (session, token, ref) =>
          welcomeEvent(
            publicUser({ ...session.user, passwordHash: "", createdAt: 0 }),
            token,
            salonViews(session.user.id),
            {
              maxTextLength: limits.maxText,
              messagesPerSecond: limits.ratePerSecond,
            },
            ref,
          ),
        attach: (session) => server.send({ type: "SESSION_UP", session }),
        detach: (session) => server.send({ type: "SESSION_DOWN", session }),
        salon: (name) => salonRef(nameKey(name)),
        direct: (session, ref, to, text) => server.send({ type: "DIRECT", session, ref, to, text }),
        directHistory: (session, ref, other, query) => {
          resolveUser(other).then(async (target) => {
            if (!target) {
              session.send(
                errorEvent("unknown_user", `there is no user named "${other.slice(0, 64)}"`, ref),
              );
              return;
            }
            const page = await store.directHistory(session.user.id, target.id, query);
            session.send(historyEvent(
              { with: target.username },
              page.messages.map((m) => ({
                id: m.id,
                from: m.from,
                to: m.to!,
                text: m.text,
                at: new Date(m.at).toISOString(),
              })),
              page.more,
              ref,
            ));
          }).catch((e) => {
            log.error(`direct history failed: ${e}`);
            session.send(errorEvent("internal", "history could not be read; try again", ref));
          });
        },
      },
    },
  });
  server.subscribe({
    error: (e) => {
      log.error(`the server actor failed: ${e instanceof Error ? e.stack : e}`);
      opts.onFatal?.(e);
    },
  });
  server.start();
  accounts.onRegistered = (user) => hub.userRegistered(user);
  accounts.onlineCount = (salonId) => hub.onlineCount(salonId);

  let counter = 0;
  const hub: Hub = {
    server,
    connect(socket, address) {
      const id = `conn:${++counter}`;
      server.send({ type: "CONNECT", id, socket, address });
      const ref = () => server.system.get(id) as AnyActorRef | undefined;
      return {
        id,
        receive(parsed) {
          const actor = ref();
          if (!actor) return;
          const event: ConnectionEvent = parsed.ok ? { type: "FRAME", frame: parsed.frame } : {
            type: "BAD_FRAME",
            ref: parsed.ref,
            frameType: parsed.type,
            message: parsed.message,
          };
          actor.send(event);
        },
        closed() {
          ref()?.send({ type: "SOCKET_CLOSED" });
        },
      };
    },
    onlineCount(salonId) {
      const s = byId.get(salonId);
      const ctx = s
        ? salonRef(s.key)?.getSnapshot().context as { online: Map<number, unknown> } | undefined
        : undefined;
      return ctx?.online.size ?? 0;
    },
    salonViews,
    userRegistered(user) {
      const s = summary(user);
      remember(s);
      for (const salon of byId.values()) {
        if (salon.policy === "auto") salonRef(salon.key)?.send({ type: "ADD_MEMBER", user: s });
      }
    },
    async stop() {
      await writer.close();
      for (const child of Object.values(server.getSnapshot().children)) {
        const ctx = (child as AnyActorRef | undefined)?.getSnapshot()?.context as
          | { socket?: { close(code: number, reason: string): void } }
          | undefined;
        ctx?.socket?.close(1001, "server stopping");
      }
      server.stop();
    },
  };
  return hub;
}
