/**
 * The admin command line (PROTOCOL.md section 4) against a running server:
 * `deno run cli/main.ts ...` as a child process talking to the admin socket
 * of an in-process server. Every command's effect is checked through the
 * HTTP API or a connected WebSocket client; exit statuses 0, 1, 2 and 64;
 * and `console` fed from a pipe, with the original server's syntax.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  assertServed,
  type Frame,
  http,
  loginHttp,
  registerHttp,
  session,
  startTestServer,
  type TestClient,
  type TestServer,
} from "./ws_client.ts";

const ROOT = new URL("..", import.meta.url);
const GENERAL = "Général";
const MARKETING = "Marketing";
const COMPTA = "Comptabilité";
const ADMIN_PASSWORD = `admin-${crypto.randomUUID()}`;
/** Longest wait for a CLI child, ms. */
const CHILD_MS = 30_000;
/** Longest wait for a frame, ms. */
const WAIT = 15_000;
const MINUTE = 60_000;

const pw = (name: string) => `${name} long password`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `deno run --allow-all cli/main.ts ...args` with CAUSERIE_ADMIN_SOCKET
 * set to `socket` (any other CAUSERIE_* blanked); `stdin` is piped in and
 * closed when given.
 */
async function cli(args: string[], socket: string, stdin?: string): Promise<Run> {
  return await child(["run", "--allow-all", "cli/main.ts", ...args], socket, stdin);
}

async function child(args: string[], socket: string, stdin?: string): Promise<Run> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const key of Object.keys(Deno.env.toObject())) {
    if (key.startsWith("CAUSERIE_")) env[key] = "";
  }
  env.CAUSERIE_ADMIN_SOCKET = socket;
  const proc = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const guard = setTimeout(() => {
    try {
      proc.kill("SIGKILL");
    } catch { /* already gone */ }
  }, CHILD_MS);
  try {
    if (stdin !== undefined) {
      const writer = proc.stdin.getWriter();
      try {
        await writer.write(new TextEncoder().encode(stdin));
      } finally {
        await writer.close().catch(() => {});
      }
    }
    const out = await proc.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    clearTimeout(guard);
  }
}

