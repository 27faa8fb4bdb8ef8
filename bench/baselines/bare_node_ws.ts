/**
 * The transport's limit: the bare Deno baseline (bench/baselines/bare_deno.ts)
 * on Causerie's transport, `node:http` + `ws` (`new WebSocketServer({
 * noServer: true, maxPayload: 65536 })`, `handleUpgrade` on the server's
 * `upgrade` event), run under Deno. The same frames (`hello` -> `welcome`,
 * `join` -> `joined`, `say` -> `ok` + `message` to the room, `direct` ->
 * `ok` + `direct` to both sides, `ping` -> `pong`), with no persistence, no
 * authentication, no rate limit and no actors. A broadcast is serialized once
 * and its WebSocket frame built once, then written to every member's socket.
 *
 * Beside bare Deno it shows what the transport itself costs; beside Causerie,
 * what Causerie costs on top of it.
 *
 * Run: `deno run --allow-net --allow-env --allow-read --allow-sys bench/baselines/bare_node_ws.ts`
 * (`BENCH_PORT`, default 8090; `BENCH_HOST`, default 127.0.0.1).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createServer } from "node:http";
import type { Socket } from "node:net";
// @ts-types="@types/ws"
import { type WebSocket, WebSocketServer } from "ws";

const OPEN = 1;

interface Client {
  ws: WebSocket;
  username: string;
  alias: string;
  rooms: Set<string>;
}

const AUTO_SALON = "Général";
const SALONS = [
  { name: AUTO_SALON, policy: "auto" },
  { name: "Blabla", policy: "open" },
  { name: "Comptabilité", policy: "approval" },
  { name: "Informatique", policy: "approval" },
  { name: "Marketing", policy: "approval" },
];

const rooms = new Map<string, Set<Client>>();
const users = new Map<string, Set<Client>>();
const roomIds = new Map<string, number>();
let directId = 0;

function join(client: Client, room: string): void {
  let set = rooms.get(room);
  if (!set) rooms.set(room, set = new Set());
  set.add(client);
  client.rooms.add(room);
}

function leaveAll(client: Client): void {
  for (const room of client.rooms) rooms.get(room)?.delete(client);
  const mine = users.get(client.username);
  mine?.delete(client);
  if (mine && mine.size === 0) users.delete(client.username);
}

function send(ws: WebSocket, frame: string): void {
  if (ws.readyState === OPEN) ws.send(frame);
}

/**
 * A text frame built once (server frames are not masked): header and UTF-8
 * payload in one buffer, to be written as is to every member's socket.
 */
function frameOnce(text: string): Buffer {
  const payload = Buffer.from(text, "utf8");
  const n = payload.byteLength;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(head + n);
  frame[0] = 0x81;
  if (head === 2) frame[1] = n;
  else if (head === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(0, 2);
    frame.writeUInt32BE(n, 6);
  }
  payload.copy(frame, head);
  return frame;
}

/**
 * Writes a prebuilt frame straight to the socket under `ws`. Safe because
 * nothing is compressed: `ws` writes each frame synchronously, so frames stay
 * in order with the ones sent through `ws.send`.
 */
function sendBuilt(ws: WebSocket, frame: Buffer): void {
  if (ws.readyState !== OPEN) return;
  (ws as unknown as { _socket: Socket })._socket.write(frame);
}

function withRef(frame: Record<string, unknown>, ref: unknown): string {
  if (typeof ref === "string") frame.ref = ref;
  return JSON.stringify(frame);
}

function error(ws: WebSocket, code: string, message: string, ref: unknown): void {
  send(ws, withRef({ type: "error", code, message }, ref));
}

