/**
 * Durability, with a real process: whatever got `ok` is on disk. The server
 * is killed with SIGKILL while messages are still arriving, restarted on the
 * same database file, and the history must hold every acknowledged message.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Server, startServer } from "./server_process.ts";

const SALON = "Général";
const FRAME_TIMEOUT_MS = 15_000;

/** A decoded server frame. */
type Frame = Record<string, unknown> & { type: string };

/** A WebSocket client that queues the frames it receives. */
interface Client {
  ws: WebSocket;
  /** Every frame received so far, in order. */
  frames: Frame[];
  /** Calls `fn` on every frame as it arrives (after queueing it). */
  onFrame(fn: (frame: Frame) => void): void;
  /** Sends one JSON frame. */
  send(frame: Record<string, unknown>): void;
  /** The first frame, from `from` on, matching `match`; fails after a timeout or on close. */
  waitFor(match: (f: Frame) => boolean, what: string, from?: number): Promise<Frame>;
  /** Resolves when the socket is closed (whoever closed it). */
  closed: Promise<void>;
  /** Closes the socket (if still open) and waits until it is closed. */
  close(): Promise<void>;
}

async function connect(port: number): Promise<Client> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  const frames: Frame[] = [];
  const listeners: Array<(f: Frame) => void> = [];
  let wake: (() => void) | undefined;
  let isClosed = false;
  const closed = new Promise<void>((resolve) => {
    ws.addEventListener("close", () => {
      isClosed = true;
      wake?.();
      resolve();
    });
  });
  ws.addEventListener("message", (e) => {
    const frame = JSON.parse(String(e.data)) as Frame;
    frames.push(frame);
    for (const fn of listeners) fn(frame);
    wake?.();
  });
  const opened = new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve());
    ws.addEventListener("error", () => reject(new Error("WebSocket could not connect")));
  });
  try {
    await opened;
  } catch (e) {
    await closed;
    throw e;
  }
  return {
    ws,
    frames,
    onFrame: (fn) => listeners.push(fn),
    send: (frame) => ws.send(JSON.stringify(frame)),
    async waitFor(match, what, from = 0) {
      const deadline = Date.now() + FRAME_TIMEOUT_MS;
      while (true) {
        const found = frames.slice(from).find(match);
        if (found) return found;
        if (isClosed) throw new Error(`socket closed while waiting for ${what}`);
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new Error(
            `no ${what} within ${FRAME_TIMEOUT_MS} ms; got ${JSON.stringify(frames)}`,
          );
        }
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, left);
        });
        clearTimeout(timer);
        wake = undefined;
      }
    },
    closed,
    async close() {
      if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) {
        ws.close(1000, "test done");
      }
      await closed;
    },
  };
}

/** Opens a socket and says hello with a password; returns it after the welcome. */
async function helloed(port: number, username: string, password: string): Promise<Client> {
  const client = await connect(port);
  try {
    client.send({ type: "hello", username, password, ref: "hello" });
    const answer = await client.waitFor(
      (f) => f.type === "welcome" || f.type === "error",
      "welcome",
    );
    assert.equal(answer.type, "welcome", JSON.stringify(answer));
    return client;
  } catch (e) {
    await client.close();
    throw e;
  }
}

interface HistoryItem {
  id: number;
  from: { username: string; alias: string };
  text: string;
  at: string;
}

/** The whole history of a salon, oldest first, paging back with `before`, `limit` at a time. */
async function fullHistory(client: Client, salon: string, limit: number): Promise<HistoryItem[]> {
  const all: HistoryItem[] = [];
  let before: number | undefined;
  for (let page = 0; page < 100; page++) {
    const ref = `history-${page}`;
    const from = client.frames.length;
    client.send(
      before === undefined
        ? { type: "history", salon, limit, ref }
        : { type: "history", salon, limit, before, ref },
    );
    const answer = await client.waitFor((f) => f.ref === ref, `history page ${page}`, from);
    assert.equal(answer.type, "history", JSON.stringify(answer));
    assert.equal(answer.salon, salon);
    const messages = answer.messages as HistoryItem[];
    assert.ok(messages.length <= limit, `${messages.length} messages in a page of ${limit}`);
    all.unshift(...messages);
    if (!answer.more) return all;
    assert.ok(messages.length > 0, "an empty page says more messages exist");
    before = messages[0].id;
  }
  throw new Error("history never ended");
}

