/**
 * Edit, delete and reports (PROTOCOL.md 5.4): one desk behind the three ways
 * in (a member's or moderator's WebSocket, the admin HTTP API, the admin
 * socket), with one permission check, one persistence path, one fan-out and
 * one audit line each, as runtime/moderation.ts does for sanctions. The live
 * effects (who is a member, who is online, the mentions of a salon) go
 * through {@link MessagePorts}, which the hub implements over the actors.
 *
 * @module
 */

import type { Accounts } from "../auth/accounts.ts";
import { type Logger, silentLogger } from "../lib/log.ts";
import {
  deletedEvent,
  editedEvent,
  type MessagePlace,
  reportEvent,
  reportResolvedEvent,
} from "../protocol/edit_events.ts";
import { ProtocolError } from "../protocol/errors.ts";
import type { UserRef } from "../protocol/events.ts";
import type { ReportItem } from "../protocol/server_frames.ts";
import { textProblem } from "../protocol/text.ts";
import type {
  AuditAction,
  Mention,
  MessageFacts,
  MessageTarget,
  ReportRecord,
  Role,
  Store,
  UserSummary,
} from "../store/store.ts";
import type { Moderator } from "./moderation.ts";

/** A salon as the desk needs it. */
export interface DeskSalon {
  /** Id. */
  id: number;
  /** Name as configured. */
  name: string;
}

/** What the desk needs from the live actors. */
export interface MessagePorts {
  /** The salon with this name (compared as every name), if any. */
  salonByName(name: string): DeskSalon | undefined;
  /** The salon with this id, if any. */
  salonById(id: number): DeskSalon | undefined;
  /** Whether the user is a member of the salon now. */
  isMember(salonId: number, userId: number): boolean;
  /** The salon's members a text mentions (PROTOCOL 5.3), found as for a `say`. */
  mentionsIn(salonId: number, text: string): Mention[];
  /** Sends a frame to every connected session of the salon's members. */
  toSalon(salonId: number, frame: string): void;
  /** Sends a frame to every session of a user. */
  toUser(userId: number, frame: string): void;
  /** Sends a frame to every connected moderator and admin session. */
  toModerators(frame: string): void;
  /** The user with this name (compared as every name), if any. */
  resolveUser(name: string): Promise<UserSummary | undefined>;
}

/** Which message a request names: in a salon, or in the conversation `with` another user. */
export type MessageRef = { salon: string } | { with: string };

/** Options of {@link MessageDesk}. */
export interface MessageDeskOptions {
  /** The database. */
  store: Store;
  /** Accounts (a sanctioned moderator cannot act). */
  accounts: Pick<Accounts, "assertNotSanctioned">;
  /** Live effects. */
  live: MessagePorts;
  /** How long after sending an author may edit, minutes; 0: never (`CAUSERIE_EDIT_MINUTES`). */
  editMinutes: number;
  /** Longest text, characters. */
  maxText: number;
  /** The clock, epoch ms. */
  now?: () => number;
  /** Where each act is logged (never a text, reason or note); default: nowhere. */
  log?: Logger;
}

/** Most open reports one `reports` answer lists (the oldest first). */
export const REPORTS_LISTED = 500;

const RANK: Record<Role, number> = { member: 0, moderator: 1, admin: 2 };

const iso = (ms: number) => new Date(ms).toISOString();

/** `not_found` for a message id. */
function noMessage(id: number, where: string): ProtocolError {
  return new ProtocolError("not_found", 404, `there is no message ${id} in ${where}`);
}

/** Every edit, delete and report, checked, persisted, told and audited. */
export class MessageDesk {
  readonly #store: Store;
  readonly #live: MessagePorts;
  readonly #opts: MessageDeskOptions;
  readonly #now: () => number;

  /** Builds the desk. */
  constructor(opts: MessageDeskOptions) {
    this.#store = opts.store;
    this.#live = opts.live;
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  /**
   * Checks that the actor is a moderator or admin now (the role is re-read:
   * it may have changed since login) and not kicked or banned; the server
   * (admin socket) is an admin. Returns the actor's names.
   */
  async #moderator(actor: Moderator, what: string): Promise<UserRef> {
    let role: Role = "admin";
    let alias = actor.username;
    if (actor.userId !== null) {
      const user = await this.#store.userById(actor.userId);
      if (!user) throw new ProtocolError("unauthenticated", 401, "this account no longer exists");
      await this.#opts.accounts.assertNotSanctioned(user);
      role = user.role;
      alias = user.alias;
    }
    if (RANK[role] < RANK.moderator) {
      throw new ProtocolError(
        "forbidden",
        403,
        `${what} needs the moderator role; you are a ${role}`,
      );
    }
    return { username: actor.username, alias };
  }

