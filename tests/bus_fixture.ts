/**
 * Redis for tests. `CAUSERIE_TEST_BUS_URL` names a running Redis server
 * (`.ci/run` starts one); without it, {@link busTest} registers the tests as
 * ignored, named so. Tests that stop and restart Redis start a private
 * `redis-server` of their own ({@link privateRedis}) on a free loopback port.
 *
 * @module
 */

/** The server URL, or `undefined` when bus tests are skipped. */
export const BUS_URL: string | undefined = Deno.env.get("CAUSERIE_TEST_BUS_URL") || undefined;

/** Whether bus tests must be skipped. */
export const BUS_SKIPPED = BUS_URL === undefined;

/**
 * Registers a test that needs Redis: ignored (and named so) when
 * {@link BUS_URL} is unset, run and sanitized as usual otherwise.
 */
export function busTest(name: string, fn: () => Promise<void>): void {
  Deno.test({
    name: BUS_SKIPPED ? `${name} (CAUSERIE_TEST_BUS_URL unset)` : name,
    ignore: BUS_SKIPPED,
    fn,
  });
}

/** A prefix of channels no other test uses. */
export function uniquePrefix(): string {
  return `causerie_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

/** A redis-server of one test's own. */
export interface PrivateRedis {
  /** `redis://127.0.0.1:PORT/0`. */
  url: string;
  /** Stops the server (SIGTERM, waits for the exit). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Stops it for good and removes its directory. */
  dispose(): Promise<void>;
}

/** A free TCP port of 127.0.0.1 (the kernel's choice). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * Starts `redis-server` (on PATH: `.ci/run` installs it) on a free loopback
 * port in a temporary directory, without persistence.
 */
export async function privateRedis(): Promise<PrivateRedis> {
  const dir = await Deno.makeTempDir({ prefix: "causerie-redis-" });
  const port = freePort();
  let child: Deno.ChildProcess | undefined;
  const start = async () => {
    child = new Deno.Command("redis-server", {
      args: [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--dir",
        dir,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    for (let i = 0; i < 100; i++) {
      try {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        conn.close();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error(`redis-server did not listen on 127.0.0.1:${port} within 5 s`);
  };
  const stop = async () => {
    if (!child) return;
    const c = child;
    child = undefined;
    try {
      c.kill("SIGTERM");
    } catch { /* gone */ }
    await c.status;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}/0`,
    stop,
    start,
    async dispose() {
      await stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Resolves once `check` holds, polling every 20 ms; rejects after `ms`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
