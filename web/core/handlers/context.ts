/**
 * What a frame handler may touch: the stores, and the few chat services it
 * needs (the request a `ref` answers, sending a follow-up request).
 *
 * @module
 */

import type { ClientRequest } from "../codec.ts";
import type { Clock } from "../connection.ts";
import type { ConversationKey } from "../keys.ts";
import type { ComposerStore } from "../stores/composer.ts";
import type { MessagesStore } from "../stores/messages.ts";
import type { ModerationStore } from "../stores/moderation.ts";
import type { PeopleStore, Watcher } from "../stores/people.ts";
import type { PresenceStore } from "../stores/presence.ts";
import type { ReportsStore } from "../stores/reports.ts";
import type { RestrictionsStore } from "../stores/restrictions.ts";
import type { SalonsStore } from "../stores/salons.ts";
import type { SessionStore } from "../stores/session.ts";

/** A request waiting for its answer, by `ref`. */
export type PendingRequest =
  | { kind: "say"; key: ConversationKey; text: string }
  | { kind: "history"; key: ConversationKey; mode: "latest" | "before" | "after" }
  | { kind: "membership"; salon: string }
  | { kind: "read"; key: ConversationKey }
  | { kind: "decide"; salon: string; username: string }
  | { kind: "other" }
  | { kind: "who"; salon: string }
  | { kind: "conversations" }
  | { kind: "edit"; key: ConversationKey; id: number; text: string }
  | { kind: "delete"; key: ConversationKey; id: number; report?: number }
  | { kind: "report"; key: ConversationKey; id: number }
  | { kind: "resolve"; report: number }
  | { kind: "context"; report: number; salon: string; id: number };

/** The stores and services handlers use. */
export interface ChatContext {
  /** Session store. */
  session: SessionStore;
  /** Salons store. */
  salons: SalonsStore;
  /** Messages store. */
  messages: MessagesStore;
  /** Presence store. */
  presence: PresenceStore;
  /** Composer store. */
  composer: ComposerStore;
  /** Moderation store. */
  moderation: ModerationStore;
  /** Mutes and slow mode (PROTOCOL 5.4). */
  restrictions: RestrictionsStore;
  /** Open reports (moderators, PROTOCOL 5.4). */
  reports: ReportsStore;
  /** People found, conversation paging. */
  people: PeopleStore;
  /** The watch list. */
  watcher: Watcher;
  /** The clock. */
  clock: Clock;
  /** Takes (and forgets) the request a `ref` answers. */
  takeRequest(ref: string | undefined): PendingRequest | undefined;
  /** Sends a request, remembering what it was for. */
  request(req: ClientRequest, pending: PendingRequest): void;
  /** Loads the newest page of a conversation that has none yet. */
  loadLatest(key: ConversationKey): void;
}
