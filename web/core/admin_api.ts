/**
 * The admin HTTP API (PROTOCOL.md section 3) as the browser uses it: a
 * moderator's or admin's session token as `Bearer`, every refusal turned
 * into a sentence.
 *
 * @module
 */

import type { ApiResult } from "./api.ts";

/** A role. */
export type Role = "member" | "moderator" | "admin";

/** One user as `GET /admin/users` lists them. */
export interface AdminUser {
  /** Username. */
  username: string;
  /** Alias. */
  alias: string;
  /** Role. */
  role: Role;
  /** `online` or `offline`. */
  status: string;
  /** End of a kick in force. */
  bannedUntil?: string;
  /** Banned for good. */
  banned?: boolean;
  /** End of the mute everywhere in force. */
  mutedUntil?: string;
  /** Mutes in single salons in force (docs/protocol.md, an addition of the server). */
  mutedIn?: Array<{ salon: string; until: string }>;
}

/** Calls one admin endpoint with the session's token. */
export async function adminCall<T>(
  fetcher: typeof fetch,
  token: string,
  method: "GET" | "POST" | "PUT" | "DELETE",
  path: string,
  body?: unknown,
): Promise<ApiResult<T>> {
  let res: Response;
  try {
    const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    res = await fetcher(`/admin${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return {
      ok: false,
      problem: { code: "network", message: "The server cannot be reached; check the connection." },
    };
  }
  let data: unknown = null;
  if (res.status !== 204) {
    try {
      data = await res.json();
    } catch { /* an empty or non-JSON body */ }
  }
  if (res.ok) return { ok: true, value: data as T };
  const err = (data as { error?: { code?: string; message?: string } } | null)?.error;
  const code = err?.code ?? "internal";
  return { ok: false, problem: { code, message: explainAdmin(code, res.status, err?.message) } };
}

/** A sentence for an admin API refusal: the server's words, prefixed where they need context. */
export function explainAdmin(code: string, status: number, message?: string): string {
  const said = message ?? `the server answered ${status}`;
  switch (code) {
    case "forbidden":
      return `Not allowed: ${said}.`;
    case "unknown_user":
      return `No such user: ${said}.`;
    case "shutting_down":
      return "A shutdown countdown is already running.";
    case "unauthenticated":
      return "Your session has ended; log in again.";
    default:
      return said.endsWith(".") ? said : `${said}.`;
  }
}

const u = (username: string) => `/users/${encodeURIComponent(username)}`;

/** `GET /admin/users`. */
export const listUsers = (f: typeof fetch, t: string) =>
  adminCall<{ users: AdminUser[] }>(f, t, "GET", "/users");
/** `POST /admin/users/{u}/kick`. */
export const kickUser = (
  f: typeof fetch,
  t: string,
  username: string,
  body: { minutes?: number; reason?: string },
) => adminCall<unknown>(f, t, "POST", `${u(username)}/kick`, body);
/** `POST /admin/users/{u}/ban`. */
export const banUser = (
  f: typeof fetch,
  t: string,
  username: string,
  body: { reason?: string; purge?: boolean },
) => adminCall<unknown>(f, t, "POST", `${u(username)}/ban`, body);
/** `DELETE /admin/users/{u}/ban`. */
export const unbanUser = (f: typeof fetch, t: string, username: string) =>
  adminCall<unknown>(f, t, "DELETE", `${u(username)}/ban`);
/** `PUT /admin/users/{u}/role` (admins). */
export const setRole = (f: typeof fetch, t: string, username: string, role: Role) =>
  adminCall<unknown>(f, t, "PUT", `${u(username)}/role`, { role });
/** `POST /admin/announce`. */
export const announce = (f: typeof fetch, t: string, text: string) =>
  adminCall<unknown>(f, t, "POST", "/announce", { text });
/** `POST /admin/shutdown` (admins). */
export const startShutdown = (f: typeof fetch, t: string, seconds?: number) =>
  adminCall<unknown>(f, t, "POST", "/shutdown", seconds === undefined ? {} : { seconds });
/** `DELETE /admin/shutdown` (admins). */
export const cancelShutdown = (f: typeof fetch, t: string) =>
  adminCall<unknown>(f, t, "DELETE", "/shutdown");

// --- Moderation beyond the original (PROTOCOL 5.4) ---------------------------------------------

/** `POST /admin/users/{u}/mute`. */
export const muteUser = (
  f: typeof fetch,
  t: string,
  username: string,
  body: { minutes?: number; salon?: string; reason?: string },
) => adminCall<unknown>(f, t, "POST", `${u(username)}/mute`, body);
/** `DELETE /admin/users/{u}/mute[?salon=S]`. */
export const unmuteUser = (f: typeof fetch, t: string, username: string, salon?: string) =>
  adminCall<unknown>(
    f,
    t,
    "DELETE",
    `${u(username)}/mute${salon === undefined ? "" : `?salon=${encodeURIComponent(salon)}`}`,
  );
/** `PUT /admin/salons/{salon}/slow-mode`. */
export const setSlowMode = (f: typeof fetch, t: string, salon: string, seconds: number) =>
  adminCall<unknown>(f, t, "PUT", `/salons/${encodeURIComponent(salon)}/slow-mode`, { seconds });
