/**
 * The process's open-file limit, which bounds how many sockets it can hold.
 *
 * @module
 */

/** Below this soft limit, start-up warns. */
export const NOFILE_WARN_BELOW = 4096;

/**
 * The soft `nofile` limit (Linux, from /proc/self/limits), or `undefined`
 * when it cannot be read (another system, no permission, unlimited).
 */
export function openFileLimit(): number | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync("/proc/self/limits");
  } catch {
    return undefined;
  }
  const line = text.split("\n").find((l) => l.startsWith("Max open files"));
  const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0];
  return soft !== undefined && /^\d+$/.test(soft) ? Number(soft) : undefined;
}

/**
 * Connections to accept at most under `limit` descriptors: what is left once
 * the database, the log, the admin socket and some slack are kept aside.
 */
export function connectionsFor(limit: number | undefined): number {
  if (limit === undefined) return 10_000;
  const reserve = Math.max(128, Math.ceil(limit / 10));
  return Math.max(16, limit - reserve);
}
