/**
 * `deno task import-legacy --from mysql://user:pass@host:port/db [--batch N]`:
 * imports the original server's database into the database named by
 * `CAUSERIE_DB` (docs/operations.md, "Moving from the original server").
 *
 * Exit status: 0 imported (the summary is on stdout), 1 refused or failed
 * (one line on stderr: the source cannot be read or is not the original
 * schema, a server uses the target, the configuration is invalid, a batch
 * failed: what was committed stays and a re-run resumes), 64 a mistake in
 * the command line.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { ConfigError, loadConfig, readEnvironment } from "../config/config.ts";
import { openStore } from "../store/open.ts";
import type { Store } from "../store/store.ts";
import { targetBusy } from "./guard.ts";
import { importLegacy, type Progress } from "./importer.ts";
import { openSource, shownUrl, type Source, SourceError } from "./source.ts";
import { formatSummary, progressLine } from "./summary.ts";

const USAGE = "usage: deno task import-legacy --from mysql://user:password@host:3306/database " +
  "[--batch ROWS] (into the database of CAUSERIE_DB)";

function fail(message: string): number {
  console.error(`import-legacy: ${message}`);
  return 1;
}

/** Runs the import with `args`; returns the exit status. */
export async function main(args: string[]): Promise<number> {
  let from: string;
  let batchSize = 5000;
  try {
    const { values } = parseArgs({
      args,
      options: { from: { type: "string" }, batch: { type: "string" } },
      strict: true,
      allowPositionals: false,
    });
    if (values.from === undefined) throw new Error("--from is required");
    from = values.from;
    if (values.batch !== undefined) {
      batchSize = Number(values.batch);
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) {
        throw new Error("--batch must be a whole number from 1 to 100000");
      }
    }
  } catch (e) {
    console.error(`import-legacy: ${(e as Error).message}; ${USAGE}`);
    return 64;
  }

  let config;
  try {
    config = loadConfig(readEnvironment());
  } catch (e) {
    if (e instanceof ConfigError) return fail(e.message);
    throw e;
  }
  const target = config.db.startsWith("mysql:") ? shownUrl(config.db) : config.db;
  const busy = await targetBusy(config.db, config.adminSocket);
  if (busy) return fail(busy);

  let source: Source;
  try {
    source = await openSource(from);
  } catch (e) {
    if (e instanceof SourceError) return fail(e.message);
    throw e;
  }
  let store: Store;
  try {
    store = await openStore(config.db);
  } catch (e) {
    await source.close();
    return fail(`cannot open CAUSERIE_DB ${target}: ${(e as Error).message}`);
  }
  const terminal = Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  const onProgress = terminal
    ? (p: Progress) => Deno.stderr.writeSync(encoder.encode(`\r${progressLine(p)}\x1b[K`))
    : undefined;
  try {
    const report = await importLegacy(source, store, {
      salons: config.salons,
      maxText: config.maxText,
      batchSize,
      onProgress,
    });
    if (terminal) Deno.stderr.writeSync(encoder.encode("\r\x1b[K"));
    console.log(formatSummary(report, { source: source.shown, target }));
    return 0;
  } catch (e) {
    if (terminal) Deno.stderr.writeSync(encoder.encode("\n"));
    const message = ((e as Error).message ?? String(e)).replace(/\s*\n\s*/g, " ");
    return fail(
      `the import stopped: ${message}; every batch committed before stays, and running ` +
        `the same command again resumes from there`,
    );
  } finally {
    await source.close().catch(() => {});
    await store.close();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