/** A readable description of a run, for assertion messages. */
function shown(run: Run): string {
  return `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}

/** Asserts exit status 0 and returns stdout. */
function ok(run: Run): string {
  assert.equal(run.code, 0, shown(run));
  return run.stdout;
}

/** The rows of a CLI table (header and rule removed), as cells. */
function rows(table: string): string[][] {
  const lines = table.trimEnd().split("\n");
  assert.ok(lines.length >= 2 && /^-+( +-+)*$/.test(lines[1]), `not a table:\n${table}`);
  return lines.slice(2).map((l) => l.split(/ {2,}/));
}

/** The header cells of a CLI table. */
function header(table: string): string[] {
  return table.split("\n")[0].trim().split(/ {2,}/);
}

/** A server with its admin socket in a temp dir, and an admin bearer token for the HTTP API. */
interface Ctx {
  srv: TestServer;
  dir: string;
  socket: string;
  adminToken: string;
  /** An admin API call over HTTP with the admin token; the body is consumed. */
  api(method: string, path: string, body?: unknown): ReturnType<typeof http>;
}

async function withServer(
  env: Record<string, string>,
  fn: (ctx: Ctx) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "causerie-cli-" });
  const socket = `${dir}/admin.sock`;
  let srv: TestServer | undefined;
  try {
    srv = await startTestServer({
      CAUSERIE_ADMIN_SOCKET: socket,
      CAUSERIE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      ...env,
    }, { adminSocket: true });
    const adminToken = await loginHttp(srv.url, "admin", ADMIN_PASSWORD);
    const url = srv.url;
    await fn({
      srv,
      dir,
      socket,
      adminToken,
      api: (method, path, body) =>
        http(url, method, path, body, { authorization: `Bearer ${adminToken}` }),
    });
  } finally {
    await srv?.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Registers `name` (alias: capitalized name) and opens a welcomed session. */
async function member(srv: TestServer, name: string): Promise<TestClient> {
  await registerHttp(srv.url, name, name[0].toUpperCase() + name.slice(1), pw(name));
  const { client } = await session(srv, { username: name, password: pw(name) }, name);
  return client;
}

/** Sends `join` and expects `join_pending`. */
async function requestJoin(client: TestClient, salon: string): Promise<void> {
  const answer = await client.request({ type: "join", salon }, WAIT);
  assert.deepEqual({ type: answer.type, salon: answer.salon }, { type: "join_pending", salon });
}

/** The pending requests, as `salon/username`, from the HTTP API. */
async function pending(ctx: Ctx): Promise<string[]> {
  const res = await ctx.api("GET", "/admin/join-requests");
  assert.equal(res.status, 200, res.text);
  return (res.body!.pending as Frame[]).map((p) => `${p.salon}/${p.username}`);
}

/** A login over HTTP: status and body. */
function login(srv: TestServer, username: string) {
  return http(srv.url, "POST", "/api/login", { username, password: pw(username) });
}

/** Waits for the close of a socket and returns its code. */
async function closeCode(client: TestClient): Promise<number> {
  return (await client.waitClosed(WAIT)).code;
}

Deno.test("every one-shot command takes effect, checked through the API and the sockets", async (t) => {
  await withServer({ CAUSERIE_SHUTDOWN_SECONDS: "600" }, async (ctx) => {
    const { srv, socket } = ctx;
    const watcher = await member(srv, "watcher");
    const alice = await member(srv, "alice");
    const bob = await member(srv, "bob");
    const carol = await member(srv, "carol");
    const dave = await member(srv, "dave");

    await t.step("users: the table lists every account with its role and status", async () => {
      const out = ok(await cli(["users"], socket));
      assert.deepEqual(header(out), ["USERNAME", "ALIAS", "ROLE", "STATUS", "SANCTION"]);
      const byName = new Map(rows(out).map((r) => [r[0], r]));
      const listed = await ctx.api("GET", "/admin/users");
      assert.equal(listed.status, 200, listed.text);
      for (const u of listed.body!.users as Frame[]) {
        const row = byName.get(u.username);
        assert.ok(row, `${u.username} missing from:\n${out}`);
        assert.deepEqual(row.slice(1, 4), [u.alias, u.role, u.status], out);
      }
      for (const name of ["admin", "watcher", "alice", "bob", "carol", "dave"]) {
        assert.ok(byName.has(name), `${name} missing from:\n${out}`);
      }
      assert.equal(byName.get("alice")![3], "online", out);
      assert.equal(byName.get("admin")![2], "admin", out);
      assert.equal(byName.get("admin")![3], "offline", out);
    });

    await t.step("requests: the table lists the pending join requests", async () => {
      await requestJoin(alice, MARKETING);
      await requestJoin(bob, COMPTA);
      const out = ok(await cli(["requests"], socket));
      assert.deepEqual(header(out), ["SALON", "USERNAME", "ALIAS", "SINCE"]);
      const listed = rows(out).map((r) => `${r[0]}/${r[1]}`).sort();
      assert.deepEqual(listed, [`${COMPTA}/bob`, `${MARKETING}/alice`].sort(), out);
      assert.deepEqual(listed, (await pending(ctx)).sort());
    });

    await t.step("accept USER SALON (with --socket): the requester gets joined", async () => {
      // The environment names a socket that does not exist: --socket wins.
      const out = ok(
        await cli(["--socket", socket, "accept", "alice", MARKETING], `${ctx.dir}/nowhere.sock`),
      );
      assert.match(out, /accepted alice in Marketing/);
      const joined = await alice.next(
        (f) => f.type === "joined" && f.salon === MARKETING,
        WAIT,
        "joined Marketing",
      );
      assert.equal(joined.ref, undefined);
      const said = await alice.request({ type: "say", salon: MARKETING, text: "merci" }, WAIT);
      assert.equal(said.type, "ok", JSON.stringify(said));
      assert.ok(!(await pending(ctx)).includes(`${MARKETING}/alice`));
    });

    await t.step("reject USER SALON: the requester gets join_rejected", async () => {
      const out = ok(await cli(["reject", "bob", COMPTA], socket));
      assert.match(out, /rejected bob in Comptabilité/);
      await bob.next(
        (f) => f.type === "join_rejected" && f.salon === COMPTA,
        WAIT,
        "join_rejected Comptabilité",
      );
      const said = await bob.request({ type: "say", salon: COMPTA, text: "puis-je ?" }, WAIT);
      assert.equal(said.code, "not_member", JSON.stringify(said));
      assert.deepEqual(await pending(ctx), []);
    });

    await t.step(
      "kick USER --minutes N --reason R: kicked, close 4403, login refused until then",
      async () => {
        const before = Date.now();
        const out = ok(
          await cli(["kick", "carol", "--minutes", "1.5", "--reason", "trop de bruit"], socket),
        );
        const after = Date.now();
        const kicked = await carol.nextOfType("kicked", WAIT);
        assert.equal(kicked.reason, "trop de bruit");
        const until = Date.parse(kicked.until);
        assert.ok(
          until >= before + 1.5 * MINUTE && until <= after + 1.5 * MINUTE,
          `until ${kicked.until} is not 1.5 minutes after the command`,
        );
        assert.ok(out.includes(kicked.until), `the output does not say until when:\n${out}`);
        assert.equal(await closeCode(carol), 4403);
        const refused = await login(srv, "carol");
        assert.equal(refused.status, 403, refused.text);
        assert.equal(refused.body?.error?.code, "banned", refused.text);
        assert.equal(refused.body?.error?.until, kicked.until, refused.text);
      },
    );

    await t.step("ban USER --purge --reason R: banned, close 4403, messages deleted", async () => {
      const said = await dave.request({ type: "say", salon: GENERAL, text: "achetez !" }, WAIT);
      assert.equal(said.type, "ok", JSON.stringify(said));
      const out = ok(await cli(["ban", "dave", "--purge", "--reason", "spam"], socket));
      assert.match(out, /banned dave/);
      const banned = await dave.nextOfType("banned", WAIT);
      assert.equal(banned.reason, "spam");
      assert.equal(await closeCode(dave), 4403);
      const refused = await login(srv, "dave");
      assert.equal(refused.status, 403, refused.text);
      assert.equal(refused.body?.error?.code, "banned", refused.text);
      const history = await watcher.request({ type: "history", salon: GENERAL }, WAIT);
      assert.equal(history.type, "history", JSON.stringify(history));
      assert.ok(
        !(history.messages as Frame[]).some((m) => m.id === said.id || m.from.username === "dave"),
        `dave's message is still in the history: ${JSON.stringify(history.messages)}`,
      );
      const listed = await ctx.api("GET", "/admin/users");
      const entry = (listed.body!.users as Frame[]).find((u) => u.username === "dave");
      assert.equal(entry?.banned, true, listed.text);
    });

    await t.step("unban USER: the kick and the ban are lifted, login works again", async () => {
      assert.match(ok(await cli(["unban", "carol"], socket)), /unbanned carol/);
      assert.match(ok(await cli(["unban", "dave"], socket)), /unbanned dave/);
      for (const name of ["carol", "dave"]) {
        const res = await login(srv, name);
        assert.equal(res.status, 200, `${name}: ${res.text}`);
      }
    });

    await t.step("announce TEXT: every connected session gets notice", async () => {
      const text = "Maintenance à 18 h — merci de votre patience";
      assert.match(ok(await cli(["announce", text], socket)), /announced/);
      for (const client of [watcher, alice, bob]) {
        const notice = await client.nextOfType("notice", WAIT);
        assert.equal(notice.text, text);
        assert.ok(!Number.isNaN(Date.parse(notice.at)), JSON.stringify(notice));
      }
    });

    await t.step(
      "shutdown --seconds N, then cancel-shutdown: shutdown then shutdown_cancelled",
      async () => {
        const out = ok(await cli(["shutdown", "--seconds", "600"], socket));
        assert.match(out, /\b600 seconds\b/);
        for (const client of [watcher, alice]) {
          const frame = await client.nextOfType("shutdown", WAIT);
          assert.equal(frame.seconds, 600);
        }
        assert.equal((await http(srv.url, "GET", "/readyz")).status, 503);
        assert.match(ok(await cli(["cancel-shutdown"], socket)), /cancelled/);
        for (const client of [watcher, alice]) await client.nextOfType("shutdown_cancelled", WAIT);
        assert.equal((await http(srv.url, "GET", "/readyz")).status, 200);
        await assertServed(watcher);
      },
    );

    await t.step(
      "user create USER --alias A --role admin, password on stdin: login as admin",
      async () => {
        const password = "erin's secret password";
        const run = await cli(
          ["user", "create", "erin", "--alias", "Erin E", "--role", "admin"],
          socket,
          `${password}\n`,
        );
        assert.match(ok(run), /created erin \(admin\)/);
        assert.ok(!run.stdout.includes(password) && !run.stderr.includes(password), shown(run));
        const res = await http(srv.url, "POST", "/api/login", { username: "erin", password });
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.body!.user, { username: "erin", alias: "Erin E", role: "admin" });
      },
    );

    await t.step("audit: every act above, by server via socket", async () => {
      const out = ok(await cli(["audit"], socket));
      assert.deepEqual(header(out), ["AT", "ACTOR", "ACTION", "TARGET", "REASON", "VIA"]);
      const lines = out.trimEnd().split("\n").slice(2);
      const expected: Array<[string, string]> = [
        ["accept", `alice@${MARKETING}`],
        ["reject", `bob@${COMPTA}`],
        ["kick", "carol"],
        ["ban", "dave"],
        ["unban", "carol"],
        ["unban", "dave"],
        ["announce", ""],
        ["shutdown", ""],
        ["cancel_shutdown", ""],
        ["create_user", "erin"],
      ];
      for (const [action, target] of expected) {
        const line = lines.find((l) => {
          const cells = l.split(/ {2,}/);
          return cells[1] === "server" && cells[2] === action &&
            (target === "" || cells[3] === target);
        });
        assert.ok(line, `no ${action} ${target} by server in:\n${out}`);
        assert.match(line, /\bsocket$/, `not via socket: ${line}`);
      }
      const kick = lines.find((l) => l.split(/ {2,}/)[2] === "kick")!;
      assert.match(kick, /trop de bruit/);
      // The same entries as the API, newest first.
      const api = await ctx.api("GET", "/admin/audit");
      assert.equal(api.status, 200, api.text);
      const entries = api.body!.entries as Frame[];
      assert.equal(lines.length, entries.length, out);
      entries.forEach((e, i) => {
        assert.ok(
          lines[i].startsWith(`${e.at}  ${e.actor}`),
          `${lines[i]} vs ${JSON.stringify(e)}`,
        );
        assert.ok(lines[i].includes(e.action), lines[i]);
      });
    });

    await t.step("actors: the live actor tree", async () => {
      const out = ok(await cli(["actors"], socket));
      assert.deepEqual(header(out), ["ID", "MACHINE", "STATE", "PARENT"]);
      const table = rows(out);
      const ids = new Set(table.map((r) => r[0]));
      const root = table.find((r) => r[0] === "server");
      assert.ok(root, out);
      assert.equal(root[1], "server", out);
      assert.equal(table.filter((r) => r[1] === "salon").length, 5, `five salons:\n${out}`);
      assert.ok(table.filter((r) => r[1] === "connection").length >= 3, out);
      const api = await ctx.api("GET", "/admin/actors");
      assert.equal(api.status, 200, api.text);
      for (const a of api.body!.actors as Frame[]) {
        if (a.machine === "connection" || a.machine === "salon" || a.machine === "server") {
          assert.ok(ids.has(a.id), `${a.id} (${a.machine}) missing from:\n${out}`);
        }
      }
    });
  });
});

