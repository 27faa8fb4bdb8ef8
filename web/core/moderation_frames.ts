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

/**
 * Server frames of 5.4 kept apart from `ServerFrameMap` by the server: edit,
 * delete and reports (`muted`, `unmuted` and `salon_settings` are in
 * `ServerFrameMap`).
 */
export type ModerationFrameMap = EditFrameMap;

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
