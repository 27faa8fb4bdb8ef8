/**
 * The shutdown countdown end to end, with real processes (PROTOCOL.md
 * sections 2.3, 2.4, 3 and 4): started by SIGTERM, by `POST /admin/shutdown`
 * and by the admin CLI; `shutdown` 3, 2, 1 to connected clients, who go on
 * chatting while new connections are refused; close 1001 at zero, exit 0;
 * after a restart on the same database, whatever got `ok` is there and
 * whatever did not is not. Also: a second signal skips to the drain,
 * `DELETE /admin/shutdown` cancels, a late hello is refused with 1001.
 *
 * Nothing sleeps: every wait is for a frame, a close or a process exit.
 *
 * @module
 */

import assert from "node:assert/strict";
import { childEnv, ROOT, type Server, startServer } from "./server_process.ts";
import { type Frame, TestClient } from "./ws_client.ts";

const SALON = "Général";
/** Wait for one frame, a close or an exit; generous for a loaded machine. */
const WAIT = 20_000;
/** Interval between two chatter `say` frames, ms (the sender's cadence, not a sleep). */
const CHATTER_MS = 4;

/** Rejects with `what` when `promise` takes longer than `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits for the child to exit (failing after {@link WAIT}). */
function exited(server: Server) {
  return within(server.finished(), WAIT, "the server process to exit");
}

/** Runs the admin CLI to completion. */
async function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "cli/main.ts", ...args],
    cwd: ROOT,
    env: childEnv(env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const guard = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, 30_000);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    clearTimeout(guard);
  }
}

/** A JSON HTTP call; the body is always consumed. */
async function http(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: Frame | null; text: string }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: Frame | null = null;
  try {
    parsed = text === "" ? null : JSON.parse(text);
  } catch {
    parsed = null;
  }
  return { status: res.status, body: parsed, text };
}

async function register(url: string, username: string, alias: string, password: string) {
  const res = await http(url, "POST", "/api/register", { username, alias, password });
  assert.equal(res.status, 201, res.text);
}

async function login(url: string, username: string, password: string): Promise<string> {
  const res = await http(url, "POST", "/api/login", { username, password });
  assert.equal(res.status, 200, res.text);
  return res.body!.token as string;
}

/**
 * A real WebSocket upgrade request on a bare TCP socket (Connection:
 * close); resolves with the HTTP status of the answer.
 */
async function upgradeStatus(port: number): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    const request = new TextEncoder().encode(
      `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    let written = 0;
    while (written < request.byteLength) written += await conn.write(request.subarray(written));
    let head = "";
    const chunk = new Uint8Array(4096);
    const decoder = new TextDecoder();
    while (!head.includes("\r\n")) {
      const n = await within(conn.read(chunk), WAIT, "the answer to a WebSocket upgrade");
      if (n === null) break;
      head += decoder.decode(chunk.subarray(0, n), { stream: true });
    }
    const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
    assert.ok(m, `no HTTP status line in ${JSON.stringify(head.slice(0, 200))}`);
    return Number(m[1]);
  } finally {
    conn.close();
  }
}

/** Opens a socket, says hello with a password, waits for the welcome. */
async function helloed(port: number, username: string, password: string): Promise<TestClient> {
  const client = await TestClient.connect(`ws://127.0.0.1:${port}/ws`, username, WAIT);
  try {
    const welcome = await client.request({ type: "hello", username, password }, WAIT);
    assert.equal(welcome.type, "welcome", JSON.stringify(welcome));
    return client;
  } catch (e) {
    await client.close();
    throw e;
  }
}

/** The `shutdown` frames a client got, as their `seconds`, in order. */
function countdownOf(client: TestClient): number[] {
  return client.frames.filter((f) => f.type === "shutdown").map((f) => f.seconds as number);
}

