/**
 * Issue 9, items 1 and 2, and the upgrade rules of PROTOCOL.md 5.6: what an
 * anonymous peer can do to the transport. Each test failed on the server that
 * used Deno.serve and Deno.upgradeWebSocket.
 */

import assert from "node:assert/strict";
import { connectionEnd, rawConnect, type RawFrame } from "../raw_ws.ts";
import { startServer } from "../server_process.ts";
import { http, loginHttp, registerHttp, startTestServer } from "../ws_client.ts";

const MiB = 1024 * 1024;

/** The status line, headers and body of a refused upgrade. */
async function upgrade(
  port: number,
  headers: Record<string, string> = {},
): Promise<{ status: number; head: string; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    const request = `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
      Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n";
    await conn.write(new TextEncoder().encode(request));
    let text = "";
    const buf = new Uint8Array(16 * 1024);
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
      if (text.startsWith("HTTP/1.1 101") && text.includes("\r\n\r\n")) break;
    }
    const [head, body = ""] = text.split("\r\n\r\n");
    return { status: Number(head.split(" ")[1]), head, body };
  } finally {
    conn.close();
  }
}

Deno.test("item 2: a 60 MiB frame is refused with 1009 from its header, before any payload", async () => {
  const srv = await startTestServer();
  const raw = await rawConnect(srv.server.port);
  try {
    await raw.sendHeader(0x1, true, 60 * MiB);
    const { frames } = await raw.readUntil((f) => f.opcode === 8, 3000);
    assert.equal(frames.at(-1)?.closeCode, 1009);
  } finally {
    raw.close();
    await srv.stop();
  }
});

Deno.test("item 2: a message sent in fragments is refused with 1009 once past 64 KiB, before its last fragment", async () => {
  const srv = await startTestServer();
  const raw = await rawConnect(srv.server.port);
  try {
    const piece = new Uint8Array(1024).fill(0x61);
    await raw.sendFrame(0x1, piece, false);
    let sent = 1;
    let closeCode: number | undefined;
    while (closeCode === undefined && sent < 200) {
      await raw.sendFrame(0x0, piece, false).catch(() => {});
      sent++;
      if (sent > 64) {
        const { frames, eof } = await raw.readUntil((f) => f.opcode === 8, 200).catch(() => ({
          frames: [],
          eof: false,
        }));
        closeCode = frames.find((f) => f.opcode === 8)?.closeCode ?? (eof ? -1 : undefined);
      }
    }
    assert.equal(closeCode, 1009, "closed with 1009 while the message was still unfinished");
    assert.ok(sent <= 80, `refused soon after 64 KiB (after ${sent} KiB)`);
  } finally {
    raw.close();
    await srv.stop();
  }
});

Deno.test("5.6: an Origin that is neither ours nor allowed gets 403; ours, an allowed one and none get 101", async () => {
  const srv = await startTestServer({ CAUSERIE_ALLOWED_ORIGINS: "https://chat.example.org" });
  try {
    const port = srv.server.port;
    const evil = await upgrade(port, { Origin: "https://evil.example" });
    assert.equal(evil.status, 403);
    assert.equal(JSON.parse(evil.body).error.code, "forbidden");
    assert.equal((await upgrade(port, { Origin: "null" })).status, 403);
    assert.equal((await upgrade(port, { Origin: `http://127.0.0.1:${port}` })).status, 101);
    assert.equal((await upgrade(port, { Origin: "https://chat.example.org" })).status, 101);
    assert.equal((await upgrade(port)).status, 101);
  } finally {
    await srv.stop();
  }
});

Deno.test("item 1: sockets that have not said hello are capped per address (429 with Retry-After) and in total (503)", async () => {
  const srv = await startTestServer({
    CAUSERIE_PREWELCOME_PER_ADDRESS: "2",
    CAUSERIE_PREWELCOME_MAX: "1000",
  });
  const waiting = [await srv.connect(), await srv.connect()];
  try {
    const refused = await upgrade(srv.server.port);
    assert.equal(refused.status, 429);
    assert.match(refused.head, /\r\nretry-after: \d+/i);
    assert.equal(JSON.parse(refused.body).error.code, "rate_limited");
    // Once one of them is welcomed, a new socket may wait again.
    waiting[0].send({
      type: "register",
      username: "first",
      alias: "First",
      password: "first-password",
    });
    await waiting[0].next((f) => f.type === "welcome");
    const next = await srv.connect();
    waiting.push(next);
    // And once one closes.
    await waiting[1].close();
    waiting.push(await srv.connect());
  } finally {
    await srv.stop();
  }

  const total = await startTestServer({
    CAUSERIE_PREWELCOME_PER_ADDRESS: "100",
    CAUSERIE_PREWELCOME_MAX: "2",
  });
  try {
    await total.connect();
    await total.connect();
    assert.equal((await upgrade(total.server.port)).status, 503);
  } finally {
    await total.stop();
  }
});

