/**
 * Client frames of the WebSocket protocol (PROTOCOL.md section 2), one schema
 * per type, and the parser that turns a text frame into a typed frame or a
 * precise `invalid` error.
 *
 * @module
 */

import { z } from "zod";
import { jsonTooDeep, MAX_JSON_DEPTH } from "../lib/json_depth.ts";
import {
  describeIssues,
  givenPasswordField,
  MAX_REF,
  nameRefField,
  refField,
  stringField,
} from "./fields.ts";
import { aliasField, passwordField, usernameField } from "./fields.ts";
import { minutesField, reasonField, secondsField } from "./admin.ts";
import { EDIT_SCHEMAS } from "./edit_frames.ts";
import { muteMinutesField, muteSalonField, slowModeSecondsField } from "./admin.ts";

export { MAX_REF };

/** Largest frame accepted, in bytes; a larger one closes the socket with 1009. */
export const MAX_FRAME_BYTES = 64 * 1024;

/** Most messages one `history` request returns. */
export const HISTORY_MAX = 200;
/** Messages returned when `limit` is absent. */
export const HISTORY_DEFAULT = 50;

const ref = refField;
const nameRef = nameRefField;

/** `{"type":"hello","token"}`. */
export const HelloTokenFrame = z.object({
  type: z.literal("hello"),
  ref,
  token: stringField("token").min(1, { error: "token must not be empty" })
    .max(512, { error: "token must be at most 512 characters" }),
});
/** `{"type":"hello","username","password"}`. */
export const HelloPasswordFrame = z.object({
  type: z.literal("hello"),
  ref,
  username: usernameField(),
  password: givenPasswordField(),
});
/** Either form of hello: with a `token` field it is a token hello. */
export const HelloFrame = z.union([HelloTokenFrame, HelloPasswordFrame]);

/** `{"type":"register","username","alias","password"}`. */
export const RegisterFrame = z.object({
  type: z.literal("register"),
  ref,
  username: usernameField(),
  alias: aliasField(),
  password: passwordField(),
});

/** `{"type":"join","salon"}`. */
export const JoinFrame = z.object({ type: z.literal("join"), ref, salon: nameRef("salon") });
/** `{"type":"leave","salon"}`. */
export const LeaveFrame = z.object({ type: z.literal("leave"), ref, salon: nameRef("salon") });
/** `{"type":"say","salon","text"}`; the text rule depends on configuration (protocol/text.ts). */
export const SayFrame = z.object({
  type: z.literal("say"),
  ref,
  salon: nameRef("salon"),
  text: stringField("text"),
});
/** `{"type":"direct","to","text"}`. */
export const DirectFrame = z.object({
  type: z.literal("direct"),
  ref,
  to: nameRef("to"),
  text: stringField("text"),
});

const positiveInt = (field: string, max: number) =>
  z.number({ error: `${field} must be a number` }).int({ error: `${field} must be a whole number` })
    .min(1, { error: `${field} must be at least 1` })
    .max(max, { error: `${field} must be at most ${max}` });

/** A message id a client names as a cursor: a whole number from `min`. */
const idField = (field: string, min: number) =>
  z.number({ error: `${field} must be a number` }).int({ error: `${field} must be a whole number` })
    .min(min, { error: `${field} must be at least ${min}` })
    .max(Number.MAX_SAFE_INTEGER, { error: `${field} must be at most ${Number.MAX_SAFE_INTEGER}` });

/** `{"type":"history","salon"|"with","before"?|"after"?,"limit"?}` (`after`: PROTOCOL 5.2). */
export const HistoryFrame = z.object({
  type: z.literal("history"),
  ref,
  salon: nameRef("salon").optional(),
  with: nameRef("with").optional(),
  before: positiveInt("before", Number.MAX_SAFE_INTEGER).optional(),
  after: idField("after", 0).optional(),
  limit: positiveInt("limit", HISTORY_MAX).optional(),
}).refine((f) => (f.salon === undefined) !== (f.with === undefined), {
  error: "history needs exactly one of salon or with",
}).refine((f) => f.before === undefined || f.after === undefined, {
  error: "history takes before or after, not both: before pages back, after catches up",
});
/** `{"type":"read","salon"|"with","id"}`: the user has read up to `id` (PROTOCOL 5.2). */
export const ReadFrame = z.object({
  type: z.literal("read"),
  ref,
  salon: nameRef("salon").optional(),
  with: nameRef("with").optional(),
  id: idField("id", 1),
}).refine((f) => (f.salon === undefined) !== (f.with === undefined), {
  error: "read needs exactly one of salon or with",
});

