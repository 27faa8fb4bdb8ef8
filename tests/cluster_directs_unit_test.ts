/**
 * runtime/cluster_directs.ts on in-memory buses and a fake store (no Redis,
 * no MySQL): what one instance commits reaches the other's sessions of both
 * users; a user's conversations are followed only while they have a session
 * there; what the bus lost while it was down is read from the store as soon
 * as it is back; a message heard while a user's baseline is still being read
 * is delivered once it is known.
 */

import assert from "node:assert/strict";
import { MemoryBroker, MemoryBus } from "../bus/memory_bus.ts";
import { clusterLink } from "../runtime/cluster_channel.ts";
import { type ClusterDirects, startClusterDirects } from "../runtime/cluster_directs.ts";
import type { RelayedDirect } from "../runtime/direct_payload.ts";
import { silentLogger } from "../lib/log.ts";
import type { ConversationLatest } from "../store/cluster_store.ts";
import type { HistoryQuery, Store, StoredMessage } from "../store/store.ts";
import { directEvent } from "../protocol/events.ts";

const NAMES = ["", "ann", "bob", "cat"];
const T = Date.UTC(2026, 10, 27, 10);

/** The shared "MySQL": committed directs, the conversation rows derived from them. */
class FakeDb {
  readonly messages: RelayedDirect[] = [];
  #next = 1;
  /** A baseline read waits for this when set. */
  hold: Promise<void> | undefined;

  /** Commits a direct; returns it with its conversation's previous id. */
  commit(from: number, to: number, text: string): RelayedDirect {
    const id = this.#next++;
    const pair = (m: RelayedDirect) =>
      (m.fromUserId === from && m.toUserId === to) || (m.fromUserId === to && m.toUserId === from);
    const prev = this.messages.filter(pair).at(-1)?.id ?? 0;
    const m: RelayedDirect = {
      id,
      prev,
      fromUserId: from,
      toUserId: to,
      item: {
        id,
        from: { username: NAMES[from], alias: NAMES[from].toUpperCase() },
        to: { username: NAMES[to], alias: NAMES[to].toUpperCase() },
        text,
        at: new Date(T + id).toISOString(),
      },
    };
    this.messages.push(m);
    return m;
  }

  /** The store the instances read. */
  store(): Store {
    const messages = this.messages;
    const hold = () => this.hold;
    const between = (a: number, b: number) =>
      messages.filter((m) =>
        (m.fromUserId === a && m.toUserId === b) || (m.fromUserId === b && m.toUserId === a)
      );
    return {
      directHistory(a: number, b: number, q: HistoryQuery) {
        const all = between(a, b).filter((m) => m.id > (q.after ?? 0));
        const page = all.slice(0, q.limit);
        return Promise.resolve({
          messages: page.map((m): StoredMessage => ({
            id: m.id,
            from: m.item.from,
            to: m.item.to,
            text: m.item.text,
            at: Date.parse(m.item.at),
          })),
          more: all.length > page.length,
        });
      },
      cluster: {
        async conversationBaseline(userId: number) {
          await hold();
          const mine = messages.filter((m) => m.fromUserId === userId || m.toUserId === userId);
          return mine.at(-1)?.id ?? 0;
        },
        recentConversations(userIds: readonly number[], _since: number) {
          const rows = new Map<string, ConversationLatest>();
          for (const m of messages) {
            for (const [u, o] of [[m.fromUserId, m.toUserId], [m.toUserId, m.fromUserId]]) {
              if (userIds.includes(u)) {
                rows.set(`${u}:${o}`, { userId: u, otherId: o, latestId: m.id });
              }
            }
          }
          return Promise.resolve([...rows.values()]);
        },
      },
    } as unknown as Store;
  }
}

/** One instance: its sessions (frames by user) and its side of direct conversations. */
interface Node {
  directs: ClusterDirects;
  frames: Map<number, string[]>;
  online: Set<number>;
  come(userId: number): void;
  leave(userId: number): void;
}

async function node(broker: MemoryBroker, db: FakeDb, checkMs = 60_000): Promise<Node> {
  const frames = new Map<number, string[]>();
  const online = new Set<number>();
  const directs = await startClusterDirects({
    link: clusterLink(new MemoryBus(broker, "test")),
    store: db.store(),
    log: silentLogger,
    gapWaitMs: 20,
    checkMs,
    targets: {
      toUser: (userId, frame) => {
        if (!online.has(userId)) return 0;
        frames.get(userId)!.push(frame);
        return 1;
      },
      isOnline: (userId) => online.has(userId),
    },
  });
  return {
    directs,
    frames,
    online,
    come(userId) {
      online.add(userId);
      if (!frames.has(userId)) frames.set(userId, []);
      directs.sessionUp(userId);
    },
    leave(userId) {
      online.delete(userId);
      directs.sessionDown(userId);
    },
  };
}

