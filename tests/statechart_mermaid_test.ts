/**
 * The machine definitions of GET /admin/machines (toJSON plus `always` and
 * guard words) and their Mermaid diagrams, on a small machine with nested,
 * parallel and final states, guards, a delay and an eventless transition.
 */

import assert from "node:assert/strict";
import { and, not, or } from "xstate";
import { guardWords, machineDefinition } from "../actors/machines.ts";
import { statechartMermaid } from "../lib/statechart_mermaid.ts";
import { activePaths, statechartModel, type StateNodeJson } from "../lib/statechart_model.ts";
import { doorMachine } from "./statechart_fixture.ts";

const door = () => machineDefinition(doorMachine) as unknown as StateNodeJson;

Deno.test("the definition is toJSON() plus the eventless transitions and the guards as words", () => {
  const json = door();
  const checking = json.states!.closed.states!.checking;
  assert.deepEqual(
    checking.always!.map((t) => [t.guard, t.target]),
    [["isLocked", ["#door.closed.locked"]], [undefined, ["#door.closed.unlocked"]]],
  );
  // toJSON() drops a not() guard; the definition names it.
  assert.equal(json.states!.closed.transitions![0].guard, "!isAlarmed");
  assert.equal(
    (JSON.parse(JSON.stringify(doorMachine.toJSON())) as StateNodeJson).states!.closed
      .transitions![0].guard,
    undefined,
  );
  assert.equal(guardWords(and(["a", not("b")])), "a && !b");
  assert.equal(guardWords(or(["a", and(["b", "c"])])), "a || (b && c)");
  assert.equal(guardWords({ type: "named" }), "named");
  assert.equal(guardWords(() => true), "guard");
});

Deno.test("the model reads states by path, initial states and labelled arrows", () => {
  const model = statechartModel(door());
  assert.equal(model.machine, "door");
  assert.equal(model.root.initial, "closed");
  assert.deepEqual(model.root.children.map((c) => [c.path, c.type]), [
    ["closed", "compound"],
    ["open", "parallel"],
    ["broken", "final"],
  ]);
  const labels = model.edges.map((e) => `${e.source} -> ${e.target}: ${e.label}`);
  assert.deepEqual(labels.sort(), [
    " -> broken: BREAK",
    "closed -> open: OPEN [!isAlarmed]",
    "closed.checking -> closed.locked: [isLocked]",
    "closed.checking -> closed.unlocked: always",
    "open -> closed: CLOSE [isLocked]",
    "open -> closed: after autoClose",
    "open.sound.beeping -> open.sound.silent: CLOSE",
  ]);
});

Deno.test("the Mermaid diagram has composites, parallel regions, initial and final states", () => {
  const text = statechartMermaid(door());
  const lines = text.split("\n").map((l) => l.trim());
  assert.equal(lines[0], "stateDiagram-v2");
  for (
    const line of [
      "[*] --> door",
      "state door {",
      "[*] --> door_closed",
      "state door_closed {",
      "[*] --> door_closed_checking",
      "door_closed_checking --> door_closed_locked: [isLocked]",
      "door_closed_checking --> door_closed_unlocked: always",
      'state "open" as door_open',
      "state door_open {",
      "--",
      "door_open_light_off --> [*]",
      "door_broken --> [*]",
      "door_closed --> door_open: OPEN [!isAlarmed]",
      "door_open --> door_closed: after autoClose",
      "door_open --> door_closed: CLOSE [isLocked]",
      "door_open_sound_beeping --> door_open_sound_silent: CLOSE",
    ]
  ) assert.ok(lines.includes(line), `missing ${JSON.stringify(line)} in\n${text}`);
  // The two regions of the parallel state are separated, in order.
  const open = text.indexOf("state door_open {");
  const light = text.indexOf("state door_open_light {", open);
  const sep = text.indexOf("--\n", light);
  const sound = text.indexOf("state door_open_sound {", open);
  assert.ok(open < light && light < sep && sep < sound, text);
  // The same definition always gives the same text.
  assert.equal(statechartMermaid(door()), text);
});

Deno.test("a state value gives the active paths, parallel regions included", () => {
  assert.deepEqual([...activePaths("closed")], ["closed"]);
  assert.deepEqual([...activePaths({ closed: "locked" })], ["closed", "closed.locked"]);
  assert.deepEqual(
    [...activePaths({ open: { light: "on", sound: "silent" } })].sort(),
    ["open", "open.light", "open.light.on", "open.sound", "open.sound.silent"],
  );
  assert.deepEqual([...activePaths(null)], []);
  assert.throws(() => statechartModel({} as StateNodeJson), /not a machine definition/);
});
