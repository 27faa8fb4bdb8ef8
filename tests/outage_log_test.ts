/**
 * lib/outage_log.ts: a step failing at every retry while a dependency is down
 * is logged once per outage, and once when it works again.
 */

import assert from "node:assert/strict";
import type { LogFields, Logger } from "../lib/log.ts";
import { OutageLog } from "../lib/outage_log.ts";

function recorder(): Logger & { lines: Array<[string, LogFields | undefined]> } {
  const lines: Array<[string, LogFields | undefined]> = [];
  const at = (level: string) => (_message: string, fields?: LogFields) =>
    lines.push([level, fields]);
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

Deno.test("outage log: one warning per outage and one line when it works again, per step", () => {
  const log = recorder();
  const outages = new OutageLog(log);
  outages.worked("salon_check", "fine"); // never failed: nothing
  for (let i = 0; i < 5; i++) outages.failed("salon_check", "the check failed", new Error("down"));
  outages.failed("users_check", "the other check failed", new Error("down"));
  outages.worked("salon_check", "works again");
  outages.worked("salon_check", "works again");
  outages.failed("salon_check", "the check failed", new Error("down again"));
  assert.deepEqual(log.lines.map(([level, f]) => `${level} ${f?.event}`), [
    "warn salon_check_failed",
    "warn users_check_failed",
    "info salon_check_recovered",
    "warn salon_check_failed",
  ]);
  assert.equal((log.lines[0][1]?.error as Error).message, "down");
});
