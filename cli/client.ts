/**
 * The CLI's link to a running server: HTTP over the local admin socket, and
 * the inspection stream (a WebSocket over the same socket).
 *
 * @module
 */

// @ts-types="@types/ws"
import { resolve } from "node:path";
import WebSocket from "ws";

/** The server answered with an error (exit status 1). */
export class RefusedError extends Error {
  /** The error code from the body. */
  readonly code: string;
  /** HTTP status. */
  readonly status: number;

  /** Builds the error from the server's body. */
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "RefusedError";
    this.status = status;
    this.code = code;
  }
}

/** The server could not be reached (exit status 2). */
export class UnreachableError extends Error {
  /** The socket path tried. */
  readonly path: string;

  /** Builds the error for `path`. */
  constructor(path: string, detail: string) {
    super(
      `cannot reach the server on the admin socket ${path} (${detail}); is it running? ` +
        `Set CAUSERIE_ADMIN_SOCKET or --socket to the path the server uses`,
    );
    this.name = "UnreachableError";
    this.path = path;
  }
}

/**
 * The socket file belongs to someone other than the user running the CLI or
 * root (exit status 2): another local user may have put it there to catch the
 * commands (and the passwords of `user create`), so nothing is sent.
 */
export class UntrustedSocketError extends Error {
  /** The socket path tried. */
  readonly path: string;

  /** Builds the error for `path`. */
  constructor(path: string, detail: string) {
    super(
      `refusing the admin socket ${path}: ${detail}; nothing was sent. ` +
        `Run the CLI as the server's user (or root), or set CAUSERIE_ADMIN_SOCKET or --socket ` +
        `to the path the server uses`,
    );
    this.name = "UntrustedSocketError";
    this.path = path;
  }
}

/** The uid running the CLI (`null` where there are none); needs `--allow-sys=uid`. */
function ownUid(path: string): number | null {
  try {
    return Deno.uid();
  } catch (e) {
    if (e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable) {
      throw new UntrustedSocketError(
        path,
        "its owner cannot be checked without --allow-sys=uid (deno task admin grants it)",
      );
    }
    throw e;
  }
}

/**
 * Throws {@link UntrustedSocketError} unless the socket file is owned by the
 * current user or root.
 */
export function assertTrustedOwner(path: string, info: Deno.FileInfo, uid: number | null): void {
  if (uid === null || info.uid === null) return;
  if (info.uid !== uid && info.uid !== 0) {
    throw new UntrustedSocketError(
      path,
      `it belongs to uid ${info.uid}, neither you (uid ${uid}) nor root`,
    );
  }
}

/** A client of the admin API on a Unix socket. */
export interface AdminClient {
  /** Sends a request; resolves with the parsed JSON body (or undefined for 204). */
  request(method: string, path: string, body?: unknown): Promise<unknown>;
  /**
   * Opens the WebSocket at `route` (`/admin/inspect`), hands each text frame
   * to `onFrame`, and resolves with the close code and reason once the
   * server closes it or `signal` aborts (then with 1000).
   */
  stream(
    route: string,
    onFrame: (text: string) => void,
    signal?: AbortSignal,
  ): Promise<{ code: number; reason: string }>;
  /** Releases the connection pool. */
  close(): void;
}

/** Throws unless `path` is a socket file of the current user or root. */
async function checkSocket(path: string): Promise<void> {
  try {
    const info = await Deno.stat(path);
    if (!info.isSocket) throw new UnreachableError(path, "not a socket");
    assertTrustedOwner(path, info, ownUid(path));
  } catch (e) {
    if (e instanceof UnreachableError || e instanceof UntrustedSocketError) throw e;
    if (e instanceof Deno.errors.NotFound) throw new UnreachableError(path, "no such file");
    if (e instanceof Deno.errors.PermissionDenied) {
      throw new UnreachableError(path, "permission denied: run as the server's user");
    }
    throw new UnreachableError(path, (e as Error).message);
  }
}

/** A client for the admin socket at `path`. */
export function adminClient(path: string): AdminClient {
  let client: Deno.HttpClient | undefined;
  return {
    async request(method, route, body) {
      await checkSocket(path);
      client ??= Deno.createHttpClient(
        { proxy: { transport: "unix", path } } as Deno.CreateHttpClientOptions,
      );
      let response: Response;
      try {
        response = await fetch(`http://localhost${route}`, {
          method,
          client,
          headers: body === undefined ? {} : { "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (e) {
        throw new UnreachableError(path, (e as Error).message.split("\n")[0]);
      }
      const text = await response.text();
      let parsed: unknown = undefined;
      if (text !== "") {
        try {
          parsed = JSON.parse(text);
        } catch {
          throw new RefusedError(
            response.status,
            "invalid",
            `unexpected answer: ${text.slice(0, 200)}`,
          );
        }
      }
      if (!response.ok) {
        const error = (parsed as { error?: { code?: string; message?: string } })?.error;
        throw new RefusedError(
          response.status,
          error?.code ?? "internal",
          error?.message ?? `the server answered ${response.status}`,
        );
      }
      return parsed;
    },
    async stream(route, onFrame, signal) {
      await checkSocket(path);
      // `ws+unix://` takes an absolute path: a relative one (the default `data/admin.sock`) would
      // be read as a host name.
      const ws = new WebSocket(`ws+unix://${resolve(path)}:${route}`, { perMessageDeflate: false });
      const done = Promise.withResolvers<{ code: number; reason: string }>();
      let opened = false;
      ws.on("open", () => opened = true);
      ws.on("message", (data, isBinary) => {
        if (!isBinary) onFrame(data.toString());
      });
      ws.on("error", (e: Error) => {
        if (!opened) done.reject(new UnreachableError(path, e.message.split("\n")[0]));
      });
      ws.on("unexpected-response", (_req, res) => {
        done.reject(
          new RefusedError(res.statusCode ?? 0, "invalid", `the server answered ${res.statusCode}`),
        );
        ws.terminate();
      });
      ws.on("close", (code, reason) => done.resolve({ code, reason: reason.toString() }));
      const abort = () => {
        try {
          ws.close(1000, "done");
        } catch { /* not open yet */ }
        ws.terminate();
      };
      signal?.addEventListener("abort", abort, { once: true });
      try {
        const closed = await done.promise;
        return signal?.aborted ? { code: 1000, reason: "stopped" } : closed;
      } finally {
        signal?.removeEventListener("abort", abort);
      }
    },
    close() {
      client?.close();
      client = undefined;
    },
  };
}
