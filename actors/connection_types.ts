/**
 * The types of the connection machine (`connection.ts`): its input and
 * context, the events it handles, the effects and limits it is given, and
 * the requests it forwards to salons. `connection.ts` re-exports them.
 *
 * @module
 */

import type { WelcomeCatchup } from "../protocol/events.ts";
import type { ClientFrame, HandshakeFrame, ModeratorFrame } from "../protocol/frames.ts";
import type { MessageFrame } from "../protocol/edit_frames.ts";
import type { BucketState, TokenBuckets } from "../lib/token_bucket.ts";
import type { ConversationQuery, HistoryQuery, UserSummary } from "../store/store.ts";
import type { MuteBook } from "./mute_book.ts";
import type { Session } from "./session.ts";

/** The socket as the machine sees it. */
export interface SocketPort {
  /** Sends one text frame. */
  send(frame: string): void;
  /** Closes with a code and a reason. */
  close(code: number, reason: string): void;
  /** Bytes sent but not yet written to the network (absent: always 0). */
  unsent?(): number;
  /**
   * Stops reading from the peer for `ms` (TCP then pushes back on it); frames
   * already read meanwhile are dropped unparsed. Absent: never pauses.
   */
  pause?(ms: number): void;
}

/** Something that receives events (an actor reference, or a test double). */
export interface EventTarget<T> {
  /** Delivers an event. */
  send(event: T): void;
}

/** Events a connection forwards to a salon. */
export type SalonRequest =
  | { type: "SAY"; session: Session; ref?: string; text: string }
  | { type: "JOIN"; session: Session; ref?: string }
  | { type: "LEAVE"; session: Session; ref?: string }
  | { type: "WHO"; session: Session; ref?: string; status?: "online"; limit?: number }
  | { type: "HISTORY"; session: Session; ref?: string; query: HistoryQuery }
  | { type: "READ"; session: Session; ref?: string; id: number }
  | { type: "TYPING"; session: Session; ref?: string };

/**
 * Which limit refused a request with `error rate_limited` (the label of
 * `causerie_rate_limited_total`): the user's `say`/`direct` bucket, the
 * session's request budget, the frames kept before `welcome`, the
 * `join`/`leave`, `history`/`who` and `watch` buckets, and a salon's one join
 * request per 10 minutes.
 */
export type RateLimit =
  | "messages"
  | "requests"
  | "handshake"
  | "membership"
  | "history"
  | "watch"
  | "join_request";

/** Effects a connection needs; the composition root provides them. */
export interface ConnectionDeps {
  /** The clock, epoch ms. */
  now(): number;
  /** Checks a hello or performs a register from `address`; rejects with a ProtocolError. */
  authenticate(
    frame: HandshakeFrame,
    address: string,
  ): Promise<{ user: UserSummary; token: string; tokenHash?: string; catchup?: WelcomeCatchup }>;
  /** The `welcome` frame for a new session (with what `authenticate` read for it, if anything). */
  welcome(
    session: Session,
    token: string,
    ref: string | undefined,
    catchup?: WelcomeCatchup,
  ): string;
  /** Announces a new session to the server. */
  attach(session: Session): void;
  /** Announces the end of a session to the server. */
  detach(session: Session): void;
  /** The salon with this name, or undefined. */
  salon(name: string): EventTarget<SalonRequest> | undefined;
  /** Hands a direct message to the server (commit, then delivery). */
  direct(session: Session, ref: string | undefined, to: string, text: string): void;
  /** Carries out a moderator frame and answers it (`ok`, `requests` or `error`). */
  moderate(session: Session, frame: ModeratorFrame): void;
  /** Told when a session is closed for flooding (for the security log). */
  flooded?(session: Session, address: string, detail: string): void;
  /** Answers a `history` request about a direct conversation. */
  directHistory(
    session: Session,
    ref: string | undefined,
    other: string,
    query: HistoryQuery,
  ): void;
  /**
   * Records a `read` of the conversation with `other` and answers it
   * (PROTOCOL 5.2). Absent: such frames are answered `error internal`.
   */
  directRead?(session: Session, ref: string | undefined, other: string, id: number): void;
  /** Answers a `conversations` request (PROTOCOL 5.2). Absent: `error internal`. */
  conversations?(session: Session, ref: string | undefined, query: ConversationQuery): void;
  // -- presence at scale and typing (PROTOCOL 5.1, 5.3)
  /** Hands a `watch` list to the server (which replies); absent: `watch` is ignored. */
  watch?(session: Session, ref: string | undefined, users: string[]): void;
  /** Hands a `typing` about a direct conversation to the server; absent: ignored. */
  typingTo?(session: Session, ref: string | undefined, to: string): void;
  // -- metrics (PROTOCOL 5.5)
  /** Told of each `error rate_limited` sent, with the limit that refused (a count, no I/O). */
  rateLimited?(limit: RateLimit): void;
  // -- edit, delete and reports (PROTOCOL 5.4)
  /** Carries out an edit, delete or report frame and answers it; absent: `error internal`. */
  messages?(session: Session, frame: MessageFrame): void;
}