function onFrame(ws: WebSocket, state: { client?: Client }, data: string): void {
  let frame: Record<string, unknown>;
  try {
    frame = JSON.parse(data);
  } catch {
    return error(ws, "invalid", "send one JSON object per text frame", undefined);
  }
  const ref = frame.ref;
  const client = state.client;
  if (!client) {
    if (frame.type !== "hello" || typeof frame.username !== "string") {
      error(ws, "unauthenticated", "send hello first", ref);
      return ws.close(4401, "hello expected");
    }
    const username = frame.username;
    const c: Client = { ws, username, alias: username, rooms: new Set() };
    state.client = c;
    join(c, AUTO_SALON);
    let mine = users.get(username);
    if (!mine) users.set(username, mine = new Set());
    mine.add(c);
    send(
      ws,
      withRef({
        type: "welcome",
        user: { username, alias: username, role: "member" },
        token: "bare",
        salons: SALONS.map((s) => ({
          name: s.name,
          policy: s.policy,
          member: s.policy === "auto",
          pending: false,
          online: rooms.get(s.name)?.size ?? 0,
        })),
        limits: { maxTextLength: 2000, messagesPerSecond: 5 },
      }, ref),
    );
    return;
  }
  switch (frame.type) {
    case "say": {
      const salon = String(frame.salon);
      const members = rooms.get(salon);
      if (!members || !client.rooms.has(salon)) {
        return error(ws, "not_member", `you are not a member of ${salon}`, ref);
      }
      const id = (roomIds.get(salon) ?? 0) + 1;
      roomIds.set(salon, id);
      const at = new Date().toISOString();
      send(ws, withRef({ type: "ok", id, at }, ref));
      const out = JSON.stringify({
        type: "message",
        salon,
        id,
        from: { username: client.username, alias: client.alias },
        text: frame.text,
        at,
      });
      const built = frameOnce(out);
      for (const member of members) sendBuilt(member.ws, built);
      return;
    }
    case "direct": {
      const to = String(frame.to);
      const id = ++directId;
      const at = new Date().toISOString();
      send(ws, withRef({ type: "ok", id, at }, ref));
      const out = JSON.stringify({
        type: "direct",
        id,
        from: { username: client.username, alias: client.alias },
        to: { username: to, alias: to },
        text: frame.text,
        at,
      });
      const built = frameOnce(out);
      for (const c of users.get(client.username) ?? []) sendBuilt(c.ws, built);
      if (to !== client.username) { for (const c of users.get(to) ?? []) sendBuilt(c.ws, built); }
      return;
    }
    case "join": {
      const salon = String(frame.salon);
      join(client, salon);
      send(ws, withRef({ type: "joined", salon }, ref));
      return;
    }
    case "ping":
      send(ws, withRef({ type: "pong" }, ref));
      return;
    default:
      error(ws, "invalid", `unknown type ${String(frame.type)}`, ref);
  }
}

const port = Number(Deno.env.get("BENCH_PORT") ?? "8090");
const hostname = Deno.env.get("BENCH_HOST") ?? "127.0.0.1";

const wss = new WebSocketServer({
  noServer: true,
  maxPayload: 65536,
  perMessageDeflate: false,
  clientTracking: false,
});

const server = createServer((req, res) => {
  if (req.url === "/healthz") {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok");
    return;
  }
  res.writeHead(404, { "content-type": "text/plain" });
  res.end("not found");
});

server.on("upgrade", (req, socket, head) => {
  socket.on("error", () => socket.destroy());
  const path = (req.url ?? "/").split("?")[0];
  if (path !== "/ws" || req.headers.upgrade?.toLowerCase() !== "websocket") {
    socket.end("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
    const state: { client?: Client } = {};
    // Deno.upgradeWebSocket's idleTimeout (30 s): ping, and drop a peer that did not answer.
    let alive = true;
    ws.on("pong", () => alive = true);
    const beat = setInterval(() => {
      if (!alive) return ws.terminate();
      alive = false;
      ws.ping();
    }, 30_000);
    ws.on("message", (data, isBinary) => {
      alive = true;
      if (!isBinary) onFrame(ws, state, (data as Buffer).toString("utf8"));
    });
    ws.on("close", () => {
      clearInterval(beat);
      if (state.client) leaveAll(state.client);
    });
    ws.on("error", () => {});
  });
});

server.listen(port, hostname, () => {
  console.error(`bare node:http + ws baseline listening on ${hostname}:${port}`);
});

// Nothing is kept: just exit.
const stop = () => Deno.exit(0);
Deno.addSignalListener("SIGTERM", stop);
Deno.addSignalListener("SIGINT", stop);
