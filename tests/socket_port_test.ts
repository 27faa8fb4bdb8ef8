/**
 * The socket port's slow-consumer rule (routes/ws.ts `socketPort`): a peer
 * with more than 1 MiB unread is closed 1008, but frames written in one task
 * (corked until the task ends, then sent in one write) are not unread bytes:
 * a peer that reads at once is never cut for them.
 */

import assert from "node:assert/strict";
// @ts-types="@types/ws"
import { WebSocket, WebSocketServer } from "ws";
import { SLOW_CONSUMER_BYTES, socketPort } from "../routes/ws.ts";

/** A ws server on loopback whose first connection gets `onConnection(port)`. */
async function serve(
  onConnection: (port: ReturnType<typeof socketPort>, abandoned: () => boolean) => void,
): Promise<{ url: string; close(): Promise<void> }> {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate: false });
  await new Promise((r) => wss.once("listening", r));
  wss.on("connection", (ws) => {
    let gone = false;
    const port = socketPort(ws as never, () => gone = true);
    onConnection(port, () => gone);
  });
  const { port } = wss.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}

/** A client that counts frames and resolves with its close code (or "open" after `ms`). */
function reader(url: string, ms: number, opts: { paused?: boolean } = {}) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  let frames = 0;
  ws.on("message", () => frames++);
  if (opts.paused) {
    ws.on("open", () => (ws as unknown as { _socket: { pause(): void } })._socket.pause());
  }
  const ended = new Promise<string>((resolve) => {
    const timer = setTimeout(() => resolve("open"), ms);
    ws.on("close", (code: number) => {
      clearTimeout(timer);
      resolve(String(code));
    });
  });
  return {
    ended,
    frames: () => frames,
    close: () => {
      if (ws.readyState === ws.CLOSED) return Promise.resolve();
      const closed = new Promise((r) => ws.once("close", r));
      ws.terminate();
      return closed;
    },
  };
}

const PAGE = JSON.stringify({ type: "history", text: "x".repeat(256 * 1024 - 40) });

Deno.test("five 256 KiB frames written in one task to a peer that reads: delivered, not cut as a slow consumer", async () => {
  let abandoned = () => false;
  const srv = await serve((port, gone) => {
    abandoned = gone;
    // Five replies resolved as microtasks of one task, as five history pages can be.
    queueMicrotask(() => {
      for (let i = 0; i < 5; i++) Promise.resolve().then(() => port.send(PAGE));
    });
  });
  const client = reader(srv.url, 1500);
  try {
    assert.ok(5 * PAGE.length > SLOW_CONSUMER_BYTES);
    assert.equal(await client.ended, "open");
    assert.equal(client.frames(), 5);
    assert.equal(abandoned(), false);
  } finally {
    await client.close();
    await srv.close();
  }
});

Deno.test("a peer that does not read past 1 MiB is still closed as a slow consumer (1008)", async () => {
  let abandoned = () => false;
  const srv = await serve((port, gone) => {
    abandoned = gone;
    // One page per task, until the unread data passes the limit.
    let sent = 0;
    const next = () => {
      if (abandoned() || sent++ > 200) return;
      port.send(PAGE);
      setTimeout(next, 5);
    };
    next();
  });
  const client = reader(srv.url, 8000, { paused: true });
  try {
    for (let i = 0; i < 400 && !abandoned(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(abandoned(), true, "the server gave up on the peer");
  } finally {
    await client.close();
    await srv.close();
  }
});
