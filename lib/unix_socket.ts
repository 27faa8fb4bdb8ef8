/**
 * Whether a server answers on a Unix socket: the admin socket's start-up
 * check (a live server already there) and the legacy import's refusal to run
 * beside a server.
 *
 * @module
 */

/** Whether a connection to the Unix socket at `path` is accepted (then closed at once). */
export async function unixSocketAnswers(path: string): Promise<boolean> {
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
    return true;
  } catch {
    return false;
  }
}