/** Resolves once `check` holds (polling), or throws after a second. */
async function until(check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 2000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`not within 2 s: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The ids of the `direct` frames a user got on a node. */
function ids(n: Node, userId: number): number[] {
  return (n.frames.get(userId) ?? []).map((f) => JSON.parse(f).id);
}

Deno.test("cluster directs (memory bus): both sides on the other instance; forgotten on leaving", async () => {
  const broker = new MemoryBroker();
  const db = new FakeDb();
  const a = await node(broker, db);
  const b = await node(broker, db);
  try {
    a.come(1);
    b.come(1);
    b.come(2);
    b.come(3);
    await until(() => b.directs.followed().users === 3, "followed");
    const m = db.commit(1, 2, "salut");
    a.directs.committed(m);
    await until(() => ids(b, 2).length === 1 && ids(b, 1).length === 1, "delivered on B");
    assert.deepEqual(a.frames.get(1), [directEvent(m.item)], "the sender's session here");
    assert.deepEqual(b.frames.get(2), [directEvent(m.item)]);
    assert.deepEqual(b.frames.get(1), [directEvent(m.item)], "the sender's session on B");
    assert.deepEqual(b.frames.get(3), [], "nobody else");
    assert.deepEqual(b.directs.followed(), { users: 3, conversations: 2 });
    b.leave(2);
    b.leave(1);
    assert.deepEqual(b.directs.followed(), { users: 1, conversations: 0 }, "memory freed");
    a.directs.committed(db.commit(2, 1, "re"));
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(b.directs.followed(), { users: 1, conversations: 0 }, "offline: not followed");
  } finally {
    await a.directs.stop();
    await b.directs.stop();
  }
});

Deno.test("cluster directs (memory bus): what the bus lost while down is read when it is back", async () => {
  const broker = new MemoryBroker();
  const db = new FakeDb();
  const a = await node(broker, db);
  const b = await node(broker, db); // the check is a minute away: only the resubscribe reads
  try {
    a.come(1);
    b.come(2);
    await until(() => b.directs.followed().users === 1, "followed");
    const first = db.commit(1, 2, "un");
    a.directs.committed(first);
    await until(() => ids(b, 2).length === 1, "first");
    broker.down();
    const lost = [db.commit(1, 2, "deux"), db.commit(2, 1, "trois")];
    for (const m of lost) a.directs.committed(m);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(ids(b, 2), [first.id], "nothing while the bus is down");
    broker.restart();
    await until(() => ids(b, 2).length === 3, "caught up");
    assert.deepEqual(ids(b, 2), [first.id, ...lost.map((m) => m.id)]);
  } finally {
    await a.directs.stop();
    await b.directs.stop();
  }
});

Deno.test("cluster directs (memory bus): a message heard while the baseline is read waits for it", async () => {
  const broker = new MemoryBroker();
  const db = new FakeDb();
  const a = await node(broker, db);
  const b = await node(broker, db);
  try {
    a.come(1);
    await until(() => a.directs.followed().users === 1, "followed");
    const gate = Promise.withResolvers<void>();
    db.hold = gate.promise;
    b.come(2);
    const m = db.commit(1, 2, "tôt");
    a.directs.committed(m);
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(ids(b, 2), [], "held until the baseline is known");
    gate.resolve();
    await until(() => ids(b, 2).length === 1, "delivered");
    // Its baseline (read after the commit) is m's id: m is delivered once all the same.
    assert.deepEqual(ids(b, 2), [m.id]);
  } finally {
    db.hold = undefined;
    await a.directs.stop();
    await b.directs.stop();
  }
});

Deno.test("cluster directs (memory bus): a message committed as the user came, heard just after the baseline read that saw it, is delivered", async () => {
  const broker = new MemoryBroker();
  const db = new FakeDb();
  const a = await node(broker, db);
  const b = await node(broker, db, 100); // the check too runs every 100 ms
  try {
    a.come(1);
    const gate = Promise.withResolvers<void>();
    db.hold = gate.promise;
    b.come(2); // user 2's session is up on B; its baseline read is under way
    const m = db.commit(1, 2, "bonjour"); // committed after the session came: the read sees it
    gate.resolve();
    await until(() => b.directs.followed().users === 1, "followed");
    await new Promise((r) => setTimeout(r, 5)); // the baseline (m's id) is applied
    a.directs.committed(m); // A's publication arrives only now
    await until(() => ids(b, 2).length === 1, "delivered live");
    await new Promise((r) => setTimeout(r, 250)); // waits and checks: nothing more
    assert.deepEqual(ids(b, 2), [m.id]);
  } finally {
    db.hold = undefined;
    await a.directs.stop();
    await b.directs.stop();
  }
});

Deno.test("cluster directs (memory bus): the periodic check finds a message never published", async () => {
  const broker = new MemoryBroker();
  const db = new FakeDb();
  const a = await node(broker, db);
  const b = await node(broker, db, 30);
  try {
    b.come(2);
    await until(() => b.directs.followed().users === 1, "followed");
    db.commit(1, 2, "jamais publié"); // committed on an instance that died before publishing
    await until(() => ids(b, 2).length === 1, "found by the check");
  } finally {
    await a.directs.stop();
    await b.directs.stop();
  }
});
