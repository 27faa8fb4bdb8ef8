/**
 * The shutdown countdown across instances (issue 15, item 2): an admin's
 * `shutdown` (WebSocket frame, admin API, CLI) on one instance counts down on
 * every instance to the same deadline; each instance refuses new connections,
 * drains and exits itself at the deadline; a cancel on any instance cancels
 * on all. A signal (SIGTERM) stays one instance's own affair: only
 * {@link ClusterShutdown.started} and {@link ClusterShutdown.cancelled},
 * called for an admin's act, publish.
 *
 * Channel `shutdown`, bodies `{k: "start", deadline}` and `{k: "cancel",
 * deadline}` (deadline in epoch ms: it names the order, so a cancel never
 * touches a later countdown). The bus is at most once, so every instance that
 * knows an order repeats it once a second until its deadline: a running order
 * while it counts, a cancelled one after its cancel. A lost publish is made
 * good by the next one; an instance that starts during a countdown joins it
 * within a second. The order is also recorded in MySQL (`cluster_shutdowns`,
 * the truth) and every instance reads it once a second: one cut from the bus
 * for the whole countdown still follows it, and one that learns of it only
 * after the deadline (it started before) stops at once (docs/protocol.md
 * "Shutdown across instances").
 *
 * @module
 */

import { SHUTDOWN_SECONDS_MAX } from "../protocol/admin.ts";
import type { Logger } from "../lib/log.ts";
import type { ClusterStore } from "../store/cluster_store.ts";
import {
  type ClusterChannel,
  type ClusterLink,
  openClusterChannel,
  type WireBody,
} from "./cluster_channel.ts";

/** The channel (unprefixed). */
export const SHUTDOWN_CHANNEL = "shutdown";

/** How often a known order is published again, and the recorded order read, ms. */
export const SHUTDOWN_REPEAT_MS = 1000;

/**
 * How far past `now + SHUTDOWN_SECONDS_MAX` a deadline may lie (clocks of
 * several machines differ a little), ms.
 */
const DEADLINE_SLACK_MS = 60_000;

/** An order on the channel. */
export type ShutdownOrder = {
  kind: "start" | "cancel";
  deadline: number;
  /** Read from MySQL's record (not from the bus). */
  recorded?: boolean;
};

/**
 * Checks a body received on the channel (hostile input): `k` one of
 * `start`/`cancel`, `deadline` a whole number of epoch ms no further than
 * the longest countdown (plus a minute) from `now`. Anything else:
 * `undefined`.
 */
export function decodeShutdownOrder(body: WireBody, now: number): ShutdownOrder | undefined {
  const { k, deadline } = body;
  if (k !== "start" && k !== "cancel") return undefined;
  if (!Number.isSafeInteger(deadline) || (deadline as number) <= 0) return undefined;
  if ((deadline as number) > now + SHUTDOWN_SECONDS_MAX * 1000 + DEADLINE_SLACK_MS) {
    return undefined;
  }
  return { kind: k, deadline: deadline as number };
}

/**
 * The countdown that reaches `deadline` from `now`: whole seconds to announce
 * first, and the length of the first tick (1 to 1000 ms); `undefined` once
 * the deadline has passed.
 */
export function countdownTo(
  deadline: number,
  now: number,
): { seconds: number; firstTickMs: number } | undefined {
  const left = deadline - now;
  if (left <= 0) return undefined;
  const seconds = Math.ceil(left / 1000);
  return { seconds, firstTickMs: left - (seconds - 1) * 1000 };
}

/** What the countdown module needs of this instance. */
export interface ShutdownTargets {
  /** Starts this instance's countdown; false when it is not running (counting or draining). */
  start(seconds: number, firstTickMs: number): boolean;
  /** Cancels this instance's countdown; false when none runs. */
  cancel(): boolean;
}

/** Options of {@link startClusterShutdown}. */
export interface ClusterShutdownOptions {
  /** The bus and this process's origin. */
  link: ClusterLink;
  /** This instance's countdown. */
  targets: ShutdownTargets;
  /** Current time, epoch ms. */
  now: () => number;
  /** Logging. */
  log: Logger;
  /** Where the order is recorded (MySQL's `cluster_shutdowns`); absent: the bus alone. */
  record?: Pick<ClusterStore, "recordShutdown" | "cancelShutdownRecord" | "shutdownRecord">;
}

/** The countdown across instances, for one instance. */
export interface ClusterShutdown {
  /**
   * An admin started this instance's countdown of `seconds`: every instance follows. Resolves
   * once recorded (a failure is logged: the bus still carries it).
   */
  started(seconds: number): Promise<void>;
  /** An admin cancelled this instance's countdown: every instance cancels the same order. */
  cancelled(): Promise<void>;
  /** Stops repeating and unsubscribes. Idempotent. */
  stop(): Promise<void>;
}

