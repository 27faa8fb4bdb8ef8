/**
 * An original server's database on the test MariaDB (`CAUSERIE_TEST_MYSQL_URL`),
 * built with the exact CREATE TABLE statements of its documentation (issue 13)
 * and filled with the awkward rows a real one holds.
 *
 * Two facts about those statements, checked on MariaDB 10.11:
 * - InnoDB refuses `salons_adheres` (its foreign key names `clients.username`,
 *   which has no index: errno 150). The original tables were MyISAM (MySQL's
 *   default engine before 5.5), which parses foreign keys and ignores them;
 *   the fixture creates them the same way, so orphan rows are possible, as
 *   they were.
 * - The database is created `latin1` (a MySQL server's default), and texts
 *   are inserted as raw bytes, as the old server's latin1 connection stored
 *   the UTF-8 its clients sent: `HEX(contenu)` shows exactly the bytes given.
 *
 * @module
 */

import { createHash } from "node:crypto";
import mysql from "mysql2/promise";
import { parseMysqlUrl } from "../store/mysql_migrate.ts";
import { withAdmin } from "./mysql_fixture.ts";

/** The original schema, word for word. */
export const ORIGINAL_DDL = [
  "CREATE TABLE clients (client_id INT AUTO_INCREMENT PRIMARY KEY, username VARCHAR(255) NOT NULL, alias VARCHAR(255) NOT NULL, password_hash VARCHAR(64) NOT NULL, status VARCHAR(20) DEFAULT 'disconnected')",
  "CREATE TABLE salons (salon_id INT AUTO_INCREMENT PRIMARY KEY, nom_salon VARCHAR(255) NOT NULL)",
  "CREATE TABLE salons_adheres (id INT AUTO_INCREMENT PRIMARY KEY, username VARCHAR(255) NOT NULL, salon_id INT NOT NULL, FOREIGN KEY (username) REFERENCES clients(username), FOREIGN KEY (salon_id) REFERENCES salons(salon_id))",
  "CREATE TABLE messages (message_id INT AUTO_INCREMENT PRIMARY KEY, client_id INT NOT NULL, salon_id INT NOT NULL, contenu TEXT, timestamp TIMESTAMP DEFAULT CURRENT_TIMESTAMP, FOREIGN KEY (client_id) REFERENCES clients(client_id), FOREIGN KEY (salon_id) REFERENCES salons(salon_id))",
];

/** Unsalted hex SHA-256 of the UTF-8 password, as the original server stored it. */
export function sha256(password: string): string {
  return createHash("sha256").update(password, "utf8").digest("hex");
}

/** An original database: its name, URL, and helpers to add rows. */
export interface OriginalDatabase {
  /** Database name. */
  name: string;
  /** `mysql://...` URL of it (the test server's credentials). */
  url: string;
  /** Runs statements with bound parameters on it (Uint8Array parameters go in as raw bytes). */
  run(sql: string, params?: Array<string | number | Uint8Array | null>): Promise<void>;
  /** Drops it. */
  drop(): Promise<void>;
}

/** Creates an empty original database (latin1, MyISAM, the exact DDL). */
export async function originalDatabase(): Promise<OriginalDatabase> {
  const base = new URL(Deno.env.get("CAUSERIE_TEST_MYSQL_URL")!);
  const prefix = decodeURIComponent(base.pathname.slice(1)).replace(/[^A-Za-z0-9_]/g, "_");
  const name = `${prefix}_orig_${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
  await withAdmin((conn) => conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET latin1`));
  await withAdmin(async (conn) => {
    await conn.query("SET SESSION default_storage_engine = MyISAM");
    for (const ddl of ORIGINAL_DDL) await conn.query(ddl);
  }, name);
  base.pathname = `/${name}`;
  return {
    name,
    url: base.toString(),
    run: async (sql, params = []) => {
      // A latin1 connection, as the old server's: the bytes sent are the bytes stored.
      const target = parseMysqlUrl(base.toString());
      const conn = await mysql.createConnection({
        host: target.host,
        port: target.port,
        user: target.user,
        password: target.password,
        database: name,
        charset: "latin1",
      });
      try {
        await conn.execute(sql, params);
      } finally {
        await conn.end();
      }
    },
    drop: () =>
      withAdmin(async (conn) => {
        await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      }),
  };
}

const utf8 = (s: string) => new TextEncoder().encode(s);

/** Epoch seconds of the fixture's messages: 2019-03-01 10:00:00 UTC plus minutes. */
export const T0_SECONDS = Date.UTC(2019, 2, 1, 10, 0, 0) / 1000;

