/**
 * What a salon channel of the bus may carry (issue 15): anything else —
 * not JSON, `null`, a time `Date` cannot hold, a role this server does not
 * know — is refused before it reaches a salon actor, where `toISOString()`
 * would throw and a forged role would overwrite the user directory.
 */

import assert from "node:assert/strict";
import { decodeSalonPayload } from "../runtime/salon_relay.ts";

const message = { id: 7, at: Date.UTC(2026, 10, 27), f: ["ann", "Ann"], t: "hello" };
const user = { id: 3, username: "bob", alias: "Bob", role: "member" };

Deno.test("salon payloads: messages, a join and a leave decode; the origin is kept", () => {
  const m = decodeSalonPayload(JSON.stringify({ o: "x", m: [{ ...message, me: ["bob"] }] }));
  assert.deepEqual(m, {
    origin: "x",
    messages: [{
      id: 7,
      at: message.at,
      from: { username: "ann", alias: "Ann" },
      text: "hello",
      mentions: ["bob"],
    }],
  });
  assert.deepEqual(decodeSalonPayload(JSON.stringify({ o: "x", j: user, a: true })), {
    origin: "x",
    joined: user,
    announce: true,
  });
  assert.deepEqual(decodeSalonPayload(JSON.stringify({ o: "x", l: 3 })), { origin: "x", left: 3 });
});

Deno.test("salon payloads: hostile ones are refused, never thrown", () => {
  for (const raw of ["", "{", "null", "1", '"m"', "[]", "{}", '{"l":0}', '{"l":-1}', '{"l":1.5}']) {
    assert.equal(decodeSalonPayload(raw), undefined, raw);
  }
  // A forged or unknown role is not a user.
  for (const role of ["owner", "", 1, null]) {
    assert.equal(decodeSalonPayload(JSON.stringify({ j: { ...user, role } })), undefined);
  }
  // Messages that cannot be written are dropped from the batch (MySQL fills their place).
  const bad = [
    { ...message, at: 1e300 },
    { ...message, at: -1 },
    { ...message, at: 1.5 },
    { ...message, at: "now" },
    { ...message, id: 0 },
    { ...message, f: ["ann"] },
    { ...message, t: 5 },
    null,
  ];
  const decoded = decodeSalonPayload(JSON.stringify({ m: [...bad, message] }));
  assert.ok(decoded && "messages" in decoded);
  assert.deepEqual(decoded.messages.map((m) => m.id), [7]);
  // What is kept can be written as the frame's time.
  for (const m of decoded.messages) new Date(m.at).toISOString();
});

// --- salon events (join requests, typing, read markers, edits, slow mode) ---------------------

Deno.test("salon payloads: salon events decode, extra fields of a user dropped", () => {
  const decode = (body: Record<string, unknown>) => decodeSalonPayload(JSON.stringify(body));
  assert.deepEqual(decode({ o: "x", r: { ...user, extra: "no" }, s: 5000 }), {
    origin: "x",
    news: { requested: user, since: 5000 },
  });
  assert.deepEqual(decode({ o: "x", c: 3, x: "rejected" }), {
    origin: "x",
    news: { closed: 3, outcome: "rejected" },
  });
  assert.deepEqual(decode({ o: "x", c: 3, x: "withdrawn" }), {
    origin: "x",
    news: { closed: 3, outcome: "withdrawn" },
  });
  assert.deepEqual(decode({ o: "x", y: user }), { origin: "x", news: { typing: user } });
  assert.deepEqual(decode({ o: "x", rd: 3, n: 12 }), { origin: "x", news: { read: 3, id: 12 } });
  assert.deepEqual(decode({ o: "x", ed: { id: 4, t: "new", at: 9000, me: ["bob"] } }), {
    origin: "x",
    edited: { id: 4, text: "new", editedAt: 9000, mentions: ["bob"] },
  });
  assert.deepEqual(decode({ o: "x", dl: 4 }), { origin: "x", deleted: 4 });
  assert.deepEqual(decode({ o: "x", sm: 0 }), { origin: "x", slowMode: 0 });
  assert.deepEqual(decode({ o: "x", sm: 3600 }), { origin: "x", slowMode: 3600 });
});

Deno.test("salon payloads: hostile salon events are refused, never thrown", () => {
  const long = "x".repeat(300);
  const bad: Array<Record<string, unknown>> = [
    // join requests
    { r: user },
    { r: user, s: -1 },
    { r: user, s: 1e300 },
    { r: user, s: "now" },
    { r: { ...user, role: "owner" }, s: 1 },
    { r: { ...user, id: 0 }, s: 1 },
    { r: { ...user, username: "" }, s: 1 },
    { r: { ...user, alias: long }, s: 1 },
    { r: null, s: 1 },
    // their end: an acceptance is a join, never a `c`
    { c: 3 },
    { c: 3, x: "accepted" },
    { c: 3, x: "REJECTED" },
    { c: 0, x: "rejected" },
    { c: "3", x: "rejected" },
    // typing, read
    { y: "ann" },
    { y: { ...user, role: 1 } },
    { rd: 3 },
    { rd: 3, n: 0 },
    { rd: 3, n: 1.5 },
    { rd: -3, n: 1 },
    // edits and deletes
    { ed: null },
    { ed: [] },
    { ed: { id: 4, t: "x" } },
    { ed: { id: 4, t: 5, at: 1 } },
    { ed: { id: 4, t: "x".repeat(16_001), at: 1 } },
    { ed: { id: 0, t: "x", at: 1 } },
    { ed: { id: 4, t: "x", at: 8.64e15 + 1 } },
    { ed: { id: 4, t: "x", at: 1, me: "bob" } },
    { ed: { id: 4, t: "x", at: 1, me: [] } },
    { ed: { id: 4, t: "x", at: 1, me: [1] } },
    { ed: { id: 4, t: "x", at: 1, me: Array(21).fill("bob") } },
    { dl: 0 },
    { dl: "4" },
    // slow mode
    { sm: -1 },
    { sm: 3601 },
    { sm: 1.5 },
    { sm: "10" },
    { sm: null },
  ];
  for (const body of bad) {
    assert.equal(decodeSalonPayload(JSON.stringify(body)), undefined, JSON.stringify(body));
  }
});
