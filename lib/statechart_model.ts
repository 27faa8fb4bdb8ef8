/**
 * A machine definition (the JSON of `GET /admin/machines`: XState's
 * `toJSON()` plus `always` and guard words, see actors/machines.ts) read into
 * what a diagram draws: the tree of states by path (`active.kicked`), and the
 * transitions between them with their labels (`LIFT`, `FRAME [isPing]`,
 * `after tick [moreThanOneLeft]`, `done: authenticate`). Pure, no
 * dependency: used by the Mermaid writer and by the inspector's layout.
 *
 * @module
 */

/** One transition as the JSON has it. */
export interface TransitionJson {
  /** The event (`null` for an initial transition, `""` for an eventless one). */
  eventType?: string | null;
  /** Target ids (`#machine.state`); absent or empty: a targetless transition. */
  target?: string[];
  /** Guard name (a string, or `{type}`). */
  guard?: string | { type?: string };
  /** Name (or milliseconds) of a delayed transition's delay. */
  delay?: string | number;
}

/** One state node as the JSON has it. */
export interface StateNodeJson {
  /** Unique id (`machine.state.child`). */
  id: string;
  /** Key within its parent. */
  key: string;
  /** `atomic`, `compound`, `parallel`, `final` or `history`. */
  type: string;
  /** The initial transition of a compound state. */
  initial?: { target?: string[] } | null;
  /** Child states. */
  states?: Record<string, StateNodeJson>;
  /** Transitions on events. */
  transitions?: TransitionJson[];
  /** Eventless transitions (our addition). */
  always?: TransitionJson[];
  /** Document order. */
  order?: number;
  /** Invoked actors (`{id, src}`). */
  invoke?: { id?: string; src?: unknown }[];
}

/** One state in the model. */
export interface ModelState {
  /** Path from the root (`""` for the root, `active.kicked`). */
  path: string;
  /** Key (the root's: the machine's id). */
  key: string;
  /** `atomic`, `compound`, `parallel`, `final` or `history`. */
  type: string;
  /** Child states in document order. */
  children: ModelState[];
  /** Path of the initial child (compound states). */
  initial?: string;
}

/** One arrow: the transitions with the same source, target and event, merged. */
export interface ModelEdge {
  /** Stable id (`e0`, `e1`...). */
  id: string;
  /** Source path. */
  source: string;
  /** Target path (the source itself for a targetless transition). */
  target: string;
  /** The event in words (`FRAME`, `after tick`, `done: authenticate`, `always`). */
  event: string;
  /** Guards of the merged transitions (those that have one). */
  guards: string[];
  /** The label to draw: the event and its guards. */
  label: string;
  /** No target: actions only, the state does not change. */
  internal: boolean;
}

/** A machine read for drawing. */
export interface StatechartModel {
  /** The machine's id. */
  machine: string;
  /** The root state. */
  root: ModelState;
  /** Every arrow, in document order. */
  edges: ModelEdge[];
}

/** Guards listed on one label before they are counted instead. */
const GUARDS_SHOWN = 3;

function guardName(guard: TransitionJson["guard"]): string | undefined {
  if (typeof guard === "string") return guard;
  if (guard && typeof guard.type === "string") return guard.type;
  return undefined;
}

/** The event of a transition in words. */
export function eventWords(t: TransitionJson, source: StateNodeJson): string {
  const type = t.eventType ?? "";
  if (type === "") return "always";
  if (type.startsWith("xstate.after.")) {
    return typeof t.delay === "number" ? `after ${t.delay} ms` : `after ${t.delay ?? "delay"}`;
  }
  for (const kind of ["done", "error"] as const) {
    const prefix = `xstate.${kind}.actor.`;
    if (type.startsWith(prefix)) {
      const id = type.slice(prefix.length);
      if (id === "*") return `${kind}: any actor`;
      const invoked = (source.invoke ?? []).find((i) => i.id === id);
      const src = typeof invoked?.src === "string" ? invoked.src : id;
      return `${kind}: ${src}`;
    }
  }
  if (type.startsWith("xstate.done.state.")) return "done";
  if (type === "*") return "any event";
  return type;
}

