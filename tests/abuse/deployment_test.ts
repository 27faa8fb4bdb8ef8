/**
 * Issue 9, "Also": the server runs with the permissions of `deno task start`
 * (not --allow-all), and its database files are private (0600).
 */

import assert from "node:assert/strict";
import { rawConnect } from "../raw_ws.ts";
import { ROOT, startServer } from "../server_process.ts";

/** The arguments of `deno task start`, as deno.json writes them, without the leading `deno`. */
async function startTaskArgs(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  // `start` is `{command, dependencies: ["build"]}` (the browser client is built first) or a string.
  const task = config.tasks.start as string | { command: string; dependencies?: string[] };
  const words = (typeof task === "string" ? task : task.command).split(/\s+/);
  assert.equal(words[0], "deno");
  return words.slice(1);
}

Deno.test("deno task start: its narrowed permissions suffice (register, login, hello, say through the writer thread), the database is 0600", async () => {
  const args = await startTaskArgs();
  assert.ok(!args.includes("--allow-all") && !args.includes("-A"), "no --allow-all");
  assert.ok(args.every((a) => !/^--allow-write$/.test(a)), "writes are limited to data dirs");
  assert.ok(!args.some((a) => a.startsWith("--allow-run")), "never runs programs");
  const name = `deploy-${crypto.randomUUID()}`;
  const db = new URL(`data/${name}.db`, ROOT).pathname;
  await Deno.mkdir(new URL("data/", ROOT), { recursive: true });
  // A database left world-readable by an older version is made private at start.
  await Deno.writeFile(db, new Uint8Array(), { mode: 0o644 });
  await Deno.chmod(db, 0o644);
  const server = await startServer({
    CAUSERIE_PORT: "0",
    CAUSERIE_DB: `sqlite:data/${name}.db`,
    CAUSERIE_ADMIN_SOCKET: `data/${name}.sock`,
  }, { args });
  try {
    const register = await fetch(`${server.url}/api/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "deployed", alias: "Deployed", password: "deployed-pass" }),
    });
    assert.equal(register.status, 201, await register.text());
    const raw = await rawConnect(server.port);
    try {
      await raw.sendText(
        JSON.stringify({ type: "hello", username: "deployed", password: "deployed-pass" }),
      );
      await raw.readUntil((f) => f.text?.includes('"welcome"') ?? false, 10_000);
      await raw.sendText(JSON.stringify({ type: "say", salon: "Général", text: "hi", ref: "s" }));
      const { frames } = await raw.readUntil((f) => f.text?.includes('"ok"') ?? false, 10_000);
      assert.ok(frames.some((f) => f.text?.includes('"ref":"s"')));
    } finally {
      raw.close();
    }
    for (const file of [db, `${db}-wal`, `${db}-shm`]) {
      const info = await Deno.stat(file);
      assert.equal((info.mode ?? 0) & 0o777, 0o600, `${file} is 0600`);
    }
    assert.ok(!server.output().includes("NotCapable"), server.output());
  } finally {
    await server.dispose();
    for (const suffix of ["", "-wal", "-shm"]) await Deno.remove(`${db}${suffix}`).catch(() => {});
    // The admin socket's private folder, should the server not have removed it.
    await Deno.remove(new URL(`data/${name}.sock`, ROOT), { recursive: true }).catch(() => {});
  }
});
