/**
 * Presence and sessions across instances (issue 15, items 2 and 4), only with
 * a bus: every welcomed session of this instance is a row of `live_sessions`
 * (MySQL, the truth); a user's first session on this instance, and their last
 * one leaving it, is published on the `presence` channel; every instance keeps
 * which users are online on which other instance and tells the hub when a
 * user comes online elsewhere or has no session left on any other instance
 * (the server machine's PRESENCE_ELSEWHERE), so that presence, `watch`,
 * `salon_stats`, online counts, `who` and the admin's user list count them.
 *
 * Recovery (the bus is at most once): on `resubscribed` and every
 * `checkMs`, "online elsewhere" is rebuilt from `live_sessions` over the
 * instances that beat within the dead-node delay, and the differences are
 * applied as presence changes. What the bus said while a rebuild read the
 * database wins over the rebuild (it is newer). A session whose row could not
 * be written is written again at each check.
 *
 * The session limit counts the rows of live instances: when a new session
 * here puts its user over the limit, the oldest sessions anywhere (by `since`)
 * are replaced: here at once, elsewhere by an order on the bus to the
 * instance holding them. A lost order is harmless: every instance checks
 * at each check which users are over the limit and replaces its own
 * sessions among the oldest.
 *
 * Reaping: the instance that reaped dead nodes publishes their ids; every
 * instance drops their users (a missed publication is caught by the rebuild).
 *
 * Payloads: `{"o",node,u,name,on}` (a user's first/last session on `node`),
 * `{"o",dead:[node...]}` (reaped nodes), `{"o",replace:[[node,session]...]}`.
 *
 * @module
 */

import type { Logger } from "../lib/log.ts";
import type { ClusterStore } from "../store/cluster_store.ts";
import {
  type ClusterChannel,
  type ClusterLink,
  isId,
  openClusterChannel,
  type WireBody,
} from "./cluster_channel.ts";
import { InFlight } from "../lib/in_flight.ts";
import { OutageLog } from "../lib/outage_log.ts";

/** The channel of presence across instances. */
export const PRESENCE_CHANNEL = "presence";

/** Longest node or session id accepted from the bus (the columns are VARCHAR(64)). */
const ID_MAX = 64;
/** Longest username accepted from the bus (the column is VARCHAR(32)). */
const USERNAME_MAX = 32;
/** Most entries of one `dead` or `replace` payload. */
const LIST_MAX = 1000;

/** A message of the presence channel, decoded. */
export type PresenceMessage =
  | { kind: "presence"; node: string; userId: number; username: string; online: boolean }
  | { kind: "dead"; nodes: string[] }
  | { kind: "replace"; sessions: Array<{ node: string; session: string }> };

/** Whether `v` is a node or session id as stored. */
function isShortId(v: unknown): v is string {
  return typeof v === "string" && v.length > 0 && v.length <= ID_MAX;
}

/**
 * Checks a body of the presence channel (hostile input): exactly one of the
 * three shapes, every field of the right type and size; `undefined` refuses it.
 */
export function decodePresencePayload(body: WireBody): PresenceMessage | undefined {
  if ("dead" in body) {
    const d = body.dead;
    if (!Array.isArray(d) || d.length === 0 || d.length > LIST_MAX || !d.every(isShortId)) {
      return undefined;
    }
    return { kind: "dead", nodes: [...d] };
  }
  if ("replace" in body) {
    const r = body.replace;
    if (!Array.isArray(r) || r.length === 0 || r.length > LIST_MAX) return undefined;
    const sessions: Array<{ node: string; session: string }> = [];
    for (const e of r) {
      if (!Array.isArray(e) || e.length !== 2 || !isShortId(e[0]) || !isShortId(e[1])) {
        return undefined;
      }
      sessions.push({ node: e[0], session: e[1] });
    }
    return { kind: "replace", sessions };
  }
  const { node, u, name, on } = body;
  if (
    !isShortId(node) || !isId(u) || typeof name !== "string" || name.length === 0 ||
    name.length > USERNAME_MAX || typeof on !== "boolean"
  ) return undefined;
  return { kind: "presence", node, userId: u, username: name, online: on };
}

