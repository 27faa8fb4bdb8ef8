/**
 * What the `directs` channel of the bus may carry (issue 15,
 * runtime/direct_payload.ts): a direct message, an edit, a delete, a read
 * marker or a typing, each with every field checked; anything else — not an
 * object, several kinds, a missing or wrong-typed field, an id below 1, a
 * predecessor not below the id, a time `Date` cannot hold, a name with
 * control characters, an oversized text — is refused before an order or a
 * session sees it, never thrown.
 */

import assert from "node:assert/strict";
import { parseWireBody } from "../runtime/cluster_channel.ts";
import {
  changeBody,
  decodeDirectsBody,
  directBody,
  type RelayedDirect,
} from "../runtime/direct_payload.ts";
import { directEvent } from "../protocol/events.ts";
import { deletedEvent, editedEvent } from "../protocol/edit_events.ts";

const AT = Date.UTC(2026, 10, 27, 10, 0, 0, 123);
const direct = { id: 12, p: 9, f: [1, "ann", "Ann"], t: [2, "bob", "Bob"], x: "salut", at: AT };

/** Decodes a payload as the channel does (JSON object, then the decoder). */
function decode(raw: string) {
  const body = parseWireBody(raw);
  return body && decodeDirectsBody(body);
}

Deno.test("directs payloads: a message round-trips to the frame one process writes", () => {
  const message: RelayedDirect = {
    id: 12,
    prev: 9,
    fromUserId: 1,
    toUserId: 2,
    item: {
      id: 12,
      from: { username: "ann", alias: "Ann" },
      to: { username: "bob", alias: "Bob" },
      text: "salut",
      at: new Date(AT).toISOString(),
    },
  };
  const decoded = decode(JSON.stringify({ o: "x", ...directBody(message) }));
  assert.deepEqual(decoded, { kind: "direct", message });
  assert.equal(
    directEvent((decoded as { message: RelayedDirect }).message.item),
    directEvent(message.item),
  );
});

Deno.test("directs payloads: edits, deletes, read markers and typing decode", () => {
  const editedAt = new Date(AT).toISOString();
  const edited = editedEvent({ with: "ann" }, 12, "corrigé", editedAt);
  assert.deepEqual(decodeDirectsBody(changeBody(2, edited)!), {
    kind: "edited",
    userId: 2,
    with: "ann",
    id: 12,
    text: "corrigé",
    editedAt,
  });
  assert.deepEqual(decodeDirectsBody(changeBody(1, deletedEvent({ with: "bob" }, 12))!), {
    kind: "deleted",
    userId: 1,
    with: "bob",
    id: 12,
  });
  assert.equal(changeBody(1, deletedEvent({ salon: "Blabla" }, 12)), undefined, "salon frames");
  assert.equal(changeBody(1, "not json"), undefined);
  assert.deepEqual(decode(JSON.stringify({ rd: { u: 1, w: "bob", id: 12 } })), {
    kind: "read",
    userId: 1,
    with: "bob",
    id: 12,
  });
  assert.deepEqual(decode(JSON.stringify({ ty: { u: 2, f: ["ann", "Ann"] } })), {
    kind: "typing",
    userId: 2,
    from: { username: "ann", alias: "Ann" },
  });
});

Deno.test("directs payloads: hostile bodies are refused, never thrown", () => {
  const bad: unknown[] = [
    {},
    { d: null },
    { d: [] },
    { d: "x" },
    { d: direct, rd: { u: 1, w: "bob", id: 3 } }, // two kinds at once
    { m: [direct] }, // a salon body
  ];
  const field = (k: string, values: unknown[]) => values.map((v) => ({ d: { ...direct, [k]: v } }));
  bad.push(
    ...field("id", [undefined, 0, -1, 1.5, "12", 2 ** 53, null]),
    ...field("p", [undefined, -1, 12, 13, 0.5, "9", null]), // the predecessor is below the id
    ...field("f", [undefined, [1, "ann"], [0, "ann", "Ann"], [1, "", "Ann"], [1, "a\nb", "Ann"]]),
    ...field("f", [[1, "ann", 7], [1, "x".repeat(1025), "Ann"], { 0: 1, 1: "ann", 2: "Ann" }]),
    ...field("t", [undefined, "bob", [2, "bob", "Bob", "extra"], ["2", "bob", "Bob"]]),
    ...field("x", [undefined, 3, null, "x".repeat(65_537), ["salut"]]),
    ...field("at", [undefined, -1, 8.64e15 + 1, 1.5, "2026-11-27T10:00:00.000Z", null]),
  );
  const change = { u: 2, w: "ann", id: 12, x: "t", ea: new Date(AT).toISOString() };
  for (const kind of ["ed", "de", "rd"]) {
    for (const [k, v] of [["u", 0], ["u", "2"], ["w", ""], ["w", "\u0000"], ["id", -3]]) {
      bad.push({ [kind]: { ...change, [k as string]: v } });
    }
    bad.push({ [kind]: null }, { [kind]: [change] });
  }
  for (const ea of [undefined, "yesterday", "2026-11-27", "2026-11-27T10:00:00Z", 5]) {
    bad.push({ ed: { ...change, ea } });
  }
  bad.push({ ed: { ...change, x: 5 } }, { ed: { ...change, x: "x".repeat(65_537) } });
  for (const f of [undefined, ["ann"], ["ann", "Ann", "x"], ["", "Ann"], ["ann", 3], "ann"]) {
    bad.push({ ty: { u: 2, f } });
  }
  bad.push({ ty: { u: 0, f: ["ann", "Ann"] } }, { ty: null });
  for (const body of bad) {
    assert.equal(decode(JSON.stringify(body)), undefined, JSON.stringify(body).slice(0, 200));
  }
  for (const raw of ["", "{", "null", "1", '"d"', "[]", '{"__proto__":{"d":1}}']) {
    assert.equal(decode(raw), undefined, raw);
  }
  // A prototype key is not a kind; the kinds' own fields are all that is copied.
  const sneaky = decode(JSON.stringify({ d: { ...direct, __proto__: { admin: true } } }));
  assert.equal(sneaky?.kind, "direct");
  assert.equal(Object.hasOwn((sneaky as { message: object }).message, "admin"), false);
});
