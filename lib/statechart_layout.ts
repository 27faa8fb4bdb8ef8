/**
 * Lays a machine definition out for drawing, offline: ELK's layered
 * algorithm (`npm:elkjs`, its bundled build runs in the browser bundle and
 * in Deno, no worker, no network) over the states, compound and parallel
 * states as containers holding their children, a dot for each initial
 * state, and one arrow per pair of states, labelled with one line per event
 * (and its guards). Returns
 * absolute coordinates, ready for an SVG. Pure apart from the layout
 * engine: the same definition gives the same layout.
 *
 * @module
 */

import ElkBundled from "elkjs/lib/elk.bundled.js";
import type { ELK, ElkExtendedEdge, ElkNode } from "elkjs/lib/elk-api.js";
import {
  allStates,
  type ModelState,
  statechartModel,
  type StateNodeJson,
} from "./statechart_model.ts";

/** A point. */
export interface Point {
  /** x. */
  x: number;
  /** y. */
  y: number;
}

/** A box. */
export interface Box extends Point {
  /** Width. */
  width: number;
  /** Height. */
  height: number;
}

/** One state, placed. */
export interface PlacedState extends Box {
  /** Path (`""` for the machine itself). */
  path: string;
  /** Key, shown as its name. */
  key: string;
  /** `atomic`, `compound`, `parallel`, `final` or `history`. */
  type: string;
  /** Holds other states. */
  container: boolean;
}

/** One arrow, placed. */
export interface PlacedEdge {
  /** Id. */
  id: string;
  /** Source path (`initial` arrows: the compound's path). */
  source: string;
  /** Target path. */
  target: string;
  /** The label in one line, events separated by ` / ` (`""` for an initial arrow). */
  label: string;
  /** The label's lines: one per event (none for an initial arrow). */
  lines: string[];
  /** The arrow of an initial state (from its dot). */
  initial: boolean;
  /** The line, start to end. */
  points: Point[];
  /** Where the label goes. */
  labelBox?: Box;
}

/** A machine, laid out. */
export interface MachineLayout {
  /** The machine's id. */
  machine: string;
  /** Overall width. */
  width: number;
  /** Overall height. */
  height: number;
  /** Every state, containers before what they hold. */
  states: PlacedState[];
  /** The initial dots, by the path of their compound state. */
  initials: (Point & { path: string; r: number })[];
  /** Every arrow. */
  edges: PlacedEdge[];
}

const STATE_HEIGHT = 32;
const CHAR_WIDTH = 7.5;
const LABEL_CHAR_WIDTH = 6.2;
const LABEL_HEIGHT = 14;
const DOT = 12;

/** Estimated width of a state name (13 px sans-serif). */
function nameWidth(text: string): number {
  return Math.max(64, Math.ceil(text.length * CHAR_WIDTH) + 28);
}

const stateId = (path: string) => `s:${path}`;
const dotId = (path: string) => `i:${path}`;

const LAYOUT_OPTIONS: Record<string, string> = {
  "elk.algorithm": "layered",
  "elk.direction": "DOWN",
  "elk.hierarchyHandling": "INCLUDE_CHILDREN",
  "elk.layered.spacing.nodeNodeBetweenLayers": "36",
  "elk.spacing.nodeNode": "28",
  "elk.spacing.edgeLabel": "4",
  "elk.edgeLabels.placement": "CENTER",
  "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
};

/** The bundled build's constructor (a CommonJS default export, typed by hand). */
const Elk = ElkBundled as unknown as new () => ELK;

let engine: ELK | undefined;

