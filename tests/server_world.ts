/**
 * The server machine (actors/server.ts) with real salon and connection
 * children, fake effects wired as runtime/hub.ts wires the real ones, and
 * xstate's SimulatedClock: the world the server machine tests run in
 * (server_machine_test.ts, presence_machine_test.ts).
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Actor, type AnyActorRef, createActor, SimulatedClock } from "xstate";
import type { SalonPolicy } from "../config/salons.ts";
import type { ConnectionDeps, ConnectionEvent, ConnectionLimits } from "../actors/connection.ts";
import type { SalonDeps, SalonInput } from "../actors/salon.ts";
import {
  type DirectResult,
  type SalonPort,
  salonSystemId,
  serverMachine,
  startConnection,
} from "../actors/server.ts";
import type { Session } from "../actors/session.ts";
import { nameKey } from "../protocol/names.ts";
import { MembershipIndex } from "../runtime/membership_index.ts";
import type { UserSummary } from "../store/store.ts";

/** The simulated start time. */
export const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);

/** Connection limits of the world (the defaults). */
export const LIMITS: ConnectionLimits = {
  ratePerSecond: 5,
  burst: 10,
  maxText: 2000,
  helloTimeoutMs: 10_000,
  authTimeoutMs: 30_000,
  floodMs: 5_000,
  backlog: 40,
  backlogBytes: 16 * 1024,
  requestBurst: 40,
  requestPerSecond: 20,
};

/** A frame sent to a session or socket, parsed, with the simulated time it was sent. */
export interface Sent {
  type: string;
  ref?: string;
  code?: string;
  changes?: Array<{ username: string; status: string }>;
  [key: string]: unknown;
}

/** A session or a socket that records what it is sent. */
export interface Recorder {
  raw: string[];
  frames: Sent[];
  /** Simulated time of each frame. */
  times: number[];
  closes: Array<{ code: number; reason: string }>;
  /** Bytes the fake socket reports as not yet written (set by a test). */
  backlog: number;
  send(frame: string): void;
  close(code: number, reason: string): void;
  unsent(): number;
}

/** A recorder whose frames are stamped with `clock`. */
export function recorder(clock: SimulatedClock): Recorder {
  const r: Recorder = {
    raw: [],
    frames: [],
    times: [],
    closes: [],
    backlog: 0,
    unsent() {
      return this.backlog; // `this`: sessions are spread copies of a recorder
    },
    send(frame) {
      r.raw.push(frame);
      r.frames.push(JSON.parse(frame));
      r.times.push(clock.now());
    },
    close(code, reason) {
      r.closes.push({ code, reason });
    },
  };
  return r;
}

/** A fake session (not a connection actor) that records what it is sent. */
export type FakeSession = Session & Recorder;

/** Lets resolved promises run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 30; i++) await Promise.resolve();
}

/** A user summary with alias `Username`. */
export function user(
  id: number,
  username: string,
  role: UserSummary["role"] = "member",
): UserSummary {
  const alias = username[0].toUpperCase() + username.slice(1);
  return { id, username, alias, role };
}

/** Test users. */
export const ALICE = user(1, "alice");
/** Test user. */
export const BOB = user(2, "bob");
/** Test user. */
export const CAROL = user(3, "carol");
/** Test user. */
export const DAVE = user(4, "dave");

/** The server and its helpers. */
export interface World {
  clock: SimulatedClock;
  server: Actor<typeof serverMachine>;
  users: Map<string, UserSummary>;
  /** Failures reported by the salons or the server (none expected). */
  errors: string[];
  /** Calls of ServerDeps.commitDirect. */
  directCommits: Array<{ from: Session; to: string; text: string }>;
  /** Makes a fake session (not a connection actor). */
  session(id: string, u: UserSummary): FakeSession;
  up(s: Session): void;
  down(s: Session): void;
  /** Opens a socket through CONNECT and completes its hello as `u`. */
  connect(u: UserSummary): Promise<{ id: string; socket: Recorder; actor: AnyActorRef }>;
  sessionsOf(userId: number): Session[];
  stop(): void;
}

/**
 * The server with two salons (Général: auto, every user a member; Blabla:
 * open, with `blabla` as members), wired like runtime/hub.ts.
 */
