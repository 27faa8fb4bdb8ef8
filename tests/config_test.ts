/**
 * Configuration: defaults, and one clear ConfigError per bad variable.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CONFIG_VARIABLES, ConfigError, loadConfig } from "../config/config.ts";
import { DEFAULT_SALONS, parseSalons } from "../config/salons.ts";

/** Asserts that `env` is refused naming `variable`, with a message matching `expected`. */
function assertRefused(env: Record<string, string>, variable: string, expected: RegExp): void {
  assert.throws(() => loadConfig(env), (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
    assert.equal(e.variable, variable);
    assert.ok(e.message.startsWith(`${variable}: `), e.message);
    assert.match(e.message, expected);
    return true;
  });
}

const DEFAULT_SALON_LIST = [
  { name: "Général", policy: "auto" },
  { name: "Blabla", policy: "open" },
  { name: "Comptabilité", policy: "approval" },
  { name: "Informatique", policy: "approval" },
  { name: "Marketing", policy: "approval" },
];

Deno.test("loadConfig: an empty environment gives the documented defaults", () => {
  assert.deepEqual(loadConfig({}), {
    host: "127.0.0.1",
    port: 8080,
    db: "sqlite:data/causerie.db",
    adminSocket: "data/admin.sock",
    adminPassword: undefined,
    kickMinutes: 5,
    shutdownSeconds: 10,
    salons: DEFAULT_SALON_LIST,
    ratePerSecond: 5,
    rateBurst: 10,
    maxText: 2000,
    maxSessions: 5,
    logLevel: "info",
    logFormat: "json",
    securityLog: "stderr",
    maxConnections: undefined,
    maxConnectionsPerAddress: 256,
    preWelcomeMax: 1024,
    preWelcomePerAddress: 8,
    connectBurst: 60,
    connectPerSecond: 10,
    allowedOrigins: [],
    hashQueue: 64,
    requestBurst: 40,
    requestPerSecond: 20,
    registration: "open",
    registerPerAddressPerHour: 10,
    registerPerMinute: 60,
    trustedProxies: [],
    presenceSalonMax: 100,
    inspect: "off",
    inspectUrl: "ws://127.0.0.1:8081/",
    editMinutes: 15,
  });
});

Deno.test("loadConfig: empty or blank values count as unset", () => {
  const env: Record<string, string> = {};
  for (const v of CONFIG_VARIABLES) env[v.name] = v.name.endsWith("PASSWORD") ? "" : "  ";
  assert.deepEqual(loadConfig(env), loadConfig({}));
});