/** Adds a client. */
export function addClient(
  db: OriginalDatabase,
  username: string | Uint8Array,
  alias: string | Uint8Array,
  passwordHash: string,
): Promise<void> {
  return db.run(
    "INSERT INTO clients (username, alias, password_hash) VALUES (?, ?, ?)",
    [
      typeof username === "string" ? utf8(username) : username,
      typeof alias === "string" ? utf8(alias) : alias,
      passwordHash,
    ],
  );
}

/** Adds a message: `text` as raw bytes (a string is encoded as UTF-8), at `T0_SECONDS + minutes*60`. */
export function addMessage(
  db: OriginalDatabase,
  clientId: number,
  salonId: number,
  text: string | Uint8Array | null,
  minutes: number,
): Promise<void> {
  return db.run(
    "INSERT INTO messages (client_id, salon_id, contenu, `timestamp`) VALUES (?, ?, ?, FROM_UNIXTIME(?))",
    [clientId, salonId, typeof text === "string" ? utf8(text) : text, T0_SECONDS + minutes * 60],
  );
}

/** Adds a membership by username. */
export function addMembership(
  db: OriginalDatabase,
  username: string,
  salonId: number,
): Promise<void> {
  return db.run("INSERT INTO salons_adheres (username, salon_id) VALUES (?, ?)", [
    utf8(username),
    salonId,
  ]);
}

/** Passwords of the fixture's accounts. */
export const PASSWORDS = {
  Alice: "alice pass",
  alice: "the other alice",
  bob: "bob", // short: the original server had no length rule
  carol: "carol pass",
  dave: "dave pass",
  emile: "émile pass",
} as const;

/**
 * Fills an original database with the awkward rows: `Alice`/`alice`, a
 * duplicated alias (`Bob`), a control character in an alias, an upper-case
 * hex hash, a name with accents, a name too short, the placeholder `admin`
 * and `server`; six salons, one of them unknown to Causerie and one a case
 * duplicate of Général; memberships by username, one of an unknown user;
 * messages with an emoji, a character cut at the end, genuine latin1 bytes,
 * control characters, NULL, a blank text, a long text, an unknown author and
 * times out of id order.
 */
export async function fillAwkward(db: OriginalDatabase): Promise<void> {
  await addClient(db, "Alice", "Alice", sha256(PASSWORDS.Alice)); // 1
  await addClient(db, "alice", "Alice L.", sha256(PASSWORDS.alice)); // 2
  await addClient(db, "bob", "Bob", sha256(PASSWORDS.bob)); // 3
  await addClient(db, "carol", "Bob", sha256(PASSWORDS.carol)); // 4: duplicate alias
  await addClient(db, "dave", "Da\u0007ve", sha256(PASSWORDS.dave)); // 5: control character
  await addClient(db, "admin", "Administrateur", "hashed_admin_password"); // 6
  await addClient(db, "server", "Serveur", "hashed_server_password"); // 7
  await addClient(db, "émile", "Émile", sha256(PASSWORDS.emile).toUpperCase()); // 8
  await addClient(db, "x", "x", "not a hash"); // 9: too short, placeholder hash
  for (
    const salon of [
      "Général",
      "Blabla",
      "Comptabilité",
      "Informatique",
      "Marketing",
      "Jeux",
      "GÉNÉRAL",
    ]
  ) {
    await db.run("INSERT INTO salons (nom_salon) VALUES (?)", [utf8(salon)]);
  }
  await addMembership(db, "Alice", 1);
  await addMembership(db, "Alice", 3); // an approval salon
  await addMembership(db, "alice", 2);
  await addMembership(db, "carol", 6); // a salon Causerie does not configure
  await addMembership(db, "ghost", 2); // nobody of that name
  await addMembership(db, "bob", 99); // no such salon
  await addMessage(db, 1, 1, "Bonjour à tous", 10); // 1
  await addMessage(db, 2, 2, "salut 😀", 11); // 2
  await addMessage(db, 3, 3, new Uint8Array([...utf8("caf"), 0xe9, ...utf8(" au lait")]), 12); // 3
  await addMessage(db, 1, 1, new Uint8Array([...utf8("coupé "), 0xf0, 0x9f]), 5); // 4: earlier time
  await addMessage(db, 4, 6, "ligne 1\r\nligne 2\u001b[31m", 13); // 5
  await addMessage(db, 6, 1, "Le serveur redémarre", 14); // 6: the placeholder admin
  await addMessage(db, 5, 1, null, 15); // 7: NULL
  await addMessage(db, 3, 1, "   ", 16); // 8: blank
  await addMessage(db, 3, 1, "mot ".repeat(30).trim(), 17); // 9: 119 characters
  await addMessage(db, 42, 1, "from nobody", 18); // 10: unknown client
}