/** Lays out one machine definition (the JSON of `GET /admin/machines`). */
export async function layoutMachine(json: StateNodeJson): Promise<MachineLayout> {
  const model = statechartModel(json);
  const toElk = (state: ModelState): ElkNode => {
    if (state.children.length === 0) {
      return { id: stateId(state.path), width: nameWidth(state.key), height: STATE_HEIGHT };
    }
    const children = state.children.map(toElk);
    if (state.initial !== undefined) {
      children.unshift({ id: dotId(state.path), width: DOT, height: DOT });
    }
    return {
      id: stateId(state.path),
      layoutOptions: {
        "elk.padding": "[top=34,left=14,bottom=14,right=14]",
        "elk.nodeSize.constraints": "MINIMUM_SIZE",
        "elk.nodeSize.minimum": `(${nameWidth(state.key)},${STATE_HEIGHT * 2})`,
      },
      children,
    };
  };
  const edges: ElkExtendedEdge[] = [];
  const edgeInfo = new Map<string, Omit<PlacedEdge, "points" | "labelBox">>();
  for (const state of allStates(model.root)) {
    if (state.initial === undefined) continue;
    const id = `init:${state.path}`;
    edges.push({ id, sources: [dotId(state.path)], targets: [stateId(state.initial)] });
    edgeInfo.set(id, {
      id,
      source: state.path,
      target: state.initial,
      label: "",
      lines: [],
      initial: true,
    });
  }
  // One arrow per source and target, its label one line per event (fewer, clearer arrows).
  const pairs = new Map<string, { id: string; source: string; target: string; lines: string[] }>();
  for (const e of model.edges) {
    const key = `${e.source}\u0000${e.target}`;
    const pair = pairs.get(key);
    if (pair) pair.lines.push(e.label);
    else pairs.set(key, { id: e.id, source: e.source, target: e.target, lines: [e.label] });
  }
  for (const p of pairs.values()) {
    edges.push({
      id: p.id,
      sources: [stateId(p.source)],
      targets: [stateId(p.target)],
      labels: [{
        id: `${p.id}:label`,
        text: p.lines.join("\n"),
        width: Math.ceil(Math.max(...p.lines.map((l) => l.length)) * LABEL_CHAR_WIDTH) + 6,
        height: LABEL_HEIGHT * p.lines.length,
      }],
    });
    edgeInfo.set(p.id, {
      id: p.id,
      source: p.source,
      target: p.target,
      label: p.lines.join(" / "),
      lines: p.lines,
      initial: false,
    });
  }
  engine ??= new Elk();
  const input: ElkNode = {
    id: "graph",
    layoutOptions: LAYOUT_OPTIONS,
    children: [toElk(model.root)],
    edges,
  };
  const graph: ElkNode = await engine.layout(input);

  const offsets = new Map<string, Point>([["graph", { x: 0, y: 0 }]]);
  const types = new Map(allStates(model.root).map((s) => [stateId(s.path), s]));
  const states: PlacedState[] = [];
  const initials: MachineLayout["initials"] = [];
  const place = (node: ElkNode, parent: Point) => {
    const at = { x: parent.x + (node.x ?? 0), y: parent.y + (node.y ?? 0) };
    offsets.set(node.id, at);
    const state = types.get(node.id);
    if (state) {
      states.push({
        path: state.path,
        key: state.key,
        type: state.type,
        container: state.children.length > 0,
        x: at.x,
        y: at.y,
        width: node.width ?? 0,
        height: node.height ?? 0,
      });
    } else if (node.id.startsWith("i:")) {
      const r = (node.width ?? DOT) / 2;
      initials.push({ path: node.id.slice(2), x: at.x + r, y: at.y + r, r });
    }
    for (const child of node.children ?? []) place(child, at);
  };
  for (const child of graph.children ?? []) place(child, { x: 0, y: 0 });

  const placed: PlacedEdge[] = [];
  for (const e of (graph.edges ?? []) as (ElkExtendedEdge & { container?: string })[]) {
    const info = edgeInfo.get(e.id)!;
    const origin = offsets.get(e.container ?? "graph") ?? { x: 0, y: 0 };
    const shift = (p: Point) => ({ x: origin.x + p.x, y: origin.y + p.y });
    const points = (e.sections ?? []).flatMap((s) => [
      shift(s.startPoint),
      ...(s.bendPoints ?? []).map(shift),
      shift(s.endPoint),
    ]);
    const label = e.labels?.[0];
    placed.push({
      ...info,
      points,
      ...(label && info.label
        ? {
          labelBox: {
            ...shift({ x: label.x ?? 0, y: label.y ?? 0 }),
            width: label.width ?? 0,
            height: label.height ?? 0,
          },
        }
        : {}),
    });
  }
  return {
    machine: model.machine,
    width: Math.ceil(graph.width ?? 0),
    height: Math.ceil(graph.height ?? 0),
    states,
    initials,
    edges: placed,
  };
}
