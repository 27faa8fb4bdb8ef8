/**
 * What the parts of the hub share: its effects (store, writer, accounts,
 * logs), the salons and users it knows, and lookups into the actor system.
 *
 * @module
 */

import type { MembershipIndex } from "./membership_index.ts";
import type { Actor, AnyActorRef } from "xstate";
import type { serverMachine } from "../actors/server.ts";
import type { Session } from "../actors/session.ts";
import type { Accounts } from "../auth/accounts.ts";
import type { Logger } from "../lib/log.ts";
import type { SecurityLog } from "../lib/security_log.ts";
import type { MessageWriter } from "../store/message_writer.ts";
import type { SalonRecord, Store } from "../store/store.ts";
import type { UserDirectory } from "./user_directory.ts";
import type { Metrics } from "./metrics.ts";
import type { SalonRelay } from "./salon_relay.ts";
import type { ClusterDirects } from "./cluster_directs.ts";

/** A salon as the hub knows it: its record and the key of its name. */
export type KnownSalon = SalonRecord & { key: string };

/** The state and effects shared by the hub's parts (built once by `createHub`). */
export interface HubContext {
  /** The database. */
  readonly store: Store;
  /** Account service. */
  readonly accounts: Accounts;
  /** Logging. */
  readonly log: Logger;
  /** Where sanctions and floods are recorded. */
  readonly security: SecurityLog;
  /** The counters of `/metrics`. */
  readonly metrics: Metrics;
  /** Current time, epoch ms. */
  readonly now: () => number;
  /** The group-commit writer of chat messages. */
  readonly writer: MessageWriter;
  /** Every salon, by id. */
  readonly salons: ReadonlyMap<number, KnownSalon>;
  /** Users met so far. */
  readonly users: UserDirectory;
  /** Which salons each user belongs to, kept in step with the salon actors. */
  readonly memberships: Pick<MembershipIndex, "salonsOf">;
  /** The root actor (call only once the hub has created it). */
  server(): Actor<typeof serverMachine>;
  /** The actor of the salon with this name key, if any. */
  salonRef(key: string): AnyActorRef | undefined;
  /** The live sessions of a user. */
  sessionsOf(userId: number): Session[];
  /** The server's lifecycle state: `running`, `shuttingDown`, `draining` or `stopped`. */
  lifecycle(): string;
  // -- salon events across instances (issue 15)
  /** The salon relay, with a bus once started; absent or undefined in one process. */
  salonRelay?(): SalonRelay | undefined;
  /** Several instances: direct conversations across them (runtime/cluster_directs.ts). */
  directsElsewhere?(): ClusterDirects | undefined;
}
