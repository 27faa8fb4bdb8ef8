/**
 * The operations log (lib/log.ts): JSON lines with time, level name, msg,
 * event and ids; levels; the pretty format; errors with their stack; the
 * start-up configuration with its secrets masked; and, over real sockets, a
 * whole session whose log holds the expected events and no password, token,
 * message text, announcement or kick reason.
 *
 * @module
 */

import assert from "node:assert/strict";
import { loadConfig } from "../config/config.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import { configForLog } from "../main.ts";
import {
  http,
  loginHttp,
  registerHttp,
  session,
  startTestServer,
  WAIT_MS,
  withRef,
} from "./ws_client.ts";

/** A logger at `level` and the lines it wrote. */
function capture(
  level: "debug" | "info" | "warn" | "error" = "debug",
  format: "json" | "pretty" = "json",
): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger(level, (l) => lines.push(l), { format }), lines };
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

Deno.test("log: one JSON object per line with time (ISO), level name, msg, event and the ids", () => {
  const { log, lines } = capture();
  log.info("connection opened", {
    event: "connection_opened",
    conn: "conn:7",
    user: "lena",
    salon: "Général",
    address: "127.0.0.1",
  });
  log.warn("line\nbreak", { event: "odd" });
  assert.equal(lines.length, 2);
  const first = JSON.parse(lines[0]);
  assert.deepEqual(Object.keys(first).sort(), [
    "address",
    "conn",
    "event",
    "level",
    "msg",
    "salon",
    "time",
    "user",
  ]);
  assert.match(first.time, ISO);
  assert.ok(Math.abs(Date.parse(first.time) - Date.now()) < 60_000);
  assert.equal(first.level, "info");
  assert.equal(first.msg, "connection opened");
  assert.equal(first.event, "connection_opened");
  assert.equal(first.conn, "conn:7");
  assert.equal(first.user, "lena");
  assert.equal(first.salon, "Général");
  // A message with a newline is still one line.
  assert.ok(!lines[1].includes("\n"));
  assert.equal(JSON.parse(lines[1]).msg, "line\nbreak");
});

Deno.test("log: a line logged without fields still has an event", () => {
  const { log, lines } = capture();
  log.info("plain");
  const line = JSON.parse(lines[0]);
  assert.equal(line.event, "log");
  assert.equal(line.msg, "plain");
});

Deno.test("log: the level (CAUSERIE_LOG_LEVEL) drops what is below it; names, not numbers", () => {
  for (
    const [level, expected] of [
      ["debug", ["debug", "info", "warn", "error"]],
      ["info", ["info", "warn", "error"]],
      ["warn", ["warn", "error"]],
      ["error", ["error"]],
    ] as const
  ) {
    const { log, lines } = capture(level);
    log.debug("d", { event: "e" });
    log.info("i", { event: "e" });
    log.warn("w", { event: "e" });
    log.error("x", { event: "e" });
    assert.deepEqual(lines.map((l) => JSON.parse(l).level), expected, level);
  }
  // The configured level reaches the logger main.ts builds.
  assert.equal(loadConfig({ CAUSERIE_LOG_LEVEL: "warn" }).logLevel, "warn");
});

Deno.test("log: an error is written with its type, message and stack, not a driver's extra properties", () => {
  const { log, lines } = capture();
  const e = Object.assign(new TypeError("the disk is full"), {
    code: "SQLITE_FULL",
    sql: "INSERT INTO messages VALUES ('a private text')",
  });
  log.error("commit failed", { event: "commit_failed", salon: "Blabla", error: e });
  log.error("odd failure", { event: "odd", error: "a plain string" });
  const line = JSON.parse(lines[0]);
  assert.equal(line.level, "error");
  assert.equal(line.error.type, "TypeError");
  assert.equal(line.error.message, "the disk is full");
  assert.equal(line.error.code, "SQLITE_FULL");
  assert.match(line.error.stack, /TypeError: the disk is full\n\s+at /);
  assert.ok(!lines[0].includes("a private text"), lines[0]);
  assert.deepEqual(JSON.parse(lines[1]).error, { type: "string", message: "a plain string" });
});

