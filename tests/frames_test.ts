/**
 * Client frames (protocol/frames.ts parseFrame) and the message text rule
 * (protocol/text.ts textProblem): every frame type accepted and refused, with
 * a message naming the field at fault.
 *
 * @module
 */

import assert from "node:assert/strict";
import { HISTORY_MAX, MAX_REF, type ParsedFrame, parseFrame } from "../protocol/frames.ts";
import { textProblem } from "../protocol/text.ts";

function parse(value: unknown): ParsedFrame {
  return parseFrame(typeof value === "string" ? value : JSON.stringify(value));
}

/** Asserts that `value` parses to exactly `expected`. */
function assertAccepted(value: unknown, expected: unknown): void {
  const result = parse(value);
  assert.ok(result.ok, `expected ${JSON.stringify(value)} to parse: ${JSON.stringify(result)}`);
  assert.deepEqual(result.frame, expected);
}

/**
 * Asserts that `value` is refused with a message matching `mentions`, and
 * returns the refusal.
 */
function assertRefused(
  value: unknown,
  mentions: RegExp,
): Extract<ParsedFrame, { ok: false }> {
  const result = parse(value);
  const label = typeof value === "string" ? value.slice(0, 120) : JSON.stringify(value);
  assert.equal(result.ok, false, `expected ${label} to be refused`);
  if (result.ok) throw new Error("unreachable");
  assert.match(result.message, mentions, `${label}: ${result.message}`);
  assert.ok(result.message.length < 300, "a refusal is one readable sentence");
  return result;
}

// ---------------------------------------------------------------- valid frames

Deno.test("parseFrame: every frame type, valid, with and without ref", () => {
  const valid: unknown[] = [
    { type: "hello", token: "abc" },
    { type: "hello", username: "alice", password: "x" },
    { type: "register", username: "new.user-1", alias: "Général Alice 😀", password: "12345678" },
    { type: "join", salon: "Blabla" },
    { type: "leave", salon: "Comptabilité" },
    { type: "say", salon: "Général", text: "bonjour" },
    { type: "direct", to: "bob", text: "psst" },
    { type: "history", salon: "Général" },
    { type: "history", with: "bob" },
    { type: "history", salon: "Général", before: 17, limit: 20 },
    { type: "history", with: "bob", before: 1, limit: HISTORY_MAX },
    { type: "history", salon: "Général", limit: 1 },
    { type: "who", salon: "Blabla" },
    { type: "ping" },
  ];
  for (const frame of valid) {
    assertAccepted(frame, frame);
    assertAccepted({ ...frame as object, ref: "r-1" }, { ...frame as object, ref: "r-1" });
  }
});

Deno.test("parseFrame: ref of exactly 64 characters and an empty ref are accepted", () => {
  const ref = "x".repeat(MAX_REF);
  assert.equal(MAX_REF, 64);
  assertAccepted({ type: "ping", ref }, { type: "ping", ref });
  assertAccepted({ type: "ping", ref: "" }, { type: "ping", ref: "" });
});

Deno.test("parseFrame: unknown extra fields are dropped", () => {
  assertAccepted(
    { type: "say", salon: "Blabla", text: "hi", role: "admin", id: 5 },
    { type: "say", salon: "Blabla", text: "hi" },
  );
});

Deno.test("parseFrame: a hello with a token is a token hello, whatever else it carries", () => {
  assertAccepted(
    { type: "hello", token: "tok", username: "alice", password: "pw" },
    { type: "hello", token: "tok" },
  );
});

Deno.test("parseFrame: a register alias is normalized to NFC", () => {
  const result = parse({
    type: "register",
    username: "amelie",
    alias: "Ame\u0301lie",
    password: "12345678",
  });
  assert.ok(result.ok);
  assert.equal((result.frame as { alias: string }).alias, "Am\u00e9lie");
});

Deno.test("parseFrame: say and direct text is kept verbatim (the text rule applies later)", () => {
  const text = "  line one\n\tline two  😀 ";
  assertAccepted({ type: "say", salon: "Blabla", text }, { type: "say", salon: "Blabla", text });
  assertAccepted({ type: "direct", to: "bob", text }, { type: "direct", to: "bob", text });
});