  #salon(name: string): DeskSalon {
    const salon = this.#live.salonByName(name);
    if (!salon) {
      throw new ProtocolError(
        "unknown_salon",
        404,
        `there is no salon named "${name.slice(0, 64)}"; the welcome lists them`,
      );
    }
    return salon;
  }

  /**
   * The stored target a request names, the message's facts, and where each
   * receiver sees it. A direct message is looked for in the actor's own
   * conversation with `with` only: an id of another conversation is
   * `not_found`, whether it exists or not.
   */
  async #find(actor: Moderator, ref: MessageRef, id: number): Promise<Found> {
    if ("salon" in ref) {
      const salon = this.#salon(ref.salon);
      const target: MessageTarget = { kind: "salon", salonId: salon.id, id };
      const facts = await this.#store.messageFacts(target);
      if (!facts) throw noMessage(id, salon.name);
      return { target, facts, salon };
    }
    const other = await this.#live.resolveUser(ref.with);
    if (!other) {
      throw new ProtocolError(
        "unknown_user",
        404,
        `there is no user named "${ref.with.slice(0, 64)}"`,
      );
    }
    const where = `your conversation with ${other.username}`;
    if (actor.userId === null) throw noMessage(id, where);
    const target: MessageTarget = { kind: "direct", userA: actor.userId, userB: other.id, id };
    const facts = await this.#store.messageFacts(target);
    if (!facts) throw noMessage(id, where);
    return { target, facts };
  }

  /** Sends `frame(place)` to everyone who can see the message: the salon, or both sides. */
  #tell(found: Found, frame: (place: MessagePlace) => string): void {
    if (found.salon) {
      this.#live.toSalon(found.salon.id, frame({ salon: found.salon.name }));
      return;
    }
    const { facts } = found;
    const author = facts.authorId;
    const recipient = facts.to!;
    this.#live.toUser(author, frame({ with: recipient.username }));
    if (recipient.id !== author) {
      this.#live.toUser(recipient.id, frame({ with: facts.from.username }));
    }
  }

  /**
   * Edits a message (its author, within the edit window, not deleted): the
   * text passes the rule of `say`, a salon message's mentions are found
   * again, and everyone who can see it gets `edited`.
   */
  async edit(
    actor: Moderator,
    ref: MessageRef,
    id: number,
    text: string,
  ): Promise<{ editedAt: string }> {
    const problem = textProblem(text, this.#opts.maxText);
    if (problem) throw new ProtocolError(problem.code, 400, problem.message);
    const minutes = this.#opts.editMinutes;
    if (minutes === 0) {
      throw new ProtocolError("forbidden", 403, "editing is turned off on this server");
    }
    const found = await this.#find(actor, ref, id);
    if (found.salon && !this.#live.isMember(found.salon.id, actor.userId ?? -1)) {
      throw new ProtocolError(
        "not_member",
        403,
        `you are not a member of ${found.salon.name}; join it first`,
      );
    }
    const { facts } = found;
    if (facts.authorId !== actor.userId) {
      throw new ProtocolError("forbidden", 403, "you can only edit your own messages");
    }
    if (facts.deleted) {
      throw new ProtocolError("forbidden", 403, `message ${id} was deleted; it cannot be edited`);
    }
    const now = this.#now();
    const sentAfter = now - Math.round(minutes * 60_000);
    const late = () =>
      new ProtocolError(
        "forbidden",
        403,
        `message ${id} can no longer be edited: messages can be edited for ${minutes} minutes ` +
          `after they are sent; delete it and send it again`,
      );
    if (facts.at < sentAfter) throw late();
    const mentions = found.salon ? this.#live.mentionsIn(found.salon.id, text) : [];
    const edited = await this.#store.editMessage(found.target, {
      authorId: facts.authorId,
      text,
      at: now,
      sentAfter,
      ...(mentions.length > 0 ? { mentions } : {}),
    });
    // Deleted or past the window meanwhile: nothing was changed.
    if (!edited) throw late();
    const editedAt = iso(now);
    const names = mentions.map((m) => m.username);
    this.#tell(found, (place) => editedEvent(place, id, text, editedAt, names));
    return { editedAt };
  }

  /**
   * Deletes a message: its author at any time, or a moderator or admin for
   * any salon message (`asModerator`: only as a moderator, as the admin API
   * asks). The text is erased; everyone who can see it gets `deleted`. A
   * delete by anyone but the author is audited (`delete_message`) with the
   * author's name. Deleting a deleted message again answers as the first
   * time and changes nothing.
   */
  async delete(
    actor: Moderator,
    ref: MessageRef,
    id: number,
    opts: { reason?: string; asModerator?: boolean } = {},
  ): Promise<void> {
    if (opts.asModerator) await this.#moderator(actor, "deleting messages");
    const found = await this.#find(actor, ref, id);
    const { facts } = found;
    const own = facts.authorId === actor.userId;
    if (!own) {
      if (!found.salon) {
        throw new ProtocolError("forbidden", 403, "only its author can delete a direct message");
      }
      await this.#moderator(actor, "deleting other people's messages");
    }
    if (facts.deleted) return;
    if (!await this.#store.deleteMessage(found.target)) return; // deleted meanwhile
    this.#tell(found, (place) => deletedEvent(place, id));
    if (!own) {
      await this.#audit(
        actor,
        "delete_message",
        `${facts.from.username}@${found.salon!.name}#${id}`,
        opts.reason ?? "",
        { user: facts.from.username, salon: found.salon!.name },
      );
    }
  }

  /**
   * Reports a salon message (a member of the salon; not one's own, not a
   * deleted one). Stored once per reporter and message: a second report
   * changes nothing. Moderators online get `report` for a new one.
   */
  async report(
    actor: Moderator,
    salonName: string,
    id: number,
    reason = "",
  ): Promise<{ report: number }> {
    const salon = this.#salon(salonName);
    if (actor.userId === null || !this.#live.isMember(salon.id, actor.userId)) {
      throw new ProtocolError(
        "not_member",
        403,
        `you are not a member of ${salon.name}; only its members can report its messages`,
      );
    }
    const facts = await this.#store.messageFacts({ kind: "salon", salonId: salon.id, id });
    if (!facts) throw noMessage(id, salon.name);
    if (facts.deleted) {
      throw new ProtocolError(
        "not_found",
        404,
        `message ${id} was deleted; there is nothing to report`,
      );
    }
    if (facts.authorId === actor.userId) {
      throw new ProtocolError(
        "forbidden",
        403,
        "you cannot report your own message; edit or delete it instead",
      );
    }
    const { report, created } = await this.#store.addReport({
      salonId: salon.id,
      messageId: id,
      authorId: facts.authorId,
      messageAt: facts.at,
      reporterId: actor.userId,
      reason,
      at: this.#now(),
    });
    if (created) {
      this.#live.toModerators(reportEvent(this.reportItem(report)));
      (this.#opts.log ?? silentLogger).info(`${actor.username} reported a message`, {
        event: "message_reported",
        actor: actor.username,
        via: actor.via,
        salon: salon.name,
        user: facts.from.username,
      });
    }
    return { report: report.id };
  }

  /** The open reports, oldest first (moderator). */
  async reports(actor: Moderator): Promise<ReportItem[]> {
    await this.#moderator(actor, "reading reports");
    return (await this.#store.openReports(REPORTS_LISTED)).map((r) => this.reportItem(r));
  }

  /** Closes an open report (moderator): moderators online get `report_resolved`. */
  async resolve(actor: Moderator, reportId: number, note = ""): Promise<void> {
    const by = await this.#moderator(actor, "resolving reports");
    const report = await this.#store.resolveReport(reportId, {
      byUserId: actor.userId,
      note,
      at: this.#now(),
    });
    if (!report) {
      throw new ProtocolError(
        "not_found",
        404,
        `there is no open report ${reportId}; list them with reports`,
      );
    }
    this.#live.toModerators(reportResolvedEvent(report.id, by));
    const salon = this.#live.salonById(report.salonId)?.name ?? String(report.salonId);
    await this.#audit(
      actor,
      "resolve_report",
      `report ${report.id}: ${report.message.from.username}@${salon}#${report.message.id}`,
      note,
      { salon, user: report.message.from.username },
    );
  }

  /** A stored report as moderators see it (`R`). */
  reportItem(r: ReportRecord): ReportItem {
    const message: ReportItem["message"] = {
      id: r.message.id,
      from: r.message.from,
      text: r.message.text,
      at: iso(r.message.at),
    };
    if (r.message.editedAt !== undefined) message.editedAt = iso(r.message.editedAt);
    if (r.message.deleted) message.deleted = true;
    return {
      id: r.id,
      salon: this.#live.salonById(r.salonId)?.name ?? String(r.salonId),
      message,
      by: r.by,
      reason: r.reason,
      at: iso(r.at),
    };
  }

  /** Logs an act (never its reason or note) and writes its audit line. */
  async #audit(
    actor: Moderator,
    action: AuditAction,
    target: string,
    reason: string,
    logged: { user?: string; salon?: string },
  ): Promise<void> {
    const verb = action === "delete_message" ? "deleted the message" : "resolved";
    (this.#opts.log ?? silentLogger).info(`${actor.username} ${verb} ${target}`, {
      event: action === "delete_message" ? "message_deleted" : "report_resolved",
      actor: actor.username,
      via: actor.via,
      ...logged,
    });
    await this.#store.addAudit({
      at: this.#now(),
      actor: actor.username,
      action,
      target,
      reason,
      via: actor.via,
    });
  }
}

/** A message found for a request: its stored target, its facts, and its salon if any. */
interface Found {
  target: MessageTarget;
  facts: MessageFacts;
  salon?: DeskSalon;
}
