/**
 * Issue 9, item 11: the admin socket race. The socket used to be chmod-ed to
 * 0600 after it was bound, so under a permissive umask another local user
 * could connect in between (and act as `server`). Now it is never visible at
 * its path with any mode but 0600 (a watcher thread polls the folder while
 * the server starts under umask 0), the server refuses a folder that other
 * users can write to (sticky or not), and the CLI refuses a socket file
 * owned by someone other than its user or root (exit status 2).
 *
 * @module
 */

import assert from "node:assert/strict";
import process from "node:process";
import { startAdminServer } from "../admin_fixture.ts";
import { serveAdminSocket } from "../../routes/admin_socket.ts";
import { startTestServer } from "../ws_client.ts";

const ROOT = new URL("../..", import.meta.url);

/** Polls `dir` from another thread until told to stop: every mode seen of each entry. */
const WATCHER = `
self.onmessage = ({ data }) => {
  const { dir, flag } = data;
  const stop = new Int32Array(flag);
  const seen = new Map();
  const note = (path, kind, mode) => {
    const key = path + " " + kind + " " + (mode & 0o7777).toString(8);
    seen.set(key, (seen.get(key) ?? 0) + 1);
  };
  const walk = (folder, depth) => {
    let entries;
    try { entries = [...Deno.readDirSync(folder)]; } catch { return; }
    for (const e of entries) {
      const path = folder + "/" + e.name;
      let info;
      try { info = Deno.lstatSync(path); } catch { continue; }
      const kind = info.isSocket ? "socket" : info.isDirectory ? "dir" : "file";
      note(path.slice(dir.length + 1), kind, info.mode);
      if (info.isDirectory && depth === 0) walk(path, 1);
    }
  };
  let rounds = 0;
  while (Atomics.load(stop, 0) === 0) { walk(dir, 0); rounds++; }
  self.postMessage({ seen: [...seen.entries()], rounds });
};
`;

async function watch(dir: string): Promise<() => Promise<{ seen: string[]; rounds: number }>> {
  const url = URL.createObjectURL(new Blob([WATCHER], { type: "application/javascript" }));
  const worker = new Worker(url, { type: "module" });
  const flag = new SharedArrayBuffer(4);
  const result = Promise.withResolvers<{ seen: Array<[string, number]>; rounds: number }>();
  worker.onmessage = (e) => result.resolve(e.data);
  worker.onerror = (e) => result.reject(e);
  worker.postMessage({ dir, flag });
  // Let the watcher start polling before anything happens.
  await new Promise((r) => setTimeout(r, 50));
  return async () => {
    Atomics.store(new Int32Array(flag), 0, 1);
    try {
      const out = await result.promise;
      return { seen: out.seen.map(([k]) => k), rounds: out.rounds };
    } finally {
      worker.terminate();
      URL.revokeObjectURL(url);
    }
  };
}

const answer = () => new Response("ok");

Deno.test("under umask 0, the admin socket is never seen at its path with a mode other than 0600", async () => {
  const dir = await Deno.makeTempDir({ prefix: "causerie-sock-race-" });
  const previous = process.umask(0);
  try {
    for (let i = 0; i < 5; i++) {
      const path = `${dir}/admin.sock`;
      const stop = await watch(dir);
      const socket = await serveAdminSocket(path, answer);
      // Keep watching a moment after the start, then stop.
      await new Promise((r) => setTimeout(r, 20));
      const { seen, rounds } = await stop();
      assert.equal((await Deno.lstat(path)).mode! & 0o7777, 0o600);
      await socket.close();
      assert.ok(rounds > 10, `the watcher polled (${rounds} rounds)`);
      assert.ok(seen.includes("admin.sock socket 600"), seen.join(", "));
      const sockets = seen.filter((s) => s.startsWith("admin.sock "));
      assert.deepEqual(sockets, ["admin.sock socket 600"], "only ever 0600 at its path");
      for (const entry of seen.filter((s) => s.includes(" dir "))) {
        assert.match(entry, / dir 700$/, `a private folder: ${seen.join(", ")}`);
      }
      for (const entry of seen.filter((s) => s.includes("/"))) {
        // Inside the private folder, any mode is fine: nobody else can reach it.
        assert.match(entry, /^\.sock-[^/ ]+\/s socket \d+$/, entry);
      }
    }
  } finally {
    process.umask(previous);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the server refuses to start when the socket's folder is group- or world-writable, sticky or not", async () => {
  const dir = await Deno.makeTempDir({ prefix: "causerie-sock-open-" });
  try {
    for (const mode of [0o777, 0o1777, 0o775, 0o757]) {
      const folder = `${dir}/m${mode.toString(8)}`;
      await Deno.mkdir(folder);
      await Deno.chmod(folder, mode);
      const path = `${folder}/admin.sock`;
      await assert.rejects(serveAdminSocket(path, answer), (e: Error) => {
        assert.match(e.message, /^CAUSERIE_ADMIN_SOCKET: /);
        assert.ok(e.message.includes(folder), e.message);
        assert.match(e.message, /writable by other users/);
        assert.match(e.message, /chmod 700/, "says what to fix");
        assert.ok(!e.message.includes("\n"), "one line");
        return true;
      });
      assert.deepEqual([...Deno.readDirSync(folder)], [], "nothing left in the folder");
      // The whole server refuses too, with the same line.
      await assert.rejects(
        startTestServer({ CAUSERIE_ADMIN_SOCKET: path }, { adminSocket: true }),
        /CAUSERIE_ADMIN_SOCKET: the folder .* is writable by other users/,
      );
    }
    // A folder that only its owner can write to is fine.
    const ok = `${dir}/private`;
    await Deno.mkdir(ok);
    await Deno.chmod(ok, 0o755);
    const socket = await serveAdminSocket(`${ok}/admin.sock`, answer);
    await socket.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The `deno task admin` command line (its permissions included), with `args`. */
async function adminTask(args: string[], socket: string): Promise<Deno.CommandOutput> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const task = (config.tasks.admin as string).split(/\s+/);
  assert.equal(task[0], "deno");
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const key of Object.keys(Deno.env.toObject())) {
    if (key.startsWith("CAUSERIE_")) env[key] = "";
  }
  env.CAUSERIE_ADMIN_SOCKET = socket;
  return await new Deno.Command(Deno.execPath(), {
    args: [...task.slice(1), ...args],
    cwd: ROOT,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
}

Deno.test("the CLI refuses (exit 2) an admin socket owned by another user, and uses one owned by root", async () => {
  const dir = await Deno.makeTempDir({ prefix: "causerie-sock-owner-" });
  const path = `${dir}/admin.sock`;
  const fx = await startAdminServer({ dir });
  const dec = new TextDecoder();
  try {
    const info = await Deno.stat(path);
    const stranger = 4242;
    await Deno.chown(path, stranger, stranger);
    try {
      const refused = await adminTask(["users"], path);
      const stderr = dec.decode(refused.stderr);
      assert.equal(refused.code, 2, stderr);
      assert.match(stderr, /refusing the admin socket/);
      assert.ok(stderr.includes(path), stderr);
      assert.match(stderr, /uid 4242/);
      assert.equal(dec.decode(refused.stdout), "", "nothing was done");
    } finally {
      await Deno.chown(path, info.uid, info.gid);
    }
    const served = await adminTask(["users"], path);
    assert.equal(served.code, 0, dec.decode(served.stderr));
    assert.match(dec.decode(served.stdout), /admin/);
  } finally {
    await fx.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
