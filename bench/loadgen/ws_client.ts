/**
 * A minimal WebSocket client on a raw TCP socket (RFC 6455, text frames
 * only, no extensions), lean enough to hold thousands of sessions in the load
 * generator: one read buffer per socket, frames parsed in place, payloads
 * handed out as byte views (no string decoding unless the caller asks).
 *
 * @module
 */

import { createConnection, type Socket } from "node:net";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Called for each text frame; `payload` is only valid during the call. */
export type TextHandler = (payload: Uint8Array, socket: WsClient) => void;

/** Options of {@link WsClient.open}. */
export interface OpenOptions {
  /** Host to connect to (always a loopback address here). */
  hostname: string;
  /** TCP port. */
  port: number;
  /** Request path, with its query string. */
  path: string;
  /** Initial read buffer size in bytes (grows for larger frames, shrinks back). */
  bufferSize?: number;
  /** Gives up on the TCP connect plus the upgrade after this many ms (default 10 s). */
  timeoutMs?: number;
  /**
   * Local (source) address to bind, e.g. `127.0.1.7`: the server sees the
   * connection coming from there. Uses node:net (Deno.connect cannot bind).
   */
  localAddress?: string;
}

/** The byte stream under a client: a Deno TCP connection or a node:net socket. */
export interface Transport {
  /** Reads into `buf`; null at the end of the stream. */
  read(buf: Uint8Array): Promise<number | null>;
  /** Writes some of `bytes`; resolves with how many were taken. */
  write(bytes: Uint8Array): Promise<number>;
  /** Closes at once. */
  close(): void;
}

/** A node:net socket as a {@link Transport} (only to bind a source address). */
class NodeTransport implements Transport {
  readonly #socket: Socket;
  #chunks: Uint8Array[] = [];
  #wake: (() => void) | undefined;
  #ended = false;

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on("data", (b: Uint8Array) => {
      this.#chunks.push(b);
      this.#notify();
    });
    const end = () => {
      this.#ended = true;
      this.#notify();
    };
    socket.on("end", end);
    socket.on("close", end);
    socket.on("error", end);
  }

  static connect(hostname: string, port: number, localAddress: string): Promise<NodeTransport> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ host: hostname, port, localAddress });
      socket.once("connect", () => resolve(new NodeTransport(socket)));
      socket.once("error", reject);
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async read(buf: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#ended) return null;
      await new Promise<void>((r) => this.#wake = r);
    }
    let n = 0;
    while (this.#chunks.length > 0 && n < buf.byteLength) {
      const c = this.#chunks[0];
      const take = Math.min(c.byteLength, buf.byteLength - n);
      buf.set(c.subarray(0, take), n);
      n += take;
      if (take === c.byteLength) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(take);
    }
    return n;
  }

  write(bytes: Uint8Array): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#socket.write(bytes, (err) => err ? reject(err) : resolve(bytes.byteLength));
    });
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** Decodes a payload view as UTF-8 text. */
export function textOf(payload: Uint8Array): string {
  return decoder.decode(payload);
}

/** A connected WebSocket client. */
export class WsClient {
  readonly #conn: Transport;
  #buf: Uint8Array;
  #len: number;
  readonly #small: number;
  readonly #mask: Uint8Array;
  #queue: Uint8Array[] = [];
  #writing = false;
  #fragments: Uint8Array[] | undefined;
  /** Text frame handler (set by the owner after open). */
  onText: TextHandler = () => {};
  /** Called once when the connection ends, for whatever reason. */
  onClose: (socket: WsClient, code: number | undefined) => void = () => {};
  /** Whether the connection has ended. */
  closed = false;
  /** Close code received from the server, if any. */
  closeCode: number | undefined;
  /** Free slot for the owner's per-connection state. */
  tag: unknown = undefined;
  /**
   * Pause between reads, ms (0: read as soon as data comes). A lazy reader
   * takes several frames per read, which makes thousands of receivers cheap
   * for the load generator; its frames are counted, not timed.
   */
  readDelayMs = 0;

