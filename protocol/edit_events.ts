/**
 * Server events of edit, delete and reports (PROTOCOL.md 5.4) as builders of
 * their JSON text (serialized once for every receiver). Shapes in
 * server_frames.ts (`EditFrameMap`).
 *
 * @module
 */

import type { UserRef } from "./events.ts";
import type { ReportItem } from "./server_frames.ts";

/** Where a message lives as one receiver names it. */
export type MessagePlace = { salon: string } | { with: string };

/** `edited` `{salon|with, id, text, editedAt, mentions?}`. */
export function editedEvent(
  place: MessagePlace,
  id: number,
  text: string,
  editedAt: string,
  mentions?: string[],
): string {
  return JSON.stringify({
    type: "edited",
    ...place,
    id,
    text,
    editedAt,
    ...(mentions && mentions.length > 0 ? { mentions } : {}),
  });
}

/** `deleted` `{salon|with, id}`. */
export function deletedEvent(place: MessagePlace, id: number): string {
  return JSON.stringify({ type: "deleted", ...place, id });
}

/** `report` `{report: R}` to moderators. */
export function reportEvent(report: ReportItem): string {
  return JSON.stringify({ type: "report", report });
}

/** `reports` `{open: [R...], ref?}`. */
export function reportsEvent(open: ReportItem[], ref?: string): string {
  return JSON.stringify({ type: "reports", open, ...(ref === undefined ? {} : { ref }) });
}

/** `report_resolved` `{report, by}` to moderators. */
export function reportResolvedEvent(report: number, by: UserRef): string {
  return JSON.stringify({ type: "report_resolved", report, by });
}
