/**
 * A fresh MySQL/MariaDB database for one benchmark run, on the server named by
 * `CAUSERIE_TEST_MYSQL_URL`: created empty before the run (named after the
 * URL's database plus a random suffix, so a run never meets users left by an
 * earlier one) and dropped after it.
 *
 * @module
 */

import mysql from "mysql2/promise";
import { parseMysqlUrl } from "../store/mysql_migrate.ts";

/** A database made for this run. */
export interface BenchDatabase {
  /** The URL the server under test gets. */
  url: string;
  /** Drops the database. */
  drop(): Promise<void>;
}

/** Creates an empty database beside the one `url` names. */
export async function freshBenchDatabase(url: string): Promise<BenchDatabase> {
  const target = parseMysqlUrl(url);
  const name = `${target.database}_bench_${crypto.randomUUID().slice(0, 8)}`;
  const admin = () =>
    mysql.createConnection({
      host: target.host,
      port: target.port,
      user: target.user,
      password: target.password,
      charset: "utf8mb4",
    });
  const conn = await admin();
  try {
    // An identifier cannot be a bound parameter: the name is ours (URL database + hex).
    if (!/^[A-Za-z0-9_]+$/.test(name)) {
      throw new Error(`the database name ${name} is not plain ASCII letters, digits and _`);
    }
    await conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  } finally {
    await conn.end();
  }
  const fresh = new URL(url);
  fresh.pathname = `/${name}`;
  return {
    url: fresh.toString(),
    async drop() {
      const c = await admin();
      try {
        await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await c.end();
      }
    },
  };
}