export function world(opts: {
  users: UserSummary[];
  blabla?: UserSummary[];
  maxSessions?: number;
  /** `presenceMax` of every salon (default: the machine's, 100). */
  presenceMax?: number;
  /** Further salons (ids from 3), after Général and Blabla. */
  more?: Array<{ name: string; policy: SalonPolicy; members: UserSummary[] }>;
  /** Several instances (issue 15): the salons read who is online elsewhere, as the hub wires it. */
  elsewhere?: boolean;
}) {
  const clock = new SimulatedClock();
  clock.set(T0);
  const users = new Map(opts.users.map((u) => [nameKey(u.username), u]));
  const index = new MembershipIndex();
  const directCommits: World["directCommits"] = [];
  const errors: string[] = [];
  let directId = 0;
  const salonIds: Record<number, number> = {};

  const sessionsOf = (userId: number): Session[] =>
    server.getSnapshot().context.sessions.get(userId) ?? [];
  const salonRef = (key: string) =>
    server.system.get(salonSystemId(key)) as AnyActorRef | undefined;

  const salonDeps: SalonDeps = {
    now: () => clock.now(),
    commit: (m, done) => {
      const id = (salonIds[m.salonId] ?? 0) + 1;
      salonIds[m.salonId] = id;
      done(undefined, id);
    },
    addMember: () => Promise.resolve(),
    removeMember: () => Promise.resolve(),
    addJoinRequest: () => Promise.resolve(),
    removeJoinRequest: () => Promise.resolve(),
    history: () => Promise.resolve({ messages: [], more: false }),
    sessionsOf,
    membershipChanged: (userId, key, member) =>
      member ? index.add(userId, key) : index.remove(userId, key),
    notifyModerators: () => {},
    reportError: (message) => errors.push(message),
    ...(opts.elsewhere
      ? { onlineElsewhere: (userId: number) => server.getSnapshot().context.elsewhere.has(userId) }
      : {}),
  };
  const salons: SalonInput[] = [
    {
      salon: { id: 1, name: "Général", key: nameKey("Général"), policy: "auto" },
      members: opts.users,
      pending: [],
      deps: salonDeps,
    },
    {
      salon: { id: 2, name: "Blabla", key: "blabla", policy: "open" },
      members: opts.blabla ?? [],
      pending: [],
      deps: salonDeps,
    },
    ...(opts.more ?? []).map((m, i) => ({
      salon: { id: 3 + i, name: m.name, key: nameKey(m.name), policy: m.policy },
      members: m.members,
      pending: [],
      deps: salonDeps,
    })),
  ];
  if (opts.presenceMax !== undefined) {
    for (const s of salons) s.presenceMax = opts.presenceMax;
  }
  for (const s of salons) for (const m of s.members) index.add(m.id, s.salon.key);

  const connectionDeps: ConnectionDeps = {
    now: () => clock.now(),
    authenticate: (frame) => {
      const name = "token" in frame ? frame.token : frame.username;
      const u = users.get(nameKey(name));
      return u ? Promise.resolve({ user: u, token: `token-${u.username}` }) : Promise.reject(
        new Error("unknown test user"),
      );
    },
    welcome: (session, token, ref) =>
      JSON.stringify({ type: "welcome", user: session.user.username, token, ref }),
    attach: (session) => server.send({ type: "SESSION_UP", session }),
    detach: (session) => server.send({ type: "SESSION_DOWN", session }),
    salon: (name) => salonRef(nameKey(name)),
    direct: (session, ref, to, text) => server.send({ type: "DIRECT", session, ref, to, text }),
    directHistory: () => {},
    moderate: () => {},
    watch: (session, ref, names) => server.send({ type: "WATCH", session, ref, users: names }),
    typingTo: (session, ref, to) => server.send({ type: "TYPING_TO", session, ref, to }),
  };

  const server: Actor<typeof serverMachine> = createActor(serverMachine, {
    systemId: "server",
    clock,
    input: {
      salons,
      maxSessions: opts.maxSessions ?? 5,
      presenceIntervalMs: 1000,
      limits: LIMITS,
      connectionDeps,
      deps: {
        reportError: (message) => errors.push(message),
        now: () => clock.now(),
        drain: () => Promise.resolve(),
        stopped: () => {},
        knownUser: (name) => users.get(nameKey(name)),
        salonsOf: function* (userId) {
          for (const key of index.salonsOf(userId)) {
            const ref = salonRef(key);
            if (ref) yield ref as unknown as SalonPort;
          }
        },
        commitDirect: (from, to, text, done) => {
          directCommits.push({ from, to, text });
          const at = clock.now();
          // Asynchronous, like the real lookup and group commit.
          Promise.resolve().then(() => {
            const target = users.get(nameKey(to));
            let result: DirectResult;
            if (!target) {
              result = {
                ok: false,
                code: "unknown_user",
                message: `there is no user named "${to}"`,
              };
            } else {
              result = {
                ok: true,
                toUserId: target.id,
                item: {
                  id: ++directId,
                  from: { username: from.user.username, alias: from.user.alias },
                  to: { username: target.username, alias: target.alias },
                  text,
                  at: new Date(at).toISOString(),
                },
              };
            }
            done(result);
          });
        },
      },
    },
  });
  server.start();

  let counter = 0;
  const w: World = {
    clock,
    server,
    users,
    errors,
    directCommits,
    session: (id, u) => ({ id, user: u, ...recorder(clock) }) as FakeSession,
    up: (s) => server.send({ type: "SESSION_UP", session: s }),
    down: (s) => server.send({ type: "SESSION_DOWN", session: s }),
    async connect(u) {
      const id = `conn:${++counter}`;
      const socket = recorder(clock);
      startConnection(server, { id, socket, address: "192.0.2.1" });
      const actor = server.system.get(id) as AnyActorRef;
      assert.ok(actor, "a connection actor is registered in the system under its id");
      const hello: ConnectionEvent = {
        type: "FRAME",
        frame: { type: "hello", token: u.username, ref: "h" },
      };
      actor.send(hello);
      await flush();
      assert.equal(socket.frames[0]?.type, "welcome", `${id} was not welcomed`);
      return { id, socket, actor };
    },
    sessionsOf,
    stop: () => server.stop(),
  };
  return w;
}

/** Runs `fn` in a fresh world, checks that no failure was reported, stops it. */
export async function withWorld(
  opts: Parameters<typeof world>[0],
  fn: (w: World) => Promise<void> | void,
): Promise<void> {
  const w = world(opts);
  try {
    await fn(w);
    assert.deepEqual(w.errors, [], "no failure should have been reported");
  } finally {
    w.stop();
  }
}

/** The `presence` frames a recorder got. */
export function presences(r: Recorder): Sent[] {
  return r.frames.filter((f) => f.type === "presence");
}

/** Advances the simulated clock by `ms` (timers due by then fire). */
export function advance(w: World, ms: number): void {
  w.clock.increment(ms);
}
