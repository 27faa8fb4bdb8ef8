/**
 * The hub's side of presence across instances (issue 15): the settings it
 * takes, starting {@link startClusterPresence} on the hub's actors (the
 * server hears PRESENCE_ELSEWHERE, a connection replaced elsewhere gets
 * REPLACED), and closing every socket when this instance finds itself reaped.
 *
 * @module
 */

import { CLOSE } from "../actors/session.ts";
import type { ClusterLink } from "./cluster_channel.ts";
import { type ClusterPresence, startClusterPresence } from "./cluster_presence.ts";
import type { Connections } from "./connections.ts";
import type { HubContext } from "./hub_context.ts";

/** Settings of presence across instances (`HubOptions.cluster.presence`). */
export interface ClusterPresenceSettings {
  /** This instance's node id now (a new one after being reaped). */
  nodeId(): string;
  /** The dead-node delay, ms: sessions of instances silent longer count for nothing. */
  aliveMs: number;
  /** Interval of the rebuild from `live_sessions` and of the session-limit check, ms. */
  checkMs: number;
  /** TESTS ONLY (`StartOptions.testHooks.dropPresencePublishes`): never publish presence. */
  dropPublishes?: boolean;
}

/** Starts presence across instances for the hub of `ctx` (its store has the cluster tables). */
export function startHubPresence(
  ctx: HubContext,
  link: ClusterLink,
  settings: ClusterPresenceSettings,
  maxSessions: number,
): Promise<ClusterPresence> {
  const cluster = ctx.store.cluster;
  if (!cluster) {
    return Promise.reject(new Error("presence across instances needs the MySQL cluster tables"));
  }
  const server = ctx.server();
  return startClusterPresence({
    link,
    cluster,
    nodeId: settings.nodeId,
    aliveMs: settings.aliveMs,
    checkMs: settings.checkMs,
    maxSessions,
    log: ctx.log,
    dropPublishes: settings.dropPublishes,
    targets: {
      elsewhere: (userId, username, online) =>
        server.send({ type: "PRESENCE_ELSEWHERE", userId, username, online }),
      replace: (sessionId) => {
        const connection = server.system.get(sessionId);
        // Closed meanwhile (replaced here already, or gone): nothing to do.
        if (connection?.getSnapshot().status === "active") connection.send({ type: "REPLACED" });
      },
      holds: (userId, sessionId) => ctx.sessionsOf(userId).some((s) => s.id === sessionId),
    },
  });
}

/**
 * This instance was reaped (cut off longer than the dead-node delay; the
 * others showed its users offline): every socket is closed with 1001, and
 * clients reconnect (docs/protocol.md, "Presence and sessions across instances").
 */
export function closeReaped(connections: Pick<Connections, "actors">): void {
  for (const actor of connections.actors()) {
    actor.getSnapshot().context.socket.close(
      CLOSE.goingAway,
      "this instance was cut off from the others; reconnect",
    );
  }
}
