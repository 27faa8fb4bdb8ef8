/**
 * The connection machine's routing: each accepted request goes to its salon,
 * to the server or to the moderation desk, through the effects given to the
 * connection. Named actions of the machine (actors/connection.ts spreads them
 * into its `setup()`); pure.
 *
 * @module
 */

import { errorEvent } from "../protocol/events.ts";
import {
  type ClientFrame,
  CONVERSATIONS_DEFAULT,
  type ModeratorFrame,
} from "../protocol/frames.ts";
import type { MessageFrame } from "../protocol/edit_frames.ts";
import { frameOf, historyQuery, salonRequest } from "./connection_frames.ts";
import type { ConnectionAction } from "./connection_types.ts";

/** Where each accepted request goes, by action name. */
export const routes = {
  /** Hands a `watch` list to the server. */
  forwardWatch: ({ context, event }) => {
    const frame = frameOf(event) as Extract<ClientFrame, { type: "watch" }>;
    context.deps.watch?.(context.session!, frame.ref, frame.users);
  },
  /** Hands a `typing` about a direct conversation to the server. */
  forwardDirectTyping: ({ context, event }) => {
    const frame = frameOf(event) as Extract<ClientFrame, { type: "typing" }>;
    context.deps.typingTo?.(context.session!, frame.ref, frame.with!);
  },
  /** Sends a `say` to its salon. */
  forwardSay: ({ context, event }) => {
    const frame = frameOf(event) as Extract<ClientFrame, { type: "say" }>;
    context.deps.salon(frame.salon)!.send({
      type: "SAY",
      session: context.session!,
      ref: frame.ref,
      text: frame.text,
    });
  },
  /** Sends join, leave, who or history to its salon. */
  forwardToSalon: ({ context, event }) => {
    const frame = frameOf(event);
    const session = context.session!;
    const salon = context.deps.salon((frame as { salon: string }).salon)!;
    const request = salonRequest(frame, session);
    if (request) salon.send(request);
  },
  /** Hands a direct message to the server. */
  forwardDirect: ({ context, event }) => {
    const frame = frameOf(event) as Extract<ClientFrame, { type: "direct" }>;
    context.deps.direct(context.session!, frame.ref, frame.to, frame.text);
  },
  /** Asks for a page of a direct conversation. */
  forwardDirectHistory: ({ context, event }) => {
    const frame = frameOf(event) as Extract<ClientFrame, { type: "history" }>;
    context.deps.directHistory(context.session!, frame.ref, frame.with!, historyQuery(frame));
  },
  /** Records a `read` of a direct conversation (PROTOCOL 5.2). */
  forwardDirectRead: ({ context, event }) => {
    const frame = frameOf(event) as Extract<ClientFrame, { type: "read" }>;
    if (context.deps.directRead) {
      context.deps.directRead(context.session!, frame.ref, frame.with!, frame.id);
    } else context.socket.send(errorEvent("internal", "read is not available", frame.ref));
  },
  /** Asks for a page of the user's conversations (PROTOCOL 5.2). */
  forwardConversations: ({ context, event }) => {
    const frame = frameOf(event) as Extract<ClientFrame, { type: "conversations" }>;
    const query = { before: frame.before, limit: frame.limit ?? CONVERSATIONS_DEFAULT };
    if (context.deps.conversations) {
      context.deps.conversations(context.session!, frame.ref, query);
    } else {
      context.socket.send(errorEvent("internal", "conversations is not available", frame.ref));
    }
  },
  /** Hands a moderator frame to the moderation desk. */
  forwardModeration: ({ context, event }) => {
    context.deps.moderate(context.session!, frameOf(event) as ModeratorFrame);
  },
  /** Hands an edit, delete or report frame (PROTOCOL 5.4) to the message desk. */
  forwardMessageAction: ({ context, event }) => {
    const frame = frameOf(event) as MessageFrame;
    if (context.deps.messages) context.deps.messages(context.session!, frame);
    else context.socket.send(errorEvent("internal", `${frame.type} is not available`, frame.ref));
  },
} satisfies Record<string, ConnectionAction>;
