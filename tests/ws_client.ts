/**
 * A small WebSocket test client and a real server for the integration tests
 * of the real-time protocol (PROTOCOL.md section 2).
 *
 * The client collects every frame it receives; {@link TestClient.next} hands
 * out the first frame not yet handed out that matches a predicate, waiting
 * for it when it has not arrived yet. Nothing here sleeps: every wait is for
 * a frame or a close, with a timeout that fails the test with the frames
 * received so far.
 *
 * @module
 */

import { silentSecurityLog } from "../lib/security_log.ts";
import assert from "node:assert/strict";
import { loadConfig } from "../config/config.ts";
import { type Logger, silentLogger } from "../lib/log.ts";
import { type RunningServer, start, type StartOptions } from "../main.ts";

/** A decoded server frame; tests check the fields they expect. */
// deno-lint-ignore no-explicit-any -- frames are checked field by field by the tests
export type Frame = { type: string; [field: string]: any };

/** How a socket closed. */
export interface CloseInfo {
  /** WebSocket close code (1006 when the connection dropped without a close frame). */
  code: number;
  /** Close reason sent by the peer. */
  reason: string;
}

/** Default wait for a frame or a close, ms. Generous: a failing wait reports what arrived. */
export const WAIT_MS = 10_000;

interface Waiter {
  predicate: (frame: Frame) => boolean;
  resolve: (frame: Frame) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
  what: string;
}

/** Matches frames of one type. */
export function ofType(type: string): (frame: Frame) => boolean {
  return (f) => f.type === type;
}

/** Matches frames carrying this ref. */
export function withRef(ref: string): (frame: Frame) => boolean {
  return (f) => f.ref === ref;
}

function show(frames: Frame[]): string {
  const tail = frames.slice(-12).map((f) => {
    const s = JSON.stringify(f);
    return s.length > 300 ? `${s.slice(0, 300)}...` : s;
  });
  return `${frames.length} frame(s) received${frames.length > 12 ? ", the last 12" : ""}:\n  ${
    tail.join("\n  ")
  }`;
}

/** One WebSocket connection to the server. */
export class TestClient {
  /** Every frame received, in order. */
  readonly frames: Frame[] = [];
  /** Resolves when the socket has closed, with the code and reason. */
  readonly closed: Promise<CloseInfo>;
  readonly #ws: WebSocket;
  readonly #unread: Frame[] = [];
  readonly #waiters: Waiter[] = [];
  #closeInfo: CloseInfo | undefined;
  #refs = 0;
  readonly #name: string;

