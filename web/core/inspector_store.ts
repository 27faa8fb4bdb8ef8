/**
 * The inspector page's model, framework-free: the frames of the inspection
 * stream (`GET /admin/inspect`, PROTOCOL 5.5 and docs/protocol.md) or the
 * lists of `GET /admin/actors` (a moderator's polling) reduced into the live
 * actor tree: each actor's machine, state value, status, facts and its last
 * events. Memory is bounded: at most {@link InspectorLimits.eventsPerActor}
 * events per actor, ended actors kept {@link InspectorLimits.endedKeepMs}
 * and then pruned, at most {@link InspectorLimits.maxActors} actors (the
 * oldest ended ones go first, then the oldest).
 *
 * @module
 */

/** One event as the page shows it. */
export interface ActorEvent {
  /** Event type (`FRAME`, `xstate.after...`). */
  type: string;
  /** When, epoch ms. */
  at: number;
  /** The allowlisted fields the stream sent with it, as `key=value` words. */
  fields: string;
  /** The state value it led to, when a snapshot followed. */
  value?: unknown;
}

/** One actor as the page shows it. */
export interface ActorView {
  /** Actor id (system id, or session id). */
  id: string;
  /** Parent's id, when it has one. */
  parentId?: string;
  /** Machine name. */
  machine: string;
  /** State value (`null` before the first snapshot). */
  value: unknown;
  /** `active`, `done`, `error` or `stopped`. */
  status: string;
  /** Allowlisted facts (username, salon, remaining...). */
  facts: Record<string, unknown>;
  /** The last events, oldest first. */
  events: ActorEvent[];
  /** First seen, epoch ms (orders siblings). */
  seen: number;
  /** When it ended (status no longer active), epoch ms. */
  endedAt?: number;
}

/** One node of the tree the page draws. */
export interface TreeNode {
  /** The actor. */
  actor: ActorView;
  /** Its children, in the order they were seen. */
  children: TreeNode[];
}

/** Bounds of the store. */
export interface InspectorLimits {
  /** Events kept per actor (default 20). */
  eventsPerActor: number;
  /** How long an ended actor stays visible, ms (default 30 s). */
  endedKeepMs: number;
  /** Most actors kept (default 2000). */
  maxActors: number;
}

/** The default bounds. */
export const INSPECTOR_LIMITS: InspectorLimits = {
  eventsPerActor: 20,
  endedKeepMs: 30_000,
  maxActors: 2000,
};

/** One actor as `GET /admin/actors` lists it. */
export interface ListedActor {
  /** Id. */
  id: string;
  /** Machine. */
  machine: string;
  /** State value. */
  state: unknown;
  /** Parent id, or null. */
  parent: string | null;
  /** Facts. */
  facts?: Record<string, unknown>;
}

/** A filter of the tree. */
export interface TreeFilter {
  /** Only this machine (and the actors above it). */
  machine?: string;
  /** Only actors whose username contains this (case-insensitive), and those above. */
  user?: string;
}

type Frame = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const obj = (v: unknown): Record<string, unknown> | undefined =>
  v && typeof v === "object" && !Array.isArray(v) ? v as Record<string, unknown> : undefined;

/** An event's extra fields as short words (`salon=Blabla`). */
export function eventFields(event: Record<string, unknown>): string {
  return Object.entries(event)
    .filter(([k]) => k !== "type")
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ")
    .slice(0, 200);
}

/**
 * An event's type in the words of the diagrams: XState's own events
 * (`xstate.init`, `xstate.done.actor.0.connection.authenticating`,
 * `xstate.after.helloTimeout.connection.awaitingHello`) read `start`,
 * `done: authenticating`, `after helloTimeout`; the machines' events
 * (`SAY`, `KICK`) are kept as they are.
 */