/** The label of a merged arrow. */
export function edgeLabel(event: string, guards: string[], branches: number): string {
  const unguarded = branches - guards.length;
  if (guards.length === 0) return event === "always" ? "always" : event;
  const head = event === "always" ? "" : `${event} `;
  if (guards.length <= GUARDS_SHOWN && unguarded === 0) {
    return `${head}${guards.map((g) => `[${g}]`).join(" ")}`;
  }
  if (guards.length <= GUARDS_SHOWN) {
    return `${head}${guards.map((g) => `[${g}]`).join(" ")} [else]`;
  }
  return `${head}[${branches} branches]`;
}

function sorted(states: Record<string, StateNodeJson> | undefined): StateNodeJson[] {
  return Object.values(states ?? {}).sort((a, b) => (a.order ?? 0) - (b.order ?? 0));
}

/** Reads a machine definition; throws (naming the machine) when it is not one. */
export function statechartModel(json: StateNodeJson): StatechartModel {
  if (!json || typeof json.id !== "string" || typeof json.key !== "string") {
    throw new Error("not a machine definition: expected toJSON() output with an id and a key");
  }
  const pathOfId = new Map<string, string>();
  const nodes: [StateNodeJson, string][] = [];
  const read = (node: StateNodeJson, path: string): ModelState => {
    pathOfId.set(node.id, path);
    nodes.push([node, path]);
    const children = sorted(node.states).map((c) => read(c, path ? `${path}.${c.key}` : c.key));
    return { path, key: node.key, type: node.type, children };
  };
  const root = read(json, "");
  const resolve = (target: string) => pathOfId.get(target.replace(/^#/, ""));
  const fill = (state: ModelState, node: StateNodeJson) => {
    const first = node.initial?.target?.[0];
    if (node.type === "compound" && first) {
      const initial = resolve(first);
      if (initial !== undefined) state.initial = initial;
    }
    for (const child of state.children) fill(child, node.states![child.key]);
  };
  fill(root, json);

  const merged = new Map<string, ModelEdge & { branches: number }>();
  for (const [node, path] of nodes) {
    for (const t of [...(node.transitions ?? []), ...(node.always ?? [])]) {
      const targets = (t.target ?? []).map(resolve).filter((p): p is string => p !== undefined);
      const event = eventWords(t, node);
      const guard = guardName(t.guard);
      for (const target of targets.length ? targets : [path]) {
        const key = `${path}\u0000${target}\u0000${event}\u0000${targets.length === 0}`;
        let edge = merged.get(key);
        if (!edge) {
          edge = {
            id: `e${merged.size}`,
            source: path,
            target,
            event,
            guards: [],
            label: "",
            internal: targets.length === 0,
            branches: 0,
          };
          merged.set(key, edge);
        }
        edge.branches++;
        if (guard !== undefined && !edge.guards.includes(guard)) edge.guards.push(guard);
      }
    }
  }
  const edges = [...merged.values()].map(({ branches, ...edge }) => ({
    ...edge,
    label: edgeLabel(edge.event, edge.guards, branches),
  }));
  return { machine: json.key, root, edges };
}

/** Every state of the model, depth first (the root first). */
export function allStates(root: ModelState): ModelState[] {
  const out: ModelState[] = [];
  const walk = (s: ModelState) => {
    out.push(s);
    s.children.forEach(walk);
  };
  walk(root);
  return out;
}

/**
 * The paths a state value makes active: `"active"` -> `active`;
 * `{active: "kicked"}` -> `active`, `active.kicked`; a parallel value gives
 * every region's. Anything else gives none.
 */
export function activePaths(value: unknown, prefix = ""): Set<string> {
  const out = new Set<string>();
  const join = (key: string) => (prefix ? `${prefix}.${key}` : key);
  if (typeof value === "string") out.add(join(value));
  else if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      out.add(join(key));
      for (const p of activePaths(inner, join(key))) out.add(p);
    }
  }
  return out;
}
