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
import {
  type ConnectionEvent,
  type ConnectionLimits,
  type connectionMachine,
} from "../actors/connection.ts";
import {
  type DirectResult,
  salonSystemId,
  sanctionSystemId,
  type ServerEvent,
  serverMachine,
  startConnection,
} from "../actors/server.ts";
import { CLOSE, revokes, type SessionRevocation } from "../actors/session.ts";
import type { BucketRate } from "../lib/token_bucket.ts";
import type { ActorInfo } from "../protocol/admin.ts";
import type { ModeratorFrame } from "../protocol/frames.ts";
import { Moderation, type Moderator } from "./moderation.ts";
import type { SalonDeps, SalonEvent, SalonInput } from "../actors/salon.ts";
import type { Session } from "../actors/session.ts";
import { type Accounts, type CredentialsRevoked, publicUser } from "../auth/accounts.ts";
import { tokenHash } from "../auth/tokens.ts";
import type { Logger } from "../lib/log.ts";
import { type SecurityLog, silentSecurityLog } from "../lib/security_log.ts";
import { errorEvent, welcomeEvent } from "../protocol/events.ts";
import { cappedHistoryEvent } from "../protocol/history_reply.ts";
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
  /** Connection limits (the optional ones have defaults: see {@link REQUEST_LIMIT_DEFAULTS}). */
  limits:
    & Pick<ConnectionLimits, "ratePerSecond" | "burst" | "maxText">
    & Partial<Omit<ConnectionLimits, "ratePerSecond" | "burst" | "maxText">>
    & {
      /** The `join`/`leave` budget of each user (default: burst 5, one every 2 s). */
      membershipRate?: BucketRate;
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
  /** Called once the server has drained after a shutdown countdown. */
  onStopped?: () => void;
  /** Default kick length, minutes. */
  kickMinutes?: number;
  /** Default countdown, seconds. */
  shutdownSeconds?: number;
  /** Where sanctions, floods and slow-consumer closes are recorded (default: nowhere). */
  security?: SecurityLog;
}

/** One socket as the hub sees it. */
export interface ConnectionHandle {
  /** The connection actor's id. */
  readonly id: string;
  /**
   * Hands a parsed (or refused) frame to the connection actor, with the
   * frame's size in bytes (when left out, the size of what the actor keeps
   * of it is used).
   */
  receive(parsed: ParsedFrame, bytes?: number): void;
  /** The socket closed. */
  closed(): void;
}

/** The running chat. */
export interface Hub {
  /** A new socket from `address`; `onWelcome` is told when its session starts. */
  connect(
    socket: { send(frame: string): void; close(code: number, reason: string): void },
    address: string,
    opts?: { onWelcome?: () => void },
  ): ConnectionHandle;
  /** Connected members of a salon (users). */
  onlineCount(salonId: number): number;
  /** Salons as `user` sees them, with live online counts. */
  salonViews(userId: number): SalonView[];
  /** A new account: it joins the `auto` salon. */
  userRegistered(user: UserRecord): void;
  /** The root actor, for inspection. */
  readonly server: Actor<typeof serverMachine>;
  /** The moderation desk. */
  readonly moderation: Moderation;
  /** Whether the countdown (or the drain after it) is under way. */
  isShuttingDown(): boolean;
  /** Starts the countdown from a signal; a second call skips to the drain. */
  signal(): void;
  /** The live actor tree. */
  actorTree(): ActorInfo[];
  /** Refuses new messages, commits the queued ones, stops every actor. */
  stop(): Promise<void>;
}

/** Defaults of the connection limits a caller may leave out. */
export const REQUEST_LIMIT_DEFAULTS = {
  /** No valid hello within this: close 4401 (PROTOCOL 2.1). */
  helloTimeoutMs: 10_000,
  /** Checking a hello (the password-hash queue) may take this long: then close 4401. */
  authTimeoutMs: 30_000,
  /** Refusals (or a stay past the request budget) lasting this long close with 1008. */
  floodMs: 5_000,
  /** Bytes of frames kept while a hello is checked (PROTOCOL 5.6: at most 16 KiB). */
  backlogBytes: 16 * 1024,
  /** The per-session request budget: bucket size. */
  requestBurst: 40,
  /** The per-session request budget: refill per second. */
  requestPerSecond: 20,
} as const;

/** Longest wait for the sockets' close handshakes when stopping, ms. */
export const CLOSE_WAIT_MS = 3000;

/** The error a message gets when it reaches the writer after the drain began. */
function stoppingError(): Error {
  const error = new Error("the server is stopping");
  error.name = "ServerStopping";
  return error;
}