// ---------------------------------------------------------------- not frames

Deno.test("parseFrame: not JSON, or JSON that is not an object: refused without type", () => {
  const cases = ["", "not json", "{", '{"type":"ping"', "[]", "[1,2]", "5", "-1.5", "null", "true"];
  cases.push('"ping"', '[{"type":"ping"}]');
  for (const text of cases) {
    const refusal = assertRefused(text, /JSON/);
    assert.equal(refusal.type, undefined, text);
    assert.equal(refusal.ref, undefined, text);
  }
});

Deno.test("parseFrame: type missing or not a string: refused naming type, ref kept", () => {
  for (const type of [undefined, 5, null, true, ["ping"], { ping: 1 }]) {
    const refusal = assertRefused({ type, ref: "r" }, /type/);
    assert.equal(refusal.type, undefined);
    assert.equal(refusal.ref, "r", "a usable ref is echoed");
  }
});

Deno.test("parseFrame: unknown types, prototype names included, are refused with the type", () => {
  const types = [
    "bogus",
    "PING",
    "Hello",
    " ping",
    "__proto__",
    "constructor",
    "toString",
    "hasOwnProperty",
    "valueOf",
    "",
  ];
  for (const type of types) {
    const refusal = assertRefused({ type, ref: "r" }, /unknown frame type/);
    assert.equal(refusal.type, type);
    assert.equal(refusal.ref, "r");
  }
});

Deno.test("parseFrame: __proto__ keys neither pollute prototypes nor add fields", () => {
  const result = parseFrame('{"type":"ping","__proto__":{"admin":true,"type":"join"}}');
  assert.ok(result.ok);
  assert.deepEqual(result.frame, { type: "ping" });
  assert.equal((result.frame as Record<string, unknown>).admin, undefined);
  assert.equal(Object.getPrototypeOf(result.frame), Object.prototype);
  assert.equal(({} as Record<string, unknown>).admin, undefined);
  // A type given only through __proto__ is no type.
  assertRefused('{"__proto__":{"type":"ping"}}', /type/);
});

// ---------------------------------------------------------------- ref

Deno.test("parseFrame: ref too long or not a string: refused naming ref, not echoed", () => {
  for (
    const ref of ["x".repeat(MAX_REF + 1), "x".repeat(100_000), 5, null, true, ["r"], { r: 1 }]
  ) {
    const refusal = assertRefused({ type: "ping", ref }, /ref/);
    assert.equal(refusal.ref, undefined, "an unusable ref is not echoed");
    assert.match(refusal.message, /64/);
  }
});

// ---------------------------------------------------------------- fields

