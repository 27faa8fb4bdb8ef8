/**
 * The server as a child process (`deno run main.ts`), for tests that need a
 * real process: signals, exit status, SIGKILL.
 *
 * @module
 */

/** The repository root. */
export const ROOT = new URL("..", import.meta.url);

/** The environment of a child: overrides, with any inherited CAUSERIE_* blanked. */
export function childEnv(overrides: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const key of Object.keys(Deno.env.toObject())) {
    if (key.startsWith("CAUSERIE_")) env[key] = "";
  }
  return { ...env, ...overrides };
}

/** A running child server. */
export interface Server {
  port: number;
  url: string;
  /** Sends a signal if the child still runs. */
  kill(signal: Deno.Signal): void;
  /** Resolves once the child has exited and its output is drained. */
  finished(): Promise<{ code: number; signal: Deno.Signal | null; output: string }>;
  /** Everything the child wrote so far. */
  output(): string;
  /** Kills the child if still running and releases its streams. */
  dispose(): Promise<void>;
}

/**
 * Spawns `deno run main.ts` and waits for its "listening on http://127.0.0.1:PORT" line;
 * `nofile` sets the child's open-file limit (`ulimit -n`); `args` replaces `run --allow-all main.ts`.
 */
export async function startServer(
  env: Record<string, string>,
  opts: { nofile?: number; args?: string[] } = {},
): Promise<Server> {
  const deno = opts.args ?? ["run", "--allow-all", "main.ts"];
  const child = new Deno.Command(opts.nofile === undefined ? Deno.execPath() : "sh", {
    args: opts.nofile === undefined
      ? deno
      : ["-c", `ulimit -n ${opts.nofile} && exec "$0" "$@"`, Deno.execPath(), ...deno],
    cwd: ROOT,
    env: childEnv(env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const kill = (signal: Deno.Signal) => {
    if (exited) return;
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  };
  // A hung start must not hang the suite.
  const guard = setTimeout(() => kill("SIGKILL"), 30_000);
  const stdout = new Response(child.stdout).text();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let stderr = "";
  let port: number | undefined;
  while (port === undefined) {
    const { done, value } = await reader.read();
    if (done) break;
    stderr += value;
    const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\b/.exec(stderr);
    if (m) port = Number(m[1]);
  }
  clearTimeout(guard);
  // Keep draining stderr so that the child never blocks on a full pipe.
  const drained = (async () => {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      stderr += value;
    }
  })();
  let finishing: Promise<{ code: number; signal: Deno.Signal | null; output: string }> | undefined;
  const finished = () =>
    finishing ??= (async () => {
      const s = await status;
      await drained;
      return { code: s.code, signal: s.signal, output: (await stdout) + stderr };
    })();
  if (port === undefined) {
    kill("SIGKILL");
    const { code, output } = await finished();
    throw new Error(`server did not start (exit ${code}):\n${output}`);
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    kill,
    finished,
    output: () => stderr,
    async dispose() {
      kill("SIGKILL");
      await finished();
    },
  };
}
