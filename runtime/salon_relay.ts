/**
 * Salon messages and memberships across instances (issue 15, items 2 and 3),
 * only with a bus: each instance publishes what it committed on the salon's
 * channel (`salon:<id>`) and delivers every salon's messages to its own
 * members through one {@link SalonOrder} per salon (id order, gaps read from
 * MySQL). Memberships stored on one instance are applied by the others'
 * replicas of the salon.
 *
 * The path of a message: the salon actor commits (MySQL assigns the id),
 * sends `ok`, and calls its `relay` dep ({@link SalonRelay.committed}): the
 * message is offered to this instance's order at once and published once per
 * salon per group commit (a microtask gathers the batch). Every other instance
 * offers it to its own order; the order sends `RELAYED` to its salon actor,
 * which writes the frame to its online members (the same fan-out as one
 * process). Whatever the bus loses is read from MySQL: after a short wait
 * when an id is missing, at once after the bus says `resubscribed`, and when
 * the periodic check of each salon's last id finds MySQL ahead.
 *
 * Payloads (JSON, compact): `{"o":origin,"m":[{id,at,f:[username,alias],t,me?}]}`
 * for messages, `{"o":origin,"j":user,"a":announce}` for a join,
 * `{"o":origin,"l":userId}` for a leave. `o` is this process's random origin:
 * an instance ignores its own publications (it delivered them already).
 * Salon events (salon_events.ts): `{"r":user,"s":since}` a join request,
 * `{"c":userId,"x":"rejected"|"withdrawn"}` its end (an acceptance is a
 * join), `{"y":user}` a `typing`, `{"rd":userId,"n":id}` a `read` marker,
 * `{"ed":{id,t,at,me?}}` an edit, `{"dl":id}` a delete, `{"sm":seconds}` a
 * slow mode.
 *
 * @module
 */

import type { MembershipChange, RelayedMessage, SalonNews } from "../actors/salon.ts";
import type { Logger } from "../lib/log.ts";
import { HISTORY_MAX } from "../protocol/frames.ts";
import type { Store, UserSummary } from "../store/store.ts";
import { type OrderClock, SalonOrder } from "./salon_order.ts";
import {
  decodeSalonEvent,
  encodeNews,
  encodeSalonFrame,
  isUser,
  MAX_DATE_MS,
  type SalonEventPayload,
} from "./salon_events.ts";
import {
  type ClusterChannel,
  type ClusterLink,
  isId,
  openClusterChannel,
  parseWireBody,
  type WireBody,
} from "./cluster_channel.ts";
import { OutageLog } from "../lib/outage_log.ts";

/** Default wait before a gap is read from MySQL, ms. */
export const GAP_WAIT_MS = 200;
/** Most messages of one salon that changes may wait for; beyond, a change is written at once. */
const WAITING_MAX = 1000;

/** Default interval of the check of each salon's last id, ms. */
export const SALON_CHECK_MS = 1000;

/** The channel of a salon's messages and memberships. */
export function salonChannel(salonId: number): string {
  return `salon:${salonId}`;
}

/** Where the relay hands what it receives: the salon actors of this instance. */
export interface RelayTargets {
  /** Messages of salon `salonId`, in id order, for its online members. */
  deliver(salonId: number, messages: RelayedMessage[]): void;
  /** A membership stored on another instance. */
  membership(salonId: number, change: MembershipChange): void;
  /** A salon event of another instance (salon_events.ts). */
  event(salonId: number, event: SalonEventPayload): void;
}

/** Options of {@link startSalonRelay}. */
export interface SalonRelayOptions {
  /** The bus and this process's origin. */
  link: ClusterLink;
  /** The store: history (gap reads) and `cluster.salonLatestIds` (the check). */
  store: Store;
  /** Every salon id. */
  salonIds: number[];
  /** The salon actors. */
  targets: RelayTargets;
  /** Logging (never a text). */
  log: Logger;
  /** Wait before a gap is read, ms (default {@link GAP_WAIT_MS}). */
  gapWaitMs?: number;
  /** Interval of the check of each salon's last id, ms (default {@link SALON_CHECK_MS}). */
  checkMs?: number;
  /**
   * TESTS ONLY: acknowledge and deliver locally but never publish messages,
   * as an instance dying between commit and publish. Set only through
   * `StartOptions.testHooks` (no environment variable reaches it).
   */
  dropPublishes?: boolean;
  /**
   * TESTS ONLY: never publish memberships, join requests and their ends,
   * typing, read markers, edits, deletes or slow modes (as if the bus lost
   * them all): the others recover from MySQL. Set only through
   * `StartOptions.testHooks.dropSalonEvents`.
   */
  dropEvents?: boolean;
  /** Timers of the orders' waits (default the global timers). */
  clock?: OrderClock;
}

