/**
 * What the bus lost of a salon's state, read back from MySQL (issue 15):
 * memberships (a lost join or leave), pending join requests (a lost request
 * or outcome) and slow mode. Only with a bus: a pass runs when the bus says
 * `resubscribed` and on a periodic check.
 *
 * A pass compares each replica with MySQL and sends the salon actor the
 * differences (`MEMBERS_RELOADED`, `REQUESTS_RELOADED`) or applies the slow
 * mode. A read is never allowed to undo a newer change:
 *
 * - a difference is applied only once two passes in a row found it (a
 *   change in flight, committed but not yet published or applied here, is
 *   gone by the next pass: a check interval is far longer than a publish);
 * - a replica's `epoch` counts every change of its members and requests: a
 *   read during which it moved is dropped (and so is the difference it saw),
 *   and the salon actor drops a reload whose epoch is no longer its own.
 *
 * Members are compared through a digest per salon (one grouped query,
 * `ClusterStore.membershipDigests`); only a salon whose digest differs is
 * read in full. Pending requests and slow modes are read whole (few rows).
 *
 * @module
 */

import type { SalonEvent } from "../actors/salon.ts";
import type { Logger } from "../lib/log.ts";
import { membershipDigest } from "../store/cluster_store.ts";
import type { Store, UserSummary } from "../store/store.ts";
import type { ClusterLink } from "./cluster_channel.ts";
import { OutageLog } from "../lib/outage_log.ts";

/** A replica's state, as the salon actor holds it now. */
export interface ReplicaState {
  /** Counts changes of members and requests (SalonContext.epoch). */
  epoch: number;
  /** Members by user id. */
  members: ReadonlyMap<number, UserSummary>;
  /** Pending requests by user id. */
  pending: ReadonlyMap<number, { user: UserSummary; since: number }>;
  /** How many request actors the salon runs (more than `pending`: some wait for nothing). */
  requestActors: number;
}

/** The replicas of this instance. */
export interface Replicas {
  /** Every salon id. */
  salonIds(): number[];
  /** A salon's replica now; undefined when it has no actor. */
  state(salonId: number): ReplicaState | undefined;
  /** Sends a reload to the salon's actor. */
  send(
    salonId: number,
    event: Extract<SalonEvent, { type: "MEMBERS_RELOADED" | "REQUESTS_RELOADED" }>,
  ): void;
  /** The salon's slow mode as this instance holds it. */
  slowMode(salonId: number): number | undefined;
  /** Applies a slow mode found in MySQL (record, actor, `salon_settings`). */
  setSlowMode(salonId: number, seconds: number): void;
}

/** Options of {@link startSalonRecovery}. */
export interface SalonRecoveryOptions {
  /** The bus (its `resubscribed` signal). */
  link: ClusterLink;
  /** The store (`cluster` for the digests). */
  store: Store;
  /** The replicas. */
  replicas: Replicas;
  /** Logging. */
  log: Logger;
  /** Interval of the check, ms. */
  checkMs: number;
}

/** The recovery of one instance. */
export interface SalonRecovery {
  /** Runs one pass now (tests); resolves when it is done. */
  pass(): Promise<void>;
  /** Stops the check. */
  stop(): Promise<void>;
}

/** The differences two passes in a row must find, by salon: `+id` to add, `-id` to remove. */
class Confirmations {
  readonly #seen = new Map<string, Set<string>>();

  /** Records this pass's differences of `scope`; returns those the previous pass found too. */
  confirm(scope: string, now: Set<string>): Set<string> {
    const before = this.#seen.get(scope);
    if (now.size === 0) this.#seen.delete(scope);
    else this.#seen.set(scope, now);
    return new Set(before ? [...now].filter((k) => before.has(k)) : []);
  }

  /** Forgets what `scope` found (a read overtaken by a change). */
  forget(scope: string): void {
    this.#seen.delete(scope);
  }
}

/** The differences between what a replica holds (`here`) and MySQL (`there`), as `+id`/`-id`. */
function differences(here: Iterable<number>, there: ReadonlyMap<number, unknown>): Set<string> {
  const diff = new Set<string>();
  const local = new Set(here);
  for (const id of there.keys()) if (!local.has(id)) diff.add(`+${id}`);
  for (const id of local) if (!there.has(id)) diff.add(`-${id}`);
  return diff;
}