Deno.test("log: the pretty format is one readable line per event, with level, event, message and ids", () => {
  const { log, lines } = capture("info", "pretty");
  log.debug("hidden", { event: "x" });
  log.info("connection closed", {
    event: "connection_closed",
    conn: "conn:3",
    user: "lena",
    code: 4403,
  });
  assert.equal(lines.length, 1);
  const line = lines[0];
  assert.ok(!line.includes("\n"), line);
  assert.throws(() => JSON.parse(line));
  assert.match(
    line,
    /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO: connection_closed connection closed /,
  );
  assert.match(line, /"conn":"conn:3"/);
  assert.match(line, /"user":"lena"/);
  assert.match(line, /"code":4403/);
  assert.ok(!line.includes("\x1b["), "no colours when writing to a function");

  const failed = capture("info", "pretty");
  failed.log.error("commit failed", { event: "commit_failed", error: new Error("boom") });
  assert.match(failed.lines[0], /ERROR: commit_failed commit failed/);
  assert.match(failed.lines[0], /Error: boom\n\s+at /, "the stack follows, for a terminal");
});

Deno.test("log: the start-up configuration masks the database password and never holds the admin password", () => {
  const config = loadConfig({
    CAUSERIE_DB: "mysql://causerie:db-secret-9f2@db.example:3306/causerie",
    CAUSERIE_ADMIN_PASSWORD: "admin-secret-77aa",
    CAUSERIE_LOG_FORMAT: "pretty",
  });
  const { log, lines } = capture();
  log.info("configuration", { event: "config", config: configForLog(config) });
  const line = JSON.parse(lines[0]);
  assert.equal(line.event, "config");
  assert.equal(line.config.db, "mysql://causerie:***@db.example:3306/causerie");
  assert.equal(line.config.admin_password_set, true);
  assert.equal(line.config.log_format, "pretty");
  assert.equal(line.config.log_level, "info");
  assert.equal(line.config.port, 8080);
  assert.deepEqual(line.config.salons[0], { name: "Général", policy: "auto" });
  assert.ok(!lines[0].includes("db-secret-9f2"), lines[0]);
  assert.ok(!lines[0].includes("admin-secret-77aa"), lines[0]);
  assert.equal(configForLog(loadConfig({})).admin_password_set, false);
});

// --- a whole session over real sockets --------------------------------------------------------

const ADMIN_PW = "admin-pw-Zq81vX";
const PW = "lena-pw-Kx93hT";
const PW2 = "lena-new-pw-Rw55yB";
const SALON_TEXT = "salon-text-Pn47uQ";
const DIRECT_TEXT = "direct-text-Jd62mC";
const ANNOUNCE_TEXT = "announce-text-Wt38fL";
const REASON = "kick-reason-Hs19gE";

