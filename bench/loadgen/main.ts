/**
 * The load generator, in its own process: runs one scenario against one
 * server and writes the result as JSON.
 *
 * `deno run --allow-all bench/loadgen/main.ts CONFIG.json RESULT.json`
 *
 * CONFIG = `{scenario, kind, port, serverPid, ports?, serverPids?, usersFile, params}`, where
 * `usersFile` holds `{password, users: [{username, token?}]}`. Progress goes
 * to stderr. The process stops by itself after `params.hardLimitMs`
 * (default 15 minutes) whatever happens.
 *
 * @module
 */

import type { Credentials, TargetKind } from "./session.ts";
import {
  fanout,
  idle,
  ingest,
  register,
  salons,
  type ScenarioContext,
  storm,
} from "./scenarios.ts";
import { pongAttack } from "./pong_attack.ts";

/** The load generator's input. */
export interface LoadgenConfig {
  /** Which scenario. */
  scenario: "register" | "fanout" | "ingest" | "idle" | "storm" | "salons" | "pongAttack";
  /** Server kind. */
  kind: TargetKind;
  /** Server port on 127.0.0.1. */
  port: number;
  /** Server process id, for /proc. */
  serverPid: number;
  /**
   * Several instances (the cluster scenarios): their ports, sessions spread over them round-robin
   * by user index, and their process ids, whose CPU is summed. Absent: `port` and `serverPid`.
   */
  ports?: number[];
  /** The process ids of the instances (with `ports`). */
  serverPids?: number[];
  /** File with `{password, users}`; absent for `register`. */
  usersFile?: string;
  /** Scenario parameters. */
  params: Record<string, number | string | boolean>;
}

const SCENARIOS = { register, fanout, ingest, idle, storm, salons, pongAttack };

if (import.meta.main) {
  const [configPath, outPath] = Deno.args;
  if (!configPath || !outPath) {
    console.error("usage: deno run --allow-all bench/loadgen/main.ts CONFIG.json RESULT.json");
    Deno.exit(2);
  }
  const config = JSON.parse(Deno.readTextFileSync(configPath)) as LoadgenConfig;
  const hardLimitMs = Number(config.params.hardLimitMs ?? 15 * 60_000);
  const killer = setTimeout(() => {
    console.error(`loadgen: gave up after ${hardLimitMs} ms`);
    Deno.exit(3);
  }, hardLimitMs);
  let users: Credentials[] = [];
  if (config.usersFile) {
    const file = JSON.parse(Deno.readTextFileSync(config.usersFile)) as {
      users: Credentials[];
    };
    users = file.users;
  }
  const ctx: ScenarioContext = {
    kind: config.kind,
    port: config.port,
    serverPid: config.serverPid,
    ...(config.ports ? { ports: config.ports } : {}),
    ...(config.serverPids ? { serverPids: config.serverPids } : {}),
    users,
    params: config.params,
    log: (line) => console.error(line),
  };
  try {
    const result = await SCENARIOS[config.scenario](ctx);
    Deno.writeTextFileSync(outPath, JSON.stringify({ ok: true, result }));
  } catch (e) {
    console.error(`loadgen: ${(e as Error).stack ?? e}`);
    Deno.writeTextFileSync(outPath, JSON.stringify({ ok: false, error: (e as Error).message }));
  }
  clearTimeout(killer);
  // Sockets closed without a handshake may leave reads pending: exit explicitly.
  Deno.exit(0);
}
