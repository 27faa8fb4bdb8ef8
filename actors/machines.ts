/**
 * Every machine of the actor system, by name (the machine's id, the name that
 * `GET /admin/actors`, the inspection stream and `GET /admin/machines` use),
 * and its definition as JSON: XState's `machine.toJSON()` with two additions
 * that the diagrams need and `toJSON()` leaves out (docs/protocol.md,
 * "Inspector page and machines (5.5)"):
 *
 * - `always` on every state node: its eventless transitions, shaped like the
 *   other transitions (`eventType: ""`);
 * - `guard` as words (`!withinBudget`, `isChat && !textOk`) on transitions
 *   whose guard is built with `not()`/`and()`/`or()`, which `toJSON()` drops.
 *
 * @module
 */

import type { AnyStateMachine } from "xstate";
import { connectionMachine } from "./connection.ts";
import { joinRequestMachine } from "./join_request.ts";
import { nodeHeartbeatMachine } from "./node_heartbeat.ts";
import { salonMachine } from "./salon.ts";
import { sanctionMachine } from "./sanction.ts";
import { serverMachine } from "./server.ts";
import { shutdownMachine } from "./shutdown.ts";
import { muteMachine } from "./mute.ts";

/** Every machine, keyed by its id, in the order of the actor tree. */
export const MACHINES: Readonly<Record<string, AnyStateMachine>> = Object.freeze({
  [serverMachine.id]: serverMachine,
  [salonMachine.id]: salonMachine,
  [joinRequestMachine.id]: joinRequestMachine,
  [connectionMachine.id]: connectionMachine,
  [sanctionMachine.id]: sanctionMachine,
  [shutdownMachine.id]: shutdownMachine,
  [muteMachine.id]: muteMachine,
  // Several instances (issue 15): a standalone actor, only with CAUSERIE_BUS.
  [nodeHeartbeatMachine.id]: nodeHeartbeatMachine,
});

/** A guard as words; `undefined` when there is none. */
export function guardWords(guard: unknown): string | undefined {
  if (guard === undefined || guard === null) return undefined;
  if (typeof guard === "string") return guard;
  if (typeof guard === "object" && typeof (guard as { type?: unknown }).type === "string") {
    return (guard as { type: string }).type;
  }
  if (typeof guard === "function") {
    const parts = ((guard as { guards?: unknown[] }).guards ?? []).map((g) => {
      const words = guardWords(g) ?? "guard";
      return /[ &|]/.test(words) ? `(${words})` : words;
    });
    if (guard.name === "not" && parts.length === 1) return `!${parts[0]}`;
    if (guard.name === "and" && parts.length > 0) return parts.join(" && ");
    if (guard.name === "or" && parts.length > 0) return parts.join(" || ");
    return "guard";
  }
  return "guard";
}

type Json = Record<string, unknown>;

interface LiveTransition {
  guard?: unknown;
  toJSON?: () => Json;
}

interface LiveNode {
  transitions: Map<string, LiveTransition[]>;
  always?: LiveTransition[];
  states: Record<string, LiveNode>;
}

/** Plain JSON of a value (functions and `undefined` dropped, as JSON.stringify does). */
function plain<T>(value: unknown): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function addWords(json: Json, live: LiveTransition): Json {
  if (json.guard === undefined && live.guard !== undefined) json.guard = guardWords(live.guard);
  return json;
}

function augment(live: LiveNode, json: Json): void {
  const flat = [...live.transitions.values()].flat();
  const transitions = json.transitions as Json[];
  transitions.forEach((t, i) => flat[i] && addWords(t, flat[i]));
  const on = json.on as Record<string, Json[]>;
  for (const [event, list] of live.transitions) {
    list.forEach((t, i) => on[event]?.[i] && addWords(on[event][i], t));
  }
  if (live.always?.length) {
    json.always = live.always.map((t) => addWords(plain<Json>(t.toJSON?.() ?? t), t));
  }
  const states = json.states as Record<string, Json>;
  for (const [key, child] of Object.entries(live.states)) augment(child, states[key]);
}

/** One machine's definition: `toJSON()` plus `always` and guard words (see the module). */
export function machineDefinition(machine: AnyStateMachine): Json {
  const json = plain<Json>(machine.toJSON());
  augment(machine.root as unknown as LiveNode, json);
  return json;
}

let cached: Record<string, Json> | undefined;

/** Every machine's definition keyed by name (computed once: machines do not change). */
export function machineDefinitions(): Record<string, Json> {
  cached ??= Object.fromEntries(
    Object.entries(MACHINES).map(([name, machine]) => [name, machineDefinition(machine)]),
  );
  return cached;
}
