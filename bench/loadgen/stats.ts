/**
 * Latency histograms (1% relative precision, constant memory) and process
 * figures read from /proc (CPU time, RSS, open-file limit).
 *
 * @module
 */

const GROWTH = Math.log(1.01);
const BUCKETS = 2400; // 1 µs .. ~26,000 s at 1% steps

/** A log-bucketed histogram of latencies in milliseconds. */
export class Histogram {
  readonly #counts = new Uint32Array(BUCKETS);
  /** Samples recorded, plus the ones counted as lost. */
  count = 0;
  /** Samples that never arrived (counted as infinitely late). */
  lost = 0;
  /** Largest recorded value, ms. */
  max = 0;
  #sum = 0;

  /** Records one latency, ms. */
  record(ms: number): void {
    const us = ms > 0.001 ? ms * 1000 : 1;
    let i = Math.floor(Math.log(us) / GROWTH);
    if (i >= BUCKETS) i = BUCKETS - 1;
    this.#counts[i]++;
    this.count++;
    this.#sum += ms;
    if (ms > this.max) this.max = ms;
  }

  /** Counts `n` samples that never arrived. */
  recordLost(n: number): void {
    if (n <= 0) return;
    this.lost += n;
    this.count += n;
  }

  /** Mean of the recorded values, ms. */
  get mean(): number {
    const got = this.count - this.lost;
    return got > 0 ? this.#sum / got : 0;
  }

  /** The value below which `p` (0..1) of the samples fall, ms; Infinity when lost ones decide. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil(p * this.count);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i];
      if (seen >= rank) return Math.min(this.max, Math.exp((i + 1) * GROWTH) / 1000);
    }
    return Infinity;
  }

  /** Adds another histogram's samples. */
  merge(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.#counts[i] += other.#counts[i];
    this.count += other.count;
    this.lost += other.lost;
    this.#sum += other.#sum;
    if (other.max > this.max) this.max = other.max;
  }

  /** p50/p90/p99/max (ms, rounded to 0.01) and counts. */
  summary(): LatencySummary {
    const r = (v: number) => Number.isFinite(v) ? Math.round(v * 100) / 100 : null;
    return {
      n: this.count,
      lost: this.lost,
      p50: r(this.percentile(0.5)),
      p90: r(this.percentile(0.9)),
      p99: r(this.percentile(0.99)),
      max: this.lost > 0 ? null : r(this.max),
    };
  }
}

/** Latency percentiles in ms; null means infinite (samples lost). */
export interface LatencySummary {
  /** Samples. */
  n: number;
  /** Of which never arrived. */
  lost: number;
  /** Median. */
  p50: number | null;
  /** 90th percentile. */
  p90: number | null;
  /** 99th percentile. */
  p99: number | null;
  /** Worst. */
  max: number | null;
}

/** CPU time and memory of a process, from /proc. */
export interface ProcSample {
  /** Wall clock, ms (performance.now()). */
  at: number;
  /** User + system CPU time, ms. */
  cpuMs: number;
  /** Resident set size, bytes. */
  rss: number;
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** Reads CPU time and RSS of `pid` ("self" for this process); undefined when gone. */
export function sampleProc(pid: number | "self"): ProcSample | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    const cpuMs = (Number(fields[11]) + Number(fields[12])) * TICK_MS;
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return { at: performance.now(), cpuMs, rss: m ? Number(m[1]) * 1024 : 0 };
  } catch {
    return undefined;
  }
}

/** CPU use between two samples, in percent of one core. */
export function cpuPercent(a: ProcSample | undefined, b: ProcSample | undefined): number | null {
  if (!a || !b || b.at <= a.at) return null;
  return Math.round((b.cpuMs - a.cpuMs) / (b.at - a.at) * 1000) / 10;
}

/** The soft open-file limit of `pid`, from /proc/PID/limits. */
export function openFileLimit(pid: number | "self"): number | undefined {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/limits`);
    const m = /Max open files\s+(\d+)/.exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Open file descriptors of `pid`. */
export function openFiles(pid: number | "self"): number | undefined {
  try {
    let n = 0;
    for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) n++;
    return n;
  } catch {
    return undefined;
  }
}

/** Busy and total CPU time of the whole machine (all cores), in ticks. */
export interface MachineSample {
  /** Busy ticks. */
  busy: number;
  /** All ticks. */
  total: number;
}

/** Reads the first line of /proc/stat. */
export function sampleMachine(): MachineSample | undefined {
  try {
    const line = Deno.readTextFileSync("/proc/stat").split("\n")[0];
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = v[3] + (v[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** Machine CPU use between two samples, percent of all cores. */
export function machinePercent(
  a: MachineSample | undefined,
  b: MachineSample | undefined,
): number | null {
  if (!a || !b || b.total <= a.total) return null;
  return Math.round((b.busy - a.busy) / (b.total - a.total) * 1000) / 10;
}
