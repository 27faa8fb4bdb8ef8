/**
 * The salon machine as a replica of a salon held by several instances
 * (actors/salon_replica_requests.ts, issue 15), with fake deps: requests
 * stored elsewhere, decisions MySQL gave to another instance, typing from
 * elsewhere, and reloads from MySQL that are dropped when the replica moved
 * since the read began.
 */

import assert from "node:assert/strict";
import { createActor } from "xstate";
import { type SalonDeps, type SalonEvent, salonMachine } from "../actors/salon.ts";
import type { Session } from "../actors/session.ts";
import type { UserSummary } from "../store/store.ts";

const ANN: UserSummary = { id: 1, username: "ann", alias: "Ann", role: "member" };
const BOB: UserSummary = { id: 2, username: "bob", alias: "Bob", role: "member" };
const CID: UserSummary = { id: 3, username: "cid", alias: "Cid", role: "member" };

/** A session recording the frames it gets (`salon_stats` aside). */
function fakeSession(user: UserSummary) {
  const frames: Array<Record<string, unknown>> = [];
  const session: Session & { frames: typeof frames } = {
    id: `s${user.id}`,
    user,
    frames,
    send(frame: string) {
      if (!frame.startsWith('{"type":"salon_stats"')) frames.push(JSON.parse(frame));
    },
    close() {},
  } as Session & { frames: typeof frames };
  return session;
}

/** A salon of policy `approval` with members ANN and BOB online, and `closeRequest`. */
function replica(closeRequest: (userId: number) => Promise<boolean> = () => Promise.resolve(true)) {
  const sessions = new Map([ANN, BOB, CID].map((u) => [u.id, fakeSession(u)]));
  const moderatorFrames: string[] = [];
  const news: unknown[] = [];
  const deps = {
    now: () => 1_000_000,
    commit: () => {},
    addMember: () => Promise.resolve(),
    removeMember: () => Promise.resolve(),
    addJoinRequest: () => Promise.resolve(),
    removeJoinRequest: () => Promise.resolve(),
    history: () => Promise.resolve({ messages: [], more: false }),
    sessionsOf: (id: number) => [sessions.get(id)!],
    membershipChanged: () => {},
    notifyModerators: (frame: string) => moderatorFrames.push(frame),
    reportError: () => {},
    relayNews: (_salonId: number, n: unknown) => news.push(n),
    closeRequest: (_salonId: number, userId: number) => closeRequest(userId),
  } as unknown as SalonDeps;
  const actor = createActor(salonMachine, {
    input: {
      salon: { id: 7, name: "Compta", key: "compta", policy: "approval" },
      members: [ANN, BOB],
      pending: [],
      deps,
    },
  });
  actor.start();
  actor.send({ type: "SESSION_UP", session: sessions.get(1)! });
  actor.send({ type: "SESSION_UP", session: sessions.get(2)! });
  const context = () => actor.getSnapshot().context;
  return {
    actor,
    sessions,
    moderatorFrames,
    news,
    context,
    send: (e: SalonEvent) => actor.send(e),
    children: () => Object.keys(actor.getSnapshot().children),
  };
}

const flush = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

Deno.test("salon replica: a request stored elsewhere is pending here, moderators here told", () => {
  const r = replica();
  r.send({ type: "REQUESTED_ELSEWHERE", user: CID, since: 5000 });
  assert.ok(r.context().pending.has(CID.id));
  assert.deepEqual(r.children(), ["request:compta:3"]);
  assert.deepEqual(r.sessions.get(3)!.frames, [{ type: "join_pending", salon: "Compta" }]);
  assert.deepEqual(r.moderatorFrames.map((f) => JSON.parse(f)), [{
    type: "join_request",
    salon: "Compta",
    username: "cid",
    alias: "Cid",
    at: new Date(5000).toISOString(),
  }]);
  // Told twice (a second publication): moderators hear of it once.
  r.send({ type: "REQUESTED_ELSEWHERE", user: CID, since: 5000 });
  assert.equal(r.moderatorFrames.length, 1);
  r.actor.stop();
});

Deno.test("salon replica: a decision MySQL gave to another instance answers not_pending", async () => {
  const r = replica(() => Promise.resolve(false));
  r.send({ type: "REQUESTED_ELSEWHERE", user: CID, since: 5000 });
  const replies: Array<string | undefined> = [];
  r.send({
    type: "DECIDE",
    userId: CID.id,
    accept: true,
    decider: { reply: (e?: Error) => replies.push(e?.message) },
  });
  await flush();
  assert.deepEqual(replies, ["not_pending"]);
  assert.ok(!r.context().members.has(CID.id), "nothing applied here");
  // The winner's rejection arrives: the copy ends, cid's session here hears of it.
  r.send({ type: "REQUEST_CLOSED_ELSEWHERE", userId: CID.id, outcome: "rejected" });
  assert.ok(!r.context().pending.has(CID.id));
  assert.deepEqual(r.children(), []);
  assert.deepEqual(r.sessions.get(3)!.frames.at(-1), { type: "join_rejected", salon: "Compta" });
  r.actor.stop();
});

