/**
 * The moderation desk's mute and slow mode (PROTOCOL 5.4): the same rank
 * rules, persistence and audit as a kick, through the desk's own checks
 * (given as a {@link DeskKit} by runtime/moderation.ts, which keeps one
 * method per act). A new mute of the same user and salon (or everywhere)
 * replaces the one in force; replacing it, like lifting it, needs at least
 * the role of its author.
 *
 * @module
 */

import type { LogFields } from "../lib/log.ts";
import { MUTE_MINUTES_DEFAULT } from "../protocol/admin.ts";
import { ProtocolError } from "../protocol/errors.ts";
import type {
  AuditAction,
  AuthoredMute,
  MuteRecord,
  Role,
  Store,
  UserRecord,
} from "../store/store.ts";
import type { Moderator } from "./moderation_types.ts";

/** A salon as the desk names it. */
export interface KnownSalonRef {
  /** Internal id. */
  id: number;
  /** Name as configured. */
  name: string;
  /** Comparison key (protocol/names.ts). */
  key: string;
}

/** What the desk needs from the live actors for mutes and slow mode. */
export interface MuteLivePorts {
  /** The salon with this name (any case or accent form), if any. */
  salonNamed(name: string): KnownSalonRef | undefined;
  /** The salon with this id, if any. */
  salonById(id: number): KnownSalonRef | undefined;
  /** Starts the actor of a mute (stored), lifting those it replaced; `muted` to the user. */
  trackMute(mute: MuteRecord, username: string, replaced: readonly number[]): void;
  /** Lifts the live actors of these mutes (already lifted in the store); `unmuted` to the user. */
  liftMutes(userId: number, muteIds: readonly number[]): void;
  /** A salon's slow mode changed (already stored): its actor applies it and tells its members. */
  slowModeChanged(salonId: number, seconds: number): void;
}

/** The desk's checks and effects, as runtime/moderation.ts lends them. */
export interface DeskKit {
  /** The database. */
  store: Store;
  /** Live effects. */
  live: MuteLivePorts;
  /** The clock, epoch ms. */
  now(): number;
  /** Re-reads the actor's role and checks it. */
  authorize(actor: Moderator, needed: Role, what: string): Promise<Moderator>;
  /** The target user, or `unknown_user`. */
  target(username: string): Promise<UserRecord>;
  /** Not oneself, and a role below the actor's (the admin socket may act on anyone). */
  assertCanSanction(actor: Moderator, target: UserRecord, what: string): void;
  /** Logs the act and writes its audit line. */
  audit(
    actor: Moderator,
    action: AuditAction,
    target: string,
    reason?: string,
    logged?: Omit<LogFields, "event">,
  ): Promise<void>;
}

const RANK: Record<Role, number> = { member: 0, moderator: 1, admin: 2 };

/** `unknown_salon` (404). */
function unknownSalon(name: string): ProtocolError {
  return new ProtocolError(
    "unknown_salon",
    404,
    `there is no salon named "${name.slice(0, 64)}"; check the spelling`,
  );
}

/** The salon named `name`, or `unknown_salon` (404). */
function salonOf(kit: DeskKit, name: string | undefined): KnownSalonRef | undefined {
  if (name === undefined) return undefined;
  const salon = kit.live.salonNamed(name);
  if (!salon) throw unknownSalon(name);
  return salon;
}

/** The audit target of a mute: `user@salon`, or the username for a mute everywhere. */
function muteTarget(target: UserRecord, salon: KnownSalonRef | undefined): string {
  return salon ? `${target.username}@${salon.name}` : target.username;
}

/**
 * Ending a mute in force (an unmute, or a new mute replacing it) needs at
 * least the role of its author (the server's mutes: admin); the admin socket
 * may end any.
 */
function assertCanEnd(actor: Moderator, target: UserRecord, mutes: AuthoredMute[], how: string) {
  if (actor.userId === null) return;
  const above = mutes.find((m) => RANK[m.by?.role ?? "admin"] > RANK[actor.role]);
  if (!above) return;
  const role = above.by?.role ?? "admin";
  throw new ProtocolError(
    "forbidden",
    403,
    `the mute of ${target.username} was imposed by ${
      above.by ? `${above.by.username} (${role})` : "the server (admin socket)"
    }; only ${role === "admin" ? "an admin" : "a moderator or an admin"} can ${how} it`,
  );
}

