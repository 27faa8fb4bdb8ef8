/**
 * The attacker of the "pong under attack" scenario, on its own thread (a
 * Worker, so that its busy loop does not delay the normal users' timing):
 * ONE account and ONE source address, running one attack at a time for a
 * fixed time, and reporting what it saw (frames answered, closes, refused
 * upgrades, HTTP statuses).
 *
 * Every socket is a raw `node:net` socket bound to the attacker's address
 * (Deno.connect cannot bind a source address), speaking just enough
 * WebSocket (masked with a zero key, which is legal and free) and HTTP/1.1.
 *
 * Messages: `{cmd:"run", attack, port, address, user, others, durationMs,
 * params}` -> the attack's {@link AttackReport}.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { Buffer } from "node:buffer";
import { createConnection, type Socket } from "node:net";

import type { AttackerUser, AttackName, AttackReport } from "./attacks.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ZERO_MASK = new Uint8Array(4);

function bump(map: Record<string, number>, key: string, n = 1): void {
  map[key] = (map[key] ?? 0) + n;
}

/** A WebSocket frame from the client: masked with a zero key (payload as is). */
function clientFrame(payload: Uint8Array, opcode = 1, fin = true, claimed?: number): Buffer {
  const n = claimed ?? payload.byteLength;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + 4 + payload.byteLength);
  out[0] = (fin ? 0x80 : 0) | opcode;
  if (head === 2) out[1] = 0x80 | n;
  else if (head === 4) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    out.writeUInt32BE(n >>> 0, 6);
  }
  out.set(ZERO_MASK, head);
  out.set(payload, head + 4);
  return out;
}

const textFrame = (text: string) => clientFrame(Buffer.from(text, "utf8"));

/** A raw client socket bound to the attacker's address. */
function connectRaw(port: number, address: string, timeoutMs = 5000): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port, localAddress: address });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("connect timeout"));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      resolve(socket);
    });
    // Resets and writes after the server closed are part of the game: never thrown.
    socket.on("error", (e) => {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    });
  });
}

/** Writes, and waits for `drain` when the socket's buffer is full ("as fast as the socket allows"). */
function writeWait(socket: Socket, bytes: Uint8Array): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  if (socket.write(bytes)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      socket.off("drain", done);
      socket.off("close", done);
      resolve();
    };
    socket.on("drain", done);
    socket.on("close", done);
  });
}

/** A WebSocket client session of the attacker. */
class RawWs {
  readonly socket: Socket;
  readonly report: AttackReport;
  #buf: Buffer = Buffer.alloc(0);
  closed = false;
  closeCode: number | undefined;
  readonly ended: Promise<void>;
  #welcome = Promise.withResolvers<boolean>();
  /** The last error code received (pre-welcome refusals). */
  lastError: string | undefined;

