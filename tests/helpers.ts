/**
 * Shared helpers for the HTTP tests: an in-memory app, a request function
 * that goes through `app.request()` with a client address, a manual clock,
 * and assertions about the error body every failure must use.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Hono } from "hono";
import { Accounts, type RegistrationPolicy } from "../auth/accounts.ts";
import { DEFAULT_SALONS, parseSalons } from "../config/salons.ts";
import { silentLogger } from "../lib/log.ts";
import { NO_TRUSTED_PROXIES, type TrustedProxies } from "../lib/proxies.ts";
import type { SecurityLog } from "../lib/security_log.ts";
import type { PublicUser, SalonView } from "../protocol/http.ts";
import { createApp } from "../routes/app.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import type { Store } from "../store/store.ts";

/** A decoded response body (every field optional: tests check what they expect). */
export interface Body {
  /** The error object of a failure. */
  error?: { code: string; message: string; until?: string };
  /** The user of register, login and me. */
  user?: PublicUser;
  /** The token of a login. */
  token?: string;
  /** The salons of me. */
  salons?: SalonView[];
  /** Anything else (ops endpoints). */
  [key: string]: unknown;
}

/** What {@link TestApp.request} returns. */
export interface TestResponse {
  /** HTTP status. */
  status: number;
  /** Response headers. */
  headers: Headers;
  /** The body parsed as JSON, or `null` when empty. */
  body: Body | null;
  /** The raw body text. */
  text: string;
}

/**
 * A request body: `undefined` sends none, a string or bytes are sent verbatim,
 * anything else (including `null`) is sent as its JSON encoding; any body is
 * sent with `Content-Type: application/json` unless the headers say otherwise.
 */
export type RequestBody = string | Uint8Array | unknown;

/** An app over a fresh in-memory store. */
export interface TestApp {
  /** The Hono application. */
  app: Hono;
  /** Its store. */
  store: Store;
  /** Its account service. */
  accounts: Accounts;
  /** Sends one request from `address` (default 127.0.0.1). */
  request(
    method: string,
    path: string,
    body?: RequestBody,
    headers?: Record<string, string>,
    address?: string,
  ): Promise<TestResponse>;
  /** Closes the store (idempotent). */
  close(): Promise<void>;
}

/** Options of {@link testApp}. */
export interface TestAppOptions {
  /** The clock of the account service, epoch ms (default `Date.now`). */
  now?: () => number;
  /** Whether the shutdown countdown runs (default: never). */
  isShuttingDown?: () => boolean;
  /**
   * The login delay's wait (default: none at all, so tests never sleep; pass
   * one that records the waits to see them).
   */
  sleep?: (ms: number) => Promise<void>;
  /** Self-service registration (default: open and unlimited, as many tests register a lot). */
  registration?: Partial<RegistrationPolicy>;
  /** Proxies whose forwarding headers are believed (default: none). */
  trustedProxies?: TrustedProxies;
  /** The security log (default: nowhere). */
  securityLog?: SecurityLog;
}

/** Builds the application over `openSqliteStore(":memory:")` with the default salons. */
export async function testApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const now = opts.now ?? Date.now;
  const store = await openSqliteStore(":memory:");
  try {
    await store.syncSalons(parseSalons(DEFAULT_SALONS), now());
  } catch (e) {
    await store.close();
    throw e;
  }
  const isShuttingDown = opts.isShuttingDown ?? (() => false);
  const accounts = new Accounts({
    store,
    now,
    isShuttingDown,
    sleep: opts.sleep ?? (() => Promise.resolve()),
    registration: { perAddressPerHour: 0, perMinute: 0, ...opts.registration },
    security: opts.securityLog,
  });
  const app = createApp({
    store,
    accounts,
    log: silentLogger,
    isShuttingDown,
    trustedProxies: opts.trustedProxies ?? NO_TRUSTED_PROXIES,
  });
  return {
    app,
    store,
    accounts,
    async request(method, path, body, headers = {}, address) {
      const init: RequestInit = { method, headers };
      if (body !== undefined) {
        // A body goes as JSON unless the test names another Content-Type.
        if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
          init.headers = { "content-type": "application/json", ...headers };
        }
        init.body = typeof body === "string" || body instanceof Uint8Array
          ? body as BodyInit
          : JSON.stringify(body);
      }
      const env = { remoteAddr: { hostname: address ?? "127.0.0.1", port: 1, transport: "tcp" } };
      const res = await app.request(path, init, env);
      const text = await res.text();
      return {
        status: res.status,
        headers: res.headers,
        body: text === "" ? null : JSON.parse(text),
        text,
      };
    },
    close: () => store.close(),
  };
}

/** A clock that only moves when told to. */
export function manualClock(start = Date.UTC(2026, 10, 24, 10, 0, 0)): {
  now: () => number;
  advance: (ms: number) => void;
} {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

/** `Authorization` header for a bearer token. */
export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/**
 * Asserts a failure: the status, and a body that is exactly
 * `{"error":{"code","message"}}` (plus `until` when `withUntil`), with a
 * non-empty message that mentions `mentions` when given.
 */
export function assertError(
  res: TestResponse,
  status: number,
  code: string,
  opts: { mentions?: string; withUntil?: boolean } = {},
): void {
  const where = `${res.status} ${res.text.slice(0, 300)}`;
  assert.equal(res.status, status, where);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/, where);
  assert.ok(res.body !== null && typeof res.body === "object", where);
  assert.deepEqual(Object.keys(res.body), ["error"], where);
  const error = res.body.error!;
  assert.deepEqual(
    Object.keys(error).sort(),
    opts.withUntil ? ["code", "message", "until"] : ["code", "message"],
    where,
  );
  assert.equal(error.code, code, where);
  assert.equal(typeof error.message, "string", where);
  assert.ok(error.message.trim().length > 0, where);
  if (opts.mentions !== undefined) assert.ok(error.message.includes(opts.mentions), where);
}

/** Registers a user and asserts success. */
export async function registerOk(
  t: TestApp,
  username: string,
  alias: string,
  password: string,
): Promise<PublicUser> {
  const res = await t.request("POST", "/api/register", { username, alias, password });
  assert.equal(res.status, 201, res.text);
  return res.body!.user!;
}

/** Logs in and asserts success; returns the token. */
export async function loginOk(
  t: TestApp,
  username: string,
  password: string,
  address?: string,
): Promise<string> {
  const res = await t.request("POST", "/api/login", { username, password }, {}, address);
  assert.equal(res.status, 200, res.text);
  return res.body!.token!;
}
