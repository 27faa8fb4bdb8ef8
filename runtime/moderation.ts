/**
 * The moderation desk: every moderator and admin act, whichever way it
 * arrives (a moderator's WebSocket, the admin HTTP API, the admin socket),
 * with one permission check, one persistence path and one audit line each.
 * The live effects go through {@link LivePorts}, which the hub implements
 * by sending events to the actors.
 *
 * @module
 */

import type { Accounts } from "../auth/accounts.ts";
import { type LogFields, silentLogger } from "../lib/log.ts";
import { ProtocolError } from "../protocol/errors.ts";
import { textProblem } from "../protocol/text.ts";
import { type DeskKit, mute, muteListings, slowMode, unmute } from "./moderation_mutes.ts";
import type {
  AuditAction,
  AuditEntry,
  AuthoredSanction,
  Role,
  SanctionRecord,
  Store,
  UserRecord,
} from "../store/store.ts";

export {
  type LivePorts,
  type ModerationOptions,
  type Moderator,
  type PendingView,
  serverModerator,
  type UserListing,
  type UserListingWithMutes,
} from "./moderation_types.ts";
import type {
  LivePorts,
  ModerationOptions,
  Moderator,
  PendingView,
  UserListing,
  UserListingWithMutes,
} from "./moderation_types.ts";

/**
 * The operations log's event of each act (the audit log keeps its own action
 * names) and the verb of its message.
 */
const LOG_EVENT: Record<AuditAction, [event: string, verb: string]> = {
  kick: ["kick", "kicked"],
  ban: ["ban", "banned"],
  unban: ["unban", "lifted the sanctions of"],
  accept: ["join_accepted", "accepted the join request of"],
  reject: ["join_rejected", "rejected the join request of"],
  announce: ["announce", "made an announcement"],
  shutdown: ["shutdown_started", "started the shutdown countdown"],
  cancel_shutdown: ["shutdown_cancelled", "cancelled the shutdown countdown"],
  role: ["role_changed", "changed the role of"],
  create_user: ["user_created", "created the account"],
  reset_password: ["password_reset", "set a new password for"],
  // Edit, delete and reports (PROTOCOL 5.4): written by runtime/message_desk.ts.
  delete_message: ["message_deleted", "deleted a message of"],
  resolve_report: ["report_resolved", "resolved"],
  mute: ["mute", "muted"],
  unmute: ["unmute", "lifted the mute of"],
  slow_mode: ["slow_mode", "set the slow mode of"],
};

const RANK: Record<Role, number> = { member: 0, moderator: 1, admin: 2 };

/** The role a sanction's author counts with: their current one; the server's is admin. */
function authorRole(sanction: AuthoredSanction): Role {
  return sanction.by?.role ?? "admin";
}

/** Every moderation act, checked, persisted, applied and audited. */
export class Moderation {
  readonly #store: Store;
  readonly #accounts: Accounts;
  readonly #live: LivePorts;
  readonly #opts: ModerationOptions;
  readonly #now: () => number;

  /** Builds the desk. */
  constructor(opts: ModerationOptions) {
    this.#store = opts.store;
    this.#accounts = opts.accounts;
    this.#live = opts.live;
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** Re-reads the actor's role (it may have changed since login) and checks it. */
  async #authorize(actor: Moderator, needed: Role, what: string): Promise<Moderator> {
    let current = actor;
    if (actor.userId !== null) {
      const user = await this.#store.userById(actor.userId);
      if (!user) throw new ProtocolError("unauthenticated", 401, "this account no longer exists");
      // A kicked or banned moderator cannot act, even with a token from before.
      await this.#accounts.assertNotSanctioned(user);
      current = { ...actor, role: user.role };
    }
    if (RANK[current.role] < RANK[needed]) {
      throw new ProtocolError(
        "forbidden",
        403,
        `${what} needs the ${needed} role; you are ${
          current.role === "admin" ? "an" : "a"
        } ${current.role}`,
      );
    }
    return current;
  }

