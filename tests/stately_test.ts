/**
 * Stately's inspector for developers (`CAUSERIE_INSPECT=stately`, issue 12
 * item 3): the configuration rules (loopback only), the attachment to the
 * actor system, what reaches the relay (masked: no text, password, token or
 * reason), and a server that runs on when the relay is absent.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createActor, setup } from "xstate";
// @ts-types="@types/ws"
import { WebSocketServer } from "ws";
import { ConfigError, DEFAULT_INSPECT_URL, loadConfig } from "../config/config.ts";
import { silentLogger } from "../lib/log.ts";
import { attachStately, maskStatelyEvent } from "../runtime/stately.ts";
import { startServer } from "./server_process.ts";
import { session, startTestServer } from "./ws_client.ts";

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e;
  }
  assert.fail(`no ConfigError for ${JSON.stringify(env)}`);
}

Deno.test("CAUSERIE_INSPECT: off by default; stately only with a loopback CAUSERIE_HOST; anything else is refused", () => {
  const config = loadConfig({});
  assert.equal(config.inspect, "off");
  assert.equal(config.inspectUrl, new URL(DEFAULT_INSPECT_URL).href);
  for (const host of ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"]) {
    const c = loadConfig({ CAUSERIE_INSPECT: "stately", CAUSERIE_HOST: host });
    assert.equal(c.inspect, "stately", host);
  }
  assert.equal(loadConfig({ CAUSERIE_INSPECT: "STATELY" }).inspect, "stately");
  assert.equal(loadConfig({ CAUSERIE_INSPECT: "off", CAUSERIE_HOST: "0.0.0.0" }).inspect, "off");
  for (const host of ["0.0.0.0", "::", "192.0.2.7", "chat.example.org"]) {
    const e = configError({ CAUSERIE_INSPECT: "stately", CAUSERIE_HOST: host });
    assert.equal(e.variable, "CAUSERIE_INSPECT", host);
    assert.match(e.message, /loopback/);
    assert.ok(!e.message.includes("\n"));
  }
  for (const value of ["on", "xstate", "1", "stately,off"]) {
    const e = configError({ CAUSERIE_INSPECT: value });
    assert.equal(e.variable, "CAUSERIE_INSPECT");
    assert.match(e.message, /off or stately/);
  }
});

Deno.test("CAUSERIE_INSPECT_URL: a ws:// URL on this machine", () => {
  assert.equal(
    loadConfig({ CAUSERIE_INSPECT_URL: "ws://localhost:9999" }).inspectUrl,
    "ws://localhost:9999/",
  );
  assert.equal(
    loadConfig({ CAUSERIE_INSPECT_URL: "ws://[::1]:9999" }).inspectUrl,
    "ws://[::1]:9999/",
  );
  for (
    const url of ["not a url", "http://127.0.0.1:8081", "wss://127.0.0.1", "ws://192.0.2.1:8081"]
  ) {
    const e = configError({ CAUSERIE_INSPECT_URL: url });
    assert.equal(e.variable, "CAUSERIE_INSPECT_URL", url);
  }
});

const SECRET = {
  text: "Secret-Text-4410",
  password: "Secret-Password-8812",
  token: "Secret-Token-2291",
  reason: "Secret-Reason-7301",
};

Deno.test("the masked Stately events keep ids, definition, state and allowlisted facts only", () => {
  const actor = maskStatelyEvent({
    type: "@xstate.actor",
    name: "conn:1",
    sessionId: "x:1",
    parentId: "x:0",
    definition: '{"id":"connection"}',
    createdAt: "1",
    snapshot: {
      status: "active",
      value: "active",
      context: {
        session: { user: { username: "zoe" }, token: SECRET.token },
        password: SECRET.password,
        sanction: { kind: "kick", until: 0, reason: SECRET.reason },
      },
      output: { text: SECRET.text },
    },
  });
  assert.deepEqual(actor, {
    type: "@xstate.actor",
    name: "conn:1",
    sessionId: "x:1",
    parentId: "x:0",
    definition: '{"id":"connection"}',
    createdAt: "1",
    snapshot: { status: "active", value: "active", context: { username: "zoe", kind: "kick" } },
  });
  const event = maskStatelyEvent({
    type: "@xstate.event",
    sessionId: "x:1",
    event: { type: "FRAME", frame: { type: "say", salon: "Général", text: SECRET.text } },
    extra: SECRET.token,
  });
  assert.deepEqual(event, {
    type: "@xstate.event",
    sessionId: "x:1",
    event: { type: "FRAME", frame: "say", salon: "Général" },
  });
  assert.equal(maskStatelyEvent(event), event, "masking twice changes nothing");
});

Deno.test("attachStately subscribes the inspector to the actor system and unsubscribes on stop", () => {
  const machine = setup({}).createMachine({ id: "m", on: { PING: {} } });
  const actor = createActor(machine).start();
  const received: string[] = [];
  let stopped = 0;
  let url = "";
  const link = attachStately(actor, {
    url: "ws://127.0.0.1:1",
    log: silentLogger,
    create: (options) => {
      url = options.url;
      return {
        inspect: { next: (e) => received.push(e.type) },
        stop: () => stopped++,
      };
    },
  });
  assert.equal(url, "ws://127.0.0.1:1");
  actor.send({ type: "PING" });
  assert.ok(received.includes("@xstate.event"), JSON.stringify(received));
  link.stop();
  link.stop();
  assert.equal(stopped, 1);
  const count = received.length;
  actor.send({ type: "PING" });
  assert.equal(received.length, count, "nothing reaches the inspector once stopped");
  actor.stop();
});

Deno.test("with CAUSERIE_INSPECT=stately a local relay receives the machines, events and snapshots, masked", async () => {
  const relay = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => relay.once("listening", () => resolve()));
  const port = (relay.address() as { port: number }).port;
  const messages: string[] = [];
  const connected = Promise.withResolvers<void>();
  relay.on("connection", (ws) => {
    connected.resolve();
    ws.on("message", (data) => messages.push(data.toString()));
  });
  const srv = await startTestServer({
    CAUSERIE_INSPECT: "stately",
    CAUSERIE_INSPECT_URL: `ws://127.0.0.1:${port}`,
  });
  try {
    await connected.promise;
    const { client, welcome } = await session(srv, {
      type: "register",
      username: "zoe",
      alias: "Zoe",
      password: SECRET.password,
    });
    const said = await client.request({ type: "say", salon: "Général", text: SECRET.text });
    assert.equal(said.type, "ok");
    const token = welcome.token as string;
    for (let i = 0; i < 500; i++) {
      if (messages.some((m) => m.includes('"FRAME"') && m.includes('"say"'))) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const events = messages.map((m) => JSON.parse(m));
    const actor = events.find((e) => e.type === "@xstate.actor" && e.name?.startsWith("conn:"));
    assert.ok(actor, "a connection actor reached the relay");
    assert.equal(JSON.parse(actor.definition).id, "connection");
    const active = events.find((e) =>
      e.type === "@xstate.snapshot" && e.snapshot?.value === "active" &&
      e.snapshot.context?.username === "zoe"
    );
    assert.ok(active, "the connection's active snapshot reached the relay");
    assert.deepEqual(Object.keys(active.snapshot).sort(), ["context", "status", "value"]);
    const all = messages.join("\n");
    for (const secret of [SECRET.password, SECRET.text, token]) {
      assert.ok(!all.includes(secret), `the relay received ${secret}`);
    }
    await client.close();
  } finally {
    await srv.stop();
    // Pending conversions of the library (setTimeout 0) run out before the relay closes.
    await new Promise((r) => setTimeout(r, 20));
    for (const ws of relay.clients) ws.terminate();
    await new Promise((resolve) => relay.close(resolve));
  }
});

Deno.test("with CAUSERIE_INSPECT=stately and no relay, the server starts and serves", async () => {
  const dir = await Deno.makeTempDir({ prefix: "causerie-stately-" });
  // A port that nothing listens on: bound, then freed.
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedPort = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const server = await startServer({
    CAUSERIE_PORT: "0",
    CAUSERIE_SHUTDOWN_SECONDS: "1",
    CAUSERIE_DB: `sqlite:${dir}/c.db`,
    CAUSERIE_ADMIN_SOCKET: `${dir}/admin.sock`,
    CAUSERIE_INSPECT: "stately",
    CAUSERIE_INSPECT_URL: `ws://127.0.0.1:${closedPort}`,
  });
  try {
    const res = await fetch(`${server.url}/api/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "zoe", alias: "Zoe", password: SECRET.password }),
    });
    assert.equal(res.status, 201, await res.text());
    const healthz = await fetch(`${server.url}/healthz`);
    assert.equal(healthz.status, 200);
    await healthz.body?.cancel();
    assert.match(server.output(), /CAUSERIE_INSPECT=stately/);
    server.kill("SIGTERM");
    const { code, output } = await server.finished();
    assert.equal(code, 0, output);
    assert.ok(!output.includes(SECRET.password));
  } finally {
    await server.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});
