/**
 * The frames the server sends over `/ws` (PROTOCOL.md 2.3, 5.1-5.3), as
 * types only: the browser client imports them with `import type`, so that
 * one definition serves both sides and nothing of the server is bundled.
 * The builders in ./events.ts produce these shapes; the client's codec reads
 * them. Item shapes (messages, conversations, users) are the server's own.
 *
 * @module
 */

import type { ErrorCode } from "./errors.ts";
import type {
  ConversationItem,
  DirectItem,
  MessageItem,
  SalonCatchupFields,
  UserRef,
  WhoUser,
} from "./events.ts";
import type { PublicUser, SalonView } from "./http.ts";

/** A salon in `welcome.salons`: member salons carry the catch-up fields of 5.2. */
export type WelcomeSalon = SalonView & Partial<SalonCatchupFields>;

/** Limits announced in `welcome.limits`. */
export interface WelcomeLimits {
  /** Longest `say`/`direct` text, in characters. */
  maxTextLength: number;
  /** Refill rate of the message bucket. */
  messagesPerSecond: number;
  /**
   * How long after sending an author may `edit` a message, minutes (0: never);
   * an addition to PROTOCOL 5.4 (`CAUSERIE_EDIT_MINUTES`), absent from older servers.
   */
  editMinutes?: number;
}

/** A presence change. */
export interface PresenceChange {
  /** Username as registered. */
  username: string;
  /** New status. */
  status: "online" | "offline";
}

/** A pending join request, in `requests`. */
export interface JoinRequestItem {
  /** Salon name. */
  salon: string;
  /** Requester. */
  username: string;
  /** Requester's alias. */
  alias: string;
  /** When it was made, ISO-8601 UTC. */
  at: string;
}

/** Every frame the server sends, by `type`. */
export interface ServerFrameMap {
  /** Answer to a valid hello. */
  welcome: {
    user: PublicUser;
    token: string;
    salons: WelcomeSalon[];
    limits: WelcomeLimits;
    directs?: ConversationItem[];
  };
  /** A request was carried out; `id`/`at` for `say`/`direct`, `id` for `read`, `until` for `kick`. */
  ok: { id?: number; at?: string; until?: string; seconds?: number; lifted?: number };
  /** A request was refused; `until` for a kick, `retryAfter` for slow mode. */
  error: { code: ErrorCode | string; message: string; until?: string; retryAfter?: number };
  /** A salon message. */
  message: MessageItem;
  /** A direct message. */
  direct: DirectItem;
  /** The user became a member. */
  joined: { salon: string };
  /** The user left (or withdrew a request). */
  left: { salon: string };
  /** A join request is waiting for a moderator. */
  join_pending: { salon: string };
  /** A moderator rejected the request. */
  join_rejected: { salon: string };
  /** Someone joined a salon the user is in. */
  member_joined: { salon: string; user: UserRef };
  /** A page of history: salon or direct items, newest last. */
  history: {
    salon?: string;
    with?: string;
    messages: Array<MessageItem | DirectItem>;
    more: boolean;
  };
  /** Members of a salon with their status. */
  who: {
    salon: string;
    users: WhoUser[];
    more?: boolean;
    online?: number;
    members?: number;
  };
  /** Answer to `ping`. */
  pong: Record<never, never>;
  /** Presence changes (pushed, or the answer to `watch`). */
  presence: { changes: PresenceChange[] };
  /** A join request, to moderators. */
  join_request: JoinRequestItem;
  /** The pending join requests, to a moderator. */
  requests: { pending: JoinRequestItem[] };
  /** The user is kicked until `until`; the socket closes with 4403. */
  kicked: { until: string; reason?: string };
  /** The user is banned; the socket closes with 4403. */
  banned: { reason?: string };
  /** An announcement. */
  notice: { text: string; at: string };
  /** The shutdown countdown. */
  shutdown: { seconds: number };
  /** The countdown was cancelled. */
  shutdown_cancelled: Record<never, never>;
  /** The user's marker moved on another session. */
  read: { salon?: string; with?: string; id: number };
  /** A page of direct conversations. */
  conversations: { directs: ConversationItem[]; more: boolean };
  /** Counts of a salon changed. */
  salon_stats: { salon: string; online: number; members: number; presence?: "push" | "watch" };
  /** Someone is typing in a salon, or (`with`: their username) to the user. */
  typing: { salon?: string; with?: string; user: UserRef };
  // -- mute and slow mode (PROTOCOL 5.4)
  /** The user is muted in `salon`, or everywhere without it, until `until`. */
  muted: { salon?: string; until: string; reason?: string };
  /** A mute of the user ended (ran out or lifted). */
  unmuted: { salon?: string };
  /** A salon's settings changed (its slow mode). */
  salon_settings: { salon: string; slowModeSeconds: number };
}

/** The `type` of a server frame. */
export type ServerFrameType = keyof ServerFrameMap;

/** A server frame of one type, with its `type` and the `ref` of the request it answers. */
export type ServerFrameOf<K extends ServerFrameType> = ServerFrameMap[K] & {
  type: K;
  ref?: string;
};

/** Any server frame. */
export type ServerFrame = { [K in ServerFrameType]: ServerFrameOf<K> }[ServerFrameType];

// --- edit, delete and reports (PROTOCOL 5.4) ----------------------------------

/** A history item of a deleted message (defined in ./events.ts beside the other items). */
export type { TombstoneItem } from "./events.ts";

/** A report `R` as moderators see it (`reports`, `report`). */
export interface ReportItem {
  /** Report id (for `resolve_report`). */
  id: number;
  /** Salon name. */
  salon: string;
  /** The message as it stands: `text` "" and `deleted` once it was deleted. */
  message: {
    id: number;
    from: UserRef;
    text: string;
    at: string;
    editedAt?: string;
    deleted?: true;
  };
  /** Who reported it. */
  by: UserRef;
  /** Why ("" when not given). */
  reason: string;
  /** When it was reported, ISO-8601 UTC. */
  at: string;
}

/**
 * The frames of edit, delete and reports, by `type`. Kept apart from
 * {@link ServerFrameMap} (whose every type needs a browser handler in
 * web/core/handlers) until the browser client handles them; history items
 * may now also be {@link TombstoneItem}s, and message and direct items carry
 * `editedAt` once edited.
 */
export interface EditFrameMap {
  /** A message was edited (`with`: the other side of the conversation, as the receiver sees it). */
  edited: {
    salon?: string;
    with?: string;
    id: number;
    text: string;
    editedAt: string;
    mentions?: string[];
  };
  /** A message was deleted. */
  deleted: { salon?: string; with?: string; id: number };
  /** A new report, to moderators online. */
  report: { report: ReportItem };
  /** The open reports, oldest first (the answer to `reports`). */
  reports: { open: ReportItem[] };
  /** A report was resolved, to moderators online. */
  report_resolved: { report: number; by: UserRef };
}
