/**
 * The socket codec: client requests out, server frames in. Both sides' shapes
 * come from protocol/ (`import type` only: no schema library reaches the
 * browser bundle).
 *
 * @module
 */

import type { z } from "zod";
import type * as F from "../../protocol/frames.ts";
import type { ServerFrame, ServerFrameType } from "../../protocol/server_frames.ts";
import {
  MODERATION_FRAME_TYPES,
  type ModerationFrame,
  type ModerationRequest,
} from "./moderation_frames.ts";

/** A request as the client writes it (the schemas' input side: `before` of `conversations` is a string). */
export type ClientRequest =
  | z.input<typeof F.HelloTokenFrame>
  | z.input<typeof F.HelloPasswordFrame>
  | z.input<typeof F.RegisterFrame>
  | z.input<typeof F.JoinFrame>
  | z.input<typeof F.LeaveFrame>
  | z.input<typeof F.SayFrame>
  | z.input<typeof F.DirectFrame>
  | z.input<typeof F.HistoryFrame>
  | z.input<typeof F.ReadFrame>
  | z.input<typeof F.ConversationsFrame>
  | z.input<typeof F.WhoFrame>
  | z.input<typeof F.WatchFrame>
  | z.input<typeof F.TypingFrame>
  | z.input<typeof F.PingFrame>
  | z.input<typeof F.RequestsFrame>
  | z.input<typeof F.DecideFrame>
  | z.input<typeof F.KickFrame>
  | z.input<typeof F.BanFrame>
  | z.input<typeof F.UnbanFrame>
  | z.input<typeof F.AnnounceFrame>
  | z.input<typeof F.ShutdownFrame>
  | ModerationRequest;

/** A frame the client reads: those of 2.3 and 5.1-5.3, and those of 5.4. */
export type ChatFrame = ServerFrame | ModerationFrame;

/** The hello a (re)connecting client sends first. */
export type HelloRequest = z.input<typeof F.HelloTokenFrame>;

/** Serializes one request to the text of one frame. */
export function encodeRequest(request: ClientRequest): string {
  return JSON.stringify(request);
}

const SERVER_TYPES: ServerFrameType[] = [
  "welcome",
  "ok",
  "error",
  "message",
  "direct",
  "joined",
  "left",
  "join_pending",
  "join_rejected",
  "member_joined",
  "history",
  "who",
  "pong",
  "presence",
  "join_request",
  "requests",
  "kicked",
  "banned",
  "notice",
  "shutdown",
  "shutdown_cancelled",
  "read",
  "conversations",
  "salon_stats",
  "typing",
  "muted",
  "unmuted",
  "salon_settings",
];

const KNOWN: ReadonlySet<string> = new Set<string>([...SERVER_TYPES, ...MODERATION_FRAME_TYPES]);

/**
 * Reads one text frame from the server: a JSON object whose `type` is one
 * this client knows. Anything else (not JSON, an unknown type from a newer
 * server) is `null`, to be ignored: the protocol only ever adds.
 */
export function decodeFrame(text: string): ChatFrame | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const type = (value as { type?: unknown }).type;
  if (typeof type !== "string" || !KNOWN.has(type)) return null;
  return value as ChatFrame;
}