/** Most conversations one `conversations` request returns. */
export const CONVERSATIONS_MAX = 200;
/** Conversations returned when `limit` is absent (and in `welcome.directs`). */
export const CONVERSATIONS_DEFAULT = 50;

/** An ISO-8601 UTC time as the server writes them (`2026-11-24T10:00:00.000Z`), read as epoch ms. */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const timeField = (field: string) =>
  stringField(field).max(30, { error: `${field} must be an ISO-8601 UTC time` })
    .refine((s) => ISO_UTC.test(s) && Number.isFinite(Date.parse(s)), {
      error: `${field} must be an ISO-8601 UTC time such as 2026-11-24T10:00:00.000Z ` +
        `(the "at" of a conversation already received)`,
    }).transform((s) => Date.parse(s));

/** `{"type":"conversations","before"?,"limit"?}` (PROTOCOL 5.2); `before` parsed to epoch ms. */
export const ConversationsFrame = z.object({
  type: z.literal("conversations"),
  ref,
  before: timeField("before").optional(),
  limit: positiveInt("limit", CONVERSATIONS_MAX).optional(),
});

/** Most members one `who` answer lists (PROTOCOL 5.1). */
export const WHO_MAX = 1000;
/** Members a `who` answer lists when `limit` is absent. */
export const WHO_DEFAULT = 200;
/** `{"type":"who","salon","status"?,"limit"?}` (`status`: only `"online"`, PROTOCOL 5.1). */
export const WhoFrame = z.object({
  type: z.literal("who"),
  ref,
  salon: nameRef("salon"),
  status: z.literal("online", { error: 'status must be "online" (or left out)' }).optional(),
  limit: positiveInt("limit", WHO_MAX).optional(),
});
/** Most names on a watch list (PROTOCOL 5.1). */
export const WATCH_MAX = 200;
/** `{"type":"watch","users":[username...]}` (PROTOCOL 5.1): at most {@link WATCH_MAX} names. */
export const WatchFrame = z.object({
  type: z.literal("watch"),
  ref,
  users: z.array(
    stringField("each name in users").max(64, {
      error: "each name in users must be at most 64 characters",
    }),
    { error: "users must be a list of usernames" },
  ).max(WATCH_MAX, { error: `users must list at most ${WATCH_MAX} names` }),
});
/** `{"type":"typing","salon"|"with"}` (PROTOCOL 5.3). */
export const TypingFrame = z.object({
  type: z.literal("typing"),
  ref,
  salon: nameRef("salon").optional(),
  with: nameRef("with").optional(),
}).refine((f) => (f.salon === undefined) !== (f.with === undefined), {
  error: "typing needs exactly one of salon or with",
});
/** `{"type":"ping"}`. */
export const PingFrame = z.object({ type: z.literal("ping"), ref });

/** `{"type":"requests"}` (moderators). */
export const RequestsFrame = z.object({ type: z.literal("requests"), ref });
/** `{"type":"decide","salon","username","accept"}` (moderators). */
export const DecideFrame = z.object({
  type: z.literal("decide"),
  ref,
  salon: nameRef("salon"),
  username: nameRef("username"),
  accept: z.boolean({ error: "accept must be true or false" }),
});
/** `{"type":"kick","username","reason"?,"minutes"?}` (moderators). */
export const KickFrame = z.object({
  type: z.literal("kick"),
  ref,
  username: nameRef("username"),
  reason: reasonField,
  minutes: minutesField,
});
/** `{"type":"ban","username","reason"?,"purge"?}` (moderators). */
export const BanFrame = z.object({
  type: z.literal("ban"),
  ref,
  username: nameRef("username"),
  reason: reasonField,
  purge: z.boolean({ error: "purge must be true or false" }).optional(),
});
/** `{"type":"unban","username"}` (moderators). */
export const UnbanFrame = z.object({
  type: z.literal("unban"),
  ref,
  username: nameRef("username"),
});
/** `{"type":"announce","text"}` (moderators). */
export const AnnounceFrame = z.object({
  type: z.literal("announce"),
  ref,
  text: stringField("text"),
});
/** `{"type":"shutdown","seconds"?}` (admins). */
export const ShutdownFrame = z.object({ type: z.literal("shutdown"), ref, seconds: secondsField });

