/**
 * What the mute and slow-mode tests (PROTOCOL 5.4) share: a server with its
 * admin socket on a simulated clock, users with roles, and checks of the
 * frames a client sees.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SimulatedClock } from "xstate";
import { type AdminServer, type Json, registerWs, startAdminServer } from "./admin_fixture.ts";
import type { Frame, TestClient } from "./ws_client.ts";

/** A server on a simulated clock (set to now), with its admin socket. */
export interface ClockedServer extends AdminServer {
  /** The actors' clock; the hub's `now` reads it. */
  clock: SimulatedClock;
}

/** Starts a server whose actors and hub read `clock` (a fresh one at the real time by default). */
export async function startClocked(
  opts: { env?: Record<string, string>; dir?: string; clock?: SimulatedClock } = {},
): Promise<ClockedServer> {
  const clock = opts.clock ?? new SimulatedClock();
  if (!opts.clock) clock.set(Date.now());
  const server = await startAdminServer({
    ...(opts.dir === undefined ? {} : { dir: opts.dir }),
    env: opts.env ?? {},
    start: { hub: { clock, now: () => clock.now() } },
  });
  return { ...server, clock };
}

/** Registers `name` over the WebSocket with `role` (set on the admin socket); its session. */
export async function member(
  server: AdminServer,
  name: string,
  role: "member" | "moderator" | "admin" = "member",
): Promise<TestClient> {
  const { client } = await registerWs(server.srv, name);
  if (role !== "member") {
    const res = await server.sock("PUT", `/admin/users/${name}/role`, { role });
    assert.equal(res.status, 200, res.text);
  }
  return client;
}

/** Asserts an `error` frame with exactly these keys: type, ref, code, message and `extra`. */
export function assertRefusal(frame: Frame, code: string, ref: string, extra: string[] = []) {
  const where = JSON.stringify(frame);
  assert.equal(frame.type, "error", where);
  assert.equal(frame.code, code, where);
  assert.equal(frame.ref, ref, where);
  assert.deepEqual(
    Object.keys(frame).sort(),
    ["type", "ref", "code", "message", ...extra].sort(),
    where,
  );
  assert.ok(typeof frame.message === "string" && frame.message.length > 0, where);
}

/** A `say` and its answer. */
export function say(client: TestClient, salon: string, text: string): Promise<Frame> {
  return client.request({ type: "say", salon, text });
}

/** The user's entry of `GET /admin/users` (admin socket). */
export async function listed(server: AdminServer, username: string): Promise<Json> {
  const res = await server.sock("GET", "/admin/users");
  assert.equal(res.status, 200, res.text);
  return (res.body.users as Json[]).find((u) => u.username === username);
}

/** Lets the actors handle what the clock made due (a few turns of the event loop). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
}
