/**
 * `deno task machines`: writes every machine of actors/machines.ts to
 * docs/machines/ as its definition (`<name>.json`: `toJSON()` plus `always`
 * and guard words, keys sorted, pretty) and as a Mermaid `stateDiagram-v2`
 * (`<name>.mmd`), and docs/machines.md, an index that GitHub renders with
 * each diagram. tests/machines_docs_test.ts fails when the committed files
 * differ from what this would write.
 *
 * @module
 */

import { machineDefinitions, MACHINES } from "../actors/machines.ts";
import { statechartMermaid } from "../lib/statechart_mermaid.ts";
import type { StateNodeJson } from "../lib/statechart_model.ts";

/** One line about each machine, for docs/machines.md. */
export const MACHINE_SUMMARIES: Readonly<Record<string, string>> = {
  server: "The root actor: spawns the salons and the sanctions, keeps the live sessions, " +
    "delivers direct messages and coalesces presence; its lifecycle runs the shutdown.",
  salon: "One per salon: members, join requests, who is online, and the path of a message " +
    "(member check, commit, one write per online session); size and stats run beside it.",
  joinRequest: "One per pending join request: stored, then accepted, rejected or withdrawn.",
  connection: "One per WebSocket: the handshake within its timeouts, then the session's " +
    "budgets and the routing of every frame; closed is final.",
  sanction: "One per kick or ban in force: a kick expires after its delay, an unban lifts either.",
  shutdown: "The countdown: one `shutdown` frame per second until done, or cancelled.",
  mute: "One per mute in force (PROTOCOL 5.4): it expires at its stored end, or an unmute " +
    "(or a newer mute of the same user and salon) lifts it.",
  nodeHeartbeat: "Only with CAUSERIE_BUS (several instances): beats in the nodes table, reaps " +
    "silent nodes, and registers again under a new id when reaped itself.",
};

/** JSON with every object's keys sorted, two-space indented, ending with a newline. */
export function stableJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === "object") {
      return Object.fromEntries(
        Object.keys(v as Record<string, unknown>).sort().map((k) => [
          k,
          sort((v as Record<string, unknown>)[k]),
        ]),
      );
    }
    return v;
  };
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}

function index(names: string[], mermaid: Record<string, string>): string {
  const parts = [
    "# The machines",
    "",
    "Written by `deno task machines` from actors/machines.ts; do not edit by hand " +
    "(tests/machines_docs_test.ts fails when these files no longer match the code).",
    "Each machine's definition is in `machines/<name>.json` (the JSON of " +
    "`GET /admin/machines`), its diagram in `machines/<name>.mmd`. Arrows carry the " +
    "event and its guards in brackets; `after <delay>` is a delayed transition, " +
    "`always` an eventless one, `done: <actor>` the end of an invoked actor. The " +
    "inspector page (`/admin/inspector`) draws the same definitions with the live state.",
    "",
  ];
  for (const name of names) {
    parts.push(`- [${name}](#${name.toLowerCase()}): ${MACHINE_SUMMARIES[name]}`);
  }
  for (const name of names) {
    parts.push(
      "",
      `## ${name}`,
      "",
      MACHINE_SUMMARIES[name],
      "",
      `Definition: [machines/${name}.json](machines/${name}.json).`,
      "",
      "```mermaid",
      mermaid[name].trimEnd(),
      "```",
    );
  }
  return `${parts.join("\n")}\n`;
}

/** Every file `deno task machines` writes, by path relative to the repository root. */
export function machineDocs(): Record<string, string> {
  const definitions = machineDefinitions();
  const names = Object.keys(MACHINES);
  const files: Record<string, string> = {};
  const mermaid: Record<string, string> = {};
  for (const name of names) {
    if (!MACHINE_SUMMARIES[name]) {
      throw new Error(`machine ${name} has no line in MACHINE_SUMMARIES (tools/machines.ts)`);
    }
    mermaid[name] = statechartMermaid(definitions[name] as unknown as StateNodeJson);
    files[`docs/machines/${name}.json`] = stableJson(definitions[name]);
    files[`docs/machines/${name}.mmd`] = mermaid[name];
  }
  files["docs/machines.md"] = index(names, mermaid);
  return files;
}

if (import.meta.main) {
  const root = new URL("../", import.meta.url);
  await Deno.remove(new URL("docs/machines/", root), { recursive: true }).catch(() => {});
  await Deno.mkdir(new URL("docs/machines/", root), { recursive: true });
  for (const [path, text] of Object.entries(machineDocs())) {
    await Deno.writeTextFile(new URL(path, root), text);
  }
  console.log(`docs/machines: ${Object.keys(MACHINES).length} machines written`);
}