/** Waits for `shutdown {seconds}`. */
function shutdownFrame(client: TestClient, seconds: number): Promise<Frame> {
  return client.next(
    (f) => f.type === "shutdown" && f.seconds === seconds,
    WAIT,
    `"shutdown" with seconds ${seconds}`,
  );
}

/**
 * A client that keeps talking: one `say` every few ms until its socket is
 * closed, each with its own ref and text. Explicit says go through
 * {@link Chatter.say} so that every say is accounted for.
 */
class Chatter {
  /** Every say sent: ref -> text. */
  readonly sent = new Map<string, string>();
  readonly #client: TestClient;
  readonly #run = crypto.randomUUID().slice(0, 8);
  #count = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(client: TestClient) {
    this.#client = client;
  }

  /** Starts the background chatter. */
  start(): void {
    this.#timer = setInterval(() => {
      if (!this.#client.isOpen) return this.stop();
      this.#send(`chat-${this.#count}`);
    }, CHATTER_MS);
  }

  /** Stops the background chatter. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #send(ref: string): boolean {
    const text = `run ${this.#run} say ${this.#count++} (${ref}) — « à bientôt »`;
    try {
      this.#client.send({ type: "say", salon: SALON, text, ref });
    } catch {
      return false;
    }
    this.sent.set(ref, text);
    return true;
  }

  /** Sends one say with `ref` and resolves with its answer. */
  say(ref: string): Promise<Frame> {
    const answer = this.#client.next((f) => f.ref === ref, WAIT, `the answer to say ${ref}`);
    assert.ok(this.#send(ref), `say ${ref} could not be sent`);
    return answer;
  }

  /**
   * Every answer to a say, after the socket closed: the ids of those that
   * got `ok`, and the refs that got `error shutting_down`. Fails on any
   * other answer, or on two answers to one say.
   */
  answers(): { acked: Map<string, number>; refused: Set<string> } {
    const acked = new Map<string, number>();
    const refused = new Set<string>();
    const unexpected: Frame[] = [];
    for (const f of this.#client.frames) {
      if (typeof f.ref !== "string" || !this.sent.has(f.ref)) continue;
      assert.ok(!acked.has(f.ref) && !refused.has(f.ref), `two answers to ${f.ref}`);
      if (f.type === "ok") acked.set(f.ref, f.id as number);
      else if (f.type === "error" && f.code === "shutting_down") refused.add(f.ref);
      else unexpected.push(f);
    }
    assert.deepEqual(unexpected, [], "a say got an answer other than ok or shutting_down");
    return { acked, refused };
  }
}

interface HistoryItem {
  id: number;
  from: { username: string; alias: string };
  text: string;
}

/** The whole history of a salon, oldest first, 200 at a time. */
async function fullHistory(client: TestClient, salon: string): Promise<HistoryItem[]> {
  const all: HistoryItem[] = [];
  let before: number | undefined;
  for (let page = 0; page < 1000; page++) {
    const answer = await client.request(
      before === undefined
        ? { type: "history", salon, limit: 200 }
        : { type: "history", salon, limit: 200, before },
      WAIT,
    );
    assert.equal(answer.type, "history", JSON.stringify(answer));
    const messages = answer.messages as HistoryItem[];
    all.unshift(...messages);
    if (!answer.more) return all;
    before = messages[0].id;
  }
  throw new Error("history never ended");
}

/**
 * After a restart: every say that got `ok` is in the history with its id and
 * text; every other (refused or unanswered) is absent; nothing else is there.
 */
async function assertDurable(
  client: TestClient,
  chatter: Chatter,
  acked: Map<string, number>,
): Promise<void> {
  const history = await fullHistory(client, SALON);
  const byText = new Map(history.map((m) => [m.text, m]));
  assert.equal(byText.size, history.length, "a message is stored twice");
  const missing: string[] = [];
  const extra: string[] = [];
  for (const [ref, text] of chatter.sent) {
    const stored = byText.get(text);
    if (acked.has(ref)) {
      if (!stored) missing.push(ref);
      else assert.equal(stored.id, acked.get(ref), `id of ${ref}`);
    } else if (stored) extra.push(ref);
  }
  assert.deepEqual(missing, [], `${missing.length} of ${acked.size} acknowledged says are lost`);
  assert.deepEqual(extra, [], "says that got no ok were stored anyway");
  const sentTexts = new Set(chatter.sent.values());
  for (const m of history) assert.ok(sentTexts.has(m.text), `unexpected message ${m.text}`);
}

