/**
 * What the `users` bus channel carries (issue 15, moderation across
 * instances): the user-addressed effects of the moderation desk, the
 * message desk's frames to moderators, and credential revocations, each
 * encoded as one JSON object with its kind in `k`. {@link decodeUserEvent}
 * checks every field of what arrives as hostile input: a wrong type, an
 * unknown kind, an id that is not a positive safe integer, a time a `Date`
 * cannot hold, a frame that is not the one its kind sends: refused whole.
 *
 * Frames the desk built (`kicked`/`banned`, `notice`, `report`,
 * `report_resolved`) cross as their text, so that another instance writes
 * byte for byte what one process writes; each is parsed and checked
 * against its kind before it is accepted.
 *
 * @module
 */

import type { CredentialsRevoked } from "../auth/accounts.ts";
import { type MuteRecord, type Role, ROLES, type SanctionRecord } from "../store/store.ts";
import { isId, type WireBody } from "./cluster_channel.ts";

/** The channel (unprefixed: the bus prefixes it with the database name). */
export const USERS_CHANNEL = "users";

/** A user-addressed effect, as one instance tells the others. */
export type UserEvent =
  | { kind: "punish"; userId: number; frame: string }
  | { kind: "sanction"; sanction: SanctionRecord; username: string }
  | { kind: "lift_sanctions"; userId: number; ids: number[] }
  | { kind: "requests_withdrawn"; userId: number; salonIds: number[] }
  | { kind: "broadcast"; frame: string }
  | { kind: "role"; userId: number; role: Role }
  | { kind: "mute"; mute: MuteRecord; username: string; replaced: number[] }
  | { kind: "lift_mutes"; userId: number; ids: number[] }
  | { kind: "moderators"; frame: string }
  | { kind: "revoked"; revoked: CredentialsRevoked };

/** Longest frame text accepted (a notice or a report carries a message text). */
export const MAX_WIRE_FRAME = 256 * 1024;
/** Longest name, reason or token hash accepted. */
const MAX_WIRE_STRING = 16 * 1024;
/** Most ids in one list. */
export const MAX_WIRE_IDS = 1000;
/** The latest time a `Date` holds, epoch ms. */
const MAX_DATE_MS = 8.64e15;

const CAUSES: readonly CredentialsRevoked["cause"][] = [
  "logout",
  "logout_all",
  "password_changed",
];

/** The body published for `event` (the channel adds the origin). */
export function encodeUserEvent(event: UserEvent): WireBody {
  switch (event.kind) {
    case "punish":
      return { k: event.kind, u: event.userId, f: event.frame };
    case "sanction":
      return { k: event.kind, s: event.sanction, n: event.username };
    case "lift_sanctions":
    case "lift_mutes":
      return { k: event.kind, u: event.userId, ids: event.ids };
    case "requests_withdrawn":
      return { k: event.kind, u: event.userId, ids: event.salonIds };
    case "broadcast":
    case "moderators":
      return { k: event.kind, f: event.frame };
    case "role":
      return { k: event.kind, u: event.userId, r: event.role };
    case "mute":
      return { k: event.kind, m: event.mute, n: event.username, ids: event.replaced };
    case "revoked":
      return { k: event.kind, r: event.revoked };
  }
}

/** Whether `v` is a string of at most `max` characters. */
function isText(v: unknown, max = MAX_WIRE_STRING): v is string {
  return typeof v === "string" && v.length <= max;
}

/** Whether `v` is a time a `Date` holds, epoch ms. */
function isTime(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= MAX_DATE_MS;
}

/** Whether `v` is a list of ids (at most {@link MAX_WIRE_IDS}). */
function isIds(v: unknown): v is number[] {
  return Array.isArray(v) && v.length <= MAX_WIRE_IDS && v.every(isId);
}

/** Whether `v` is a plain object. */
function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `f` parsed, when it is a frame of one of `types` whose fields pass `fields`. */
function frameOf(
  f: unknown,
  types: readonly string[],
  fields: (frame: Record<string, unknown>) => boolean,
): string | undefined {
  if (!isText(f, MAX_WIRE_FRAME)) return undefined;
  let frame: unknown;
  try {
    frame = JSON.parse(f);
  } catch {
    return undefined;
  }
  if (!isObject(frame) || !types.includes(frame.type as string) || !fields(frame)) {
    return undefined;
  }
  return f;
}

