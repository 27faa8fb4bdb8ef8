/**
 * The cluster tables on MariaDB (issue 15, migration 9): nodes beating on the
 * database's clock, live sessions, reaping. MySQL only (a bus needs MySQL):
 * skipped, named so, without `CAUSERIE_TEST_MYSQL_URL`.
 */

import assert from "node:assert/strict";
import { type ClusterStore, membershipDigest } from "../store/cluster_store.ts";
import { openMysqlStore } from "../store/mysql.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import type { Store } from "../store/store.ts";
import { adminRun, freshDatabase, mysqlTest } from "./mysql_fixture.ts";
import { createUser, seededSalons, T0 } from "./store_fixture.ts";

/** A fresh migrated database, its cluster store, and a way to age a node's last beat. */
async function withCluster(
  fn: (
    cluster: ClusterStore,
    store: Store,
    age: (nodeId: string, ms: number) => Promise<void>,
  ) => Promise<void>,
): Promise<void> {
  const db = await freshDatabase();
  const store = await openMysqlStore(db.url);
  try {
    assert.ok(store.cluster, "the MySQL adapter has the cluster tables");
    await fn(store.cluster, store, async (nodeId, ms) => {
      await adminRun(db.name, "UPDATE nodes SET beat_at = beat_at - ? WHERE id = ?", [ms, nodeId]);
    });
  } finally {
    await store.close();
    await db.drop();
  }
}

Deno.test("cluster store: SQLite has none (a bus needs MySQL)", async () => {
  const store = await openSqliteStore(":memory:");
  try {
    assert.equal(store.cluster, undefined);
  } finally {
    await store.close();
  }
});

mysqlTest("cluster store: register, beat on the database clock, list live nodes", async () => {
  await withCluster(async (cluster, _store, age) => {
    const t = await cluster.registerNode("node-a");
    const now = await cluster.clusterNow();
    assert.ok(now >= t && now - t < 5000, `database clock ${now} vs registration ${t}`);
    // Same machine here: the database's clock is the test's, within a few seconds.
    assert.ok(Math.abs(now - Date.now()) < 5000);
    await assert.rejects(cluster.registerNode("node-a"), "an id is registered once");
    await cluster.registerNode("node-b");
    assert.equal(await cluster.beatNode("node-a"), true);
    assert.equal(await cluster.beatNode("node-a"), true, "two beats in a row both count");
    assert.equal(await cluster.beatNode("nobody"), false);

    await age("node-b", 5000);
    const within3 = await cluster.liveNodes(3000);
    assert.deepEqual(within3.map((n) => n.id), ["node-a"]);
    const within10 = await cluster.liveNodes(10_000);
    assert.deepEqual(within10.map((n) => n.id).sort(), ["node-a", "node-b"]);
    const a = within10.find((n) => n.id === "node-a")!;
    assert.equal(a.startedAt, t);
    assert.ok(a.beatAt >= t);
    // A beat brings a silent node back among the live.
    assert.equal(await cluster.beatNode("node-b"), true);
    assert.equal((await cluster.liveNodes(3000)).length, 2);
  });
});

mysqlTest(
  "cluster store: reaping removes silent nodes and their sessions, and tells who is offline everywhere",
  async () => {
    await withCluster(async (cluster, store, age) => {
      const ann = await createUser(store, "ann");
      const bob = await createUser(store, "bob");
      const cat = await createUser(store, "cat");
      await cluster.registerNode("live");
      await cluster.registerNode("dead");
      assert.equal(await cluster.addLiveSession("dead", "s1", ann.id), true);
      assert.equal(await cluster.addLiveSession("dead", "s2", ann.id), true);
      assert.equal(await cluster.addLiveSession("dead", "s3", bob.id), true);
      assert.equal(await cluster.addLiveSession("live", "s4", bob.id), true);
      assert.equal(await cluster.addLiveSession("live", "s5", cat.id), true);
      assert.equal(await cluster.countLiveSessions(ann.id, 10_000), 2);
      assert.equal(await cluster.countLiveSessions(bob.id, 10_000), 2, "counted across nodes");

      assert.deepEqual(await cluster.reapDeadNodes(10_000), { nodes: [], offlineUserIds: [] });
      await age("dead", 11_000);
      // A silent node's sessions no longer count, even before it is reaped.
      assert.equal(await cluster.countLiveSessions(ann.id, 10_000), 0);
      assert.equal(await cluster.countLiveSessions(bob.id, 10_000), 1);

      const reaped = await cluster.reapDeadNodes(10_000);
      assert.deepEqual(reaped, { nodes: ["dead"], offlineUserIds: [ann.id] });
      assert.deepEqual(await cluster.reapDeadNodes(10_000), { nodes: [], offlineUserIds: [] });
      assert.deepEqual((await cluster.liveNodes(60_000)).map((n) => n.id), ["live"]);
      assert.equal(await cluster.countLiveSessions(bob.id, 60_000), 1);
      // The reaped node finds out at its next beat, and can no longer add sessions.
      assert.equal(await cluster.beatNode("dead"), false);
      assert.equal(await cluster.addLiveSession("dead", "s6", cat.id), false);
      assert.equal(await cluster.countLiveSessions(cat.id, 60_000), 1);
    });
  },
);