/** Stops a server quickly and cleanly: SIGTERM, `shutdown` seen by `client`, SIGTERM again. */
async function stopWithTwoSignals(server: Server, client: TestClient, seconds: number) {
  server.kill("SIGTERM");
  await shutdownFrame(client, seconds);
  server.kill("SIGTERM");
  assert.equal((await client.waitClosed(WAIT)).code, 1001);
  const end = await exited(server);
  assert.equal(end.code, 0, end.output);
}

/** A temp dir and the environment of a server using it. */
async function setup(shutdownSeconds: number) {
  const dir = await Deno.makeTempDir({ prefix: "causerie-shutdown-" });
  const adminPassword = `admin-${crypto.randomUUID()}`;
  const env = {
    CAUSERIE_PORT: "0",
    CAUSERIE_DB: `sqlite:${dir}/c.db`,
    CAUSERIE_ADMIN_SOCKET: `${dir}/admin.sock`,
    CAUSERIE_ADMIN_PASSWORD: adminPassword,
    CAUSERIE_SHUTDOWN_SECONDS: String(shutdownSeconds),
    CAUSERIE_RATE_PER_SECOND: "1000",
    CAUSERIE_RATE_BURST: "1000",
    // Says as fast as they are acknowledged: past the default request budget (PROTOCOL 5.6).
    CAUSERIE_REQUEST_PER_SECOND: "1000",
    CAUSERIE_REQUEST_BURST: "1000",
    CAUSERIE_LOG_LEVEL: "info",
  };
  return { dir, env, adminPassword };
}

const WATCHER = "watcher";
const USER = "talker";
const PASSWORD = "talker password";

/**
 * One way into the countdown, checked from a connected client: `shutdown`
 * 3, 2, 1, chatting goes on, new connections refused, close 1001, exit 0,
 * then durability after a restart, and the audit entry of the shutdown.
 */