/** This instance's side of salon messages across instances. */
export interface SalonRelay {
  /** A message committed here (its `ok` sent): delivered here in order, and published. */
  committed(salonId: number, message: RelayedMessage): void;
  /** A membership stored here: published for the other instances. */
  membershipStored(salonId: number, change: MembershipChange): void;
  /** A join request, its end, a `typing` or a `read` here: published. */
  news(salonId: number, news: SalonNews): void;
  /** An `edited` or `deleted` frame sent to this salon's members here: published. */
  salonFrame(salonId: number, frame: string): void;
  /** A slow mode stored here: published. */
  slowModeStored(salonId: number, seconds: number): void;
  /**
   * Runs `fn` once this instance has delivered salon `salonId`'s message
   * `id` (an `edited` or `deleted` of another instance must not overtake
   * it); false, running nothing, when it is delivered already.
   */
  afterDelivered(salonId: number, id: number, fn: () => void): boolean;
  /** Unsubscribes and stops every timer. */
  stop(): Promise<void>;
}

/** A message as published: short keys (it crosses the bus once per instance). */
interface WireMessage {
  id: number;
  at: number;
  f: [string, string];
  t: string;
  me?: string[];
}

/** Encodes a message for the bus. */
function toWire(m: RelayedMessage): WireMessage {
  const w: WireMessage = { id: m.id, at: m.at, f: [m.from.username, m.from.alias], t: m.text };
  if (m.mentions) w.me = m.mentions;
  return w;
}

/** Decodes a message from the bus; undefined when malformed. */
function fromWire(w: unknown): RelayedMessage | undefined {
  const v = w as Partial<WireMessage> | null;
  if (
    typeof v !== "object" || v === null || !Number.isSafeInteger(v.id) || v.id! < 1 ||
    // A time `Date` can hold: `fanOut` writes it with toISOString(), which throws beyond.
    !Number.isSafeInteger(v.at) || v.at! < 0 || v.at! > MAX_DATE_MS ||
    !Array.isArray(v.f) || typeof v.f[0] !== "string" ||
    typeof v.f[1] !== "string" || typeof v.t !== "string"
  ) return undefined;
  const m: RelayedMessage = {
    id: v.id!,
    at: v.at!,
    from: { username: v.f[0], alias: v.f[1] },
    text: v.t,
  };
  if (Array.isArray(v.me) && v.me.every((x) => typeof x === "string")) m.mentions = v.me;
  return m;
}

/** What a salon channel carries, decoded: messages, a join or a leave, and who published it. */
export type SalonPayload =
  & { origin: unknown }
  & (
    | { messages: RelayedMessage[] }
    | { joined: UserSummary; announce: boolean }
    | { left: number }
    | SalonEventPayload
  );

/**
 * Decodes a salon channel's payload; `undefined` when it is not one (not
 * JSON, not an object, nothing known in it). Malformed messages in a batch
 * are dropped one by one: MySQL fills their place.
 */
export function decodeSalonPayload(payload: string): SalonPayload | undefined {
  const body = parseWireBody(payload);
  return body && decodeSalonBody(body);
}

/** Decodes a salon channel's body (see {@link decodeSalonPayload}). */
function decodeSalonBody(b: WireBody): SalonPayload | undefined {
  if (Array.isArray(b.m)) {
    return { origin: b.o, messages: b.m.map(fromWire).filter((m) => m !== undefined) };
  }
  if (isUser(b.j)) return { origin: b.o, joined: b.j, announce: b.a === true };
  if (isId(b.l)) return { origin: b.o, left: b.l };
  const event = decodeSalonEvent(b);
  return event && { origin: b.o, ...event };
}

/**
 * Subscribes every salon's channel, reads each salon's last id (delivery
 * starts after it) and starts the periodic check.
 */
