/**
 * Direct messages: resolving the recipient and committing through the
 * group-commit writer, reading the history of a direct conversation, its
 * read marker and the list of conversations (PROTOCOL 5.2).
 *
 * @module
 */

import type { DirectResult } from "../actors/server.ts";
import type { Session } from "../actors/session.ts";
import { conversationsEvent, errorEvent, okEvent, readEvent } from "../protocol/events.ts";
import { cappedHistoryEvent, HISTORY_REPLY_MAX_BYTES } from "../protocol/history_reply.ts";
import type { ConversationQuery, HistoryQuery, UserSummary } from "../store/store.ts";
import { conversationItem } from "./catchup.ts";
import type { HubContext } from "./hub_context.ts";

/** Resolves the recipient `to` and commits a direct message; `done` runs after the commit. */
export function commitDirect(
  ctx: HubContext,
  from: Session,
  to: string,
  text: string,
  done: (result: DirectResult) => void,
): void {
  const { log } = ctx;
  ctx.users.resolve(to).then((target) => {
    if (!target) {
      done({
        ok: false,
        code: "unknown_user",
        message: `there is no user named "${to.slice(0, 64)}"`,
      });
      return;
    }
    const at = ctx.now();
    const accepted = ctx.writer.write(
      { kind: "direct", fromUserId: from.user.id, toUserId: target.id, text, at },
      (error, id, prev) => {
        if (error) {
          log.error("direct message commit failed", {
            event: "direct_commit_failed",
            conn: from.id,
            user: from.user.username,
            error,
          });
          done({
            ok: false,
            code: "internal",
            message: "the message could not be stored; send it again",
          });
          return;
        }
        const result: DirectResult = {
          ok: true,
          toUserId: target.id,
          item: {
            id,
            from: { username: from.user.username, alias: from.user.alias },
            to: { username: target.username, alias: target.alias },
            text,
            at: new Date(at).toISOString(),
          },
          // Several instances: the conversation's previous id, read under its lock.
          ...(prev === undefined ? {} : { prev }),
        };
        done(result);
      },
    );
    if (!accepted) {
      done({
        ok: false,
        code: "shutting_down",
        message: "the server is shutting down; the message was not stored",
      });
    }
  }, (e) => {
    log.error("direct message lookup failed", {
      event: "direct_lookup_failed",
      conn: from.id,
      user: from.user.username,
      error: e,
    });
    done({
      ok: false,
      code: "internal",
      message: "the message could not be stored; send it again",
    });
  });
}

/**
 * Runs `answer` with the user named `other`, for a request of `session`
 * about their conversation: an unknown name is answered `unknown_user`, a
 * failure `internal` ("`failure`; try again"), logged as `what`.
 */
function withOtherUser(
  ctx: HubContext,
  session: Session,
  ref: string | undefined,
  other: string,
  failure: { what: string; message: string },
  answer: (target: UserSummary) => Promise<void>,
): void {
  ctx.users.resolve(other).then(async (target) => {
    if (!target) {
      session.send(
        errorEvent("unknown_user", `there is no user named "${other.slice(0, 64)}"`, ref),
      );
      return;
    }
    await answer(target);
  }).catch((e) => {
    ctx.log.error(`${failure.what} failed`, {
      event: "request_failed",
      conn: session.id,
      user: session.user.username,
      error: e,
    });
    session.send(errorEvent("internal", `${failure.message}; try again`, ref));
  });
}

/** Answers a `history` request about the conversation of `session`'s user with `other`. */
export function directHistory(
  ctx: HubContext,
  session: Session,
  ref: string | undefined,
  other: string,
  query: HistoryQuery,
): void {
  const failure = { what: "direct history", message: "history could not be read" };
  withOtherUser(ctx, session, ref, other, failure, async (target) => {
    const page = await ctx.store.directHistory(session.user.id, target.id, query);
    session.send(cappedHistoryEvent(
      { with: target.username },
      page.messages.map((m) =>
        // Edit and delete (PROTOCOL.md 5.4): a tombstone, or the item with its edit time.
        m.deleted ? { id: m.id, at: new Date(m.at).toISOString(), deleted: true as const } : {
          id: m.id,
          from: m.from,
          to: m.to!,
          text: m.text,
          at: new Date(m.at).toISOString(),
          ...(m.editedAt === undefined ? {} : { editedAt: new Date(m.editedAt).toISOString() }),
        }
      ),
      page.more,
      ref,
      HISTORY_REPLY_MAX_BYTES,
      query.after === undefined ? "before" : "after",
    ));
  });
}

/**
 * Answers a `read` of the conversation of `session`'s user with `other`: the
 * marker moves forward; `ok` with the marker now held, and `read` to the
 * user's other sessions when it moved. An unknown user is `unknown_user` (as
 * for `history`); an id above the conversation's newest is `invalid`.
 */
export function directRead(
  ctx: HubContext,
  session: Session,
  ref: string | undefined,
  other: string,
  id: number,
): void {
  const failure = { what: "direct read marker", message: "the read marker could not be stored" };
  withOtherUser(ctx, session, ref, other, failure, async (target) => {
    const { outcome, lastRead, latest } = await ctx.store.markRead({
      userId: session.user.id,
      otherId: target.id,
      id,
    });
    if (outcome === "beyond") {
      session.send(errorEvent(
        "invalid",
        latest === 0
          ? `you have no conversation with ${target.username}`
          : `your conversation with ${target.username} has no message ${id} (its newest id is ` +
            `${latest}); send the id of a message you received`,
        ref,
      ));
      return;
    }
    session.send(okEvent(ref, { id: lastRead }));
    if (outcome !== "moved") return;
    const frame = readEvent({ with: target.username }, lastRead);
    for (const s of ctx.sessionsOf(session.user.id)) if (s !== session) s.send(frame);
    // Several instances: the user's sessions elsewhere get it too.
    ctx.directsElsewhere?.()?.read(session.user.id, target.username, lastRead);
  });
}

/** Answers a `conversations` request: a page of the user's conversations, newest first. */
export function directConversations(
  ctx: HubContext,
  session: Session,
  ref: string | undefined,
  query: ConversationQuery,
): void {
  ctx.store.conversations(session.user.id, query).then((page) => {
    session.send(conversationsEvent(page.conversations.map(conversationItem), page.more, ref));
  }).catch((e) => {
    ctx.log.error("conversations failed", {
      event: "request_failed",
      conn: session.id,
      user: session.user.username,
      error: e,
    });
    session.send(errorEvent("internal", "conversations could not be read; try again", ref));
  });
}
