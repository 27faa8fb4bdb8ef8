/**
 * Shared fixture of the admin tests (API, permission matrix, restart): a
 * real test server with its admin socket, HTTP calls to the main port or
 * over the admin socket's Unix-domain `Deno.HttpClient`, and the small
 * helpers that go with them.
 *
 * @module
 */

import type { StartOptions } from "../main.ts";
import type { TestResponse } from "./helpers.ts";
import {
  type CloseInfo,
  type Frame,
  loginHttp,
  session,
  startTestServer,
  type TestClient,
  type TestServer,
} from "./ws_client.ts";

/** The password `admin` is bootstrapped with. */
export const ADMIN_PW = "admin long password";

/** The password of every other test user. */
export const pw = (name: string): string => `${name} long password`;

/** The alias of a test user: the name, capitalised. */
export const alias = (name: string): string => name[0].toUpperCase() + name.slice(1);

/** A decoded JSON body. */
// deno-lint-ignore no-explicit-any -- response bodies are checked field by field
export type Json = any;

/** A response with its body read. */
export interface Res extends TestResponse {
  /** The body parsed as JSON, or `null` when empty or not JSON. */
  body: Json;
}

/** A body sent verbatim rather than as JSON. */
export class Raw {
  /**
   * Wraps the bytes or text to send as they are, declared as `contentType`
   * (application/json unless told otherwise; `null`: none of ours, so fetch
   * declares text/plain for a string and nothing for bytes).
   */
  constructor(
    readonly data: string | Uint8Array<ArrayBuffer>,
    readonly contentType: string | null = "application/json",
  ) {}
}

/**
 * One HTTP request to `base` + `path`, over `client` when given (the admin
 * socket). `body`: `undefined` sends none, a {@link Raw} is sent verbatim (with its own
 * Content-Type),
 * anything else as JSON with `content-type: application/json`. The response
 * body is always read.
 */
export async function send(
  base: string,
  method: string,
  path: string,
  body: unknown,
  headers: Record<string, string>,
  client?: Deno.HttpClient,
): Promise<Res> {
  const init: RequestInit & { client?: Deno.HttpClient } = { method, headers: { ...headers } };
  if (body instanceof Raw) {
    init.body = body.data;
    if (body.contentType !== null) {
      (init.headers as Record<string, string>)["content-type"] = body.contentType;
    }
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  if (client) init.client = client;
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  let parsed: Json = null;
  try {
    parsed = text === "" ? null : JSON.parse(text);
  } catch {
    parsed = null;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** How an admin request reaches the server. */
export type Via = "http" | "socket";

/** Both ways, for tests run once per way. */
export const VIAS: Via[] = ["http", "socket"];

/** A test server with its admin socket, and `admin` bootstrapped. */
export interface AdminServer {
  /** The server. */
  srv: TestServer;
  /** The main port with an optional bearer token. */
  http(method: string, path: string, body?: unknown, token?: string): Promise<Res>;
  /** The admin socket, no credentials. */
  sock(method: string, path: string, body?: unknown): Promise<Res>;
  /** Stops the server, closes the socket's client and removes the temp dir it made. Idempotent. */
  stop(): Promise<void>;
}

/** An {@link AdminServer} with `admin` logged in. */
export interface AdminSession extends AdminServer {
  /** The admin's bearer token. */
  adminToken: string;
  /** `/admin/*` with the admin's token (`http`) or on the admin socket (`socket`). */
  call(via: Via, method: string, path: string, body?: unknown): Promise<Res>;
}

/** Options of {@link startAdminServer}. */
export interface AdminServerOptions {
  /**
   * The folder of the admin socket (`admin.sock`), owned by the caller: it is
   * neither made nor removed. Without it, a fresh temp dir is made, and
   * removed when the server stops or fails to start.
   */
  dir?: string;
  /** The prefix of the fresh temp dir (default `causerie-admin-`). */
  prefix?: string;
  /** More environment, after (and so over) the admin socket and password. */
  env?: Record<string, string>;
  /** Options of `start()`, after `{ adminSocket: true }`. */
  start?: StartOptions;
}

/** Starts a test server with its admin socket in `opts.dir` or a fresh temp dir. */
export async function startAdminServer(opts: AdminServerOptions = {}): Promise<AdminServer> {
  const owned = opts.dir === undefined;
  const dir = opts.dir ?? await Deno.makeTempDir({ prefix: opts.prefix ?? "causerie-admin-" });
  const path = `${dir}/admin.sock`;
  let srv: TestServer;
  try {
    srv = await startTestServer({
      CAUSERIE_ADMIN_SOCKET: path,
      CAUSERIE_ADMIN_PASSWORD: ADMIN_PW,
      ...opts.env,
    }, { adminSocket: true, ...opts.start });
  } catch (e) {
    if (owned) await Deno.remove(dir, { recursive: true });
    throw e;
  }
  const client = Deno.createHttpClient(
    { proxy: { transport: "unix", path } } as Deno.CreateHttpClientOptions,
  );
  let stopping: Promise<void> | undefined;
  return {
    srv,
    http: (method, p, body, token) =>
      send(
        srv.url,
        method,
        p,
        body,
        token === undefined ? {} : { authorization: `Bearer ${token}` },
      ),
    sock: (method, p, body) => send("http://localhost", method, p, body, {}, client),
    stop() {
      stopping ??= (async () => {
        try {
          await srv.stop();
        } finally {
          client.close();
          if (owned) await Deno.remove(dir, { recursive: true });
        }
      })();
      return stopping;
    },
  };
}

/**
 * {@link startAdminServer}, then logs `admin` in over HTTP; the server is
 * stopped if the login fails.
 */
export async function startAdminSession(opts: AdminServerOptions = {}): Promise<AdminSession> {
  const server = await startAdminServer(opts);
  let adminToken: string;
  try {
    adminToken = await loginHttp(server.srv.url, "admin", ADMIN_PW);
  } catch (e) {
    await server.stop();
    throw e;
  }
  return {
    ...server,
    adminToken,
    call: (via, method, p, body) =>
      via === "socket" ? server.sock(method, p, body) : server.http(method, p, body, adminToken),
  };
}

/** `POST /api/login` on the main port, by default with the user's test password. */
export function login(
  server: AdminServer,
  username: string,
  password: string = pw(username),
): Promise<Res> {
  return server.http("POST", "/api/login", { username, password });
}

/** Registers over the WebSocket; resolves with the session and its welcome. */
export async function registerWs(
  srv: TestServer,
  name: string,
): Promise<{ client: TestClient; welcome: Frame }> {
  return await session(srv, {
    type: "register",
    username: name,
    alias: alias(name),
    password: pw(name),
  }, name);
}

/** A hello that must be refused: the error frame and how the socket closed. */
export async function refusedHello(
  srv: TestServer,
  hello: Record<string, unknown>,
): Promise<{ frame: Frame; close: CloseInfo; ref: string }> {
  const c = await srv.connect("refused");
  const ref = "hello-1";
  c.send({ type: "hello", ...hello, ref });
  const frame = await c.next((f) => f.ref === ref, undefined, "the answer to hello");
  const close = await c.waitClosed();
  return { frame, close, ref };
}

/** The status of `/readyz`, or 0 when the server no longer accepts connections. */
export async function readyStatus(server: AdminServer): Promise<number> {
  let res: Response;
  try {
    res = await fetch(`${server.srv.url}/readyz`);
  } catch {
    return 0;
  }
  await res.body?.cancel();
  return res.status;
}