async function countdownEndToEnd(
  trigger: (server: Server, ctx: Awaited<ReturnType<typeof setup>>) => Promise<void>,
  audit: { actor: string; via: string },
): Promise<void> {
  const ctx = await setup(3);
  let server: Server | undefined;
  let client: TestClient | undefined;
  let watcher: TestClient | undefined;
  let chatter: Chatter | undefined;
  try {
    server = await startServer(ctx.env);
    await register(server.url, USER, "Talker", PASSWORD);
    await register(server.url, WATCHER, "Watcher", PASSWORD);
    client = await helloed(server.port, USER, PASSWORD);
    watcher = await helloed(server.port, WATCHER, PASSWORD);
    chatter = new Chatter(client);
    chatter.start();

    await trigger(server, ctx);
    await shutdownFrame(client, 3);

    // Chatting goes on during the countdown.
    const during3 = await chatter.say("during-3");
    assert.equal(during3.type, "ok", JSON.stringify(during3));
    // New connections are refused; the process is still up.
    const ready = await http(server.url, "GET", "/readyz");
    assert.equal(ready.status, 503, ready.text);
    const health = await http(server.url, "GET", "/healthz");
    assert.equal(health.status, 200, health.text);
    const loginRes = await http(server.url, "POST", "/api/login", {
      username: USER,
      password: PASSWORD,
    });
    assert.equal(loginRes.status, 503, loginRes.text);
    assert.equal(loginRes.body?.error?.code, "shutting_down", loginRes.text);
    assert.equal(await upgradeStatus(server.port), 503, "a new /ws upgrade during the countdown");

    await shutdownFrame(client, 2);
    const during2 = await chatter.say("during-2");
    assert.equal(during2.type, "ok", JSON.stringify(during2));
    await shutdownFrame(client, 1);
    const during1 = await chatter.say("during-1");
    assert.equal(during1.type, "ok", JSON.stringify(during1));

    // The close code is asserted last, so that every other check runs whatever it is.
    const closed = await client.waitClosed(WAIT);
    const watcherClosed = await watcher.waitClosed(WAIT);
    chatter.stop();
    const end = await exited(server);
    assert.equal(end.code, 0, end.output);
    assert.equal(end.signal, null, end.output);
    assert.deepEqual(countdownOf(watcher), [3, 2, 1], "the quiet client's countdown");

    assert.deepEqual(countdownOf(client), [3, 2, 1], "the countdown frames, in order");
    const { acked } = chatter.answers();
    assert.ok(acked.has("during-1"));

    // Restart on the same database: whatever got ok is there, nothing else.
    server = await startServer(ctx.env);
    const reader = await helloed(server.port, USER, PASSWORD);
    client = reader;
    await assertDurable(reader, chatter, acked);

    const adminToken = await login(server.url, "admin", ctx.adminPassword);
    const log = await http(server.url, "GET", "/admin/audit", undefined, adminToken);
    assert.equal(log.status, 200, log.text);
    const shutdowns = (log.body!.entries as Frame[]).filter((e) => e.action === "shutdown");
    assert.equal(shutdowns.length, 1, log.text);
    assert.equal(shutdowns[0].actor, audit.actor, log.text);
    assert.equal(shutdowns[0].via, audit.via, log.text);
    assert.match(shutdowns[0].reason, /\b3\b/, log.text);

    await stopWithTwoSignals(server, reader, 3);
    // A quiet client always gets the close frame.
    assert.equal(watcherClosed.code, 1001, `the quiet client closed with ${watcherClosed.code}`);
    // A client whose frame arrives while Deno writes the close frame can see the
    // connection drop instead (docs/protocol.md, "Closing codes"); it is closed
    // either way, and the durability check above holds.
    assert.ok(
      closed.code === 1001 || closed.code === 0,
      `the chatting client's socket closed with ${closed.code} ${closed.reason}`,
    );
  } finally {
    chatter?.stop();
    await watcher?.close();
    await client?.close();
    await server?.dispose();
    await Deno.remove(ctx.dir, { recursive: true });
  }
}

Deno.test("SIGTERM: countdown 3, 2, 1, chat goes on, close 1001, exit 0, acked says survive", async () => {
  await countdownEndToEnd((server) => {
    server.kill("SIGTERM");
    return Promise.resolve();
  }, { actor: "server", via: "signal" });
});

Deno.test("POST /admin/shutdown {seconds:3}: the same countdown, drain and exit", async () => {
  await countdownEndToEnd(async (server, ctx) => {
    const token = await login(server.url, "admin", ctx.adminPassword);
    const res = await http(server.url, "POST", "/admin/shutdown", { seconds: 3 }, token);
    assert.equal(res.status, 202, res.text);
    assert.equal(res.body?.seconds, 3, res.text);
  }, { actor: "admin", via: "http" });
});

Deno.test("CLI shutdown --seconds 3: the same countdown, drain and exit", async () => {
  await countdownEndToEnd(async (_server, ctx) => {
    const run = await cli(["shutdown", "--seconds", "3"], {
      CAUSERIE_ADMIN_SOCKET: ctx.env.CAUSERIE_ADMIN_SOCKET,
    });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /\b3 seconds\b/, run.stdout);
  }, { actor: "server", via: "socket" });
});

