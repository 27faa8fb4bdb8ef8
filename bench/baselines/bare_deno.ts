/**
 * The runtime's limit: a bare `Deno.serve` + `Deno.upgradeWebSocket` chat
 * server speaking the same frames as Causerie for what the benchmark uses
 * (`hello` -> `welcome`, `join` -> `joined`, `say` -> `ok` + `message` to the
 * room, `direct` -> `ok` + `direct` to both sides, `ping` -> `pong`), with no
 * persistence, no authentication, no rate limit and no actors. A message is
 * serialized once and the same string is written to every socket of the room,
 * as Causerie does.
 *
 * Run: `deno run --allow-net --allow-env bench/baselines/bare_deno.ts`
 * (`BENCH_PORT`, default 8090; `BENCH_HOST`, default 127.0.0.1).
 *
 * @module
 */

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
  if (ws.readyState === WebSocket.OPEN) ws.send(frame);
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
      for (const member of members) send(member.ws, out);
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
      for (const c of users.get(client.username) ?? []) send(c.ws, out);
      if (to !== client.username) { for (const c of users.get(to) ?? []) send(c.ws, out); }
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

const server = Deno.serve({
  hostname,
  port,
  onListen: (addr) => console.error(`bare baseline listening on ${addr.hostname}:${addr.port}`),
}, (req) => {
  const url = new URL(req.url);
  if (url.pathname === "/healthz") return new Response("ok");
  if (url.pathname !== "/ws" || req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return new Response("not found", { status: 404 });
  }
  const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 30 });
  const state: { client?: Client } = {};
  socket.onmessage = (e) => {
    if (typeof e.data === "string") onFrame(socket, state, e.data);
  };
  socket.onclose = () => {
    if (state.client) leaveAll(state.client);
  };
  socket.onerror = () => {};
  return response;
});

// Upgraded sockets would keep a graceful shutdown waiting: nothing is kept, so just exit.
const stop = () => Deno.exit(0);
void server;
Deno.addSignalListener("SIGTERM", stop);
Deno.addSignalListener("SIGINT", stop);
