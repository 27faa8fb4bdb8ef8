/**
 * A small machine with every shape the diagrams draw: a nested compound
 * state, a parallel state with two regions, final states, a guarded
 * transition, a `not()` guard, a delayed transition and an eventless one.
 *
 * @module
 */

import { not, setup } from "xstate";

/** The sample machine (`door`). */
export const doorMachine = setup({
  types: { events: {} as { type: "OPEN" } | { type: "CLOSE" } | { type: "BREAK" } },
  delays: { autoClose: 5000 },
  guards: { isLocked: () => false, isAlarmed: () => false },
}).createMachine({
  id: "door",
  initial: "closed",
  states: {
    closed: {
      initial: "checking",
      states: {
        checking: { always: [{ guard: "isLocked", target: "locked" }, { target: "unlocked" }] },
        locked: {},
        unlocked: {},
      },
      on: { OPEN: { guard: not("isAlarmed"), target: "open" } },
    },
    open: {
      type: "parallel",
      states: {
        light: { initial: "on", states: { on: {}, off: { type: "final" } } },
        sound: { initial: "beeping", states: { beeping: { on: { CLOSE: "silent" } }, silent: {} } },
      },
      after: { autoClose: { target: "closed" } },
      on: { CLOSE: { guard: "isLocked", target: "closed" } },
    },
    broken: { type: "final" },
  },
  on: { BREAK: ".broken" },
});
