/**
 * The cluster tables on MariaDB (issue 15, migration 9): nodes beating on the
 * database's clock, live sessions, reaping. MySQL only (a bus needs MySQL):
 * skipped, named so, without `CAUSERIE_TEST_MYSQL_URL`.
 */

import assert from "node:assert/strict";
import { type ClusterStore, membershipDigest } from "../store/cluster_store.ts";
import { openMysqlStore } from "../store/mysql.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import type { NewMessage, Store } from "../store/store.ts";
import type { ResultSetHeader, RowDataPacket } from "mysql2/promise";
import { adminConnection, adminRun, freshDatabase, mysqlTest } from "./mysql_fixture.ts";
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

// --- direct conversations in order (issue 15; store/mysql_direct_order.ts) ---------------

/** A fresh migrated database, its store, ann and bob, and the database's name. */
async function withDirects(
  fn: (ctx: {
    cluster: ClusterStore;
    store: Store;
    dbName: string;
    url: string;
    ann: number;
    bob: number;
  }) => Promise<void>,
): Promise<void> {
  const db = await freshDatabase();
  const store = await openMysqlStore(db.url);
  try {
    const ann = (await createUser(store, "ann")).id;
    const bob = (await createUser(store, "bob")).id;
    await fn({ cluster: store.cluster!, store, dbName: db.name, url: db.url, ann, bob });
  } finally {
    await store.close();
    await db.drop();
  }
}

/** A direct message from `from` to `to`. */
function dm(from: number, to: number, text = "t"): NewMessage {
  return { kind: "direct", fromUserId: from, toUserId: to, text, at: T0 };
}

mysqlTest(
  "cluster store: an ordered batch gives each direct its conversation's previous id",
  async () => {
    await withDirects(async ({ cluster, store, ann, bob }) => {
      const cat = (await createUser(store, "cat")).id;
      const general = (await seededSalons(store))["Général"].id;
      const first = await cluster.appendOrdered([dm(ann, bob)]);
      assert.deepEqual(first.prev, [0], "the first of its conversation");
      const batch = await cluster.appendOrdered([
        dm(bob, ann),
        { kind: "salon", salonId: general, userId: ann, text: "s", at: T0 },
        dm(ann, cat),
        dm(ann, bob),
        dm(cat, cat),
      ]);
      const [x, s, y, z, w] = batch.ids;
      assert.ok(x > first.ids[0] && y > x && z > y && w > z);
      assert.equal(s, 1, "the salon message keeps its counter");
      assert.deepEqual(batch.prev, [first.ids[0], 0, 0, x, 0]);
      // Stored like any batch: history and conversations as with appendMessages.
      const page = await store.directHistory(ann, bob, { limit: 50 });
      assert.deepEqual(page.messages.map((m) => m.id), [first.ids[0], x, z]);
      const convs = await store.conversations(bob, { limit: 50 });
      assert.deepEqual(convs.conversations.map((c) => c.latest), [z]);
      assert.deepEqual(await cluster.appendOrdered([]), { ids: [], prev: [] });
    });
  },
);