Deno.test("item 6: an address has a bucket of connections (and so of hellos); reconnecting does not refill it", async () => {
  const srv = await startTestServer({
    CAUSERIE_CONNECT_BURST: "3",
    CAUSERIE_CONNECT_PER_SECOND: "0.001",
  });
  try {
    for (let i = 0; i < 3; i++) await (await srv.connect()).close();
    const refused = await upgrade(srv.server.port);
    assert.equal(refused.status, 429);
    assert.match(refused.body, /per second/);
  } finally {
    await srv.stop();
  }
});

Deno.test("item 1: more idle sockets than the open-file limit: the process lives, sheds them, and serves a user once they close", async () => {
  const server = await startServer(
    { CAUSERIE_PORT: "0", CAUSERIE_DB: "sqlite::memory:", CAUSERIE_ADMIN_SOCKET: "" },
    { nofile: 256 },
  );
  const idle: Deno.Conn[] = [];
  try {
    assert.match(server.output(), /open-file limit \(ulimit -n\) is 256/);
    for (let i = 0; i < 400; i++) {
      try {
        idle.push(await Deno.connect({ hostname: "127.0.0.1", port: server.port }));
      } catch {
        break;
      }
    }
    // Let the server try to accept them all.
    await new Promise((r) => setTimeout(r, 500));
    const alive = await Promise.race([
      server.finished().then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(true), 200)),
    ]);
    assert.ok(alive, `the server exited:\n${server.output()}`);
    for (const c of idle.splice(0)) c.close();
    // Once they are gone, a user registers and talks.
    let status = 0;
    for (let i = 0; i < 150 && status !== 201; i++) {
      const res = await fetch(`${server.url}/api/register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "after", alias: "After", password: "after-the-storm" }),
      }).catch(() => undefined);
      status = res?.status ?? 0;
      await res?.body?.cancel();
      if (status !== 201) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 201);
    const raw = await rawConnect(server.port);
    try {
      await raw.sendText(
        JSON.stringify({ type: "hello", username: "after", password: "after-the-storm" }),
      );
      const { frames } = await raw.readUntil((f) => f.text?.includes('"welcome"') ?? false, 5000);
      assert.ok(frames.some((f) => f.text?.includes('"welcome"')));
    } finally {
      raw.close();
    }
  } finally {
    for (const c of idle) c.close();
    await server.dispose();
  }
});

Deno.test("item 1: one address holds at most CAUSERIE_MAX_CONNECTIONS_PER_ADDRESS connections; more are closed, and it may connect again once some close", async () => {
  const srv = await startTestServer({ CAUSERIE_MAX_CONNECTIONS_PER_ADDRESS: "5" });
  const held: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 5; i++) {
      held.push(await Deno.connect({ hostname: "127.0.0.1", port: srv.server.port }));
    }
    const extra = await Deno.connect({ hostname: "127.0.0.1", port: srv.server.port });
    held.push(extra);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = await Promise.race([
      extra.read(new Uint8Array(16)),
      new Promise<"open">((r) => timer = setTimeout(() => r("open"), 2000)),
    ]);
    clearTimeout(timer);
    assert.equal(read, null, "the sixth is closed at once");
    held.pop()!.close();
    held.shift()!.close();
    await new Promise((r) => setTimeout(r, 50));
    const res = await fetch(`${srv.url}/healthz`);
    assert.equal(res.status, 200);
    await res.body?.cancel();
  } finally {
    for (const c of held) c.close();
    await srv.stop();
  }
});

/** Sends raw request text on a fresh connection, reads the answer's head, keeps the connection. */
async function rawRequest(port: number, text: string): Promise<{ conn: Deno.Conn; head: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(text));
  let got = "";
  const buf = new Uint8Array(4096);
  while (!got.includes("\r\n\r\n")) {
    const n = await conn.read(buf);
    if (n === null) break;
    got += new TextDecoder().decode(buf.subarray(0, n));
  }
  return { conn, head: got.split("\r\n\r\n")[0] };
}

Deno.test("a refused upgrade's connection is closed by the server, even if the client keeps it open", async () => {
  const srv = await startTestServer({ CAUSERIE_MAX_CONNECTIONS_PER_ADDRESS: "3" });
  const held: Deno.Conn[] = [];
  try {
    const key = btoa("0123456789abcdef");
    for (let i = 0; i < 3; i++) {
      const { conn, head } = await rawRequest(
        srv.server.port,
        `GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nOrigin: https://evil.example\r\n\r\n`,
      );
      assert.match(head, /^HTTP\/1.1 403/);
      held.push(conn); // never closed by the client
    }
    await new Promise((r) => setTimeout(r, 200));
    // Had the server kept them, this address would be at its cap of 3 and this would be cut.
    const res = await fetch(`${srv.url}/healthz`);
    assert.equal(res.status, 200);
    await res.body?.cancel();
  } finally {
    for (const c of held) c.close();
    await srv.stop();
  }
});