Deno.test("exit status 1 with the server's message when the server refuses", async () => {
  await withServer({}, async (ctx) => {
    const { srv, socket } = ctx;
    const alice = await member(srv, "alice");
    const cases: Array<{ args: string[]; method: string; path: string; body?: unknown }> = [
      { args: ["kick", "nobody"], method: "POST", path: "/admin/users/nobody/kick" },
      {
        args: ["accept", "alice", "Nowhere"],
        method: "POST",
        path: "/admin/join-requests/Nowhere/alice/accept",
      },
      {
        args: ["reject", "alice", MARKETING],
        method: "POST",
        path: `/admin/join-requests/${MARKETING}/alice/reject`,
      },
      { args: ["cancel-shutdown"], method: "DELETE", path: "/admin/shutdown" },
    ];
    for (const c of cases) {
      const run = await cli(c.args, socket);
      const answer = await ctx.api(c.method, c.path, c.body);
      assert.ok(answer.status >= 400 && answer.status < 500, answer.text);
      const message = answer.body!.error.message as string;
      assert.equal(run.code, 1, `${c.args.join(" ")}: ${shown(run)}`);
      assert.ok(
        run.stderr.includes(message),
        `${c.args.join(" ")}: stderr lacks the server's message "${message}":\n${shown(run)}`,
      );
    }
    // Nothing happened to anyone.
    await assertServed(alice);
    assert.equal((await http(srv.url, "GET", "/readyz")).status, 200);

    // A second countdown while one runs.
    const started = await ctx.api("POST", "/admin/shutdown", { seconds: 600 });
    assert.equal(started.status, 202, started.text);
    await alice.nextOfType("shutdown", WAIT);
    const run = await cli(["shutdown", "--seconds", "5"], socket);
    const answer = await ctx.api("POST", "/admin/shutdown", { seconds: 5 });
    assert.equal(answer.status, 409, answer.text);
    assert.equal(run.code, 1, shown(run));
    assert.ok(run.stderr.includes(answer.body!.error.message), shown(run));
    const cancelled = await ctx.api("DELETE", "/admin/shutdown");
    assert.equal(cancelled.status, 200, cancelled.text);
    await alice.nextOfType("shutdown_cancelled", WAIT);
    const countdown = alice.frames.filter((f) => f.type === "shutdown").map((f) => f.seconds);
    assert.equal(countdown[0], 600, JSON.stringify(countdown));
    assert.ok(!countdown.includes(5), `the refused countdown started: ${countdown}`);
  });
});

