/**
 * The local admin socket: a Unix socket, mode 0600, serving the admin API
 * with full rights. A socket file left by a server that died is removed;
 * one that a live server answers on is left alone.
 *
 * @module
 */

import { dirname } from "node:path";

/** A listening admin socket. */
export interface AdminSocket {
  /** The socket's path. */
  path: string;
  /** Stops listening and removes the file. */
  close(): Promise<void>;
}

async function isLive(path: string): Promise<boolean> {
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Listens on `path` with `handler`. Throws with a message naming
 * CAUSERIE_ADMIN_SOCKET when another server already answers there or the
 * path cannot be used.
 */
export async function serveAdminSocket(
  path: string,
  handler: (request: Request) => Response | Promise<Response>,
): Promise<AdminSocket> {
  await Deno.mkdir(dirname(path), { recursive: true });
  try {
    const info = await Deno.lstat(path);
    if (!info.isSocket) {
      throw new Error(
        `CAUSERIE_ADMIN_SOCKET: ${path} exists and is not a socket; remove it or choose another path`,
      );
    }
    if (await isLive(path)) {
      throw new Error(
        `CAUSERIE_ADMIN_SOCKET: another Causerie server is listening on ${path}; stop it or choose another path`,
      );
    }
    await Deno.remove(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const listening = Promise.withResolvers<void>();
  const server = Deno.serve({ path, onListen: () => listening.resolve() }, handler);
  await listening.promise;
  await Deno.chmod(path, 0o600);
  let closing: Promise<void> | undefined;
  return {
    path,
    close() {
      closing ??= (async () => {
        await server.shutdown();
        await Deno.remove(path).catch(() => {});
      })();
      return closing;
    },
  };
}
