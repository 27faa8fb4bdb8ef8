/**
 * The salon actors of this instance as replicas (issue 15), for the
 * recovery from MySQL (salon_recovery.ts): their members, pending requests
 * and epoch read from the live context, reloads sent to them, slow mode
 * read from and applied to the salon's record and actor.
 *
 * @module
 */

import type { HubContext } from "./hub_context.ts";
import type { Replicas, ReplicaState } from "./salon_recovery.ts";

/** The replicas of `ctx`'s salon actors. */
export function salonReplicas(ctx: HubContext): Replicas {
  const refOf = (salonId: number) => {
    const salon = ctx.salons.get(salonId);
    return salon ? ctx.salonRef(salon.key) : undefined;
  };
  return {
    salonIds: () => [...ctx.salons.keys()],
    state: (salonId) => {
      const snap = refOf(salonId)?.getSnapshot();
      if (!snap) return undefined;
      const { epoch, members, pending } = snap.context as Omit<ReplicaState, "requestActors">;
      return { epoch, members, pending, requestActors: Object.keys(snap.children).length };
    },
    send: (salonId, event) => {
      if (event.type === "MEMBERS_RELOADED") { for (const u of event.add) ctx.users.remember(u); }
      else for (const r of event.add) ctx.users.remember(r.user);
      refOf(salonId)?.send(event);
    },
    slowMode: (salonId) => ctx.salons.get(salonId)?.slowModeSeconds,
    setSlowMode: (salonId, seconds) => {
      const salon = ctx.salons.get(salonId);
      if (!salon) return;
      salon.slowModeSeconds = seconds;
      refOf(salonId)?.send({ type: "SET_SLOW_MODE", seconds });
    },
  };
}