/** Whether `v` is an ISO-8601 time string a `Date` reads. */
function isIsoTime(v: unknown): boolean {
  return isText(v, 64) && !Number.isNaN(Date.parse(v));
}

/** A `kicked` `{until, reason}` or `banned` `{reason}` frame. */
function punishFrame(f: unknown): string | undefined {
  return frameOf(
    f,
    ["kicked", "banned"],
    (x) => isText(x.reason) && (x.type === "banned" || isIsoTime(x.until)),
  );
}

/** A `notice` `{text, at}` frame. */
function noticeFrame(f: unknown): string | undefined {
  return frameOf(f, ["notice"], (x) => isText(x.text, MAX_WIRE_FRAME) && isIsoTime(x.at));
}

/** A `report` `{report}` or `report_resolved` `{report, by}` frame. */
function moderatorFrame(f: unknown): string | undefined {
  return frameOf(
    f,
    ["report", "report_resolved"],
    (x) =>
      x.type === "report" ? isObject(x.report) && isId(x.report.id) : isId(x.report) &&
        isObject(x.by),
  );
}

/** A stored sanction. */
function sanctionOf(v: unknown): SanctionRecord | undefined {
  if (!isObject(v)) return undefined;
  const { id, userId, kind, until, reason, createdAt } = v;
  if (!isId(id) || !isId(userId) || !isText(reason) || !isTime(createdAt)) return undefined;
  if (kind === "ban" && until === null) {
    return { id, userId, kind, until: null, reason, createdAt };
  }
  if (kind === "kick" && isTime(until)) return { id, userId, kind, until, reason, createdAt };
  return undefined;
}

/** A stored mute. */
function muteOf(v: unknown): MuteRecord | undefined {
  if (!isObject(v)) return undefined;
  const { id, userId, salonId, until, reason, createdAt } = v;
  if (
    !isId(id) || !isId(userId) || !(salonId === null || isId(salonId)) || !isTime(until) ||
    !isText(reason) || !isTime(createdAt)
  ) return undefined;
  return { id, userId, salonId, until, reason, createdAt };
}

/** A credential revocation. */
function revokedOf(v: unknown): CredentialsRevoked | undefined {
  if (!isObject(v)) return undefined;
  const { userId, cause, only, except } = v;
  if (!isId(userId) || !CAUSES.includes(cause as CredentialsRevoked["cause"])) return undefined;
  if (only !== undefined && !isText(only, 256)) return undefined;
  if (except !== undefined && !isText(except, 256)) return undefined;
  return {
    userId,
    cause: cause as CredentialsRevoked["cause"],
    ...(only === undefined ? {} : { only }),
    ...(except === undefined ? {} : { except }),
  };
}

/** Decodes a body of the `users` channel; `undefined` refuses it. */
export function decodeUserEvent(b: WireBody): UserEvent | undefined {
  switch (b.k) {
    case "punish": {
      const frame = punishFrame(b.f);
      return isId(b.u) && frame ? { kind: b.k, userId: b.u, frame } : undefined;
    }
    case "sanction": {
      const sanction = sanctionOf(b.s);
      return sanction && isText(b.n, 256) ? { kind: b.k, sanction, username: b.n } : undefined;
    }
    case "lift_sanctions":
    case "lift_mutes":
      return isId(b.u) && isIds(b.ids) ? { kind: b.k, userId: b.u, ids: b.ids } : undefined;
    case "requests_withdrawn":
      return isId(b.u) && isIds(b.ids) ? { kind: b.k, userId: b.u, salonIds: b.ids } : undefined;
    case "broadcast": {
      const frame = noticeFrame(b.f);
      return frame ? { kind: b.k, frame } : undefined;
    }
    case "moderators": {
      const frame = moderatorFrame(b.f);
      return frame ? { kind: b.k, frame } : undefined;
    }
    case "role":
      return isId(b.u) && (ROLES as readonly unknown[]).includes(b.r)
        ? { kind: b.k, userId: b.u, role: b.r as Role }
        : undefined;
    case "mute": {
      const mute = muteOf(b.m);
      return mute && isText(b.n, 256) && isIds(b.ids)
        ? { kind: b.k, mute, username: b.n, replaced: b.ids }
        : undefined;
    }
    case "revoked": {
      const revoked = revokedOf(b.r);
      return revoked ? { kind: b.k, revoked } : undefined;
    }
    default:
      return undefined;
  }
}