/** Limits of one connection. */
export interface ConnectionLimits {
  /** `say`/`direct` bucket refill rate, per second (the bucket is the user's). */
  ratePerSecond: number;
  /** `say`/`direct` bucket size. */
  burst: number;
  /** Longest text, characters. */
  maxText: number;
  /** Time allowed for a valid hello, ms. */
  helloTimeoutMs: number;
  /** Time allowed for checking the hello (the password-hash queue can be long), ms. */
  authTimeoutMs: number;
  /**
   * A stream of refused frames lasting this long, or a session staying past
   * its request budget this long, closes the socket (1008), ms.
   */
  floodMs: number;
  /** Frames kept while the handshake is being checked; beyond, refused. */
  backlog: number;
  /** Bytes of frames kept while the handshake is being checked; beyond, refused. */
  backlogBytes: number;
  /** Request budget of a session: bucket size (every frame after welcome costs one). */
  requestBurst: number;
  /** Request budget of a session: refill rate, per second. */
  requestPerSecond: number;
}

/**
 * Default `join`/`leave` budget of a user: five at once, then one every two
 * seconds (a join-leave loop changes a membership at most every 2 s).
 */
export const MEMBERSHIP_RATE = { burst: 5, perSecond: 0.5 } as const;

/**
 * Default `history` budget of a user: ten pages at once, then two a second. A
 * page may hold 256 KiB: this bounds what one user's paging costs the event
 * loop (serializing) and the network to about 512 KiB a second.
 */
export const HISTORY_RATE = { burst: 10, perSecond: 2 } as const;

/**
 * Token buckets that belong to users rather than sessions: every session of
 * a user draws from the same bucket, and reconnecting does not refill it.
 * Keyed by user id; the server actor owns them.
 */
export interface UserBuckets {
  /** `say` and `direct`. */
  messages: TokenBuckets<number>;
  /** `join` and `leave`. */
  membership: TokenBuckets<number>;
  /** `history` pages (salons and directs) and `who` lists. */
  history: TokenBuckets<number>;
  /** `watch` lists (PROTOCOL 5.1: burst 5, one per second); absent: not limited. */
  watch?: TokenBuckets<number>;
}

/** Input of the connection machine. */
export interface ConnectionInput {
  /** Unique id, also the actor's system id. */
  id: string;
  /** The socket. */
  socket: SocketPort;
  /** The peer's address (for login throttling). */
  address: string;
  /** Effects. */
  deps: ConnectionDeps;
  /** Limits. */
  limits: ConnectionLimits;
  /** The users' buckets, shared with every other connection. */
  buckets: UserBuckets;
  /** The mutes in force (PROTOCOL 5.4), kept by the server; absent: nobody is muted. */
  mutes?: MuteBook;
}

/** Connection state. */
export interface ConnectionContext extends ConnectionInput {
  /** The authenticated session, once welcomed. */
  session: Session | undefined;
  /** `ref` of the hello, echoed by `welcome` or the refusal. */
  helloRef: string | undefined;
  /**
   * The session's request budget: tokens left (may go below zero, down to
   * `-requestBurst`: a refused frame costs a token too) and when computed.
   */
  requests: BucketState;
  /** Since when the session has been past its request budget (no frame accepted since), epoch ms. */
  overBudgetSince: number | undefined;
  /** Start of the current run of refused frames, epoch ms. */
  refusedSince: number | undefined;
  /** Last refused frame, epoch ms. */
  lastRefusal: number;
  /** Frames received while the handshake was being checked. */
  backlog: ConnectionEvent[];
  /** Bytes of the frames in `backlog`. */
  backlogBytes: number;
}

/** Events a connection handles. */
export type ConnectionEvent =
  | { type: "FRAME"; frame: ClientFrame; bytes?: number }
  | { type: "BAD_FRAME"; ref?: string; frameType?: string; message: string; bytes?: number }
  | { type: "SOCKET_CLOSED" }
  | { type: "REPLACED" }
  | { type: "SANCTIONED"; frame: string }
  | { type: "REVOKED"; reason: string }
  | { type: "REFUSED" }
  /** A frame read while reading was paused (past the budget): dropped unparsed, still counted. */
  | { type: "DROPPED" };

/**
 * A plain action of the connection machine (no `assign`): it reads the
 * context and the event and acts through the socket port or the effects.
 */
export type ConnectionAction = (
  args: { context: ConnectionContext; event: ConnectionEvent },
) => void;