export function eventWords(type: string): string {
  if (type === "xstate.init") return "start";
  if (type === "xstate.stop") return "stop";
  const actor = /^xstate\.(done|error)\.actor\.(.+)$/.exec(type);
  if (actor) return `${actor[1]}: ${actor[2].split(".").at(-1)}`;
  const after = /^xstate\.after\.([^.]+)\./.exec(type);
  if (after) return `after ${after[1]}`;
  return type;
}

/** A state value in words: `active`, `active.kicked`, `lifecycle.running + presence.idle`. */
export function valueWords(value: unknown): string {
  if (typeof value === "string") return value;
  const o = obj(value);
  if (!o) return value === null || value === undefined ? "?" : String(value);
  return Object.entries(o)
    .map(([k, v]) => {
      if (obj(v) && Object.keys(v as object).length === 0) return k; // an atomic region
      const inner = valueWords(v);
      return obj(v) && Object.keys(v as object).length > 1 ? `${k}.(${inner})` : `${k}.${inner}`;
    })
    .join(" + ");
}

/** The live actor tree, fed frame by frame. */
export class InspectorStore {
  /** Every actor kept, by id. */
  readonly actors: Map<string, ActorView> = new Map();
  /** Events the server dropped because this watcher was slow, in total. */
  dropped = 0;
  /** The opening snapshot is complete (`@causerie.live` seen). */
  live = false;
  /** Bumped on every change (for views that redraw on change). */
  version = 0;
  readonly #limits: InspectorLimits;
  readonly #now: () => number;

  /** A store with the given bounds and clock. */
  constructor(opts: { limits?: Partial<InspectorLimits>; now?: () => number } = {}) {
    this.#limits = { ...INSPECTOR_LIMITS, ...opts.limits };
    this.#now = opts.now ?? Date.now;
  }

  /** Forgets everything (a new stream starts with a fresh snapshot). */
  reset(): void {
    this.actors.clear();
    this.live = false;
    this.version++;
  }