mysqlTest("cluster store: two instances reaping at once report each dead node once", async () => {
  await withCluster(async (cluster, store, age) => {
    const ann = await createUser(store, "ann");
    for (const id of ["d1", "d2", "d3"]) {
      await cluster.registerNode(id);
      await cluster.addLiveSession(id, `s-${id}`, ann.id);
      await age(id, 20_000);
    }
    const results = await Promise.all([1, 2, 3, 4].map(() => cluster.reapDeadNodes(10_000)));
    const nodes = results.flatMap((r) => r.nodes).sort();
    assert.deepEqual(nodes, ["d1", "d2", "d3"]);
    const offline = results.flatMap((r) => r.offlineUserIds);
    assert.deepEqual(offline, [ann.id], "ann is reported offline once");
  });
});

mysqlTest(
  "cluster store: live sessions come and go; a clean stop unregisters its node",
  async () => {
    await withCluster(async (cluster, store) => {
      const ann = await createUser(store, "ann");
      const bob = await createUser(store, "bob");
      await cluster.registerNode("n1");
      await cluster.registerNode("n2");
      await cluster.addLiveSession("n1", "a1", ann.id);
      await cluster.addLiveSession("n2", "a2", ann.id);
      await cluster.addLiveSession("n1", "b1", bob.id);
      await assert.rejects(cluster.addLiveSession("n1", "a1", ann.id), "a session id is unique");
      assert.equal(await cluster.removeLiveSession("n2", "a2"), true);
      assert.equal(await cluster.removeLiveSession("n2", "a2"), false);
      assert.equal(await cluster.countLiveSessions(ann.id, 60_000), 1);
      await cluster.addLiveSession("n2", "a3", ann.id);
      assert.deepEqual(await cluster.unregisterNode("n1"), {
        nodes: ["n1"],
        offlineUserIds: [bob.id],
      });
      assert.deepEqual(await cluster.unregisterNode("n1"), { nodes: [], offlineUserIds: [] });
      assert.equal(await cluster.countLiveSessions(ann.id, 60_000), 1);
      assert.equal(await cluster.countLiveSessions(bob.id, 60_000), 0);
      assert.equal(await cluster.beatNode("n1"), false);
    });
  },
);

mysqlTest("cluster store: each salon's latest committed message id (0 for none)", async () => {
  await withCluster(async (cluster, store) => {
    const salons = await seededSalons(store);
    const ann = await createUser(store, "ann");
    const a = salons["Général"].id;
    const b = salons.Blabla.id;
    const before = await cluster.salonLatestIds();
    assert.equal(before.get(a), 0);
    assert.equal(before.get(b), 0);
    await store.appendMessages([
      { kind: "salon", salonId: a, userId: ann.id, text: "1", at: T0 },
      { kind: "salon", salonId: a, userId: ann.id, text: "2", at: T0 },
      { kind: "salon", salonId: b, userId: ann.id, text: "3", at: T0 },
    ]);
    const after = await cluster.salonLatestIds();
    assert.equal(after.get(a), 2);
    assert.equal(after.get(b), 1);
  });
});