Deno.test("a second SIGTERM during the countdown skips to the drain; acked says survive", async () => {
  const ctx = await setup(30);
  let server: Server | undefined;
  let client: TestClient | undefined;
  let watcher: TestClient | undefined;
  let chatter: Chatter | undefined;
  try {
    server = await startServer(ctx.env);
    await register(server.url, USER, "Talker", PASSWORD);
    await register(server.url, WATCHER, "Watcher", PASSWORD);
    client = await helloed(server.port, USER, PASSWORD);
    watcher = await helloed(server.port, WATCHER, PASSWORD);
    chatter = new Chatter(client);
    chatter.start();

    server.kill("SIGTERM");
    await shutdownFrame(client, 30);
    const during = await chatter.say("during-30");
    assert.equal(during.type, "ok", JSON.stringify(during));
    server.kill("SIGTERM");

    // The close code is asserted last, so that every other check runs whatever it is.
    const closed = await client.waitClosed(WAIT);
    const watcherClosed = await watcher.waitClosed(WAIT);
    chatter.stop();
    const end = await exited(server);
    assert.equal(end.code, 0, end.output);

    // The countdown was cut short: it never reached 1.
    const countdown = countdownOf(client);
    assert.equal(countdown[0], 30, JSON.stringify(countdown));
    assert.ok(!countdown.includes(1), `the countdown ran to the end: ${countdown}`);
    countdown.forEach((s, i) => assert.equal(s, 30 - i, `countdown ${countdown}`));

    const { acked } = chatter.answers();
    assert.ok(acked.has("during-30"));
    server = await startServer(ctx.env);
    const reader = await helloed(server.port, USER, PASSWORD);
    client = reader;
    await assertDurable(reader, chatter, acked);
    await stopWithTwoSignals(server, reader, 30);
    // A quiet client always gets the close frame; a chatting one may see the
    // connection drop instead (docs/protocol.md, "Closing codes").
    assert.equal(watcherClosed.code, 1001, `the quiet client closed with ${watcherClosed.code}`);
    assert.ok(
      closed.code === 1001 || closed.code === 0,
      `the chatting client's socket closed with ${closed.code} ${closed.reason}`,
    );
  } finally {
    chatter?.stop();
    await watcher?.close();
    await client?.close();
    await server?.dispose();
    await Deno.remove(ctx.dir, { recursive: true });
  }
});

Deno.test("a hello on a socket opened before the countdown gets error shutting_down and close 1001", async () => {
  const ctx = await setup(30);
  let server: Server | undefined;
  const clients: TestClient[] = [];
  try {
    server = await startServer(ctx.env);
    const url = server.url;
    const wsUrl = `ws://127.0.0.1:${server.port}/ws`;
    const adminToken = await login(url, "admin", ctx.adminPassword);
    await register(url, USER, "Talker", PASSWORD);
    const talkerToken = await login(url, USER, PASSWORD);
    const talker = await helloed(server.port, USER, PASSWORD);
    clients.push(talker);
    // Sockets opened before the countdown, that say hello only during it.
    const byPassword = await TestClient.connect(wsUrl, "late password hello", WAIT);
    clients.push(byPassword);
    const byToken = await TestClient.connect(wsUrl, "late token hello", WAIT);
    clients.push(byToken);
    const byRegister = await TestClient.connect(wsUrl, "late register", WAIT);
    clients.push(byRegister);

    server.kill("SIGTERM");
    await shutdownFrame(talker, 30);

    const late = [
      [byPassword, { type: "hello", username: USER, password: PASSWORD, ref: "late" }],
      [byToken, { type: "hello", token: talkerToken, ref: "late" }],
      [byRegister, {
        type: "register",
        username: "newcomer",
        alias: "Newcomer",
        password: "newcomer password",
        ref: "late",
      }],
    ] as const;
    for (const [socket, hello] of late) {
      const answer = await socket.request(hello, WAIT);
      assert.equal(answer.type, "error", JSON.stringify(answer));
      assert.equal(answer.code, "shutting_down", JSON.stringify(answer));
      const closed = await socket.waitClosed(WAIT);
      assert.equal(closed.code, 1001, `${hello.type}: closed with ${closed.code} ${closed.reason}`);
      assert.ok(!socket.frames.some((f) => f.type === "welcome"), "a late hello was welcomed");
    }
    // The refused register did not create the account.
    const users = await http(url, "GET", "/admin/users", undefined, adminToken);
    assert.equal(users.status, 200, users.text);
    const names = (users.body!.users as Frame[]).map((u) => u.username);
    assert.ok(names.includes(USER) && !names.includes("newcomer"), users.text);
    // The client connected before the countdown still chats.
    const during = await talker.request({ type: "say", salon: SALON, text: "still here" }, WAIT);
    assert.equal(during.type, "ok", JSON.stringify(during));

    server.kill("SIGTERM");
    assert.equal((await talker.waitClosed(WAIT)).code, 1001);
    const end = await exited(server);
    assert.equal(end.code, 0, end.output);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await server?.dispose();
    await Deno.remove(ctx.dir, { recursive: true });
  }
});

