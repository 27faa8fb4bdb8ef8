/**
 * Moderation across instances (issue 15, item 2, with the recovery of items
 * 3/4): kicks, bans, unbans, mutes and their expiry, role changes,
 * credential revocations, announcements and reports reach the user's (or
 * every, or every moderator's) sessions on every instance, over real
 * sockets on instances sharing one fresh MariaDB database and one Redis; an
 * instance whose publications the bus loses is caught up with by the
 * others' check. The decoder of the `users` channel is tried with hostile
 * payloads. Cluster tests need `CAUSERIE_TEST_MYSQL_URL` and
 * `CAUSERIE_TEST_BUS_URL`.
 */

import assert from "node:assert/strict";
import { decodeUserEvent, encodeUserEvent, type UserEvent } from "../runtime/cluster_users_wire.ts";
import { parseWireBody } from "../runtime/cluster_channel.ts";
import type { MuteRecord, SanctionRecord } from "../store/store.ts";
import { eventually, privateRedis } from "./bus_fixture.ts";
import {
  type Cluster,
  clusterTest,
  type Instance,
  startCluster,
  TEST_CHECK_MS,
} from "./cluster_fixture.ts";
import { adminRun } from "./mysql_fixture.ts";
import {
  assertErrorFrame,
  assertServed,
  type Frame,
  http,
  loginHttp,
  registerHttp,
  TestClient,
  WAIT_MS,
} from "./ws_client.ts";

const GENERAL = "Général";

/** Budgets wide enough for tests that register many users from one address. */
const ENV = {
  CAUSERIE_REGISTER_PER_ADDRESS_PER_HOUR: "0",
  CAUSERIE_REGISTER_PER_MINUTE: "0",
};

/** The password of `name`. */
const pw = (name: string) => `${name} long password`;

/** Registers `name` on `inst`, with `role` set in MySQL before any session. */
async function account(
  cluster: Cluster,
  inst: Instance,
  name: string,
  role: "member" | "moderator" | "admin" = "member",
): Promise<void> {
  await registerHttp(inst.url, name, name.toUpperCase(), pw(name));
  if (role !== "member") {
    await adminRun(cluster.db.name, "UPDATE users SET role = ? WHERE username = ?", [role, name]);
  }
}

/** A socket to `inst` with `hello` sent; resolves with the client and its first answer. */
async function hello(
  inst: Instance,
  name: string,
  frame: Record<string, unknown> = { username: name, password: pw(name) },
): Promise<{ client: TestClient; reply: Frame }> {
  const client = await TestClient.connect(`${inst.url.replace("http", "ws")}/ws`, name);
  client.send({ type: "hello", ...frame, ref: "hello" });
  const reply = await client.next((f) => f.ref === "hello", WAIT_MS, "the hello's answer");
  return { client, reply };
}

/** A welcomed session of `name` on `inst`. */
async function open(inst: Instance, name: string, label = name): Promise<TestClient> {
  const { client, reply } = await hello(inst, name);
  assert.equal(reply.type, "welcome", `${label}: ${JSON.stringify(reply)}`);
  return client;
}

/** Closes clients still open. */
async function closeAll(clients: TestClient[]): Promise<void> {
  await Promise.all(clients.filter((c) => c.isOpen).map((c) => c.close()));
}

/** A `say` in Général; resolves with its answer. */
function say(c: TestClient, text = "hi"): Promise<Frame> {
  return c.request({ type: "say", salon: GENERAL, text });
}

