/**
 * The local admin socket: a Unix socket, mode 0600, serving the admin API
 * with full rights. A socket file left by a server that died is removed;
 * one that a live server answers on is left alone.
 *
 * The socket is never reachable with looser permissions, whatever the umask:
 * it is bound inside a fresh private directory (0700) next to its path,
 * set to 0600 there, then renamed onto its path (an atomic replace). Its
 * folder must be writable by its owner only (the server's user or root):
 * otherwise another local user could replace the socket or the folder.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { unixSocketAnswers } from "../lib/unix_socket.ts";

/** A listening admin socket. */
export interface AdminSocket {
  /** The socket's path. */
  path: string;
  /** Stops listening and removes the file. */
  close(): Promise<void>;
}

/**
 * Why the folder `dir` cannot hold the admin socket of a server running as
 * `uid`, or `undefined` when it can: it must be a directory owned by `uid` or
 * root and writable by its owner only (no group or other write bit, sticky or
 * not).
 */
export function unsafeFolder(info: Deno.FileInfo, uid: number | null): string | undefined {
  if (!info.isDirectory) return "is not a directory";
  const mode = info.mode;
  if (mode !== null && (mode & 0o022) !== 0) {
    const shown = (mode & 0o7777).toString(8).padStart(4, "0");
    return `is writable by other users (mode ${shown})`;
  }
  if (uid !== null && info.uid !== null && info.uid !== uid && info.uid !== 0) {
    return `belongs to another user (uid ${info.uid})`;
  }
  return undefined;
}

/** Creates `dir` (and its parents) if missing; a folder created here is made 0700. */
async function ensureFolder(dir: string): Promise<void> {
  try {
    await Deno.stat(dir);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    // The umask may have left more bits than asked for; the last folder is ours to set.
    await Deno.chmod(dir, 0o700);
  }
}

/**
 * Listens on `path` with `handler`. Throws with a message naming
 * CAUSERIE_ADMIN_SOCKET when another server already answers there, when the
 * socket's folder is writable by other users or belongs to someone else, or
 * when the path cannot be used.
 */
export async function serveAdminSocket(
  path: string,
  handler: (request: Request) => Response | Promise<Response>,
): Promise<AdminSocket> {
  const dir = dirname(path);
  await ensureFolder(dir);
  // A fresh private folder beside the socket: mkdtemp makes it 0700, umask or not.
  const privateDir = await Deno.makeTempDir({ dir, prefix: ".sock-" });
  let server: Deno.HttpServer | undefined;
  try {
    // Our own uid, read from the folder we just made (no sys permission needed).
    const uid = (await Deno.stat(privateDir)).uid;
    const problem = unsafeFolder(await Deno.stat(dir), uid);
    if (problem) {
      throw new Error(
        `CAUSERIE_ADMIN_SOCKET: the folder ${dir} of the admin socket ${problem}; ` +
          `use a folder that only the server's user can write to (e.g. chmod 700 ${dir}) ` +
          `or choose another path`,
      );
    }
    try {
      const info = await Deno.lstat(path);
      if (!info.isSocket) {
        throw new Error(
          `CAUSERIE_ADMIN_SOCKET: ${path} exists and is not a socket; remove it or choose another path`,
        );
      }
      if (await unixSocketAnswers(path)) {
        throw new Error(
          `CAUSERIE_ADMIN_SOCKET: another Causerie server is listening on ${path}; stop it or choose another path`,
        );
      }
      await Deno.remove(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    const bound = join(privateDir, "s");
    const listening = Promise.withResolvers<void>();
    server = Deno.serve({ path: bound, onListen: () => listening.resolve() }, handler);
    await listening.promise;
    await Deno.chmod(bound, 0o600);
    await Deno.rename(bound, path);
  } catch (e) {
    await server?.shutdown();
    throw e;
  } finally {
    await Deno.remove(privateDir, { recursive: true }).catch(() => {});
  }
  const listener = server;
  let closing: Promise<void> | undefined;
  return {
    path,
    close() {
      closing ??= (async () => {
        await listener.shutdown();
        await Deno.remove(path).catch(() => {});
      })();
      return closing;
    },
  };
}
