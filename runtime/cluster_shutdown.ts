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
 * within a second; an instance cut from the bus for the whole countdown
 * misses it (docs/protocol.md "Shutdown across instances").
 *
 * @module
 */

import { SHUTDOWN_SECONDS_MAX } from "../protocol/admin.ts";
import type { Logger } from "../lib/log.ts";
import {
  type ClusterChannel,
  type ClusterLink,
  openClusterChannel,
  type WireBody,
} from "./cluster_channel.ts";

/** The channel (unprefixed). */
export const SHUTDOWN_CHANNEL = "shutdown";

/** How often a known order is published again, ms. */
export const SHUTDOWN_REPEAT_MS = 1000;

/**
 * How far past `now + SHUTDOWN_SECONDS_MAX` a deadline may lie (clocks of
 * several machines differ a little), ms.
 */
const DEADLINE_SLACK_MS = 60_000;

/** An order on the channel. */
export type ShutdownOrder = { kind: "start" | "cancel"; deadline: number };

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
}

/** The countdown across instances, for one instance. */
export interface ClusterShutdown {
  /** An admin started this instance's countdown of `seconds`: every instance follows. */
  started(seconds: number): void;
  /** An admin cancelled this instance's countdown: every instance cancels the same order. */
  cancelled(): void;
  /** Stops repeating and unsubscribes. Idempotent. */
  stop(): Promise<void>;
}

/** Subscribes the channel; resolves once it is in place (or recorded, bus down). */
export async function startClusterShutdown(
  opts: ClusterShutdownOptions,
): Promise<ClusterShutdown> {
  const { targets, now, log } = opts;
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

  const receive = (order: ShutdownOrder) => {
    const { deadline } = order;
    if (order.kind === "cancel") {
      if (cancelled.has(deadline)) return;
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
    const countdown = countdownTo(deadline, now());
    if (!countdown) return; // too late: that countdown is over
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

  return {
    started(seconds) {
      following = now() + seconds * 1000;
      channel.publish({ k: "start", deadline: following });
      repeating();
    },
    cancelled() {
      if (following === undefined) return; // a signal's countdown: this instance's own
      const deadline = following;
      following = undefined;
      cancelled.add(deadline);
      channel.publish({ k: "cancel", deadline });
      repeating();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      timer = undefined;
      await channel.stop();
    },
  };
}
