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
import { type ConversationKey, directKey, keyName, salonKey, target } from "./keys.ts";
import { ComposerStore } from "./stores/composer.ts";
import { type ChatItem, MessagesStore } from "./stores/messages.ts";
import { ModerationStore } from "./stores/moderation.ts";
import { PeopleStore, Watcher } from "./stores/people.ts";
import { PresenceStore } from "./stores/presence.ts";
import { around, CONTEXT_AROUND, ReportsStore } from "./stores/reports.ts";
import { RestrictionsStore } from "./stores/restrictions.ts";
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

/** Said when a request's answer was lost with the connection. */
const DROPPED = "The connection dropped before the server answered; try again.";

/** A time as the user reads it (hours and minutes). */
function clockTime(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

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
  /** Mutes and slow mode (PROTOCOL 5.4). */
  readonly restrictions = new RestrictionsStore();
  /** Open reports (moderators, PROTOCOL 5.4). */
  readonly reports = new ReportsStore();
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
    this.restrictions.reset();
    this.reports.reset();
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
      else if (req.kind === "context") {
        this.reports.setContext(req.report, { state: "failed", message: DROPPED });
      } else if (req.kind === "edit" || req.kind === "delete" || req.kind === "report") {
        this.composer.setProblem(req.key, { code: "offline", message: DROPPED });
      }
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
    const held = this.#restricted(key);
    if (held) return held;
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

  // --- Moderation beyond the original (PROTOCOL 5.4) ------------------------------------------

  /** Why the user cannot write in `key` now (muted, slow mode), or null. */
  #restricted(key: ConversationKey): string | null {
    const now = this.clock.now();
    const mute = this.restrictions.muteOf(key, now);
    if (mute) return `You are muted until ${clockTime(mute.until)}; this was not sent.`;
    const wait = this.slowModeWait(key);
    if (wait > 0) {
      return `Slow mode: you may send again in ${Math.ceil(wait / 1000)} s; this was not sent.`;
    }
    return null;
  }

  /** Milliseconds before the user may write in `key` under slow mode (moderators never wait). */
  slowModeWait(key: ConversationKey): number {
    if (!key.startsWith("s:") || this.session.user.value?.role !== "member") return 0;
    return this.restrictions.waitLeft(keyName(key), this.clock.now());
  }

  /**
   * Whether the user may still edit `item`: their own, not deleted, and sent
   * within the server's `welcome.limits.editMinutes` (a server that does not
   * announce it decides alone; 0 turns editing off).
   */
  canEdit(item: ChatItem): boolean {
    if (item.deleted || item.from.username !== this.session.user.value?.username) return false;
    const minutes = this.session.limits.value.editMinutes;
    if (minutes === undefined) return true;
    if (minutes <= 0) return false;
    return this.clock.now() - Date.parse(item.at) <= minutes * 60_000;
  }

  /**
   * The user's own newest message in `key` (not deleted), if it can still be
   * edited: the Up arrow's target.
   */
  lastOwn(key: ConversationKey): number | null {
    const me = this.session.user.value?.username;
    const items = this.messages.thread(key).value.items;
    for (let i = items.length - 1; i >= 0; i--) {
      if (items[i].from.username === me && !items[i].deleted) {
        return this.canEdit(items[i]) ? items[i].id : null;
      }
    }
    return null;
  }

  /** Puts message `id` (one's own) in the composer to edit it. */
  startEdit(key: ConversationKey, id: number): boolean {
    const item = this.messages.thread(key).value.items.find((i) => i.id === id);
    if (!item || item.deleted) return false;
    this.composer.startEdit(key, id, item.text);
    this.composer.setProblem(key, null);
    return true;
  }

  /**
   * Sends the edit in progress in `key` with the composer's text. Returns a
   * problem to show instead when it cannot be sent (then the edit goes on).
   */
  saveEdit(key: ConversationKey): string | null {
    const editing = this.composer.editing.value.get(key);
    if (!editing) return null;
    const text = this.composer.drafts.value.get(key) ?? "";
    const item = this.messages.thread(key).value.items.find((i) => i.id === editing.id);
    if (!text.trim()) return "Write the new text, or delete the message from its menu.";
    const max = this.session.limits.value.maxTextLength;
    const length = [...text].length;
    if (length > max) {
      return `Too long: ${length} characters, at most ${max}. Shorten it by ${length - max}.`;
    }
    if (item && item.text === text) {
      this.composer.endEdit(key);
      return null;
    }
    const ref = this.request({ type: "edit", ...target(key), id: editing.id, text }, {
      kind: "edit",
      key,
      id: editing.id,
      text,
    });
    if (!ref) {
      return "Not connected: the message was not edited. Wait for the connection to return.";
    }
    this.composer.endEdit(key);
    return null;
  }

  /** Leaves the edit in progress unsent. */
  cancelEdit(key: ConversationKey): void {
    this.composer.endEdit(key);
  }

  /**
   * Deletes message `id` of `key` (one's own; a moderator: any salon message),
   * with an optional reason; `report` when done from that report.
   */
  deleteMessage(key: ConversationKey, id: number, reason = "", report?: number): boolean {
    const req: ClientRequest = reason.trim()
      ? { type: "delete", ...target(key), id, reason: reason.trim() }
      : { type: "delete", ...target(key), id };
    return this.request(req, { kind: "delete", key, id, report }) !== null;
  }

  /** Reports message `id` of `salon` to the moderators, with an optional reason. */
  report(salon: string, id: number, reason = ""): boolean {
    const req: ClientRequest = reason.trim()
      ? { type: "report", salon, id, reason: reason.trim() }
      : { type: "report", salon, id };
    return this.request(req, { kind: "report", key: salonKey(salon), id }) !== null;
  }

  /** Resolves a report (moderators), with an optional note. */
  resolveReport(report: number, note = ""): boolean {
    const req: ClientRequest = note.trim()
      ? { type: "resolve_report", report, note: note.trim() }
      : { type: "resolve_report", report };
    return this.request(req, { kind: "resolve", report }) !== null;
  }

  /**
   * Shows a report's message in context: the messages around it, from the
   * salon's thread when it holds them, else from a `history` page.
   */
  showContext(report: number): void {
    const r = this.reports.open.value.find((x) => x.id === report);
    if (!r) return;
    const id = r.message.id;
    const held = around(this.messages.thread(salonKey(r.salon)).value.items, id);
    if (held.length === CONTEXT_AROUND * 2 + 1) {
      return this.reports.setContext(report, { state: "shown", items: held });
    }
    const ref = this.request(
      {
        type: "history",
        salon: r.salon,
        before: id + CONTEXT_AROUND + 1,
        limit: CONTEXT_AROUND * 2 + 1,
      },
      { kind: "context", report, salon: r.salon, id },
    );
    this.reports.setContext(
      report,
      ref ? { state: "loading" } : { state: "failed", message: "Not connected; try again." },
    );
  }
}
