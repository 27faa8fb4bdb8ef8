/**
 * What catching up costs a hello (PROTOCOL.md 5.2): with 100,000 messages in
 * Général, the reads behind `welcome.salons[]` (newest id, read marker, unread
 * count capped at 1000) and `welcome.directs` (50 most recent conversations),
 * timed as the hub runs them for each welcome. Not part of `deno task bench`:
 *
 *   deno run -A bench/catchup_cost.ts            # SQLite (a temporary file)
 *   CAUSERIE_TEST_MYSQL_URL=mysql://... deno run -A bench/catchup_cost.ts mysql
 *
 * @module
 */

import { DEFAULT_SALONS, parseSalons } from "../config/salons.ts";
import { openMysqlStore } from "../store/mysql.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import type { NewMessage, Store, UserRecord } from "../store/store.ts";
import { freshBenchDatabase } from "./mysql_db.ts";

const MESSAGES = 100_000;
const RUNS = 200;
const HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g";

/** Fills the store, then times the welcome's catch-up reads for three kinds of reader. */
async function measure(store: Store): Promise<void> {
  const t0 = Date.now();
  const salons = await store.syncSalons(parseSalons(DEFAULT_SALONS), t0);
  const general = salons[0].id;
  const users: UserRecord[] = [];
  for (let i = 0; i < 60; i++) {
    users.push(
      await store.createUser(
        { username: `user${i}`, alias: `User ${i}`, passwordHash: HASH, role: "member" },
        t0,
      ),
    );
  }
  const [reader, caughtUp, writer] = users;
  const filled = performance.now();
  for (let done = 0; done < MESSAGES; done += 1000) {
    const batch: NewMessage[] = Array.from({ length: 1000 }, (_, i) => ({
      kind: "salon",
      salonId: general,
      userId: users[3 + ((done + i) % 50)].id,
      text: `message ${done + i} with some ordinary text in it`,
      at: t0 + done + i,
    }));
    await store.appendMessages(batch);
  }
  await store.appendMessages([
    { kind: "salon", salonId: general, userId: writer.id, text: "the newest", at: t0 + MESSAGES },
  ]);
  // 55 conversations for the reader, four messages each, the last one unread.
  const directs: NewMessage[] = [];
  for (let i = 0; i < 55; i++) {
    for (let k = 0; k < 4; k++) {
      const other = users[4 + i];
      directs.push({
        kind: "direct",
        fromUserId: k % 2 ? other.id : reader.id,
        toUserId: k % 2 ? reader.id : other.id,
        text: `direct ${i}.${k}`,
        at: t0 + MESSAGES + i * 10 + k,
      });
    }
  }
  await store.appendMessages(directs);
  await store.markRead({ userId: caughtUp.id, salonId: general, id: MESSAGES - 10 });
  console.log(
    `${store.kind}: ${MESSAGES} messages in Général and ${directs.length} directs written in ${
      ((performance.now() - filled) / 1000).toFixed(1)
    } s`,
  );

  const memberSalons = [general];
  const cases: Array<[string, number]> = [
    ["no marker (unread capped at 1000), 50 conversations", reader.id],
    ["marker 11 behind the newest", caughtUp.id],
    ["wrote the newest message (nothing unread)", writer.id],
  ];
  for (const [label, userId] of cases) {
    const times: number[] = [];
    let shown = "";
    for (let run = 0; run < RUNS; run++) {
      const start = performance.now();
      const [catchup, page] = await Promise.all([
        store.salonCatchup(userId, memberSalons),
        store.conversations(userId, { limit: 50 }),
      ]);
      times.push(performance.now() - start);
      shown = `latest ${catchup[0].latest}, lastRead ${catchup[0].lastRead}, unread ${
        catchup[0].unread
      }, ${page.conversations.length} conversations`;
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    const p95 = times[Math.floor(times.length * 0.95)];
    console.log(
      `  ${label}: median ${median.toFixed(3)} ms, p95 ${p95.toFixed(3)} ms (${shown})`,
    );
  }
}

if (import.meta.main) {
  if (Deno.args[0] === "mysql") {
    const url = Deno.env.get("CAUSERIE_TEST_MYSQL_URL");
    if (!url) throw new Error("set CAUSERIE_TEST_MYSQL_URL to a mysql:// URL");
    const db = await freshBenchDatabase(url);
    try {
      const store = await openMysqlStore(db.url);
      try {
        await measure(store);
      } finally {
        await store.close();
      }
    } finally {
      await db.drop();
    }
  } else {
    const dir = await Deno.makeTempDir({ prefix: "causerie-catchup-" });
    try {
      const store = await openSqliteStore(`${dir}/c.db`);
      try {
        await measure(store);
      } finally {
        await store.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
}