Deno.test("loadConfig: every variable is read", () => {
  const config = loadConfig({
    CAUSERIE_HOST: "0.0.0.0",
    CAUSERIE_PORT: " 0 ",
    CAUSERIE_DB: "mysql://user:pass@db.example:3306/causerie",
    CAUSERIE_ADMIN_SOCKET: "/run/causerie/admin.sock",
    CAUSERIE_ADMIN_PASSWORD: "correct horse",
    CAUSERIE_KICK_MINUTES: "0.5",
    CAUSERIE_SHUTDOWN_SECONDS: "30",
    CAUSERIE_SALONS: "Accueil:auto, Jeux:open",
    CAUSERIE_RATE_PER_SECOND: "2.5",
    CAUSERIE_RATE_BURST: "20",
    CAUSERIE_MAX_TEXT: "500",
    CAUSERIE_MAX_SESSIONS: "3",
    CAUSERIE_LOG_LEVEL: "DEBUG",
    CAUSERIE_LOG_FORMAT: "Pretty",
    CAUSERIE_SECURITY_LOG: "/var/log/causerie/security.jsonl",
    CAUSERIE_MAX_CONNECTIONS: "5000",
    CAUSERIE_MAX_CONNECTIONS_PER_ADDRESS: "50",
    CAUSERIE_PREWELCOME_MAX: "200",
    CAUSERIE_PREWELCOME_PER_ADDRESS: "4",
    CAUSERIE_CONNECT_BURST: "30",
    CAUSERIE_CONNECT_PER_SECOND: "0.5",
    CAUSERIE_ALLOWED_ORIGINS: "https://chat.example.org, http://localhost:5173/",
    CAUSERIE_HASH_QUEUE: "8",
    CAUSERIE_REQUEST_BURST: "80",
    CAUSERIE_REQUEST_PER_SECOND: "2.5",
    CAUSERIE_REGISTRATION: "Closed",
    CAUSERIE_REGISTER_PER_ADDRESS_PER_HOUR: "3",
    CAUSERIE_REGISTER_PER_MINUTE: "0",
    CAUSERIE_TRUSTED_PROXIES: " 10.0.0.0/8, ::1 ",
    CAUSERIE_PRESENCE_SALON_MAX: "250",
    CAUSERIE_INSPECT: "OFF",
    CAUSERIE_INSPECT_URL: "ws://localhost:9000",
    CAUSERIE_EDIT_MINUTES: "2.5",
    CAUSERIE_BUS: "redis://:pw@redis.example:6380/2",
    CAUSERIE_NODE_BEAT_MS: "500",
    CAUSERIE_NODE_DEAD_MS: "3000",
    CAUSERIE_SALON_GAP_WAIT_MS: "50",
    CAUSERIE_SALON_CHECK_MS: "700",
  });
  assert.deepEqual(config, {
    host: "0.0.0.0",
    port: 0,
    db: "mysql://user:pass@db.example:3306/causerie",
    adminSocket: "/run/causerie/admin.sock",
    adminPassword: "correct horse",
    kickMinutes: 0.5,
    shutdownSeconds: 30,
    salons: [{ name: "Accueil", policy: "auto" }, { name: "Jeux", policy: "open" }],
    ratePerSecond: 2.5,
    rateBurst: 20,
    maxText: 500,
    maxSessions: 3,
    logLevel: "debug",
    logFormat: "pretty",
    securityLog: "/var/log/causerie/security.jsonl",
    maxConnections: 5000,
    maxConnectionsPerAddress: 50,
    preWelcomeMax: 200,
    preWelcomePerAddress: 4,
    connectBurst: 30,
    connectPerSecond: 0.5,
    allowedOrigins: ["https://chat.example.org", "http://localhost:5173"],
    hashQueue: 8,
    requestBurst: 80,
    requestPerSecond: 2.5,
    registration: "closed",
    registerPerAddressPerHour: 3,
    registerPerMinute: 0,
    trustedProxies: ["10.0.0.0/8", "::1"],
    presenceSalonMax: 250,
    inspect: "off",
    inspectUrl: "ws://localhost:9000/",
    editMinutes: 2.5,
    cluster: {
      bus: "redis://:pw@redis.example:6380/2",
      beatMs: 500,
      deadMs: 3000,
      gapWaitMs: 50,
      checkMs: 700,
      probeMs: 5000,
    },
  });
});

Deno.test("loadConfig: CAUSERIE_EDIT_MINUTES is 0 (editing off) or a number of minutes up to a year", () => {
  for (const bad of ["-1", "abc", "1e3", "525601", "15 minutes", "0x10"]) {
    assertRefused(
      { CAUSERIE_EDIT_MINUTES: bad },
      "CAUSERIE_EDIT_MINUTES",
      /from 0 \(editing off\)/,
    );
  }
  assert.equal(loadConfig({ CAUSERIE_EDIT_MINUTES: "0" }).editMinutes, 0);
  assert.equal(loadConfig({ CAUSERIE_EDIT_MINUTES: "0.5" }).editMinutes, 0.5);
  assert.equal(loadConfig({ CAUSERIE_EDIT_MINUTES: "525600" }).editMinutes, 525600);
  assert.ok(CONFIG_VARIABLES.some((v) => v.name === "CAUSERIE_EDIT_MINUTES" && v.default === "15"));
});