Deno.test("exit status 2 with the socket path when the server cannot be reached", async () => {
  const dir = await Deno.makeTempDir({ prefix: "causerie-cli-" });
  try {
    // No file at all.
    const missing = `${dir}/missing.sock`;
    const run = await cli(["users"], missing);
    assert.equal(run.code, 2, shown(run));
    assert.ok(run.stderr.includes(missing), shown(run));

    // A socket file left by a server that died: nobody listens.
    const stale = `${dir}/stale.sock`;
    const holder = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `const l = Deno.listen({ transport: "unix", path: ${
          JSON.stringify(stale)
        } }); console.log("ready"); await l.accept();`,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    try {
      const reader = holder.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let seen = "";
      while (!seen.includes("ready")) {
        const { done, value } = await reader.read();
        if (done) break;
        seen += value;
      }
      holder.kill("SIGKILL");
      while (!(await reader.read()).done) { /* drain */ }
    } finally {
      try {
        holder.kill("SIGKILL");
      } catch { /* already gone */ }
      await holder.status;
    }
    assert.ok((await Deno.lstat(stale)).isSocket, "the stale socket file should remain");
    const staleRun = await cli(["announce", "hello"], stale);
    assert.equal(staleRun.code, 2, shown(staleRun));
    assert.ok(staleRun.stderr.includes(stale), shown(staleRun));

    // A server started on that path removes the stale file and answers there.
    const srv = await startTestServer({ CAUSERIE_ADMIN_SOCKET: stale }, { adminSocket: true });
    try {
      const users = await cli(["users"], stale);
      assert.equal(users.code, 0, shown(users));
    } finally {
      await srv.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("exit status 64 for usage mistakes, with nothing done", async () => {
  await withServer({}, async (ctx) => {
    const { srv, socket } = ctx;
    const alice = await member(srv, "alice");
    const cases: Array<{ args: string[]; says: RegExp; stdin?: string }> = [
      { args: ["kick"], says: /USER/ },
      { args: ["frobnicate"], says: /frobnicate/ },
      { args: ["kick", "alice", "--minutes", "abc"], says: /--minutes.*abc/ },
      { args: ["user", "create", "zed", "--alias", "Zed"], says: /password/, stdin: "" },
    ];
    for (const c of cases) {
      const run = await cli(c.args, socket, c.stdin);
      assert.equal(run.code, 64, `${c.args.join(" ")}: ${shown(run)}`);
      assert.match(run.stderr, c.says, shown(run));
    }
    // alice was not kicked, zed was not created.
    await assertServed(alice);
    const users = await ctx.api("GET", "/admin/users");
    assert.ok(!(users.body!.users as Frame[]).some((u) => u.username === "zed"), users.text);
    const res = await login(srv, "alice");
    assert.equal(res.status, 200, res.text);
    const audit = await ctx.api("GET", "/admin/audit");
    assert.deepEqual(audit.body!.entries, [], audit.text);
  });
});

Deno.test("deno task admin (the documented entry point, with its own permissions) works", async () => {
  await withServer({}, async (ctx) => {
    const out = ok(await child(["task", "--quiet", "admin", "users"], ctx.socket));
    assert.ok(rows(out).some((r) => r[0] === "admin"), out);
  });
});

Deno.test("console from a pipe: our commands and the original syntax, errors on stderr, exit 0 at the end", async () => {
  await withServer({ CAUSERIE_SHUTDOWN_SECONDS: "30" }, async (ctx) => {
    const { srv, socket } = ctx;
    const watcher = await member(srv, "watcher");
    const alice = await member(srv, "alice");
    const bob = await member(srv, "bob");
    const carol = await member(srv, "carol");
    const dave = await member(srv, "dave");
    await requestJoin(carol, MARKETING);
    await requestJoin(dave, COMPTA);

    const input = [
      "users",
      "frobnicate",
      "KICK:nobody",
      "KICK:alice",
      "BAN:bob",
      `ACCEPT:carol:${MARKETING}`,
      `REJECT:dave:${COMPTA}`,
      "KILL",
      "no-such-command at all",
    ].join("\n") + "\n";
    const before = Date.now();
    const run = await cli(["console"], socket, input);
    const after = Date.now();
    assert.equal(run.code, 0, shown(run));

    // users
    for (const name of ["admin", "watcher", "alice", "bob", "carol", "dave"]) {
      assert.match(run.stdout, new RegExp(`^${name} `, "m"), `${name} not listed:\n${run.stdout}`);
    }
    // One answer per successful line, in the order of the input.
    const answers = run.stdout.split("\n").filter((l) => !/^\S+ {2}|^-+ |^USERNAME/.test(l));
    const expected = [
      /^kicked alice until \S+/,
      /^banned bob$/,
      /^accepted carol in Marketing$/,
      /^rejected dave in Comptabilité$/,
      /^shutting down in 30 seconds/,
    ];
    let at = 0;
    for (const pattern of expected) {
      const i = answers.findIndex((l, k) => k >= at && pattern.test(l));
      assert.ok(i >= 0, `no line matching ${pattern} in order in:\n${run.stdout}`);
      at = i + 1;
    }
    // Three errors on stderr, and the console went on after each.
    const errors = run.stderr.trimEnd().split("\n").filter((l) => l.startsWith("error:"));
    assert.equal(errors.length, 3, shown(run));
    assert.match(errors[0], /frobnicate/);
    assert.match(errors[1], /nobody/);
    assert.match(errors[2], /no-such-command/);

    // KICK:alice — default length (5 minutes).
    const kicked = await alice.nextOfType("kicked", WAIT);
    const until = Date.parse(kicked.until);
    assert.ok(
      until >= before + 5 * MINUTE && until <= after + 5 * MINUTE,
      `until ${kicked.until} is not the default 5 minutes`,
    );
    assert.equal(await closeCode(alice), 4403);
    // BAN:bob
    await bob.nextOfType("banned", WAIT);
    assert.equal(await closeCode(bob), 4403);
    // ACCEPT:carol:Marketing and REJECT:dave:Comptabilité
    await carol.next((f) => f.type === "joined" && f.salon === MARKETING, WAIT, "joined");
    await dave.next((f) => f.type === "join_rejected" && f.salon === COMPTA, WAIT, "rejected");
    assert.deepEqual(await pending(ctx), []);
    // KILL: the countdown with its default length.
    for (const client of [watcher, carol, dave]) {
      const frame = await client.nextOfType("shutdown", WAIT);
      assert.equal(frame.seconds, 30);
    }
    assert.match(run.stdout, /\b30 seconds\b/);
    assert.equal((await http(srv.url, "GET", "/readyz")).status, 503);

    // Cancel through the admin socket so that the test server is not stopped mid-test.
    const client = Deno.createHttpClient(
      { proxy: { transport: "unix", path: socket } } as Deno.CreateHttpClientOptions,
    );
    try {
      const res = await fetch("http://localhost/admin/shutdown", { method: "DELETE", client });
      const text = await res.text();
      assert.equal(res.status, 200, text);
    } finally {
      client.close();
    }
    await watcher.nextOfType("shutdown_cancelled", WAIT);
    assert.equal((await http(srv.url, "GET", "/readyz")).status, 200);

    // Logins (refused during the countdown) tell the kick and the ban apart.
    const aliceLogin = await login(srv, "alice");
    assert.equal(aliceLogin.status, 403, aliceLogin.text);
    assert.equal(aliceLogin.body?.error?.code, "banned", aliceLogin.text);
    assert.equal(aliceLogin.body?.error?.until, kicked.until, aliceLogin.text);
    const bobLogin = await login(srv, "bob");
    assert.equal(bobLogin.status, 403, bobLogin.text);
    assert.equal(bobLogin.body?.error?.code, "banned", bobLogin.text);
    assert.equal(bobLogin.body?.error?.until, undefined, bobLogin.text);

    // The audit has every act of the console, via socket.
    const audit = await ctx.api("GET", "/admin/audit");
    const acts = (audit.body!.entries as Frame[]).map((e) => `${e.action} ${e.target} ${e.via}`);
    for (
      const act of [
        "kick alice socket",
        "ban bob socket",
        `accept carol@${MARKETING} socket`,
        `reject dave@${COMPTA} socket`,
        "shutdown  socket",
        "cancel_shutdown  socket",
      ]
    ) assert.ok(acts.includes(act), `${act} not in ${JSON.stringify(acts)}`);
  });
});

// ---------------------------------------------------------------------------
// inspect (issue 12): the inspection stream as JSON lines until Ctrl-C

Deno.test("inspect prints the inspection stream as JSON lines until Ctrl-C (SIGINT), then exits 0", async () => {
  await withServer({}, async (ctx) => {
    const env: Record<string, string> = { NO_COLOR: "1" };
    for (const key of Object.keys(Deno.env.toObject())) {
      if (key.startsWith("CAUSERIE_")) env[key] = "";
    }
    // A relative path with a folder, like the default `data/admin.sock`: run from the folder above
    // the socket's own.
    const slash = ctx.socket.lastIndexOf("/", ctx.socket.lastIndexOf("/") - 1);
    env.CAUSERIE_ADMIN_SOCKET = ctx.socket.slice(slash + 1);
    // The permissions of `deno task admin` (deno.json).
    const proc = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--config",
        new URL("deno.json", ROOT).pathname,
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-net",
        "--allow-sys=uid",
        new URL("cli/main.ts", ROOT).pathname,
        "inspect",
      ],
      cwd: ctx.socket.slice(0, slash),
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const guard = setTimeout(() => {
      try {
        proc.kill("SIGKILL");
      } catch { /* already gone */ }
    }, CHILD_MS);
    const stderr = new Response(proc.stderr).text();
    const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    const lines = () => text.split("\n").filter((l) => l !== "");
    const until = async (ok: () => boolean, what: string) => {
      while (!ok()) {
        const { done, value } = await reader.read();
        if (done) assert.fail(`inspect ended before ${what}:\n${text}\n${await stderr}`);
        text += value;
      }
    };
    try {
      await until(() => text.includes('"@causerie.live"'), "@causerie.live");
      const alice = await member(ctx.srv, "alice");
      await until(
        () => lines().some((l) => l.includes('"machine":"connection"') && l.includes('"active"')),
        "alice's connection going active",
      );
      proc.kill("SIGINT");
      const status = await proc.status;
      while (true) {
        const { done, value } = await reader.read();
        if (done) break;
        text += value;
      }
      assert.equal(status.code, 0, await stderr);
      const frames = lines().map((l) => JSON.parse(l));
      assert.equal(frames[0].type, "@xstate.snapshot");
      assert.equal(frames[0].actorId, "server");
      assert.ok(frames.every((f) => typeof f.type === "string" && typeof f.at === "number"));
      assert.ok(!text.includes(pw("alice")));
      await alice.close();
    } finally {
      clearTimeout(guard);
      try {
        proc.kill("SIGKILL");
      } catch { /* exited */ }
      await proc.status;
      await stderr;
    }
  });
});

Deno.test("inspect in the console is refused with a usage error", async () => {
  await withServer({}, async (ctx) => {
    const run = await cli(["console"], ctx.socket, "inspect\n");
    assert.equal(run.code, 0, shown(run));
    assert.match(run.stderr, /inspect streams until Ctrl-C/);
    const extra = await cli(["inspect", "now"], ctx.socket);
    assert.equal(extra.code, 64, shown(extra));
  });
});