  private constructor(socket: Socket, report: AttackReport, leftover: Buffer) {
    this.socket = socket;
    this.report = report;
    this.#welcome.promise.catch(() => {});
    this.ended = new Promise((resolve) => {
      socket.on("close", () => {
        if (!this.closed) bump(report.closes, "dropped");
        this.closed = true;
        this.#welcome.resolve(false);
        resolve();
      });
    });
    socket.on("data", (chunk: Buffer) => this.#data(chunk));
    socket.on("error", () => socket.destroy());
    if (leftover.byteLength) this.#data(leftover);
  }

  /** Connects and upgrades; null when refused (counted in the report). */
  static async open(port: number, address: string, report: AttackReport): Promise<RawWs | null> {
    let socket: Socket;
    try {
      socket = await connectRaw(port, address);
    } catch {
      bump(report.refused, "error");
      return null;
    }
    const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
    socket.write(
      `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    const head = await readHead(socket, 5000);
    if (!head) {
      bump(report.refused, "closed without an answer");
      socket.destroy();
      return null;
    }
    if (head.status !== 101) {
      bump(report.refused, String(head.status));
      socket.destroy();
      return null;
    }
    report.connected++;
    return new RawWs(socket, report, head.rest);
  }

  /** Sends one text frame now (no waiting). */
  send(text: string): void {
    const f = textFrame(text);
    this.report.framesSent++;
    this.report.bytesSent += f.byteLength;
    if (!this.socket.destroyed) this.socket.write(f);
  }

  /** Says hello with the token and waits for the welcome. */
  async hello(user: AttackerUser, timeoutMs = 5000): Promise<boolean> {
    this.send(JSON.stringify({ type: "hello", token: user.token }));
    return await this.welcomed(timeoutMs);
  }

  async welcomed(timeoutMs: number): Promise<boolean> {
    const ok = await Promise.race([this.#welcome.promise, sleep(timeoutMs).then(() => false)]);
    if (ok) this.report.welcomed++;
    return ok;
  }

  /** Sends batches from `next` as fast as the socket takes them, until `stopAt` or the close. */
  async pump(next: () => string, stopAt: number, batch = 32): Promise<void> {
    while (!this.closed && performance.now() < stopAt) {
      const frames: Buffer[] = [];
      for (let i = 0; i < batch; i++) frames.push(textFrame(next()));
      const bytes = Buffer.concat(frames);
      this.report.framesSent += batch;
      this.report.bytesSent += bytes.byteLength;
      await writeWait(this.socket, bytes);
    }
  }

  /** Sends a close frame and drops the connection. */
  close(): void {
    if (!this.closed && !this.socket.destroyed) {
      this.closed = true;
      this.socket.write(clientFrame(new Uint8Array([0x03, 0xe8]), 8));
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 200);
    } else this.socket.destroy();
  }

  #data(chunk: Buffer): void {
    this.#buf = this.#buf.byteLength ? Buffer.concat([this.#buf, chunk]) : chunk;
    let off = 0;
    const buf = this.#buf;
    while (buf.byteLength - off >= 2) {
      const b0 = buf[off];
      let len = buf[off + 1] & 0x7f;
      let hdr = 2;
      if (len === 126) {
        if (buf.byteLength - off < 4) break;
        len = buf.readUInt16BE(off + 2);
        hdr = 4;
      } else if (len === 127) {
        if (buf.byteLength - off < 10) break;
        len = buf.readUInt32BE(off + 6);
        hdr = 10;
      }
      if (buf.byteLength - off < hdr + len) break;
      const payload = buf.subarray(off + hdr, off + hdr + len);
      off += hdr + len;
      const opcode = b0 & 0x0f;
      if (opcode === 1) this.#text(payload);
      else if (opcode === 9) this.socket.write(clientFrame(payload, 10));
      else if (opcode === 8) {
        const code = len >= 2 ? payload.readUInt16BE(0) : 1005;
        this.closeCode = code;
        if (!this.closed) bump(this.report.closes, String(code));
        this.closed = true;
        this.socket.end();
        setTimeout(() => this.socket.destroy(), 200);
        break;
      }
    }
    this.#buf = off >= buf.byteLength ? Buffer.alloc(0) : buf.subarray(off);
  }

  #text(payload: Buffer): void {
    const start = payload.subarray(0, 40).toString("latin1");
    const type = /"type":"(\w+)"/.exec(start)?.[1] ?? "?";
    if (type === "error") {
      const code = /"code":"(\w+)"/.exec(payload.subarray(0, 200).toString("latin1"))?.[1] ?? "?";
      bump(this.report.received, `error:${code}`);
      this.lastError = code;
      this.#welcome.resolve(false);
    } else {
      bump(this.report.received, type);
      if (type === "welcome") this.#welcome.resolve(true);
    }
  }
}

/** Reads an HTTP response head (and, with `body`, its Content-Length body). */
async function readHead(
  socket: Socket,
  timeoutMs: number,
  body = false,
): Promise<{ status: number; rest: Buffer; body?: string; close: boolean } | null> {
  let buf = Buffer.alloc(0);
  const deadline = performance.now() + timeoutMs;
  let wake: (() => void) | undefined;
  let ended = false;
  const onData = (c: Buffer) => {
    buf = Buffer.concat([buf, c]);
    wake?.();
  };
  const onEnd = () => {
    ended = true;
    wake?.();
  };
  socket.on("data", onData);
  socket.on("close", onEnd);
  socket.on("end", onEnd);
  try {
    while (performance.now() < deadline) {
      const end = buf.indexOf("\r\n\r\n");
      if (end >= 0) {
        const head = buf.subarray(0, end).toString("latin1");
        const status = Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0);
        const close = /\r\nconnection: *close/i.test(head);
        let rest = buf.subarray(end + 4);
        if (!body) return { status, rest, close };
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (rest.byteLength >= length) {
          const text = rest.subarray(0, length).toString("utf8");
          rest = rest.subarray(length);
          return { status, rest, body: text, close };
        }
      }
      if (ended) return null;
      await Promise.race([
        new Promise<void>((r) => wake = r),
        sleep(Math.max(1, deadline - performance.now())),
      ]);
      wake = undefined;
    }
    return null;
  } finally {
    socket.off("data", onData);
    socket.off("close", onEnd);
    socket.off("end", onEnd);
  }
}

/** A keep-alive HTTP/1.1 client bound to the attacker's address, one request at a time. */
class RawHttp {
  #socket: Socket | undefined;
  constructor(readonly port: number, readonly address: string, readonly report: AttackReport) {}

  /** POSTs JSON; resolves with the status (0: no answer) and the error code of the body. */
  async post(path: string, body: unknown): Promise<{ status: number; code?: string }> {
    try {
      this.#socket ??= await connectRaw(this.port, this.address);
    } catch {
      bump(this.report.http, "connect error");
      return { status: 0 };
    }
    const socket = this.#socket;
    const json = JSON.stringify(body);
    const req = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${this.port}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`;
    this.report.bytesSent += req.length;
    socket.write(req);
    const res = await readHead(socket, 15_000, true);
    if (!res || res.close || res.rest.byteLength) {
      socket.destroy();
      this.#socket = undefined;
    }
    if (!res) {
      bump(this.report.http, "no answer");
      return { status: 0 };
    }
    const code = /"code":"(\w+)"/.exec(res.body ?? "")?.[1];
    bump(this.report.http, code ? `${res.status} ${code}` : String(res.status));
    return { status: res.status, code };
  }

  close(): void {
    this.#socket?.destroy();
  }
}

interface RunMsg {
  cmd: "run";
  attack: AttackName;
  port: number;
  address: string;
  user: AttackerUser;
  /** Other users' names (targets of the wrong-password logins). */
  others: string[];
  durationMs: number;
  params: Record<string, number>;
}

function newReport(attack: AttackName): AttackReport {
  return {
    attack,
    ms: 0,
    connected: 0,
    refused: {},
    welcomed: 0,
    framesSent: 0,
    bytesSent: 0,
    received: {},
    closes: {},
    http: {},
    extra: {},
  };
}

/** Runs `loops` copies of `body` until `stopAt`; each copy goes round again after it returns. */
async function loops(n: number, stopAt: number, body: (i: number) => Promise<void>) {
  await Promise.all(Array.from({ length: n }, async (_, i) => {
    while (performance.now() < stopAt) await body(i);
  }));
}

/** Sessions (as many as the account may hold) that pump frames from `next`, reconnecting when closed. */
async function pumpAttack(
  m: RunMsg,
  r: AttackReport,
  stopAt: number,
  first: string[],
  next: () => string,
): Promise<void> {
  const sessions = m.params.sessions ?? 5;
  await loops(sessions, stopAt, async () => {
    const ws = await RawWs.open(m.port, m.address, r);
    if (!ws) return void await sleep(100);
    if (!(await ws.hello(m.user))) {
      ws.close();
      return void await sleep(100);
    }
    for (const f of first) ws.send(f);
    await ws.pump(next, stopAt);
    if (!ws.closed) ws.close();
    await Promise.race([ws.ended, sleep(500)]);
  });
}

async function run(m: RunMsg): Promise<AttackReport> {
  const r = newReport(m.attack);
  const t0 = performance.now();
  const stopAt = t0 + m.durationMs;
  let k = 0;
  switch (m.attack) {
    case "flood": {
      // Mixed frame types, as fast as the socket allows, from every session the account may hold.
      const mix = [
        `{"type":"ping","ref":"a"}`,
        `{"type":"who","salon":"Général","ref":"a"}`,
        `{"type":"history","salon":"Général","limit":50,"ref":"a"}`,
        `{"type":"say","salon":"Général","text":"flood","ref":"a"}`,
        `{bad json`,
        `{"type":"nonsense"}`,
      ];
      await pumpAttack(m, r, stopAt, [], () => mix[k++ % mix.length]);
      break;
    }
    case "joinLeave": {
      const mix = [
        `{"type":"join","salon":"Blabla","ref":"j"}`,
        `{"type":"leave","salon":"Blabla","ref":"l"}`,
        `{"type":"join","salon":"Comptabilité","ref":"j"}`,
        `{"type":"join","salon":"Informatique","ref":"j"}`,
        `{"type":"join","salon":"Marketing","ref":"j"}`,
      ];
      await pumpAttack(m, r, stopAt, [], () => mix[k++ % mix.length]);
      break;
    }
    case "history": {
      // Long pages: Blabla holds a few hundred messages of the longest text allowed.
      const top = m.params.historyTop ?? 400;
      await pumpAttack(
        m,
        r,
        stopAt,
        [`{"type":"join","salon":"Blabla","ref":"j"}`],
        () =>
          k++ % 2 === 0
            ? `{"type":"history","salon":"Blabla","limit":200,"ref":"h"}`
            : `{"type":"history","salon":"Blabla","limit":200,"before":${
              1 + Math.floor(Math.random() * top)
            },"ref":"h"}`,
      );
      break;
    }
    case "reconnect": {
      // Connect, hello by token, a few says, close; several loops at once.
      let cycles = 0;
      await loops(m.params.loops ?? 4, stopAt, async () => {
        const ws = await RawWs.open(m.port, m.address, r);
        if (!ws) return void await sleep(20);
        if (await ws.hello(m.user)) {
          for (let i = 0; i < 3; i++) {
            ws.send(`{"type":"say","salon":"Général","text":"again ${i}","ref":"s${i}"}`);
          }
          await sleep(5);
          cycles++;
        }
        ws.close();
      });
      r.extra.cycles = cycles;
      break;
    }
    case "wrongPassword": {
      // HTTP logins (keep-alive, 4 connections) and socket hellos (2 loops), all wrong.
      const targets = [m.user.username, ...m.others, "admin"];
      const http = Array.from({ length: 4 }, () => new RawHttp(m.port, m.address, r));
      let attempts = 0;
      await Promise.all([
        loops(4, stopAt, async (i) => {
          attempts++;
          const res = await http[i].post("/api/login", {
            username: targets[k++ % targets.length],
            password: `wrong-${k}`,
          });
          if (res.status === 0) await sleep(50);
        }),
        loops(2, stopAt, async () => {
          const ws = await RawWs.open(m.port, m.address, r);
          if (!ws) return void await sleep(20);
          attempts++;
          ws.send(JSON.stringify({
            type: "hello",
            username: targets[k++ % targets.length],
            password: `wrong-${k}`,
          }));
          await Promise.race([ws.welcomed(10_000), ws.ended]);
          ws.close();
        }),
      ]);
      for (const h of http) h.close();
      r.extra.attempts = attempts;
      break;
    }
    case "register": {
      // New accounts over HTTP (2 keep-alive connections) and `register` frames (1 loop).
      const http = Array.from({ length: 2 }, () => new RawHttp(m.port, m.address, r));
      const name = () => `z${Date.now().toString(36)}${(k++).toString(36)}`;
      let attempts = 0;
      await Promise.all([
        loops(2, stopAt, async (i) => {
          attempts++;
          const u = name();
          const res = await http[i].post("/api/register", {
            username: u,
            alias: u,
            password: "attacker-password-1",
          });
          if (res.status === 0) await sleep(50);
        }),
        loops(1, stopAt, async () => {
          const ws = await RawWs.open(m.port, m.address, r);
          if (!ws) return void await sleep(20);
          attempts++;
          const u = name();
          ws.send(
            JSON.stringify({ type: "register", username: u, alias: u, password: "attacker-pw-1" }),
          );
          await Promise.race([ws.welcomed(10_000), ws.ended]);
          ws.close();
        }),
      ]);
      for (const h of http) h.close();
      r.extra.attempts = attempts;
      break;
    }
    case "idleSockets": {
      // Upgraded sockets that never say hello (as many as the server lets in, retried
      // as fast as 20 loops go), and TCP connections that never finish their request.
      const held: RawWs[] = [];
      const slow: Socket[] = [];
      let slowClosed = 0;
      let maxOpen = 0;
      const open = () => held.filter((w) => !w.closed).length;
      await Promise.all([
        loops(20, stopAt, async () => {
          if (held.length >= (m.params.idleSockets ?? 2000)) return void await sleep(50);
          const ws = await RawWs.open(m.port, m.address, r);
          if (!ws) return void await sleep(10);
          held.push(ws);
          maxOpen = Math.max(maxOpen, open());
        }),
        (async () => {
          const n = m.params.slowSockets ?? 1000;
          for (let i = 0; i < n && performance.now() < stopAt; i++) {
            try {
              const s = await connectRaw(m.port, m.address);
              s.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
              s.on("close", () => slowClosed++);
              s.on("data", () => {});
              slow.push(s);
            } catch {
              bump(r.refused, "tcp error");
              await sleep(10);
            }
          }
        })(),
      ]);
      r.extra.upgradedHeldAtEnd = open();
      r.extra.upgradedHeldMax = maxOpen;
      r.extra.slowSocketsOpened = slow.length;
      r.extra.slowSocketsClosedByServer = slowClosed;
      for (const w of held) w.socket.destroy();
      for (const s of slow) s.destroy();
      break;
    }
    case "oversized": {
      // A 60 MiB frame header (then 1 MiB of it), and a message in 60 KiB fragments
      // (up to 60 MiB), with and without a hello first.
      const chunk = Buffer.alloc(60 * 1024, 0x61);
      let header = 0;
      let fragments = 0;
      let bytesBeforeClose = 0;
      await loops(2, stopAt, async (i) => {
        const ws = await RawWs.open(m.port, m.address, r);
        if (!ws) return void await sleep(50);
        if ((k++ + i) % 2 === 0 && !(await ws.hello(m.user))) {
          ws.close();
          return;
        }
        let sent = 0;
        if (i === 0) {
          header++;
          const first = clientFrame(chunk, 1, true, 60 * 1024 * 1024);
          await writeWait(ws.socket, first);
          sent += first.byteLength;
          for (let j = 0; j < 16 && !ws.closed; j++) {
            await writeWait(ws.socket, chunk);
            sent += chunk.byteLength;
          }
        } else {
          fragments++;
          for (let j = 0; j < 1024 && !ws.closed && performance.now() < stopAt; j++) {
            const f = clientFrame(chunk, j === 0 ? 1 : 0, false);
            await writeWait(ws.socket, f);
            sent += f.byteLength;
          }
        }
        r.bytesSent += sent;
        await Promise.race([ws.ended, sleep(2000)]);
        bytesBeforeClose = Math.max(bytesBeforeClose, sent);
        ws.socket.destroy();
      });
      r.extra.headerAttempts = header;
      r.extra.fragmentAttempts = fragments;
      r.extra.mostBytesSentBeforeTheClose = bytesBeforeClose;
      break;
    }
  }
  r.ms = Math.round(performance.now() - t0);
  return r;
}

self.onunhandledrejection = (e: PromiseRejectionEvent) => {
  e.preventDefault();
  console.error(`attacker: ${e.reason}`);
};

self.onmessage = async (e: MessageEvent) => {
  const m = e.data as RunMsg;
  try {
    self.postMessage({ ok: true, report: await run(m) });
  } catch (error) {
    self.postMessage({ ok: false, error: (error as Error).stack ?? String(error) });
  }
};