Deno.test("loadConfig: CAUSERIE_ALLOWED_ORIGINS takes origins only", () => {
  for (const bad of ["chat.example.org", "https://chat.example.org/app", "ftp://x.example", "*"]) {
    assertRefused(
      { CAUSERIE_ALLOWED_ORIGINS: bad },
      "CAUSERIE_ALLOWED_ORIGINS",
      /comma-separated origins/,
    );
  }
  for (const bad of ["8", "0", "x"]) {
    assertRefused({ CAUSERIE_MAX_CONNECTIONS: bad }, "CAUSERIE_MAX_CONNECTIONS", /whole number/);
  }
});

Deno.test("loadConfig: CAUSERIE_PORT must be a whole number from 0 to 65535", () => {
  for (const bad of ["abc", "70000", "65536", "-1", "80.5", "8e3"]) {
    assertRefused({ CAUSERIE_PORT: bad }, "CAUSERIE_PORT", /whole number from 0 to 65535/);
  }
  assert.equal(loadConfig({ CAUSERIE_PORT: "65535" }).port, 65535);
});

Deno.test("loadConfig: CAUSERIE_KICK_MINUTES must be a positive number, fractions allowed", () => {
  for (const bad of ["0", "x", "-5", "0.0", "1e2", "525601"]) {
    assertRefused({ CAUSERIE_KICK_MINUTES: bad }, "CAUSERIE_KICK_MINUTES", /positive number/);
  }
  assert.equal(loadConfig({ CAUSERIE_KICK_MINUTES: "0.5" }).kickMinutes, 0.5);
  assert.equal(loadConfig({ CAUSERIE_KICK_MINUTES: "90" }).kickMinutes, 90);
});

Deno.test("loadConfig: the other numeric variables are checked", () => {
  const cases: [string, string, RegExp][] = [
    ["CAUSERIE_SHUTDOWN_SECONDS", "0", /whole number from 1 to 3600/],
    ["CAUSERIE_SHUTDOWN_SECONDS", "ten", /whole number/],
    ["CAUSERIE_RATE_PER_SECOND", "0", /positive number/],
    ["CAUSERIE_RATE_BURST", "0", /whole number from 1/],
    ["CAUSERIE_RATE_BURST", "1.5", /whole number/],
    ["CAUSERIE_MAX_TEXT", "0", /whole number from 1/],
    ["CAUSERIE_MAX_TEXT", "lots", /whole number/],
    ["CAUSERIE_MAX_SESSIONS", "0", /whole number from 1/],
  ];
  for (const [variable, value, expected] of cases) {
    assertRefused({ [variable]: value }, variable, expected);
  }
});

