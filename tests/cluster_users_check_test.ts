/**
 * The check of moderation across instances (runtime/cluster_users_check.ts)
 * on a fake hub: what MySQL holds against what this instance tracks, and
 * which local port each difference goes to. No database, no bus.
 */

import assert from "node:assert/strict";
import type { Session } from "../actors/session.ts";
import { reconcileUsers, sanctionFrame } from "../runtime/cluster_users_check.ts";
import type { HubContext } from "../runtime/hub_context.ts";
import type { UserState } from "../store/cluster_store.ts";
import type { MuteRecord, Role, SanctionRecord } from "../store/store.ts";

const NOW = Date.UTC(2026, 10, 27, 12);

/** A mute of `userId` (everywhere unless `salonId`), ending in a minute. */
function mute(id: number, userId: number, fields: Partial<MuteRecord> = {}): MuteRecord {
  return { id, userId, salonId: null, until: NOW + 60_000, reason: "", createdAt: NOW, ...fields };
}

/** A kick of `userId` ending in a minute (or a ban). */
function sanction(
  id: number,
  userId: number,
  fields: Partial<SanctionRecord> = {},
): SanctionRecord {
  return { id, userId, kind: "kick", until: NOW + 60_000, reason: "", createdAt: NOW, ...fields };
}

/** A live session of `userId` with `role`. */
function session(userId: number, role: Role = "member"): Session {
  return {
    id: `s${userId}`,
    user: { id: userId, username: `u${userId}`, alias: "", role },
  } as unknown as Session;
}

/** A running child actor holding `field`. */
function child(field: "mute" | "sanction", record: unknown) {
  return { getSnapshot: () => ({ status: "active", context: { [field]: record } }) };
}

/** What the check did, by port. */
interface Calls {
  punish: Array<[number, string]>;
  liftSanctions: Array<[number, readonly number[]]>;
  roleChanged: Array<[number, Role]>;
  liftMutes: Array<[number, readonly number[]]>;
  trackMute: Array<[number, readonly number[]]>;
  trackSanction: number[];
}

/** Runs one check over a fake hub. */
async function check(world: {
  held?: { mutes?: MuteRecord[]; sanctions?: SanctionRecord[] };
  sessions?: Session[];
  stored?: { mutes?: MuteRecord[]; states?: Map<number, UserState> };
  touched?: number[];
  /** Sessions opened while the check read MySQL. */
  opened?: Session[];
}): Promise<{ calls: Calls; asked: number[] }> {
  const calls: Calls = {
    punish: [],
    liftSanctions: [],
    roleChanged: [],
    liftMutes: [],
    trackMute: [],
    trackSanction: [],
  };
  const children: Record<string, unknown> = {};
  for (const m of world.held?.mutes ?? []) children[`mute:${m.id}`] = child("mute", m);
  for (const s of world.held?.sanctions ?? []) children[`sanction:${s.id}`] = child("sanction", s);
  const sessions = new Map<number, Session[]>();
  for (const s of world.sessions ?? []) {
    sessions.set(s.user.id, [...(sessions.get(s.user.id) ?? []), s]);
  }
  let asked: number[] = [];
  const later = new Map<number, Session[]>();
  for (const s of world.opened ?? []) later.set(s.user.id, [...(later.get(s.user.id) ?? []), s]);
  const ctx = {
    now: () => NOW,
    store: {
      listActiveMutes: () => Promise.resolve(world.stored?.mutes ?? []),
      userById: (id: number) => Promise.resolve({ id, username: `u${id}` }),
      cluster: {
        userStates: (ids: readonly number[]) => {
          asked = [...ids].sort((a, b) => a - b);
          return Promise.resolve(world.stored?.states ?? new Map());
        },
      },
    },
    server: () => ({ getSnapshot: () => ({ children, context: { sessions } }) }),
    sessionsOf: (id: number) => [...(sessions.get(id) ?? []), ...(later.get(id) ?? [])],
  } as unknown as HubContext;
  await reconcileUsers({
    ctx,
    local: {
      punish: (u, f) => calls.punish.push([u, f]),
      liftSanctions: (u, ids) => calls.liftSanctions.push([u, ids]),
      roleChanged: (u, r) => calls.roleChanged.push([u, r]),
      liftMutes: (u, ids) => calls.liftMutes.push([u, ids]),
    },
    touchedSince: (u) => world.touched?.includes(u) ?? false,
    trackMute: (m, _n, replaced) => calls.trackMute.push([m.id, replaced]),
    trackSanction: (s) => calls.trackSanction.push(s.id),
  });
  return { calls, asked };
}

