/**
 * The admin command line's mute, unmute and slow-mode (PROTOCOL 5.4),
 * against a running server over its admin socket: each command's effect is
 * checked on connected WebSocket clients, `users` shows the mutes, and the
 * server's refusals and usage mistakes change nothing.
 *
 * @module
 */

import assert from "node:assert/strict";
import { adminClient, RefusedError } from "../cli/client.ts";
import { runCommand, UsageError } from "../cli/commands.ts";
import { member, say, startClocked } from "./mute_fixture.ts";

const ROOT = new URL("..", import.meta.url);

Deno.test("mute, unmute and slow-mode from the CLI take effect; users shows the mutes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "causerie-cli-mute-" });
  const server = await startClocked({ dir });
  const client = adminClient(`${dir}/admin.sock`);
  const run = (...argv: string[]) =>
    runCommand(argv, { client, readPassword: () => Promise.resolve("") });
  try {
    const bob = await member(server, "bob");
    const alice = await member(server, "alice");
    assert.equal((await bob.request({ type: "join", salon: "Blabla" })).type, "joined");
    const t0 = server.clock.now();

    const out = await run("mute", "bob", "--minutes", "1.5", "--reason", "on se calme");
    const until = new Date(t0 + 90_000).toISOString();
    assert.equal(out, `muted bob everywhere until ${until}`);
    assert.deepEqual(await bob.nextOfType("muted"), {
      type: "muted",
      until,
      reason: "on se calme",
    });
    assert.equal((await say(bob, "Général", "x")).code, "muted");

    const inSalon = await run("mute", "alice", "--salon", "blabla");
    assert.match(inSalon, /^muted alice in blabla until /);
    assert.equal((await alice.nextOfType("muted")).salon, "Blabla");

    const users = await run("users");
    const line = (name: string) => users.split("\n").find((l) => l.startsWith(`${name} `))!;
    assert.match(line("bob"), new RegExp(`muted until ${until}`));
    assert.match(line("alice"), /muted in Blabla until /);

    assert.equal(await run("unmute", "bob"), "unmuted bob everywhere");
    assert.deepEqual(await bob.nextOfType("unmuted"), { type: "unmuted" });
    assert.equal(await run("unmute", "bob"), "bob was not muted everywhere");
    assert.equal(await run("unmute", "alice", "--salon", "Blabla"), "unmuted alice in Blabla");
    assert.deepEqual(await alice.nextOfType("unmuted"), { type: "unmuted", salon: "Blabla" });

    assert.equal(
      await run("slow-mode", "Blabla", "30"),
      "Blabla: one message per 30 seconds per member",
    );
    assert.deepEqual(await bob.nextOfType("salon_settings"), {
      type: "salon_settings",
      salon: "Blabla",
      slowModeSeconds: 30,
    });
    assert.equal((await say(bob, "Blabla", "1")).type, "ok");
    assert.equal((await say(bob, "Blabla", "2")).code, "slow_mode");
    assert.equal(await run("slow-mode", "Blabla", "0"), "slow mode is off in Blabla");
    assert.equal((await say(bob, "Blabla", "3")).type, "ok");

    const audit = await run("audit", "--limit", "6");
    for (const action of ["mute", "unmute", "slow_mode"]) {
      assert.match(audit, new RegExp(`\\b${action}\\b`), audit);
    }

    // Refusals: the server's message, nothing done.
    for (
      const [argv, pattern] of [
        [["mute", "bob", "--minutes", "43201"], /minutes must be at most 43200/],
        [["mute", "bob", "--minutes=-1"], /minutes must be greater than 0/],
        [["mute", "nobody"], /no user named "nobody"/],
        [["mute", "bob", "--salon", "Nowhere"], /no salon named "Nowhere"/],
        [["slow-mode", "Blabla", "3601"], /seconds must be at most 3600/],
        [["slow-mode", "Blabla", "1.5"], /seconds must be a whole number/],
        [["slow-mode", "Nowhere", "10"], /no salon named "Nowhere"/],
        [["unmute", "bob", "--salon", "Nowhere"], /no salon named "Nowhere"/],
      ] as const
    ) {
      await assert.rejects(run(...argv), (e: unknown) => {
        assert.ok(e instanceof RefusedError, String(e));
        assert.match(e.message, pattern);
        return true;
      });
    }
    for (
      const argv of [
        ["mute"],
        ["mute", "bob", "--minutes", "ten"],
        ["mute", "bob", "--bogus"],
        ["slow-mode", "Blabla"],
        ["slow-mode", "Blabla", "soon"],
      ]
    ) {
      await assert.rejects(run(...argv), UsageError, argv.join(" "));
    }
    assert.equal((await say(bob, "Général", "still free")).type, "ok");
    const listedBob = (await server.sock("GET", "/admin/users")).body.users.find((
      u: { username: string },
    ) => u.username === "bob");
    assert.equal(listedBob.mutedUntil, undefined);
    assert.equal(
      (await server.sock("GET", "/admin/audit?limit=1")).body.entries[0].action,
      "slow_mode",
    );
  } finally {
    client.close();
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task admin mute: exit 0 with the end, 1 with the server's message when refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "causerie-cli-mute-" });
  const server = await startClocked({ dir });
  const cli = async (...args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "cli/main.ts", ...args],
      cwd: ROOT,
      env: { NO_COLOR: "1", CAUSERIE_ADMIN_SOCKET: `${dir}/admin.sock` },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder();
    return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
  };
  try {
    await member(server, "bob");
    const done = await cli("mute", "bob", "--minutes", "5");
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /^muted bob everywhere until \d{4}-/);
    const refused = await cli("mute", "bob", "--minutes", "43201");
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /minutes must be at most 43200/);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
