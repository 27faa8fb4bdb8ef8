/**
 * The live chat: builds the actor system (server, salons, connections) with
 * its real effects (store, group-commit writer, account service) and offers
 * the WebSocket route one call per socket. The parts live beside it:
 * handshake.ts, connections.ts, salons.ts, directs.ts, moderation_ports.ts,
 * actor_tree.ts, hub_cluster.ts (several instances), over the shared
 * hub_context.ts.
 *
 * @module
 */

import type { Actor, ActorOptions, AnyActorLogic, AnyActorRef } from "xstate";
import { createActor } from "xstate";
import type { ConnectionLimits } from "../actors/connection.ts";
import {
  type SalonPort,
  salonSystemId,
  type ServerEvent,
  serverMachine,
} from "../actors/server.ts";
import type { Session } from "../actors/session.ts";
import { type Accounts, publicUser } from "../auth/accounts.ts";
import type { Logger } from "../lib/log.ts";
import { type SecurityLog, silentSecurityLog } from "../lib/security_log.ts";
import type { BucketRate } from "../lib/token_bucket.ts";
import type { ActorInfo } from "../protocol/admin.ts";
import { welcomeEvent } from "../protocol/events.ts";
import type { SalonView } from "../protocol/http.ts";
import { nameKey } from "../protocol/names.ts";
import { MessageWriter } from "../store/message_writer.ts";
import type { Store, UserRecord } from "../store/store.ts";
import { actorTree } from "./actor_tree.ts";
import { type ConnectionHandle, createConnections, type HubSocket } from "./connections.ts";
import { welcomeSalons } from "./catchup.ts";
import { commitDirect, directConversations, directHistory, directRead } from "./directs.ts";
import { createHandshakes } from "./handshake.ts";
import { createInspection, type Inspection } from "./inspection.ts";
import type { HubContext, KnownSalon } from "./hub_context.ts";
import { MembershipIndex } from "./membership_index.ts";
import { MessageDesk } from "./message_desk.ts";
import { messageAction, messagePorts } from "./message_ports.ts";
import { Moderation } from "./moderation.ts";
import { livePorts, moderate } from "./moderation_ports.ts";
import { onlineCount, salonDeps, salonInputs, salonSize, salonViews } from "./salons.ts";
import { summary, UserDirectory } from "./user_directory.ts";
import { liveCounts } from "./live_counts.ts";
import { type LiveCounts, type Metrics, noMetrics } from "./metrics.ts";
import { DEFAULT_EDIT_MINUTES } from "../config/config.ts";
import { closeReaped } from "./hub_presence.ts";
import {
  type HubCluster,
  type HubClusterOptions,
  startHubCluster,
  stopAfterActors,
  stopBeforeActors,
} from "./hub_cluster.ts";

export { CLOSE_WAIT_MS, type ConnectionHandle, type HubSocket } from "./connections.ts";

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
      historyRate?: BucketRate;
    };
  /** Most sessions per user. */
  maxSessions: number;
  /** Shortest interval between presence frames, ms (default 1000). */
  presenceIntervalMs?: number;
  /** Salons with more members are large (`CAUSERIE_PRESENCE_SALON_MAX`, default 100). */
  presenceSalonMax?: number;
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
  /** The counters of `/metrics` (default: {@link noMetrics}). */
  metrics?: Metrics;
  /** How long an author may edit a message, minutes; 0: never (default 15, PROTOCOL 5.4). */
  editMinutes?: number;
  /** Several instances (issue 15): salon messages and memberships cross the bus. Absent: one process. */
  cluster?: HubClusterOptions;
}

