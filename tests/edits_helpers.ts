/**
 * What the edit, delete and report suites share: `say` with its id, a whole
 * history page, and a user made moderator or admin in the store.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Frame, startTestServer, TestClient } from "./ws_client.ts";

/** `say` and wait for its `ok`; returns the new id. */
export async function say(client: TestClient, salon: string, text: string): Promise<number> {
  const ok = await client.request({ type: "say", salon, text });
  assert.equal(ok.type, "ok", JSON.stringify(ok));
  return ok.id;
}

/** The whole history of a salon or conversation (at most 200 messages). */
export async function history(
  client: TestClient,
  target: { salon: string } | { with: string },
): Promise<Frame[]> {
  const reply = await client.request({ type: "history", ...target, limit: 200 });
  assert.equal(reply.type, "history", JSON.stringify(reply));
  return reply.messages;
}

/** Makes a registered user a moderator (or admin) in the store, before they log in. */
export async function promote(
  srv: Awaited<ReturnType<typeof startTestServer>>,
  name: string,
  role: "moderator" | "admin" = "moderator",
): Promise<void> {
  const user = await srv.server.store.userByName(name);
  await srv.server.store.setRole(user!.id, role);
}