  async #target(username: string): Promise<UserRecord> {
    const user = await this.#store.userByName(username);
    if (!user) {
      throw new ProtocolError(
        "unknown_user",
        404,
        `there is no user named "${username.slice(0, 64)}"; check the spelling`,
      );
    }
    return user;
  }

  #assertCanSanction(actor: Moderator, target: UserRecord, what: string): void {
    if (actor.userId === target.id) {
      throw new ProtocolError("forbidden", 403, `you cannot ${what} yourself`);
    }
    if (actor.userId !== null && RANK[target.role] >= RANK[actor.role]) {
      throw new ProtocolError(
        "forbidden",
        403,
        `you cannot ${what} ${target.username}: their role (${target.role}) is not below yours; an admin must change it first`,
      );
    }
  }

  /**
   * Logs an act (`logged`: its non-secret facts; never the reason or the
   * text, which only the audit log keeps) and writes its audit line.
   */
  async #audit(
    actor: Moderator,
    action: AuditAction,
    target: string,
    reason = "",
    logged: Omit<LogFields, "event"> = {},
  ): Promise<void> {
    const [event, verb] = LOG_EVENT[action];
    const about = target === "" ? "" : ` ${target}`;
    (this.#opts.log ?? silentLogger).info(`${actor.username} ${verb}${about}`, {
      event,
      actor: actor.username,
      via: actor.via,
      ...logged,
    });
    const entry: AuditEntry = {
      at: this.#now(),
      actor: actor.username,
      action,
      target,
      reason,
      via: actor.via,
    };
    await this.#store.addAudit(entry);
  }

  /** Checks that the actor may inspect the server (moderator). */
  async assertCanInspect(actor: Moderator): Promise<void> {
    await this.#authorize(actor, "moderator", "inspecting the actors");
  }

  /** Pending requests (moderator). */
  async requests(actor: Moderator): Promise<PendingView[]> {
    await this.#authorize(actor, "moderator", "listing join requests");
    return this.#live.pendingRequests();
  }

  /** Accepts or rejects a pending request (moderator). */
  async decide(actor: Moderator, salon: string, username: string, accept: boolean): Promise<void> {
    const who = await this.#authorize(actor, "moderator", "deciding on join requests");
    const target = await this.#target(username);
    const result = await this.#live.decide(salon, target.id, accept);
    if (result === "unknown_salon") {
      throw new ProtocolError(
        "unknown_salon",
        404,
        `there is no salon named "${salon.slice(0, 64)}"`,
      );
    }
    if (result === "not_pending") {
      throw new ProtocolError(
        "invalid",
        404,
        `${target.username} has no pending request for ${
          salon.slice(0, 64)
        }; list them with requests`,
      );
    }
    await this.#audit(who, accept ? "accept" : "reject", `${target.username}@${salon}`, "", {
      user: target.username,
      salon,
    });
  }

  /** Kicks a user: sessions closed, login refused until the end (moderator). */
  async kick(
    actor: Moderator,
    username: string,
    opts: { reason?: string; minutes?: number } = {},
  ): Promise<{ until: string }> {
    const who = await this.#authorize(actor, "moderator", "kicking");
    const target = await this.#target(username);
    this.#assertCanSanction(who, target, "kick");
    const now = this.#now();
    const minutes = opts.minutes ?? this.#opts.kickMinutes;
    const reason = opts.reason ?? "";
    const sanction = await this.#store.addSanction({
      userId: target.id,
      kind: "kick",
      until: now + Math.round(minutes * 60_000),
      reason,
      createdAt: now,
    }, who.userId);
    const until = new Date(sanction.until!).toISOString();
    this.#live.trackSanction(sanction, target.username);
    this.#live.punish(target.id, JSON.stringify({ type: "kicked", until, reason }));
    await this.#audit(who, "kick", target.username, reason, {
      user: target.username,
      sanction: sanction.id,
      minutes,
    });
    return { until };
  }

  /** Bans a user for good, optionally deleting their messages (moderator). */
  async ban(
    actor: Moderator,
    username: string,
    opts: { reason?: string; purge?: boolean } = {},
  ): Promise<void> {
    const who = await this.#authorize(actor, "moderator", "banning");
    const target = await this.#target(username);
    this.#assertCanSanction(who, target, "ban");
    const reason = opts.reason ?? "";
    const { sanction, withdrawnSalonIds } = await this.#store.ban(
      { userId: target.id, reason, createdAt: this.#now() },
      who.userId,
      opts.purge === true,
    );
    this.#live.trackSanction(sanction, target.username);
    this.#live.requestsWithdrawn(target.id, withdrawnSalonIds);
    this.#live.punish(target.id, JSON.stringify({ type: "banned", reason }));
    await this.#audit(
      who,
      "ban",
      target.username,
      opts.purge ? `${reason} (purged)`.trim() : reason,
      { user: target.username, sanction: sanction.id, purge: opts.purge === true },
    );
  }

  /**
   * Lifts a user's kicks and bans (moderator). Lifting needs what imposing
   * needs (a role above the target's) and at least the role of each
   * sanction's author (the server's sanctions: admin); otherwise nothing is
   * lifted. Returns how many were lifted.
   */
  async unban(actor: Moderator, username: string): Promise<{ lifted: number }> {
    const who = await this.#authorize(actor, "moderator", "unbanning");
    const target = await this.#target(username);
    if (who.userId !== null) {
      if (who.userId === target.id) {
        throw new ProtocolError("forbidden", 403, "you cannot unban yourself");
      }
      if (RANK[target.role] >= RANK[who.role]) {
        throw new ProtocolError(
          "forbidden",
          403,
          `you cannot unban ${target.username}: their role (${target.role}) is not below yours; only ${
            target.role === "admin" ? "the admin socket" : "an admin"
          } can lift their sanctions`,
        );
      }
    }
    const now = this.#now();
    const sanctions = await this.#store.activeSanctionsOf(target.id, now);
    if (who.userId !== null) {
      const above = sanctions.find((s) => RANK[authorRole(s)] > RANK[who.role]);
      if (above) {
        const role = authorRole(above);
        throw new ProtocolError(
          "forbidden",
          403,
          `the ${above.kind} of ${target.username} was imposed by ${
            above.by ? `${above.by.username} (${role})` : "the server (admin socket)"
          }; only ${role === "admin" ? "an" : "a"} ${role}${
            role === "admin" ? "" : " or an admin"
          } can lift it`,
        );
      }
    }
    const ids = sanctions.map((s) => s.id);
    const lifted = await this.#store.liftSanctions(target.id, now, ids);
    this.#live.liftSanctions(target.id, ids);
    await this.#audit(who, "unban", target.username, "", {
      user: target.username,
      count: lifted,
    });
    return { lifted };
  }

  /** Sends a notice to every connected session (moderator). */
  async announce(actor: Moderator, text: string): Promise<void> {
    const who = await this.#authorize(actor, "moderator", "announcing");
    const problem = textProblem(text, this.#opts.maxText);
    if (problem) {
      throw new ProtocolError(problem.code, 400, problem.message);
    }
    this.#live.broadcast(
      JSON.stringify({ type: "notice", text, at: new Date(this.#now()).toISOString() }),
    );
    await this.#audit(who, "announce", "", text);
  }

  /** Starts the shutdown countdown (admin). */
  async shutdown(actor: Moderator, seconds?: number): Promise<{ seconds: number }> {
    const who = await this.#authorize(actor, "admin", "shutting the server down");
    const n = seconds ?? this.#opts.shutdownSeconds;
    if (!this.#live.startShutdown(n)) {
      throw new ProtocolError(
        "shutting_down",
        409,
        "a shutdown countdown is already running; cancel it first to start another",
      );
    }
    // An admin's act counts down on every instance; a signal stops this instance alone.
    if (actor.via !== "signal") await this.#opts.clusterShutdown?.started(n);
    await this.#audit(who, "shutdown", "", `${n} s`, { seconds: n });
    return { seconds: n };
  }

  /** Cancels the countdown (admin). */
  async cancelShutdown(actor: Moderator): Promise<void> {
    const who = await this.#authorize(actor, "admin", "cancelling a shutdown");
    if (!this.#live.cancelShutdown()) {
      throw new ProtocolError("invalid", 409, "no shutdown countdown is running");
    }
    await this.#opts.clusterShutdown?.cancelled();
    await this.#audit(who, "cancel_shutdown", "");
  }

  /** Changes a user's role (admin); the last admin cannot be demoted. */
  async setRole(actor: Moderator, username: string, role: Role): Promise<void> {
    const who = await this.#authorize(actor, "admin", "changing roles");
    const target = await this.#target(username);
    if (target.role === "admin" && role !== "admin") {
      const admins = (await this.#store.listUsers()).filter((u) => u.role === "admin");
      if (admins.length <= 1) {
        throw new ProtocolError(
          "invalid",
          409,
          `${target.username} is the last admin; make someone else admin first`,
        );
      }
    }
    await this.#store.setRole(target.id, role);
    this.#live.roleChanged(target.id, role);
    await this.#audit(who, "role", target.username, role, { user: target.username, role });
  }

  /** Creates an account with any role (admin). */
  async createUser(
    actor: Moderator,
    input: { username: string; alias: string; password: string; role: Role },
  ): Promise<UserRecord> {
    const who = await this.#authorize(actor, "admin", "creating accounts");
    const user = await this.#accounts.register(input, input.role);
    await this.#audit(who, "create_user", user.username, input.role, {
      user: user.username,
      role: input.role,
    });
    return user;
  }

  /**
   * Sets a new password for an account (admin): the way to unlock an account
   * imported from the original server without a usable password, or to help
   * a user who forgot theirs. Every token of the user is revoked and their
   * live sessions are closed. Follows rank like a sanction: not oneself (use
   * `POST /api/password`), not an account whose role is not below the actor's
   * (the admin socket may).
   */
  async resetPassword(actor: Moderator, username: string, password: string): Promise<void> {
    const who = await this.#authorize(actor, "admin", "setting passwords");
    const target = await this.#target(username);
    this.#assertCanSanction(who, target, "set the password of");
    await this.#accounts.setPasswordFor(target, password, `${who.via}:${who.username}`);
    await this.#audit(who, "reset_password", target.username, "", { user: target.username });
  }

  /** Every account with its status and sanctions (moderator). */
  async users(
    actor: Moderator,
    filter: { status?: "online" } = {},
  ): Promise<UserListingWithMutes[]> {
    await this.#authorize(actor, "moderator", "listing users");
    const [users, sanctions, mutes] = await Promise.all([
      this.#store.listUsers(),
      this.#store.listActiveSanctions(this.#now()),
      this.#store.listActiveMutes(this.#now()),
    ]);
    const muted = muteListings(mutes, (id) => this.#live.salonById(id));
    const byUser = new Map<number, SanctionRecord[]>();
    for (const s of sanctions) byUser.set(s.userId, [...(byUser.get(s.userId) ?? []), s]);
    const listing: UserListingWithMutes[] = [];
    for (const u of users) {
      const online = this.#live.isOnline(u.id);
      if (filter.status === "online" && !online) continue;
      const entry: UserListing = {
        username: u.username,
        alias: u.alias,
        role: u.role,
        status: online ? "online" : "offline",
      };
      const mine = byUser.get(u.id) ?? [];
      if (mine.some((s) => s.kind === "ban")) entry.banned = true;
      const kicks = mine.filter((s) => s.kind === "kick" && s.until !== null);
      if (kicks.length > 0) {
        entry.bannedUntil = new Date(Math.max(...kicks.map((s) => s.until!))).toISOString();
      }
      listing.push({ ...entry, ...muted.get(u.id) });
    }
    return listing;
  }

  // --- mute and slow mode (PROTOCOL 5.4; moderation_mutes.ts) ---------------

  /** The desk's checks, lent to moderation_mutes.ts. */
  #kit(): DeskKit {
    return {
      store: this.#store,
      live: this.#live,
      now: this.#now,
      authorize: (actor, needed, what) => this.#authorize(actor, needed, what),
      target: (username) => this.#target(username),
      assertCanSanction: (actor, target, what) => this.#assertCanSanction(actor, target, what),
      audit: (actor, action, target, reason, logged) =>
        this.#audit(actor, action, target, reason, logged),
    };
  }

  /** Mutes a user in one salon or everywhere (moderator; rank as for a kick). */
  mute(
    actor: Moderator,
    username: string,
    opts: { minutes?: number; salon?: string; reason?: string } = {},
  ): Promise<{ until: string }> {
    return mute(this.#kit(), actor, username, opts);
  }

  /** Ends a user's mute in one salon, or everywhere (moderator). */
  unmute(actor: Moderator, username: string, opts: { salon?: string } = {}) {
    return unmute(this.#kit(), actor, username, opts);
  }

  /** Sets a salon's slow mode, 0-3600 seconds (moderator). */
  slowMode(actor: Moderator, salon: string, seconds: number) {
    return slowMode(this.#kit(), actor, salon, seconds);
  }

  /** The newest audit entries (moderator). */
  async audit(actor: Moderator, limit = 100): Promise<
    Array<Omit<AuditEntry, "at"> & { at: string }>
  > {
    await this.#authorize(actor, "moderator", "reading the audit log");
    const entries = await this.#store.listAudit(limit);
    return entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() }));
  }
}
