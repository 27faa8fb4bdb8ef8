/**
 * The inspector page's state and what it does: log in (admin or moderator,
 * `POST /api/login`, or the token this tab already keeps), fetch the machine
 * definitions once (`GET /admin/machines`), then follow the live stream
 * (admin) or poll `GET /admin/actors` (moderator) into the store. The views
 * read the signals; redraws are coalesced to one per animation frame.
 *
 * @module
 */

import { signal } from "@preact/signals";
import { type ApiProblem, login } from "../core/api.ts";
import type { Storages } from "../core/auth_storage.ts";
import type { Clock, SocketLike } from "../core/connection.ts";
import { type FeedStatus, PollFeed, StreamFeed } from "../core/inspector_feed.ts";
import { InspectorStore } from "../core/inspector_store.ts";
import type { StateNodeJson } from "../../lib/statechart_model.ts";

const KEY = "causerie.token";

/** What the page needs from the browser. */
export interface PageDeps {
  /** `fetch`. */
  fetch: typeof fetch;
  /** Opens `/admin/inspect` on the page's origin. */
  createSocket: () => SocketLike;
  /** Time and timers. */
  clock: Clock;
  /** The tab's storages (the token is kept for the tab only). */
  storages: Storages;
  /** Runs `fn` before the next repaint. */
  nextFrame: (fn: () => void) => void;
}

/** The inspector page. */
export class InspectorPage {
  /** Which screen shows. */
  readonly screen = signal<"login" | "inspector">("login");
  /** A note for the login screen. */
  readonly loginNote = signal("");
  /** The logged-in user. */
  readonly user = signal<{ username: string; role: string } | null>(null);
  /** The feed's status. */
  readonly status = signal<FeedStatus>({ kind: "stopped" });
  /** The store's version, for redraws. */
  readonly version = signal(0);
  /** The machine definitions, once fetched. */
  readonly machines = signal<Record<string, StateNodeJson> | null>(null);
  /** Why the definitions are missing, if they are. */
  readonly machinesProblem = signal("");
  /** The selected actor's id. */
  readonly selected = signal<string | null>(null);
  /** Filter: machine (`""`: all). */
  readonly filterMachine = signal("");
  /** Filter: username contains. */
  readonly filterUser = signal("");
  /** The live tree. */
  readonly store: InspectorStore;
  #deps: PageDeps;
  #feed: StreamFeed | PollFeed | null = null;
  #token: string | null = null;
  #drawPending = false;
  #pruneTimer: number | null = null;

  /** The page on the given browser services. */
  constructor(deps: PageDeps) {
    this.#deps = deps;
    this.store = new InspectorStore({ now: () => deps.clock.now() });
  }

  #redraw(): void {
    if (this.#drawPending) return;
    this.#drawPending = true;
    this.#deps.nextFrame(() => {
      this.#drawPending = false;
      this.version.value = this.store.version;
    });
  }

  /** Starts with the tab's kept token, if any (its role comes from `GET /api/me`). */
  async resume(): Promise<void> {
    const token = this.#deps.storages.session.getItem(KEY);
    if (!token) return;
    try {
      const res = await this.#deps.fetch("/api/me", {
        headers: { Authorization: `Bearer ${token}` },
      });
      if (!res.ok) return;
      const body = await res.json() as { user?: { username: string; role: string } };
      if (body.user) this.#enter(token, body.user);
    } catch { /* stay on the login screen */ }
  }

  /** Logs in; returns the problem to show, or null. */
  async logIn(username: string, password: string): Promise<ApiProblem | null> {
    const r = await login(this.#deps.fetch, username, password);
    if (!r.ok) return r.problem;
    const { token, user } = r.value;
    if (user.role !== "admin" && user.role !== "moderator") {
      return {
        code: "forbidden",
        message: "The inspector needs a moderator or admin login.",
      };
    }
    this.#deps.storages.session.setItem(KEY, token);
    this.#enter(token, user);
    return null;
  }

  #enter(token: string, user: { username: string; role: string }): void {
    if (user.role !== "admin" && user.role !== "moderator") {
      this.loginNote.value = "The inspector needs a moderator or admin login.";
      return;
    }
    this.#token = token;
    this.user.value = { username: user.username, role: user.role };
    this.loginNote.value = "";
    this.screen.value = "inspector";
    void this.#loadMachines(token);
    const common = {
      store: this.store,
      token,
      clock: this.#deps.clock,
      onChange: (status: FeedStatus) => {
        this.status.value = status;
        this.#redraw();
      },
    };
    this.#feed = user.role === "admin"
      ? new StreamFeed({ ...common, createSocket: this.#deps.createSocket })
      : new PollFeed({ ...common, fetch: this.#deps.fetch });
    this.#feed.start();
    const prune = () => {
      this.store.prune();
      this.#redraw();
      this.#pruneTimer = this.#deps.clock.setTimeout(prune, 5000);
    };
    this.#pruneTimer = this.#deps.clock.setTimeout(prune, 5000);
  }

  async #loadMachines(token: string): Promise<void> {
    try {
      const res = await this.#deps.fetch("/admin/machines", {
        headers: { Authorization: `Bearer ${token}` },
      });
      if (!res.ok) {
        this.machinesProblem.value = `The machine definitions could not be read (${res.status}).`;
        return;
      }
      this.machines.value = await res.json() as Record<string, StateNodeJson>;
    } catch {
      this.machinesProblem.value = "The machine definitions could not be read; reload the page.";
    }
  }

  /** Leaves: stops the feed, forgets the tab's token (the session itself stays valid). */
  logOut(): void {
    this.#feed?.stop();
    this.#feed = null;
    if (this.#pruneTimer !== null) this.#deps.clock.clearTimeout(this.#pruneTimer);
    this.#pruneTimer = null;
    if (this.#token) this.#deps.storages.session.removeItem(KEY);
    this.#token = null;
    this.store.reset();
    this.user.value = null;
    this.selected.value = null;
    this.screen.value = "login";
  }
}
