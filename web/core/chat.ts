/**
 * The chat: the connection machine, the stores, the handlers, and the
 * actions views call (open, send, join, leave, mark read, typing...). It is
 * framework-free: views read the stores' signals.
 *
 * @module
 */

import type { ClientRequest } from "./codec.ts";
import { type Clock, Connection, type SocketLike, systemClock } from "./connection.ts";
import type { ChatContext, PendingRequest } from "./handlers/context.ts";
import { dispatch } from "./handlers/index.ts";
import { unreadAbove } from "./handlers/message_events.ts";
import { type ConversationKey, directKey, target } from "./keys.ts";
import { ComposerStore } from "./stores/composer.ts";
import { MessagesStore } from "./stores/messages.ts";
import { ModerationStore } from "./stores/moderation.ts";
import { PeopleStore, Watcher } from "./stores/people.ts";
import { PresenceStore } from "./stores/presence.ts";
import { SalonsStore } from "./stores/salons.ts";
import { SessionStore } from "./stores/session.ts";

/** Typing is sent at most this often per conversation (the server relays one per 3 s). */
export const TYPING_EVERY_MS = 3000;
/** Read markers wait this long so that a scroll sends one `read`, not one per message. */
export const READ_DELAY_MS = 400;
/** A page of history. */
export const PAGE = 50;
/** Members asked of each salon when looking for someone to write to (PROTOCOL 5.1 `who` `limit`). */
export const WHO_LIMIT = 200;

/** What the chat needs. */
export interface ChatOptions {
  /** Opens a WebSocket to `/ws`. */
  createSocket: () => SocketLike;
  /** The clock (default: the system's). */
  clock?: Clock;
  /** Called when the server refuses the token (show the login form). */
  onCredentialsRefused?: () => void;
}

/** The chat client. */
export class Chat implements ChatContext {
  /** Session store. */
  readonly session = new SessionStore();
  /** Salons store. */
  readonly salons = new SalonsStore();
  /** Messages store. */
  readonly messages = new MessagesStore();
  /** Presence store. */
  readonly presence: PresenceStore;
  /** Composer store. */
  readonly composer = new ComposerStore();
  /** Moderation store. */
  readonly moderation = new ModerationStore();
  /** People found for "New message", conversation paging. */
  readonly people = new PeopleStore();
  /** The watch list (presence of the users on screen, PROTOCOL 5.1). */
  readonly watcher: Watcher;
  /** The clock. */
  readonly clock: Clock;
  /** The connection machine. */
  readonly connection: Connection;
  #token: string | null = null;
  #refs = new Map<string, PendingRequest>();
  #seq = 0;
  #typingSent = new Map<ConversationKey, number>();
  #readWanted = new Map<ConversationKey, number>();
  #readTimer: number | null = null;