const encoder = new TextEncoder();

/** Bytes of `text` in UTF-8. */
function utf8Length(text: string): number {
  return encoder.encode(text).byteLength;
}

function summary(user: UserRecord | UserSummary): UserSummary {
  return { id: user.id, username: user.username, alias: user.alias, role: user.role };
}

/** Loads salons, members and requests, and starts the actor system. */
export async function createHub(opts: HubOptions): Promise<Hub> {
  const { store, accounts, log } = opts;
  const security = opts.security ?? silentSecurityLog;
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
  let draining = false;
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
        done(stoppingError(), 0);
      }
    },
    addMember: (salonId, userId) => store.addMember(salonId, userId, now()),
    removeMember: (salonId, userId) => store.removeMember(salonId, userId).then(() => {}),
    addJoinRequest: (salonId, userId, since) => store.addJoinRequest(salonId, userId, since),
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

  const requestBurst = opts.limits.requestBurst ?? REQUEST_LIMIT_DEFAULTS.requestBurst;
  const limits: ConnectionLimits = {
    ratePerSecond: opts.limits.ratePerSecond,
    burst: opts.limits.burst,
    maxText: opts.limits.maxText,
    helloTimeoutMs: opts.limits.helloTimeoutMs ?? REQUEST_LIMIT_DEFAULTS.helloTimeoutMs,
    authTimeoutMs: opts.limits.authTimeoutMs ?? REQUEST_LIMIT_DEFAULTS.authTimeoutMs,
    floodMs: opts.limits.floodMs ?? REQUEST_LIMIT_DEFAULTS.floodMs,
    // Frames stashed during the handshake are replayed through the request
    // budget: never more than its burst.
    backlog: opts.limits.backlog ?? requestBurst,
    backlogBytes: opts.limits.backlogBytes ?? REQUEST_LIMIT_DEFAULTS.backlogBytes,
    requestBurst,
    requestPerSecond: opts.limits.requestPerSecond ?? REQUEST_LIMIT_DEFAULTS.requestPerSecond,
  };

  /**
   * Revocations made while handshakes were being checked: a handshake that
   * began before one of them and would open a session it revokes is refused,
   * since the revocation could not close a session that did not exist yet.
   * Emptied whenever no handshake is in flight.
   */
  const revokedDuringHandshakes: Array<{ seq: number; revocation: SessionRevocation }> = [];
  let revocationSeq = 0;
  let handshakesInFlight = 0;

  const REVOCATION_REASONS: Record<CredentialsRevoked["cause"], string> = {
    password_changed: "credentials changed",
    logout: "logged out",
    logout_all: "logged out everywhere",
  };

  /** Closes (4401) the live sessions whose credentials were revoked. */
  function revokeSessions(revoked: CredentialsRevoked): void {
    const revocation: SessionRevocation = {
      userId: revoked.userId,
      reason: REVOCATION_REASONS[revoked.cause],
      ...(revoked.only === undefined ? {} : { only: revoked.only }),
      ...(revoked.except === undefined ? {} : { except: revoked.except }),
    };
    revocationSeq++;
    if (handshakesInFlight > 0) {
      revokedDuringHandshakes.push({ seq: revocationSeq, revocation });
    }
    server.send({ type: "REVOKE_SESSIONS", revocation });
  }

  /**
   * Checks a hello or register frame: the user and the token of the new
   * session, refused when its credentials were revoked while it was checked.
   */
  async function handshake(
    frame: HandshakeFrame,
    address: string,
  ): Promise<{ user: UserSummary; token: string; tokenHash: string }> {
    const since = revocationSeq;
    handshakesInFlight++;
    try {
      const { user, token } = await checkHandshake(frame, address);
      const hash = tokenHash(token);
      const revoked = revokedDuringHandshakes.some((r) =>
        r.seq > since && revokes(r.revocation, user.id, hash)
      );
      if (revoked) {
        throw new ProtocolError(
          "bad_credentials",
          401,
          "these credentials were revoked while the hello was checked; log in again",
        );
      }
      return { user, token, tokenHash: hash };
    } finally {
      if (--handshakesInFlight === 0) revokedDuringHandshakes.length = 0;
    }
  }

  /** Checks a hello or register frame: the user and the token of the new session. */
  async function checkHandshake(
    frame: HandshakeFrame,
    address: string,
  ): Promise<{ user: UserSummary; token: string }> {
    if (hub.isShuttingDown()) {
      throw new ProtocolError(
        "shutting_down",
        503,
        "the server is shutting down; reconnect in a moment",
      );
    }
    let user: UserRecord;
    let token: string;
    if (frame.type === "register") {
      user = await accounts.register(frame, "member", { address });
      token = await accounts.issueToken(user);
    } else if ("token" in frame) {
      try {
        user = await accounts.authenticate(frame.token);
      } catch (e) {
        if (e instanceof ProtocolError && e.code === "unauthenticated") {
          // A token revoked by a ban still names its owner: answer `banned`.
          const owner = await accounts.bannedTokenOwner(frame.token);
          if (owner) await accounts.assertNotSanctioned(owner);
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
  }

  const server: Actor<typeof serverMachine> = createActor(serverMachine, {
    systemId: "server",
    ...(opts.clock ? { clock: opts.clock } : {}),
    input: {
      salons: salonInputs,
      maxSessions: opts.maxSessions,
      presenceIntervalMs: opts.presenceIntervalMs ?? 1000,
      limits,
      ...(opts.limits.membershipRate ? { membershipRate: opts.limits.membershipRate } : {}),
      deps: {
        reportError: (message) => log.error(message),
        now,
        drain: async () => {
          await drainAndClose("server shutting down");
        },
        stopped: () => opts.onStopped?.(),
        sanctionExpired: (s) => log.info(`kick ${s.id} of user ${s.userId} ran out`),
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
          try {
            return await handshake(frame, address);
          } catch (e) {
            // A refusal is the client's business; anything else is ours: log it.
            if (!(e instanceof ProtocolError)) {
              log.error(
                `a ${frame.type} could not be checked: ${e instanceof Error ? e.stack : e}`,
              );
            }
            throw e;
          }
        },
        welcome: (session, token, ref) =>
          welcomeEvent(
            publicUser(session.user),
            token,
            salonViews(session.user.id),
            {
              maxTextLength: limits.maxText,
              messagesPerSecond: limits.ratePerSecond,
            },
            ref,
          ),
        flooded: (session, address, detail) =>
          security.record({
            event: "flood",
            username: session.user.username,
            address,
            outcome: "closed",
            detail,
          }),
        attach: (session) => {
          const welcomed = onWelcome.get(session.id);
          onWelcome.delete(session.id);
          welcomed?.();
          server.send({ type: "SESSION_UP", session });
        },
        detach: (session) => server.send({ type: "SESSION_DOWN", session }),
        salon: (name) => salonRef(nameKey(name)),
        direct: (session, ref, to, text) => server.send({ type: "DIRECT", session, ref, to, text }),
        moderate: (session, frame) => moderate(session, frame),
        directHistory: (session, ref, other, query) => {
          resolveUser(other).then(async (target) => {
            if (!target) {
              session.send(
                errorEvent("unknown_user", `there is no user named "${other.slice(0, 64)}"`, ref),
              );
              return;
            }
            const page = await store.directHistory(session.user.id, target.id, query);
            session.send(cappedHistoryEvent(
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
  accounts.onCredentialsRevoked = revokeSessions;
  accounts.onlineCount = (salonId) => hub.onlineCount(salonId);

  const send = (event: ServerEvent) => server.send(event);

  /** Told when a connection's session starts, by connection id (until then or its end). */
  const onWelcome = new Map<string, () => void>();
  /** Live connection actors by id; each leaves when it ends. */
  const connections = new Map<string, Actor<typeof connectionMachine>>();
  /** Told when the last connection actor has ended. */
  let onConnectionsGone: (() => void) | undefined;
  const forgetConnection = (id: string) => {
    connections.delete(id);
    onWelcome.delete(id);
    if (connections.size === 0) onConnectionsGone?.();
  };

  /**
   * Stops taking frames, commits what is queued, closes every socket with
   * 1001, then waits (at most `CLOSE_WAIT_MS`) for the close handshakes, so
   * that the close frames are on the wire before the process exits.
   */
  async function drainAndClose(reason: string): Promise<void> {
    draining = true;
    await writer.close();
    for (const actor of connections.values()) {
      actor.getSnapshot().context.socket.close(CLOSE.goingAway, reason);
    }
    if (connections.size === 0) return;
    const done = Promise.withResolvers<void>();
    onConnectionsGone = done.resolve;
    const timer = setTimeout(done.resolve, CLOSE_WAIT_MS);
    await done.promise;
    clearTimeout(timer);
    onConnectionsGone = undefined;
  }
  const lifecycle = () => (server.getSnapshot().value as { lifecycle: string }).lifecycle;

  const moderation = new Moderation({
    store,
    accounts,
    now,
    kickMinutes: opts.kickMinutes ?? 5,
    shutdownSeconds: opts.shutdownSeconds ?? 10,
    maxText: limits.maxText,
    live: {
      isOnline: (userId) => sessionsOf(userId).length > 0,
      pendingRequests: () => {
        const all: Array<
          { salon: string; username: string; alias: string; at: string; t: number }
        > = [];
        for (const s of byId.values()) {
          const ctx = salonRef(s.key)?.getSnapshot().context as
            | { pending: Map<number, { user: UserSummary; since: number }> }
            | undefined;
          for (const p of ctx?.pending.values() ?? []) {
            all.push({
              salon: s.name,
              username: p.user.username,
              alias: p.user.alias,
              at: new Date(p.since).toISOString(),
              t: p.since,
            });
          }
        }
        return all.sort((a, b) => a.t - b.t).map(({ t: _t, ...rest }) => rest);
      },
      decide: (salonName, userId, accept) => {
        const ref = salonRef(nameKey(salonName));
        if (!ref) return Promise.resolve("unknown_salon" as const);
        return new Promise((resolve) => {
          ref.send({
            type: "DECIDE",
            userId,
            accept,
            decider: {
              reply: (error?: Error) => {
                if (!error) resolve("ok");
                else if (error.message === "not_pending") resolve("not_pending");
                else {
                  log.error(`decision failed: ${error.message}`);
                  resolve("not_pending");
                }
              },
            },
          });
        });
      },
      punish: (userId, frame) => send({ type: "PUNISH", userId, frame }),
      trackSanction: (sanction, username) => {
        security.record({ event: "sanction", username, outcome: "imposed", detail: sanction.kind });
        send({ type: "TRACK_SANCTION", sanction, username });
      },
      liftSanctions: (_userId, sanctionIds) => {
        for (const id of sanctionIds) {
          server.system.get(sanctionSystemId(id))?.send({ type: "LIFT" });
        }
      },
      requestsWithdrawn: (userId, salonIds) => {
        for (const id of salonIds) {
          const s = byId.get(id);
          if (s) salonRef(s.key)?.send({ type: "REQUESTS_WITHDRAWN", userId });
        }
      },
      broadcast: (frame) => send({ type: "BROADCAST", frame }),
      startShutdown: (seconds) => {
        if (lifecycle() !== "running") return false;
        send({ type: "START_SHUTDOWN", seconds });
        return true;
      },
      cancelShutdown: () => {
        if (lifecycle() !== "shuttingDown") return false;
        send({ type: "CANCEL_SHUTDOWN" });
        return true;
      },
      roleChanged: (userId, role) => {
        send({ type: "ROLE_CHANGED", userId, role });
        for (const u of users.values()) if (u.id === userId) u.role = role;
      },
    },
  });

  function moderate(session: Session, frame: ModeratorFrame): void {
    const actor: Moderator = {
      username: session.user.username,
      userId: session.user.id,
      role: session.user.role,
      via: "ws",
    };
    const ok = (fields: Record<string, unknown> = {}) =>
      session.send(
        JSON.stringify({
          type: "ok",
          ...fields,
          ...(frame.ref === undefined ? {} : { ref: frame.ref }),
        }),
      );
    let work: Promise<void>;
    switch (frame.type) {
      case "requests":
        work = moderation.requests(actor).then((pending) =>
          session.send(
            JSON.stringify({
              type: "requests",
              pending,
              ...(frame.ref === undefined ? {} : { ref: frame.ref }),
            }),
          )
        );
        break;
      case "decide":
        work = moderation.decide(actor, frame.salon, frame.username, frame.accept).then(() => ok());
        break;
      case "kick":
        work = moderation.kick(actor, frame.username, frame).then(({ until }) => ok({ until }));
        break;
      case "ban":
        work = moderation.ban(actor, frame.username, frame).then(() => ok());
        break;
      case "unban":
        work = moderation.unban(actor, frame.username).then(({ lifted }) => ok({ lifted }));
        break;
      case "announce":
        work = moderation.announce(actor, frame.text).then(() => ok());
        break;
      case "shutdown":
        work = moderation.shutdown(actor, frame.seconds).then(({ seconds }) => ok({ seconds }));
        break;
    }
    work.catch((e) => {
      if (e instanceof ProtocolError) {
        session.send(errorEvent(e.code, e.message, frame.ref, e.extra.until));
      } else {
        log.error(`${frame.type} failed: ${e instanceof Error ? e.stack : e}`);
        session.send(errorEvent("internal", `${frame.type} failed; try again`, frame.ref));
      }
    });
  }

  function actorTree(): ActorInfo[] {
    const out: ActorInfo[] = [];
    const walk = (ref: AnyActorRef, parent: string | null) => {
      const snapshot = ref.getSnapshot() as {
        value?: unknown;
        status?: string;
        context?: Record<string, unknown>;
        children?: Record<string, AnyActorRef | undefined>;
      };
      const ctx = snapshot.context ?? {};
      const facts: Record<string, unknown> = {};
      const salon = ctx.salon as { name?: string } | string | undefined;
      if (typeof salon === "string") facts.salon = salon;
      else if (salon?.name) facts.salon = salon.name;
      const session = ctx.session as Session | undefined;
      if (session) facts.username = session.user.username;
      const user = ctx.user as UserSummary | undefined;
      if (user?.username) facts.username = user.username;
      if (typeof ctx.username === "string") facts.username = ctx.username;
      if (typeof ctx.remaining === "number") facts.remaining = ctx.remaining;
      if (ctx.members instanceof Map) facts.members = ctx.members.size;
      if (ctx.online instanceof Map) facts.online = ctx.online.size;
      const sanction = ctx.sanction as { kind?: string; until?: number | null } | undefined;
      if (sanction?.kind) {
        facts.kind = sanction.kind;
        if (sanction.until) facts.until = new Date(sanction.until).toISOString();
      }
      const id = parent === null ? "server" : ref.id;
      out.push({
        id,
        machine: (ref as { logic?: { id?: string } }).logic?.id ?? "unknown",
        state: snapshot.value ?? snapshot.status ?? null,
        parent,
        facts,
      });
      for (const child of Object.values(snapshot.children ?? {})) if (child) walk(child, id);
    };
    walk(server, null);
    for (const actor of connections.values()) walk(actor, "server");
    return out;
  }

  // Sanctions in force come back as actors: a restart neither forgets nor extends a kick.
  for (const sanction of await store.listActiveSanctions(now())) {
    const target = await store.userById(sanction.userId);
    send({
      type: "TRACK_SANCTION",
      sanction,
      username: target?.username ?? String(sanction.userId),
    });
  }

  let counter = 0;
  let signalled = false;
  const hub: Hub = {
    moderation,
    isShuttingDown: () => lifecycle() !== "running",
    signal() {
      // The first signal starts the countdown (unless one already runs); any later one skips
      // it, even if it arrives while the first is still being recorded.
      if (!signalled && lifecycle() === "running") {
        signalled = true;
        moderation.shutdown({ username: "server", userId: null, role: "admin", via: "signal" })
          .catch((e) => log.error(`shutdown failed: ${e}`));
      } else {
        signalled = true;
        send({ type: "SKIP_SHUTDOWN" });
      }
    },
    actorTree,
    server,
    connect(socket, address, connectOpts) {
      const id = `conn:${++counter}`;
      if (draining || lifecycle() === "stopped") {
        socket.close(CLOSE.goingAway, "the server is stopping; reconnect in a moment");
        return { id, receive() {}, closed() {} };
      }
      const actor = startConnection(server, { id, socket, address });
      if (actor.getSnapshot().status === "active") {
        connections.set(id, actor);
        if (connectOpts?.onWelcome) onWelcome.set(id, connectOpts.onWelcome);
        actor.subscribe({
          complete: () => forgetConnection(id),
          // The failure itself reaches the server's recovery (its parent) as an event.
          error: () => forgetConnection(id),
        });
      }
      const ref = () => connections.get(id);
      return {
        id,
        receive(parsed, bytes) {
          const actor = ref();
          if (!actor) return;
          if (draining) {
            const r = parsed.ok ? parsed.frame.ref : parsed.ref;
            socket.send(
              errorEvent("shutting_down", "the server is stopping; nothing more is taken", r),
            );
            return;
          }
          const size = bytes ?? utf8Length(JSON.stringify(parsed.ok ? parsed.frame : parsed));
          const event: ConnectionEvent = parsed.ok
            ? { type: "FRAME", frame: parsed.frame, bytes: size }
            : {
              type: "BAD_FRAME",
              ref: parsed.ref,
              frameType: parsed.type,
              message: parsed.message,
              bytes: size,
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
      await drainAndClose("server stopping");
      // Connections whose peers never answered the close: end their actors (and timers) too.
      for (const actor of [...connections.values()]) actor.send({ type: "SOCKET_CLOSED" });
      server.stop();
    },
  };
  return hub;
}