Deno.test("salon replica: a leave racing a decision MySQL gave to another instance answers invalid, not internal", async () => {
  const r = replica(() => Promise.resolve(false));
  const errors: string[] = [];
  r.context().deps.reportError = (m: string) => errors.push(m);
  r.send({ type: "REQUESTED_ELSEWHERE", user: CID, since: 5000 });
  const cid = r.sessions.get(3)!;
  r.send({ type: "SESSION_UP", session: cid });
  r.send({ type: "LEAVE", session: cid, ref: "l1" });
  await flush();
  const reply = cid.frames.find((f) => f.ref === "l1");
  assert.equal(reply?.type, "error", JSON.stringify(cid.frames));
  assert.equal(reply?.code, "invalid");
  assert.match(String(reply?.message), /Compta was just decided/);
  assert.deepEqual(errors, [], "a lost race is no failure of the server");
  // The winner's acceptance follows: cid is a member here too.
  r.send({ type: "JOINED_ELSEWHERE", user: CID, announce: true });
  assert.ok(r.context().members.has(CID.id));
  r.actor.stop();
});

Deno.test("salon replica: a decision here is told to the others", async () => {
  const r = replica();
  r.send({ type: "REQUESTED_ELSEWHERE", user: CID, since: 5000 });
  r.send({ type: "DECIDE", userId: CID.id, accept: false, decider: { reply: () => {} } });
  await flush();
  assert.deepEqual(r.news, [{ closed: CID.id, outcome: "rejected" }]);
  r.actor.stop();
});

Deno.test("salon replica: typing from elsewhere reaches the others here, never the typer", () => {
  const r = replica();
  r.send({ type: "TYPED_ELSEWHERE", user: ANN });
  assert.deepEqual(r.sessions.get(2)!.frames, [{
    type: "typing",
    salon: "Compta",
    user: { username: "ann", alias: "Ann" },
  }]);
  assert.deepEqual(r.sessions.get(1)!.frames, []);
  // A non-member's typing is dropped.
  r.send({ type: "TYPED_ELSEWHERE", user: CID });
  assert.equal(r.sessions.get(2)!.frames.length, 1);
  r.actor.stop();
});

Deno.test("salon replica: a reload read before a change here is dropped", () => {
  const r = replica();
  const epoch = r.context().epoch;
  r.send({ type: "REQUESTED_ELSEWHERE", user: CID, since: 5000 }); // the replica moves
  r.send({ type: "MEMBERS_RELOADED", add: [], remove: [BOB.id], epoch });
  assert.ok(r.context().members.has(BOB.id), "a stale read does not remove bob");
  r.send({ type: "MEMBERS_RELOADED", add: [CID], remove: [BOB.id], epoch: r.context().epoch });
  assert.ok(!r.context().members.has(BOB.id));
  assert.ok(r.context().members.has(CID.id));
  assert.deepEqual(r.sessions.get(2)!.frames.at(-1), { type: "left", salon: "Compta" });
  assert.deepEqual(r.sessions.get(3)!.frames.at(-1), { type: "joined", salon: "Compta" });
  assert.deepEqual(r.sessions.get(1)!.frames.at(-1), {
    type: "member_joined",
    salon: "Compta",
    user: { username: "cid", alias: "Cid" },
  });
  assert.deepEqual(r.children(), [], "cid's request copy ended with the membership");
  r.actor.stop();
});

Deno.test("salon replica: reloaded requests are added, and dropped unless a decision is being stored", async () => {
  const r = replica(() => Promise.resolve(false));
  r.send({
    type: "REQUESTS_RELOADED",
    add: [{ user: CID, since: 5000 }],
    remove: [],
    epoch: r.context().epoch,
  });
  assert.ok(r.context().pending.has(CID.id));
  assert.equal(r.moderatorFrames.length, 1);
  // A decision here loses to another instance whose outcome the bus lost.
  r.send({ type: "DECIDE", userId: CID.id, accept: true, decider: { reply: () => {} } });
  r.send({ type: "REQUESTS_RELOADED", add: [], remove: [CID.id], epoch: r.context().epoch });
  assert.ok(r.context().pending.has(CID.id), "not dropped while a decision is being stored");
  await flush();
  r.send({ type: "REQUESTS_RELOADED", add: [], remove: [CID.id], epoch: r.context().epoch });
  assert.ok(!r.context().pending.has(CID.id));
  assert.deepEqual(r.children(), []);
  r.actor.stop();
});

Deno.test("salon replica: a request actor left behind by a lost race is swept by the reload", async () => {
  let close!: (ok: boolean) => void;
  const r = replica(() => new Promise<boolean>((res) => close = res));
  r.send({ type: "REQUESTED_ELSEWHERE", user: CID, since: 5000 });
  r.send({ type: "DECIDE", userId: CID.id, accept: true, decider: { reply: () => {} } });
  // The other instance's acceptance arrives while this one is still storing its own decision.
  r.send({ type: "JOINED_ELSEWHERE", user: CID, announce: true });
  assert.deepEqual(r.children(), ["request:compta:3"], "a storing actor is not stopped");
  close(false); // MySQL gave it to the other instance: back to waiting, with no request here
  await flush();
  r.send({ type: "REQUESTS_RELOADED", add: [], remove: [], epoch: r.context().epoch });
  assert.deepEqual(r.children(), []);
  r.actor.stop();
});
