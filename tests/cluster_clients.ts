/**
 * Users on the instances of a test cluster (tests/cluster_fixture.ts), for
 * every cross-instance test: registered over HTTP, optionally made moderators
 * in MySQL, and connected with a welcomed session.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Cluster, Instance } from "./cluster_fixture.ts";
import { adminRun } from "./mysql_fixture.ts";
import { registerHttp, TestClient, WAIT_MS } from "./ws_client.ts";

/** Budgets wide enough for the tests' bursts. */
export const CLUSTER_ENV = {
  CAUSERIE_RATE_PER_SECOND: "5000",
  CAUSERIE_RATE_BURST: "5000",
  CAUSERIE_REQUEST_BURST: "5000",
  CAUSERIE_REQUEST_PER_SECOND: "5000",
  CAUSERIE_REGISTER_PER_ADDRESS_PER_HOUR: "0",
  CAUSERIE_REGISTER_PER_MINUTE: "0",
};

/** The password of `name` in these tests. */
export function passwordOf(name: string): string {
  return `${name} long password`;
}

/** Registers `name` on `inst` (alias: the name in capitals), with `role` set in MySQL. */
export async function register(
  cluster: Cluster,
  inst: Instance,
  name: string,
  role: "member" | "moderator" | "admin" = "member",
): Promise<void> {
  await registerHttp(inst.url, name, name.toUpperCase(), passwordOf(name));
  if (role !== "member") {
    await adminRun(cluster.db.name, "UPDATE users SET role = ? WHERE username = ?", [role, name]);
  }
}

/**
 * Opens a welcomed session of `name` (registered) on `inst`; `label` names
 * the client in failures, `password` replaces {@link passwordOf}.
 */
export async function connect(
  inst: Instance,
  name: string,
  opts: { label?: string; password?: string } = {},
): Promise<TestClient> {
  const client = await TestClient.connect(
    `${inst.url.replace("http", "ws")}/ws`,
    opts.label ?? name,
  );
  client.send({
    type: "hello",
    username: name,
    password: opts.password ?? passwordOf(name),
    ref: "hello",
  });
  const welcome = await client.next((f) => f.ref === "hello", WAIT_MS, "welcome");
  assert.equal(welcome.type, "welcome", JSON.stringify(welcome));
  return client;
}

/** Registers `name` on `inst` and opens a welcomed session there. */
export async function user(
  cluster: Cluster,
  inst: Instance,
  name: string,
  role: "member" | "moderator" | "admin" = "member",
): Promise<TestClient> {
  await register(cluster, inst, name, role);
  return await connect(inst, name);
}

/** Registers `name` on `inst` (a member) and opens a welcomed session there. */
export async function member(inst: Instance, name: string): Promise<TestClient> {
  await registerHttp(inst.url, name, name.toUpperCase(), passwordOf(name));
  return await connect(inst, name);
}

/** Closes clients still open. */
export async function closeAll(clients: TestClient[]): Promise<void> {
  await Promise.all(clients.filter((c) => c.isOpen).map((c) => c.close()));
}