  private constructor(ws: WebSocket, name: string) {
    this.#ws = ws;
    this.#name = name;
    const closed = Promise.withResolvers<CloseInfo>();
    this.closed = closed.promise;
    ws.addEventListener("message", (e) => this.#receive(e.data));
    ws.addEventListener("error", () => {/* the close event follows */});
    ws.addEventListener("close", (e) => {
      this.#closeInfo = { code: e.code, reason: e.reason };
      for (const w of this.#waiters.splice(0)) {
        clearTimeout(w.timer);
        w.reject(
          new Error(
            `${this.#name}: socket closed (${e.code} ${e.reason}) while waiting for ${w.what}; ${
              show(this.frames)
            }`,
          ),
        );
      }
      closed.resolve(this.#closeInfo);
    });
  }

  /** Opens a socket to `url` and waits until it is open. */
  static connect(url: string, name = "client", timeoutMs = WAIT_MS): Promise<TestClient> {
    return TestClient.open(new WebSocket(url), name, timeoutMs, url);
  }

  /**
   * Waits until `ws`, a socket being opened, is open: a browser-style
   * `WebSocket`, or one of npm `ws` (which can send headers and reach a Unix
   * socket).
   */
  static async open(
    ws: WebSocket,
    name = "client",
    timeoutMs = WAIT_MS,
    url = ws.url,
  ): Promise<TestClient> {
    const client = new TestClient(ws, name);
    const opened = Promise.withResolvers<void>();
    const onOpen = () => opened.resolve();
    ws.addEventListener("open", onOpen);
    const timer = setTimeout(
      () => opened.reject(new Error(`${name}: ${url} did not open in ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      await Promise.race([
        opened.promise,
        client.closed.then((c) => {
          throw new Error(`${name}: ${url} closed before opening (${c.code} ${c.reason})`);
        }),
      ]);
    } catch (e) {
      await client.close();
      throw e;
    } finally {
      clearTimeout(timer);
      ws.removeEventListener("open", onOpen);
    }
    return client;
  }

  /** Whether the socket is open. */
  get isOpen(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  /** The close code and reason, once closed. */
  get closeInfo(): CloseInfo | undefined {
    return this.#closeInfo;
  }

  /** Sends one JSON frame. */
  send(frame: unknown): void {
    this.#ws.send(JSON.stringify(frame));
  }

  /** Sends a text or binary frame verbatim. */
  sendRaw(data: string | Uint8Array<ArrayBuffer>): void {
    this.#ws.send(data);
  }

  /** A ref unique within this client. */
  ref(prefix = "r"): string {
    return `${prefix}${++this.#refs}`;
  }

  /**
   * Resolves with the first received frame, not handed out before, that
   * matches; waits up to `timeoutMs` for it. Rejects on timeout or close.
   */
  next(
    predicate: (frame: Frame) => boolean,
    timeoutMs = WAIT_MS,
    what = "a matching frame",
  ): Promise<Frame> {
    const i = this.#unread.findIndex(predicate);
    if (i >= 0) return Promise.resolve(this.#unread.splice(i, 1)[0]);
    if (this.#closeInfo) {
      const c = this.#closeInfo;
      return Promise.reject(
        new Error(
          `${this.#name}: socket closed (${c.code} ${c.reason}) before ${what}; ${
            show(this.frames)
          }`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve,
        reject,
        what,
        timer: setTimeout(() => {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          reject(
            new Error(`${this.#name}: no ${what} within ${timeoutMs} ms; ${show(this.frames)}`),
          );
        }, timeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  /** The next frame of this type. */
  nextOfType(type: string, timeoutMs = WAIT_MS): Promise<Frame> {
    return this.next(ofType(type), timeoutMs, `a "${type}" frame`);
  }

  /**
   * Sends `frame` with a fresh `ref` (unless it has one) and resolves with
   * the first frame echoing that ref.
   */
  request(frame: Record<string, unknown>, timeoutMs = WAIT_MS): Promise<Frame> {
    const ref = typeof frame.ref === "string" ? frame.ref : this.ref();
    this.send({ ...frame, ref });
    return this.next(withRef(ref), timeoutMs, `the reply to ${JSON.stringify(frame.type)} ${ref}`);
  }

  /** Received frames not handed out by {@link next} yet. */
  unread(): Frame[] {
    return [...this.#unread];
  }

  /** Resolves with the close code and reason, failing after `timeoutMs`. */
  async waitClosed(timeoutMs = WAIT_MS): Promise<CloseInfo> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`${this.#name}: not closed within ${timeoutMs} ms; ${show(this.frames)}`),
          ),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the socket (if still open) and waits for the close event. */
  async close(): Promise<CloseInfo> {
    if (!this.#closeInfo) {
      try {
        this.#ws.close(1000, "test done");
      } catch { /* already closing */ }
    }
    return await this.closed;
  }

  #receive(data: unknown): void {
    let frame: Frame;
    if (typeof data !== "string") {
      frame = { type: "__binary__" };
    } else {
      try {
        frame = JSON.parse(data);
      } catch {
        frame = { type: "__unparsable__", data };
      }
    }
    this.frames.push(frame);
    const w = this.#waiters.findIndex((waiter) => waiter.predicate(frame));
    if (w >= 0) {
      const [waiter] = this.#waiters.splice(w, 1);
      clearTimeout(waiter.timer);
      waiter.resolve(frame);
      return;
    }
    this.#unread.push(frame);
  }
}

/** Opens a socket to `url` and waits until it is open. */
export function connect(url: string, name?: string): Promise<TestClient> {
  return TestClient.connect(url, name);
}

/** A real server on a free port, with every client opened through it tracked. */
export interface TestServer {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** `ws://127.0.0.1:PORT/ws`. */
  wsUrl: string;
  /** The running server (store, hub). */
  server: RunningServer;
  /** Opens a socket to `/ws` that {@link TestServer.stop} will close if still open. */
  connect(name?: string): Promise<TestClient>;
  /** Closes every tracked client still open, then stops the server. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts `main.ts` `start()` with `silentLogger` (or `opts.log`) on a free
 * port of 127.0.0.1 over an in-memory SQLite database, unless `env` says
 * otherwise.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  opts: StartOptions & { log?: Logger } = {},
): Promise<TestServer> {
  const config = loadConfig({
    CAUSERIE_HOST: "127.0.0.1",
    CAUSERIE_PORT: "0",
    CAUSERIE_DB: "sqlite::memory:",
    // Tests register many users from 127.0.0.1; the registration limits have tests of their own.
    CAUSERIE_REGISTER_PER_ADDRESS_PER_HOUR: "0",
    CAUSERIE_REGISTER_PER_MINUTE: "0",
    ...env,
  });
  // No admin socket unless a test asks for one: servers of parallel tests must not share a path.
  // Nor a security log on stderr unless a test hands one in.
  const { log = silentLogger, ...startOpts } = opts;
  const server = await start(config, log, {
    adminSocket: false,
    securityLog: silentSecurityLog,
    ...startOpts,
  });
  const url = `http://127.0.0.1:${server.port}`;
  const wsUrl = `ws://127.0.0.1:${server.port}/ws`;
  const clients: TestClient[] = [];
  let stopping: Promise<void> | undefined;
  return {
    url,
    wsUrl,
    server,
    async connect(name) {
      const client = await TestClient.connect(wsUrl, name);
      clients.push(client);
      return client;
    },
    stop() {
      stopping ??= (async () => {
        await Promise.all(clients.map((c) => c.close()));
        await server.stop();
      })();
      return stopping;
    },
  };
}

/** A JSON HTTP call; the body is always consumed. */
export async function http(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: Frame | null; text: string }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: Frame | null = null;
  if (text !== "") {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** Registers over HTTP; throws unless 201. */
export async function registerHttp(
  url: string,
  username: string,
  alias: string,
  password: string,
): Promise<void> {
  const res = await http(url, "POST", "/api/register", { username, alias, password });
  if (res.status !== 201) throw new Error(`register ${username}: ${res.status} ${res.text}`);
}

/** Logs in over HTTP; throws unless 200; returns the token. */
export async function loginHttp(url: string, username: string, password: string): Promise<string> {
  const res = await http(url, "POST", "/api/login", { username, password });
  if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${res.text}`);
  return res.body!.token as string;
}

/**
 * Connects and sends `hello` (or `register` when `hello.type` says so),
 * resolving with the client and its `welcome`; fails with the server's
 * answer when it is not a welcome.
 */
export async function session(
  srv: TestServer,
  hello: Record<string, unknown>,
  name?: string,
): Promise<{ client: TestClient; welcome: Frame }> {
  const client = await srv.connect(name ?? String(hello.username ?? "client"));
  client.send({ type: "hello", ...hello });
  const reply = await client.next(
    (f) => f.type === "welcome" || f.type === "error",
    WAIT_MS,
    "welcome",
  );
  if (reply.type !== "welcome") {
    await client.close();
    throw new Error(`hello refused: ${JSON.stringify(reply)}`);
  }
  return { client, welcome: reply };
}

/**
 * Asserts an `error` frame: exactly `{type, ref?, code, message}` (plus
 * `until` when `withUntil`), with this code, this ref (absent when
 * `undefined`) and a non-empty message.
 */
export function assertErrorFrame(
  frame: Frame,
  code: string,
  ref: string | undefined,
  opts: { withUntil?: boolean } = {},
): void {
  const where = JSON.stringify(frame);
  assert.equal(frame.type, "error", where);
  assert.equal(frame.code, code, where);
  const keys = ["type", "code", "message"];
  if (ref !== undefined) keys.push("ref");
  if (opts.withUntil) keys.push("until");
  assert.deepEqual(Object.keys(frame).sort(), keys.sort(), where);
  assert.equal(frame.ref, ref, where);
  assert.equal(typeof frame.message, "string", where);
  assert.ok(frame.message.trim().length > 0, where);
}

/** Sends a ping with a fresh ref and waits for its pong: the socket is open and served. */
export async function assertServed(client: TestClient): Promise<void> {
  const ref = client.ref("alive");
  client.send({ type: "ping", ref });
  const pong = await client.next(withRef(ref), WAIT_MS, `pong ${ref}`);
  assert.deepEqual(pong, { type: "pong", ref });
}