/** A session as this part sees it. */
export interface PresenceSession {
  /** The connection's id (unique in the process). */
  readonly id: string;
  /** Its user. */
  readonly user: { readonly id: number; readonly username: string };
}

/** Where cluster presence hands what it finds: the hub. */
export interface PresenceTargets {
  /** `userId` now has a session on another instance (`online`), or none on any other. */
  elsewhere(userId: number, username: string, online: boolean): void;
  /** Closes the session `sessionId` of this instance as replaced (4409), if still open. */
  replace(sessionId: string): void;
  /**
   * Whether the server still holds the session (absent: always). A session
   * missing at two checks in a row ended without being told (a failed
   * connection actor): its row is removed, so that it leaves no ghost.
   */
  holds?(userId: number, sessionId: string): boolean;
}

/** Options of {@link startClusterPresence}. */
export interface ClusterPresenceOptions {
  /** The bus and this process's origin. */
  link: ClusterLink;
  /** The cluster tables. */
  cluster: ClusterStore;
  /** This instance's node id now (a new one after being reaped). */
  nodeId(): string;
  /** The dead-node delay, ms: only instances that beat within it count. */
  aliveMs: number;
  /** Interval of the rebuild and of the session-limit check, ms. */
  checkMs: number;
  /** Most sessions per user, over every instance. */
  maxSessions: number;
  /** The hub. */
  targets: PresenceTargets;
  /** Logging (user ids, never a text). */
  log: Logger;
  /**
   * TESTS ONLY: never publish presence changes (first/last session) nor
   * replace orders, so that the others learn them from the periodic rebuild
   * and the periodic session-limit check. Set only through
   * `StartOptions.testHooks` (no environment variable reaches it).
   */
  dropPublishes?: boolean;
}

/** This instance's side of presence across instances. */
export interface ClusterPresence {
  /** A session was welcomed here. */
  sessionUp(session: PresenceSession): void;
  /** A welcomed session ended here. */
  sessionDown(session: PresenceSession): void;
  /** This instance reaped `nodes`: published, and their users dropped here. */
  reapedOthers(nodes: string[]): void;
  /** Reads `live_sessions` and applies the differences now (tests, resubscribe). */
  rebuild(): Promise<void>;
  /**
   * One periodic check now (tests; the timer runs it every `checkMs`):
   * sessions the server no longer holds, rows to write again, the rebuild,
   * the session limit.
   */
  check(): Promise<void>;
  /** Unsubscribes and stops the timer; waits for the writes in flight. */
  stop(): Promise<void>;
}

/** One session of this instance and its row. */
interface LocalSession {
  /** Its user's name (for the publication). */
  username: string;
  /** The node id its row was written under; undefined until written. */
  node?: string;
  /** Every node id a write was tried under (a failed write may have stored it). */
  tried: Set<string>;
  /** Missing from the server's registry at the last check. */
  missing: boolean;
  /** The last write of its row (add, then remove), in order. */
  chain: Promise<unknown>;
  /** Its row could not be written: written again at the next check. */
  retry: boolean;
  /** Ended: no more writes but its removal. */
  ended: boolean;
}

