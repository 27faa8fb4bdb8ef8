/**
 * `GET /metrics` (PROTOCOL 5.5): a real server scraped after a short chat;
 * the counters move by what the chat did, every name is `causerie_*`, no
 * username, salon name or text leaks, and `promtool check metrics` accepts
 * the exposition. Also: no credentials, the admin socket, other methods, the
 * event-loop lag sampler, the commit observer, and the Grafana dashboard's
 * queries against what the server exposes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MetricSet } from "../runtime/metrics.ts";
import { MessageWriter } from "../store/message_writer.ts";
import type { NewMessage, Store } from "../store/store.ts";
import { registerWs, startAdminSession } from "./admin_fixture.ts";
import { manualClock } from "./helpers.ts";
import { startTestServer, withRef } from "./ws_client.ts";

/** Names chosen so that a leak into the exposition cannot be a coincidence. */
const ALICE = "zelda_q7";
const BOB = "yorick_q7";
const SALON = "Quetzalcoatl";
const PRIVATE = "Xanadu Privé";
const TEXT = "xylophone-pamplemousse";

/** One sample line `name{labels} value`, keyed by `name{labels}` as printed. */
type Samples = Map<string, number>;

/** The samples of an exposition text (comments skipped). */
function parseSamples(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const cut = line.lastIndexOf(" ");
    samples.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return samples;
}

/** The metric families of an exposition (`# TYPE name type`), by name. */
function families(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (m) out.set(m[1], m[2]);
  }
  return out;
}

/** Every series name a PromQL query may use for these families (`_bucket`, `_sum`, `_count`). */
function seriesNames(fams: Map<string, string>): Set<string> {
  const names = new Set<string>();
  for (const [name, type] of fams) {
    names.add(name);
    if (type === "histogram" || type === "summary") {
      for (const suffix of ["_bucket", "_sum", "_count"]) names.add(name + suffix);
    }
  }
  return names;
}

/** Scrapes `url`/metrics: status 200 and the text. */
async function scrape(url: string, client?: Deno.HttpClient): Promise<string> {
  const res = await fetch(`${url}/metrics`, client ? { client } as RequestInit : {});
  const text = await res.text();
  assert.equal(res.status, 200, text.slice(0, 300));
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return text;
}

/** `after[key] - before[key]` (a missing sample counts as 0 before, and fails after). */
function delta(before: Samples, after: Samples, key: string): number {
  assert.ok(after.has(key), `no sample ${key} in the scrape`);
  return after.get(key)! - (before.get(key) ?? 0);
}

