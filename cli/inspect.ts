/**
 * `inspect`: prints the inspection stream (`GET /admin/inspect` on the admin
 * socket, PROTOCOL.md 5.5) as JSON lines, one frame a line, until Ctrl-C
 * (or SIGTERM) or until the server closes it.
 *
 * @module
 */

import { type AdminClient, RefusedError } from "./client.ts";

/** Close codes that end the stream normally (the server stopping, or us). */
const NORMAL_CLOSES = new Set([1000, 1001, 1005]);

/**
 * Streams until a signal or the server's close; `write` gets each frame's
 * line. Resolves with the exit status: 0 after Ctrl-C or a normal close;
 * throws {@link RefusedError} when the server refuses the stream (too many
 * watchers).
 */
export async function runInspect(
  client: AdminClient,
  write: (line: string) => void,
  notify: (message: string) => void = (m) => console.error(m),
): Promise<number> {
  const stop = new AbortController();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const onSignal = () => stop.abort();
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  try {
    const closed = await client.stream("/admin/inspect", write, stop.signal);
    if (stop.signal.aborted) return 0;
    if (!NORMAL_CLOSES.has(closed.code)) {
      throw new RefusedError(
        0,
        "closed",
        `the server closed the stream: ${closed.code} ${closed.reason}`.trim(),
      );
    }
    notify(`the server closed the stream (${closed.code} ${closed.reason})`.trim());
    return 0;
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
  }
}