  /** Builds an idle chat; {@link Chat.connect} starts it. */
  constructor(opts: ChatOptions) {
    this.clock = opts.clock ?? systemClock;
    this.presence = new PresenceStore(this.clock);
    this.watcher = new Watcher(
      (users) => this.connection.send({ type: "watch", users, ref: this.#ref() }),
      this.clock,
    );
    this.connection = new Connection({
      createSocket: opts.createSocket,
      clock: this.clock,
      hello: () => ({ type: "hello", token: this.#token ?? "", ref: this.#ref() }),
      onFrame: (frame) => dispatch(this, frame),
      onState: (state) => {
        this.session.connection.value = state;
        if (state.kind !== "open") this.#lostInFlight();
        if (state.kind === "stopped" && state.reason === "credentials") {
          opts.onCredentialsRefused?.();
        }
      },
    });
  }

  /** Connects with a token (from a login, or kept from an earlier one). */
  connect(token: string): void {
    this.#token = token;
    this.session.welcomed = false;
    this.connection.start();
  }

  /** The token in use. */
  get token(): string | null {
    return this.#token;
  }

  /** Disconnects and forgets everything (log out). */
  disconnect(): void {
    this.connection.stop("logged_out");
    this.#token = null;
    this.#refs.clear();
    this.session.reset();
    this.messages.reset();
    this.presence.reset();
    this.composer.reset();
    this.moderation.reset();
    this.people.reset();
    this.watcher.reset();
    this.salons.fromWelcome([]);
    this.salons.active.value = null;
  }

  #ref(): string {
    this.#seq += 1;
    return `c${this.#seq}`;
  }

  /** {@inheritDoc ChatContext.takeRequest} */
  takeRequest(ref: string | undefined): PendingRequest | undefined {
    if (ref === undefined) return undefined;
    const req = this.#refs.get(ref);
    this.#refs.delete(ref);
    return req;
  }

  /** {@inheritDoc ChatContext.request} */
  request(req: ClientRequest, pending: PendingRequest): string | null {
    const ref = this.#ref();
    if (!this.connection.send({ ...req, ref } as ClientRequest)) return null;
    this.#refs.set(ref, pending);
    return ref;
  }

  /** Requests sent on a socket that dropped get no answer: their messages are marked not sent. */
  #lostInFlight(): void {
    for (const [ref, req] of this.#refs) {
      if (req.kind === "say") {
        this.messages.fail(req.key, ref, {
          code: "offline",
          message: "The connection dropped before the server confirmed this message.",
        });
      } else if (req.kind === "history") this.messages.loadingOlder(req.key, false);
      else if (req.kind === "conversations") this.people.loadingConversations.value = false;
      else if (req.kind === "who") this.people.searching.value = 0;
    }
    this.#refs.clear();
  }

  /** {@inheritDoc ChatContext.loadLatest} */
  loadLatest(key: ConversationKey): void {
    if (key.startsWith("s:") && !this.salons.get(key.slice(2))?.member) return;
    this.request({ type: "history", ...target(key), limit: PAGE }, {
      kind: "history",
      key,
      mode: "latest",
    });
  }

  /** Opens a conversation (loads its newest page the first time). */
  open(key: ConversationKey): void {
    this.salons.active.value = key;
    if (this.connection.state.kind === "open" && !this.messages.thread(key).value.loaded) {
      this.loadLatest(key);
    }
  }

  /** Loads the page before the oldest message held (scrolling up). */
  loadOlder(key: ConversationKey): void {
    const t = this.messages.thread(key).value;
    if (!t.loaded || !t.more || t.loadingOlder) return;
    const before = this.messages.oldest(key);
    const ref = this.request({ type: "history", ...target(key), before, limit: PAGE }, {
      kind: "history",
      key,
      mode: "before",
    });
    if (ref) this.messages.loadingOlder(key, true);
  }

  /**
   * Sends a message: shown at once as pending, confirmed by its `ok`. Returns
   * a problem to show instead when it cannot be sent.
   */
  say(key: ConversationKey, text: string): string | null {
    if (!text.trim()) return null;
    const max = this.session.limits.value.maxTextLength;
    const length = [...text].length;
    if (length > max) {
      return `Too long: ${length} characters, at most ${max}. Shorten it by ${length - max}.`;
    }
    const t = target(key);
    const req: ClientRequest = "salon" in t
      ? { type: "say", salon: t.salon, text }
      : { type: "direct", to: t.with, text };
    const ref = this.request(req, { kind: "say", key, text });
    if (!ref) return "Not connected: the message was not sent. Wait for the connection to return.";
    this.messages.addPending(key, { ref, text, at: new Date(this.clock.now()).toISOString() });
    this.composer.setProblem(key, null);
    this.#typingSent.delete(key);
    return null;
  }

  /** Joins a salon (or asks to). */
  join(salon: string): void {
    this.request({ type: "join", salon }, { kind: "membership", salon });
  }

  /** Leaves a salon (or withdraws a request). */
  leave(salon: string): void {
    this.request({ type: "leave", salon }, { kind: "membership", salon });
  }

  /** Accepts or rejects a join request (moderators). */
  decide(salon: string, username: string, accept: boolean): void {
    this.request({ type: "decide", salon, username, accept }, { kind: "decide", salon, username });
  }

  /** The user is typing in `key`: sent at most once every {@link TYPING_EVERY_MS}. */
  typing(key: ConversationKey): void {
    const now = this.clock.now();
    const last = this.#typingSent.get(key);
    if (last !== undefined && now - last < TYPING_EVERY_MS) return;
    if (this.connection.send({ type: "typing", ...target(key) })) this.#typingSent.set(key, now);
  }

  /**
   * The user has seen message `id` of `key`: the marker moves forward at
   * once here, and one `read` leaves shortly after (the highest id seen).
   */
  markRead(key: ConversationKey, id: number): void {
    const u = this.salons.unreadOf(key);
    if (!u || id <= u.lastRead) return;
    const counts = unreadAbove(this, key, id);
    this.salons.updateUnread(key, () => ({ lastRead: id, ...counts }));
    this.#readWanted.set(key, Math.max(id, this.#readWanted.get(key) ?? 0));
    if (this.#readTimer !== null) return;
    this.#readTimer = this.clock.setTimeout(() => {
      this.#readTimer = null;
      for (const [k, readId] of this.#readWanted) {
        this.request({ type: "read", ...target(k), id: readId }, { kind: "read", key: k });
      }
      this.#readWanted.clear();
    }, READ_DELAY_MS);
  }

  /** Loads the next page of older direct conversations (`conversations` `before` the oldest `at`). */
  moreConversations(): void {
    if (!this.people.moreConversations.value || this.people.loadingConversations.value) return;
    const list = this.salons.directs.value;
    const before = list.length ? list[list.length - 1].at : undefined;
    const ref = this.request(
      { type: "conversations", ...(before ? { before } : {}), limit: PAGE },
      { kind: "conversations" },
    );
    if (ref) this.people.loadingConversations.value = true;
  }

  /**
   * "New message": asks each salon the user belongs to for its members
   * (`who` with `limit`), who become the people one can write to.
   */
  findPeople(): void {
    let asked = 0;
    for (const s of this.salons.salons.value) {
      if (!s.member) continue;
      const ref = this.request({ type: "who", salon: s.name, limit: WHO_LIMIT }, {
        kind: "who",
        salon: s.name,
      });
      if (ref) asked += 1;
    }
    this.people.searching.value = asked;
  }

  /** Opens the direct conversation with `user`, listed at once (even before its first message). */
  startDirect(user: { username: string; alias: string }): ConversationKey {
    const key = directKey(user.username);
    if (!this.salons.unreadOf(key)) {
      this.salons.updateUnread(key, () => ({}), user, new Date(this.clock.now()).toISOString());
    }
    return key;
  }
}
