/**
 * A bare WebSocket client on a TCP socket, for behaviour a browser-grade
 * client hides: never answering pings, never reading.
 *
 * @module
 */

/** A raw client. */
export interface RawWs {
  /** Sends a masked text frame. */
  sendText(text: string): Promise<void>;
  /** Sends one masked frame (a fragment when `fin` is false; opcode 0 continues a message). */
  sendFrame(opcode: number, payload: Uint8Array, fin?: boolean): Promise<void>;
  /** Sends only a frame's header (with its mask) announcing `length` payload bytes. */
  sendHeader(opcode: number, fin: boolean, length: number): Promise<void>;
  /**
   * Reads frames until `stop` returns true for one (or the peer closes);
   * returns every frame read, in order.
   */
  readUntil(
    stop: (frame: RawFrame) => boolean,
    timeoutMs: number,
  ): Promise<{ frames: RawFrame[]; eof: boolean }>;
  /** Closes the TCP connection. */
  close(): void;
}

/** One frame as read from the wire. */
export interface RawFrame {
  /** 1 text, 2 binary, 8 close, 9 ping, 10 pong. */
  opcode: number;
  /** Payload bytes. */
  payload: Uint8Array;
  /** Text of a text frame. */
  text?: string;
  /** Close code of a close frame. */
  closeCode?: number;
}

/** Opens a WebSocket at `ws://127.0.0.1:port/ws` over a plain TCP socket. */
export async function rawConnect(
  port: number,
  extraHeaders: Record<string, string> = {},
): Promise<RawWs> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const request = `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
    `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
    Object.entries(extraHeaders).map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n";
  await writeAll(conn, new TextEncoder().encode(request));
  let buffer: Uint8Array = new Uint8Array(0);
  const chunk = new Uint8Array(64 * 1024);
  // Read the HTTP response head.
  while (true) {
    const n = await conn.read(chunk);
    if (n === null) throw new Error("connection closed during the upgrade");
    buffer = concat(buffer, chunk.subarray(0, n));
    const text = new TextDecoder().decode(buffer);
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) {
      if (!text.startsWith("HTTP/1.1 101")) {
        throw new Error(`upgrade refused: ${text.split("\r\n")[0]}`);
      }
      buffer = buffer.subarray(new TextEncoder().encode(text.slice(0, end + 4)).byteLength);
      break;
    }
  }
  let closed = false;
  return {
    async sendText(text) {
      await writeAll(conn, frameBytes(0x1, true, new TextEncoder().encode(text)));
    },
    async sendFrame(opcode, payload, fin = true) {
      await writeAll(conn, frameBytes(opcode, fin, payload));
    },
    async sendHeader(opcode, fin, length) {
      await writeAll(conn, frameHead(opcode, fin, length));
    },
    async readUntil(stop, timeoutMs) {
      const frames: RawFrame[] = [];
      const deadline = Date.now() + timeoutMs;
      while (true) {
        let parsed = parse(buffer);
        while (parsed) {
          buffer = buffer.subarray(parsed.size);
          frames.push(parsed.frame);
          if (stop(parsed.frame)) return { frames, eof: false };
          parsed = parse(buffer);
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no matching frame within ${timeoutMs} ms`);
        let timer: ReturnType<typeof setTimeout> | undefined;
        const n = await Promise.race([
          conn.read(chunk),
          new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), left)),
        ]).finally(() => clearTimeout(timer));
        if (n === "timeout") throw new Error(`no matching frame within ${timeoutMs} ms`);
        if (n === null) return { frames, eof: true };
        buffer = concat(buffer, chunk.subarray(0, n));
      }
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        conn.close();
      } catch { /* already closed */ }
    },
  };
}

const MASK = new Uint8Array([0x11, 0x22, 0x33, 0x44]);

/** A frame header with the mask bit and {@link MASK}. */
function frameHead(opcode: number, fin: boolean, len: number): Uint8Array {
  const first = (fin ? 0x80 : 0) | opcode;
  const head = len < 126
    ? [first, 0x80 | len]
    : len < 65536
    ? [first, 0x80 | 126, len >> 8, len & 0xff]
    : [
      first,
      0x80 | 127,
      0,
      0,
      Math.floor(len / 2 ** 40) & 0xff,
      Math.floor(len / 2 ** 32) & 0xff,
      (len >>> 24) & 0xff,
      (len >> 16) & 0xff,
      (len >> 8) & 0xff,
      len & 0xff,
    ];
  return concat(new Uint8Array(head), MASK);
}

/** A whole masked frame. */
function frameBytes(opcode: number, fin: boolean, payload: Uint8Array): Uint8Array {
  const head = frameHead(opcode, fin, payload.byteLength);
  const frame = new Uint8Array(head.byteLength + payload.byteLength);
  frame.set(head, 0);
  for (let i = 0; i < payload.byteLength; i++) {
    frame[head.byteLength + i] = payload[i] ^ MASK[i % 4];
  }
  return frame;
}

function parse(buf: Uint8Array): { frame: RawFrame; size: number } | undefined {
  if (buf.byteLength < 2) return undefined;
  const opcode = buf[0] & 0x0f;
  let len = buf[1] & 0x7f;
  let offset = 2;
  if (len === 126) {
    if (buf.byteLength < 4) return undefined;
    len = (buf[2] << 8) | buf[3];
    offset = 4;
  } else if (len === 127) {
    if (buf.byteLength < 10) return undefined;
    len = Number(new DataView(buf.buffer, buf.byteOffset + 2, 8).getBigUint64(0));
    offset = 10;
  }
  if (buf.byteLength < offset + len) return undefined;
  const payload = buf.slice(offset, offset + len);
  const frame: RawFrame = { opcode, payload };
  if (opcode === 1) frame.text = new TextDecoder().decode(payload);
  if (opcode === 8 && payload.byteLength >= 2) frame.closeCode = (payload[0] << 8) | payload[1];
  return { frame, size: offset + len };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let written = 0;
  while (written < data.byteLength) written += await conn.write(data.subarray(written));
}

/**
 * Reads until the server ends the connection: `"closed"` (FIN), `"reset"`
 * (RST: a server that closes with unread data in its socket resets it), or
 * `"open"` after `timeoutMs`.
 */
export function connectionEnd(raw: RawWs, timeoutMs: number): Promise<string> {
  return raw.readUntil(() => false, timeoutMs).then(
    ({ eof }) => eof ? "closed" : "open",
    (e: Error) =>
      e instanceof Deno.errors.ConnectionReset
        ? "reset"
        : e.message.startsWith("no matching frame")
        ? "open"
        : e.message,
  );
}