Deno.test("parseFrame: missing and wrongly typed fields, each message names the field", () => {
  const cases: Array<[unknown, RegExp]> = [
    // hello
    [{ type: "hello" }, /username is required/],
    [{ type: "hello", username: "alice" }, /password is required/],
    [{ type: "hello", password: "pw" }, /username is required/],
    [{ type: "hello", token: 42 }, /token must be a string/],
    [{ type: "hello", token: null }, /token must be a string/],
    [{ type: "hello", token: "t".repeat(513) }, /token must be at most 512/],
    [{ type: "hello", username: 5, password: "pw" }, /username must be a string/],
    [{ type: "hello", username: "al", password: "pw" }, /username must be 3 to 32/],
    [{ type: "hello", username: "alice", password: "" }, /password must not be empty/],
    [{ type: "hello", username: "alice", password: ["pw"] }, /password must be a string/],
    // register
    [{ type: "register", alias: "A", password: "12345678" }, /username is required/],
    [{ type: "register", username: "alice", password: "12345678" }, /alias is required/],
    [{ type: "register", username: "alice", alias: "A" }, /password is required/],
    [{ type: "register", username: "a b c", alias: "A", password: "12345678" }, /username/],
    [{ type: "register", username: "alice", alias: "", password: "12345678" }, /alias/],
    [{ type: "register", username: "alice", alias: " A", password: "12345678" }, /alias/],
    [{ type: "register", username: "alice", alias: "A\u0000", password: "12345678" }, /alias/],
    [{ type: "register", username: "alice", alias: "A", password: "short" }, /password.*8/],
    [{ type: "register", username: "alice", alias: 7, password: "12345678" }, /alias must be a/],
    // join, leave, who
    [{ type: "join" }, /salon is required/],
    [{ type: "join", salon: 5 }, /salon must be a string/],
    [{ type: "join", salon: null }, /salon must be a string/],
    [{ type: "join", salon: "" }, /salon must not be empty/],
    [{ type: "join", salon: "s".repeat(257) }, /salon must be at most 256/],
    [{ type: "leave" }, /salon is required/],
    [{ type: "leave", salon: ["Blabla"] }, /salon must be a string/],
    [{ type: "who" }, /salon is required/],
    [{ type: "who", salon: { name: "x" } }, /salon must be a string/],
    // say
    [{ type: "say", text: "hi" }, /salon is required/],
    [{ type: "say", salon: "Blabla" }, /text is required/],
    [{ type: "say", salon: "Blabla", text: 5 }, /text must be a string/],
    [{ type: "say", salon: "Blabla", text: null }, /text must be a string/],
    [{ type: "say", salon: 1, text: "hi" }, /salon must be a string/],
    // direct
    [{ type: "direct", text: "hi" }, /to is required/],
    [{ type: "direct", to: "bob" }, /text is required/],
    [{ type: "direct", to: 5, text: "hi" }, /to must be a string/],
    [{ type: "direct", to: "", text: "hi" }, /to must not be empty/],
    [{ type: "direct", to: "bob", text: false }, /text must be a string/],
    // history
    [{ type: "history" }, /exactly one of salon or with/],
    [{ type: "history", salon: "Blabla", with: "bob" }, /exactly one of salon or with/],
    [{ type: "history", salon: 5 }, /salon must be a string/],
    [{ type: "history", with: 5 }, /with must be a string/],
    [{ type: "history", salon: "Blabla", limit: 0 }, /limit must be at least 1/],
    [{ type: "history", salon: "Blabla", limit: -3 }, /limit must be at least 1/],
    [{ type: "history", salon: "Blabla", limit: HISTORY_MAX + 1 }, /limit must be at most 200/],
    [{ type: "history", salon: "Blabla", limit: 1.5 }, /limit must be a whole number/],
    [{ type: "history", salon: "Blabla", limit: "5" }, /limit must be a number/],
    [{ type: "history", salon: "Blabla", limit: null }, /limit must be a number/],
    [{ type: "history", salon: "Blabla", before: -1 }, /before must be at least 1/],
    [{ type: "history", salon: "Blabla", before: 0 }, /before must be at least 1/],
    [{ type: "history", with: "bob", before: 2.5 }, /before must be a whole number/],
    [{ type: "history", with: "bob", before: "10" }, /before must be a number/],
  ];
  for (const [frame, message] of cases) {
    const refusal = assertRefused({ ...frame as object, ref: "r" }, message);
    assert.equal(refusal.type, (frame as { type: string }).type, "the type is reported");
    assert.equal(refusal.ref, "r", "the ref is echoed");
  }
});

Deno.test("parseFrame: numbers out of range (1e308, 1e400, past 2^53) are refused", () => {
  assertRefused('{"type":"history","salon":"a","limit":1e308}', /limit/);
  assertRefused('{"type":"history","salon":"a","before":1e400}', /before/);
  assertRefused({ type: "history", salon: "a", before: Number.MAX_SAFE_INTEGER + 2 }, /before/);
});

// ---------------------------------------------------------------- huge input

