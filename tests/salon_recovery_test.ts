/**
 * The recovery of salon replicas from MySQL (runtime/salon_recovery.ts,
 * issue 15) with a fake store and fake replicas: a difference is applied
 * only once two passes in a row found it, a read overtaken by a change here
 * is dropped (a stale read never undoes a newer join), pending requests and
 * slow modes follow the same rule, and the bus's `resubscribed` runs a pass.
 */

import assert from "node:assert/strict";
import type { SalonEvent } from "../actors/salon.ts";
import { MemoryBroker, MemoryBus } from "../bus/memory_bus.ts";
import { silentLogger } from "../lib/log.ts";
import { clusterLink } from "../runtime/cluster_channel.ts";
import { type ReplicaState, startSalonRecovery } from "../runtime/salon_recovery.ts";
import { membershipDigest } from "../store/cluster_store.ts";
import type { SalonUserRow, Store, UserSummary } from "../store/store.ts";

const u = (id: number): UserSummary => ({
  id,
  username: `u${id}`,
  alias: `U${id}`,
  role: "member",
});

type Reload = Extract<SalonEvent, { type: "MEMBERS_RELOADED" | "REQUESTS_RELOADED" }>;

/** One salon (id 1): MySQL's side and the replica's, both editable by the test. */
function world() {
  const db = { members: [u(1)], requests: [] as SalonUserRow[], slowMode: 0 };
  const replica: ReplicaState & { members: Map<number, UserSummary>; slowMode: number } = {
    epoch: 0,
    members: new Map([[1, u(1)]]),
    pending: new Map(),
    requestActors: 0,
    slowMode: 0,
  };
  const sent: Reload[] = [];
  const slowModes: number[] = [];
  /** Runs during the next members read, after MySQL was read (a change here meanwhile). */
  let duringRead: (() => void) | undefined;
  const store = {
    cluster: {
      membershipDigests: () =>
        Promise.resolve(new Map([[1, membershipDigest(db.members.map((m) => m.id))]])),
      salonMembers: () => {
        const snapshot = [...db.members];
        const hook = duringRead;
        duringRead = undefined;
        hook?.();
        return Promise.resolve(snapshot);
      },
    },
    listJoinRequests: () => Promise.resolve([...db.requests]),
    listSalons: () =>
      Promise.resolve([{ id: 1, name: "S", policy: "approval", slowModeSeconds: db.slowMode }]),
  } as unknown as Store;
  const broker = new MemoryBroker();
  const bus = new MemoryBus(broker, "t");
  const recovery = startSalonRecovery({
    link: clusterLink(bus),
    store,
    log: silentLogger,
    checkMs: 1e9, // passes are run by the test
    replicas: {
      salonIds: () => [1],
      state: () => replica,
      send: (_id, event) => sent.push(event),
      slowMode: () => replica.slowMode,
      setSlowMode: (_id, seconds) => {
        replica.slowMode = seconds;
        slowModes.push(seconds);
      },
    },
  });
  const members = () => sent.filter((e) => e.type === "MEMBERS_RELOADED");
  return {
    db,
    replica,
    sent,
    members,
    slowModes,
    broker,
    recovery,
    during(fn: () => void) {
      duringRead = fn;
    },
    async dispose() {
      await recovery.stop();
      await bus.close();
    },
  };
}

Deno.test("salon recovery: a lost join and leave are applied once two passes found them", async () => {
  const w = world();
  try {
    w.db.members = [u(2)]; // MySQL: 1 left, 2 joined; the replica heard of neither
    await w.recovery.pass();
    assert.deepEqual(w.members(), [], "one pass is not enough (a change may be in flight)");
    await w.recovery.pass();
    assert.deepEqual(w.members(), [
      { type: "MEMBERS_RELOADED", add: [u(2)], remove: [1], epoch: 0 },
    ]);
  } finally {
    await w.dispose();
  }
});

Deno.test("salon recovery: a difference gone by the next pass (in flight) is never applied", async () => {
  const w = world();
  try {
    w.db.members = [u(1), u(2)];
    await w.recovery.pass();
    // The join arrives through the bus before the next pass.
    w.replica.members.set(2, u(2));
    w.replica.epoch++;
    await w.recovery.pass();
    await w.recovery.pass();
    assert.deepEqual(w.members(), []);
  } finally {
    await w.dispose();
  }
});

Deno.test("salon recovery: a read overtaken by a join here never undoes it", async () => {
  const w = world();
  try {
    // MySQL is read before a join of 3 commits; the join reaches the replica during the read.
    const join = () => {
      w.replica.members.set(3, u(3));
      w.replica.epoch++;
      w.db.members = [u(1), u(3), u(9)];
    };
    w.db.members = [u(1), u(9)]; // and a lost join of 9, to make the digests differ
    w.during(join);
    await w.recovery.pass();
    assert.deepEqual(w.members(), [], "the overtaken read is dropped");
    await w.recovery.pass();
    assert.deepEqual(w.members(), [], "and what it saw is forgotten: one fresh observation only");
    await w.recovery.pass();
    assert.deepEqual(w.members(), [
      { type: "MEMBERS_RELOADED", add: [u(9)], remove: [], epoch: 1 },
    ]);
    assert.ok(w.replica.members.has(3));
  } finally {
    await w.dispose();
  }
});

Deno.test("salon recovery: pending requests and slow mode follow the same rule", async () => {
  const w = world();
  try {
    w.db.requests = [{ salonId: 1, user: u(5), since: 1000 }];
    w.db.slowMode = 30;
    await w.recovery.pass();
    const requests = () => w.sent.filter((e) => e.type === "REQUESTS_RELOADED");
    assert.deepEqual(requests(), [], "nothing differs for sure, no actor to sweep");
    assert.deepEqual(w.slowModes, []);
    await w.recovery.pass();
    assert.deepEqual(requests(), [{
      type: "REQUESTS_RELOADED",
      add: [{ user: u(5), since: 1000 }],
      remove: [],
      epoch: 0,
    }]);
    assert.deepEqual(w.slowModes, [30]);
    // A request actor with no request (a decision lost to another instance): a sweep is sent.
    w.db.requests = [];
    w.replica.requestActors = 1;
    await w.recovery.pass();
    assert.deepEqual(requests().at(-1), {
      type: "REQUESTS_RELOADED",
      add: [],
      remove: [],
      epoch: 0,
    });
  } finally {
    await w.dispose();
  }
});

Deno.test("salon recovery: the bus's resubscribed runs a pass", async () => {
  const w = world();
  try {
    w.db.members = [u(1), u(2)];
    await w.recovery.pass();
    w.broker.restart(); // every bus resubscribes and says so: a second pass, unasked by the test
    for (let i = 0; i < 50 && w.members().length === 0; i++) {
      await new Promise((r) => setTimeout(r, 0));
    }
    assert.equal(w.members().length, 1);
  } finally {
    await w.dispose();
  }
});