Deno.test("users check: a missing mute is tracked, a lifted one lifted, one that ran out left to its actor", async () => {
  const { calls } = await check({
    held: { mutes: [mute(1, 7), mute(2, 8, { until: NOW - 1 })] },
    stored: { mutes: [mute(3, 9)] },
  });
  assert.deepEqual(calls.trackMute, [[3, []]]);
  assert.deepEqual(calls.liftMutes, [[7, [1]]]);
});

Deno.test("users check: a mute replaced elsewhere is tracked with the one it replaces (no unmuted in between)", async () => {
  const { calls } = await check({
    held: { mutes: [mute(1, 7, { salonId: 2 })] },
    stored: { mutes: [mute(5, 7, { salonId: 2 })] },
  });
  assert.deepEqual(calls.trackMute, [[5, [1]]]);
  assert.deepEqual(calls.liftMutes, []);
});

Deno.test("users check: a user touched by a live event while it read is left alone", async () => {
  const { calls } = await check({
    held: { mutes: [mute(1, 7)], sanctions: [sanction(4, 7)] },
    sessions: [session(7)],
    stored: {
      mutes: [mute(3, 7, { salonId: 2 })],
      states: new Map([[7, { role: "moderator" as Role, sanctions: [sanction(6, 7)] }]]),
    },
    touched: [7],
  });
  assert.deepEqual(calls, {
    punish: [],
    liftSanctions: [],
    roleChanged: [],
    liftMutes: [],
    trackMute: [],
    trackSanction: [],
  });
});

Deno.test("users check: sessions of a sanctioned user are closed as a ban would; roles follow MySQL; lifted sanctions lifted", async () => {
  const ban = sanction(6, 7, { kind: "ban", until: null, reason: "spam" });
  const { calls, asked } = await check({
    held: { sanctions: [sanction(4, 20), sanction(5, 21, { until: NOW - 1 })] },
    sessions: [session(7), session(8, "moderator"), session(9, "member")],
    stored: {
      states: new Map<number, UserState>([
        [7, { role: "member", sanctions: [sanction(2, 7), ban] }],
        [8, { role: "member", sanctions: [] }],
        [9, { role: "member", sanctions: [] }],
        [20, { role: "member", sanctions: [] }],
        [21, { role: "member", sanctions: [] }],
      ]),
    },
  });
  assert.deepEqual(asked, [7, 8, 9, 20, 21], "users with sessions here or a sanction actor here");
  assert.deepEqual(calls.punish, [[7, JSON.stringify({ type: "banned", reason: "spam" })]]);
  assert.deepEqual(calls.trackSanction, [2, 6]);
  assert.deepEqual(calls.roleChanged, [[8, "member"]], "demoted; 9 unchanged");
  assert.deepEqual(calls.liftSanctions, [[20, [4]]], "21's kick runs out by itself");
});

Deno.test("users check: the frame of the sanctions in force, as the desk writes it", () => {
  assert.equal(sanctionFrame([]), undefined);
  assert.equal(
    sanctionFrame([
      sanction(1, 7, { until: NOW + 1000, reason: "a" }),
      sanction(2, 7, { until: NOW + 5000, reason: "b" }),
    ]),
    JSON.stringify({ type: "kicked", until: new Date(NOW + 5000).toISOString(), reason: "b" }),
  );
  assert.equal(
    sanctionFrame([sanction(1, 7), sanction(2, 7, { kind: "ban", until: null, reason: "x" })]),
    JSON.stringify({ type: "banned", reason: "x" }),
  );
});

Deno.test("users check: a user with a session opened while it read is left alone (an unban it did not see)", async () => {
  const { calls } = await check({
    sessions: [session(7)],
    opened: [{ ...session(7), id: "s7b" } as Session],
    stored: {
      states: new Map<number, UserState>([[7, { role: "moderator", sanctions: [sanction(2, 7)] }]]),
    },
  });
  assert.deepEqual(calls.punish, []);
  assert.deepEqual(calls.roleChanged, []);
});