mysqlTest(
  "cluster store: userStates reads roles and the kicks and bans in force, in bounded chunks",
  async () => {
    await withCluster(async (cluster, store) => {
      const ann = await createUser(store, "ann");
      const bob = await createUser(store, "bob");
      const cat = await createUser(store, "cat");
      await store.setRole(bob.id, "moderator");
      const kick = await store.addSanction(
        { userId: ann.id, kind: "kick", until: T0 + 60_000, reason: "calm down", createdAt: T0 },
        null,
      );
      const gone = await store.addSanction(
        { userId: ann.id, kind: "kick", until: T0 + 1000, reason: "", createdAt: T0 },
        null,
      );
      const ban = await store.addSanction(
        { userId: cat.id, kind: "ban", until: null, reason: "spam", createdAt: T0 },
        null,
      );
      await store.liftSanctions(cat.id, T0 + 10, [ban.id]);
      const banAgain = await store.addSanction(
        { userId: cat.id, kind: "ban", until: null, reason: "", createdAt: T0 + 20 },
        null,
      );
      // More ids than one chunk, an unknown one and a duplicate among them.
      const many = [...Array.from({ length: 1200 }, (_, i) => 100_000 + i), ann.id, ann.id];
      const states = await cluster.userStates([...many, bob.id, cat.id], T0 + 5000);
      assert.deepEqual([...states.keys()].sort((x, y) => x - y), [ann.id, bob.id, cat.id]);
      assert.equal(states.get(ann.id)!.role, "member");
      assert.deepEqual(states.get(ann.id)!.sanctions.map((s) => s.id), [kick.id], "not one ended");
      assert.equal(states.get(ann.id)!.sanctions[0].reason, "calm down");
      assert.equal(states.get(ann.id)!.sanctions[0].until, T0 + 60_000);
      assert.ok(gone.id > 0);
      assert.deepEqual(states.get(bob.id), { role: "moderator", sanctions: [] });
      assert.deepEqual(states.get(cat.id)!.sanctions.map((s) => [s.id, s.kind]), [
        [banAgain.id, "ban"],
      ], "not the lifted one");
      assert.equal((await cluster.userStates([], T0)).size, 0);
      // Hostile ids are bound parameters, never SQL.
      assert.equal((await cluster.userStates([0, -1, 2 ** 53 - 1], T0)).size, 0);
    });
  },
);

mysqlTest(
  "cluster store: shutdown orders, the latest first; a cancel wins even before its order",
  async () => {
    await withCluster(async (cluster) => {
      assert.equal(await cluster.shutdownRecord(), undefined);
      await cluster.recordShutdown(T0 + 10_000);
      assert.deepEqual(await cluster.shutdownRecord(), { deadline: T0 + 10_000, cancelled: false });
      await cluster.recordShutdown(T0 + 10_000); // repeated: the same order
      assert.deepEqual(await cluster.shutdownRecord(), { deadline: T0 + 10_000, cancelled: false });
      await cluster.cancelShutdownRecord(T0 + 10_000);
      assert.deepEqual(await cluster.shutdownRecord(), { deadline: T0 + 10_000, cancelled: true });
      await cluster.recordShutdown(T0 + 10_000); // a late repetition does not revive it
      assert.deepEqual(await cluster.shutdownRecord(), { deadline: T0 + 10_000, cancelled: true });
      // A later order is the latest, even with an earlier deadline.
      await cluster.recordShutdown(T0 + 5_000);
      assert.deepEqual(await cluster.shutdownRecord(), { deadline: T0 + 5_000, cancelled: false });
      // A cancel recorded before its order (another instance was faster): the order stays cancelled.
      await cluster.cancelShutdownRecord(T0 + 20_000);
      await cluster.recordShutdown(T0 + 20_000);
      assert.deepEqual(await cluster.shutdownRecord(), { deadline: T0 + 20_000, cancelled: true });
    });
  },
);

// -- presence and sessions across instances (issue 15, items 2 and 4)