/** The running chat. */
export interface Hub {
  /** A new socket from `address`; `onWelcome` is told when its session starts. */
  connect(
    socket: HubSocket,
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
  /** The inspection stream's hub (`GET /admin/inspect`). */
  readonly inspection: Inspection;
  /** Refuses new messages, commits the queued ones, stops every actor. */
  stop(): Promise<void>;
  /** The live gauges of `/metrics`, read from the actor system now. */
  liveCounts(): LiveCounts;
  /** The desk of edit, delete and reports (PROTOCOL 5.4). */
  readonly messages: MessageDesk;
  // -- several instances (issue 15): no-ops in one process
  /** This instance reaped dead `nodes`: their users go offline on every instance. */
  nodesReaped(nodes: string[]): void;
  /** This instance was reaped (cut off): every socket is closed (1001), clients reconnect. */
  reapedSelf(): void;
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

/** The connection limits of `opts.limits`, with the defaults filled in. */
function connectionLimits(given: HubOptions["limits"]): ConnectionLimits {
  const requestBurst = given.requestBurst ?? REQUEST_LIMIT_DEFAULTS.requestBurst;
  return {
    ratePerSecond: given.ratePerSecond,
    burst: given.burst,
    maxText: given.maxText,
    helloTimeoutMs: given.helloTimeoutMs ?? REQUEST_LIMIT_DEFAULTS.helloTimeoutMs,
    authTimeoutMs: given.authTimeoutMs ?? REQUEST_LIMIT_DEFAULTS.authTimeoutMs,
    floodMs: given.floodMs ?? REQUEST_LIMIT_DEFAULTS.floodMs,
    // Frames stashed during the handshake are replayed through the request
    // budget: never more than its burst.
    backlog: given.backlog ?? requestBurst,
    backlogBytes: given.backlogBytes ?? REQUEST_LIMIT_DEFAULTS.backlogBytes,
    requestBurst,
    requestPerSecond: given.requestPerSecond ?? REQUEST_LIMIT_DEFAULTS.requestPerSecond,
  };
}

/** Loads salons, members and requests, and starts the actor system. */
export async function createHub(opts: HubOptions): Promise<Hub> {
  const { store, accounts, log } = opts;
  const now = opts.now ?? Date.now;
  const metrics = opts.metrics ?? noMetrics;
  const writer = new MessageWriter(
    store,
    (e) => log.error("a message callback failed", { event: "message_callback_failed", error: e }),
    metrics,
    // Several instances: each direct conversation's writers commit in id order (cluster_directs.ts).
    opts.cluster && store.cluster ? (batch) => store.cluster!.appendOrdered(batch) : undefined,
  );
  const index = new MembershipIndex();
  const [salons, memberships, requests] = await Promise.all([
    store.listSalons(),
    store.listMemberships(),
    store.listJoinRequests(),
  ]);
  const byId = new Map<number, KnownSalon>(
    salons.map((s) => [s.id, { ...s, key: nameKey(s.name) }]),
  );
  for (const m of memberships) index.add(m.user.id, byId.get(m.salonId)!.key);
  const users = new UserDirectory(store);
  for (const m of memberships) users.remember(m.user);

  const ctx: HubContext = {
    store,
    accounts,
    log,
    security: opts.security ?? silentSecurityLog,
    metrics,
    now,
    writer,
    salons: byId,
    users,
    memberships: index,
    server: () => server,
    salonRef: (key: string): AnyActorRef | undefined => server.system.get(salonSystemId(key)),
    sessionsOf: (userId: number): Session[] =>
      server.getSnapshot().context.sessions.get(userId) ?? [],
    lifecycle: () => (server.getSnapshot().value as { lifecycle: string }).lifecycle,
    salonRelay: () => cluster.relay,
    directsElsewhere: () => cluster.directs,
  };
  const limits = connectionLimits(opts.limits);
  // Several instances: the parts are started once the salon actors are (no client can commit before).
  const cluster: HubCluster = {};
  const elsewhere = () => server.getSnapshot().context.elsewhere;
  const relayOf = opts.cluster ? () => cluster.relay! : undefined;
  const handshakes = createHandshakes(ctx);
  const connections = createConnections(ctx);

  const server: Actor<typeof serverMachine> = createActor(serverMachine, {
    systemId: "server",
    ...(opts.clock ? { clock: opts.clock } : {}),
    input: {
      salons: salonInputs(
        salons,
        memberships,
        requests,
        {
          ...salonDeps(ctx, index, relayOf),
          // Several instances (issue 15): members online on another instance count online.
          ...(opts.cluster?.presence
            ? { onlineElsewhere: (userId: number) => elsewhere().has(userId) }
            : {}),
        },
        opts.presenceSalonMax,
      ),
      maxSessions: opts.maxSessions,
      presenceIntervalMs: opts.presenceIntervalMs ?? 1000,
      limits,
      ...(opts.limits.membershipRate ? { membershipRate: opts.limits.membershipRate } : {}),
      ...(opts.limits.historyRate ? { historyRate: opts.limits.historyRate } : {}),
      deps: {
        reportError: (message) => log.error(message, { event: "actor_error" }),
        now,
        drain: async () => {
          await connections.drainAndClose("server shutting down");
        },
        stopped: () => opts.onStopped?.(),
        sanctionExpired: (s) =>
          log.info(`kick ${s.id} of user ${s.userId} ran out`, {
            event: "sanction_expired",
            sanction: s.id,
            kind: s.kind,
          }),
        salonsOf: function* (userId) {
          for (const key of index.salonsOf(userId)) {
            const ref = ctx.salonRef(key);
            if (ref) yield ref as unknown as SalonPort;
          }
        },
        knownUser: (name) => users.known(name),
        commitDirect: (from, to, text, done) => commitDirect(ctx, from, to, text, done),
        delivered: (frames) => metrics.delivered(frames),
        // Several instances: directs and direct typing cross them (cluster_directs.ts).
        ...(opts.cluster
          ? {
            relayDirect: (fromUserId, result) =>
              cluster.directs?.committed({
                id: result.item.id,
                ...(result.prev === undefined ? {} : { prev: result.prev }),
                fromUserId,
                toUserId: result.toUserId,
                item: result.item,
              }),
            typingElsewhere: (toUserId, from) => cluster.directs?.typing(toUserId, from),
          }
          : {}),
      },
      connectionDeps: {
        now,
        authenticate: (frame, address) => handshakes.authenticate(frame, address),
        welcome: (session, token, ref, catchup) =>
          welcomeEvent(
            publicUser(session.user),
            token,
            welcomeSalons(salonViews(ctx, session.user.id), catchup),
            {
              maxTextLength: limits.maxText,
              messagesPerSecond: limits.ratePerSecond,
              editMinutes: opts.editMinutes ?? DEFAULT_EDIT_MINUTES,
            },
            ref,
            catchup?.directs,
          ),
        flooded: (session, address, detail) =>
          ctx.security.record({
            event: "flood",
            username: session.user.username,
            address,
            outcome: "closed",
            detail,
          }),
        attach: (session) => {
          connections.welcomed(session.id, session.user.username);
          server.send({ type: "SESSION_UP", session });
          cluster.presence?.sessionUp(session);
          cluster.directs?.sessionUp(session.user.id);
        },
        detach: (session) => {
          server.send({ type: "SESSION_DOWN", session });
          cluster.presence?.sessionDown(session);
          cluster.directs?.sessionDown(session.user.id);
        },
        salon: (name) => ctx.salonRef(nameKey(name)),
        direct: (session, ref, to, text) => server.send({ type: "DIRECT", session, ref, to, text }),
        moderate: (session, frame) => moderate(ctx, moderation, session, frame),
        directHistory: (session, ref, other, query) =>
          directHistory(ctx, session, ref, other, query),
        directRead: (session, ref, other, id) => directRead(ctx, session, ref, other, id),
        conversations: (session, ref, query) => directConversations(ctx, session, ref, query),
        watch: (session, ref, names) => server.send({ type: "WATCH", session, ref, users: names }),
        typingTo: (session, ref, to) => server.send({ type: "TYPING_TO", session, ref, to }),
        rateLimited: (limit) => metrics.rateLimited(limit),
        messages: (session, frame) => messageAction(ctx, messageDesk, session, frame),
      },
    },
  });
  server.subscribe({
    error: (e) => {
      log.error("the server actor failed", { event: "server_actor_failed", error: e });
      opts.onFatal?.(e);
    },
  });
  server.start();
  // Several instances (issue 15): every cross-instance part, once the salon actors run.
  if (opts.cluster) {
    await startHubCluster(cluster, {
      ctx,
      options: opts.cluster,
      maxSessions: opts.maxSessions,
      handshakes,
    });
  }
  accounts.onRegistered = (user) => hub.userRegistered(user);
  accounts.onCredentialsRevoked = (revoked) =>
    cluster.users ? cluster.users.revoked(revoked) : handshakes.revokeSessions(revoked);
  accounts.onlineCount = (salonId) => hub.onlineCount(salonId);
  accounts.salonSize = (salonId) => salonSize(ctx, salonId);

  const send = (event: ServerEvent) => server.send(event);

  const moderation = new Moderation({
    store,
    accounts,
    now,
    kickMinutes: opts.kickMinutes ?? 5,
    shutdownSeconds: opts.shutdownSeconds ?? 10,
    maxText: limits.maxText,
    live: cluster.users?.live ?? livePorts(ctx),
    log,
    ...(cluster.shutdown ? { clusterShutdown: cluster.shutdown } : {}),
  });

  const messageDesk = new MessageDesk({
    store,
    accounts,
    live: cluster.users?.messages ?? messagePorts(ctx),
    editMinutes: opts.editMinutes ?? DEFAULT_EDIT_MINUTES,
    maxText: limits.maxText,
    now,
    log,
  });

  // Sanctions in force come back as actors: a restart neither forgets nor extends a kick.
  for (const sanction of await store.listActiveSanctions(now())) {
    const target = await store.userById(sanction.userId);
    send({
      type: "TRACK_SANCTION",
      sanction,
      username: target?.username ?? String(sanction.userId),
    });
  }

  // Mutes in force come back as actors too, at their stored end (PROTOCOL 5.4).
  for (const mute of await store.listActiveMutes(now())) {
    const target = await store.userById(mute.userId);
    const salon = mute.salonId === null ? undefined : byId.get(mute.salonId);
    if (mute.salonId !== null && !salon) continue; // never turn a salon's mute into one everywhere
    send({
      type: "TRACK_MUTE",
      mute,
      username: target?.username ?? String(mute.userId),
      ...(salon ? { salon: { name: salon.name, key: salon.key } } : {}),
      replaced: [],
    });
  }

  const inspection = createInspection({
    server,
    connections: () => connections.actors(),
    now,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });

  let signalled = false;
  const hub: Hub = {
    moderation,
    messages: messageDesk,
    isShuttingDown: () => ctx.lifecycle() !== "running",
    signal() {
      // The first signal starts the countdown (unless one already runs); any later one skips
      // it, even if it arrives while the first is still being recorded.
      if (!signalled && ctx.lifecycle() === "running") {
        signalled = true;
        moderation.shutdown({ username: "server", userId: null, role: "admin", via: "signal" })
          .catch((e) => log.error("shutdown failed", { event: "shutdown_failed", error: e }));
      } else {
        signalled = true;
        send({ type: "SKIP_SHUTDOWN" });
      }
    },
    actorTree: () => actorTree(server, connections.actors()),
    liveCounts: () => liveCounts(server, connections.actors()),
    nodesReaped: (nodes) => cluster.presence?.reapedOthers(nodes),
    reapedSelf() {
      if (cluster.presence) closeReaped(connections);
    },
    inspection,
    server,
    connect: (socket, address, connectOpts) => connections.connect(socket, address, connectOpts),
    onlineCount: (salonId) => onlineCount(ctx, salonId),
    salonViews: (userId) => salonViews(ctx, userId),
    userRegistered(user: UserRecord) {
      const s = summary(user);
      users.remember(s);
      for (const salon of byId.values()) {
        if (salon.policy === "auto") ctx.salonRef(salon.key)?.send({ type: "ADD_MEMBER", user: s });
      }
    },
    async stop() {
      inspection.close("server stopping");
      await connections.drainAndClose("server stopping");
      // Connections whose peers never answered the close: end their actors (and timers) too.
      connections.endAll();
      await stopBeforeActors(cluster); // a check in flight ends before the actors
      server.stop();
      await stopAfterActors(cluster);
    },
  };
  return hub;
}
