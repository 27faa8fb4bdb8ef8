/**
 * What most people would pick instead: a Node.js socket.io server with rooms,
 * doing what the benchmark asks of Causerie, with no persistence, no
 * authentication and no rate limit. WebSocket transport only (no polling
 * upgrade dance), no per-message deflate. Acknowledgements use socket.io's own
 * acks; messages go out with `io.to(room).emit`, encoded once per broadcast.
 *
 * Events: connect with `auth: {username}` (joins room "Général" and
 * `user:<name>`), `join(salon, ack)`, `say({salon, text}, ack)` -> ack `{id, at}`
 * + `message` to the room, `direct({to, text}, ack)` -> ack + `direct` to both
 * users' rooms.
 *
 * Run: `node server.mjs` (`BENCH_PORT`, default 8091; `BENCH_HOST`, default 127.0.0.1).
 */

import { createServer } from "node:http";
import process from "node:process";
import { Server } from "socket.io";

const AUTO_SALON = "Général";
const port = Number(process.env.BENCH_PORT ?? "8091");
const host = process.env.BENCH_HOST ?? "127.0.0.1";

const httpServer = createServer((req, res) => {
  if (req.url === "/healthz") {
    res.writeHead(200).end("ok");
    return;
  }
  res.writeHead(404).end("not found");
});

const io = new Server(httpServer, {
  transports: ["websocket"],
  serveClient: false,
  perMessageDeflate: false,
  maxHttpBufferSize: 64 * 1024,
  cors: undefined,
});

const roomIds = new Map();
let directId = 0;

io.on("connection", (socket) => {
  const username = String(socket.handshake.auth?.username ?? socket.id);
  const from = { username, alias: username };
  socket.join(AUTO_SALON);
  socket.join(`user:${username}`);

  socket.on("join", (salon, ack) => {
    socket.join(String(salon));
    if (typeof ack === "function") ack({ salon });
  });

  socket.on("say", (frame, ack) => {
    const salon = String(frame?.salon);
    if (!socket.rooms.has(salon)) {
      if (typeof ack === "function") ack({ error: "not_member" });
      return;
    }
    const id = (roomIds.get(salon) ?? 0) + 1;
    roomIds.set(salon, id);
    const at = new Date().toISOString();
    if (typeof ack === "function") ack({ id, at });
    io.to(salon).emit("message", { salon, id, from, text: frame.text, at });
  });

  socket.on("direct", (frame, ack) => {
    const to = String(frame?.to);
    const id = ++directId;
    const at = new Date().toISOString();
    if (typeof ack === "function") ack({ id, at });
    io.to(`user:${username}`).to(`user:${to}`).emit("direct", {
      id,
      from,
      to: { username: to, alias: to },
      text: frame.text,
      at,
    });
  });
});

httpServer.listen(port, host, () => {
  console.error(`socket.io baseline listening on ${host}:${port}`);
});

const stop = () => process.exit(0);
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