  #actor(id: string, machine: string | undefined, at: number): ActorView {
    let a = this.actors.get(id);
    if (!a) {
      a = {
        id,
        machine: machine ?? "unknown",
        value: null,
        status: "active",
        facts: {},
        events: [],
        seen: at,
      };
      this.actors.set(id, a);
    } else if (machine && a.machine === "unknown") a.machine = machine;
    return a;
  }

  #push(a: ActorView, e: ActorEvent): void {
    a.events.push(e);
    if (a.events.length > this.#limits.eventsPerActor) {
      a.events.splice(0, a.events.length - this.#limits.eventsPerActor);
    }
  }

  #end(a: ActorView, status: string, at: number): void {
    a.status = status;
    a.endedAt ??= at;
  }

  /**
   * Applies one frame of the stream (or an array of them); returns whether
   * it was understood. Unknown or malformed frames change nothing.
   */
  apply(frame: unknown): boolean {
    if (Array.isArray(frame)) {
      let any = false;
      for (const f of frame) any = this.apply(f) || any;
      return any;
    }
    const f = obj(frame) as Frame | undefined;
    if (!f) return false;
    const at = typeof f.at === "number" && Number.isFinite(f.at) ? f.at : this.#now();
    const id = str(f.actorId);
    switch (f.type) {
      case "@xstate.actor": {
        if (!id) return false;
        const a = this.#actor(id, str(f.machine), at);
        const parent = str(f.parentId);
        if (parent) a.parentId = parent;
        break;
      }
      case "@xstate.snapshot": {
        if (!id) return false;
        const a = this.#actor(id, str(f.machine), at);
        const parent = str(f.parentId);
        if (parent) a.parentId = parent;
        if ("value" in f) a.value = f.value;
        const facts = obj(f.facts);
        if (facts) a.facts = { ...facts };
        const event = obj(f.event);
        const type = str(event?.type);
        if (event && type) {
          const last = a.events[a.events.length - 1];
          if (last && last.type === type && !("value" in last) && last.at <= at) {
            last.value = a.value;
          } else this.#push(a, { type, at, fields: eventFields(event), value: a.value });
        }
        const status = str(f.status) ?? "active";
        if (status === "active") {
          a.status = "active";
          delete a.endedAt;
        } else this.#end(a, status, at);
        break;
      }
      case "@xstate.event": {
        if (!id) return false;
        const event = obj(f.event);
        const type = str(event?.type);
        if (!event || !type) return false;
        this.#push(this.#actor(id, undefined, at), { type, at, fields: eventFields(event) });
        break;
      }
      case "@causerie.live":
        this.live = true;
        break;
      case "@causerie.dropped": {
        const n = f.dropped;
        if (typeof n !== "number" || !Number.isFinite(n) || n < 0) return false;
        this.dropped += n;
        break;
      }
      default:
        return false;
    }
    this.prune();
    this.version++;
    return true;
  }

  /**
   * Replaces the tree with a `GET /admin/actors` list (polling): actors
   * missing from it have ended ("stopped"); a state that changed between
   * two lists is recorded as an event `(state changed)`.
   */
  applyList(list: ListedActor[]): void {
    const at = this.#now();
    const present = new Set<string>();
    for (const item of list) {
      if (!item || typeof item.id !== "string") continue;
      present.add(item.id);
      const known = this.actors.has(item.id);
      const a = this.#actor(item.id, item.machine, at);
      if (item.parent) a.parentId = item.parent;
      else delete a.parentId;
      if (known && JSON.stringify(a.value) !== JSON.stringify(item.state)) {
        this.#push(a, { type: "(state changed)", at, fields: "", value: item.state });
      }
      a.value = item.state;
      a.facts = { ...(item.facts ?? {}) };
      a.status = "active";
      delete a.endedAt;
    }
    for (const a of this.actors.values()) {
      if (!present.has(a.id) && a.status === "active") this.#end(a, "stopped", at);
    }
    this.live = true;
    this.prune();
    this.version++;
  }

  /** Drops ended actors past their time, then the oldest past the cap. */
  prune(): void {
    const now = this.#now();
    for (const [id, a] of this.actors) {
      if (a.endedAt !== undefined && now - a.endedAt > this.#limits.endedKeepMs) {
        this.actors.delete(id);
      }
    }
    const over = this.actors.size - this.#limits.maxActors;
    if (over > 0) {
      const order = [...this.actors.values()].sort((a, b) =>
        (a.endedAt === undefined ? 1 : 0) - (b.endedAt === undefined ? 1 : 0) || a.seen - b.seen
      );
      for (const a of order.slice(0, over)) this.actors.delete(a.id);
    }
  }

  /** The machines of the actors kept, sorted. */
  machines(): string[] {
    return [...new Set([...this.actors.values()].map((a) => a.machine))].sort();
  }

  /**
   * The tree: roots are actors without a known parent; siblings in the order
   * seen. With a filter, an actor is kept when it matches or has a kept child.
   */
  tree(filter: TreeFilter = {}): TreeNode[] {
    const children = new Map<string | undefined, ActorView[]>();
    for (const a of this.actors.values()) {
      const parent = a.parentId && this.actors.has(a.parentId) ? a.parentId : undefined;
      children.set(parent, [...(children.get(parent) ?? []), a]);
    }
    const user = filter.user?.trim().toLowerCase() ?? "";
    const matches = (a: ActorView) =>
      (!filter.machine || a.machine === filter.machine) &&
      (!user || String(a.facts.username ?? "").toLowerCase().includes(user));
    const build = (parent: string | undefined, seen: Set<string>): TreeNode[] => {
      const out: TreeNode[] = [];
      for (const a of (children.get(parent) ?? []).sort((x, y) => x.seen - y.seen)) {
        if (seen.has(a.id)) continue;
        seen.add(a.id);
        const kids = build(a.id, seen);
        if (matches(a) || kids.length > 0) out.push({ actor: a, children: kids });
      }
      return out;
    };
    return build(undefined, new Set());
  }
}
