/**
 * A Worker that measures the server's responsiveness during a login storm:
 * one authenticated session sending `ping` every 60 ms (one at a time: under
 * Causerie's per-session request budget of 20 frames/s) and
 * timing each `pong`, on its own thread so that the load generator's busy
 * event loop does not count as the server's lag. It also records its own
 * timer lateness, to show the probe itself kept up.
 *
 * Messages: `{cmd:"init", kind, port, credentials}` -> `{ready:true}`;
 * `{cmd:"start"}`; `{cmd:"stop"}` -> the figures.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { Histogram } from "./stats.ts";
import { type Credentials, nullSink, Session, type TargetKind } from "./session.ts";

// Causerie's request budget (20 frames/s per session) refuses faster pings, and a
// refused ping never gets its pong: stay under it.
const INTERVAL_MS = 60;
const samples: Array<{ at: number; rtt: number }> = [];
let startAt = Infinity;
let running = true;
let worstTimerLate = 0;

async function loop(session: Session): Promise<void> {
  const deadline = performance.now() + 10 * 60_000; // bounded, whatever happens
  while (running && performance.now() < deadline) {
    const at = performance.now();
    try {
      samples.push({ at, rtt: await session.ping(30_000) });
    } catch {
      samples.push({ at, rtt: 30_000 });
    }
    const wait = INTERVAL_MS - (performance.now() - at);
    const t = performance.now();
    await new Promise((r) => setTimeout(r, Math.max(0, wait)));
    if (at >= startAt) worstTimerLate = Math.max(worstTimerLate, performance.now() - t - wait);
  }
}

let session: Session | undefined;
let looping: Promise<void> | undefined;

self.onmessage = async (e: MessageEvent) => {
  const msg = e.data as {
    cmd: string;
    kind?: TargetKind;
    port?: number;
    credentials?: Credentials;
  };
  try {
    if (msg.cmd === "init") {
      session = await Session.connect({
        kind: msg.kind!,
        port: msg.port!,
        credentials: msg.credentials!,
        sink: nullSink,
      });
      looping = loop(session);
      self.postMessage({ ready: true });
    } else if (msg.cmd === "start") {
      startAt = performance.now();
    } else if (msg.cmd === "stop") {
      running = false;
      await looping;
      session?.close();
      const base = new Histogram();
      const storm = new Histogram();
      for (const s of samples) {
        if (s.at < startAt && s.at >= startAt - 1000) base.record(s.rtt);
        else if (s.at >= startAt) storm.record(s.rtt);
      }
      const baseP50 = base.percentile(0.5);
      self.postMessage({
        pings: storm.count,
        baselineRttP50: Math.round(baseP50 * 100) / 100,
        rtt: storm.summary(),
        worstLagMs: Math.round(Math.max(0, storm.max - baseP50) * 100) / 100,
        probeTimerLateMaxMs: Math.round(worstTimerLate * 100) / 100,
      });
    }
  } catch (error) {
    self.postMessage({ ready: false, error: (error as Error).message });
  }
};
