/**
 * Issue 9, item 10: impersonating aliases. Reserved names and alias
 * uniqueness are compared on the confusable skeleton (UTS #39) of the NFKC
 * case-folded alias; invisible and formatting characters are refused except
 * inside emoji sequences; an alias of invisible characters only is refused.
 * Existing databases get their alias keys recomputed at start-up, and two
 * existing look-alikes do not stop it.
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { assertError, registerOk, testApp } from "../helpers.ts";
import { aliasKey } from "../../protocol/names.ts";
import { openSqliteStore } from "../../store/sqlite.ts";
import { openMysqlStore } from "../../store/mysql.ts";
import { freshDatabase, mysqlTest, withAdmin } from "../mysql_fixture.ts";
import { nameKey } from "../../protocol/names.ts";

const PW = "a fine password";

Deno.test("aliases that look like admin or an existing alias are refused", async () => {
  const t = await testApp();
  try {
    await registerOk(t, "alice", "alice", PW);
    const tryAlias = (alias: string, i: number) =>
      t.request("POST", "/api/register", { username: `impostor${i}`, alias, password: PW });
    const cases: Array<[string, number, string]> = [
      ["\u0430dmin", 409, "alias_taken"], // Cyrillic а
      ["ad\u200Bmin", 400, "invalid"], // zero-width space
      ["\uFF21\uFF24\uFF2D\uFF29\uFF2E", 409, "alias_taken"], // fullwidth ＡＤＭＩＮ
      ["alice\u200B", 400, "invalid"],
      ["\u0430lice", 409, "alias_taken"], // Cyrillic а
      ["ALICE", 409, "alias_taken"],
      ["\uFF41\uFF4C\uFF49\uFF43\uFF45", 409, "alias_taken"], // fullwidth ａｌｉｃｅ
      ["a\u00ADlice", 400, "invalid"], // soft hyphen
      ["s\u0435rver", 409, "alias_taken"], // Cyrillic е in server
      ["\u200B", 400, "invalid"],
      ["\u200B\u200C\u2060", 400, "invalid"],
      ["\u3164", 400, "invalid"], // Hangul filler
      ["\u2800\u2800", 400, "invalid"], // blank Braille pattern
    ];
    for (const [i, [alias, status, code]] of cases.entries()) {
      const res = await tryAlias(alias, i);
      assertError(res, status, code);
      if (code === "invalid") {
        assert.match(res.body!.error!.message, /alias/, JSON.stringify(alias));
      }
    }
    assert.equal(await t.store.userByName("impostor0"), undefined);
    // Emoji sequences keep their joiners and variation selectors; accents still matter.
    for (
      const [i, alias] of ["👩\u200D💻", "❤\uFE0F", "Général", "General", "Alice B."].entries()
    ) {
      const res = await tryAlias(alias, 100 + i);
      assert.equal(res.status, 201, `${JSON.stringify(alias)}: ${res.text}`);
    }
    // The same emoji without its joiner looks the same: taken.
    assertError(await tryAlias("👩💻", 200), 409, "alias_taken");
  } finally {
    await t.close();
  }
});

Deno.test("start-up recomputes alias keys; look-alikes already there are kept with a warning", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/old.db`;
  try {
    // A database at migration 2, with keys in the old form (NFC, lower case) and two aliases
    // that look alike but were both accepted then.
    const full = await Deno.readTextFile(new URL("../../store/sqlite_schema.sql", import.meta.url));
    const old = full.slice(0, full.indexOf("-- migration: 3"));
    const before = await openSqliteStore(path, { schema: old });
    await before.close();
    const db = new DatabaseSync(path);
    const insert = db.prepare(
      `INSERT INTO users (username, username_key, alias, alias_key, password_hash, role, created_at)
       VALUES (?, ?, ?, ?, 'x', 'member', 0)`,
    );
    for (const [username, alias] of [["alice", "Alice"], ["fake", "\u0410lice"], ["bob", "Bob"]]) {
      insert.run(username, nameKey(username), alias, nameKey(alias));
    }
    db.close();

    const warnings: string[] = [];
    const store = await openSqliteStore(path, { onWarning: (m) => warnings.push(m) });
    try {
      assert.equal(warnings.length, 1, warnings.join("\n"));
      assert.match(warnings[0], /look alike; both are kept/);
      assert.equal((await store.userByName("fake"))?.alias, "\u0410lice");
      assert.equal((await store.userByName("alice"))?.alias, "Alice");
      for (const alias of ["alice", "ALICE", "\u0430lice", "B\u043Eb"]) {
        assert.equal(await store.aliasTaken(alias), true, alias);
      }
      assert.equal(await store.aliasTaken("Carol"), false);
    } finally {
      await store.close();
    }
    // The migration ran once: a second start has nothing to say.
    const again = await openSqliteStore(path, { onWarning: (m) => warnings.push(m) });
    await again.close();
    assert.equal(warnings.length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("alias keys: the UTS #39 examples", () => {
  assert.equal(aliasKey("\u0430dmin"), aliasKey("admin"));
  assert.equal(aliasKey("\uFF21\uFF24\uFF2D\uFF29\uFF2E"), aliasKey("admin"));
  assert.equal(aliasKey("ad\u200Bmin"), aliasKey("admin"));
  assert.equal(aliasKey("paypa1"), aliasKey("PayPal"));
  assert.notEqual(aliasKey("Général"), aliasKey("General"));
  // A key is bounded, whatever NFKC makes of the alias.
  assert.ok(new TextEncoder().encode(aliasKey("\uFDFA".repeat(64))).byteLength <= 1000);
});

mysqlTest("MySQL: start-up recomputes alias keys; look-alikes already there are kept", async () => {
  const db = await freshDatabase();
  try {
    const full = await Deno.readTextFile(new URL("../../schema.sql", import.meta.url));
    const before = await openMysqlStore(db.url, {
      schema: full.slice(0, full.indexOf("-- migration: 3")),
    });
    await before.close();
    await withAdmin(async (conn) => {
      for (
        const [username, alias] of [["alice", "Alice"], ["fake", "\u0410lice"], ["bob", "Bob"]]
      ) {
        await conn.execute(
          `INSERT INTO users (username, username_key, alias, alias_key, password_hash, role, created_at)
           VALUES (?, ?, ?, ?, 'x', 'member', 0)`,
          [username, nameKey(username), alias, nameKey(alias)],
        );
      }
    }, db.name);
    const warnings: string[] = [];
    const store = await openMysqlStore(db.url, { onWarning: (m) => warnings.push(m) });
    try {
      assert.equal(warnings.length, 1, warnings.join("\n"));
      assert.match(warnings[0], /look alike; both are kept/);
      assert.equal((await store.userByName("fake"))?.alias, "\u0410lice");
      for (const alias of ["alice", "ALICE", "\u0430lice", "B\u043Eb"]) {
        assert.equal(await store.aliasTaken(alias), true, alias);
      }
      assert.equal(await store.aliasTaken("Carol"), false);
    } finally {
      await store.close();
    }
  } finally {
    await db.drop();
  }
});
