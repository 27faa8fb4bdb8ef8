/**
 * The server process: `deno run main.ts` with a bad environment, then a real
 * start on a free port, HTTP over the network, SIGTERM, and a restart.
 */

import assert from "node:assert/strict";
import { childEnv, ROOT, type Server, startServer } from "./server_process.ts";

/** `deno run main.ts` with `env`, not started: for one-shot runs. */
function command(env: Record<string, string>): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "main.ts"],
    cwd: ROOT,
    env: childEnv(env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** SIGTERM, then the exit code and everything the child printed. */
async function stop(server: Server): Promise<{ code: number; output: string }> {
  server.kill("SIGTERM");
  const { code, output } = await server.finished();
  return { code, output };
}

async function call(
  port: number,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: Record<string, unknown> | null }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? null : JSON.parse(text) };
}

Deno.test("a bad environment stops start-up with exit 1 and one line naming it", async () => {
  const cases: [Record<string, string>, string][] = [
    [{ CAUSERIE_PORT: "abc" }, "CAUSERIE_PORT"],
    [{ CAUSERIE_PORT: "70000" }, "CAUSERIE_PORT"],
    [{ CAUSERIE_LOG_LEVEL: "loud" }, "CAUSERIE_LOG_LEVEL"],
    [{ CAUSERIE_LOG_FORMAT: "xml" }, "CAUSERIE_LOG_FORMAT"],
    [{ CAUSERIE_ADMIN_PASSWORD: "short" }, "CAUSERIE_ADMIN_PASSWORD"],
  ];
  for (const [env, variable] of cases) {
    const { code, stdout, stderr } = await command(env).output();
    const err = new TextDecoder().decode(stderr);
    assert.equal(code, 1, err);
    assert.equal(new TextDecoder().decode(stdout), "");
    assert.match(err, /^[^\n]+\n?$/, `not exactly one line: ${JSON.stringify(err)}`);
    assert.ok(err.includes(variable), err);
  }
});

Deno.test("the server starts, serves the account API, stops on SIGTERM, keeps tokens", async () => {
  const dir = await Deno.makeTempDir({ prefix: "causerie-main-" });
  const adminPassword = `adm-${crypto.randomUUID()}`;
  const env = {
    CAUSERIE_PORT: "0",
    CAUSERIE_SHUTDOWN_SECONDS: "1",
    CAUSERIE_DB: `sqlite:${dir}/c.db`,
    CAUSERIE_ADMIN_PASSWORD: adminPassword,
    CAUSERIE_ADMIN_SOCKET: `${dir}/admin.sock`,
  };
  let output = "";
  let server: Server | undefined;
  try {
    server = await startServer(env);
    const { port } = server;
    assert.equal((await call(port, "GET", "/healthz")).status, 200);
    assert.equal((await call(port, "GET", "/readyz")).status, 200);
    const reg = await call(port, "POST", "/api/register", {
      username: "zoe",
      alias: "Zo\u00e9",
      password: "zoe password",
    });
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    assert.deepEqual(reg.body, { user: { username: "zoe", alias: "Zo\u00e9", role: "member" } });
    const login = await call(port, "POST", "/api/login", {
      username: "zoe",
      password: "zoe password",
    });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    const token = login.body!.token as string;
    assert.equal((await call(port, "GET", "/api/me", undefined, token)).status, 200);
    const admin = await call(port, "POST", "/api/login", {
      username: "admin",
      password: adminPassword,
    });
    assert.equal(admin.status, 200, JSON.stringify(admin.body));
    assert.equal((admin.body!.user as { role: string }).role, "admin");
    const missing = await call(port, "GET", "/nope");
    assert.equal(missing.status, 404);
    assert.equal((missing.body!.error as { code: string }).code, "not_found");

    const first = await stop(server);
    output += first.output;
    assert.equal(first.code, 0, first.output);

    // Restart on the same database: the account and the token survive.
    server = await startServer(env);
    const me = await call(server.port, "GET", "/api/me", undefined, token);
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal((me.body!.user as { username: string }).username, "zoe");
    const second = await stop(server);
    output += second.output;
    assert.equal(second.code, 0, second.output);
    assert.ok(!second.output.includes("created user 'admin'"), second.output);
    assert.ok(!output.includes(adminPassword), "the admin password was printed");
  } finally {
    await server?.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});