Deno.test("GET /ws with Upgrade but no Connection: Upgrade is 426 and holds no pre-welcome place", async () => {
  const srv = await startTestServer({ CAUSERIE_PREWELCOME_PER_ADDRESS: "1" });
  let kept: Deno.Conn | undefined;
  try {
    const key = btoa("0123456789abcdef");
    const { conn, head } = await rawRequest(
      srv.server.port,
      `GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    kept = conn; // a keep-alive connection that stays open
    assert.match(head, /^HTTP\/1.1 426/);
    // The one place this address has for a socket before its welcome is still free.
    const ws = await srv.connect();
    assert.ok(ws.isOpen);
  } finally {
    kept?.close();
    await srv.stop();
  }
});

Deno.test("a flooder closed while its reading is paused gets its 1008, and the connection ends soon after its answer", async () => {
  const srv = await startTestServer();
  const raw = await rawConnect(srv.server.port);
  try {
    await registerHttp(srv.url, "flooder", "Flooder", "flooder-password");
    await raw.sendText(
      JSON.stringify({ type: "hello", username: "flooder", password: "flooder-password" }),
    );
    await raw.readUntil((f) => f.text?.includes('"welcome"') ?? false, 5000);
    // Far past the budget for 5 s: the server pauses reading, then closes with 1008.
    const ping = JSON.stringify({ type: "ping" });
    let close: RawFrame | undefined;
    const closing = raw.readUntil((f) => f.opcode === 8, 10_000).then(({ frames }) =>
      close = frames.find((f) => f.opcode === 8)
    );
    const deadline = Date.now() + 9000;
    while (!close && Date.now() < deadline) {
      for (let i = 0; i < 50; i++) await raw.sendText(ping).catch(() => {});
      await new Promise((r) => setTimeout(r, 100));
    }
    await closing;
    assert.equal(close?.closeCode, 1008);
    await raw.sendFrame(0x8, new Uint8Array([0x03, 0xf0]));
    const t0 = Date.now();
    const end = await connectionEnd(raw, 5000);
    assert.ok(end === "closed" || end === "reset", `the server ended the connection: ${end}`);
    assert.ok(Date.now() - t0 < 3000, `ended ${Date.now() - t0} ms after the close answer`);
  } finally {
    raw.close();
    await srv.stop();
  }
});

Deno.test("a session closed while its reading is paused: the frames queued in its socket are never parsed, and the connection ends within a second, answered or not", async () => {
  const srv = await startTestServer();
  // Count the frames handed to a session after the server began closing it.
  const hub = srv.server.hub;
  const connect = hub.connect.bind(hub);
  let closing = false;
  let afterClose = 0;
  hub.connect = (socket, address, opts) => {
    const close = socket.close.bind(socket);
    socket.close = (code, reason) => {
      closing = true;
      close(code, reason);
    };
    const handle = connect(socket, address, opts);
    const receive = handle.receive.bind(handle);
    handle.receive = (...args) => {
      if (closing) afterClose++;
      receive(...args);
    };
    return handle;
  };
  const raw = await rawConnect(srv.server.port);
  let sending = true;
  try {
    await registerHttp(srv.url, "flooder", "Flooder", "flooder-password");
    const token = await loginHttp(srv.url, "flooder", "flooder-password");
    await raw.sendText(JSON.stringify({ type: "hello", token }));
    await raw.readUntil((f) => f.text?.includes('"welcome"') ?? false, 5000);
    // Past the budget (40 at once): the server stops reading; what follows waits in the socket.
    const ping = JSON.stringify({ type: "ping" });
    for (let i = 0; i < 100; i++) await raw.sendText(ping);
    await raw.readUntil((f) => f.text?.includes('"rate_limited"') ?? false, 5000);
    const backlog = (async () => {
      for (let i = 0; sending && i < 50_000; i++) await raw.sendText(ping);
    })().catch(() => {});
    await new Promise((r) => setTimeout(r, 200));
    // Every session of the user is closed (4401) while this one is paused.
    const out = await http(srv.url, "POST", "/api/logout-all", undefined, {
      authorization: `Bearer ${token}`,
    });
    assert.equal(out.status, 204);
    const t0 = Date.now();
    const { frames } = await raw.readUntil((f) => f.opcode === 8, 5000);
    assert.equal(frames.at(-1)?.closeCode, 4401);
    // Not answered: the connection ends anyway (a reset, as the server leaves unread data).
    const end = await connectionEnd(raw, 5000);
    const ended = Date.now() - t0;
    sending = false;
    await backlog;
    assert.ok(end === "closed" || end === "reset", end);
    assert.ok(ended < 3000, `ended ${ended} ms after the close`);
    assert.equal(afterClose, 0, `${afterClose} frames parsed after the close`);
  } finally {
    sending = false;
    raw.close();
    await srv.stop();
  }
});