Deno.test("DELETE /admin/shutdown during the countdown: shutdown_cancelled, the server keeps running", async () => {
  const ctx = await setup(30);
  let server: Server | undefined;
  const clients: TestClient[] = [];
  try {
    server = await startServer(ctx.env);
    const url = server.url;
    const adminToken = await login(url, "admin", ctx.adminPassword);
    await register(url, USER, "Talker", PASSWORD);
    const talker = await helloed(server.port, USER, PASSWORD);
    clients.push(talker);

    const started = await http(url, "POST", "/admin/shutdown", undefined, adminToken);
    assert.equal(started.status, 202, started.text);
    assert.equal(started.body?.seconds, 30, "the default length is CAUSERIE_SHUTDOWN_SECONDS");
    await shutdownFrame(talker, 30);
    assert.equal((await http(url, "GET", "/readyz")).status, 503);

    const cancelled = await http(url, "DELETE", "/admin/shutdown", undefined, adminToken);
    assert.equal(cancelled.status, 200, cancelled.text);
    await talker.nextOfType("shutdown_cancelled", WAIT);

    // Back to normal: the socket is still served, ready, logins and new sockets accepted.
    const after = await talker.request({ type: "say", salon: SALON, text: "after cancel" }, WAIT);
    assert.equal(after.type, "ok", JSON.stringify(after));
    const ready = await http(url, "GET", "/readyz");
    assert.equal(ready.status, 200, ready.text);
    await login(url, USER, PASSWORD);
    const fresh = await helloed(server.port, USER, PASSWORD);
    clients.push(fresh);

    // Nothing left to cancel.
    const again = await http(url, "DELETE", "/admin/shutdown", undefined, adminToken);
    assert.equal(again.status, 409, again.text);
    assert.equal(again.body?.error?.code, "invalid", again.text);
    const cancelAt = talker.frames.findIndex((f) => f.type === "shutdown_cancelled");
    assert.ok(
      !talker.frames.slice(cancelAt).some((f) => f.type === "shutdown"),
      "the countdown went on after it was cancelled",
    );
    assert.ok(talker.isOpen && fresh.isOpen);

    // A new countdown can start after a cancel; a signal during it skips to the drain.
    const restarted = await http(url, "POST", "/admin/shutdown", { seconds: 30 }, adminToken);
    assert.equal(restarted.status, 202, restarted.text);
    await shutdownFrame(fresh, 30);
    server.kill("SIGTERM");
    assert.equal((await talker.waitClosed(WAIT)).code, 1001);
    assert.equal((await fresh.waitClosed(WAIT)).code, 1001);
    const end = await exited(server);
    assert.equal(end.code, 0, end.output);
    const countdown = countdownOf(fresh);
    assert.equal(countdown[0], 30, JSON.stringify(countdown));
    assert.ok(!countdown.includes(1), `the countdown ran to the end: ${countdown}`);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await server?.dispose();
    await Deno.remove(ctx.dir, { recursive: true });
  }
});
