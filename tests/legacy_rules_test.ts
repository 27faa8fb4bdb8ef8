/**
 * The import's rules as pure functions (legacy/text.ts, legacy/names.ts,
 * auth/legacy_password.ts): decoding stored bytes, cleaning and splitting
 * texts so that protocol/text.ts accepts them, choosing valid unique names.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  isLegacyHash,
  LOCKED_HASH,
  storedLegacyHash,
  verifyLegacy,
} from "../auth/legacy_password.ts";
import {
  chooseDisplayName,
  chooseUsername,
  displayKey,
  TakenNames,
  usernameKey,
} from "../legacy/names.ts";
import { cleanMessage, decodeName, decodeStored, splitText } from "../legacy/text.ts";
import { displayNameProblem, usernameProblem } from "../protocol/names.ts";
import { textProblem } from "../protocol/text.ts";

const bytes = (...parts: Array<string | number[]>) =>
  new Uint8Array(
    parts.flatMap((p) => typeof p === "string" ? [...new TextEncoder().encode(p)] : p),
  );

Deno.test("legacy text: valid UTF-8 is kept, cut characters become U+FFFD, latin1 is read as such", () => {
  assert.deepEqual(decodeStored(bytes("é 😀"), "latin1"), { text: "é 😀", decoding: "utf8" });
  // A full read of the original server (1024 bytes) that ends inside an emoji.
  assert.deepEqual(decodeStored(bytes("a".repeat(1022), [0xf0, 0x9f]), "latin1"), {
    text: "a".repeat(1022) + "\uFFFD",
    decoding: "utf8_cut",
  });
  // Shorter, the same bytes in a latin1 column are latin1 text (nothing was cut).
  assert.equal(decodeStored(bytes("ab", [0xf0, 0x9f]), "latin1").decoding, "latin1");
  assert.deepEqual(decodeStored(bytes("ab", [0xf0, 0x9f]), "utf8mb4"), {
    text: "ab\uFFFD",
    decoding: "utf8_cut",
  });
  assert.deepEqual(decodeStored(bytes([0x98, 0x80], "ok"), "utf8mb4"), {
    text: "\uFFFDok",
    decoding: "utf8_cut",
  });
  assert.deepEqual(decodeStored(bytes("caf", [0xe9], " ok"), "latin1"), {
    text: "café ok",
    decoding: "latin1",
  });
  assert.deepEqual(decodeStored(bytes([0x80], "€"), "latin1").decoding, "utf8_cut");
  assert.deepEqual(decodeStored(bytes("a", [0xff], "b"), "utf8mb4"), {
    text: "a\uFFFDb",
    decoding: "replaced",
  });
});

Deno.test("legacy text: accented latin1 at the end of a short value is latin1, not a cut UTF-8 character", () => {
  // The original server's five salons in a latin1 table: "Comptabilité" ends with 0xE9, a UTF-8 lead
  // byte; "prêt" has 0xEA followed by "t". Both are latin1 text, whole.
  const comptabilite = bytes("Comptabilit", [0xe9]);
  assert.deepEqual(decodeName(comptabilite, "latin1"), {
    text: "Comptabilité",
    decoding: "latin1",
  });
  assert.deepEqual(decodeStored(comptabilite, "latin1"), {
    text: "Comptabilité",
    decoding: "latin1",
  });
  assert.deepEqual(decodeStored(bytes("Le bilan est pr", [0xea], "t"), "latin1"), {
    text: "Le bilan est prêt",
    decoding: "latin1",
  });
  // A lead byte followed by a byte that is not a continuation is never a cut character.
  assert.equal(decodeStored(bytes("pr", [0xea], "t"), "utf8mb4").text, "pr\uFFFDt");
  // Latin1 « at the start is a character, not the end of a cut one.
  assert.deepEqual(decodeStored(bytes([0xab], "Bonjour"), "latin1"), {
    text: "«Bonjour",
    decoding: "latin1",
  });
  // Names are never cut: a full-read-sized name is still latin1.
  assert.equal(decodeName(bytes("a".repeat(1022), [0xf0, 0x9f]), "latin1").decoding, "latin1");
});

Deno.test("legacy text: cleaned texts pass the protocol's text rule; nothing is dropped silently", () => {
  const hostile = "a\r\nb\rc\u0000d\u001b[0m\u202Eé\u0085\ttab";
  const cleaned = cleanMessage(hostile, 2000);
  assert.ok("parts" in cleaned);
  assert.deepEqual(cleaned.parts, ["a\nb\nc\uFFFDd\uFFFD[0m\uFFFDé\uFFFD\ttab"]);
  assert.equal(cleaned.replaced, 4);
  for (const p of cleaned.parts) assert.equal(textProblem(p, 2000), undefined);
  assert.deepEqual(cleanMessage(" \n\t ", 2000), { skip: "empty" });
  // Splitting keeps every visible character, in order, each part within the limit.
  const long = "😀".repeat(45) + " " + "word ".repeat(200);
  const parts = splitText(long, 100);
  assert.ok(parts.every((p) => [...p].length <= 100 && textProblem(p, 100) === undefined));
  assert.equal(parts.join("").replace(/\s/g, ""), long.replace(/\s/g, ""));
});

Deno.test("legacy names: valid, unique, deterministic, reserved names renamed", () => {
  const taken = new TakenNames(usernameKey, ["existing"]);
  const pick = (name: string, id: number) => chooseUsername(name, id, taken);
  assert.deepEqual(pick("Alice", 1), { name: "Alice" });
  assert.deepEqual(pick("alice", 2), { name: "alice_2", reason: "taken" });
  assert.deepEqual(pick("ALICE", 3), { name: "ALICE_3", reason: "taken" });
  assert.deepEqual(pick("Existing", 4), { name: "Existing_2", reason: "taken" });
  assert.deepEqual(pick("admin", 5), { name: "admin_legacy", reason: "reserved" });
  assert.deepEqual(pick("Server", 6), { name: "Server_legacy", reason: "reserved" });
  assert.deepEqual(pick("Jean Dupré", 7), { name: "Jean_Dupre", reason: "invalid" });
  assert.deepEqual(pick("ü", 8), { name: "u_8", reason: "invalid" });
  assert.deepEqual(pick("日本", 9), { name: "user_9", reason: "invalid" });
  const long = pick("a".repeat(40), 10);
  assert.equal(long.name, "a".repeat(32));
  assert.equal(pick("a".repeat(40), 11).name, "a".repeat(30) + "_2");
  for (const n of ["Alice", "alice_2", "admin_legacy", "Jean_Dupre", "u_8", "user_9"]) {
    assert.equal(usernameProblem(n), undefined, n);
  }

  const aliases = new TakenNames(displayKey);
  const alias = (a: string, fallback = "user") => chooseDisplayName(a, aliases, { fallback });
  assert.deepEqual(alias("Bob"), { name: "Bob" });
  assert.deepEqual(alias("bob"), { name: "bob 2", reason: "taken" });
  assert.deepEqual(alias("B\u043Eb"), { name: "B\u043Eb 3", reason: "taken" }); // Cyrillic о
  assert.deepEqual(alias("Da\u0007ve"), { name: "Dave", reason: "invalid" });
  assert.deepEqual(alias("\u200B\u0007", "carl"), { name: "carl", reason: "invalid" });
  assert.deepEqual(alias("Admin"), { name: "Admin (legacy)", reason: "reserved" });
  assert.equal(displayNameProblem(alias("x".repeat(80)).name, "alias"), undefined);
});

Deno.test("legacy passwords: hex SHA-256 verified in constant time; placeholders lock", () => {
  const hex = createHash("sha256").update("mot de passe", "utf8").digest("hex");
  const stored = storedLegacyHash(hex.toUpperCase());
  assert.ok(isLegacyHash(stored));
  assert.equal(verifyLegacy(stored, "mot de passe"), true);
  assert.equal(verifyLegacy(stored, "mot de passe "), false);
  assert.equal(verifyLegacy(stored, hex), false);
  assert.equal(storedLegacyHash("hashed_admin_password"), LOCKED_HASH);
  assert.equal(storedLegacyHash(hex.slice(1)), LOCKED_HASH);
  assert.equal(verifyLegacy(LOCKED_HASH, "hashed_admin_password"), false);
});
