/**
 * The mention parser (protocol/mentions.ts, PROTOCOL.md 5.3): boundaries,
 * case and NFC, the 20 first distinct members, non-members, and hostile texts.
 */

import assert from "node:assert/strict";
import { findMentions, MAX_MENTIONS } from "../protocol/mentions.ts";
import { nameKey } from "../protocol/names.ts";

/** A salon's members by comparison key, as the salon actor keeps them. */
function members(...usernames: string[]): Map<string, string> {
  return new Map(usernames.map((u) => [nameKey(u), u]));
}

const SALON = members("alice", "Bob", "carol", "dave.", "e-f", "x_y", "Kate", "ann");

/** The usernames `text` mentions among {@link SALON}'s members. */
function mentioned(text: string, salon = SALON): string[] {
  return findMentions(text, (key) => salon.get(key));
}

Deno.test("mentions: @username at the start, after spaces and punctuation, before punctuation", () => {
  assert.deepEqual(mentioned("@alice"), ["alice"]);
  assert.deepEqual(mentioned("hi @alice"), ["alice"]);
  assert.deepEqual(mentioned("hi @alice, how are you?"), ["alice"]);
  assert.deepEqual(mentioned("(@alice)"), ["alice"]);
  assert.deepEqual(mentioned("[@alice] {@alice}"), ["alice"]);
  assert.deepEqual(mentioned("«@alice»"), ["alice"]);
  assert.deepEqual(mentioned('"@alice"'), ["alice"]);
  assert.deepEqual(mentioned("@alice's turn"), ["alice"]);
  assert.deepEqual(mentioned("@alice’s turn"), ["alice"]);
  assert.deepEqual(mentioned("ok,@alice!"), ["alice"]);
  assert.deepEqual(mentioned("line\n@alice\tthen"), ["alice"]);
  assert.deepEqual(mentioned("@alice:"), ["alice"]);
  assert.deepEqual(mentioned("👋@alice"), ["alice"]);
  // An emoji with its variation selector, or a ZWJ sequence, before the @ (review finding).
  assert.deepEqual(mentioned("❤️@alice"), ["alice"]);
  assert.deepEqual(mentioned("👩‍💻@alice"), ["alice"]);
  // A variation selector after a letter is still inside a word.
  assert.deepEqual(mentioned("a\uFE0F@alice"), []);
});

Deno.test("mentions: a sentence may end right after the name (trailing dots and hyphens)", () => {
  assert.deepEqual(mentioned("thanks @alice."), ["alice"]);
  assert.deepEqual(mentioned("thanks @alice..."), ["alice"]);
  assert.deepEqual(mentioned("@alice-- right"), ["alice"]);
  // A username that itself ends with a dot is taken whole when it is a member.
  assert.deepEqual(mentioned("ask @dave."), ["dave."]);
  assert.deepEqual(mentioned("ask @dave.."), ["dave."]);
  assert.deepEqual(mentioned("ask @e-f and @x_y"), ["e-f", "x_y"]);
});

Deno.test("mentions: not inside words, e-mail addresses, URLs, longer names", () => {
  assert.deepEqual(mentioned("x@alice"), []);
  assert.deepEqual(mentioned("mail alice.m@alice please"), []);
  assert.deepEqual(mentioned("a-@alice a+@alice a_@alice 9@alice"), []);
  assert.deepEqual(mentioned("https://social.example/@alice"), []);
  assert.deepEqual(mentioned("@@alice"), []);
  assert.deepEqual(mentioned("éa@alice"), []);
  assert.deepEqual(mentioned("日本@alice"), []);
  assert.deepEqual(mentioned("@alicex"), []);
  assert.deepEqual(mentioned("@alice_"), []);
  assert.deepEqual(mentioned("@alice.x"), []);
  assert.deepEqual(mentioned("@alice-bob"), []);
  assert.deepEqual(mentioned("@aliceé"), []);
  assert.deepEqual(mentioned("@alice\u0301"), []); // a combining accent: "alicé"
  assert.deepEqual(mentioned("@alice日本"), []);
  assert.deepEqual(mentioned("@ali ce"), []);
});