/** Subscribes the channel; resolves once it is in place (or recorded, bus down). */
export async function startClusterShutdown(
  opts: ClusterShutdownOptions,
): Promise<ClusterShutdown> {
  const { targets, now, log, record } = opts;
  /** Orders older than this start were over before this instance ran: never followed. */
  const since = now();
  /** The deadline this instance counts down to because of an order (its own or another's). */
  let following: number | undefined;
  /** Cancelled orders, repeated until their deadline. */
  const cancelled = new Set<number>();
  let timer: ReturnType<typeof setInterval> | undefined;
  let stopped = false;

  const repeat = () => {
    const t = now();
    if (following !== undefined && following <= t) following = undefined;
    for (const d of cancelled) if (d <= t) cancelled.delete(d);
    if (following !== undefined) channel.publish({ k: "start", deadline: following });
    for (const d of cancelled) channel.publish({ k: "cancel", deadline: d });
    if (following === undefined && cancelled.size === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  };
  const repeating = () => {
    if (!stopped) timer ??= setInterval(repeat, SHUTDOWN_REPEAT_MS);
  };

  // The recorded order, read once a second (one row): what the bus lost.
  let checking: Promise<void> | undefined;
  let failing = false;
  const check = () => {
    if (!record || checking || stopped) return;
    checking = record.shutdownRecord().then((r) => {
      if (failing) {
        log.info("the shutdown record is readable again", { event: "shutdown_check_recovered" });
      }
      failing = false;
      if (!r || stopped) return;
      receive({ kind: r.cancelled ? "cancel" : "start", deadline: r.deadline, recorded: true });
    }, (e) => {
      if (!failing) {
        log.warn("cannot read the shutdown record (tried again every second)", {
          event: "shutdown_check_failed",
          error: e,
        });
      }
      failing = true;
    }).finally(() => checking = undefined);
  };
  const checker = record ? setInterval(check, SHUTDOWN_REPEAT_MS) : undefined;

  const receive = (order: ShutdownOrder) => {
    const { deadline } = order;
    if (order.kind === "cancel") {
      if (cancelled.has(deadline) || deadline <= now()) return; // known, or over anyway
      cancelled.add(deadline);
      repeating();
      if (following !== deadline) return;
      following = undefined;
      if (targets.cancel()) {
        log.info("the shutdown countdown was cancelled on another instance", {
          event: "shutdown_cancelled_elsewhere",
        });
      }
      return;
    }
    if (cancelled.has(deadline) || following === deadline) return;
    let countdown = countdownTo(deadline, now());
    if (!countdown) {
      // Over already. Recorded in MySQL and given after this instance started: it was meant
      // to stop too and missed the order: it stops now (one last `shutdown 1`). From the bus,
      // or older than this instance: ignored.
      if (!order.recorded || deadline < since) return;
      countdown = { seconds: 1, firstTickMs: 1000 };
    }
    if (!targets.start(countdown.seconds, countdown.firstTickMs)) return; // counting already
    following = deadline;
    repeating();
    log.info(
      `a shutdown countdown started on another instance: stopping in ${countdown.seconds} s`,
      { event: "shutdown_started_elsewhere", seconds: countdown.seconds },
    );
  };

  // Used by the closures above only once subscribed (the repetition starts a second later).
  const channel: ClusterChannel = await openClusterChannel({
    link: opts.link,
    name: SHUTDOWN_CHANNEL,
    decode: (body) => decodeShutdownOrder(body, now()),
    receive,
    log,
  });

  /** Runs a write of the record; a failure is logged (the bus still carries the order). */
  const write = async (what: string, work: (() => Promise<unknown>) | undefined) => {
    try {
      await work?.();
    } catch (e) {
      log.error(`cannot record the ${what} in the database: instances cut from the bus miss it`, {
        event: "shutdown_record_failed",
        error: e,
      });
    }
  };

  return {
    async started(seconds) {
      const deadline = now() + seconds * 1000;
      following = deadline;
      channel.publish({ k: "start", deadline });
      repeating();
      await write("shutdown order", record && (() => record.recordShutdown(deadline)));
    },
    async cancelled() {
      if (following === undefined) return; // a signal's countdown: this instance's own
      const deadline = following;
      following = undefined;
      cancelled.add(deadline);
      channel.publish({ k: "cancel", deadline });
      repeating();
      await write("shutdown cancel", record && (() => record.cancelShutdownRecord(deadline)));
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      clearInterval(checker);
      timer = undefined;
      await channel.stop();
      await checking;
    },
  };
}
