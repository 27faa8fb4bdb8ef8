/**
 * Direct conversations across instances (issue 15, items 2 and 3), only with
 * a bus: direct messages, their `edited`/`deleted`, direct `read` markers
 * and direct `typing`, on one channel, `directs` (payloads in
 * direct_payload.ts).
 *
 * Messages: after a commit (the conversation's row locked, so that within a
 * conversation commit order is id order; store/mysql_direct_order.ts) the
 * server sends `ok` and hands the message here ({@link ClusterDirects.committed}):
 * it is offered to this instance's orders and published with `p`, the id
 * before it in its conversation. Every instance keeps, for each user with a
 * session there, one {@link DirectOrder} per conversation heard of since the
 * user came, which writes the same `direct` frame to the user's sessions
 * there in increasing ids, waits for a missing predecessor, and reads the
 * conversation from MySQL when it stays missing. A user's orders start after
 * their baseline (the newest id of all their conversations when their first
 * session came here) and are forgotten with their last session.
 *
 * Whatever the bus loses is read from MySQL: after the wait, at once for every
 * order after the bus says `resubscribed`, and on the periodic check, which
 * reads the conversation rows (`conversations.latest_id`) of the users here
 * that changed lately and catches the last message of an instance that died
 * between commit and publish.
 *
 * `edited`/`deleted`, `read` and `typing` are live only: delivered on every
 * instance as they come, never recovered (history, `welcome` and
 * `conversations` read MySQL).
 *
 * @module
 */

import { directEvent, readEvent, typingEvent, type UserRef } from "../protocol/events.ts";
import { deletedEvent, editedEvent } from "../protocol/edit_events.ts";
import { HISTORY_MAX } from "../protocol/frames.ts";
import type { Logger } from "../lib/log.ts";
import type { Store, StoredMessage } from "../store/store.ts";
import { type ClusterChannel, type ClusterLink, openClusterChannel } from "./cluster_channel.ts";
import { DirectOrder } from "./direct_order.ts";
import {
  changeBody,
  decodeDirectsBody,
  directBody,
  type DirectsPayload,
  type RelayedDirect,
} from "./direct_payload.ts";
import { GAP_WAIT_MS, SALON_CHECK_MS } from "./salon_relay.ts";
import type { OrderClock } from "./chain_order.ts";
import { OutageLog } from "../lib/outage_log.ts";

/** The channel of direct conversations. */
export const DIRECTS_CHANNEL = "directs";

/**
 * How far back the periodic check looks at conversation rows, ms: a commit
 * whose message time (the writer's clock) is older than this when its row is
 * read, and whose publication was lost, is left to history.
 */
export const CHECK_LOOKBACK_MS = 60_000;

/** Most messages held for a user while their baseline is read. */
const PENDING_MAX = 1000;

/** The sessions of this instance. */
export interface DirectsTargets {
  /** Writes `frame` to every session of `userId` here; how many. */
  toUser(userId: number, frame: string): number;
  /** Whether `userId` has a session here. */
  isOnline(userId: number): boolean;
  /** Told how many sessions a `direct` frame was written to (metrics). */
  delivered?(frames: number): void;
}

/** Options of {@link startClusterDirects}. */
export interface ClusterDirectsOptions {
  /** The bus and this process's origin. */
  link: ClusterLink;
  /** The store: `cluster` (baselines, the check) and `directHistory` (gap reads). */
  store: Store;
  /** This instance's sessions. */
  targets: DirectsTargets;
  /** Logging (never a text). */
  log: Logger;
  /** Wait before a missing message is read, ms (default: the salons' {@link GAP_WAIT_MS}). */
  gapWaitMs?: number;
  /** Interval of the check, ms (default: the salons' {@link SALON_CHECK_MS}). */
  checkMs?: number;
  /**
   * TESTS ONLY: acknowledge and deliver locally but never publish direct
   * messages, as an instance dying between commit and publish. Set only
   * through `StartOptions.testHooks` (no environment variable reaches it).
   */
  dropPublishes?: boolean;
  /** Timers of the orders' waits (default the global timers). */
  clock?: OrderClock;
  /** The clock, epoch ms (default Date.now). */
  now?: () => number;
}

/** This instance's side of direct conversations across instances. */
export interface ClusterDirects {
  /** A direct message committed here (its `ok` sent): delivered here in order, and published. */
  committed(message: RelayedDirect): void;
  /** A session of `userId` came: its conversations are followed from now on. */
  sessionUp(userId: number): void;
  /** A session of `userId` left: forgotten once the user has none here. */
  sessionDown(userId: number): void;
  /** An `edited`/`deleted` frame of a direct conversation, sent here to `userId`: published. */
  changed(userId: number, frame: string): void;
  /** The `read` marker of `userId` in the conversation `with` moved: published. */
  read(userId: number, withName: string, id: number): void;
  /** A `typing` relayed here from `from` to `toUserId`: published. */
  typing(toUserId: number, from: UserRef): void;
  /** How many users, and conversations of theirs, are followed here (memory; tests). */
  followed(): { users: number; conversations: number };
  /** Unsubscribes and stops every timer. */
  stop(): Promise<void>;
}

