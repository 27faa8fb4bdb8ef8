/**
 * Serves the browser client built into web/dist/ (`deno task build`):
 * `GET /` (index.html: `no-cache` with an ETag, 304 on `If-None-Match`, the
 * page's strict Content-Security-Policy) and `GET /assets/<hashed name>`
 * (`immutable`, a year). Files are read and compressed once (brotli and gzip
 * from node:zlib) the first time they are asked for; the encoding follows
 * `Accept-Encoding`.
 *
 * Only these paths are served: the client routes with the address's hash
 * (`#/s/Général`), so any other unknown path keeps its JSON 404. The
 * inspector page is `GET /admin/inspector` ({@link inspectorPageRoutes}).
 *
 * @module
 */

import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { Hono } from "hono";

/** The page's Content-Security-Policy: nothing inline, nothing from elsewhere. */
export const PAGE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; " +
  "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; " +
  "frame-ancestors 'none'";

/** Past this many bytes a file is compressed faster rather than smaller. */
const LARGE_ASSET = 512 * 1024;

/** Where `deno task build` writes the client. */
export const DEFAULT_WEB_DIST = new URL("../web/dist/", import.meta.url);

/** One file, ready to send. */
interface Asset {
  /** MIME type. */
  type: string;
  /** Strong validator. */
  etag: string;
  /** The bytes as they are. */
  identity: Uint8Array;
  /** gzip. */
  gzip: Uint8Array;
  /** brotli. */
  br: Uint8Array;
}

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
  woff2: "font/woff2",
};

async function etagOf(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
  return `"${Array.from(d.slice(0, 12), (b) => b.toString(16).padStart(2, "0")).join("")}"`;
}

async function load(url: URL): Promise<Asset | null> {
  let identity: Uint8Array;
  try {
    identity = await Deno.readFile(url);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.IsADirectory) return null;
    throw e;
  }
  const ext = url.pathname.split(".").pop() ?? "";
  return {
    type: TYPES[ext] ?? "application/octet-stream",
    etag: await etagOf(identity),
    identity,
    gzip: new Uint8Array(gzipSync(identity, { level: 9 })),
    br: new Uint8Array(brotliCompressSync(identity, {
      params: {
        // Best compression for the client's small files; a large one (the inspector's bundle,
        // with its layout engine: 1.5 MB) at a quality that compresses it in about 0.1 s
        // instead of 2.5 s on the event loop, for 15% more bytes.
        [constants.BROTLI_PARAM_QUALITY]: identity.byteLength > LARGE_ASSET ? 5 : 11,
        [constants.BROTLI_PARAM_SIZE_HINT]: identity.byteLength,
      },
    })),
  };
}

/** The encodings the request accepts (q > 0), lower-cased. */
export function acceptedEncodings(header: string | undefined): Set<string> {
  const out = new Set<string>();
  for (const part of (header ?? "").split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    if (name && !(q && Number(q.slice(2)) === 0)) out.add(name);
  }
  return out;
}

/** Options of {@link webRoutes}. */
export interface WebOptions {
  /** The built client's folder (default web/dist/). */
  dist?: URL;
}

/** Reads, compresses and sends the files of one web/dist/ folder. */
function distFiles(dist: URL) {
  const cache = new Map<string, Promise<Asset | null>>();
  const asset = (name: string) => {
    let p = cache.get(name);
    if (!p) {
      p = load(new URL(name, dist));
      cache.set(name, p);
      // A file missing now may be built later: do not remember its absence.
      p.then((a) => a ?? cache.delete(name), () => cache.delete(name));
    }
    return p;
  };

  const send = (a: Asset, req: Request, headers: Record<string, string>) => {
    const h = new Headers(headers);
    h.set("Content-Type", a.type);
    h.set("ETag", a.etag);
    h.set("Vary", "Accept-Encoding");
    const match = req.headers.get("if-none-match");
    if (match && match.split(",").some((t) => t.trim().replace(/^W\//, "") === a.etag)) {
      return new Response(null, { status: 304, headers: h });
    }
    const accepted = acceptedEncodings(req.headers.get("accept-encoding") ?? undefined);
    let body = a.identity;
    if (accepted.has("br")) {
      body = a.br;
      h.set("Content-Encoding", "br");
    } else if (accepted.has("gzip")) {
      body = a.gzip;
      h.set("Content-Encoding", "gzip");
    }
    h.set("Content-Length", String(body.byteLength));
    return new Response(req.method === "HEAD" ? null : body as BodyInit, {
      status: 200,
      headers: h,
    });
  };

  /** An HTML page of dist: `no-cache`, the strict CSP; 503 when not built. */
  const page = (name: string) => async (c: { req: { raw: Request } }) => {
    const a = await asset(name);
    if (!a) {
      return new Response(
        JSON.stringify({
          error: {
            code: "internal",
            message:
              "the browser client is not built; run `deno task build` (or `deno task start`)",
          },
        }),
        { status: 503, headers: { "Content-Type": "application/json" } },
      );
    }
    return send(a, c.req.raw, {
      "Cache-Control": "no-cache",
      "Content-Security-Policy": PAGE_CSP,
      "Cross-Origin-Opener-Policy": "same-origin",
    });
  };
  return { asset, send, page };
}

/** The client's routes. */
export function webRoutes(opts: WebOptions = {}): Hono {
  const { asset, send, page } = distFiles(opts.dist ?? DEFAULT_WEB_DIST);
  const app = new Hono();
  app.get("/", page("index.html"));
  app.get("/index.html", page("index.html"));
  app.get("/assets/:name{[A-Za-z0-9_-]+-[0-9a-f]{8,}\\.[a-z0-9]+}", async (c) => {
    const a = await asset(`assets/${c.req.param("name")}`);
    if (!a) return c.notFound();
    return send(a, c.req.raw, { "Cache-Control": "public, max-age=31536000, immutable" });
  });
  return app;
}

/**
 * The inspector page, `GET /admin/inspector` (web/dist/inspector.html, same
 * headers as `/`). Mounted before the admin API, whose bearer check would
 * refuse a browser's plain page load: the page holds no data, it logs in
 * and then calls the API and the stream with the token.
 */
export function inspectorPageRoutes(opts: WebOptions = {}): Hono {
  const { page } = distFiles(opts.dist ?? DEFAULT_WEB_DIST);
  const app = new Hono();
  app.get("/admin/inspector", page("inspector.html"));
  return app;
}
