/**
 * One handler per server frame type, as The Lounge does: the table below is
 * the whole list, and the type checker makes sure every type has one.
 *
 * @module
 */

import type { ServerFrameOf, ServerFrameType } from "../../../protocol/server_frames.ts";
import type { ChatFrame } from "../codec.ts";
import type { ModerationFrameOf, ModerationFrameType } from "../moderation_frames.ts";
import type { ChatContext } from "./context.ts";
import * as d from "./moderation_events.ts";
import * as m from "./message_events.ts";
import * as s from "./salon_events.ts";
import * as e from "./session_events.ts";

/** The handler table. */
export const HANDLERS:
  & { [K in ServerFrameType]: (ctx: ChatContext, f: ServerFrameOf<K>) => void }
  & { [K in ModerationFrameType]: (ctx: ChatContext, f: ModerationFrameOf<K>) => void } = {
    welcome: e.onWelcome,
    kicked: e.onKicked,
    banned: e.onBanned,
    notice: e.onNotice,
    shutdown: e.onShutdown,
    shutdown_cancelled: e.onShutdownCancelled,
    pong: e.onPong,
    message: m.onMessage,
    direct: m.onDirect,
    history: m.onHistory,
    ok: m.onOk,
    error: m.onError,
    read: m.onRead,
    typing: m.onTyping,
    conversations: m.onConversations,
    joined: s.onJoined,
    left: s.onLeft,
    join_pending: s.onJoinPending,
    join_rejected: s.onJoinRejected,
    member_joined: s.onMemberJoined,
    salon_stats: s.onSalonStats,
    presence: s.onPresence,
    who: s.onWho,
    requests: s.onRequests,
    join_request: s.onJoinRequest,
    muted: d.onMuted,
    unmuted: d.onUnmuted,
    salon_settings: d.onSalonSettings,
    edited: d.onEdited,
    deleted: d.onDeleted,
    reports: d.onReports,
    report: d.onReport,
    report_resolved: d.onReportResolved,
  };

/** Hands a frame to its handler. */
export function dispatch(ctx: ChatContext, frame: ChatFrame): void {
  const handler = HANDLERS[frame.type] as (ctx: ChatContext, f: ChatFrame) => void;
  handler(ctx, frame);
}