/** The mutes in force of a user in one salon (or everywhere: `salon` undefined). */
async function mutesHere(
  kit: DeskKit,
  userId: number,
  salon: KnownSalonRef | undefined,
  now: number,
): Promise<AuthoredMute[]> {
  const salonId = salon?.id ?? null;
  return (await kit.store.activeMutesOf(userId, now)).filter((m) => m.salonId === salonId);
}

/**
 * Mutes a user for `minutes` (default 10, at most 43200), in one salon or
 * everywhere (moderator). Rank as for a kick. Returns the end.
 */
export async function mute(
  kit: DeskKit,
  actor: Moderator,
  username: string,
  opts: { minutes?: number; salon?: string; reason?: string } = {},
): Promise<{ until: string }> {
  const who = await kit.authorize(actor, "moderator", "muting");
  const target = await kit.target(username);
  kit.assertCanSanction(who, target, "mute");
  const salon = salonOf(kit, opts.salon);
  const now = kit.now();
  assertCanEnd(who, target, await mutesHere(kit, target.id, salon, now), "replace");
  const minutes = opts.minutes ?? MUTE_MINUTES_DEFAULT;
  const reason = opts.reason ?? "";
  const { mute, replaced } = await kit.store.addMute({
    userId: target.id,
    salonId: salon?.id ?? null,
    until: now + Math.round(minutes * 60_000),
    reason,
    createdAt: now,
  }, who.userId);
  kit.live.trackMute(mute, target.username, replaced);
  await kit.audit(who, "mute", muteTarget(target, salon), reason, {
    user: target.username,
    sanction: mute.id,
    minutes,
    ...(salon ? { salon: salon.name } : {}),
  });
  return { until: new Date(mute.until).toISOString() };
}

/**
 * Ends a user's mute in one salon, or the mute everywhere (moderator).
 * Needs what muting needs and at least the role of the mute's author.
 * Returns how many mutes were lifted (0 when none was in force: no error).
 */
export async function unmute(
  kit: DeskKit,
  actor: Moderator,
  username: string,
  opts: { salon?: string } = {},
): Promise<{ lifted: number }> {
  const who = await kit.authorize(actor, "moderator", "unmuting");
  const target = await kit.target(username);
  kit.assertCanSanction(who, target, "unmute");
  const salon = salonOf(kit, opts.salon);
  const now = kit.now();
  const mutes = await mutesHere(kit, target.id, salon, now);
  assertCanEnd(who, target, mutes, "lift");
  const ids = mutes.map((m) => m.id);
  const lifted = await kit.store.liftMutes(target.id, now, ids);
  kit.live.liftMutes(target.id, ids);
  await kit.audit(who, "unmute", muteTarget(target, salon), "", {
    user: target.username,
    count: lifted,
    ...(salon ? { salon: salon.name } : {}),
  });
  return { lifted };
}

/** Sets a salon's slow mode, 0 (off) to 3600 whole seconds (moderator). */
export async function slowMode(
  kit: DeskKit,
  actor: Moderator,
  salonName: string,
  seconds: number,
): Promise<{ salon: string; seconds: number }> {
  const who = await kit.authorize(actor, "moderator", "setting slow mode");
  const salon = salonOf(kit, salonName)!;
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 3600) {
    throw new ProtocolError("invalid", 400, "seconds must be a whole number from 0 to 3600");
  }
  if (!await kit.store.setSlowMode(salon.id, seconds)) throw unknownSalon(salonName);
  kit.live.slowModeChanged(salon.id, seconds);
  await kit.audit(who, "slow_mode", salon.name, seconds === 0 ? "off" : `${seconds} s`, {
    salon: salon.name,
    seconds,
  });
  return { salon: salon.name, seconds };
}

/** What `GET /admin/users` shows of a user's mutes. */
export interface MuteListing {
  /** End of the mute everywhere, ISO-8601. */
  mutedUntil?: string;
  /** Mutes in single salons (an addition), by salon name. */
  mutedIn?: Array<{ salon: string; until: string }>;
}

/** The mute fields of `GET /admin/users`, by user id, from the mutes in force. */
export function muteListings(
  mutes: readonly MuteRecord[],
  salonById: (id: number) => KnownSalonRef | undefined,
): Map<number, MuteListing> {
  const byUser = new Map<number, MuteListing>();
  for (const m of mutes) {
    let entry = byUser.get(m.userId);
    if (!entry) byUser.set(m.userId, entry = {});
    const until = new Date(m.until).toISOString();
    if (m.salonId === null) entry.mutedUntil = until;
    else {
      const salon = salonById(m.salonId)?.name ?? String(m.salonId);
      (entry.mutedIn ??= []).push({ salon, until });
    }
  }
  return byUser;
}