Deno.test("loadConfig: CAUSERIE_DB accepts sqlite and mysql URLs only", () => {
  for (const good of ["sqlite::memory:", "sqlite:/var/lib/causerie.db", "mysql://u:p@h:3306/db"]) {
    assert.equal(loadConfig({ CAUSERIE_DB: good }).db, good);
  }
  assertRefused({ CAUSERIE_DB: "postgres://x" }, "CAUSERIE_DB", /sqlite:PATH.*mysql:\/\//);
  assertRefused({ CAUSERIE_DB: "sqlite:" }, "CAUSERIE_DB", /file path after sqlite:/);
  assertRefused({ CAUSERIE_DB: "mysql://host-only" }, "CAUSERIE_DB", /mysql:\/\/user:password@/);
});

Deno.test("loadConfig: CAUSERIE_LOG_LEVEL must be one of four levels", () => {
  assertRefused({ CAUSERIE_LOG_LEVEL: "loud" }, "CAUSERIE_LOG_LEVEL", /debug, info, warn or error/);
  for (const level of ["debug", "info", "warn", "error"]) {
    assert.equal(loadConfig({ CAUSERIE_LOG_LEVEL: level }).logLevel, level);
  }
});

Deno.test("loadConfig: CAUSERIE_LOG_FORMAT is json or pretty", () => {
  assertRefused({ CAUSERIE_LOG_FORMAT: "xml" }, "CAUSERIE_LOG_FORMAT", /expected json or pretty/);
  assertRefused({ CAUSERIE_LOG_FORMAT: "json," }, "CAUSERIE_LOG_FORMAT", /"json,"/);
  assert.equal(loadConfig({}).logFormat, "json");
  for (const format of ["json", "pretty", " PRETTY "]) {
    assert.equal(
      loadConfig({ CAUSERIE_LOG_FORMAT: format }).logFormat,
      format.trim().toLowerCase(),
    );
  }
});

Deno.test("loadConfig: CAUSERIE_ADMIN_PASSWORD must be 8 to 256 characters", () => {
  assertRefused({ CAUSERIE_ADMIN_PASSWORD: "short" }, "CAUSERIE_ADMIN_PASSWORD", /at least 8/);
  assertRefused(
    { CAUSERIE_ADMIN_PASSWORD: "x".repeat(257) },
    "CAUSERIE_ADMIN_PASSWORD",
    /at most 256/,
  );
  // Kept verbatim, surrounding spaces included.
  assert.equal(loadConfig({ CAUSERIE_ADMIN_PASSWORD: " pass word " }).adminPassword, " pass word ");
  // The refusal never echoes the password.
  assert.throws(
    () => loadConfig({ CAUSERIE_ADMIN_PASSWORD: "s3cr3t" }),
    (e: unknown) => !(e as Error).message.includes("s3cr3t"),
  );
});

Deno.test("loadConfig: CAUSERIE_HOST must be a host name", () => {
  assertRefused({ CAUSERIE_HOST: "http://x" }, "CAUSERIE_HOST", /host name or IP address/);
  assertRefused({ CAUSERIE_HOST: "my host" }, "CAUSERIE_HOST", /host name or IP address/);
});

Deno.test("loadConfig: a bad CAUSERIE_SALONS is a ConfigError naming it", () => {
  const cases: [string, RegExp][] = [
    ["Général:open,Blabla:open", /exactly one salon must have policy auto.*found 0/],
    ["Général:auto,Blabla:auto", /exactly one salon must have policy auto.*found 2/],
    ["Général:auto,Blabla:open,BLABLA:approval", /listed twice/],
    ["Général:auto,Blabla:public", /policy "public"; use auto, open or approval/],
    [" , ,", /at least one "Name:policy" entry/],
    ["Général:auto,Blabla", /"Blabla" must be written Name:policy/],
  ];
  for (const [value, expected] of cases) {
    assertRefused({ CAUSERIE_SALONS: value }, "CAUSERIE_SALONS", expected);
  }
});

Deno.test("parseSalons: the default list gives the five salons", () => {
  assert.deepEqual(parseSalons(DEFAULT_SALONS), DEFAULT_SALON_LIST);
});

Deno.test("parseSalons: names are trimmed and stored in NFC", () => {
  assert.deepEqual(parseSalons(" Ge\u0301ne\u0301ral : auto ,Salle de jeux:open,"), [
    { name: "G\u00e9n\u00e9ral", policy: "auto" },
    { name: "Salle de jeux", policy: "open" },
  ]);
});

Deno.test("parseSalons: exactly one auto salon", () => {
  assert.throws(() => parseSalons("A:open,B:approval"), /exactly one .* auto.*found 0/);
  assert.throws(() => parseSalons("A:auto,B:auto"), /exactly one .* auto.*found 2/);
});

Deno.test("parseSalons: duplicates are found after case folding and NFC", () => {
  assert.throws(() => parseSalons("Blabla:auto,blabla:open"), /"blabla" is listed twice/);
  assert.throws(() => parseSalons("Général:auto,GÉNÉRAL:open"), /listed twice/);
  assert.throws(() => parseSalons("Général:auto,Ge\u0301ne\u0301ral:open"), /listed twice/);
  // Accents matter: these are two salons.
  assert.equal(parseSalons("Général:auto,General:open").length, 2);
});

Deno.test("parseSalons: malformed entries say what to write", () => {
  assert.throws(() => parseSalons("Général:auto,Blabla:public"), /use auto, open or approval/);
  assert.throws(() => parseSalons("Général:auto,Blabla:"), /use auto, open or approval/);
  assert.throws(() => parseSalons(""), /at least one "Name:policy" entry/);
  assert.throws(() => parseSalons(",,"), /at least one "Name:policy" entry/);
  assert.throws(() => parseSalons("Général"), /must be written Name:policy/);
  assert.throws(() => parseSalons(":auto"), /must be written Name:policy/);
  assert.throws(() => parseSalons("a:b:auto"), /must not contain ':'/);
  assert.throws(() => parseSalons(`${"x".repeat(65)}:auto`), /at most 64 characters/);
  assert.throws(() => parseSalons("Bad\u0007Bell:auto"), /must not contain control/);
});

Deno.test("loadConfig: the request budget (CAUSERIE_REQUEST_BURST, CAUSERIE_REQUEST_PER_SECOND)", () => {
  const defaults = loadConfig({});
  assert.equal(defaults.requestBurst, 40);
  assert.equal(defaults.requestPerSecond, 20);
  const set = loadConfig({ CAUSERIE_REQUEST_BURST: "80", CAUSERIE_REQUEST_PER_SECOND: "2.5" });
  assert.equal(set.requestBurst, 80);
  assert.equal(set.requestPerSecond, 2.5);
  assertRefused({ CAUSERIE_REQUEST_BURST: "0" }, "CAUSERIE_REQUEST_BURST", /whole number from 1/);
  assertRefused({ CAUSERIE_REQUEST_BURST: "1.5" }, "CAUSERIE_REQUEST_BURST", /whole number/);
  assertRefused(
    { CAUSERIE_REQUEST_PER_SECOND: "0" },
    "CAUSERIE_REQUEST_PER_SECOND",
    /positive number/,
  );
  assert.ok(CONFIG_VARIABLES.some((v) => v.name === "CAUSERIE_REQUEST_BURST"));
  assert.ok(CONFIG_VARIABLES.some((v) => v.name === "CAUSERIE_REQUEST_PER_SECOND"));
});

Deno.test("loadConfig: CAUSERIE_PRESENCE_SALON_MAX is a whole number from 1", () => {
  for (const value of ["0", "-5", "1.5", "many", "10000001"]) {
    assertRefused(
      { CAUSERIE_PRESENCE_SALON_MAX: value },
      "CAUSERIE_PRESENCE_SALON_MAX",
      /whole number from 1 to 10000000/,
    );
  }
  assert.equal(loadConfig({ CAUSERIE_PRESENCE_SALON_MAX: "1" }).presenceSalonMax, 1);
});

// --- several instances (issue 15) ---------------------------------------------------------------

const MYSQL_DB = "mysql://u:p@db.example:3306/causerie";

Deno.test("loadConfig: without CAUSERIE_BUS there is no cluster (one process, as before)", () => {
  assert.equal("cluster" in loadConfig({}), false);
  assert.equal("cluster" in loadConfig({ CAUSERIE_DB: MYSQL_DB }), false);
  assert.deepEqual(
    loadConfig({ CAUSERIE_DB: MYSQL_DB, CAUSERIE_BUS: "redis://r:6379/0" }).cluster,
    {
      bus: "redis://r:6379/0",
      beatMs: 2000,
      deadMs: 10_000,
      gapWaitMs: 200,
      checkMs: 1000,
      probeMs: 5000,
    },
  );
  for (const url of ["redis://r", "redis://r:6379", "rediss://:secret@r:6380/15"]) {
    assert.equal(loadConfig({ CAUSERIE_DB: MYSQL_DB, CAUSERIE_BUS: url }).cluster?.bus, url);
  }
  for (
    const name of [
      "CAUSERIE_BUS",
      "CAUSERIE_NODE_BEAT_MS",
      "CAUSERIE_NODE_DEAD_MS",
      "CAUSERIE_SALON_GAP_WAIT_MS",
      "CAUSERIE_SALON_CHECK_MS",
    ]
  ) {
    assert.ok(CONFIG_VARIABLES.some((v) => v.name === name), name);
  }
});

Deno.test("loadConfig: CAUSERIE_BUS with SQLite stops start-up with one line naming both variables", () => {
  const dbs: Record<string, string>[] = [{}, { CAUSERIE_DB: "sqlite::memory:" }, {
    CAUSERIE_DB: "sqlite:x.db",
  }];
  for (const db of dbs) {
    assertRefused(
      { ...db, CAUSERIE_BUS: "redis://127.0.0.1:6379/0" },
      "CAUSERIE_BUS",
      /^CAUSERIE_BUS: .*CAUSERIE_DB is sqlite: set CAUSERIE_DB=mysql:\/\/.*unset CAUSERIE_BUS[^\n]*$/,
    );
  }
});

Deno.test("loadConfig: a malformed CAUSERIE_BUS is refused", () => {
  for (
    const bad of [
      "127.0.0.1:6379",
      "http://r:6379/0",
      "redis://",
      "redis://r:6379/zero",
      "redis://r:6379/0/1",
      "redis://r:6379/0?db=1",
      "redis://r:99999/0",
      "nats://r:4222",
    ]
  ) {
    assertRefused({ CAUSERIE_DB: MYSQL_DB, CAUSERIE_BUS: bad }, "CAUSERIE_BUS", /redis:\/\/host/);
  }
});

Deno.test("loadConfig: node timings are whole milliseconds, the dead delay at least two beats", () => {
  for (const bad of ["0", "-5", "1.5", "two", "3600001"]) {
    assertRefused(
      { CAUSERIE_SALON_GAP_WAIT_MS: bad },
      "CAUSERIE_SALON_GAP_WAIT_MS",
      /whole number/,
    );
    assertRefused({ CAUSERIE_SALON_CHECK_MS: bad }, "CAUSERIE_SALON_CHECK_MS", /whole number/);
    assertRefused({ CAUSERIE_NODE_BEAT_MS: bad }, "CAUSERIE_NODE_BEAT_MS", /whole number/);
    assertRefused({ CAUSERIE_NODE_DEAD_MS: bad }, "CAUSERIE_NODE_DEAD_MS", /whole number/);
  }
  assertRefused(
    { CAUSERIE_NODE_BEAT_MS: "1000", CAUSERIE_NODE_DEAD_MS: "1999" },
    "CAUSERIE_NODE_DEAD_MS",
    /at least twice CAUSERIE_NODE_BEAT_MS \(2000\)/,
  );
  const config = loadConfig({
    CAUSERIE_DB: MYSQL_DB,
    CAUSERIE_BUS: "redis://r/0",
    CAUSERIE_NODE_BEAT_MS: "100",
    CAUSERIE_NODE_DEAD_MS: "200",
  });
  assert.deepEqual(config.cluster, {
    bus: "redis://r/0",
    beatMs: 100,
    deadMs: 200,
    gapWaitMs: 200,
    checkMs: 1000,
    probeMs: 5000,
  });
});

Deno.test("loadConfig: CAUSERIE_BUS_PROBE_MS is the self-probe's interval, 50 ms to an hour", () => {
  const env = { CAUSERIE_DB: MYSQL_DB, CAUSERIE_BUS: "redis://r/0" };
  assert.equal(loadConfig({ ...env, CAUSERIE_BUS_PROBE_MS: "250" }).cluster?.probeMs, 250);
  for (const bad of ["0", "49", "-5", "abc", "3600001", "1.5"]) {
    assertRefused({ ...env, CAUSERIE_BUS_PROBE_MS: bad }, "CAUSERIE_BUS_PROBE_MS", /./);
  }
  assert.ok(
    CONFIG_VARIABLES.some((v) => v.name === "CAUSERIE_BUS_PROBE_MS" && v.default === "5000"),
  );
});
