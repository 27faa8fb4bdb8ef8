/**
 * A machine definition (JSON, see lib/statechart_model.ts) as a Mermaid
 * `stateDiagram-v2`: the machine as one composite state, compound states as
 * nested composites with their initial state (`[*] --> s`), parallel regions
 * separated by `--`, final states leading to `[*]`, and every transition
 * labelled with its event and guards (`after <delay>` for delayed ones).
 * Pure: the same JSON always gives the same text.
 *
 * @module
 */

import {
  type ModelEdge,
  type ModelState,
  statechartModel,
  type StateNodeJson,
} from "./statechart_model.ts";

/** A Mermaid identifier for a state path of `machine`. */
export function mermaidId(machine: string, path: string): string {
  const raw = path ? `${machine}.${path}` : machine;
  return raw.replace(/[^A-Za-z0-9_]/g, "_");
}

/** Text Mermaid shows as it is (no `:`, `;`, `#`, quotes or braces). */
function safe(text: string): string {
  return text.replace(/[:;#"{}<>]/g, " ").replace(/\s+/g, " ").trim();
}

function parentOf(path: string): string | null {
  if (path === "") return null;
  const i = path.lastIndexOf(".");
  return i < 0 ? "" : path.slice(0, i);
}

function isAncestor(a: string, b: string): boolean {
  return a === "" ? b !== "" : b.startsWith(`${a}.`);
}

/**
 * The composite an arrow is written in: the deepest state that holds both
 * ends strictly inside it (`null`: the top level).
 */
function blockOf(edge: ModelEdge): string | null {
  let block = parentOf(edge.source);
  while (block !== null) {
    if (isAncestor(block, edge.target)) return block;
    block = parentOf(block);
  }
  return null;
}

/** The Mermaid text of one machine definition. */
export function statechartMermaid(json: StateNodeJson): string {
  const model = statechartModel(json);
  const id = (path: string) => mermaidId(model.machine, path);
  const byBlock = new Map<string | null, ModelEdge[]>();
  for (const edge of model.edges) {
    const block = blockOf(edge);
    byBlock.set(block, [...(byBlock.get(block) ?? []), edge]);
  }
  const lines = ["stateDiagram-v2"];
  const arrows = (block: string | null, indent: string) => {
    for (const e of byBlock.get(block) ?? []) {
      lines.push(`${indent}${id(e.source)} --> ${id(e.target)}: ${safe(e.label)}`);
    }
  };
  const write = (state: ModelState, indent: string) => {
    lines.push(`${indent}state "${safe(state.key)}" as ${id(state.path)}`);
    if (state.children.length === 0) return;
    lines.push(`${indent}state ${id(state.path)} {`);
    const inner = `${indent}  `;
    if (state.type === "parallel") {
      state.children.forEach((child, i) => {
        if (i > 0) lines.push(`${inner}--`);
        write(child, inner);
        if (child.type === "final") lines.push(`${inner}${id(child.path)} --> [*]`);
      });
    } else {
      if (state.initial !== undefined) lines.push(`${inner}[*] --> ${id(state.initial)}`);
      for (const child of state.children) {
        write(child, inner);
        if (child.type === "final") lines.push(`${inner}${id(child.path)} --> [*]`);
      }
    }
    arrows(state.path, inner);
    lines.push(`${indent}}`);
  };
  lines.push(`  [*] --> ${id("")}`);
  write(model.root, "  ");
  arrows(null, "  ");
  return `${lines.join("\n")}\n`;
}