Deno.test("parseFrame: megabyte strings are refused with a short message naming the field", () => {
  const mb = "x".repeat(1_000_000);
  const cases: Array<[unknown, RegExp]> = [
    [{ type: "hello", token: mb }, /token/],
    [{ type: "hello", username: mb, password: "pw" }, /username/],
    [{ type: "hello", username: "alice", password: mb }, /password/],
    [{ type: "register", username: "alice", alias: mb, password: "12345678" }, /alias/],
    [{ type: "join", salon: mb }, /salon/],
    [{ type: "direct", to: mb, text: "hi" }, /to/],
    [{ type: "history", with: mb }, /with/],
    [{ type: "ping", ref: mb }, /ref/],
    [{ type: mb }, /unknown frame type/],
  ];
  for (const [frame, message] of cases) {
    const refusal = assertRefused(frame, message);
    assert.ok(!refusal.message.includes("x".repeat(100)), "the huge value is not echoed");
  }
  // A megabyte of text parses: the text rule (too_long) is the connection's business.
  const result = parse({ type: "say", salon: "Blabla", text: mb });
  assert.ok(result.ok);
  assert.equal(textProblem((result.frame as { text: string }).text, 2000)?.code, "too_long");
});

// Issue 9: nesting past 32 levels is refused before JSON.parse, with a message that says so.
Deno.test("parseFrame: deep nesting does not crash, and is refused before parsing", () => {
  const deep = "[".repeat(100_000) + "]".repeat(100_000);
  const result = parseFrame(`{"type":"ping","extra":${deep}}`);
  assert.equal(result.ok, false);
  if (!result.ok) assert.match(result.message, /deeper than 32/);
  const fine = parseFrame(`{"type":"ping","extra":${"[".repeat(31)}${"]".repeat(31)}}`);
  assert.ok(fine.ok);
});

// ---------------------------------------------------------------- textProblem

Deno.test("textProblem: empty or blank text is invalid", () => {
  for (const text of ["", " ", "   ", "\n", "\t", "\n\t \n", "\u00a0", "\u3000 \u2003"]) {
    const problem = textProblem(text, 2000);
    assert.equal(problem?.code, "invalid", JSON.stringify(text));
    assert.match(problem!.message, /text/);
  }
});

Deno.test("textProblem: length counted in Unicode characters; too_long names the limit", () => {
  assert.equal(textProblem("x".repeat(2000), 2000), undefined);
  assert.equal(textProblem("😀".repeat(2000), 2000), undefined, "an emoji is one character");
  assert.equal(textProblem("é".repeat(2000), 2000), undefined);
  const over = textProblem("x".repeat(2001), 2000);
  assert.equal(over?.code, "too_long");
  assert.match(over!.message, /2000/);
  assert.match(over!.message, /2001/);
  assert.equal(textProblem("😀".repeat(2001), 2000)?.code, "too_long");
  assert.equal(textProblem("abcd", 3)?.code, "too_long");
  assert.equal(textProblem("abc", 3), undefined);
});

Deno.test("textProblem: control characters other than newline and tab are invalid", () => {
  const forbidden = [
    "\u0000",
    "\u0001",
    "\u0007",
    "\u0008",
    "\u000b",
    "\u000c",
    "\r",
    "\u001b",
    "\u001f",
    "\u007f",
    "\u0080",
    "\u0085",
    "\u009f",
    "\ud800", // lone high surrogate
    "\udfff", // lone low surrogate
    "\u202a",
    "\u202e",
    "\u2066",
    "\u2069",
  ];
  for (const c of forbidden) {
    const label = `U+${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
    for (const text of [`a${c}b`, `${c}hello`, `hello${c}`]) {
      const problem = textProblem(text, 2000);
      assert.equal(problem?.code, "invalid", label);
      assert.match(problem!.message, /control/, label);
    }
  }
  assert.equal(textProblem("escape \u001b[31mred\u001b[0m", 2000)?.code, "invalid");
});

Deno.test("textProblem: newline, tab, emoji sequences, accents and RTL text are fine", () => {
  const fine = [
    "line one\nline two",
    "col\tumn",
    "\nleading and trailing newline\n",
    "👩‍👩‍👧‍👦 family (joined with U+200D)",
    "drapeau 🇫🇷",
    "Ame\u0301lie",
    "مرحبا بالعالم",
    "שלום",
    "<script>alert(1)</script>",
    "' OR '1'='1",
    "\\u0000 (an escaped backslash, not a NUL)",
  ];
  for (const text of fine) assert.equal(textProblem(text, 2000), undefined, JSON.stringify(text));
});
