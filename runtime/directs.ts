/**
 * Direct messages: resolving the recipient and committing through the
 * group-commit writer, and reading the history of a direct conversation.
 *
 * @module
 */

import type { DirectResult } from "../actors/server.ts";
import type { Session } from "../actors/session.ts";
import { errorEvent } from "../protocol/events.ts";
import { cappedHistoryEvent } from "../protocol/history_reply.ts";
import type { HistoryQuery } from "../store/store.ts";
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
      (error, id) => {
        if (error) {
          log.error(`direct message commit failed: ${error.message}`);
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
    log.error(`direct message lookup failed: ${e}`);
    done({
      ok: false,
      code: "internal",
      message: "the message could not be stored; send it again",
    });
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
  ctx.users.resolve(other).then(async (target) => {
    if (!target) {
      session.send(
        errorEvent("unknown_user", `there is no user named "${other.slice(0, 64)}"`, ref),
      );
      return;
    }
    const page = await ctx.store.directHistory(session.user.id, target.id, query);
    session.send(cappedHistoryEvent(
      { with: target.username },
      page.messages.map((m) => ({
        id: m.id,
        from: m.from,
        to: m.to!,
        text: m.text,
        at: new Date(m.at).toISOString(),
      })),
      page.more,
      ref,
    ));
  }).catch((e) => {
    ctx.log.error(`direct history failed: ${e}`);
    session.send(errorEvent("internal", "history could not be read; try again", ref));
  });
}
