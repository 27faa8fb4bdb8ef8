/**
 * The frames of PROTOCOL.md 5.4 (mute, slow mode, edit, delete, reports) as
 * the browser client writes and reads them: edit, delete and reports from
 * protocol/ (`import type` only: nothing here reaches the bundle).
 *
 * @module
 */

import type { z } from "zod";
import type * as E from "../../protocol/edit_frames.ts";
import type { EditFrameMap, ReportItem } from "../../protocol/server_frames.ts";

/** A report (`R` of PROTOCOL 5.4), as the server defines it. */
export type { ReportItem };

/** Frames of mute and slow mode (PROTOCOL 5.4). */
export interface MuteFrameMap {
  /** The user is muted (in `salon`, or everywhere without it) until `until`. */
  muted: { salon?: string; until: string; reason?: string };
  /** That mute ended (expired or lifted). */
  unmuted: { salon?: string };
  /** A salon's slow mode changed (0: off). */
  salon_settings: { salon: string; slowModeSeconds: number };
}

/** Server frames of 5.4, by `type`: edit, delete and reports as the server defines them. */
export type ModerationFrameMap = MuteFrameMap & EditFrameMap;

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

/** Requests of 5.4 the client sends (the schemas' input side). */
export type ModerationRequest =
  | z.input<typeof E.EditFrame>
  | z.input<typeof E.DeleteFrame>
  | z.input<typeof E.ReportFrame>
  | z.input<typeof E.ReportsFrame>
  | z.input<typeof E.ResolveReportFrame>;
