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
