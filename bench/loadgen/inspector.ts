/**
 * A tiny Chrome DevTools Protocol client (over {@link WsClient}) for a server
 * started with `--inspect=127.0.0.1:PORT` (Deno and Node alike): forces a
 * full garbage collection and reads the JavaScript heap, so that memory per
 * session can be told apart from garbage not yet collected.
 *
 * @module
 */

import { textOf, WsClient } from "./ws_client.ts";

/** Heap figures from `Runtime.getHeapUsage`, bytes. */
export interface HeapUsage {
  /** Live JavaScript heap. */
  used: number;
  /** Heap reserved. */
  total: number;
}

/** A connected inspector session. */
export class Inspector {
  readonly #ws: WsClient;
  #id = 0;
  readonly #waiting = new Map<number, (result: unknown) => void>();

  private constructor(ws: WsClient) {
    this.#ws = ws;
    ws.onText = (p) => {
      const msg = JSON.parse(textOf(p)) as { id?: number; result?: unknown; error?: unknown };
      if (msg.id !== undefined) {
        this.#waiting.get(msg.id)?.(msg.error ? { error: msg.error } : msg.result);
        this.#waiting.delete(msg.id);
      }
    };
  }

  /** Connects to the first target of the inspector on `port`. */
  static async connect(port: number): Promise<Inspector> {
    const r = await fetch(`http://127.0.0.1:${port}/json/list`);
    const list = await r.json() as Array<{ webSocketDebuggerUrl: string }>;
    const url = new URL(list[0].webSocketDebuggerUrl);
    const ws = await WsClient.open({
      hostname: "127.0.0.1",
      port,
      path: url.pathname,
      bufferSize: 64 * 1024,
    });
    ws.run();
    return new Inspector(ws);
  }

  /** Calls a method; resolves with its result (rejects after 60 s). */
  call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = ++this.#id;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`${method}: no answer`));
      }, 60_000);
      this.#waiting.set(id, (result) => {
        clearTimeout(timer);
        resolve(result);
      });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** The JavaScript heap. */
  async heap(): Promise<HeapUsage> {
    const r = await this.call("Runtime.getHeapUsage") as { usedSize: number; totalSize: number };
    return { used: r.usedSize, total: r.totalSize };
  }

  /** A full garbage collection. */
  async collectGarbage(): Promise<void> {
    await this.call("HeapProfiler.collectGarbage");
  }

  /** Disconnects. */
  close(): void {
    this.#ws.close();
  }
}