/** The ids of `+id` (add) or `-id` (remove) keys. */
function idsOf(keys: Set<string>, sign: "+" | "-"): number[] {
  return [...keys].filter((k) => k[0] === sign).map((k) => Number(k.slice(1)));
}

/** Starts the check and listens for `resubscribed`. */
export function startSalonRecovery(opts: SalonRecoveryOptions): SalonRecovery {
  const { store, replicas, log } = opts;
  const cluster = store.cluster;
  if (!cluster) throw new Error("salon recovery needs the MySQL store's cluster tables");
  const confirmations = new Confirmations();

  const members = async (salonId: number, digest: string | undefined) => {
    const state = replicas.state(salonId);
    if (!state) return;
    const scope = `m${salonId}`;
    if (membershipDigest(state.members.keys()) === (digest ?? membershipDigest([]))) {
      return confirmations.forget(scope);
    }
    const epoch = state.epoch;
    const rows = await cluster.salonMembers(salonId);
    const now = replicas.state(salonId);
    if (!now || now.epoch !== epoch) return confirmations.forget(scope);
    const there = new Map(rows.map((u) => [u.id, u]));
    const sure = confirmations.confirm(scope, differences(now.members.keys(), there));
    if (sure.size === 0) return;
    replicas.send(salonId, {
      type: "MEMBERS_RELOADED",
      add: idsOf(sure, "+").map((id) => there.get(id)!),
      remove: idsOf(sure, "-"),
      epoch,
    });
  };

  const requests = async (epochs: Map<number, number>) => {
    const rows = await store.listJoinRequests();
    for (const salonId of replicas.salonIds()) {
      const state = replicas.state(salonId);
      const scope = `r${salonId}`;
      if (!state || state.epoch !== epochs.get(salonId)) {
        confirmations.forget(scope);
        continue;
      }
      const there = new Map(
        rows.filter((r) => r.salonId === salonId).map((r) => [r.user.id, r]),
      );
      const sure = confirmations.confirm(scope, differences(state.pending.keys(), there));
      // Sent when something differs, or to sweep request actors left waiting for nothing.
      if (sure.size === 0 && state.requestActors <= state.pending.size) continue;
      replicas.send(salonId, {
        type: "REQUESTS_RELOADED",
        add: idsOf(sure, "+").map((id) => ({
          user: there.get(id)!.user,
          since: there.get(id)!.since,
        })),
        remove: idsOf(sure, "-"),
        epoch: state.epoch,
      });
    }
  };

  const slowModes = async () => {
    for (const s of await store.listSalons()) {
      const here = replicas.slowMode(s.id);
      if (here === undefined) continue;
      const scope = `s${s.id}`;
      const diff = here === s.slowModeSeconds
        ? new Set<string>()
        : new Set([`+${s.slowModeSeconds}`]);
      if (confirmations.confirm(scope, diff).size > 0) {
        replicas.setSlowMode(s.id, s.slowModeSeconds);
      }
    }
  };

  const once = async () => {
    const epochs = new Map<number, number>();
    for (const id of replicas.salonIds()) {
      const state = replicas.state(id);
      if (state) epochs.set(id, state.epoch);
    }
    await requests(epochs);
    const digests = await cluster.membershipDigests();
    for (const salonId of replicas.salonIds()) await members(salonId, digests.get(salonId));
    await slowModes();
  };

  // One pass at a time; a pass asked for during one runs right after it.
  const outages = new OutageLog(log);
  let running: Promise<void> | undefined;
  let again = false;
  const pass = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await once();
          outages.worked("salon_recovery", "reading salons back from MySQL works again");
        } catch (error) {
          outages.failed(
            "salon_recovery",
            "reading salons back from MySQL failed; the next check tries again",
            error,
          );
        }
      } while (again && !stopped);
      running = undefined;
    })();
    return running;
  };

  let stopped = false;
  const offResubscribed = opts.link.bus.onResubscribed(() => void pass());
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = () => {
    timer = setTimeout(() => {
      pass().then(() => {
        if (!stopped) schedule();
      });
    }, opts.checkMs);
  };
  schedule();

  return {
    pass,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      offResubscribed();
      await running;
    },
  };
}
