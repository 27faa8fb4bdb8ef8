/**
 * Generates an original server's database for the import benchmark
 * (docs/benchmarks.md, "Importing the original database"): the exact
 * original schema (MyISAM and latin1, as tests/legacy_fixture.ts explains),
 * N users with real SHA-256 password hashes, the five salons, two or three
 * memberships per user and M messages (20-200 bytes of UTF-8 text, accents
 * and an emoji now and then, one a minute), written with multi-row INSERTs.
 *
 * ```sh
 * deno run -A bench/legacy_fixture.ts --url mysql://user:pass@127.0.0.1:3306/legacy_bench \
 *   [--users 1000] [--messages 1000000]
 * ```
 *
 * The database is dropped and created again. The user needs CREATE and DROP on it.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import mysql from "mysql2/promise";
import { parseMysqlUrl } from "../store/mysql_migrate.ts";
import { ORIGINAL_DDL } from "../tests/legacy_fixture.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    url: { type: "string" },
    users: { type: "string", default: "1000" },
    messages: { type: "string", default: "1000000" },
  },
});
if (!values.url) {
  console.error("usage: deno run -A bench/legacy_fixture.ts --url mysql://u:p@host:port/db");
  Deno.exit(64);
}
const target = parseMysqlUrl(values.url);
const users = Number(values.users);
const messages = Number(values.messages);
if (!/^[A-Za-z0-9_]+$/.test(target.database)) {
  console.error("the database name must be letters, digits and _");
  Deno.exit(64);
}

const conn = await mysql.createConnection({
  host: target.host,
  port: target.port,
  user: target.user,
  password: target.password,
  charset: "latin1",
});
const started = performance.now();
// Identifiers cannot be bound; this one was checked above.
await conn.query(`DROP DATABASE IF EXISTS \`${target.database}\``);
await conn.query(`CREATE DATABASE \`${target.database}\` CHARACTER SET latin1`);
await conn.query(`USE \`${target.database}\``);
await conn.query("SET SESSION default_storage_engine = MyISAM");
for (const ddl of ORIGINAL_DDL) await conn.query(ddl);

const sha = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
/** A latin1 connection stores the bytes it is sent: UTF-8 text goes in as it is. */
const raw = (s: string) => Buffer.from(s, "utf8").toString("latin1");

async function insertRows(table: string, columns: string, rows: unknown[][], per = 5000) {
  for (let i = 0; i < rows.length; i += per) {
    await conn.query(`INSERT INTO ${table} (${columns}) VALUES ?`, [rows.slice(i, i + per)]);
  }
}

await insertRows(
  "clients",
  "username, alias, password_hash",
  Array.from(
    { length: users },
    (_, i) => [`user${i + 1}`, raw(`Utilisateur ${i + 1}`), sha(`password${i + 1}`)],
  ),
);
const salons = ["Général", "Blabla", "Comptabilité", "Informatique", "Marketing"];
await insertRows("salons", "nom_salon", salons.map((s) => [raw(s)]));
const memberships: unknown[][] = [];
for (let u = 1; u <= users; u++) {
  memberships.push([`user${u}`, 1], [`user${u}`, 2 + (u % 4)]);
  if (u % 3 === 0) memberships.push([`user${u}`, 2 + ((u + 1) % 4)]);
}
await insertRows("salons_adheres", "username, salon_id", memberships);

const words = [
  "bonjour",
  "réunion",
  "café",
  "demain",
  "projet",
  "merci",
  "à",
  "plus",
  "tard",
  "😀",
  "déjà",
  "vu",
];
let seed = 42;
const rand = (n: number) => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
};
const t0 = Date.UTC(2015, 0, 1) / 1000;
const per = 5000;
for (let done = 0; done < messages; done += per) {
  const rows: unknown[][] = [];
  for (let i = done; i < Math.min(messages, done + per); i++) {
    const n = 3 + rand(25);
    const text = Array.from({ length: n }, () => words[rand(words.length)]).join(" ");
    const date = new Date((t0 + i * 60) * 1000).toISOString().slice(0, 19).replace("T", " ");
    rows.push([1 + rand(users), 1 + rand(salons.length), raw(text), date]);
  }
  await conn.query(
    "INSERT INTO messages (client_id, salon_id, contenu, `timestamp`) VALUES ?",
    [rows],
  );
}
await conn.end();
console.error(
  `generated ${users} users, ${memberships.length} memberships, ${messages} messages in ${
    ((performance.now() - started) / 1000).toFixed(1)
  } s`,
);
console.log(values.url);