/** Starts presence across instances; resolves once subscribed. */
export async function startClusterPresence(
  opts: ClusterPresenceOptions,
): Promise<ClusterPresence> {
  const { cluster, log, targets } = opts;
  /** This instance's sessions, by user id then session id. */
  const local = new Map<number, Map<string, LocalSession>>();
  /** Users this instance last published online. */
  const announced = new Set<number>();
  /** Users online on other instances: node id to user id to username. */
  const remote = new Map<string, Map<number, string>>();
  /** On how many other instances each user is online. */
  const remoteCount = new Map<number, number>();
  /** `node\nuser` keys the bus changed while a rebuild was reading (they win over it). */
  let touched: Set<string> | undefined;
  /** Sessions told to close as replaced (told once). */
  const replacing = new Set<string>();
  const inFlight = new InFlight();
  const track = <T>(p: Promise<T>): Promise<T> => inFlight.track(p);
  // A failing write is logged once per outage, and once when it works again.
  const outages = new OutageLog(log);
  const failed = (what: string, error: unknown) =>
    outages.failed(
      "live_sessions",
      `${what} failed; live sessions are written again at each check`,
      error,
    );
  const worked = () => outages.worked("live_sessions", "live sessions are written again");

  const setRemote = (node: string, userId: number, username: string, online: boolean) => {
    let users = remote.get(node);
    if (online) {
      if (!users) remote.set(node, users = new Map());
      if (users.has(userId)) return;
      users.set(userId, username);
      const n = (remoteCount.get(userId) ?? 0) + 1;
      remoteCount.set(userId, n);
      if (n === 1) targets.elsewhere(userId, username, true);
    } else {
      if (!users?.delete(userId)) return;
      if (users.size === 0) remote.delete(node);
      const n = (remoteCount.get(userId) ?? 1) - 1;
      if (n > 0) remoteCount.set(userId, n);
      else {
        remoteCount.delete(userId);
        targets.elsewhere(userId, username, false);
      }
    }
  };
  const dropNode = (node: string) => {
    for (const [userId, username] of [...remote.get(node) ?? []]) {
      setRemote(node, userId, username, false);
    }
  };

  const channel: ClusterChannel = await openClusterChannel<PresenceMessage>({
    link: opts.link,
    name: PRESENCE_CHANNEL,
    decode: decodePresencePayload,
    log,
    receive: (m) => {
      const own = opts.nodeId();
      if (m.kind === "presence") {
        if (m.node === own) return;
        touched?.add(`${m.node}\n${m.userId}`);
        setRemote(m.node, m.userId, m.username, m.online);
      } else if (m.kind === "dead") {
        for (const node of m.nodes) {
          if (node === own) continue;
          for (const userId of remote.get(node)?.keys() ?? []) touched?.add(`${node}\n${userId}`);
          dropNode(node);
        }
      } else {
        for (const { node, session } of m.sessions) if (node === own) replaceHere(session);
      }
    },
  });

  /** Publishes `userId`'s presence on this instance when it differs from what was published. */
  const announce = (userId: number, username: string) => {
    const online = (local.get(userId)?.size ?? 0) > 0;
    if (online === announced.has(userId)) return;
    if (online) announced.add(userId);
    else announced.delete(userId);
    if (opts.dropPublishes) return;
    channel.publish({ node: opts.nodeId(), u: userId, name: username, on: online });
  };

  const replaceHere = (sessionId: string) => {
    if (replacing.has(sessionId)) return;
    for (const sessions of local.values()) {
      if (!sessions.has(sessionId)) continue;
      replacing.add(sessionId);
      targets.replace(sessionId);
      return;
    }
  };

  /**
   * Replaces the oldest sessions of `userId` beyond the limit, over every
   * live instance: this instance's at once; with `order`, the others' by a
   * bus order (without, each instance replaces its own at its check).
   */
  const enforceLimit = async (userId: number, order: boolean) => {
    const sessions = await track(cluster.userLiveSessions(userId, opts.aliveMs));
    const excess = sessions.length - opts.maxSessions;
    if (excess <= 0) return;
    const own = opts.nodeId();
    const elsewhere: Array<[string, string]> = [];
    for (const s of sessions.slice(0, excess)) {
      if (s.nodeId === own) replaceHere(s.sessionId);
      else elsewhere.push([s.nodeId, s.sessionId]);
    }
    if (order && elsewhere.length > 0 && !opts.dropPublishes) {
      channel.publish({ replace: elsewhere });
    }
  };

  /** Writes the row of a live session (under the node id now). */
  const write = (userId: number, id: string, s: LocalSession) => {
    const username = s.username;
    const node = opts.nodeId();
    s.retry = false;
    s.chain = track(s.chain.then(async () => {
      if (s.ended) return;
      try {
        // A write that failed may have stored the row all the same: remove it before trying again.
        if (s.tried.has(node)) await cluster.removeLiveSession(node, id);
        s.tried.add(node);
        const stored = await cluster.addLiveSession(node, id, userId);
        if (!stored) {
          // This node was reaped and has not registered again yet: written at the next check.
          s.retry = true;
          return;
        }
        s.node = node;
        worked();
      } catch (e) {
        s.retry = true;
        failed("writing a live session", e);
      }
      announce(userId, username);
      if (s.node && (remoteCount.get(userId) ?? 0) > 0) {
        await enforceLimit(userId, true).catch((e) => failed("checking the session limit", e));
      }
    }));
  };

  let rebuilding = false;
  const rebuild = async () => {
    if (rebuilding) return;
    rebuilding = true;
    const seen = touched = new Set();
    try {
      const rows = await track(cluster.liveUsersByNode(opts.aliveMs));
      const own = opts.nodeId();
      const next = new Map<string, Map<number, string>>();
      for (const r of rows) {
        if (r.nodeId === own) continue;
        let users = next.get(r.nodeId);
        if (!users) next.set(r.nodeId, users = new Map());
        users.set(r.userId, r.username);
      }
      for (const [node, users] of next) {
        for (const [userId, username] of users) {
          if (!seen.has(`${node}\n${userId}`)) setRemote(node, userId, username, true);
        }
      }
      for (const [node, users] of [...remote]) {
        for (const [userId, username] of [...users]) {
          if (next.get(node)?.has(userId) || seen.has(`${node}\n${userId}`)) continue;
          setRemote(node, userId, username, false);
        }
      }
      worked();
    } catch (e) {
      failed("reading live sessions", e);
    } finally {
      touched = undefined;
      rebuilding = false;
    }
  };

  const check = async () => {
    const gone: PresenceSession[] = [];
    for (const [userId, sessions] of local) {
      for (const [id, s] of sessions) {
        if (targets.holds?.(userId, id) === false) {
          if (s.missing) gone.push({ id, user: { id: userId, username: s.username } });
          s.missing = true;
          continue;
        }
        s.missing = false;
        if (s.retry && !s.ended) write(userId, id, s);
      }
    }
    for (const session of gone) down(session);
    await rebuild();
    try {
      const over = await track(cluster.usersOverSessionLimit(opts.maxSessions, opts.aliveMs));
      for (const userId of over) if (local.has(userId)) await enforceLimit(userId, false);
    } catch (e) {
      failed("checking the session limit", e);
    }
  };

  /** A session ended here: its row is removed, then its user's presence here published. */
  function down(session: PresenceSession): void {
    const userId = session.user.id;
    const sessions = local.get(userId);
    const s = sessions?.get(session.id);
    if (!sessions || !s) return;
    s.ended = true;
    sessions.delete(session.id);
    replacing.delete(session.id);
    if (sessions.size === 0) local.delete(userId);
    s.chain = track(s.chain.then(async () => {
      for (const node of s.tried) {
        await cluster.removeLiveSession(node, session.id).then(worked, (e) =>
          // The row stays until this node is reaped or stops: the others count it meanwhile.
          failed("removing a live session", e));
      }
      announce(userId, session.user.username);
    }));
  }

  let stopped = false;
  let checking: Promise<void> | undefined;
  /** One check at a time: a call while one runs joins it. */
  const runCheck = (): Promise<void> =>
    checking ??= check().finally(() => {
      checking = undefined;
    });
  const timer = setInterval(() => {
    if (!stopped) runCheck();
  }, opts.checkMs);
  const unlisten = opts.link.bus.onResubscribed(() => {
    if (!stopped) track(rebuild());
  });
  // Who is online elsewhere already.
  await rebuild();

  return {
    sessionUp(session) {
      const userId = session.user.id;
      let sessions = local.get(userId);
      if (!sessions) local.set(userId, sessions = new Map());
      const s: LocalSession = {
        username: session.user.username,
        chain: Promise.resolve(),
        retry: false,
        ended: false,
        tried: new Set(),
        missing: false,
      };
      sessions.set(session.id, s);
      write(userId, session.id, s);
    },
    sessionDown: down,
    reapedOthers(nodes) {
      if (nodes.length === 0) return;
      channel.publish({ dead: nodes });
      for (const node of nodes) dropNode(node);
    },
    rebuild,
    check: runCheck,
    async stop() {
      stopped = true;
      clearInterval(timer);
      unlisten();
      await checking;
      await channel.stop();
      await inFlight.settled();
    },
  };
}
