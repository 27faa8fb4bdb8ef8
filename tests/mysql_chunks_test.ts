/**
 * MySQL batches run multi-row statements in chunks of 256, 128, … 1 rows, so
 * that the statement texts mysql2 prepares on every connection stay few
 * (the server caps prepared statements) whatever the batch sizes: the
 * senders' read markers and conversation rows after each message batch.
 */

import assert from "node:assert/strict";
import type { ResultSetHeader } from "mysql2/promise";
import { afterBatch } from "../store/mysql_markers.ts";
import type { Param, Sql } from "../store/mysql_sql.ts";
import type { NewMessage } from "../store/store.ts";

/** A fake runner that records every statement text and its parameters. */
function recorder() {
  const texts = new Set<string>();
  let rows = 0;
  const sql = {
    run(text: string, params: Param[] = []) {
      texts.add(text);
      const per = text.startsWith("INSERT INTO read_markers") ? 3 : 5;
      assert.equal(params.length % per, 0);
      rows += params.length / per;
      return Promise.resolve({} as ResultSetHeader);
    },
  } as unknown as Sql;
  return { sql, texts, rows: () => rows };
}

Deno.test("MySQL: the markers and conversations of batches of 1 to 600 messages take at most nine statement texts each", async () => {
  const r = recorder();
  let expected = 0;
  for (let n = 1; n <= 600; n += 7) {
    const batch: NewMessage[] = [];
    for (let i = 0; i < n; i++) {
      batch.push(
        i % 2 === 0
          ? { kind: "salon", salonId: 1 + (i % 5), userId: 1000 + i, text: "hi", at: 1 }
          : { kind: "direct", fromUserId: 2000 + i, toUserId: 3000 + i, text: "hi", at: 1 },
      );
    }
    const salon = batch.filter((m) => m.kind === "salon").length;
    expected += salon + 2 * (n - salon);
    await afterBatch(r.sql, batch, batch.map((_, i) => i + 1));
  }
  const markers = [...r.texts].filter((t) => t.startsWith("INSERT INTO read_markers"));
  const conversations = [...r.texts].filter((t) => t.startsWith("INSERT INTO conversations"));
  assert.ok(markers.length <= 9, `${markers.length} marker statement texts`);
  assert.ok(conversations.length <= 9, `${conversations.length} conversation statement texts`);
  assert.equal(r.rows(), expected, "every row written once");
});