/** An admin's bearer header on `inst`. */
async function bearer(inst: Instance, name: string): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await loginHttp(inst.url, name, pw(name))}` };
}

/** Asserts that a hello of `name` on `inst` is refused `banned` then closed 4403. */
async function assertHelloBanned(inst: Instance, name: string, kick: boolean): Promise<void> {
  const { client, reply } = await hello(inst, name);
  assert.equal(reply.type, "error", JSON.stringify(reply));
  assert.equal(reply.code, "banned", JSON.stringify(reply));
  assert.equal(typeof reply.until === "string", kick, JSON.stringify(reply));
  assert.equal((await client.waitClosed()).code, 4403);
}

clusterTest(
  "cluster users: a kick on A closes the target's sessions on A and B (kicked, 4403); no hello on B until an unban made on B",
  async () => {
    const cluster = await startCluster({ inProcess: 2, env: ENV });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      await account(cluster, a, "mod", "moderator");
      await account(cluster, a, "bob");
      const mod = await open(a, "mod");
      const bobA = await open(a, "bob", "bob on A");
      const bobB = await open(b, "bob", "bob on B");
      const token = (await hello(b, "bob")).reply.token as string;
      clients.push(mod, bobA, bobB);
      const ok = await mod.request({ type: "kick", username: "bob", reason: "calm", minutes: 5 });
      assert.equal(ok.type, "ok", JSON.stringify(ok));
      const expected = { type: "kicked", until: ok.until, reason: "calm" };
      for (const c of [bobA, bobB]) {
        assert.deepEqual(await c.nextOfType("kicked"), expected);
        assert.equal((await c.waitClosed()).code, 4403);
      }
      // B refuses the kicked user whatever the hello carries (MySQL holds the kick).
      await assertHelloBanned(b, "bob", true);
      const withToken = await hello(b, "bob", { token });
      assert.equal(withToken.reply.code, "banned");
      assert.equal(withToken.reply.until, ok.until);
      assert.equal((await withToken.client.waitClosed()).code, 4403);
      assert.equal(
        (await http(b.url, "POST", "/api/login", { username: "bob", password: pw("bob") })).status,
        403,
      );
      // An unban on B lifts it for everyone, A included.
      const modB = await open(b, "mod", "mod on B");
      clients.push(modB);
      const lifted = await modB.request({ type: "unban", username: "bob" });
      assert.deepEqual([lifted.type, lifted.lifted], ["ok", 1]);
      clients.push(await open(a, "bob", "bob on A again"), await open(b, "bob", "bob on B again"));
      // A's sanction actor was lifted too (nothing left of the kick in A's actor tree).
      await eventually(
        () => !a.server!.hub.actorTree().some((x) => x.machine === "sanction"),
        WAIT_MS,
        "A's sanction actor lifted",
      );
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest(
  "cluster users: a ban over A's admin API closes bob on B (banned, 4403) and B refuses him; an unban over B's API lets him in on A",
  async () => {
    const cluster = await startCluster({ inProcess: 2, env: ENV });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      await account(cluster, a, "root", "admin");
      await account(cluster, a, "bob");
      const bobB = await open(b, "bob", "bob on B");
      clients.push(bobB);
      const res = await http(a.url, "POST", "/admin/users/bob/ban", { reason: "spam" }, {
        ...await bearer(a, "root"),
      });
      assert.ok(res.status < 300, res.text);
      assert.deepEqual(await bobB.nextOfType("banned"), { type: "banned", reason: "spam" });
      assert.equal((await bobB.waitClosed()).code, 4403);
      await assertHelloBanned(b, "bob", false);
      const unban = await http(b.url, "DELETE", "/admin/users/bob/ban", undefined, {
        ...await bearer(b, "root"),
      });
      assert.ok(unban.status < 300, unban.text);
      clients.push(await open(a, "bob", "bob on A after the unban"));
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest(
  "cluster users: a mute on A: bob on B gets muted and his say is refused as on one process; an unmute on B reaches A and B",
  async () => {
    const cluster = await startCluster({ inProcess: 2, env: ENV });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      await account(cluster, a, "mod", "moderator");
      await account(cluster, a, "bob");
      const mod = await open(a, "mod");
      const bobA = await open(a, "bob", "bob on A");
      const bobB = await open(b, "bob", "bob on B");
      clients.push(mod, bobA, bobB);
      const ok = await mod.request({ type: "mute", username: "bob", minutes: 10, reason: "calm" });
      assert.equal(ok.type, "ok", JSON.stringify(ok));
      const muted = { type: "muted", until: ok.until, reason: "calm" };
      assert.deepEqual(await bobA.nextOfType("muted"), muted);
      assert.deepEqual(await bobB.nextOfType("muted"), muted);
      for (const c of [bobA, bobB]) {
        const refused = await say(c);
        assertErrorFrame(refused, "muted", refused.ref, { withUntil: true });
        assert.equal(refused.until, ok.until);
      }
      // A session opened on B later is told at once (B's MuteBook holds the mute).
      const late = await open(b, "bob", "bob on B, later");
      clients.push(late);
      assert.deepEqual(await late.nextOfType("muted"), muted);

      const modB = await open(b, "mod", "mod on B");
      clients.push(modB);
      const lifted = await modB.request({ type: "unmute", username: "bob" });
      assert.deepEqual([lifted.type, lifted.lifted], ["ok", 1]);
      for (const c of [bobA, bobB, late]) {
        assert.deepEqual(await c.nextOfType("unmuted"), { type: "unmuted" });
      }
      assert.equal((await say(bobA)).type, "ok");
      assert.equal((await say(bobB)).type, "ok");

      // A mute in one salon: the same on B, and only there.
      assert.equal((await bobB.request({ type: "join", salon: "Blabla" })).type, "joined");
      const inBlabla = await mod.request({ type: "mute", username: "bob", salon: "Blabla" });
      assert.equal(inBlabla.type, "ok", JSON.stringify(inBlabla));
      assert.deepEqual(await bobB.nextOfType("muted"), {
        type: "muted",
        salon: "Blabla",
        until: inBlabla.until,
      });
      const there = await bobB.request({ type: "say", salon: "Blabla", text: "x" });
      assertErrorFrame(there, "muted", there.ref, { withUntil: true });
      assert.equal(there.until, inBlabla.until);
      assert.equal((await say(bobB)).type, "ok", "Général is not muted");
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest(
  "cluster users: a short mute made on A runs out on A and on B at its stored end",
  async () => {
    const cluster = await startCluster({ inProcess: 2, env: ENV });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      await account(cluster, a, "mod", "moderator");
      await account(cluster, a, "bob");
      const mod = await open(a, "mod");
      const bobA = await open(a, "bob", "bob on A");
      const bobB = await open(b, "bob", "bob on B");
      clients.push(mod, bobA, bobB);
      const ok = await mod.request({ type: "mute", username: "bob", minutes: 0.03 });
      assert.equal(ok.type, "ok", JSON.stringify(ok));
      const until = Date.parse(ok.until);
      await bobB.nextOfType("muted");
      const refused = await say(bobB);
      assert.equal(refused.code, "muted", JSON.stringify(refused));
      for (const c of [bobA, bobB]) {
        assert.deepEqual(await c.nextOfType("unmuted"), { type: "unmuted" });
        assert.ok(Date.now() >= until, "not before the stored end");
      }
      assert.equal((await say(bobB)).type, "ok");
      assert.equal((await say(bobA)).type, "ok");
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest(
  "cluster users: a role change over A's admin API reaches bob's live session on B (reports to moderators), and so does a demotion",
  async () => {
    const cluster = await startCluster({ inProcess: 2, env: ENV });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      await account(cluster, a, "root", "admin");
      await account(cluster, a, "mod", "moderator");
      await account(cluster, a, "bob");
      await account(cluster, a, "ann");
      await account(cluster, a, "cat");
      await account(cluster, a, "kim");
      const bobB = await open(b, "bob", "bob on B");
      const modB = await open(b, "mod", "mod on B");
      const ann = await open(a, "ann");
      const cat = await open(a, "cat");
      clients.push(bobB, modB, ann, cat);
      const headers = await bearer(a, "root");
      const report = async () => {
        const said = await say(ann, `look ${ann.ref()}`);
        const ok = await cat.request({ type: "report", salon: GENERAL, id: said.id });
        assert.equal(ok.type, "ok", JSON.stringify(ok));
        await modB.next((f) => f.type === "report" && f.report.id === ok.report, WAIT_MS, "report");
        return ok.report as number;
      };

      const promoted = await http(a.url, "PUT", "/admin/users/bob/role", { role: "moderator" }, {
        ...headers,
      });
      assert.equal(promoted.status, 200, promoted.text);
      // Wait until B applied it: a report made now reaches bob on B, without reconnecting.
      await eventually(
        async () => {
          const id = await report();
          return bobB.frames.some((f) => f.type === "report" && f.report.id === id);
        },
        WAIT_MS,
        "bob on B, promoted on A, gets reports",
      );
      // And he moderates from B.
      const kicked = await bobB.request({ type: "kick", username: "kim", minutes: 1 });
      assert.equal(kicked.type, "ok", JSON.stringify(kicked));

      const demoted = await http(a.url, "PUT", "/admin/users/bob/role", { role: "member" }, {
        ...headers,
      });
      assert.equal(demoted.status, 200, demoted.text);
      await eventually(
        async () => {
          const id = await report();
          // mod on B got it (same instance, same delivery): bob did not.
          return !bobB.frames.some((f) => f.type === "report" && f.report.id === id);
        },
        WAIT_MS,
        "bob on B, demoted on A, no longer gets reports",
      );
      const refused = await bobB.request({ type: "unban", username: "kim" });
      assertErrorFrame(refused, "forbidden", refused.ref);
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest(
  "cluster users: a password change on A closes bob's other sessions on B with 4401; the session that changed it stays",
  async () => {
    const cluster = await startCluster({ inProcess: 2, env: ENV });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      await account(cluster, a, "bob");
      const token = await loginHttp(a.url, "bob", pw("bob"));
      const kept = await hello(b, "bob", { token });
      assert.equal(kept.reply.type, "welcome");
      const other = await open(b, "bob", "bob's other session on B");
      const otherA = await open(a, "bob", "bob's other session on A");
      clients.push(kept.client, other, otherA);
      const res = await http(a.url, "POST", "/api/password", {
        current: pw("bob"),
        next: "a brand new password",
      }, { authorization: `Bearer ${token}` });
      assert.equal(res.status, 204, res.text);
      assert.equal((await other.waitClosed()).code, 4401);
      assert.equal((await otherA.waitClosed()).code, 4401);
      await assertServed(kept.client);
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest(
  "cluster users: an announcement on A reaches every session on A, B and C exactly once",
  async () => {
    const cluster = await startCluster({ inProcess: 3, env: ENV });
    const clients: TestClient[] = [];
    try {
      const [a, b, c] = cluster.instances;
      await account(cluster, a, "mod", "moderator");
      for (const n of ["ann", "bob", "cat"]) await account(cluster, a, n);
      const mod = await open(a, "mod");
      const readers = [await open(a, "ann"), await open(b, "bob"), await open(c, "cat")];
      const bob2 = await open(b, "bob", "bob's second session");
      readers.push(bob2);
      clients.push(mod, ...readers);
      const ok = await mod.request({ type: "announce", text: "maintenance at noon" });
      assert.equal(ok.type, "ok");
      const notices: Frame[] = [];
      for (const r of [mod, ...readers]) notices.push(await r.nextOfType("notice"));
      for (const n of notices) assert.deepEqual(n, notices[0], "the same frame everywhere");
      assert.equal(notices[0].text, "maintenance at noon");
      // A second announcement is a marker: once it arrived, a duplicate of the first would have.
      await mod.request({ type: "announce", text: "second" });
      for (const r of [mod, ...readers]) {
        await r.next((f) => f.type === "notice" && f.text === "second", WAIT_MS, "second");
        assert.equal(r.frames.filter((f) => f.type === "notice").length, 2, "each once");
      }
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest(
  "cluster users: a report on A reaches a moderator on B; its resolution on B reaches a moderator on A",
  async () => {
    const cluster = await startCluster({ inProcess: 2, env: ENV });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      await account(cluster, a, "mod", "moderator");
      await account(cluster, a, "sue", "moderator");
      await account(cluster, a, "ann");
      await account(cluster, a, "kim");
      const modB = await open(b, "mod", "mod on B");
      const sueA = await open(a, "sue", "sue on A");
      const ann = await open(a, "ann");
      const kim = await open(a, "kim");
      clients.push(modB, sueA, ann, kim);
      const said = await say(kim, "rude words");
      const ok = await ann.request({ type: "report", salon: GENERAL, id: said.id, reason: "rude" });
      assert.equal(ok.type, "ok", JSON.stringify(ok));
      const onA = await sueA.nextOfType("report");
      const onB = await modB.nextOfType("report");
      assert.deepEqual(onB, onA, "the same frame as on the reporter's instance");
      assert.equal(onB.report.id, ok.report);
      assert.equal(onB.report.reason, "rude");
      const resolved = await modB.request({ type: "resolve_report", report: ok.report });
      assert.equal(resolved.type, "ok", JSON.stringify(resolved));
      assert.deepEqual(await sueA.nextOfType("report_resolved"), {
        type: "report_resolved",
        report: ok.report,
        by: { username: "mod", alias: "MOD" },
      });
      assert.equal(ann.frames.some((f) => f.type === "report"), false, "not to members");
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

clusterTest(
  "cluster users: publications lost by the bus: B's check enforces A's mute, unmute, kick and role change within the check period",
  async () => {
    const cluster = await startCluster({ inProcess: 2, env: ENV, dropUserPublishesOn: [0] });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      await account(cluster, a, "root", "admin");
      await account(cluster, a, "mod", "moderator");
      await account(cluster, a, "bob");
      await account(cluster, a, "cat");
      const mod = await open(a, "mod");
      const bobB = await open(b, "bob", "bob on B");
      const catB = await open(b, "cat", "cat on B");
      const modB = await open(b, "mod", "mod on B");
      clients.push(mod, bobB, catB, modB);
      // Within a few check periods (the test's timings: TEST_CHECK_MS).
      const within = 10 * TEST_CHECK_MS + 2000;

      const ok = await mod.request({ type: "mute", username: "bob", minutes: 10 });
      assert.equal(ok.type, "ok", JSON.stringify(ok));
      assert.deepEqual(await bobB.nextOfType("muted"), { type: "muted", until: ok.until });
      const refused = await say(bobB);
      assertErrorFrame(refused, "muted", refused.ref, { withUntil: true });

      assert.equal((await mod.request({ type: "unmute", username: "bob" })).type, "ok");
      assert.deepEqual(
        await bobB.next(
          (f) => f.type === "unmuted",
          within,
          "unmuted by B's check",
        ),
        { type: "unmuted" },
      );
      assert.equal((await say(bobB)).type, "ok");

      const promoted = await http(a.url, "PUT", "/admin/users/bob/role", { role: "moderator" }, {
        ...await bearer(a, "root"),
      });
      assert.equal(promoted.status, 200, promoted.text);
      await eventually(
        async () => {
          // One probe per check period: faster ones would only spend mod's message bucket.
          const said = await say(modB, `x ${modB.ref()}`);
          assert.equal(said.type, "ok", JSON.stringify(said));
          const rep = await catB.request({ type: "report", salon: GENERAL, id: said.id });
          await modB.next((f) => f.type === "report" && f.report.id === rep.report, WAIT_MS, "rep");
          if (bobB.frames.some((f) => f.type === "report" && f.report.id === rep.report)) {
            return true;
          }
          await new Promise((r) => setTimeout(r, TEST_CHECK_MS));
          return false;
        },
        within,
        "bob on B holds the role stored on A",
      );

      const kicked = await mod.request({ type: "kick", username: "cat", minutes: 5 });
      assert.equal(kicked.type, "ok", JSON.stringify(kicked));
      assert.deepEqual(await catB.next((f) => f.type === "kicked", within, "kicked by B's check"), {
        type: "kicked",
        until: kicked.until,
        reason: "",
      });
      assert.equal((await catB.waitClosed()).code, 4403);
    } finally {
      await closeAll(clients);
      await cluster.dispose();
    }
  },
);

// --- the `users` channel's decoder (no cluster needed) -----------------------

const T = Date.UTC(2026, 10, 27);
const sanction: SanctionRecord = {
  id: 4,
  userId: 3,
  kind: "kick",
  until: T + 60_000,
  reason: "",
  createdAt: T,
};
const mute: MuteRecord = {
  id: 5,
  userId: 3,
  salonId: null,
  until: T + 60_000,
  reason: "x",
  createdAt: T,
};

/** The events of every kind, as a desk makes them. */
const EVENTS: UserEvent[] = [
  {
    kind: "punish",
    userId: 3,
    frame: JSON.stringify({ type: "kicked", until: new Date(T).toISOString(), reason: "" }),
  },
  { kind: "punish", userId: 3, frame: JSON.stringify({ type: "banned", reason: "spam" }) },
  { kind: "sanction", sanction, username: "bob" },
  { kind: "sanction", sanction: { ...sanction, kind: "ban", until: null }, username: "bob" },
  { kind: "lift_sanctions", userId: 3, ids: [4] },
  { kind: "requests_withdrawn", userId: 3, salonIds: [2, 3] },
  {
    kind: "broadcast",
    frame: JSON.stringify({ type: "notice", text: "hi", at: "2026-11-27T00:00:00.000Z" }),
  },
  { kind: "role", userId: 3, role: "moderator" },
  { kind: "mute", mute, username: "bob", replaced: [1] },
  { kind: "mute", mute: { ...mute, salonId: 2 }, username: "bob", replaced: [] },
  { kind: "lift_mutes", userId: 3, ids: [5] },
  {
    kind: "moderators",
    frame: JSON.stringify({ type: "report", report: { id: 9, salon: GENERAL } }),
  },
  {
    kind: "moderators",
    frame: JSON.stringify({
      type: "report_resolved",
      report: 9,
      by: { username: "m", alias: "M" },
    }),
  },
  { kind: "revoked", revoked: { userId: 3, cause: "password_changed", except: "abc" } },
  { kind: "revoked", revoked: { userId: 3, cause: "logout", only: "abc" } },
  { kind: "revoked", revoked: { userId: 3, cause: "logout_all" } },
];

/** Encodes as the channel would send it, with an origin, and decodes what arrives. */
function roundTrip(event: UserEvent): UserEvent | undefined {
  const body = parseWireBody(JSON.stringify({ o: "x", ...encodeUserEvent(event) }));
  return body && decodeUserEvent(body);
}

Deno.test("users channel: every kind decodes to what was encoded", () => {
  for (const e of EVENTS) assert.deepEqual(roundTrip(e), e, e.kind);
});

Deno.test("users channel: hostile bodies are refused whole, never thrown", () => {
  const decode = (b: Record<string, unknown>) => decodeUserEvent(b);
  const base = (e: UserEvent) => encodeUserEvent(e);
  const hostile: Array<Record<string, unknown>> = [
    {},
    { k: "nuke" },
    { k: 1 },
    { k: "__proto__" },
    { k: "toString" },
    // Ids: zero, negative, fractional, huge, strings.
    ...[0, -1, 1.5, 2 ** 53, 1e308, "3", null].map((u) => ({ ...base(EVENTS[0]), u })),
    ...[0, -1, 1.5, 2 ** 53, "4"].map((id) => ({ ...base(EVENTS[4]), ids: [id] })),
    { ...base(EVENTS[4]), ids: Array.from({ length: 1001 }, (_, i) => i + 1) },
    { ...base(EVENTS[4]), ids: "4" },
    // Frames: not JSON, another type, missing or wrong fields, oversized.
    { ...base(EVENTS[0]), f: "{" },
    { ...base(EVENTS[0]), f: JSON.stringify({ type: "notice", text: "x", at: "2026-11-27" }) },
    { ...base(EVENTS[0]), f: JSON.stringify({ type: "kicked", reason: "" }) },
    { ...base(EVENTS[0]), f: JSON.stringify({ type: "kicked", until: "soon", reason: "" }) },
    { ...base(EVENTS[0]), f: JSON.stringify({ type: "banned", reason: 5 }) },
    { ...base(EVENTS[0]), f: { type: "banned", reason: "" } },
    { ...base(EVENTS[6]), f: JSON.stringify({ type: "notice", text: 5, at: "2026-11-27" }) },
    {
      ...base(EVENTS[6]),
      f: JSON.stringify({ type: "notice", text: "x".repeat(300_000), at: "2026-11-27" }),
    },
    { ...base(EVENTS[6]), f: JSON.stringify({ type: "kicked", until: "2026-11-27", reason: "" }) },
    { ...base(EVENTS[11]), f: JSON.stringify({ type: "report", report: { id: 0 } }) },
    { ...base(EVENTS[11]), f: JSON.stringify({ type: "message", report: { id: 1 } }) },
    { ...base(EVENTS[12]), f: JSON.stringify({ type: "report_resolved", report: 1 }) },
    // Records: times a Date cannot hold, unknown kinds, roles.
    { ...base(EVENTS[2]), s: { ...sanction, until: 1e300 } },
    { ...base(EVENTS[2]), s: { ...sanction, until: null } },
    { ...base(EVENTS[2]), s: { ...sanction, kind: "death" } },
    { ...base(EVENTS[2]), s: { ...sanction, createdAt: -1 } },
    { ...base(EVENTS[2]), s: null },
    { ...base(EVENTS[2]), n: 5 },
    { ...base(EVENTS[7]), r: "owner" },
    { ...base(EVENTS[7]), r: null },
    { ...base(EVENTS[8]), m: { ...mute, until: 8.64e15 + 1 } },
    { ...base(EVENTS[8]), m: { ...mute, salonId: 0 } },
    { ...base(EVENTS[8]), m: { ...mute, reason: 5 } },
    { ...base(EVENTS[8]), m: [] },
    { ...base(EVENTS[13]), r: { userId: 3, cause: "ban" } },
    { ...base(EVENTS[13]), r: { userId: 3, cause: "logout", only: 5 } },
    { ...base(EVENTS[13]), r: { userId: 3, cause: "logout", only: "x".repeat(257) } },
  ];
  for (const b of hostile) {
    assert.equal(decode(b), undefined, JSON.stringify(b).slice(0, 200));
  }
});

clusterTest(
  "cluster users: a mute and a kick made while Redis is down reach B when the bus resubscribes",
  async () => {
    const redis = await privateRedis();
    // A check period far beyond the test: only the resubscription can bring them.
    const cluster = await startCluster({
      inProcess: 2,
      bus: redis.url,
      env: { ...ENV, CAUSERIE_SALON_CHECK_MS: "600000" },
    });
    const clients: TestClient[] = [];
    try {
      const [a, b] = cluster.instances;
      await account(cluster, a, "mod", "moderator");
      await account(cluster, a, "bob");
      await account(cluster, a, "cat");
      const mod = await open(a, "mod");
      const bobB = await open(b, "bob", "bob on B");
      const catB = await open(b, "cat", "cat on B");
      clients.push(mod, bobB, catB);
      await redis.stop();
      const muted = await mod.request({ type: "mute", username: "bob", minutes: 10 });
      assert.equal(muted.type, "ok", JSON.stringify(muted));
      const kicked = await mod.request({ type: "kick", username: "cat", minutes: 5 });
      assert.equal(kicked.type, "ok", JSON.stringify(kicked));
      await redis.start();
      assert.deepEqual(await bobB.next((f) => f.type === "muted", 20_000, "muted"), {
        type: "muted",
        until: muted.until,
      });
      const refused = await say(bobB);
      assertErrorFrame(refused, "muted", refused.ref, { withUntil: true });
      assert.deepEqual(await catB.next((f) => f.type === "kicked", 20_000, "kicked"), {
        type: "kicked",
        until: kicked.until,
        reason: "",
      });
      assert.equal((await catB.waitClosed()).code, 4403);
    } finally {
      await closeAll(clients);
      await cluster.dispose();
      await redis.dispose();
    }
  },
);