/** Pipes `text` through `promtool check metrics`; false when promtool is not installed. */
async function promtoolCheck(text: string): Promise<{ ok: boolean; output: string } | false> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("promtool", {
      args: ["check", "metrics"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  const dec = new TextDecoder();
  return { ok: out.success, output: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

Deno.test("a short chat moves the counters by what it did; names are causerie_*; no name or text leaks; promtool accepts it", async () => {
  // A frozen clock: the say/direct bucket does not refill during the test, so the burst is exact.
  const clock = manualClock();
  const fx = await startAdminSession({
    env: { CAUSERIE_SALONS: `${SALON}:auto,${PRIVATE}:approval`, CAUSERIE_RATE_BURST: "6" },
    start: { hub: { now: clock.now } },
  });
  try {
    const before = parseSamples(await scrape(fx.srv.url));
    const { client: alice } = await registerWs(fx.srv, ALICE);
    const { client: bob } = await registerWs(fx.srv, BOB);

    // Three salon messages to two online members; one direct to one session each side.
    for (let i = 0; i < 3; i++) {
      const ok = await alice.request({ type: "say", salon: SALON, text: `${TEXT} ${i}` });
      assert.equal(ok.type, "ok", JSON.stringify(ok));
    }
    for (let i = 0; i < 3; i++) await bob.nextOfType("message");
    const sent = await alice.request({ type: "direct", to: BOB, text: TEXT });
    assert.equal(sent.type, "ok", JSON.stringify(sent));
    await bob.nextOfType("direct");
    // A burst of five: 6 - 4 = 2 tokens left, so two are taken and three refused.
    const refs = Array.from({ length: 5 }, () => alice.ref("burst"));
    for (const ref of refs) alice.send({ type: "say", salon: SALON, text: TEXT, ref });
    const answers = await Promise.all(refs.map((ref) => alice.next(withRef(ref))));
    assert.deepEqual(
      answers.map((a) => a.type === "ok" ? "ok" : a.code),
      ["ok", "ok", "rate_limited", "rate_limited", "rate_limited"],
    );
    for (let i = 0; i < 2; i++) await bob.nextOfType("message");
    // A join request waits for a moderator.
    const pending = await bob.request({ type: "join", salon: PRIVATE });
    assert.equal(pending.type, "join_pending", JSON.stringify(pending));

    const during = await scrape(fx.srv.url);
    const mid = parseSamples(during);
    assert.equal(mid.get("causerie_connections"), 2);
    assert.equal(mid.get("causerie_sessions"), 2);
    assert.equal(mid.get("causerie_join_requests_pending"), 1);
    assert.equal(mid.get('causerie_actors{machine="server"}'), 1);
    assert.equal(mid.get('causerie_actors{machine="salon"}'), 2);
    assert.equal(mid.get('causerie_actors{machine="connection"}'), 2);
    assert.equal(mid.get('causerie_actors{machine="joinRequest"}'), 1);

    const mute = await fx.http("POST", `/admin/users/${ALICE}/mute`, { minutes: 1 }, fx.adminToken);
    assert.equal(mute.status, 200, mute.text);
    const kick = await fx.http("POST", `/admin/users/${BOB}/kick`, {}, fx.adminToken);
    assert.equal(kick.status, 200, kick.text);
    assert.equal((await bob.waitClosed()).code, 4403);

    const text = await scrape(fx.srv.url);
    const after = parseSamples(text);
    assert.equal(delta(before, after, 'causerie_messages_total{kind="salon"}'), 5);
    assert.equal(delta(before, after, 'causerie_messages_total{kind="direct"}'), 1);
    // Five messages to two online members, one direct to one session of each user.
    assert.equal(delta(before, after, "causerie_deliveries_total"), 5 * 2 + 2);
    assert.equal(delta(before, after, 'causerie_rate_limited_total{limit="messages"}'), 3);
    assert.equal(delta(before, after, 'causerie_rate_limited_total{limit="requests"}'), 0);
    assert.equal(delta(before, after, 'causerie_sanctions_total{kind="kick"}'), 1);
    assert.equal(delta(before, after, 'causerie_sanctions_total{kind="ban"}'), 0);
    assert.equal(delta(before, after, 'causerie_sanctions_total{kind="mute"}'), 1);
    assert.equal(delta(before, after, "causerie_commit_batch_size_sum"), 6);
    const batches = delta(before, after, "causerie_commit_batch_size_count");
    assert.ok(batches >= 1 && batches <= 6, `${batches} transactions for 6 messages`);
    assert.equal(delta(before, after, "causerie_commit_seconds_count"), batches);
    assert.ok(delta(before, after, "causerie_commit_seconds_sum") > 0);
    // The runtime's process metrics are there, under the prefix.
    assert.ok(after.has("causerie_process_cpu_seconds_total"));
    assert.ok(after.has("causerie_process_resident_memory_bytes"));
    assert.ok(after.has("causerie_nodejs_heap_size_used_bytes"));
    assert.ok(after.has("causerie_event_loop_lag_seconds_count"));

    for (const body of [during, text]) {
      for (const line of body.split("\n")) {
        if (line === "") continue;
        const name = line.startsWith("#") ? line.split(" ")[2] : line.split(/[{ ]/)[0];
        assert.ok(name.startsWith("causerie_"), `not prefixed: ${line}`);
      }
      for (const secret of [ALICE, BOB, SALON, PRIVATE, "Xanadu", TEXT, "pamplemousse"]) {
        assert.ok(!body.toLowerCase().includes(secret.toLowerCase()), `${secret} in /metrics`);
      }
    }

    const checked = await promtoolCheck(text);
    if (checked === false) {
      assert.ok(!Deno.env.get("CI"), "promtool is missing (CI installs Debian's prometheus)");
      console.warn("promtool not installed: `promtool check metrics` skipped");
    } else assert.ok(checked.ok, `promtool check metrics:\n${checked.output}`);
    await alice.close();
  } finally {
    await fx.stop();
  }
});

Deno.test("/metrics needs no credentials, is served on the admin socket too, and answers other methods with the JSON 404", async () => {
  const fx = await startAdminSession();
  try {
    // No Authorization header, and a bad one is ignored rather than refused.
    const open = parseSamples(await scrape(fx.srv.url));
    assert.equal(open.get('causerie_actors{machine="server"}'), 1);
    const res = await fetch(`${fx.srv.url}/metrics`, { headers: { authorization: "Bearer nope" } });
    assert.equal(res.status, 200);
    await res.body?.cancel();

    const head = await fetch(`${fx.srv.url}/metrics`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");

    const onSocket = await fx.sock("GET", "/metrics");
    assert.equal(onSocket.status, 200, onSocket.text.slice(0, 300));
    assert.match(onSocket.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    assert.ok(parseSamples(onSocket.text).has("causerie_sessions"));

    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      for (const call of [fx.http, fx.sock]) {
        const r = await call(method, "/metrics", method === "DELETE" ? undefined : {});
        assert.equal(r.status, 404, `${method}: ${r.text}`);
        assert.equal(r.body?.error?.code, "not_found");
        assert.equal(typeof r.body?.error?.message, "string");
      }
    }
  } finally {
    await fx.stop();
  }
});

Deno.test("causerie_event_loop_lag_seconds sees a blocked event loop", async () => {
  const set = new MetricSet({ lagIntervalMs: 20 });
  try {
    const before = parseSamples(await set.render());
    const blocked = performance.now();
    while (performance.now() - blocked < 200) { /* block the event loop */ }
    // The sampler's timer is past due: it runs before a timer armed now.
    await new Promise((r) => setTimeout(r, 0));
    const after = parseSamples(await set.render());
    const count = delta(before, after, "causerie_event_loop_lag_seconds_count");
    const upTo100ms = delta(before, after, 'causerie_event_loop_lag_seconds_bucket{le="0.1"}');
    assert.ok(count - upTo100ms >= 1, "no observation above 100 ms after a 200 ms block");
    assert.ok(delta(before, after, "causerie_event_loop_lag_seconds_sum") >= 0.15);
  } finally {
    set.stop();
  }
});

Deno.test("the message writer reports each transaction once; only committed messages are counted", async () => {
  let fail = false;
  const store = {
    appendMessages: (batch: NewMessage[]) =>
      fail ? Promise.reject(new Error("disk full")) : Promise.resolve(batch.map((_, i) => i + 1)),
  } as unknown as Store;
  const set = new MetricSet();
  const writer = new MessageWriter(store, () => {}, set);
  try {
    const write = (m: NewMessage) =>
      new Promise<Error | undefined>((resolve) => writer.write(m, (e) => resolve(e)));
    const salon: NewMessage = { kind: "salon", salonId: 1, userId: 1, text: "a", at: 0 };
    const direct: NewMessage = { kind: "direct", fromUserId: 1, toUserId: 2, text: "b", at: 0 };
    await Promise.all([write(salon), write(salon), write(direct)]);
    fail = true;
    assert.ok(await write(salon));
    const s = parseSamples(await set.render());
    assert.equal(s.get('causerie_messages_total{kind="salon"}'), 2);
    assert.equal(s.get('causerie_messages_total{kind="direct"}'), 1);
    // Two transactions (one of three messages, one that failed), both timed.
    assert.equal(s.get("causerie_commit_batch_size_count"), 2);
    assert.equal(s.get("causerie_commit_batch_size_sum"), 4);
    assert.equal(s.get('causerie_commit_batch_size_bucket{le="2"}'), 1);
    assert.equal(s.get("causerie_commit_seconds_count"), 2);
  } finally {
    await writer.close();
    set.stop();
  }
});

Deno.test("the Grafana dashboard is valid and queries only metrics the server exposes", async () => {
  const dashboard = JSON.parse(
    await Deno.readTextFile(new URL("../docs/grafana/causerie.json", import.meta.url)),
  );
  assert.ok(
    dashboard.__inputs?.some((i: { name: string; pluginId: string }) =>
      i.name === "DS_PROMETHEUS" && i.pluginId === "prometheus"
    ),
    "the Prometheus datasource is an import input named DS_PROMETHEUS",
  );
  const srv = await startTestServer();
  let exposed: Set<string>;
  try {
    exposed = seriesNames(families(await scrape(srv.url)));
  } finally {
    await srv.stop();
  }
  const panels: Array<{ title: string; targets?: Array<{ expr: string }>; datasource?: unknown }> =
    (dashboard.panels ?? []).flatMap((p: { panels?: unknown[] }) => [p, ...(p.panels ?? [])]);
  const used = new Set<string>();
  for (const panel of panels) {
    if (!panel.targets) continue;
    assert.deepEqual(
      panel.datasource,
      { type: "prometheus", uid: "${DS_PROMETHEUS}" },
      panel.title,
    );
    for (const { expr } of panel.targets) {
      const names = expr.match(/\bcauserie_[a-z0-9_]+/g) ?? [];
      assert.ok(names.length > 0, `${panel.title}: ${expr} queries no causerie_ metric`);
      for (const name of names) {
        assert.ok(exposed.has(name), `${panel.title}: ${name} is not exposed by the server`);
        used.add(name);
      }
    }
  }
  // The panels an operator looks at first.
  for (
    const name of [
      "causerie_connections",
      "causerie_sessions",
      "causerie_messages_total",
      "causerie_deliveries_total",
      "causerie_commit_seconds_bucket",
      "causerie_rate_limited_total",
      "causerie_event_loop_lag_seconds_bucket",
      "causerie_actors",
    ]
  ) assert.ok(used.has(name), `no panel queries ${name}`);
});