mysqlTest(
  "cluster store: a user's live sessions oldest first, users over the limit, users by node",
  async () => {
    await withCluster(async (cluster, store, age) => {
      const ann = await createUser(store, "ann");
      const bob = await createUser(store, "bob");
      await cluster.registerNode("n1");
      await cluster.registerNode("n2");
      await cluster.addLiveSession("n2", "a1", ann.id);
      await new Promise((r) => setTimeout(r, 5)); // distinct `since` (database clock, ms)
      await cluster.addLiveSession("n1", "a2", ann.id);
      await new Promise((r) => setTimeout(r, 5));
      await cluster.addLiveSession("n2", "a3", ann.id);
      await cluster.addLiveSession("n1", "b1", bob.id);
      const sessions = await cluster.userLiveSessions(ann.id, 60_000);
      assert.deepEqual(sessions.map((s) => [s.nodeId, s.sessionId]), [
        ["n2", "a1"],
        ["n1", "a2"],
        ["n2", "a3"],
      ]);
      assert.ok(sessions[0].since < sessions[1].since && sessions[1].since < sessions[2].since);
      assert.deepEqual(await cluster.usersOverSessionLimit(2, 60_000), [ann.id]);
      assert.deepEqual(await cluster.usersOverSessionLimit(1, 60_000), [ann.id]);
      assert.deepEqual(await cluster.usersOverSessionLimit(3, 60_000), []);
      assert.deepEqual(await cluster.liveUsersByNode(60_000), [
        { nodeId: "n1", userId: ann.id, username: "ann" },
        { nodeId: "n1", userId: bob.id, username: "bob" },
        { nodeId: "n2", userId: ann.id, username: "ann" },
      ]);
      // A silent node (not reaped yet) counts for nothing.
      await age("n2", 120_000);
      assert.deepEqual(
        (await cluster.userLiveSessions(ann.id, 60_000)).map((s) => s.sessionId),
        ["a2"],
      );
      assert.deepEqual(await cluster.usersOverSessionLimit(1, 60_000), []);
      assert.deepEqual(await cluster.liveUsersByNode(60_000), [
        { nodeId: "n1", userId: ann.id, username: "ann" },
        { nodeId: "n1", userId: bob.id, username: "bob" },
      ]);
    });
  },
);
// -- salon events across instances (join requests, membership recovery) -----------------------

mysqlTest("cluster store: closing a join request: once, exactly one of two deciders", async () => {
  await withCluster(async (cluster, store) => {
    const salons = await seededSalons(store);
    const s = salons["Comptabilité"].id;
    const ann = await createUser(store, "ann");
    const bob = await createUser(store, "bob");
    assert.equal(await cluster.closeJoinRequest(s, ann.id, true, T0), false, "nothing pending");
    assert.deepEqual((await store.listMemberships()).filter((m) => m.salonId === s), []);
    await store.addJoinRequest(s, ann.id, T0);
    await store.addJoinRequest(s, bob.id, T0);
    // Two decisions at once (two instances): MySQL keeps one.
    const results = await Promise.all([
      cluster.closeJoinRequest(s, ann.id, true, T0 + 1),
      cluster.closeJoinRequest(s, ann.id, false, T0 + 1),
    ]);
    assert.equal(results.filter((r) => r).length, 1, JSON.stringify(results));
    const annMember = (await store.listMemberships()).some((m) =>
      m.salonId === s && m.user.id === ann.id
    );
    assert.equal(annMember, results[0], "a member only if the acceptance won");
    // A rejection closes without membership.
    assert.equal(await cluster.closeJoinRequest(s, bob.id, false, T0), true);
    assert.equal(await cluster.closeJoinRequest(s, bob.id, true, T0), false);
    assert.deepEqual(await store.listJoinRequests(), []);
    assert.ok(
      !(await store.listMemberships()).some((m) => m.salonId === s && m.user.id === bob.id),
    );
  });
});

mysqlTest("cluster store: membership digests match what a replica computes", async () => {
  await withCluster(async (cluster, store) => {
    const salons = await seededSalons(store);
    const general = salons["Général"].id;
    const blabla = salons.Blabla.id;
    const ann = await createUser(store, "ann");
    const bob = await createUser(store, "bob", "Bob", "moderator");
    await store.addMember(blabla, bob.id, T0);
    const digests = await cluster.membershipDigests();
    assert.equal(digests.get(general), membershipDigest([ann.id, bob.id]));
    assert.equal(digests.get(blabla), membershipDigest([bob.id]));
    assert.equal(digests.get(salons["Comptabilité"].id), undefined, "no members: absent");
    assert.deepEqual(await cluster.salonMembers(blabla), [
      { id: bob.id, username: "bob", alias: "Bob", role: "moderator" },
    ]);
    assert.deepEqual((await cluster.salonMembers(general)).map((u) => u.id), [ann.id, bob.id]);
    assert.deepEqual(await cluster.salonMembers(salons["Comptabilité"].id), []);
  });
});

Deno.test("cluster store: membership digests tell sets of users apart, in any order", () => {
  assert.equal(membershipDigest([]), "0:0:0");
  assert.equal(membershipDigest([3, 1, 2]), membershipDigest([1, 2, 3]));
  assert.notEqual(membershipDigest([1, 4]), membershipDigest([2, 3]), "same count and sum");
  assert.notEqual(membershipDigest([1, 2]), membershipDigest([1, 3]));
  // Exact beyond 2^53 (bigints).
  const big = Number.MAX_SAFE_INTEGER;
  assert.equal(membershipDigest([big]), `1:${big}:${BigInt(big) * BigInt(big)}`);
});