/** What is followed of one user with a session here. */
interface UserTrack {
  /** When their first session here came, epoch ms. */
  cameAt: number;
  /** The newest id of all their conversations when they came; undefined while read. */
  baseline: number | undefined;
  /**
   * Until when (epoch ms) a conversation first heard of starts before the
   * baseline: a message committed after the user came may be in the baseline
   * read and heard on the bus only after it.
   */
  freshUntil: number;
  /** Messages offered while the baseline is read. */
  pending: RelayedDirect[];
  /** One order per conversation heard of, by the other side's id. */
  orders: Map<number, DirectOrder<RelayedDirect>>;
}

/** A stored direct message as the orders deliver it. */
function fromStore(m: StoredMessage, userId: number, otherId: number): RelayedDirect {
  const item = {
    id: m.id,
    from: m.from,
    to: m.to!,
    text: m.text,
    at: new Date(m.at).toISOString(),
  };
  return {
    id: m.id,
    ...(m.deleted ? { deleted: true as const } : {}),
    // Read for one order, which delivers to its own user whoever sent it.
    fromUserId: userId,
    toUserId: otherId,
    item,
  };
}

/** Subscribes the `directs` channel and starts the periodic check. */
export async function startClusterDirects(opts: ClusterDirectsOptions): Promise<ClusterDirects> {
  const { link, store, targets, log } = opts;
  const cluster = store.cluster;
  if (!cluster) throw new Error("direct conversations across instances need the MySQL store");
  const clock: OrderClock = opts.clock ?? {
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (id) => clearTimeout(id as number),
  };
  const now = opts.now ?? Date.now;
  const waitMs = opts.gapWaitMs ?? GAP_WAIT_MS;
  const checkMs = opts.checkMs ?? SALON_CHECK_MS;
  const tracks = new Map<number, UserTrack>();
  const outages = new OutageLog(log);
  /** Baseline reads to try again (after a failure), cancelled by a stop. */
  const retries = new Set<unknown>();
  let stopped = false;

  /** Each message's frame, serialized once for both sides. */
  const frames = new WeakMap<RelayedDirect, string>();
  /** Writes delivered messages to the sessions of `userId`. */
  const deliver = (userId: number, messages: RelayedDirect[]) => {
    for (const m of messages) {
      let frame = frames.get(m);
      if (frame === undefined) frames.set(m, frame = directEvent(m.item));
      const n = targets.toUser(userId, frame);
      if (n > 0) targets.delivered?.(n);
    }
  };

  /** The order of `userId`'s conversation with `otherId`, started after `last`. */
  const orderOf = (track: UserTrack, userId: number, otherId: number, last: number) => {
    let order = track.orders.get(otherId);
    if (order) return order;
    order = new DirectOrder<RelayedDirect>(last, {
      deliver: (messages) => deliver(userId, messages),
      readAfter: async (after) => {
        const page = await store.directHistory(userId, otherId, { after, limit: HISTORY_MAX });
        return {
          messages: page.messages.map((m) => fromStore(m, userId, otherId)),
          more: page.more,
        };
      },
      clock,
      waitMs,
      onError: (error) =>
        outages.failed(
          "direct_gap_read",
          "reading missed direct messages failed; trying again",
          error,
        ),
    });
    track.orders.set(otherId, order);
    return order;
  };

  /** Offers `m` to the order of `userId` (who sent or received it), if followed here. */
  const offerTo = (userId: number, m: RelayedDirect) => {
    const track = tracks.get(userId);
    if (!track) return;
    if (track.baseline === undefined) {
      if (track.pending.length < PENDING_MAX) track.pending.push(m);
      return;
    }
    const otherId = m.fromUserId === userId ? m.toUserId : m.fromUserId;
    const order = track.orders.get(otherId);
    if (order) return order.offer([m]);
    // A conversation first heard of: a message committed since the user came is theirs to get,
    // even when the baseline read already saw it (it was not in their welcome).
    const fresh = now() <= track.freshUntil || Date.parse(m.item.at) >= track.cameAt;
    const last = fresh ? Math.min(track.baseline, m.prev ?? track.baseline) : track.baseline;
    orderOf(track, userId, otherId, last).offer([m]);
  };
  const offer = (m: RelayedDirect) => {
    offerTo(m.fromUserId, m);
    if (m.toUserId !== m.fromUserId) offerTo(m.toUserId, m);
  };

  /** Reads the baseline of a user who came; the messages held meanwhile are offered then. */
  const loadBaseline = (userId: number, track: UserTrack) => {
    if (stopped || tracks.get(userId) !== track) return;
    cluster.conversationBaseline(userId).then((baseline) => {
      outages.worked("direct_baseline", "reading users' direct conversations works again");
      if (tracks.get(userId) !== track) return; // left meanwhile
      track.baseline = baseline;
      track.freshUntil = now() + waitMs;
      const held = track.pending;
      track.pending = [];
      for (const m of held) {
        const otherId = m.fromUserId === userId ? m.toUserId : m.fromUserId;
        // Heard after the user came: delivered even if committed just before the read.
        const last = Math.min(baseline, m.prev ?? baseline);
        orderOf(track, userId, otherId, last).offer([m]);
      }
    }, (error) => {
      outages.failed(
        "direct_baseline",
        "reading a user's direct conversations failed; trying again",
        error,
      );
      if (!stopped && tracks.get(userId) === track) {
        const timer = clock.setTimeout(() => {
          retries.delete(timer);
          loadBaseline(userId, track);
        }, checkMs);
        retries.add(timer);
      }
    });
  };

  const forget = (userId: number) => {
    const track = tracks.get(userId);
    if (!track) return;
    tracks.delete(userId);
    for (const order of track.orders.values()) order.stop();
  };

  const received = (payload: DirectsPayload) => {
    switch (payload.kind) {
      case "direct":
        return offer(payload.message);
      case "edited":
        targets.toUser(
          payload.userId,
          editedEvent({ with: payload.with }, payload.id, payload.text, payload.editedAt),
        );
        return;
      case "deleted":
        targets.toUser(payload.userId, deletedEvent({ with: payload.with }, payload.id));
        return;
      case "read":
        targets.toUser(payload.userId, readEvent({ with: payload.with }, payload.id));
        return;
      case "typing":
        targets.toUser(
          payload.userId,
          typingEvent({ with: payload.from.username }, payload.from),
        );
        return;
    }
  };

  const channel: ClusterChannel = await openClusterChannel({
    link,
    name: DIRECTS_CHANNEL,
    decode: decodeDirectsBody,
    receive: received,
    log,
  });

  // The periodic check: conversations of the users here that changed lately.
  let checkTimer: ReturnType<typeof setTimeout> | undefined;
  let checking: Promise<void> | undefined;
  const check = async () => {
    for (const userId of [...tracks.keys()]) if (!targets.isOnline(userId)) forget(userId);
    const userIds = [...tracks].filter(([, t]) => t.baseline !== undefined).map(([id]) => id);
    try {
      const rows = await cluster.recentConversations(userIds, now() - CHECK_LOOKBACK_MS);
      outages.worked("direct_check", "the check of direct conversations works again");
      outages.worked("direct_gap_read", "reading missed direct messages works again");
      for (const row of rows) {
        const track = tracks.get(row.userId);
        if (!track || track.baseline === undefined) continue;
        const order = track.orders.get(row.otherId);
        if (order) order.latest(row.latestId);
        else if (row.latestId > track.baseline) {
          orderOf(track, row.userId, row.otherId, track.baseline).latest(row.latestId);
        }
      }
    } catch (error) {
      outages.failed("direct_check", "the check of direct conversations failed", error);
    }
  };
  const runCheck = () => {
    checking ??= check().finally(() => {
      checking = undefined;
    });
    return checking;
  };
  const schedule = () => {
    checkTimer = setTimeout(() => {
      runCheck().finally(() => {
        if (!stopped) schedule();
      });
    }, checkMs);
  };
  schedule();

  // Whatever was published while the bus was away is lost: read it from MySQL.
  const offResubscribed = link.bus.onResubscribed(() => {
    for (const track of tracks.values()) {
      for (const order of track.orders.values()) order.catchUp();
    }
    runCheck();
  });

  return {
    committed(message) {
      offer(message);
      if (!opts.dropPublishes) channel.publish(directBody(message));
    },
    sessionUp(userId) {
      if (tracks.has(userId) || stopped) return;
      const track: UserTrack = {
        cameAt: now(),
        baseline: undefined,
        freshUntil: 0,
        pending: [],
        orders: new Map(),
      };
      tracks.set(userId, track);
      loadBaseline(userId, track);
    },
    sessionDown(userId) {
      if (!targets.isOnline(userId)) forget(userId);
    },
    changed(userId, frame) {
      const body = changeBody(userId, frame);
      if (body) channel.publish(body);
    },
    read(userId, withName, id) {
      channel.publish({ rd: { u: userId, w: withName, id } });
    },
    typing(toUserId, from) {
      channel.publish({ ty: { u: toUserId, f: [from.username, from.alias] } });
    },
    followed() {
      let conversations = 0;
      for (const t of tracks.values()) conversations += t.orders.size;
      return { users: tracks.size, conversations };
    },
    async stop() {
      stopped = true;
      clearTimeout(checkTimer);
      for (const timer of retries) clock.clearTimeout(timer);
      retries.clear();
      await checking;
      offResubscribed();
      for (const userId of [...tracks.keys()]) forget(userId);
      await channel.stop();
    },
  };
}
