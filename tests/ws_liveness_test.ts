/**
 * Liveness over real sockets: a peer that stops answering pings is closed,
 * and a peer that stops reading is closed (1008) before it eats memory.
 */

import assert from "node:assert/strict";
import { loadConfig } from "../config/config.ts";
import { silentLogger } from "../lib/log.ts";
import { type RunningServer, start, type StartOptions } from "../main.ts";
import { rawConnect } from "./raw_ws.ts";

const PASSWORD = "liveness-password";

async function serve(env: Record<string, string>, opts: StartOptions): Promise<RunningServer> {
  const config = loadConfig({ CAUSERIE_PORT: "0", CAUSERIE_DB: "sqlite::memory:", ...env });
  return await start(config, silentLogger, { adminSocket: false, ...opts });
}

async function register(server: RunningServer, username: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${server.port}/api/register`, {
    method: "POST",
    headers: { "content-type": "application/json" }, // issue 9: bodies must be declared JSON
    body: JSON.stringify({ username, alias: username, password: PASSWORD }),
  });
  await res.body?.cancel();
  assert.equal(res.status, 201);
}

/** A browser-grade client that collects frames. */
function client(port: number) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  const frames: Record<string, unknown>[] = [];
  const waiters: Array<
    { test: (f: Record<string, unknown>) => boolean; resolve: (f: Record<string, unknown>) => void }
  > = [];
  ws.onmessage = (e) => {
    const f = JSON.parse(e.data);
    frames.push(f);
    for (const w of [...waiters]) {
      if (w.test(f)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(f);
      }
    }
  };
  const closed = new Promise<CloseEvent>((r) => ws.onclose = r);
  const opened = new Promise((r) => ws.onopen = r);
  return {
    ws,
    frames,
    closed,
    opened,
    send: (o: unknown) => ws.send(JSON.stringify(o)),
    next(test: (f: Record<string, unknown>) => boolean, ms = 10_000) {
      const seen = frames.find(test);
      if (seen) return Promise.resolve(seen);
      return new Promise<Record<string, unknown>>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("timed out waiting for a frame")), ms);
        waiters.push({
          test,
          resolve: (f) => {
            clearTimeout(timer);
            resolve(f);
          },
        });
      });
    },
  };
}

Deno.test("a peer that stops answering pings is closed and goes offline", async () => {
  const server = await serve({}, {
    ws: { idleTimeoutSeconds: 1 },
    hub: { presenceIntervalMs: 20 },
  });
  const raw = await rawConnect(server.port);
  const watcher = client(server.port);
  try {
    await register(server, "sleepy");
    await register(server, "watcher");
    await raw.sendText(JSON.stringify({ type: "hello", username: "sleepy", password: PASSWORD }));
    await raw.readUntil((f) => f.text?.includes('"welcome"') ?? false, 10_000);
    await watcher.opened;
    watcher.send({ type: "hello", username: "watcher", password: PASSWORD });
    await watcher.next((f) => f.type === "welcome");
    // The raw client reads but never answers: the server pings, then gives up.
    const { frames, eof } = await raw.readUntil((f) => f.opcode === 8, 10_000);
    assert.ok(frames.some((f) => f.opcode === 9), "the server pinged the silent peer");
    assert.ok(eof || frames.some((f) => f.opcode === 8), "the server closed the connection");
    const offline = await watcher.next((f) =>
      f.type === "presence" &&
      (f.changes as Array<{ username: string; status: string }>).some((c) =>
        c.username === "sleepy" && c.status === "offline"
      )
    );
    assert.ok(offline);
  } finally {
    raw.close();
    watcher.ws.close();
    await watcher.closed;
    await server.stop();
  }
});

Deno.test("a peer that stops reading is closed with 1008 once 1 MiB is unsent", async () => {
  const server = await serve({
    CAUSERIE_RATE_PER_SECOND: "10000",
    CAUSERIE_RATE_BURST: "10000",
    CAUSERIE_REQUEST_BURST: "10000",
    CAUSERIE_REQUEST_PER_SECOND: "10000",
    CAUSERIE_MAX_TEXT: "16000",
  }, { hub: { presenceIntervalMs: 20 } });
  const raw = await rawConnect(server.port);
  const talker = client(server.port);
  try {
    await register(server, "reader");
    await register(server, "talker");
    await raw.sendText(JSON.stringify({ type: "hello", username: "reader", password: PASSWORD }));
    await raw.readUntil((f) => f.text?.includes('"welcome"') ?? false, 10_000);
    await talker.opened;
    talker.send({ type: "hello", username: "talker", password: PASSWORD });
    await talker.next((f) => f.type === "welcome");
    // The raw client now reads nothing while 16 KB messages pile up for it.
    const text = "x".repeat(16_000);
    let sent = 0;
    let gone = false;
    const goneSeen = talker.next((f) =>
      f.type === "presence" &&
      (f.changes as Array<{ username: string; status: string }>).some((c) =>
        c.username === "reader" && c.status === "offline"
      ), 60_000).then(() => gone = true);
    while (!gone && sent < 2000) {
      for (let i = 0; i < 50; i++) {
        talker.send({ type: "say", salon: "Général", text, ref: `m${sent++}` });
      }
      await talker.next((f) => f.type === "ok" && f.ref === `m${sent - 1}`, 30_000);
    }
    await goneSeen;
    assert.ok(sent * text.length < 64 * 1024 * 1024, "closed long before 64 MiB was sent");
    // Reading everything now ends with the close frame: 1008.
    const { frames } = await raw.readUntil((f) => f.opcode === 8, 30_000);
    assert.equal(frames.at(-1)?.closeCode, 1008);
    // The talker itself is unaffected.
    talker.send({ type: "ping", ref: "still-here" });
    await talker.next((f) => f.type === "pong" && f.ref === "still-here");
  } finally {
    raw.close();
    talker.ws.close();
    await talker.closed;
    await server.stop();
  }
});
