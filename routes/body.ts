/**
 * Reading and validating JSON request bodies.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { jsonTooDeep, MAX_JSON_DEPTH } from "../lib/json_depth.ts";
import { clientAddressFrom, NO_TRUSTED_PROXIES, type TrustedProxies } from "../lib/proxies.ts";
import type { z } from "zod";
import { ProtocolError } from "../protocol/errors.ts";
import { describeIssues } from "../protocol/fields.ts";

/** Largest request body read, bytes (PROTOCOL.md 5.6); larger ones get `413 too_long`. */
export const MAX_BODY_BYTES = 16 * 1024;

/** Whether a Content-Type names JSON: `application/json`, with at most a UTF-8 charset. */
export function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const [type, ...params] = value.split(";").map((p) => p.trim().toLowerCase());
  if (type !== "application/json") return false;
  return params.every((p) => {
    const [name, v] = p.split("=").map((x) => x.trim().replace(/^"(.*)"$/, "$1"));
    return name !== "charset" || v === "utf-8" || v === "utf8";
  });
}

/**
 * Reads the body as JSON, validates it against `schema`, and returns the
 * parsed value. In order: a declared or actual size past
 * {@link MAX_BODY_BYTES} is `413 too_long`; a body that is not sent as
 * `application/json` is `415 invalid`; an empty body is `400 invalid` (or `{}`
 * when `optional`); nesting deeper than {@link MAX_JSON_DEPTH} is `400
 * invalid` before any parsing; then JSON and the schema, `400 invalid` naming
 * the field and rule.
 */
export async function readJson<T>(
  c: Context,
  schema: z.ZodType<T>,
  opts: { optional?: boolean } = {},
): Promise<T> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const contentType = c.req.header("content-type");
  if (declared > 0 && !isJsonContentType(contentType)) throw notJson(contentType);
  const text = await readLimited(c.req.raw);
  if (text === "") {
    if (opts.optional) return schema.parse({});
    throw new ProtocolError("invalid", 400, "the body is empty; send a JSON object");
  }
  if (!isJsonContentType(contentType)) throw notJson(contentType);
  if (jsonTooDeep(text)) {
    throw new ProtocolError(
      "invalid",
      400,
      `the body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels; send a flatter JSON object`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ProtocolError(
      "invalid",
      400,
      text.trim() === "" ? "the body is empty; send a JSON object" : "the body is not valid JSON",
    );
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ProtocolError("invalid", 400, describeIssues(parsed.error));
  return parsed.data;
}

/**
 * Reads the query string of `c` with `schema` (every parameter a string;
 * a repeated one counts once): `400 invalid` naming the parameter and rule.
 */
export function readQuery<T>(c: Context, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) throw new ProtocolError("invalid", 400, describeIssues(parsed.error));
  return parsed.data;
}

function notJson(contentType: string | undefined): ProtocolError {
  return new ProtocolError(
    "invalid",
    415,
    `the body was sent as ${
      contentType ? `"${contentType.slice(0, 60)}"` : "no Content-Type"
    }; send it as application/json (UTF-8)`,
  );
}

/**
 * Refuses, before any handler reads it, a body whose declared length passes
 * {@link MAX_BODY_BYTES} (`413 too_long`), whatever the route.
 */
export const bodyLimit: MiddlewareHandler = async (c, next) => {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  await next();
};

function tooLarge(): ProtocolError {
  return new ProtocolError(
    "too_long",
    413,
    `the body is larger than ${MAX_BODY_BYTES} bytes; send a smaller JSON object`,
  );
}

async function readLimited(request: Request): Promise<string> {
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (true) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch {
        // The client went away (or stalled past the request timeout) mid-body.
        throw new ProtocolError("invalid", 400, "the body was cut off; send it whole");
      }
      const { done, value } = chunk;
      if (done) break;
      size += value.byteLength;
      if (size > MAX_BODY_BYTES) {
        await reader.cancel();
        throw tooLarge();
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ProtocolError("invalid", 400, "the body is not valid UTF-8; send UTF-8 JSON");
  }
}

/**
 * The TCP peer's address, from either server the app runs on: `Deno.serve`
 * (`c.env.remoteAddr.hostname`) or `node:http` through `@hono/node-server`
 * (`c.env.incoming.socket.remoteAddress`); `"unknown"` when neither says.
 */
export function peerAddress(c: Context): string {
  const env = c.env as {
    remoteAddr?: { hostname?: string };
    incoming?: { socket?: { remoteAddress?: string } };
  } | undefined;
  return env?.remoteAddr?.hostname ?? env?.incoming?.socket?.remoteAddress ?? "unknown";
}

const resolved = new WeakMap<Request, string>();

/**
 * Middleware that works out the client's address once per request: the peer,
 * or, when the peer is one of `trusted`, the right-most address of its
 * `X-Forwarded-For`/`Forwarded` chain that is not a trusted proxy.
 */
export function clientAddressResolver(trusted: TrustedProxies = NO_TRUSTED_PROXIES) {
  const middleware: MiddlewareHandler = async (c, next) => {
    resolved.set(c.req.raw, clientAddressFrom(peerAddress(c), c.req.raw.headers, trusted));
    await next();
  };
  return middleware;
}

/**
 * The client's address: what {@link clientAddressResolver} found for this
 * request, or the TCP peer when no resolver ran (the admin socket).
 */
export function clientAddress(c: Context): string {
  return resolved.get(c.req.raw) ?? peerAddress(c);
}