mysqlTest(
  "cluster store: a writer of the conversation waits for the one holding it; commit order is id order",
  async () => {
    await withDirects(async ({ cluster, dbName, ann, bob }) => {
      const first = await cluster.appendOrdered([dm(ann, bob)]);
      // Another instance's writer: it holds the conversation and has an id, not committed yet.
      const other = await adminConnection(dbName);
      let writing: Promise<unknown> | undefined;
      try {
        await other.query("START TRANSACTION");
        await other.execute(
          "SELECT latest_id FROM conversations WHERE user_id = ? AND other_id = ? FOR UPDATE",
          [Math.min(ann, bob), Math.max(ann, bob)],
        );
        const [inserted] = await other.execute<ResultSetHeader>(
          `INSERT INTO direct_messages (from_user_id, to_user_id, pair_low, pair_high, text, created_at)
           VALUES (?, ?, ?, ?, 'held', ?)`,
          [bob, ann, Math.min(ann, bob), Math.max(ann, bob), T0],
        );
        const held = inserted.insertId;
        await other.execute(
          "UPDATE conversations SET latest_id = ? WHERE user_id = ? AND other_id = ?",
          [held, Math.min(ann, bob), Math.max(ann, bob)],
        );
        // This writer must wait for the lock: it never commits before `held`.
        let done = false;
        const ordered = cluster.appendOrdered([dm(ann, bob)]).finally(() => done = true);
        writing = ordered;
        const deadline = Date.now() + 10_000;
        while (!done) {
          // A statement of the writer still running while ours holds the lock: it waits.
          const [waiting] = await other.query<RowDataPacket[]>(
            `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST
             WHERE DB = ? AND ID <> CONNECTION_ID() AND COMMAND IN ('Execute', 'Query')`,
            [dbName],
          );
          if (Number(waiting[0].n) > 0) break;
          assert.ok(Date.now() < deadline, "the writer neither waited nor finished");
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.equal(done, false, "the second writer committed while the first held its id");
        await other.query("COMMIT");
        const second = await ordered;
        assert.ok(second.ids[0] > held, "committed after, with a larger id");
        assert.deepEqual(second.prev, [held], "its predecessor is the held message");
        assert.ok(held > first.ids[0]);
      } finally {
        await other.query("ROLLBACK").catch(() => {});
        await writing?.catch(() => {});
        await other.end();
      }
    });
  },
);

mysqlTest(
  "cluster store: two pools writing one conversation at once chain every id to the one before",
  async () => {
    await withDirects(async ({ cluster, url, ann, bob }) => {
      const second = await openMysqlStore(url);
      try {
        const results = await Promise.all(
          Array.from(
            { length: 30 },
            (_, i) =>
              (i % 2 === 0 ? cluster : second.cluster!).appendOrdered(
                i % 3 === 0 ? [dm(ann, bob), dm(bob, ann)] : [dm(bob, ann)],
              ),
          ),
        );
        const chain = results.flatMap((r) => r.ids.map((id, i) => ({ id, prev: r.prev[i] })))
          .sort((a, b) => a.id - b.id);
        chain.forEach((m, i) => assert.equal(m.prev, i === 0 ? 0 : chain[i - 1].id, `id ${m.id}`));
      } finally {
        await second.close();
      }
    });
  },
);

mysqlTest(
  "cluster store: a user's baseline and the conversations that changed lately",
  async () => {
    await withDirects(async ({ cluster, store, ann, bob }) => {
      const cat = (await createUser(store, "cat")).id;
      assert.equal(await cluster.conversationBaseline(ann), 0);
      const { ids } = await cluster.appendOrdered([
        { ...dm(ann, bob), at: T0 },
        { ...dm(cat, ann), at: T0 + 5000 },
        { ...dm(bob, cat), at: T0 + 9000 },
      ]);
      assert.equal(await cluster.conversationBaseline(ann), ids[1]);
      assert.equal(await cluster.conversationBaseline(bob), ids[2]);
      const recent = await cluster.recentConversations([ann, bob], T0 + 1000);
      const rows = recent.map((r) => `${r.userId}:${r.otherId}:${r.latestId}`).sort();
      assert.deepEqual(
        rows,
        [`${ann}:${cat}:${ids[1]}`, `${bob}:${cat}:${ids[2]}`].sort(),
        "only rows written since, of the users asked about",
      );
      assert.deepEqual(await cluster.recentConversations([], 0), []);
      const many = Array.from({ length: 1200 }, (_, i) => i + 1000);
      assert.equal((await cluster.recentConversations([...many, ann], T0)).length, 2);
    });
  },
);

mysqlTest("cluster store: a batch over more conversations than one statement reads", async () => {
  await withDirects(async ({ cluster, store, ann }) => {
    const others: number[] = [];
    for (let i = 0; i < 130; i++) others.push((await createUser(store, `user${i}`)).id);
    const batch = [...others, ...others].map((o) => dm(ann, o));
    const { ids, prev } = await cluster.appendOrdered(batch);
    assert.deepEqual(prev.slice(0, 130), others.map(() => 0), "each conversation's first");
    assert.deepEqual(prev.slice(130), ids.slice(0, 130), "then each one's second follows it");
    const again = await cluster.appendOrdered(others.map((o) => dm(o, ann)));
    assert.deepEqual(again.prev, ids.slice(130), "read back under the lock");
  });
});
