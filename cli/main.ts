/**
 * `deno task admin <command>`: administration of a running server over its
 * local admin socket (no password: whoever can open the socket file is
 * admin). Exit status: 0 on success, 1 when the server refuses (with its
 * message), 2 when it cannot be reached (with the socket path tried) or the
 * socket file belongs to someone other than the user or root, 64 for a
 * mistake in the command line.
 *
 * @module
 */

import { adminClient, RefusedError, UnreachableError, UntrustedSocketError } from "./client.ts";
import { runCommand, UsageError } from "./commands.ts";
import { runConsole } from "./console.ts";
import { runInspect } from "./inspect.ts";

/** Default socket path (as the server's CAUSERIE_ADMIN_SOCKET default). */
export const DEFAULT_SOCKET = "data/admin.sock";

/** Reads a password: hidden at a terminal, else the first line of stdin. */
export async function readPassword(): Promise<string> {
  if (!Deno.stdin.isTerminal()) {
    const text = await new Response(Deno.stdin.readable).text();
    const line = text.split(/\r?\n/)[0] ?? "";
    if (line === "") throw new UsageError("no password on stdin; pipe it in or run at a terminal");
    return line;
  }
  const encoder = new TextEncoder();
  await Deno.stderr.write(encoder.encode("password: "));
  Deno.stdin.setRaw(true);
  const bytes: number[] = [];
  const buffer = new Uint8Array(1);
  try {
    while (true) {
      const n = await Deno.stdin.read(buffer);
      if (n === null) break;
      const b = buffer[0];
      if (b === 13 || b === 10) break;
      if (b === 3) {
        await Deno.stderr.write(encoder.encode("\n"));
        Deno.exit(130);
      }
      if (b === 127 || b === 8) bytes.pop();
      else bytes.push(b);
    }
  } finally {
    Deno.stdin.setRaw(false);
    await Deno.stderr.write(encoder.encode("\n"));
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

const encoder = new TextEncoder();

/** Writes `line` and a newline to stdout, whole (a pipe may take it in parts). */
function writeLine(line: string): void {
  let bytes = encoder.encode(`${line}\n`);
  while (bytes.length > 0) bytes = bytes.subarray(Deno.stdout.writeSync(bytes));
}

/** Runs the CLI with `args`; returns the exit status. */
export async function main(args: string[]): Promise<number> {
  let socket = Deno.env.get("CAUSERIE_ADMIN_SOCKET") || DEFAULT_SOCKET;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--socket") socket = args[++i] ?? socket;
    else if (args[i].startsWith("--socket=")) socket = args[i].slice("--socket=".length);
    else rest.push(args[i]);
  }
  const client = adminClient(socket);
  try {
    if (rest[0] === "console") return await runConsole(client, readPassword);
    if (rest[0] === "inspect") {
      if (rest.length > 1) {
        throw new UsageError("inspect takes no arguments; run help for the usage");
      }
      return await runInspect(client, writeLine);
    }
    console.log(await runCommand(rest, { client, readPassword }));
    return 0;
  } catch (e) {
    if (e instanceof RefusedError) {
      console.error(`causerie admin: ${e.message}`);
      return 1;
    }
    if (e instanceof UnreachableError || e instanceof UntrustedSocketError) {
      console.error(`causerie admin: ${e.message}`);
      return 2;
    }
    if (e instanceof UsageError) {
      console.error(`causerie admin: ${e.message}`);
      return 64;
    }
    throw e;
  } finally {
    client.close();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