Deno.test("mentions: case-insensitive, NFC, listed as registered", () => {
  assert.deepEqual(mentioned("@ALICE @bob"), ["alice", "Bob"]);
  assert.deepEqual(mentioned("@BoB"), ["Bob"]);
  // U+212A KELVIN SIGN is K after NFC, as names are compared.
  assert.deepEqual(mentioned("@\u212Aate"), ["Kate"]);
  // Fullwidth letters are a compatibility form (NFKC), not the same name.
  assert.deepEqual(mentioned("@ａｌｉｃｅ"), []);
  assert.deepEqual(mentioned("＠alice"), []);
});

Deno.test("mentions: distinct, in order of first appearance; only members", () => {
  assert.deepEqual(mentioned("@carol @alice @Carol @ALICE @bob"), ["carol", "alice", "Bob"]);
  assert.deepEqual(mentioned("@zoe @alice @mallory"), ["alice"]);
  assert.deepEqual(mentioned("no mention here"), []);
  assert.deepEqual(mentioned("@"), []);
  assert.deepEqual(mentioned("@ @ @"), []);
  assert.deepEqual(mentioned("alice@"), []);
  assert.deepEqual(mentioned("@al"), []); // shorter than any username
  assert.deepEqual(mentioned("@alice", members()), []);
});

Deno.test("mentions: at most 20, the first 20 distinct ones", () => {
  const names = Array.from({ length: 30 }, (_, i) => `user${String(i).padStart(2, "0")}`);
  const salon = members(...names);
  const text = names.map((n) => `@${n} @${n}`).join(" ");
  assert.equal(MAX_MENTIONS, 20);
  assert.deepEqual(mentioned(text, salon), names.slice(0, 20));
  // Non-members and repeats do not use up places.
  const noisy = "@nobody @user29 @user29 @ghost @user28 " + names.slice(0, 25).map((n) => `@${n}`)
    .join(" ");
  assert.deepEqual(mentioned(noisy, salon), ["user29", "user28", ...names.slice(0, 18)]);
});

Deno.test("mentions: hostile texts are cheap and correct", () => {
  let lookups = 0;
  const counting = (text: string) =>
    findMentions(text, (key) => {
      lookups++;
      return SALON.get(key);
    });

  // 2000 `@`: no name anywhere, and no lookup at all.
  assert.deepEqual(counting("@".repeat(2000)), []);
  assert.equal(lookups, 0);

  // 2000 characters of `@a.` / `@alice` patterns: a few lookups per `@` at most.
  lookups = 0;
  const many = "@alice ".repeat(285); // 1995 characters, one distinct member
  assert.deepEqual(counting(many), ["alice"]);
  assert.ok(lookups <= 285, `${lookups} lookups`);

  // One long run of name characters with a long tail of dots: at most 30 lookups.
  lookups = 0;
  assert.deepEqual(counting("@" + "a".repeat(10) + ".".repeat(1989)), []);
  assert.ok(lookups <= 30, `${lookups} lookups`);
  lookups = 0;
  assert.deepEqual(counting("@alice" + ".-".repeat(996)), ["alice"]);
  assert.ok(lookups <= 30, `${lookups} lookups`);

  // `@@@...alice`, e-mails in a row, and lone surrogates do not confuse the scan.
  assert.deepEqual(counting("@".repeat(1000) + "alice"), []);
  assert.deepEqual(counting("a@alice".repeat(280)), []);
  assert.deepEqual(counting("\uD800@alice \uDC00@bob"), ["alice", "Bob"]);

  // And it is fast: 1000 texts of 2000 hostile characters in well under a second.
  const hostile = [
    "@".repeat(2000),
    "@a".repeat(1000),
    "@alice.".repeat(285),
    "x@".repeat(1000),
    ("@" + "b".repeat(40) + " ").repeat(48),
  ];
  const started = performance.now();
  for (let i = 0; i < 200; i++) for (const t of hostile) findMentions(t, (k) => SALON.get(k));
  const ms = performance.now() - started;
  assert.ok(ms < 1000, `1000 hostile texts took ${ms.toFixed(0)} ms`);
});
