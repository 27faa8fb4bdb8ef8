/**
 * What one attacking address can cost: starts `deno run -A main.ts` with the
 * default limits (in-memory SQLite, a free port), then repeats, from
 * 127.0.0.1, three attacks that send no valid hello, and prints the server's
 * RSS after each: 300 connections with 15 KiB of unfinished headers; 8
 * WebSockets holding unfinished 60 KB messages plus 230 unfinished 16 KiB
 * bodies; six 60 MiB frame headers followed by 1 MiB each.
 *
 * Usage: deno run -A bench/attack_rss.ts [rounds]   (default 8). Results: docs/operations.md.
 *
 * @module
 */

const rounds = Number(Deno.args[0] ?? 8);
const port = 20000 + Math.floor(Math.random() * 20000);
const server = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", "main.ts"],
  cwd: new URL("..", import.meta.url),
  env: {
    CAUSERIE_PORT: String(port),
    CAUSERIE_DB: "sqlite::memory:",
    CAUSERIE_ADMIN_SOCKET: `data/attack-${port}.sock`,
    CAUSERIE_SECURITY_LOG: "off",
    CAUSERIE_LOG_LEVEL: "error",
  },
  stdout: "null",
  stderr: "inherit",
}).spawn();
const pid = server.pid;
for (let i = 0; i < 100; i++) {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    break;
  } catch {
    await new Promise((r) => setTimeout(r, 100));
  }
}
const rss = () => {
  const s = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(s)![1]) / 1024;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
await sleep(500);
const base = rss();
console.log(`baseline RSS ${base.toFixed(1)} MB`);
for (let round = 1; round <= rounds; round++) {
  console.log(`round ${round}`);
  const conns: Deno.Conn[] = [];
  const enc = new TextEncoder();
  // 1. Up to 256 connections with half-sent headers (15 KiB each).
  let opened = 0;
  for (let i = 0; i < 300; i++) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      conns.push(c);
      await c.write(
        enc.encode(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ${"a".repeat(15 * 1024)}`),
      ).catch(() => {});
      opened++;
    } catch {
      break;
    }
  }
  await sleep(1500);
  console.log(
    `after ${opened} connections with 15 KiB of unfinished headers: RSS ${rss().toFixed(1)} MB (+${
      (rss() - base).toFixed(1)
    })`,
  );
  for (const c of conns.splice(0)) c.close();
  await sleep(1000);
  // 2. The pre-welcome WebSocket cap: 8 upgrades, each sending an unfinished 64 KiB fragmented message,
  // then POSTs with 16 KiB bodies on the remaining connections.
  const head = function (opcode: number, fin: boolean, len: number) {
    const h = len < 126
      ? [(fin ? 0x80 : 0) | opcode, 0x80 | len]
      : [(fin ? 0x80 : 0) | opcode, 0x80 | 126, len >> 8, len & 255];
    return new Uint8Array([...h, 0, 0, 0, 0]);
  };
  let upgraded = 0;
  for (let i = 0; i < 20; i++) {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    conns.push(c);
    const key = btoa("0123456789abcdef");
    await c.write(
      enc.encode(
        `GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    const buf = new Uint8Array(1024);
    const n = await c.read(buf);
    if (n && new TextDecoder().decode(buf.subarray(0, n)).startsWith("HTTP/1.1 101")) {
      upgraded++;
      await c.write(head(1, false, 60000)).catch(() => {});
      await c.write(new Uint8Array(60000)).catch(() => {});
    }
  }
  for (let i = 0; i < 230; i++) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      conns.push(c);
      await c.write(
        enc.encode(
          `POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 16384\r\n\r\n${
            "[".repeat(16000)
          }`,
        ),
      ).catch(() => {});
    } catch {
      break;
    }
  }
  await sleep(1500);
  console.log(
    `after ${upgraded} pre-welcome sockets holding 60 KB unfinished messages + 230 unfinished 16 KiB bodies: RSS ${
      rss().toFixed(1)
    } MB (+${(rss() - base).toFixed(1)})`,
  );
  for (const c of conns.splice(0)) c.close();
  await sleep(1000);
  // 3. Six 60 MiB frame headers (refused from the header) and a 200 MiB fragmented message.
  for (let i = 0; i < 6; i++) {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    conns.push(c);
    await c.write(
      enc.encode(
        `GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${
          btoa("0123456789abcdef")
        }\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    await c.read(new Uint8Array(1024));
    const h = new Uint8Array([0x81, 0x80 | 127, 0, 0, 0, 0, 0x03, 0xc0, 0, 0, 0, 0, 0, 0]);
    await c.write(h).catch(() => {});
    await c.write(new Uint8Array(1024 * 1024)).catch(() => {});
  }
  await sleep(1500);
  console.log(
    `after six 60 MiB frames: RSS ${rss().toFixed(1)} MB (+${(rss() - base).toFixed(1)})`,
  );
  for (const c of conns.splice(0)) c.close();
  await sleep(500);
}
console.log(`at the end: RSS ${rss().toFixed(1)} MB`);
server.kill("SIGKILL");
await server.status;