async function register(port: number, username: string, alias: string, password: string) {
  const res = await fetch(`http://127.0.0.1:${port}/api/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, alias, password }),
  });
  const text = await res.text();
  assert.equal(res.status, 201, text);
}

Deno.test("every message that got ok survives a SIGKILL of the server", async () => {
  const dir = await Deno.makeTempDir({ prefix: "causerie-durability-" });
  const env = {
    CAUSERIE_PORT: "0",
    CAUSERIE_SHUTDOWN_SECONDS: "1",
    CAUSERIE_DB: `sqlite:${dir}/c.db`,
    CAUSERIE_ADMIN_SOCKET: `${dir}/admin.sock`,
    CAUSERIE_RATE_PER_SECOND: "1000",
    CAUSERIE_RATE_BURST: "1000",
    // 200 says as fast as they are acknowledged: past the default request budget (PROTOCOL 5.6).
    CAUSERIE_REQUEST_PER_SECOND: "1000",
    CAUSERIE_REQUEST_BURST: "1000",
    CAUSERIE_LOG_LEVEL: "info",
  };
  const username = "durable";
  const password = "durable password";
  const total = 200;
  // Kept in flight: each ok lets one more say go, so some are always uncommitted.
  const window = 25;
  const killAfter = 170;
  const run = crypto.randomUUID().slice(0, 8);
  const textOf = (i: number) => `message ${i} of run ${run} — « durable » 💾\nline 2 '; --`;

  let server: Server | undefined;
  let client: Client | undefined;
  try {
    server = await startServer(env);
    await register(server.port, username, "Durable Dora", password);
    client = await helloed(server.port, username, password);

    // Every `ok` by the index of the `say` it answers (ref = index).
    const acked = new Map<number, number>();
    const errors: Frame[] = [];
    let killedAt: number | undefined;
    let sent = 0;
    const first = server;
    const speaker = client;
    const sayNext = () => {
      speaker.send({ type: "say", salon: SALON, text: textOf(sent), ref: `say-${sent}` });
      sent++;
    };
    speaker.onFrame((f) => {
      if (f.type === "ok" && typeof f.ref === "string" && f.ref.startsWith("say-")) {
        acked.set(Number(f.ref.slice(4)), f.id as number);
        if (killedAt !== undefined) return;
        if (acked.size >= killAfter) {
          // Killed right here, while the messages sent after these are in flight.
          killedAt = sent;
          first.kill("SIGKILL");
        } else if (sent < total) sayNext();
      } else if (f.type === "error") errors.push(f);
    });
    while (sent < window) sayNext();
    const ended = await first.finished();
    assert.equal(ended.signal, "SIGKILL", `the server was not killed:\n${ended.output}`);
    await client.closed;
    client = undefined;
    assert.deepEqual(errors, [], "a say was refused before the kill");
    assert.ok(killedAt !== undefined && acked.size >= killAfter, `only ${acked.size} oks`);
    assert.ok(killedAt > killAfter, "nothing was in flight when the server was killed");

    // Ids were handed out in the order the messages were sent, each once.
    const ackedIndexes = [...acked.keys()].sort((a, b) => a - b);
    const ackedIds = ackedIndexes.map((i) => acked.get(i)!);
    for (let k = 1; k < ackedIds.length; k++) {
      assert.ok(ackedIds[k] > ackedIds[k - 1], `ids out of order: ${ackedIds}`);
    }

    // Restart on the same file: every acknowledged message is there.
    server = await startServer(env);
    client = await helloed(server.port, username, password);
    // Pages smaller than the history, so that paging with `before` is exercised too.
    const history = await fullHistory(client, SALON, 64);
    const byId = new Map(history.map((m) => [m.id, m]));
    assert.equal(byId.size, history.length, "an id appears twice in the history");
    for (let k = 1; k < history.length; k++) {
      assert.ok(history[k].id > history[k - 1].id, "history is not oldest first");
    }
    const missing: number[] = [];
    for (const [index, id] of acked) {
      const stored = byId.get(id);
      if (!stored) {
        missing.push(index);
        continue;
      }
      assert.equal(stored.text, textOf(index), `message ${index} (id ${id})`);
      assert.deepEqual(stored.from, { username, alias: "Durable Dora" });
    }
    assert.deepEqual(
      missing,
      [],
      `${missing.length} of ${acked.size} acknowledged messages lost (by send index)`,
    );
    // Nothing else appeared: every stored message is one that was sent, once.
    const texts = new Map(Array.from({ length: sent }, (_, i) => [textOf(i), i]));
    const seen = new Set<number>();
    for (const m of history) {
      const index = texts.get(m.text);
      assert.ok(index !== undefined, `unexpected message ${JSON.stringify(m)}`);
      assert.ok(!seen.has(index), `message ${index} stored twice`);
      seen.add(index);
      if (acked.has(index)) assert.equal(acked.get(index), m.id);
    }

    // The next message gets an id above every id handed out before the crash.
    const from = client.frames.length;
    client.send({ type: "say", salon: SALON, text: "after the crash", ref: "after" });
    const ok = await client.waitFor((f) => f.ref === "after", "ok after restart", from);
    assert.equal(ok.type, "ok", JSON.stringify(ok));
    const highest = Math.max(...ackedIds, ...history.map((m) => m.id));
    assert.ok((ok.id as number) > highest, `id ${ok.id} after ${highest}`);

    await client.close();
    client = undefined;
    server.kill("SIGTERM");
    const second = await server.finished();
    assert.equal(second.code, 0, second.output);
  } finally {
    await client?.close();
    await server?.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});
