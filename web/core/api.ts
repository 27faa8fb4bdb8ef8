/**
 * Accounts over HTTP (PROTOCOL.md section 1): register, log in, change the
 * password, log out. Every refusal comes back as words, with the field it
 * concerns and, for `429`, the seconds to wait.
 *
 * @module
 */

import type { PublicUser } from "../../protocol/http.ts";

/** A refusal, ready to show. */
export interface ApiProblem {
  /** Error code (`invalid`, `username_taken`, `rate_limited`, `network`...). */
  code: string;
  /** The sentence to show. */
  message: string;
  /** The form field it concerns, when one does. */
  field?: string;
  /** Seconds to wait (429). */
  retryAfter?: number;
  /** End of a kick (403 banned). */
  until?: string;
}

/** The message of `problem` when it concerns `field` (shown next to that field). */
export function problemFor(problem: ApiProblem | null, field: string): string | undefined {
  return problem && problem.field === field ? problem.message : undefined;
}

/** An answer: the value, or a problem. */
export type ApiResult<T> = { ok: true; value: T } | { ok: false; problem: ApiProblem };

/** The field a refusal concerns. */
export function fieldOf(code: string, message: string, fields: string[]): string | undefined {
  if (code === "username_taken") return "username";
  if (code === "alias_taken") return "alias";
  if (code === "bad_credentials") return "password";
  const named = fields.find((f) => new RegExp(`^${f}\\b`, "i").test(message));
  return named;
}

/** Words for a local time, e.g. a kick's end. */
export function localTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** Calls one account endpoint. */
export async function call<T>(
  fetcher: typeof fetch,
  path: string,
  body: unknown,
  fields: string[],
  token?: string,
): Promise<ApiResult<T>> {
  let res: Response;
  try {
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    res = await fetcher(path, {
      method: "POST",
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return {
      ok: false,
      problem: { code: "network", message: "The server cannot be reached; check the connection." },
    };
  }
  if (res.status === 204) return { ok: true, value: undefined as T };
  let data: unknown = null;
  try {
    data = await res.json();
  } catch { /* an empty or non-JSON body */ }
  if (res.ok) return { ok: true, value: data as T };
  const err = (data as { error?: { code?: string; message?: string; until?: string } } | null)
    ?.error;
  const code = err?.code ?? "internal";
  let message = err?.message ?? `The server answered ${res.status}; try again.`;
  const problem: ApiProblem = { code, message };
  if (res.status === 429) {
    const wait = Number(res.headers.get("Retry-After"));
    if (Number.isFinite(wait) && wait > 0) {
      problem.retryAfter = wait;
      message = `Too many attempts: wait ${wait} s, then try again.`;
    }
  }
  if (code === "banned") {
    message = err?.until
      ? `You are kicked until ${localTime(err.until)}.`
      : "This account is banned.";
    if (err?.until) problem.until = err.until;
  }
  problem.message = message;
  const field = fieldOf(code, err?.message ?? "", fields);
  if (field) problem.field = field;
  return { ok: false, problem };
}

/** `POST /api/login`. */
export function login(f: typeof fetch, username: string, password: string) {
  return call<{ token: string; user: PublicUser }>(f, "/api/login", { username, password }, [
    "username",
    "password",
  ]);
}

/** `POST /api/register`. */
export function register(f: typeof fetch, username: string, alias: string, password: string) {
  return call<{ user: PublicUser }>(f, "/api/register", { username, alias, password }, [
    "username",
    "alias",
    "password",
  ]);
}

/** `POST /api/password`. */
export function changePassword(f: typeof fetch, token: string, current: string, next: string) {
  return call<void>(f, "/api/password", { current, next }, ["current", "next"], token);
}

/** `POST /api/logout`. */
export function logout(f: typeof fetch, token: string) {
  return call<void>(f, "/api/logout", undefined, [], token);
}
