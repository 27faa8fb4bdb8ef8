/**
 * runtime/cluster_channel.ts on a memory bus: this process's own publications
 * are ignored, what `decode` refuses is logged (once a minute), and a
 * receiver that throws is logged rather than swallowed by the bus.
 */

import assert from "node:assert/strict";
import { MemoryBroker, MemoryBus } from "../bus/memory_bus.ts";
import type { LogFields, Logger } from "../lib/log.ts";
import { clusterLink, openClusterChannel } from "../runtime/cluster_channel.ts";

function recorder(): Logger & { events: string[] } {
  const events: string[] = [];
  const at = (_m: string, f?: LogFields) => events.push(f?.event ?? "");
  return { events, debug: at, info: at, warn: at, error: at };
}

Deno.test("cluster channel: own publications ignored, refused payloads and failing receivers logged", async () => {
  const broker = new MemoryBroker();
  const log = recorder();
  const got: number[] = [];
  const a = clusterLink(new MemoryBus(broker, "db"));
  const b = clusterLink(new MemoryBus(broker, "db"));
  const decode = (body: Record<string, unknown>) =>
    Number.isSafeInteger(body.n) ? body.n as number : undefined;
  const onA = await openClusterChannel({ link: a, name: "t", decode, receive: () => {}, log });
  const onB = await openClusterChannel({
    link: b,
    name: "t",
    decode,
    receive: (n) => {
      if (n === 13) throw new Error("a bug");
      got.push(n);
    },
    log,
  });
  try {
    onB.publish({ n: 1 }); // B's own: not applied by B
    onA.publish({ n: 2 });
    onA.publish({ n: "x" }); // refused by decode
    onA.publish({ n: "y" }); // refused again: logged once
    onA.publish({ n: 13 }); // the receiver throws
    onA.publish({ n: 3 }); // the channel goes on
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(got, [2, 3]);
    assert.deepEqual(log.events.filter((e) => e !== ""), ["bus_malformed", "bus_receive_failed"]);
  } finally {
    await onA.stop();
    await onB.stop();
  }
});
