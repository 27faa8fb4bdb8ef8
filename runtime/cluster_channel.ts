/**
 * One bus channel between instances (issue 15), carrying JSON objects: what
 * every cross-instance part of the hub (salon relay, user events, presence,
 * join requests, shutdown) publishes and receives through.
 *
 * Each body is published with `o`, the process's random origin
 * ({@link ClusterLink.origin}); an instance ignores its own publications (it
 * applied them already). A payload that is not a JSON object, or that
 * `decode` refuses, is logged once per channel per minute and ignored: a
 * bus is shared, and what it carries is checked like any input. Publishing
 * is at most once: a failure (bus down) is dropped, and the caller's
 * recovery reads MySQL.
 *
 * @module
 */

import type { Bus } from "../bus/bus.ts";
import type { Logger } from "../lib/log.ts";

/** What the cross-instance parts of one process share. */
export interface ClusterLink {
  /** The bus. */
  readonly bus: Bus;
  /** This process's random origin: its own publications come back and are ignored. */
  readonly origin: string;
}

/** A new link on `bus` with a fresh random origin. */
export function clusterLink(bus: Bus): ClusterLink {
  return { bus, origin: crypto.randomUUID() };
}

/** A JSON object received on a channel (before `decode`). */
export type WireBody = Record<string, unknown>;

/** Options of {@link openClusterChannel}. */
export interface ChannelOptions<T> {
  /** The link (bus and origin). */
  link: ClusterLink;
  /** The channel (unprefixed: the bus prefixes it). */
  name: string;
  /** Checks and turns a body into a message; `undefined` refuses it. */
  decode(body: WireBody): T | undefined;
  /** A message published by another instance. */
  receive(message: T): void;
  /** Where malformed payloads are reported (never their content). */
  log: Logger;
}

/** A subscribed channel. */
export interface ClusterChannel {
  /** Publishes `body` (with this process's origin); never throws, never queues. */
  publish(body: WireBody): void;
  /** Unsubscribes. Idempotent. */
  stop(): Promise<void>;
}

/** How often a channel reports malformed payloads, at most, ms. */
const MALFORMED_REPORT_MS = 60_000;

/** Parses a payload into a JSON object; `undefined` when it is not one. */
export function parseWireBody(payload: string): WireBody | undefined {
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch {
    return undefined;
  }
  return typeof body === "object" && body !== null && !Array.isArray(body)
    ? body as WireBody
    : undefined;
}

/** Subscribes `name`; resolves once the subscription is in place (or recorded, bus down). */
export async function openClusterChannel<T>(opts: ChannelOptions<T>): Promise<ClusterChannel> {
  const { link, name, log } = opts;
  let lastReport = -Infinity;
  const malformed = () => {
    const now = Date.now();
    if (now - lastReport < MALFORMED_REPORT_MS) return;
    lastReport = now;
    log.warn(`a malformed payload on bus channel ${name} was ignored`, {
      event: "bus_malformed",
      channel: name,
    });
  };
  const unsubscribe = await link.bus.subscribe(name, (payload) => {
    const body = parseWireBody(payload);
    if (!body) return malformed();
    if (body.o === link.origin) return; // published by this process: applied already
    const message = opts.decode(body);
    if (message === undefined) return malformed();
    try {
      opts.receive(message);
    } catch (error) {
      // A bug here: the bus would swallow it (Subscriptions.deliver), so it is logged.
      log.error(`applying a payload of bus channel ${name} failed`, {
        event: "bus_receive_failed",
        channel: name,
        error,
      });
    }
  });
  let stopping: Promise<void> | undefined;
  return {
    publish(body) {
      link.bus.publish(name, JSON.stringify({ o: link.origin, ...body })).catch(() => {
        // At most once: whoever needs it reads MySQL (gap fill, check, resubscribe).
      });
    },
    stop() {
      stopping ??= unsubscribe();
      return stopping;
    },
  };
}

/** Whether `v` is a positive safe integer (an id). */
export function isId(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) > 0;
}
