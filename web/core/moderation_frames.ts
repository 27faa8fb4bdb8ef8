/**
 * The frames of PROTOCOL.md 5.4 (mute, slow mode, edit, delete, reports) as
 * the browser client writes and reads them, typed from the contract's text.
 * Types only: nothing here reaches the bundle.
 *
 * @module
 */

import type { UserRef } from "../../protocol/events.ts";

/** A reported message as a report carries it (`R.message`). */
export interface ReportedMessage {
  /** Id in the salon. */
  id: number;
  /** Author. */
  from: UserRef;
  /** Text when reported. */
  text: string;
  /** Commit time, ISO-8601. */
  at: string;
}

/** A report (`R` of PROTOCOL 5.4). */
export interface ReportItem {
  /** Report id. */
  id: number;
  /** Salon of the message. */
  salon: string;
  /** The message reported. */
  message: ReportedMessage;
  /** Who reported it. */
  by: UserRef;
  /** The reporter's reason (may be empty or absent). */
  reason?: string | null;
  /** When it was reported, ISO-8601. */
  at: string;
}

/** Server frames of 5.4, by `type`. */
export interface ModerationFrameMap {
  /** The user is muted (in `salon`, or everywhere without it) until `until`. */
  muted: { salon?: string; until: string; reason?: string };
  /** That mute ended (expired or lifted). */
  unmuted: { salon?: string };
  /** A salon's slow mode changed (0: off). */
  salon_settings: { salon: string; slowModeSeconds: number };
  /** A message one received was edited. */
  edited: { salon?: string; with?: string; id: number; text: string; editedAt: string };
  /** A message one received was deleted. */
  deleted: { salon?: string; with?: string; id: number };
  /** A new report (moderators). */
  report: { report: ReportItem };
  /** The open reports (moderators, answer to `reports`). */
  reports: { open: ReportItem[] };
  /** A report was resolved (moderators). */
  report_resolved: { report: number; by: UserRef };
}

/** The `type` of a 5.4 server frame. */
export type ModerationFrameType = keyof ModerationFrameMap;

/** A 5.4 server frame of one type. */
export type ModerationFrameOf<K extends ModerationFrameType> = ModerationFrameMap[K] & {
  type: K;
  ref?: string;
};

/** Any 5.4 server frame. */
export type ModerationFrame = {
  [K in ModerationFrameType]: ModerationFrameOf<K>;
}[ModerationFrameType];

/** The 5.4 frame types (the codec reads these). */
export const MODERATION_FRAME_TYPES: readonly ModerationFrameType[] = [
  "muted",
  "unmuted",
  "salon_settings",
  "edited",
  "deleted",
  "report",
  "reports",
  "report_resolved",
];

type Where = { salon: string } | { with: string };

/** Requests of 5.4 the client sends. */
export type ModerationRequest =
  | ({ type: "edit"; id: number; text: string; ref?: string } & Where)
  | ({ type: "delete"; id: number; reason?: string; ref?: string } & Where)
  | { type: "report"; salon: string; id: number; reason?: string; ref?: string }
  | { type: "reports"; ref?: string }
  | { type: "resolve_report"; report: number; note?: string; ref?: string };
