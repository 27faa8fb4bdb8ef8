/**
 * Moderation across instances (issue 15, item 2): kicks, bans, unbans,
 * mutes and unmutes, role changes, announcements, reports to moderators and
 * credential revocations reach every session of the user (or every session,
 * or every moderator) on every instance. Only with a bus; one process builds
 * none of this.
 *
 * The desks do not change: {@link ClusterUsers.live} and
 * {@link ClusterUsers.messages} wrap the hub's local ports (moderation_ports.ts,
 * message_ports.ts): each effect is applied here as in one process, then
 * published once on the `users` channel (cluster_users_wire.ts); every other
 * instance applies it through the same local ports (quietly: the security
 * log and the sanction counters are the acting instance's). Mutes and kicks
 * carry their stored end, so each instance's mute and sanction actors run
 * out at the same time.
 *
 * The bus is at most once: on `resubscribed`, and every `checkMs`, the
 * check (cluster_users_check.ts) re-reads from MySQL the mutes in force and,
 * for the users with sessions here, their role and kicks and bans in force,
 * and converges. Announcements and reports a lost publication carried are
 * not recovered live (docs/protocol.md, "Moderation across instances").
 *
 * @module
 */

import { sanctionSystemId } from "../actors/server.ts";
import { muteSystemId } from "../actors/mute.ts";
import type { CredentialsRevoked } from "../auth/accounts.ts";
import type { MuteRecord, SanctionRecord } from "../store/store.ts";
import { type ClusterChannel, type ClusterLink, openClusterChannel } from "./cluster_channel.ts";
import { reconcileUsers } from "./cluster_users_check.ts";
import {
  decodeUserEvent,
  encodeUserEvent,
  type UserEvent,
  USERS_CHANNEL,
} from "./cluster_users_wire.ts";
import type { Handshakes } from "./handshake.ts";
import type { HubContext } from "./hub_context.ts";
import type { MessagePorts } from "./message_desk.ts";
import type { LivePorts } from "./moderation.ts";
import { OutageLog } from "../lib/outage_log.ts";

/** Default interval of the check, ms (the salons' check: `CAUSERIE_SALON_CHECK_MS`). */
export const USERS_CHECK_MS = 1000;

/** Options of {@link startClusterUsers}. */
export interface ClusterUsersOptions {
  /** The bus and this process's origin. */
  link: ClusterLink;
  /** The hub's shared state. */
  ctx: HubContext;
  /** The moderation desk's local ports (moderation_ports.ts `livePorts`). */
  local: LivePorts;
  /** The message desk's local ports (message_ports.ts `messagePorts`). */
  localMessages: MessagePorts;
  /** Closes the sessions of revoked credentials here. */
  handshakes: Pick<Handshakes, "revokeSessions">;
  /** Interval of the check, ms (default {@link USERS_CHECK_MS}). */
  checkMs?: number;
  /**
   * TESTS ONLY: apply locally but never publish, as an instance whose
   * publications the bus lost. Set only through `StartOptions.testHooks`.
   */
  dropPublishes?: boolean;
}

/** This instance's side of moderation across instances. */
export interface ClusterUsers {
  /** The moderation desk's ports: local effects, then published. */
  readonly live: LivePorts;
  /** The message desk's ports: `toModerators` also published. */
  readonly messages: MessagePorts;
  /** Credentials revoked here (accounts.onCredentialsRevoked): closed here, then published. */
  revoked(revoked: CredentialsRevoked): void;
  /** Runs the check now (also run on `resubscribed` and every `checkMs`). */
  check(): Promise<void>;
  /** Unsubscribes and stops the check. */
  stop(): Promise<void>;
}

/**
 * Who was touched by a live event, in order: the check leaves alone a user
 * touched after it began reading (what it read may be older than the event).
 */
class Touches {
  #seq = 0;
  readonly #last = new Map<number, number>();

  /** Records an event about `userId`. */
  touch(userId: number): void {
    this.#last.set(userId, ++this.#seq);
  }

  /** The current position (taken before a check reads MySQL). */
  mark(): number {
    return this.#seq;
  }

