/**
 * Summarizes a V8 `.cpuprofile` (from `deno run --cpu-prof`): self time per
 * function, and total (inclusive) time per function, top N of each.
 *
 * `deno run --allow-read bench/profile.ts FILE.cpuprofile [N]`
 *
 * @module
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** One function's share of a profile. */
export interface ProfileEntry {
  /** `name (file:line)`. */
  fn: string;
  /** Milliseconds. */
  ms: number;
  /** Percent of the sampled time. */
  pct: number;
}

/** Self and inclusive time per function. */
export interface ProfileSummary {
  /** Sampled time, ms. */
  totalMs: number;
  /** Percent of samples spent idle (the event loop waiting). */
  idlePct: number;
  /** Top functions by self time. */
  self: ProfileEntry[];
  /** Top functions by inclusive time (excluding the roots). */
  inclusive: ProfileEntry[];
  /** Inclusive time of the functions of {@link WATCH} found in the profile. */
  watch: ProfileEntry[];
  /** Time of a callee inside a caller, for the pairs of {@link WATCH_WITHIN}. */
  within: Array<ProfileEntry & { caller: string }>;
}

/** `[caller prefix, callee]`: how much of the caller's time the callee takes. */
export const WATCH_WITHIN: Array<[string, string]> = [
  ["appendMessages (store/sqlite.ts", "exec"],
  ["appendMessages (store/sqlite.ts", "run"],
  ["sessionUser (store/sqlite.ts", "exec"],
];

/**
 * Frames worth following on Causerie's hot paths, as `name (file` prefixes:
 * frame parsing, connection spawn and stop, the group commit, fan-out,
 * direct delivery, token hellos, presence.
 */
export const WATCH = [
  "onMessage (routes/ws.ts",
  "parseFrame (protocol/frames.ts",
  "#commit (store/message_writer.ts",
  "appendMessages (store/sqlite.ts",
  "exec", // node:sqlite statements, COMMIT and its fsync included
  "deliverMessage (actors/salon.ts",
  "deliverDirect (actors/server.ts",
  "send (routes/ws.ts",
  "op_ws_send_text",
  "sessionUser (store/sqlite.ts",
  "flushPresence (actors/server.ts",
  "resolveSpawn (npm:xstate",
  "resolveStop (npm:xstate",
  "(garbage collector)",
];

function label(node: ProfileNode, root: string): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName || "(anonymous)";
  if (!url) return name;
  let file = url.replace(/^file:\/\//, "");
  if (file.startsWith(root)) file = file.slice(root.length + 1);
  file = file.replace(/^.*\/node_modules\/\.deno\//, "npm:").replace(/^.*\/node_modules\//, "npm:");
  file = file.replace(/^ext:/, "ext:");
  return `${name} (${file}:${lineNumber + 1})`;
}

/** Reads and summarizes a profile; paths are shown relative to `root`. */
export function summarizeProfile(path: string, top = 15, root = Deno.cwd()): ProfileSummary {
  const profile = JSON.parse(Deno.readTextFileSync(path)) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  let total = 0;
  let idle = 0;
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  const withinUs = new Map<string, { caller: string; us: number }>();
  for (const [id, us] of selfUs) {
    total += us;
    const node = byId.get(id)!;
    const name = label(node, root);
    if (node.callFrame.functionName === "(idle)") idle += us;
    self.set(name, (self.get(name) ?? 0) + us);
    // Inclusive: every distinct function on the stack gets the sample once.
    const seen = new Set<string>();
    const stack: string[] = [];
    let cur: number | undefined = id;
    while (cur !== undefined) {
      const n = byId.get(cur)!;
      const l = label(n, root);
      stack.push(l);
      if (!seen.has(l)) {
        seen.add(l);
        incl.set(l, (incl.get(l) ?? 0) + us);
      }
      cur = parent.get(cur);
    }
    for (const [caller, callee] of WATCH_WITHIN) {
      const c = stack.findIndex((l) => l.startsWith(caller));
      if (c < 0) continue;
      const e = stack.findIndex((l) => l === callee || l.startsWith(`${callee} (`));
      if (e < 0 || e > c) continue;
      const key = `${caller}|${callee}`;
      const entry = withinUs.get(key) ?? { caller: stack[c], us: 0 };
      entry.us += us;
      withinUs.set(key, entry);
    }
  }
  const list = (m: Map<string, number>, skip: (k: string) => boolean) =>
    [...m.entries()].filter(([k]) => !skip(k)).sort((a, b) => b[1] - a[1]).slice(0, top).map((
      [fn, us],
    ) => ({ fn, ms: Math.round(us / 1000), pct: Math.round(us / total * 1000) / 10 }));
  const roots = (k: string) => k.startsWith("(root)") || k.startsWith("(program)");
  const watch: ProfileEntry[] = [];
  for (const w of WATCH) {
    let us = 0;
    let fn = "";
    for (const [k, v] of incl) {
      const match = w.includes(" ") ? k.startsWith(w) : k === w;
      if (match && v > us) {
        us = v;
        fn = k;
      }
    }
    if (us > 0) {
      watch.push({ fn, ms: Math.round(us / 1000), pct: Math.round(us / total * 1000) / 10 });
    }
  }
  const within = [...withinUs.entries()].map(([key, { caller, us }]) => ({
    caller,
    fn: key.split("|")[1],
    ms: Math.round(us / 1000),
    pct: Math.round(us / total * 1000) / 10,
  }));
  return {
    totalMs: Math.round(total / 1000),
    idlePct: Math.round(idle / total * 1000) / 10,
    self: list(self, (k) => k.startsWith("(idle)")),
    inclusive: list(incl, (k) => roots(k) || k.startsWith("(idle)")),
    watch,
    within,
  };
}

if (import.meta.main) {
  const [path, n] = Deno.args;
  const s = summarizeProfile(path, Number(n ?? 15));
  console.log(`sampled ${s.totalMs} ms, idle ${s.idlePct}%`);
  console.log("self time:");
  for (const e of s.self) console.log(`  ${e.pct.toFixed(1).padStart(5)}%  ${e.ms} ms  ${e.fn}`);
  console.log("watched frames (inclusive):");
  for (const e of s.watch) console.log(`  ${e.pct.toFixed(1).padStart(5)}%  ${e.ms} ms  ${e.fn}`);
  for (const e of s.within) console.log(`  ${e.ms} ms of ${e.caller} in ${e.fn}`);
  console.log("inclusive time:");
  for (const e of s.inclusive) {
    console.log(`  ${e.pct.toFixed(1).padStart(5)}%  ${e.ms} ms  ${e.fn}`);
  }
}
