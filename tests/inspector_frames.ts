/**
 * A recording of the inspection stream (the contract of COMMON.md and
 * docs/protocol.md): the opening snapshot of a server with two salons, a
 * pending join request and the shutdown-free server; then alice connects
 * (awaitingHello -> authenticating -> active), is kicked (a sanction actor
 * appears, her connection ends), and the stream reports dropped events.
 *
 * @module
 */

/** Epoch ms of the first frame. */
export const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);

/** The recorded frames, in order. */
export const FRAMES: Record<string, unknown>[] = [
  {
    type: "@xstate.snapshot",
    actorId: "server",
    machine: "server",
    value: { lifecycle: "running", presence: "idle" },
    status: "active",
    facts: {},
    at: T0,
  },
  {
    type: "@xstate.snapshot",
    actorId: "salon:général",
    parentId: "server",
    machine: "salon",
    value: { size: "small", stats: "quiet", open: {} },
    status: "active",
    facts: { salon: "Général", members: 3, online: 1 },
    at: T0,
  },
  {
    type: "@xstate.snapshot",
    actorId: "salon:secret",
    parentId: "server",
    machine: "salon",
    value: { size: "small", stats: "quiet", open: {} },
    status: "active",
    facts: { salon: "Secret", members: 1, online: 0 },
    at: T0,
  },
  {
    type: "@xstate.snapshot",
    actorId: "request:secret:dave",
    parentId: "salon:secret",
    machine: "joinRequest",
    value: "pending",
    status: "active",
    facts: { username: "dave", salon: "Secret" },
    at: T0,
  },
  { type: "@causerie.live", actors: 4, at: T0 },
  { type: "@xstate.actor", actorId: "c7", parentId: "server", machine: "connection", at: T0 + 10 },
  {
    type: "@xstate.snapshot",
    actorId: "c7",
    parentId: "server",
    machine: "connection",
    value: "awaitingHello",
    status: "active",
    facts: {},
    at: T0 + 10,
  },
  { type: "@xstate.event", actorId: "c7", event: { type: "FRAME", frame: "hello" }, at: T0 + 20 },
  {
    type: "@xstate.snapshot",
    actorId: "c7",
    parentId: "server",
    machine: "connection",
    value: "authenticating",
    status: "active",
    facts: {},
    event: { type: "FRAME", frame: "hello" },
    at: T0 + 20,
  },
  {
    type: "@xstate.snapshot",
    actorId: "c7",
    parentId: "server",
    machine: "connection",
    value: "active",
    status: "active",
    facts: { username: "alice" },
    event: { type: "xstate.done.actor.0.connection.authenticating" },
    at: T0 + 30,
  },
  {
    type: "@xstate.actor",
    actorId: "sanction:1",
    parentId: "server",
    machine: "sanction",
    at: T0 + 1000,
  },
  {
    type: "@xstate.snapshot",
    actorId: "sanction:1",
    parentId: "server",
    machine: "sanction",
    value: { active: "kicked" },
    status: "active",
    facts: { username: "alice", kind: "kick", until: "2026-11-24T10:05:01.000Z" },
    at: T0 + 1000,
  },
  { type: "@xstate.event", actorId: "c7", event: { type: "SANCTIONED" }, at: T0 + 1001 },
  {
    type: "@xstate.snapshot",
    actorId: "c7",
    parentId: "server",
    machine: "connection",
    value: "closed",
    status: "done",
    facts: { username: "alice" },
    event: { type: "SANCTIONED" },
    at: T0 + 1001,
  },
  { type: "@causerie.dropped", dropped: 12, at: T0 + 1100 },
];