  private constructor(conn: Transport, leftover: Uint8Array, bufferSize: number) {
    this.#conn = conn;
    this.#small = bufferSize;
    this.#buf = new Uint8Array(Math.max(bufferSize, leftover.byteLength * 2));
    this.#buf.set(leftover, 0);
    this.#len = leftover.byteLength;
    this.#mask = crypto.getRandomValues(new Uint8Array(4));
  }

  /** Connects and performs the HTTP upgrade; frames are read from then on. */
  static async open(opts: OpenOptions): Promise<WsClient> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let conn: Transport | undefined;
    const work = (async () => {
      let c: Transport;
      if (opts.localAddress) {
        c = await NodeTransport.connect(opts.hostname, opts.port, opts.localAddress);
      } else {
        const tcp = await Deno.connect({ hostname: opts.hostname, port: opts.port });
        tcp.setNoDelay(true);
        c = tcp;
      }
      conn = c;
      const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
      await writeAll(
        c,
        encoder.encode(
          `GET ${opts.path} HTTP/1.1\r\nHost: ${opts.hostname}:${opts.port}\r\n` +
            `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
            `Sec-WebSocket-Version: 13\r\n\r\n`,
        ),
      );
      let head = new Uint8Array(4096);
      let len = 0;
      for (let reads = 0; reads < 64; reads++) {
        if (len === head.byteLength) {
          const bigger = new Uint8Array(head.byteLength * 2);
          bigger.set(head);
          head = bigger;
        }
        const n = await c.read(head.subarray(len));
        if (n === null) throw new Error("connection closed during the WebSocket upgrade");
        len += n;
        const end = indexOfHeadEnd(head, len);
        if (end >= 0) {
          const status = decoder.decode(head.subarray(0, Math.min(end, 200))).split("\r\n")[0];
          if (!status.startsWith("HTTP/1.1 101")) throw new Error(`upgrade refused: ${status}`);
          return new WsClient(c, head.slice(end + 4, len), opts.bufferSize ?? 16 * 1024);
        }
      }
      throw new Error("WebSocket upgrade answer too long");
    })();
    try {
      return await Promise.race([
        work,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no WebSocket upgrade within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } catch (e) {
      try {
        conn?.close();
      } catch { /* already closed */ }
      work.catch(() => {});
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts the read loop; resolves when the connection ends. */
  async run(): Promise<void> {
    try {
      // Frames that came with the upgrade answer (socket.io's open packet does).
      if (this.#len > 0) this.#parse();
      while (!this.closed) {
        if (this.#len === this.#buf.byteLength) this.#grow(this.#buf.byteLength * 2);
        const n = await this.#conn.read(this.#buf.subarray(this.#len));
        if (n === null) break;
        this.#len += n;
        this.#parse();
        if (this.readDelayMs > 0) await new Promise((r) => setTimeout(r, this.readDelayMs));
      }
    } catch {
      // reset by peer or closed locally: the end of the connection either way
    }
    this.#end();
  }

  #grow(size: number): void {
    const bigger = new Uint8Array(size);
    bigger.set(this.#buf.subarray(0, this.#len));
    this.#buf = bigger;
  }

  #parse(): void {
    const buf = this.#buf;
    const len = this.#len;
    let off = 0;
    while (len - off >= 2) {
      const b0 = buf[off];
      let plen = buf[off + 1] & 0x7f;
      let hdr = 2;
      if (plen === 126) {
        if (len - off < 4) break;
        plen = (buf[off + 2] << 8) | buf[off + 3];
        hdr = 4;
      } else if (plen === 127) {
        if (len - off < 10) break;
        plen = (buf[off + 6] * 2 ** 24) + (buf[off + 7] << 16) + (buf[off + 8] << 8) +
          buf[off + 9];
        hdr = 10;
      }
      if (len - off < hdr + plen) {
        if (hdr + plen > buf.byteLength) {
          // Make room for the whole frame after compaction.
          buf.copyWithin(0, off, len);
          this.#len = len - off;
          this.#grow(nextPow2(hdr + plen));
          return;
        }
        break;
      }
      const opcode = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      const payload = buf.subarray(off + hdr, off + hdr + plen);
      off += hdr + plen;
      if (opcode === 1 || opcode === 0) {
        if (fin && this.#fragments === undefined) {
          this.onText(payload, this);
        } else {
          (this.#fragments ??= []).push(payload.slice());
          if (fin) {
            const whole = concat(this.#fragments);
            this.#fragments = undefined;
            this.onText(whole, this);
          }
        }
      } else if (opcode === 9) {
        this.#sendFrame(0x8a, payload.slice());
      } else if (opcode === 8) {
        this.closeCode = plen >= 2 ? (payload[0] << 8) | payload[1] : 1005;
        this.#sendFrame(0x88, payload.slice(0, 2));
        this.closed = true;
        break;
      }
    }
    if (off > 0) {
      buf.copyWithin(0, off, len);
      this.#len = len - off;
    }
    if (this.#buf.byteLength > this.#small * 4 && this.#len <= this.#small) {
      const small = new Uint8Array(this.#small);
      small.set(this.#buf.subarray(0, this.#len));
      this.#buf = small;
    }
  }

  /** Sends one text frame (masked, as a client must). Never throws. */
  send(text: string): void {
    if (this.closed) return;
    // Room for the longest header (10) and the mask (4) before the payload,
    // and at most 3 bytes of UTF-8 per UTF-16 unit.
    const frame = new Uint8Array(14 + text.length * 3);
    const { written } = encoder.encodeInto(text, frame.subarray(14));
    const h = written < 126 ? 2 : written < 65536 ? 4 : 10;
    const start = 10 - h;
    frame[start] = 0x81;
    if (h === 2) frame[start + 1] = 0x80 | written;
    else if (h === 4) {
      frame[start + 1] = 0x80 | 126;
      frame[start + 2] = written >> 8;
      frame[start + 3] = written & 0xff;
    } else {
      frame[start + 1] = 0x80 | 127;
      frame[start + 6] = (written >>> 24) & 0xff;
      frame[start + 7] = (written >> 16) & 0xff;
      frame[start + 8] = (written >> 8) & 0xff;
      frame[start + 9] = written & 0xff;
    }
    const m = this.#mask;
    frame.set(m, 10);
    const body = frame.subarray(14, 14 + written);
    for (let i = 0; i < written; i++) body[i] ^= m[i & 3];
    this.#write(frame.subarray(start, 14 + written));
  }

  #sendFrame(first: number, payload: Uint8Array): void {
    const frame = new Uint8Array(6 + payload.byteLength);
    frame[0] = first;
    frame[1] = 0x80 | payload.byteLength;
    frame.set(this.#mask, 2);
    for (let i = 0; i < payload.byteLength; i++) frame[6 + i] = payload[i] ^ this.#mask[i & 3];
    this.#write(frame);
  }

  #write(bytes: Uint8Array): void {
    this.#queue.push(bytes);
    if (!this.#writing) this.#flush();
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0) {
        const chunk = this.#queue.length === 1 ? this.#queue[0] : concat(this.#queue);
        this.#queue = [];
        await writeAll(this.#conn, chunk);
      }
    } catch {
      this.#end();
    } finally {
      this.#writing = false;
    }
  }

  /** Closes the TCP connection at once (no closing handshake: cheap for thousands). */
  close(): void {
    this.#end();
  }

  #end(): void {
    const first = !this.#ended;
    this.#ended = true;
    this.closed = true;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    if (first) this.onClose(this, this.closeCode);
  }

  #ended = false;
}

function indexOfHeadEnd(buf: Uint8Array, len: number): number {
  for (let i = 3; i < len; i++) {
    if (buf[i] === 10 && buf[i - 1] === 13 && buf[i - 2] === 10 && buf[i - 3] === 13) return i - 3;
  }
  return -1;
}

function nextPow2(n: number): number {
  let p = 1024;
  while (p < n) p *= 2;
  return p;
}

function concat(parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.byteLength;
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

async function writeAll(conn: Transport, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.byteLength) off += await conn.write(bytes.subarray(off));
}
