/**
 * Request bodies of the admin API (PROTOCOL.md section 3), the fields the
 * moderator frames share with it, and the shape of `GET /admin/actors`.
 *
 * @module
 */

import { z } from "zod";
import { aliasField, passwordField, shortTextField, stringField, usernameField } from "./fields.ts";

/** Longest reason, in characters. */
export const REASON_MAX = 500;
/** Longest kick, minutes (one year). */
export const KICK_MINUTES_MAX = 525_600;
/** Longest countdown, seconds. */
export const SHUTDOWN_SECONDS_MAX = 3600;

/** An optional reason: up to 500 characters, no control characters. */
export const reasonField = shortTextField("reason", REASON_MAX);

/** Kick length: a positive number of minutes, fractions allowed. */
export const minutesField = z.number({ error: "minutes must be a number" })
  .positive({ error: "minutes must be greater than 0" })
  .max(KICK_MINUTES_MAX, { error: `minutes must be at most ${KICK_MINUTES_MAX}` })
  .optional();

/** Countdown length: whole seconds, 1 to 3600. */
export const secondsField = z.number({ error: "seconds must be a number" })
  .int({ error: "seconds must be a whole number" })
  .min(1, { error: "seconds must be at least 1" })
  .max(SHUTDOWN_SECONDS_MAX, { error: `seconds must be at most ${SHUTDOWN_SECONDS_MAX}` })
  .optional();

/** A role. */
export const roleField = z.enum(["member", "moderator", "admin"], {
  error: "role must be member, moderator or admin",
});

/** `POST /admin/users/{username}/kick`. */
export const KickBody = z.object({ reason: reasonField, minutes: minutesField });
/** `POST /admin/users/{username}/ban`. */
export const BanBody = z.object({
  reason: reasonField,
  purge: z.boolean({ error: "purge must be true or false" }).optional(),
});
/** `PUT /admin/users/{username}/role`. */
export const RoleBody = z.object({ role: roleField });
/** `POST /admin/announce`. */
export const AnnounceBody = z.object({ text: stringField("text") });
/** `POST /admin/users`. */
export const CreateUserBody = z.object({
  username: usernameField(),
  alias: aliasField(),
  password: passwordField(),
  role: roleField,
});
/** `PUT /admin/users/{username}/password` (issue 13: unlocks an imported account). */
export const PasswordResetBody = z.object({ password: passwordField() });
/** `POST /admin/shutdown`. */
export const ShutdownBody = z.object({ seconds: secondsField });

// --- Mute and slow mode (PROTOCOL 5.4) ------------------------------------------

/** Longest mute, minutes (30 days). */
export const MUTE_MINUTES_MAX = 43_200;
/** Mute length when none is given, minutes. */
export const MUTE_MINUTES_DEFAULT = 10;
/** Longest slow mode, seconds (one hour). */
export const SLOW_MODE_SECONDS_MAX = 3600;

/** Mute length: a positive number of minutes up to 43200, fractions allowed (as a kick's). */
export const muteMinutesField = z.number({ error: "minutes must be a number" })
  .positive({ error: "minutes must be greater than 0" })
  .max(MUTE_MINUTES_MAX, {
    error: `minutes must be at most ${MUTE_MINUTES_MAX} (30 days); ban for longer`,
  })
  .optional();

/** An optional salon name (a mute in one salon). */
export const muteSalonField = stringField("salon").min(1, { error: "salon must not be empty" })
  .max(256, { error: "salon must be at most 256 characters" }).optional();

/** The query of `DELETE /admin/users/{username}/mute`: `?salon=` (absent: the mute everywhere). */
export const UnmuteQuery = z.object({ salon: muteSalonField });

/** Slow mode: whole seconds from 0 (off) to 3600. */
export const slowModeSecondsField = z.number({ error: "seconds must be a number" })
  .int({ error: "seconds must be a whole number" })
  .min(0, { error: "seconds must be at least 0 (0 turns slow mode off)" })
  .max(SLOW_MODE_SECONDS_MAX, { error: `seconds must be at most ${SLOW_MODE_SECONDS_MAX}` });

/** `POST /admin/users/{username}/mute`. */
export const MuteBody = z.object({
  minutes: muteMinutesField,
  salon: muteSalonField,
  reason: reasonField,
});
/** `PUT /admin/salons/{salon}/slow-mode`. */
export const SlowModeBody = z.object({ seconds: slowModeSecondsField });

/** One live actor as `GET /admin/actors` lists it. */
export interface ActorInfo {
  /** Actor id (the system id where it has one). */
  id: string;
  /** Machine name. */
  machine: string;
  /** State value. */
  state: unknown;
  /** Parent's id, or null for the root. */
  parent: string | null;
  /** A few facts from the context (username, salon). */
  facts?: Record<string, unknown>;
}
