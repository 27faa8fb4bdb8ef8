/**
 * The check of moderation across instances (runtime/cluster_users.ts): what
 * the bus lost is read from MySQL, the truth, and applied here through the
 * same local ports as a live event.
 *
 * - Mutes: every mute in force (`store.listActiveMutes`, one bound time)
 *   against the mute actors of this instance: a missing one is tracked (its
 *   user's sessions here get `muted`, the MuteBook refuses their `say`), one
 *   lifted elsewhere is lifted (`unmuted`). One that simply ran out is left
 *   to its actor, which ends at the same stored time on every instance.
 * - For the users with sessions here (and those with a sanction actor here):
 *   their role and kicks and bans in force (`ClusterStore.userStates`, chunks
 *   of bound ids). A user with a sanction in force has their sessions here
 *   closed as a kick or ban would (`kicked`/`banned`, then 4403); a sanction
 *   lifted elsewhere has its actor lifted; a session whose role differs gets
 *   the stored one.
 *
 * A user touched by a live event after the check began reading, or with a
 * session opened since, is left alone: what it read may be older than the
 * event or the session's own reading.
 *
 * @module
 */

import type { AnyActorRef } from "xstate";
import type { MuteRecord, Role, SanctionRecord } from "../store/store.ts";
import type { HubContext } from "./hub_context.ts";
import type { LivePorts } from "./moderation.ts";

/** What the check works with. */
export interface ReconcileDeps {
  /** The hub's shared state (store, server actor, clock). */
  ctx: HubContext;
  /** The local ports (no publication: every instance checks for itself). */
  local: Pick<LivePorts, "punish" | "liftSanctions" | "roleChanged" | "liftMutes">;
  /** Whether a live event touched this user since the check began. */
  touchedSince(userId: number): boolean;
  /** Tracks a mute here (no-op when tracked already). */
  trackMute(mute: MuteRecord, username: string, replaced: readonly number[]): void;
  /** Tracks a sanction here (no-op when tracked already). */
  trackSanction(sanction: SanctionRecord, username: string): void;
}

/** The records of this instance's running actors whose id starts with `prefix`. */
function running<T>(
  children: Record<string, AnyActorRef | undefined>,
  prefix: string,
  field: "mute" | "sanction",
): T[] {
  const records: T[] = [];
  for (const [id, child] of Object.entries(children)) {
    if (!id.startsWith(prefix) || !child) continue;
    const snap = child.getSnapshot() as { status: string; context?: Record<string, unknown> };
    if (snap.status === "active" && snap.context?.[field]) records.push(snap.context[field] as T);
  }
  return records;
}

/** The frame a sanction in force sends, as the desk builds it (runtime/moderation.ts). */
export function sanctionFrame(sanctions: readonly SanctionRecord[]): string | undefined {
  const ban = sanctions.find((s) => s.kind === "ban");
  if (ban) return JSON.stringify({ type: "banned", reason: ban.reason });
  let kick: SanctionRecord | undefined;
  for (const s of sanctions) if (!kick || (s.until ?? 0) > (kick.until ?? 0)) kick = s;
  if (!kick || kick.until === null) return undefined;
  return JSON.stringify({
    type: "kicked",
    until: new Date(kick.until).toISOString(),
    reason: kick.reason,
  });
}

/** One check: reads MySQL, then converges this instance's live state on it. */
export async function reconcileUsers(deps: ReconcileDeps): Promise<void> {
  const { ctx, local } = deps;
  const cluster = ctx.store.cluster;
  if (!cluster) return;
  const now = ctx.now();
  // What this instance holds before reading: whatever is tracked later was stored before.
  const server = ctx.server().getSnapshot();
  const children = server.children as Record<string, AnyActorRef | undefined>;
  const heldMutes = running<MuteRecord>(children, "mute:", "mute");
  const heldSanctions = running<SanctionRecord>(children, "sanction:", "sanction");
  const userIds = new Set<number>();
  const before = new Set<unknown>();
  for (const [userId, list] of server.context.sessions) {
    if (list.length > 0) userIds.add(userId);
    for (const session of list) before.add(session);
  }
  for (const s of heldSanctions) userIds.add(s.userId);

  const [mutes, states] = await Promise.all([
    ctx.store.listActiveMutes(now),
    cluster.userStates([...userIds], now),
  ]);

  // Mutes.
  const inForce = new Map(mutes.map((m) => [m.id, m]));
  const replacedBy = new Map<number, number[]>();
  const lifted = new Map<number, number[]>();
  for (const m of heldMutes) {
    if (inForce.has(m.id) || m.until <= now || deps.touchedSince(m.userId)) continue;
    // Replaced by a mute of the same user and salon now in force? Its track lifts it.
    const newer = mutes.find((n) => n.userId === m.userId && n.salonId === m.salonId);
    if (newer) replacedBy.set(newer.id, [...(replacedBy.get(newer.id) ?? []), m.id]);
    else lifted.set(m.userId, [...(lifted.get(m.userId) ?? []), m.id]);
  }
  for (const [userId, ids] of lifted) local.liftMutes(userId, ids);
  const heldIds = new Set(heldMutes.map((m) => m.id));
  for (const m of mutes) {
    if (heldIds.has(m.id) || deps.touchedSince(m.userId)) continue;
    const user = await ctx.store.userById(m.userId);
    if (deps.touchedSince(m.userId)) continue;
    deps.trackMute(m, user?.username ?? String(m.userId), replacedBy.get(m.id) ?? []);
  }

  // Sanctions.
  for (const s of heldSanctions) {
    const state = states.get(s.userId);
    if (!state || deps.touchedSince(s.userId)) continue;
    if (s.until !== null && s.until <= now) continue; // runs out by itself
    if (!state.sanctions.some((x) => x.id === s.id)) local.liftSanctions(s.userId, [s.id]);
  }
  for (const [userId, state] of states) {
    const sessions = ctx.sessionsOf(userId);
    if (sessions.length === 0 || deps.touchedSince(userId)) continue;
    // A session opened meanwhile read MySQL after this check did: it knows better.
    if (sessions.some((session) => !before.has(session))) continue;
    const frame = sanctionFrame(state.sanctions);
    if (frame) {
      const username = sessions[0].user.username;
      for (const s of state.sanctions) deps.trackSanction(s, username);
      local.punish(userId, frame);
      continue;
    }
    if (sessions.some((s) => s.user.role !== state.role)) {
      local.roleChanged(userId, state.role as Role);
    }
  }
}
