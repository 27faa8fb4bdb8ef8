/**
 * What the bus itself costs per message (issue 15, item 6), apart from the
 * chat: one process opens two Redis buses, as two instances would, and sends
 * salon payloads of one message each (the relay's wire form, with a 100
 * character text) from one to the other: JSON encoding, the publish, Redis,
 * the subscriber, JSON parsing and `decodeSalonPayload`. It reports the CPU
 * of this process per message (both sides; Redis's own CPU is another
 * process's) and the rate. `deno task bench` runs it with the cluster
 * scenarios; alone: `deno run -A bench/bus_cost.ts redis://127.0.0.1:6379/0`.
 *
 * @module
 */

import process from "node:process";
import { openRedisBus } from "../bus/redis_bus.ts";
import { decodeSalonPayload } from "../runtime/salon_relay.ts";

/** The measure. */
export interface BusCost {
  /** Messages sent (and received). */
  messages: number;
  /** CPU of this process (publisher and subscriber) per message, µs. */
  cpuUsPerMessage: number;
  /** Messages per second, end to end. */
  perSecond: number;
  /** Bytes of one payload. */
  payloadBytes: number;
}

/** Most payloads published and not yet received at once. */
const WINDOW = 500;

/** Sends `n` salon payloads from one bus to another through Redis at `url`. */
export async function measureBusCost(url: string, n = 20_000): Promise<BusCost> {
  const prefix = `bench_bus_${crypto.randomUUID().slice(0, 8)}`;
  const sender = await openRedisBus({ url, prefix, probeMs: 0 });
  const receiver = await openRedisBus({ url, prefix, probeMs: 0 });
  try {
    const text = "x".repeat(100);
    let received = 0;
    let wake: (() => void) | undefined;
    const unsubscribe = await receiver.subscribe("salon:1", (payload) => {
      if (decodeSalonPayload(payload)) received++;
      if (wake && received % 100 === 0) wake();
    });
    const payload = (id: number) =>
      JSON.stringify({
        o: "bench",
        m: [{ id, at: Date.now(), f: ["alice", "Alice"], t: text }],
      });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let id = 1; id <= n; id++) {
      await sender.publish("salon:1", payload(id));
      while (id - received > WINDOW) await new Promise<void>((r) => (wake = r));
    }
    const deadline = Date.now() + 10_000;
    while (received < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    await unsubscribe();
    if (received < n) throw new Error(`only ${received} of ${n} payloads came back within 10 s`);
    return {
      messages: n,
      cpuUsPerMessage: (cpu.user + cpu.system) / n,
      perSecond: n / seconds,
      payloadBytes: new TextEncoder().encode(payload(n)).length,
    };
  } finally {
    await sender.close();
    await receiver.close();
  }
}

if (import.meta.main) {
  const url = Deno.args[0] ?? Deno.env.get("CAUSERIE_TEST_BUS_URL");
  if (!url) {
    throw new Error("give the Redis URL: deno run -A bench/bus_cost.ts redis://host:port/0");
  }
  console.log(JSON.stringify(await measureBusCost(url)));
}
