/**
 * `deno task import-legacy --from mysql://...` (issue 13) end to end, on the
 * test MariaDB (`CAUSERIE_TEST_MYSQL_URL`; skipped without it): an original
 * database built with the exact original schema and awkward rows
 * (tests/legacy_fixture.ts) imported into SQLite and into MariaDB by the
 * command itself (a child process); then a real server on the result: old
 * passwords log in over HTTP, the welcome lists their salons, history is in
 * the original order with the original times, the legacy hash is gone after
 * the login. A re-run adds nothing; new rows in the source are imported
 * alone. Refusals: a bad source URL, a database that is not the original
 * schema, a server using the target.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import {
  adminRows,
  type FreshDatabase,
  freshDatabase,
  MYSQL_URL,
  mysqlTest,
} from "./mysql_fixture.ts";
import {
  addClient,
  addMembership,
  addMessage,
  fillAwkward,
  type OriginalDatabase,
  originalDatabase,
  PASSWORDS,
  sha256,
  T0_SECONDS,
} from "./legacy_fixture.ts";
import { type Frame, http, session, startTestServer, type TestServer } from "./ws_client.ts";

const ROOT = new URL("..", import.meta.url);
const MAX_TEXT = "50";
const at = (minutes: number) => new Date((T0_SECONDS + minutes * 60) * 1000).toISOString();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the importer as a child process (`deno task` when `task`), with a clean environment. */
async function importer(args: string[], env: Record<string, string>, task = false): Promise<Run> {
  const clean: Record<string, string> = { NO_COLOR: "1", CAUSERIE_MAX_TEXT: MAX_TEXT, ...env };
  for (const key of Object.keys(Deno.env.toObject())) {
    if (key.startsWith("CAUSERIE_") && !(key in clean)) clean[key] = "";
  }
  const out = await new Deno.Command(Deno.execPath(), {
    args: task
      ? ["task", "-q", "import-legacy", ...args]
      : ["run", "-A", "legacy/main.ts", ...args],
    cwd: ROOT,
    env: clean,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

const shown = (r: Run) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/** A target database: SQLite in a private folder under data/ (the task may write there), or MariaDB. */
interface Target {
  db: string;
  socket: string;
  /** `password_hash` of a user, read from the database itself. */
  hashOf(username: string): Promise<string>;
  cleanup(): Promise<void>;
}

async function sqliteTarget(): Promise<Target> {
  await Deno.mkdir(new URL("data", ROOT), { recursive: true });
  const dir = await Deno.makeTempDir({ dir: new URL("data", ROOT).pathname, prefix: "legacy-" });
  const rel = `data/${dir.split("/").pop()}`;
  return {
    db: `sqlite:${rel}/causerie.db`,
    socket: join(dir, "admin.sock"),
    hashOf(username) {
      const db = new DatabaseSync(join(dir, "causerie.db"));
      try {
        return Promise.resolve(
          String(
            db.prepare("SELECT password_hash FROM users WHERE username = ?").get(username)
              ?.password_hash,
          ),
        );
      } finally {
        db.close();
      }
    },
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

async function mysqlTarget(): Promise<Target> {
  const fresh: FreshDatabase = await freshDatabase();
  const dir = await Deno.makeTempDir({ prefix: "causerie-legacy-" });
  await Deno.chmod(dir, 0o700);
  return {
    db: fresh.url,
    socket: join(dir, "admin.sock"),
    async hashOf(username) {
      const rows = await adminRows(
        fresh.name,
        "SELECT password_hash FROM users WHERE username = ?",
        [username],
      );
      return String(rows[0]?.password_hash);
    },
    async cleanup() {
      await fresh.drop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function serverOn(target: Target, adminSocket = false): Promise<TestServer> {
  return await startTestServer(
    { CAUSERIE_DB: target.db, CAUSERIE_MAX_TEXT: MAX_TEXT, CAUSERIE_ADMIN_SOCKET: target.socket },
    { adminSocket },
  );
}

async function history(
  srv: TestServer,
  hello: Record<string, unknown>,
  salon: string,
): Promise<Frame[]> {
  const { client } = await session(srv, hello);
  client.send({ type: "history", salon, ref: "h", limit: 200 });
  const page = await client.next((f) => f.type === "history" || f.type === "error");
  await client.close();
  assert.equal(page.type, "history", JSON.stringify(page));
  return page.messages;
}

/** The whole scenario on one kind of target. */
async function scenario(makeTarget: () => Promise<Target>, viaTask: boolean): Promise<void> {
  const orig: OriginalDatabase = await originalDatabase();
  const target = await makeTarget();
  try {
    await fillAwkward(orig);
    // The bytes really are what the old server stored: raw latin1, not UTF-8.
    const [raw] = await adminRows(
      orig.name,
      "SELECT HEX(contenu) AS h FROM messages WHERE message_id = 3",
    );
    assert.equal(raw.h, "636166E9206175206C616974");

    const env = { CAUSERIE_DB: target.db, CAUSERIE_ADMIN_SOCKET: target.socket };
    const first = await importer(["--from", orig.url], env, viaTask);
    assert.equal(first.code, 0, shown(first));
    const summary = first.stdout;
    assert.ok(!summary.includes(new URL(orig.url).password), "no password in the summary");
    assert.ok(!first.stderr.includes(new URL(orig.url).password), "no password on stderr");
    for (
      const line of [
        `users: 9 imported, 0 imported by an earlier run`,
        `"alice" -> "alice_2"`,
        `"admin" -> "admin_legacy"`,
        `"server" -> "server_legacy"`,
        `"émile" -> "emile"`,
        `"Bob" -> "Bob 2"`,
        `"Da\\u0007ve" -> "Dave"`,
        `admin_legacy, server_legacy, x_9`,
        `deno task admin user password USERNAME`,
        `"Jeux" (policy approval)`,
        `memberships: 6 read, 3 added, 1 already there`,
        `skipped, unknown username: 1`,
        `messages: 10 read, 9 stored`,
        `skipped, no text (NULL): 1 (original ids 7)`,
        `skipped, empty or blank text: 1 (original ids 8)`,
        `skipped, unknown client: 1 (original ids 10)`,
      ]
    ) assert.ok(summary.includes(line), `summary lacks ${line}\n${summary}`);

    // A real server on the result.
    let srv = await serverOn(target);
    try {
      const login = await http(srv.url, "POST", "/api/login", {
        username: "Alice",
        password: PASSWORDS.Alice,
      });
      assert.equal(login.status, 200, login.text);
      assert.match(await target.hashOf("Alice"), /^\$argon2id\$/, "the legacy hash is gone");
      const { client, welcome } = await session(srv, { token: login.body!.token });
      await client.close();
      const member = welcome.salons.filter((s: Frame) => s.member).map((s: Frame) => s.name);
      assert.deepEqual(member.sort(), ["Comptabilité", "Général"]);
      const jeux = welcome.salons.find((s: Frame) => s.name === "Jeux");
      assert.equal(jeux?.policy, "approval");

      for (
        const [username, password] of [["alice_2", PASSWORDS.alice], ["bob", PASSWORDS.bob], [
          "emile",
          PASSWORDS.emile,
        ]]
      ) {
        const res = await http(srv.url, "POST", "/api/login", { username, password });
        assert.equal(res.status, 200, `${username}: ${res.text}`);
      }
      for (const username of ["admin_legacy", "server_legacy", "x_9"]) {
        const res = await http(srv.url, "POST", "/api/login", {
          username,
          password: "hashed_admin_password",
        });
        assert.equal(res.status, 401, username);
      }
      assert.match(await target.hashOf("carol"), /^\$legacy-sha256\$[0-9a-f]{64}$/, "not yet");

      const alice = { username: "Alice", password: PASSWORDS.Alice };
      const general = await history(srv, alice, "Général");
      assert.deepEqual(general.map((m: Frame) => [m.id, m.from.username, m.text, m.at]), [
        [1, "Alice", "Bonjour à tous", at(10)],
        [2, "Alice", "coupé \uFFFD", at(5)],
        [3, "admin_legacy", "Le serveur redémarre", at(14)],
        [4, "bob", "mot ".repeat(12), at(17)],
        [5, "bob", "mot ".repeat(12), at(17)],
        [6, "bob", "mot mot mot mot mot mot", at(17)],
      ]);
      const compta = await history(srv, alice, "Comptabilité");
      assert.deepEqual(compta.map((m: Frame) => [m.from.username, m.text]), [[
        "bob",
        "café au lait",
      ]]);
      const blabla = await history(
        srv,
        { username: "alice_2", password: PASSWORDS.alice },
        "Blabla",
      );
      assert.deepEqual(blabla.map((m: Frame) => [m.from.alias, m.text, m.at]), [[
        "Alice L.",
        "salut 😀",
        at(11),
      ]]);
      const jeuxHistory = await history(
        srv,
        { username: "carol", password: PASSWORDS.carol },
        "Jeux",
      );
      assert.deepEqual(jeuxHistory.map((m: Frame) => m.text), ["ligne 1\nligne 2\uFFFD[31m"]);
      // Imported history arrives read.
      const again = await session(srv, alice);
      await again.client.close();
      const g = again.welcome.salons.find((s: Frame) => s.name === "Général");
      assert.deepEqual([g?.latest, g?.lastRead, g?.unread], [6, 6, 0]);

      // While the server runs, the import refuses, with one line.
      await srv.stop();
      srv = await serverOn(target, true);
      const refused = await importer(["--from", orig.url], env);
      assert.equal(refused.code, 1, shown(refused));
      assert.match(refused.stderr.trim(), /^import-legacy: .*stop it first/);
      assert.equal(refused.stderr.trim().split("\n").length, 1, shown(refused));
      if (target.db.startsWith("sqlite:")) {
        // Without an admin socket, the database file itself says it is in use.
        await srv.stop();
        srv = await serverOn(target, false);
        const locked = await importer(["--from", orig.url], env);
        assert.equal(locked.code, 1, shown(locked));
        assert.match(locked.stderr, /has sqlite:.* open .*stop it first/);
      }
    } finally {
      await srv.stop();
    }

    // A re-run adds nothing.
    const rerun = await importer(["--from", orig.url], env);
    assert.equal(rerun.code, 0, shown(rerun));
    assert.match(rerun.stdout, /users: 0 imported, 9 imported by an earlier run/);
    assert.match(rerun.stdout, /memberships: 0 read/);
    assert.match(rerun.stdout, /messages: 0 read, 0 stored/);

    // New rows in the source: only they are imported.
    await addClient(orig, "zoe", "Zoé", sha256("zoe password")); // 10
    await addMembership(orig, "zoe", 2);
    await addMessage(orig, 10, 1, "nouvelle", 30);
    const incremental = await importer(["--from", orig.url], env);
    assert.equal(incremental.code, 0, shown(incremental));
    assert.match(incremental.stdout, /users: 1 imported, 9 imported by an earlier run/);
    assert.match(incremental.stdout, /memberships: 1 read, 1 added/);
    assert.match(incremental.stdout, /messages: 1 read, 1 stored/);
    srv = await serverOn(target);
    try {
      const zoe = { username: "zoe", password: "zoe password" };
      const general = await history(srv, zoe, "Général");
      assert.deepEqual(general.slice(-2).map((m: Frame) => [m.id, m.text, m.at]), [
        [6, "mot mot mot mot mot mot", at(17)],
        [7, "nouvelle", at(30)],
      ]);
      assert.equal(general.length, 7, "nothing duplicated");
    } finally {
      await srv.stop();
    }
  } finally {
    await target.cleanup();
    await orig.drop();
  }
}

mysqlTest("import-legacy: the original database into SQLite, logged into, re-run", async () => {
  await scenario(sqliteTarget, true);
});

mysqlTest("import-legacy: the original database into MariaDB, logged into, re-run", async () => {
  await scenario(mysqlTarget, false);
});

mysqlTest(
  "import-legacy: a source that cannot be read or is not the original: one line, exit 1",
  async () => {
    const target = await sqliteTarget();
    const other = await freshDatabase();
    try {
      const env = { CAUSERIE_DB: target.db, CAUSERIE_ADMIN_SOCKET: target.socket };
      const url = new URL(MYSQL_URL!);
      url.password = "wrong-password-123";
      const cases: Array<[string, RegExp]> = [
        [
          url.toString(),
          /cannot read the original database mysql:\/\/causerie:\*\*\*@.*access denied/,
        ],
        ["mysql://causerie@127.0.0.1:1/x", /nothing accepts connections at 127\.0\.0\.1:1/],
        ["postgres://u:p@h/db", /expected a mysql:\/\/ URL/],
        [other.url, /is not the original server's database: table clients is missing/],
      ];
      for (const [from, expected] of cases) {
        const run = await importer(["--from", from], env);
        assert.equal(run.code, 1, shown(run));
        assert.equal(run.stderr.trim().split("\n").length, 1, shown(run));
        assert.match(run.stderr, expected);
        assert.ok(!run.stderr.includes("wrong-password-123"), shown(run));
        assert.equal(run.stdout, "");
      }
      // A table with a column missing.
      const { withAdmin } = await import("./mysql_fixture.ts");
      await withAdmin(async (conn) => {
        await conn.query("CREATE TABLE clients (client_id INT PRIMARY KEY, username VARCHAR(9))");
      }, other.name);
      const partial = await importer(["--from", other.url], env);
      assert.equal(partial.code, 1);
      assert.match(partial.stderr, /table clients has no column alias, password_hash/);
      const usage = await importer([], env);
      assert.equal(usage.code, 64);
      assert.match(usage.stderr, /--from is required/);
    } finally {
      await other.drop();
      await target.cleanup();
    }
  },
);
