import assert from "node:assert/strict";
import { createSecurityLog } from "../lib/security_log.ts";

Deno.test("security log: one JSON line per event, only the known fields, long values cut", () => {
  const lines: string[] = [];
  const log = createSecurityLog((line) => lines.push(line));
  log.record({ event: "login_failed", username: "bob", address: "192.0.2.1", outcome: "refused" });
  const sneaky = { event: "x", outcome: "y", username: "u".repeat(500), password: "hunter2" };
  log.record(sneaky as never);
  assert.equal(lines.length, 2);
  const first = JSON.parse(lines[0]);
  assert.equal(first.log, "security");
  assert.match(first.time, /^\d{4}-\d\d-\d\dT/);
  assert.deepEqual(
    {
      event: first.event,
      username: first.username,
      address: first.address,
      outcome: first.outcome,
    },
    { event: "login_failed", username: "bob", address: "192.0.2.1", outcome: "refused" },
  );
  const second = JSON.parse(lines[1]);
  assert.equal(second.password, undefined);
  assert.equal(second.username.length, 128);
  assert.ok(!lines[1].includes("hunter2"));
});
