/**
 * The admin commands of edit, delete and reports (PROTOCOL.md 5.4) as child
 * processes against the admin socket of an in-process server: `reports` (a
 * table), `resolve REPORT`, `delete SALON ID`; exit statuses 0, 1 and 64.
 */

import assert from "node:assert/strict";
import { startAdminSession } from "./admin_fixture.ts";
import { pw } from "./admin_fixture.ts";
import { loginHttp, registerHttp, session } from "./ws_client.ts";

const ROOT = new URL("..", import.meta.url);

/** Runs `deno run cli/main.ts ...args` against `socket`; exit code and output. */
async function cli(
  args: string[],
  socket: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const key of Object.keys(Deno.env.toObject())) {
    if (key.startsWith("CAUSERIE_")) env[key] = "";
  }
  env.CAUSERIE_ADMIN_SOCKET = socket;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "cli/main.ts", ...args],
    cwd: ROOT,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("cli: reports lists the open reports as a table, resolve closes one, delete erases a message; mistakes exit 64, refusals 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "causerie-cli-edits-" });
  const fx = await startAdminSession({ dir });
  const socket = `${dir}/admin.sock`;
  try {
    for (const name of ["alice", "bob"]) {
      await registerHttp(fx.srv.url, name, name[0].toUpperCase() + name.slice(1), pw(name));
    }
    const a = await session(fx.srv, { token: await loginHttp(fx.srv.url, "alice", pw("alice")) });
    const b = await session(fx.srv, { token: await loginHttp(fx.srv.url, "bob", pw("bob")) });
    const id = (await a.client.request({ type: "say", salon: "Général", text: "rude\nwords" })).id;
    const report = (await b.client.request(
      { type: "report", salon: "Général", id, reason: "insult" },
    )).report;

    const listed = await cli(["reports"], socket);
    assert.equal(listed.code, 0, listed.stderr);
    const lines = listed.stdout.trimEnd().split("\n");
    assert.deepEqual(lines[0].split(/ {2,}/), [
      "ID",
      "SALON",
      "MESSAGE",
      "AUTHOR",
      "TEXT",
      "BY",
      "REASON",
      "AT",
    ]);
    assert.deepEqual(lines[2].split(/ {2,}/).slice(0, 7), [
      String(report),
      "Général",
      String(id),
      "alice",
      "rude words",
      "bob",
      "insult",
    ]);

    const deleted = await cli(["delete", "Général", String(id), "--reason", "spam"], socket);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, new RegExp(`deleted message ${id} of Général`));
    assert.equal((await b.client.next((f) => f.type === "deleted")).id, id);
    const after = await cli(["reports"], socket);
    assert.match(after.stdout, /\(deleted\)/);

    const resolved = await cli(["resolve", String(report), "--note", "done"], socket);
    assert.equal(resolved.code, 0, resolved.stderr);
    assert.equal((await cli(["reports"], socket)).stdout.trim(), "(none)");

    // The server refuses: exit 1 with its message; command-line mistakes: 64.
    const again = await cli(["resolve", String(report)], socket);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /no open report/);
    const unknown = await cli(["delete", "Nowhere", "1"], socket);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no salon named/);
    for (
      const bad of [["resolve"], ["resolve", "x"], ["delete", "Général"], [
        "delete",
        "Général",
        "0",
      ]]
    ) {
      const run = await cli(bad, socket);
      assert.equal(run.code, 64, `${bad.join(" ")}: ${run.stderr}`);
    }
    const help = await cli(["help"], socket);
    assert.match(help.stdout, /reports/);
    assert.match(help.stdout, /resolve REPORT/);
    assert.match(help.stdout, /delete SALON ID/);
  } finally {
    await fx.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
