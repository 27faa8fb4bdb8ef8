/**
 * Issue 9, item 12: a page of long messages must not disconnect its reader.
 * 200 messages of 2000 four-byte characters (about 8 KB of UTF-8 each, 1.6 MB
 * for the page) used to go out as one frame, over the 1 MiB slow-consumer
 * limit: the socket was closed with 1008. Now a `history` reply holds at most
 * 256 KiB of frame, stops early with `more: true`, keeps the messages nearest
 * the cursor, and paging with `before` collects every message exactly once.
 * Salon history and direct history alike.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { NewMessage } from "../../store/store.ts";
import {
  type Frame,
  registerHttp,
  session,
  startTestServer,
  type TestClient,
  type TestServer,
} from "../ws_client.ts";

const PASSWORD = "history-cap-password";
const COUNT = 200;
const CAP = 256 * 1024;
const GENERAL = "Général";

/** ~2000 characters, nearly all outside the BMP (4 bytes each in UTF-8). */
function longText(i: number): string {
  return `#${i} ${"\u{1F600}".repeat(1990)}`;
}

/** Bytes of a frame as it travelled (the server's own serialization). */
function frameBytes(frame: Frame): number {
  return new TextEncoder().encode(JSON.stringify(frame)).byteLength;
}

async function withHistory(
  fn: (srv: TestServer, alice: TestClient) => Promise<void>,
): Promise<void> {
  const srv = await startTestServer();
  try {
    await registerHttp(srv.url, "alice", "Alice", PASSWORD);
    await registerHttp(srv.url, "bob", "Bob", PASSWORD);
    const store = srv.server.store;
    const alice = (await store.userByName("alice"))!;
    const bob = (await store.userByName("bob"))!;
    const general = (await store.listSalons()).find((s) => s.name === GENERAL)!;
    const t0 = Date.now();
    const batch: NewMessage[] = [];
    for (let i = 1; i <= COUNT; i++) {
      batch.push({
        kind: "salon",
        salonId: general.id,
        userId: alice.id,
        text: longText(i),
        at: t0 + i,
      });
      batch.push({
        kind: "direct",
        fromUserId: i % 2 === 0 ? alice.id : bob.id,
        toUserId: i % 2 === 0 ? bob.id : alice.id,
        text: longText(i),
        at: t0 + i,
      });
    }
    await store.appendMessages(batch);
    const client = (await session(srv, { username: "alice", password: PASSWORD }, "alice")).client;
    await fn(srv, client);
  } finally {
    await srv.stop();
  }
}

/**
 * Pages backwards through a conversation with `limit` 200 until `more` is
 * false; checks every reply's size and returns every page.
 */
async function pageAll(
  client: TestClient,
  target: { salon: string } | { with: string },
): Promise<Frame[]> {
  const pages: Frame[] = [];
  let before: number | undefined;
  for (let n = 0; n < COUNT; n++) {
    const reply = await client.request({
      type: "history",
      ...target,
      limit: 200,
      ...(before === undefined ? {} : { before }),
    });
    assert.equal(reply.type, "history", JSON.stringify(reply).slice(0, 300));
    assert.ok(client.isOpen, "the socket stays open");
    const bytes = frameBytes(reply);
    assert.ok(bytes <= CAP, `a reply of ${bytes} bytes is over 256 KiB`);
    pages.push(reply);
    if (!reply.more) return pages;
    assert.ok(reply.messages.length > 0, "a page with more: true is not empty");
    before = reply.messages[0].id;
  }
  throw new Error("paging did not end");
}

function assertEveryMessageOnce(pages: Frame[], what: string): void {
  const texts = pages.flatMap((p) => p.messages.map((m: { text: string }) => m.text));
  const numbers = texts.map((t) => Number(/^#(\d+) /.exec(t)![1]));
  assert.equal(numbers.length, COUNT, `${what}: every message, once (${numbers.length})`);
  assert.deepEqual(
    [...numbers].sort((a, b) => a - b),
    Array.from({ length: COUNT }, (_, i) => i + 1),
    what,
  );
  // Newest last within a page, pages going backwards: no overlap, no gap.
  const ids = pages.toReversed().flatMap((p) => p.messages.map((m: { id: number }) => m.id));
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i] > ids[i - 1], `${what}: ids in order`);
}

Deno.test("a salon history page of 200 long messages: at most 256 KiB, more: true, paging gets every message once, socket open", async () => {
  await withHistory(async (_srv, alice) => {
    const pages = await pageAll(alice, { salon: GENERAL });
    const first = pages[0];
    assert.equal(first.more, true, "the first reply stops early");
    assert.ok(first.messages.length < COUNT && first.messages.length > 1);
    assert.ok(frameBytes(first) > CAP - 10_000, "the reply is filled up to the cap");
    assert.equal(
      first.messages.at(-1).text,
      longText(COUNT),
      "the newest message (nearest the cursor) is kept",
    );
    assert.ok(pages.length > 1);
    assertEveryMessageOnce(pages, "salon");
    assert.equal((await alice.request({ type: "ping" })).type, "pong");
    assert.equal(alice.closeInfo, undefined, "never closed");
  });
});

Deno.test("a direct history page of 200 long messages: at most 256 KiB, more: true, paging gets every message once, socket open", async () => {
  await withHistory(async (_srv, alice) => {
    const pages = await pageAll(alice, { with: "bob" });
    assert.equal(pages[0].more, true, "the first reply stops early");
    assert.equal(pages[0].with, "bob");
    assert.equal(pages[0].messages.at(-1).text, longText(COUNT));
    assertEveryMessageOnce(pages, "direct");
    assert.equal((await alice.request({ type: "ping" })).type, "pong");
    assert.equal(alice.closeInfo, undefined, "never closed");
  });
});