export async function startSalonRelay(opts: SalonRelayOptions): Promise<SalonRelay> {
  const { link, store, targets, log } = opts;
  const { bus } = link;
  const cluster = store.cluster;
  if (!cluster) throw new Error("a salon relay needs the MySQL store's cluster tables");
  const clock: OrderClock = opts.clock ?? {
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (id) => clearTimeout(id as number),
  };
  const waitMs = opts.gapWaitMs ?? GAP_WAIT_MS;
  const orders = new Map<number, SalonOrder>();
  const outages = new OutageLog(log);
  /** What waits for a message not delivered here yet, by salon then id. */
  const waiting = new Map<number, Map<number, Array<() => void>>>();
  /** Runs what waited for messages the order has now delivered (or skipped: deleted, purged). */
  const runWaiting = (salonId: number) => {
    const bySalon = waiting.get(salonId);
    const last = orders.get(salonId)?.last;
    if (!bySalon || last === undefined) return;
    for (const [id, fns] of bySalon) {
      if (id > last) continue;
      bySalon.delete(id);
      for (const fn of fns) fn();
    }
    if (bySalon.size === 0) waiting.delete(salonId);
  };
  const latest = await cluster.salonLatestIds();
  for (const salonId of opts.salonIds) {
    orders.set(
      salonId,
      new SalonOrder((latest.get(salonId) ?? 0) + 1, {
        deliver: (messages) => {
          targets.deliver(salonId, messages);
          runWaiting(salonId);
        },
        readAfter: async (after) => {
          const page = await store.salonHistory(salonId, { after, limit: HISTORY_MAX });
          return { messages: page.messages, more: page.more };
        },
        clock,
        waitMs,
        onError: (error) =>
          outages.failed(
            "salon_gap_read",
            "reading missed salon messages failed; trying again",
            error,
          ),
      }),
    );
  }

  const received = (salonId: number, body: SalonPayload) => {
    if ("messages" in body) orders.get(salonId)?.offer(body.messages);
    else if ("joined" in body) {
      targets.membership(salonId, { joined: body.joined, announce: body.announce });
    } else if ("left" in body) targets.membership(salonId, { left: body.left });
    else targets.event(salonId, body);
  };
  const channels = new Map<number, ClusterChannel>();
  for (const salonId of opts.salonIds) {
    channels.set(
      salonId,
      await openClusterChannel({
        link,
        name: salonChannel(salonId),
        decode: decodeSalonBody,
        receive: (body) => received(salonId, body),
        log,
      }),
    );
  }
  // Whatever was published while the bus was away is lost: read it from MySQL.
  const offResubscribed = bus.onResubscribed(() => {
    for (const order of orders.values()) order.catchUp();
  });

  // The periodic check: the last message of an instance that died before publishing.
  let stopped = false;
  let checkTimer: ReturnType<typeof setTimeout> | undefined;
  let checking: Promise<void> | undefined;
  const check = async () => {
    try {
      const ids = await cluster.salonLatestIds();
      outages.worked("salon_check", "the check of salons' last messages works again");
      outages.worked("salon_gap_read", "reading missed salon messages works again");
      for (const [salonId, id] of ids) {
        orders.get(salonId)?.latest(id);
        runWaiting(salonId); // what waited for a message the order skipped
      }
    } catch (error) {
      outages.failed("salon_check", "the check of salons' last messages failed", error);
    }
    if (!stopped) schedule();
  };
  const schedule = () => {
    checkTimer = setTimeout(() => {
      checking = check();
    }, opts.checkMs ?? SALON_CHECK_MS);
  };
  schedule();

  // One publish per salon per group commit: the writer calls back a batch in one task.
  let outbox = new Map<number, WireMessage[]>();
  let flushing = false;
  const publish = (salonId: number, body: WireBody) => channels.get(salonId)?.publish(body);
  const publishEvent = (salonId: number, body: WireBody) => {
    if (!opts.dropEvents) publish(salonId, body);
  };
  const flush = () => {
    flushing = false;
    const batch = outbox;
    outbox = new Map();
    if (opts.dropPublishes) return;
    for (const [salonId, m] of batch) publish(salonId, { m });
  };

  return {
    committed(salonId, message) {
      let list = outbox.get(salonId);
      if (!list) outbox.set(salonId, list = []);
      list.push(toWire(message));
      if (!flushing) {
        flushing = true;
        queueMicrotask(flush);
      }
      orders.get(salonId)?.offer([message]);
    },
    membershipStored(salonId, change) {
      publishEvent(
        salonId,
        "joined" in change ? { j: change.joined, a: change.announce } : { l: change.left },
      );
    },
    news(salonId, news) {
      publishEvent(salonId, encodeNews(news));
    },
    salonFrame(salonId, frame) {
      const body = encodeSalonFrame(frame);
      if (body) publishEvent(salonId, body);
    },
    slowModeStored(salonId, seconds) {
      publishEvent(salonId, { sm: seconds });
    },
    afterDelivered(salonId, id, fn) {
      const order = orders.get(salonId);
      if (!order || id <= order.last) return false;
      let bySalon = waiting.get(salonId);
      if (!bySalon) waiting.set(salonId, bySalon = new Map());
      if (bySalon.size >= WAITING_MAX && !bySalon.has(id)) return false; // bounded: at once
      let fns = bySalon.get(id);
      if (!fns) bySalon.set(id, fns = []);
      fns.push(fn);
      return true;
    },
    async stop() {
      stopped = true;
      waiting.clear();
      clearTimeout(checkTimer);
      await checking;
      offResubscribed();
      for (const order of orders.values()) order.stop();
      await Promise.all([...channels.values()].map((c) => c.stop()));
    },
  };
}
