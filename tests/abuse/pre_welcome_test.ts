/**
 * Issue 9, item 2 (the part inside the connection actor): before the
 * welcome, frames sent while the hello is being checked are kept up to
 * 16 KiB (beyond: `error rate_limited`, the frame dropped), and a hello that
 * cannot be checked within 30 s (a long password-hash queue) ends the
 * connection with 4401 "authentication took too long". Driven through the
 * hub, as the WebSocket route does, with an account service whose answers
 * the test controls and xstate's SimulatedClock.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SimulatedClock } from "xstate";
import type { Accounts } from "../../auth/accounts.ts";
import { silentLogger } from "../../lib/log.ts";
import { parseFrame } from "../../protocol/frames.ts";
import { createHub, type Hub } from "../../runtime/hub.ts";
import { openSqliteStore } from "../../store/sqlite.ts";
import { DEFAULT_SALONS, parseSalons } from "../../config/salons.ts";
import type { Store, UserRecord } from "../../store/store.ts";

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);

interface World {
  hub: Hub;
  clock: SimulatedClock;
  store: Store;
  alice: UserRecord;
  /** Pending logins: resolve one to let its hello through. */
  logins: Array<PromiseWithResolvers<{ user: UserRecord; token: string }>>;
}

async function withHub(fn: (w: World) => Promise<void>): Promise<void> {
  const store = await openSqliteStore(":memory:");
  await store.syncSalons(parseSalons(DEFAULT_SALONS), T0);
  const alice = await store.createUser(
    { username: "alice", alias: "Alice", passwordHash: "x", role: "member" },
    T0,
  );
  const logins: World["logins"] = [];
  // Only what the hub calls for a password hello; the login never ends by itself.
  const accounts = {
    login: () => {
      const pending = Promise.withResolvers<{ user: UserRecord; token: string }>();
      logins.push(pending);
      return pending.promise;
    },
  } as unknown as Accounts;
  const clock = new SimulatedClock();
  clock.set(T0);
  const hub = await createHub({
    store,
    accounts,
    log: silentLogger,
    limits: { ratePerSecond: 5, burst: 10, maxText: 2000 },
    maxSessions: 5,
    clock,
    now: () => clock.now(),
  });
  try {
    await fn({ hub, clock, store, alice, logins });
  } finally {
    await hub.stop();
    await store.close();
  }
}

function fakeSocket() {
  const frames: Array<Record<string, unknown>> = [];
  const closes: Array<{ code: number; reason: string }> = [];
  return {
    frames,
    closes,
    send: (frame: string) => frames.push(JSON.parse(frame)),
    close: (code: number, reason: string) => closes.push({ code, reason }),
  };
}

const flush = async () => {
  for (let i = 0; i < 50; i++) await Promise.resolve();
};

Deno.test("abuse: frames sent while the hello is checked are kept up to 16 KiB, the rest refused", async () => {
  await withHub(async ({ hub, logins, alice }) => {
    const socket = fakeSocket();
    const conn = hub.connect(socket, "192.0.2.9");
    const send = (value: unknown) => {
      const text = JSON.stringify(value);
      conn.receive(parseFrame(text), new TextEncoder().encode(text).byteLength);
    };
    send({ type: "hello", username: "alice", password: "whatever it is" });
    // 20 frames of 2 KiB (40 KiB) while the hello waits in the hash queue.
    const filler = "x".repeat(2048 - JSON.stringify({ type: "ping", ref: "p00", pad: "" }).length);
    for (let i = 0; i < 20; i++) {
      send({ type: "ping", ref: `p${String(i).padStart(2, "0")}`, pad: filler });
    }
    const early = socket.frames.filter((f) => f.code === "rate_limited").map((f) => f.ref);
    assert.deepEqual(early, [...Array(12).keys()].map((i) => `p${String(i + 8).padStart(2, "0")}`));
    logins[0].resolve({ user: alice, token: "t" });
    await flush();
    assert.equal(socket.frames[12]?.type, "welcome");
    const pongs = socket.frames.filter((f) => f.type === "pong").map((f) => f.ref);
    assert.deepEqual(pongs, [...Array(8).keys()].map((i) => `p0${i}`));
    conn.closed();
  });
});

Deno.test("abuse: a hello not checked within 30 s ends the connection with 4401", async () => {
  await withHub(async ({ hub, clock, logins, alice }) => {
    const socket = fakeSocket();
    const conn = hub.connect(socket, "192.0.2.9");
    conn.receive(
      parseFrame(
        JSON.stringify({ type: "hello", username: "alice", password: "pw pw pw", ref: "h" }),
      ),
    );
    clock.increment(29_999);
    assert.deepEqual(socket.closes, []);
    clock.increment(1);
    assert.deepEqual(socket.closes, [{ code: 4401, reason: "authentication took too long" }]);
    assert.equal(socket.frames[0]?.code, "internal");
    assert.equal(socket.frames[0]?.ref, "h");
    // The check ending later changes nothing: no welcome, no session.
    logins[0].resolve({ user: alice, token: "t" });
    await flush();
    assert.equal(socket.frames.length, 1);
    assert.equal(hub.onlineCount(1), 0);
  });
});
