/**
 * `console`: an interactive prompt with history (arrow keys) that takes our
 * commands and the original server's syntax (`KICK:user`, `BAN:user`,
 * `ACCEPT:user:salon`, `REJECT:user:salon`, `KILL`). When stdin is not a
 * terminal it reads one command per line, without prompts, and ends at the
 * end of the input.
 *
 * @module
 */

import { createInterface } from "node:readline";
import process from "node:process";
import type { AdminClient } from "./client.ts";
import { RefusedError, UnreachableError } from "./client.ts";
import { legacyCommand, runCommand, splitWords, UsageError } from "./commands.ts";

/** Runs the console until `exit`, `quit` or the end of input; returns the exit status (0). */
export async function runConsole(
  client: AdminClient,
  readPassword: () => Promise<string>,
): Promise<number> {
  const interactive = Deno.stdin.isTerminal();
  const rl = createInterface({
    input: process.stdin,
    output: interactive ? process.stdout : undefined,
    terminal: interactive,
    historySize: 500,
    prompt: "causerie> ",
  });
  if (interactive) {
    console.log("Causerie console: help lists the commands; exit or Ctrl-D leaves.");
    rl.prompt();
  }
  for await (const raw of rl) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) {
      if (interactive) rl.prompt();
      continue;
    }
    if (/^(exit|quit)$/i.test(line)) break;
    try {
      const argv = legacyCommand(line) ?? splitWords(line);
      if (argv[0] === "console") throw new UsageError("already in the console");
      console.log(await runCommand(argv, { client, readPassword }));
    } catch (e) {
      if (e instanceof RefusedError || e instanceof UnreachableError || e instanceof UsageError) {
        console.error(`error: ${e.message}`);
      } else throw e;
    }
    if (interactive) rl.prompt();
  }
  rl.close();
  return 0;
}
