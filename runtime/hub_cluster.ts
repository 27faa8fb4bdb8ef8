/**
 * The hub's cross-instance parts (issue 15), started together once the salon
 * actors run, only with `CAUSERIE_BUS`: the salon relay and its recovery,
 * moderation (`users`), the shutdown countdown, presence and sessions, and
 * direct conversations. Each one is its own module; this file only wires
 * them to the hub's context and stops them in order.
 *
 * @module
 */

import type { Bus } from "../bus/bus.ts";
import { type ClusterLink, clusterLink } from "./cluster_channel.ts";
import { type ClusterDirects, startClusterDirects } from "./cluster_directs.ts";
import type { ClusterPresence } from "./cluster_presence.ts";
import { type ClusterShutdown, startClusterShutdown } from "./cluster_shutdown.ts";
import { type ClusterUsers, startClusterUsers } from "./cluster_users.ts";
import type { Handshakes } from "./handshake.ts";
import type { HubContext } from "./hub_context.ts";
import { type ClusterPresenceSettings, startHubPresence } from "./hub_presence.ts";
import { messagePorts } from "./message_ports.ts";
import { livePorts } from "./moderation_ports.ts";
import { deliverSalonEvent } from "./salon_event_targets.ts";
import { type SalonRecovery, startSalonRecovery } from "./salon_recovery.ts";
import {
  SALON_CHECK_MS,
  type SalonRelay,
  type SalonRelayOptions,
  startSalonRelay,
} from "./salon_relay.ts";
import { salonReplicas } from "./salon_replicas.ts";

/** `HubOptions.cluster`: the bus, the timings and the test hooks of the parts. */
export type HubClusterOptions =
  & Omit<SalonRelayOptions, "store" | "salonIds" | "targets" | "log" | "link">
  & {
    /** The bus between instances. */
    bus: Bus;
    /**
     * TESTS ONLY: apply moderation effects here but never publish them on the
     * `users` channel (`StartOptions.testHooks.dropUserPublishes`).
     */
    dropUserPublishes?: boolean;
    /** Presence, `live_sessions` and the session limit across instances (cluster_presence.ts). */
    presence?: ClusterPresenceSettings;
    /**
     * TESTS ONLY: acknowledge and deliver direct messages here but never
     * publish them (`StartOptions.testHooks.dropDirectPublishes`).
     */
    dropDirectPublishes?: boolean;
  };

/** The running parts (each absent in one process, or until started). */
export interface HubCluster {
  /** Salon messages, memberships and salon events. */
  relay?: SalonRelay;
  /** Memberships, requests and slow modes read back from MySQL. */
  recovery?: SalonRecovery;
  /** Moderation across instances. */
  users?: ClusterUsers;
  /** The shutdown countdown across instances. */
  shutdown?: ClusterShutdown;
  /** Presence, `live_sessions` and the session limit. */
  presence?: ClusterPresence;
  /** Direct conversations. */
  directs?: ClusterDirects;
}

/** What {@link startHubCluster} wires the parts to. */
export interface HubClusterWiring {
  /** The hub's shared context. */
  ctx: HubContext;
  /** The options. */
  options: HubClusterOptions;
  /** `CAUSERIE_MAX_SESSIONS`. */
  maxSessions: number;
  /** The hello checks (credential revocations close sessions through them). */
  handshakes: Handshakes;
}

/** Starts every part into `parts` (filled in as each one starts). */
export async function startHubCluster(parts: HubCluster, wiring: HubClusterWiring): Promise<void> {
  const { ctx, options, handshakes } = wiring;
  const { store, log, now, metrics, users } = ctx;
  const byId = ctx.salons;
  // One origin per process: every cluster channel ignores what this process published.
  const link: ClusterLink = clusterLink(options.bus);
  const {
    bus: _bus,
    presence: _presence,
    dropUserPublishes: _users,
    dropDirectPublishes: _directs,
    ...relayOptions
  } = options;
  parts.relay = await startSalonRelay({
    ...relayOptions,
    link,
    store,
    salonIds: [...byId.keys()],
    log,
    targets: {
      deliver: (salonId, messages) => {
        const s = byId.get(salonId);
        if (s) ctx.salonRef(s.key)?.send({ type: "RELAYED", messages });
      },
      membership: (salonId, change) => {
        const s = byId.get(salonId);
        const ref = s ? ctx.salonRef(s.key) : undefined;
        if (!ref) return;
        if ("joined" in change) {
          users.remember(change.joined);
          ref.send({ type: "JOINED_ELSEWHERE", user: change.joined, announce: change.announce });
        } else ref.send({ type: "LEFT_ELSEWHERE", userId: change.left });
      },
      event: (salonId, event) => deliverSalonEvent(ctx, salonId, event),
    },
  });
  // What the bus lost of memberships, requests and slow modes, read back from MySQL.
  parts.recovery = startSalonRecovery({
    link,
    store,
    log,
    checkMs: options.checkMs ?? SALON_CHECK_MS,
    replicas: salonReplicas(ctx),
  });
  // Moderation: kicks, bans, mutes, roles, notices, reports and revocations reach every
  // instance; the check re-reads what the bus lost from MySQL.
  parts.users = await startClusterUsers({
    link,
    ctx,
    local: livePorts(ctx),
    localMessages: messagePorts(ctx),
    handshakes,
    ...(options.checkMs === undefined ? {} : { checkMs: options.checkMs }),
    dropPublishes: options.dropUserPublishes === true,
  });
  // An admin's shutdown counts down on every instance to the same deadline.
  parts.shutdown = await startClusterShutdown({
    link,
    now,
    log,
    ...(store.cluster ? { record: store.cluster } : {}),
    targets: {
      start: (seconds, firstTickMs) => {
        if (ctx.lifecycle() !== "running") return false;
        ctx.server().send({ type: "START_SHUTDOWN", seconds, firstTickMs });
        return true;
      },
      cancel: () => {
        if (ctx.lifecycle() !== "shuttingDown") return false;
        ctx.server().send({ type: "CANCEL_SHUTDOWN" });
        return true;
      },
    },
  });
  // Presence and sessions (needs the node id: absent in tests of the parts alone).
  if (options.presence) {
    parts.presence = await startHubPresence(ctx, link, options.presence, wiring.maxSessions);
  }
  // Direct conversations: messages in each conversation's order, edits, deletes, read markers
  // and typing.
  parts.directs = await startClusterDirects({
    link,
    store,
    log,
    ...(options.gapWaitMs === undefined ? {} : { gapWaitMs: options.gapWaitMs }),
    ...(options.checkMs === undefined ? {} : { checkMs: options.checkMs }),
    dropPublishes: options.dropDirectPublishes === true,
    now,
    targets: {
      toUser: (userId, frame) => {
        const sessions = ctx.sessionsOf(userId);
        for (const s of sessions) s.send(frame);
        return sessions.length;
      },
      isOnline: (userId) => ctx.sessionsOf(userId).length > 0,
      delivered: (frames) => metrics.delivered(frames),
    },
  });
}

/** Stops what must end before the actors do (the checks in flight read them). */
export async function stopBeforeActors(parts: HubCluster): Promise<void> {
  await parts.users?.stop();
  await parts.recovery?.stop();
}

/** Stops the rest once the actors are stopped. */
export async function stopAfterActors(parts: HubCluster): Promise<void> {
  await parts.relay?.stop();
  await parts.shutdown?.stop();
  await parts.presence?.stop();
  await parts.directs?.stop();
}
