/**
 * The live actor tree as `GET /admin/actors` lists it: every actor with its
 * machine, state, parent and a few facts read from its context.
 *
 * @module
 */

import type { AnyActorRef } from "xstate";
import type { Session } from "../actors/session.ts";
import type { ActorInfo } from "../protocol/admin.ts";
import type { UserSummary } from "../store/store.ts";

/**
 * The tree under the root `server`, then the connection actors (started in
 * the server's system but not among its snapshot's children) under it.
 */
export function actorTree(server: AnyActorRef, connections: Iterable<AnyActorRef>): ActorInfo[] {
  const out: ActorInfo[] = [];
  const walk = (ref: AnyActorRef, parent: string | null) => {
    const snapshot = ref.getSnapshot() as {
      value?: unknown;
      status?: string;
      context?: Record<string, unknown>;
      children?: Record<string, AnyActorRef | undefined>;
    };
    const ctx = snapshot.context ?? {};
    const facts: Record<string, unknown> = {};
    const salon = ctx.salon as { name?: string } | string | undefined;
    if (typeof salon === "string") facts.salon = salon;
    else if (salon?.name) facts.salon = salon.name;
    const session = ctx.session as Session | undefined;
    if (session) facts.username = session.user.username;
    const user = ctx.user as UserSummary | undefined;
    if (user?.username) facts.username = user.username;
    if (typeof ctx.username === "string") facts.username = ctx.username;
    if (typeof ctx.remaining === "number") facts.remaining = ctx.remaining;
    if (ctx.members instanceof Map) facts.members = ctx.members.size;
    if (ctx.online instanceof Map) facts.online = ctx.online.size;
    const sanction = ctx.sanction as { kind?: string; until?: number | null } | undefined;
    if (sanction?.kind) {
      facts.kind = sanction.kind;
      if (sanction.until) facts.until = new Date(sanction.until).toISOString();
    }
    const id = parent === null ? "server" : ref.id;
    out.push({
      id,
      machine: (ref as { logic?: { id?: string } }).logic?.id ?? "unknown",
      state: snapshot.value ?? snapshot.status ?? null,
      parent,
      facts,
    });
    for (const child of Object.values(snapshot.children ?? {})) if (child) walk(child, id);
  };
  walk(server, null);
  for (const actor of connections) walk(actor, "server");
  return out;
}
