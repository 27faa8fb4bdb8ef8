/**
 * What may be shown of an actor, for `GET /admin/actors` and the inspection
 * stream (`GET /admin/inspect`, PROTOCOL.md 5.5) alike: its id, its machine,
 * a few allowlisted facts of its context, and an allowlisted copy of an
 * event. Everything else (message texts, passwords, tokens, reasons, socket
 * objects) never leaves: nothing is copied unless named here.
 *
 * @module
 */

import type { ActorRefLike } from "xstate";

/** The parts of an actor ref read here (some are XState internals). */
interface RefParts {
  id?: string;
  sessionId?: string;
  systemId?: string;
  options?: { systemId?: string };
  logic?: { id?: unknown };
  _parent?: ActorRefLike;
}

/**
 * The id under which an actor is shown: its systemId (`server`,
 * `salon:<key>`, the connection id, `sanction:<id>`, `shutdown`, join
 * request ids), else its XState sessionId. The systemId is read from the
 * actor's options too: XState reports an actor's creation before it sets
 * `systemId`.
 */
export function actorIdOf(ref: ActorRefLike): string {
  const r = ref as unknown as RefParts;
  return r.systemId ?? r.options?.systemId ?? r.sessionId ?? r.id ?? "unknown";
}

/** The machine's id (`server`, `salon`, `connection`...), or undefined for a non-machine actor. */
export function machineOf(ref: ActorRefLike): string | undefined {
  const id = (ref as unknown as RefParts).logic?.id;
  return typeof id === "string" ? id : undefined;
}

/** The id of the actor's parent, or undefined for the root. */
export function parentIdOf(ref: ActorRefLike): string | undefined {
  const parent = (ref as unknown as RefParts)._parent;
  return parent ? actorIdOf(parent) : undefined;
}

/**
 * The allowlisted facts of a snapshot's context: `username`, `salon`,
 * `remaining`, `members` and `online` (counts), `kind` and `until` (of a
 * sanction). Nothing else of the context is read.
 */
export function actorFacts(context: Record<string, unknown> | undefined): Record<string, unknown> {
  const ctx = context ?? {};
  const facts: Record<string, unknown> = {};
  const salon = ctx.salon as { name?: unknown } | string | undefined;
  if (typeof salon === "string") facts.salon = salon;
  else if (typeof salon?.name === "string" && salon.name) facts.salon = salon.name;
  const session = ctx.session as { user?: { username?: unknown } } | undefined;
  if (typeof session?.user?.username === "string") facts.username = session.user.username;
  const user = ctx.user as { username?: unknown } | undefined;
  if (typeof user?.username === "string" && user.username) facts.username = user.username;
  if (typeof ctx.username === "string") facts.username = ctx.username;
  if (typeof ctx.remaining === "number") facts.remaining = ctx.remaining;
  if (ctx.members instanceof Map) facts.members = ctx.members.size;
  if (ctx.online instanceof Map) facts.online = ctx.online.size;
  const sanction = ctx.sanction as { kind?: unknown; until?: unknown } | undefined;
  if (typeof sanction?.kind === "string") {
    facts.kind = sanction.kind;
    if (typeof sanction.until === "number" && sanction.until) {
      facts.until = new Date(sanction.until).toISOString();
    }
  }
  // A mute's actor (PROTOCOL 5.4): its end; `salon` and `username` come from the context.
  const mute = ctx.mute as { until?: unknown } | undefined;
  if (typeof mute?.until === "number") {
    facts.kind = "mute";
    facts.until = new Date(mute.until).toISOString();
  }
  return facts;
}

/** Longest event type shown; longer ones are cut. */
const TYPE_MAX = 120;
/** Longest string field shown (names are shorter); longer values are left out. */
const STRING_MAX = 100;

/** Event fields shown when they are strings. */
const STRING_FIELDS = ["salon", "username", "code", "kind"] as const;
/** Event fields shown when they are finite numbers. */
const NUMBER_FIELDS = ["seconds", "remaining", "minutes", "bytes"] as const;
/** What a client frame's `type` looks like (`say`, `history`, `join`...). */
const FRAME_TYPE = /^[a-z_]{1,32}$/;

function shortString(value: unknown): string | undefined {
  return typeof value === "string" && value.length <= STRING_MAX ? value : undefined;
}

/**
 * An event as the inspection stream shows it: its `type` plus the
 * allowlisted fields `salon`, `username`, `code`, `kind` (short strings),
 * `seconds`, `remaining`, `minutes`, `bytes` (numbers); `user` and `session`
 * give their `username`; a client frame (`FRAME`) gives its type as `frame`
 * and its `salon`. Never `text`, `password`, `token`, `reason`, `output` or
 * `error`: nothing is copied unless listed here.
 */
export function safeEvent(event: unknown): { type: string; [field: string]: unknown } {
  const e = (event ?? {}) as Record<string, unknown>;
  const type = typeof e.type === "string" ? e.type.slice(0, TYPE_MAX) : "unknown";
  const out: { type: string; [field: string]: unknown } = { type };
  for (const field of STRING_FIELDS) {
    const value = e[field];
    const s = shortString(value) ??
      shortString((value as { name?: unknown } | undefined)?.name);
    if (s !== undefined) out[field] = s;
  }
  for (const field of NUMBER_FIELDS) {
    const value = e[field];
    if (typeof value === "number" && Number.isFinite(value)) out[field] = value;
  }
  if (out.username === undefined) {
    const user = (e.user ?? (e.session as { user?: unknown } | undefined)?.user) as
      | { username?: unknown }
      | undefined;
    const name = shortString(user?.username);
    if (name !== undefined) out.username = name;
  }
  const frame = e.frame as Record<string, unknown> | undefined;
  if (frame && typeof frame === "object") {
    if (typeof frame.type === "string" && FRAME_TYPE.test(frame.type)) out.frame = frame.type;
    const salon = shortString(frame.salon);
    if (salon !== undefined && out.salon === undefined) out.salon = salon;
  }
  return out;
}