  /** Whether `userId` was touched after `mark`. */
  since(userId: number, mark: number): boolean {
    return (this.#last.get(userId) ?? 0) > mark;
  }

  /** Forgets what happened up to `mark` (no check older than it runs). */
  forget(mark: number): void {
    for (const [userId, seq] of this.#last) if (seq <= mark) this.#last.delete(userId);
  }
}

/** Subscribes the `users` channel and starts the check. */
export async function startClusterUsers(opts: ClusterUsersOptions): Promise<ClusterUsers> {
  const { ctx, local, localMessages, handshakes, link } = opts;
  const touches = new Touches();
  const system = () => ctx.server().system;
  const tracked = (systemId: string) => system().get(systemId) !== undefined;

  /** A mute stored elsewhere (or found by the check): tracked here without the acting side's logs. */
  const trackMuteQuietly = (mute: MuteRecord, username: string, replaced: readonly number[]) => {
    if (tracked(muteSystemId(mute.id))) return;
    const salon = mute.salonId === null ? undefined : ctx.salons.get(mute.salonId);
    if (mute.salonId !== null && !salon) return; // never turn a salon's mute into one everywhere
    ctx.server().send({
      type: "TRACK_MUTE",
      mute,
      username,
      ...(salon ? { salon: { name: salon.name, key: salon.key } } : {}),
      replaced,
    });
  };
  /** A sanction stored elsewhere (or found by the check), tracked here. */
  const trackSanctionQuietly = (sanction: SanctionRecord, username: string) => {
    if (tracked(sanctionSystemId(sanction.id))) return;
    ctx.server().send({ type: "TRACK_SANCTION", sanction, username });
  };

  /** Applies an event published by another instance, through the local ports. */
  const apply = (event: UserEvent) => {
    switch (event.kind) {
      case "punish":
        touches.touch(event.userId);
        return local.punish(event.userId, event.frame);
      case "sanction":
        touches.touch(event.sanction.userId);
        return trackSanctionQuietly(event.sanction, event.username);
      case "lift_sanctions":
        touches.touch(event.userId);
        return local.liftSanctions(event.userId, event.ids);
      case "requests_withdrawn":
        return local.requestsWithdrawn(event.userId, event.salonIds);
      case "broadcast":
        return local.broadcast(event.frame);
      case "role":
        touches.touch(event.userId);
        return local.roleChanged(event.userId, event.role);
      case "mute":
        touches.touch(event.mute.userId);
        return trackMuteQuietly(event.mute, event.username, event.replaced);
      case "lift_mutes":
        touches.touch(event.userId);
        return local.liftMutes(event.userId, event.ids);
      case "moderators":
        return localMessages.toModerators(event.frame);
      case "revoked":
        return handshakes.revokeSessions(event.revoked);
    }
  };

  const channel: ClusterChannel = await openClusterChannel({
    link,
    name: USERS_CHANNEL,
    decode: decodeUserEvent,
    receive: apply,
    log: ctx.log,
  });
  const publish = (event: UserEvent) => {
    if (!opts.dropPublishes) channel.publish(encodeUserEvent(event));
  };

  // The check: one at a time; a request while one runs runs once more after it.
  const outages = new OutageLog(ctx.log);
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  const runCheck = async () => {
    do {
      again = false;
      const mark = touches.mark();
      try {
        await reconcileUsers({
          ctx,
          local,
          touchedSince: (userId) => touches.since(userId, mark),
          trackMute: trackMuteQuietly,
          trackSanction: trackSanctionQuietly,
        });
        outages.worked("users_check", "the check of moderation across instances works again");
      } catch (error) {
        outages.failed(
          "users_check",
          "the check of moderation across instances failed; it runs again",
          error,
        );
      }
      touches.forget(mark);
    } while (again && !stopped);
  };
  const check = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = runCheck().finally(() => running = undefined);
    return running;
  };
  const offResubscribed = link.bus.onResubscribed(() => void check());
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = () => {
    timer = setTimeout(async () => {
      await check();
      if (!stopped) schedule();
    }, opts.checkMs ?? USERS_CHECK_MS);
  };
  schedule();

  const live: LivePorts = {
    ...local,
    punish(userId, frame) {
      touches.touch(userId);
      local.punish(userId, frame);
      publish({ kind: "punish", userId, frame });
    },
    trackSanction(sanction, username) {
      touches.touch(sanction.userId);
      // The check may have found it in MySQL first (between the commit and this call).
      if (!tracked(sanctionSystemId(sanction.id))) local.trackSanction(sanction, username);
      publish({ kind: "sanction", sanction, username });
    },
    liftSanctions(userId, ids) {
      touches.touch(userId);
      local.liftSanctions(userId, ids);
      publish({ kind: "lift_sanctions", userId, ids: [...ids] });
    },
    requestsWithdrawn(userId, salonIds) {
      local.requestsWithdrawn(userId, salonIds);
      publish({ kind: "requests_withdrawn", userId, salonIds: [...salonIds] });
    },
    broadcast(frame) {
      local.broadcast(frame);
      publish({ kind: "broadcast", frame });
    },
    roleChanged(userId, role) {
      touches.touch(userId);
      local.roleChanged(userId, role);
      publish({ kind: "role", userId, role });
    },
    trackMute(mute, username, replaced) {
      touches.touch(mute.userId);
      if (!tracked(muteSystemId(mute.id))) local.trackMute(mute, username, replaced);
      publish({ kind: "mute", mute, username, replaced: [...replaced] });
    },
    liftMutes(userId, ids) {
      touches.touch(userId);
      local.liftMutes(userId, ids);
      publish({ kind: "lift_mutes", userId, ids: [...ids] });
    },
  };
  const messages: MessagePorts = {
    ...localMessages,
    toModerators(frame) {
      localMessages.toModerators(frame);
      publish({ kind: "moderators", frame });
    },
  };

  return {
    live,
    messages,
    revoked(revoked) {
      handshakes.revokeSessions(revoked);
      publish({ kind: "revoked", revoked });
    },
    check,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      offResubscribed();
      await running;
      await channel.stop();
    },
  };
}