/** `{"type":"mute","username","minutes"?,"salon"?,"reason"?}` (moderators, PROTOCOL 5.4). */
export const MuteFrame = z.object({
  type: z.literal("mute"),
  ref,
  username: nameRef("username"),
  minutes: muteMinutesField,
  salon: muteSalonField,
  reason: reasonField,
});
/** `{"type":"unmute","username","salon"?}` (moderators, PROTOCOL 5.4). */
export const UnmuteFrame = z.object({
  type: z.literal("unmute"),
  ref,
  username: nameRef("username"),
  salon: muteSalonField,
});
/** `{"type":"slow_mode","salon","seconds"}` (moderators, PROTOCOL 5.4). */
export const SlowModeFrame = z.object({
  type: z.literal("slow_mode"),
  ref,
  salon: nameRef("salon"),
  seconds: slowModeSecondsField,
});

/** Frame types reserved to moderators and admins. */
export const MODERATOR_FRAMES: ReadonlySet<string> = new Set([
  "requests",
  "decide",
  "kick",
  "ban",
  "unban",
  "announce",
  "shutdown",
  // mute and slow mode (PROTOCOL 5.4)
  "mute",
  "unmute",
  "slow_mode",
]);

const SCHEMAS = {
  hello: HelloFrame,
  register: RegisterFrame,
  join: JoinFrame,
  leave: LeaveFrame,
  say: SayFrame,
  direct: DirectFrame,
  history: HistoryFrame,
  read: ReadFrame,
  conversations: ConversationsFrame,
  who: WhoFrame,
  ping: PingFrame,
  watch: WatchFrame,
  typing: TypingFrame,
  requests: RequestsFrame,
  decide: DecideFrame,
  kick: KickFrame,
  ban: BanFrame,
  unban: UnbanFrame,
  announce: AnnounceFrame,
  shutdown: ShutdownFrame,
  // Edit, delete and reports (PROTOCOL 5.4): protocol/edit_frames.ts.
  ...EDIT_SCHEMAS,
  // mute and slow mode (PROTOCOL 5.4)
  mute: MuteFrame,
  unmute: UnmuteFrame,
  slow_mode: SlowModeFrame,
} as const;

/** Every frame type a client may send. */
export type FrameType = keyof typeof SCHEMAS;

/** A parsed client frame. */
export type ClientFrame = { [K in FrameType]: z.infer<(typeof SCHEMAS)[K]> }[FrameType];

/** A moderator frame. */
export type ModeratorFrame = Extract<
  ClientFrame,
  {
    type:
      | "requests"
      | "decide"
      | "kick"
      | "ban"
      | "unban"
      | "announce"
      | "shutdown"
      // mute and slow mode (PROTOCOL 5.4)
      | "mute"
      | "unmute"
      | "slow_mode";
  }
>;

/** The frames a client may send before `welcome`. */
export type HandshakeFrame = z.infer<typeof HelloFrame> | z.infer<typeof RegisterFrame>;

/** Outcome of {@link parseFrame}. */
export type ParsedFrame =
  | { ok: true; frame: ClientFrame }
  | { ok: false; ref?: string; type?: string; message: string };

/**
 * Parses one text frame: nesting no deeper than {@link MAX_JSON_DEPTH} (checked
 * on the text, before parsing), JSON, an object with a known `type`, fields of the
 * right types. On failure, returns a sentence naming the field and the rule,
 * with the frame's `ref` when it had a usable one.
 */
export function parseFrame(text: string): ParsedFrame {
  if (jsonTooDeep(text)) {
    return {
      ok: false,
      message:
        `the frame nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels; flatten it`,
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, message: "the frame is not valid JSON; send one JSON object per frame" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, message: "the frame must be a JSON object with a type" };
  }
  const record = value as Record<string, unknown>;
  const goodRef = typeof record.ref === "string" && record.ref.length <= MAX_REF
    ? record.ref
    : undefined;
  const type = record.type;
  if (record.ref !== undefined && goodRef === undefined) {
    return {
      ok: false,
      type: typeof type === "string" ? type : undefined,
      message: `ref must be a string of at most ${MAX_REF} characters`,
    };
  }
  if (typeof type !== "string") {
    return { ok: false, ref: goodRef, message: "type is required and must be a string" };
  }
  const schema = Object.hasOwn(SCHEMAS, type) ? SCHEMAS[type as FrameType] : undefined;
  if (!schema) {
    return {
      ok: false,
      ref: goodRef,
      type,
      message: `unknown frame type "${type.slice(0, 40)}"; see the protocol for the list`,
    };
  }
  const chosen = type === "hello"
    ? ("token" in record ? HelloTokenFrame : HelloPasswordFrame)
    : schema;
  const parsed = chosen.safeParse(value);
  if (!parsed.success) {
    return { ok: false, ref: goodRef, type, message: describeIssues(parsed.error) };
  }
  return { ok: true, frame: parsed.data as ClientFrame };
}
