/**
 * Reading and validating JSON request bodies.
 *
 * @module
 */

import type { Context } from "hono";
import type { z } from "zod";
import { ProtocolError } from "../protocol/errors.ts";
import { describeIssues } from "../protocol/fields.ts";

/** Largest request body read, bytes: room for a 1 MB string, so it gets a precise 400. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

/**
 * Reads the body as JSON (whatever the Content-Type says), validates it
 * against `schema`, and returns the parsed value. Throws `invalid` (400)
 * naming the field and rule, or `too_long` (413) past {@link MAX_BODY_BYTES}.
 */
export async function readJson<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const text = await readLimited(c.req.raw);
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
      const { done, value } = await reader.read();
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

/** The client's address as Deno.serve reported it, or `"unknown"`. */
export function clientAddress(c: Context): string {
  const env = c.env as { remoteAddr?: { hostname?: string } } | undefined;
  return env?.remoteAddr?.hostname ?? "unknown";
}