Deno.test("log over real sockets: a full session logs connections, moderation and start-up, and no secret nor text", async () => {
  const { log, lines } = capture("debug");
  const srv = await startTestServer({ CAUSERIE_ADMIN_PASSWORD: ADMIN_PW }, { log });
  const tokens: string[] = [];
  try {
    await registerHttp(srv.url, "lena", "Lena", PW);
    const loginToken = await loginHttp(srv.url, "lena", PW);
    tokens.push(loginToken);
    const lena = await session(srv, { token: loginToken }, "lena");
    tokens.push(lena.welcome.token);
    const admin = await session(srv, { username: "admin", password: ADMIN_PW }, "admin");
    tokens.push(admin.welcome.token);

    // A message in a salon and a direct one.
    assert.equal(
      (await lena.client.request({ type: "say", salon: "Général", text: SALON_TEXT })).type,
      "ok",
    );
    assert.equal(
      (await lena.client.request({ type: "direct", to: "admin", text: DIRECT_TEXT })).type,
      "ok",
    );
    // A join request, accepted.
    assert.equal(
      (await lena.client.request({ type: "join", salon: "Comptabilité" })).type,
      "join_pending",
    );
    assert.equal(
      (await admin.client.request({
        type: "decide",
        salon: "Comptabilité",
        username: "lena",
        accept: true,
      })).type,
      "ok",
    );
    // An announcement.
    assert.equal(
      (await admin.client.request({ type: "announce", text: ANNOUNCE_TEXT })).type,
      "ok",
    );
    // A password change, a login with the new password, a logout.
    const changed = await http(srv.url, "POST", "/api/password", { current: PW, next: PW2 }, {
      authorization: `Bearer ${loginToken}`,
    });
    assert.equal(changed.status, 204, changed.text);
    const second = await loginHttp(srv.url, "lena", PW2);
    tokens.push(second);
    const out = await http(srv.url, "POST", "/api/logout", undefined, {
      authorization: `Bearer ${second}`,
    });
    assert.equal(out.status, 204, out.text);
    // A kick with a reason: lena's session ends with 4403.
    const ref = admin.client.ref("kick");
    admin.client.send({ type: "kick", username: "lena", reason: REASON, minutes: 1, ref });
    assert.equal((await admin.client.next(withRef(ref))).type, "ok");
    assert.equal((await lena.client.waitClosed(WAIT_MS)).code, 4403);
    await admin.client.close();
  } finally {
    await srv.stop();
  }

  // Every line: JSON with time, level, msg and event.
  assert.ok(lines.length > 0);
  const records = lines.map((l) => {
    assert.ok(!l.includes("\n"), l);
    const r = JSON.parse(l);
    assert.match(r.time, ISO, l);
    assert.ok(["debug", "info", "warn", "error"].includes(r.level), l);
    assert.equal(typeof r.msg, "string", l);
    assert.match(r.event, /^[a-z][a-z0-9_]*$/, l);
    return r;
  });
  const of = (event: string) => records.filter((r) => r.event === event);
  const all = lines.join("\n");

  assert.equal(of("config").length, 1, all);
  assert.equal(of("config")[0].config.admin_password_set, true);
  assert.equal(of("server_started").length, 1, all);
  assert.match(of("server_started")[0].url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(of("server_stopped").length, 1, all);

  // Connections: opened with an id and address, closed with the user, the close code, a duration.
  const opened = of("connection_opened");
  const closed = of("connection_closed");
  assert.equal(opened.length, 2, all);
  assert.equal(closed.length, 2, all);
  for (const o of opened) {
    assert.match(o.conn, /^conn:\d+$/);
    assert.equal(o.address, "127.0.0.1");
  }
  const lenaClosed = closed.find((c) => c.user === "lena");
  assert.ok(lenaClosed, all);
  assert.equal(lenaClosed.code, 4403);
  assert.equal(typeof lenaClosed.duration_ms, "number");
  assert.ok(opened.some((o) => o.conn === lenaClosed.conn), all);
  const adminClosed = closed.find((c) => c.user === "admin");
  assert.ok(adminClosed, all);
  assert.equal(typeof adminClosed.code, "number");

  // Moderation acts: actor, target user, salon.
  const [kick] = of("kick");
  assert.ok(kick, all);
  assert.equal(kick.actor, "admin");
  assert.equal(kick.user, "lena");
  assert.equal(kick.via, "ws");
  assert.equal(kick.minutes, 1);
  const [accepted] = of("join_accepted");
  assert.ok(accepted, all);
  assert.equal(accepted.user, "lena");
  assert.equal(accepted.salon, "Comptabilité");
  assert.equal(accepted.actor, "admin");
  assert.equal(of("announce").length, 1, all);
  assert.equal(of("announce")[0].actor, "admin");

  // Never a password, a token, a message text, an announcement or a reason.
  for (const secret of [ADMIN_PW, PW, PW2, SALON_TEXT, DIRECT_TEXT, ANNOUNCE_TEXT, REASON]) {
    assert.ok(!all.includes(secret), `${secret} is in the log:\n${all}`);
  }
  assert.equal(tokens.length, 4);
  for (const token of tokens) {
    assert.ok(token.length >= 20);
    assert.ok(!all.includes(token), `a token is in the log:\n${all}`);
  }
});

Deno.test("log: the start-up configuration shows the bus without its password, and no bus fields without one", () => {
  const config = loadConfig({
    CAUSERIE_DB: "mysql://causerie:db-secret-9f2@db.example:3306/causerie",
    CAUSERIE_BUS: "redis://:bus-secret-41c@redis.example:6379/0",
  });
  const { log, lines } = capture();
  log.info("configuration", { event: "config", config: configForLog(config) });
  const line = JSON.parse(lines[0]);
  assert.equal(line.config.bus, "redis://:***@redis.example:6379/0");
  assert.equal(line.config.node_beat_ms, 2000);
  assert.equal(line.config.node_dead_ms, 10000);
  assert.ok(!lines[0].includes("bus-secret-41c"), lines[0]);
  assert.equal("bus" in configForLog(loadConfig({})), false);
});

Deno.test("log: a socket that ws closes itself for a protocol error logs its close code (1009 too large)", async () => {
  const { log, lines } = capture("info");
  const srv = await startTestServer({}, { log });
  try {
    const client = await srv.connect("big");
    client.sendRaw("x".repeat(70 * 1024));
    assert.equal((await client.waitClosed(WAIT_MS)).code, 1009);
    // The log line is written when the server lets the socket go.
    const deadline = Date.now() + WAIT_MS;
    let closed: Record<string, unknown> | undefined;
    while (!closed && Date.now() < deadline) {
      closed = lines.map((l) => JSON.parse(l)).find((r) => r.event === "connection_closed");
      if (!closed) await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(closed, lines.join("\n"));
    assert.equal(closed.code, 1009);
  } finally {
    await srv.stop();
  }
});
