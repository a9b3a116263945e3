/**
 * The load benchmark's result (bench/load.ts): its shape, the issue 7 and 20 targets judged
 * on it, and its text form.
 *
 * @module
 */
import { type LoadError, type Step, STEPS } from "./load_worker.ts";

/** What to run. */
export interface LoadOptions {
  /** Timed seconds (default 60). */
  seconds?: number;
  /** Untimed warm-up seconds before (default 5). */
  warmupSeconds?: number;
  /**
   * Registered users (default 160); each has its own loopback address and starts at most
   * one journey per 550 ms, so N users cap the rate at N / 0.55 journeys/s (160: ≈ 290/s).
   */
  users?: number;
  /** Journeys in flight (default 32). */
  concurrency?: number;
  /** Generator workers (default 2). */
  workers?: number;
  /** `LOG_LEVEL` of the started processes (default: unset, i.e. their default `info`). */
  logLevel?: string;
  /** `DENO_V8_FLAGS` for the started processes (e.g. `--max-old-space-size=48` to tell a leak from lazy GC). */
  v8Flags?: string;
  /** Progress lines on stderr (default true). */
  verbose?: boolean;
  /**
   * 1 (default): `deno task start` as it is, sessions in memory. 2: its web server on Redis
   * and a second one beside it, every request round robin (bench/load_scale.ts).
   */
  webServers?: 1 | 2;
}

/** Percentiles of one series, ms. */
export interface Latency {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** One process of the stack. */
export interface ProcessFigures {
  name: string;
  pid: number | null;
  /** VmRSS after the warm-up and at the end of the timed phase, KiB. */
  rssBeforeKiB: number | null;
  rssAfterKiB: number | null;
  /** Highest VmRSS seen (sampled every second in the timed phase), KiB. */
  rssPeakKiB: number | null;
  /** VmRSS every 5 s of the timed phase, KiB (the trend behind before/after). */
  rssSeriesKiB: (number | null)[];
  /**
   * V8 heap in use after each full GC (live objects, MB) from the last one before the
   * timed window to the end, and the heap V8 kept committed at the last one: the leak
   * indicator, RSS also grows when V8 decides to keep more heap.
   */
  liveHeapAfterGcMb: number[];
  committedHeapMb: number | null;
  /** CPU time (user + system) per journey in the timed phase. */
  cpuMsPerJourney: number;
  /** Share of one core during the timed phase (1 = one core busy all the time). */
  cores: number;
}

/** A target of issue 7 or 20 and whether this run met it. */
export interface LoadTarget {
  target: string;
  /** `inconclusive`: only for memory, when RSS grew but no two full GCs show the live heap. */
  status: "met" | "not met" | "inconclusive";
  figures: string;
}

/** The benchmark's result (`suites.load` in latest.json). */
export interface LoadResult {
  kind: "load";
  date: string;
  database: "postgres";
  config: {
    seconds: number;
    warmupSeconds: number;
    users: number;
    concurrency: number;
    workers: number;
    userIntervalMs: number;
    logLevel: string;
    cores: number;
  };
  notes: string[];
  /** Journeys completed inside the timed window. */
  journeys: number;
  perSecond: { journeys: number; logins: number; submissions: number };
  latency: { journey: Latency } & Record<Step, Latency>;
  /** Errors in setup, warm-up and timed phase: the count and the first 20. */
  errors: number;
  errorList: LoadError[];
  processes: ProcessFigures[];
  /** CPU of the generator (this process, its workers) and of the server side, per journey. */
  generator: { cpuMsPerJourney: number; cores: number };
  serverCpuMsPerJourney: number;
  /** 2 000 / server CPU-ms per journey: what two cores could carry if only the server ran. */
  serverBoundPerSecondOn2Cores: number;
  audit: {
    /** Rows the journeys of the run (warm-up included) must have written. */
    expected: number;
    present: number;
    lost: number;
    chainOk: boolean;
    chainRows: number;
    unsealed: number;
  };
  targets: LoadTarget[];
  /** Web servers under load (1 unless the run said 2) and where their sessions were. */
  webServers?: 1 | 2;
  sessionStore?: "memory" | "redis";
  /** The Redis store's calls (two-server run), ms: bench/load_scale.ts `storeLatency`. */
  storeLatencyMs?: StoreLatency;
  /** One against two web servers (`deno task bench --only load`): bench/load_scale.ts. */
  scaleOut?: ScaleOutComparison;
}

/** p50/p99 (ms) and count of each session-store call, over every web server. */
export type StoreLatency = Record<string, { p50: number; p99: number; n: number }>;

/** One configuration of the comparison. */
export interface ScaleOutRun {
  webServers: 1 | 2;
  store: "memory" | "redis";
  journeysPerSecond: number;
  journey: { p50: number; p99: number };
  errors: number;
  /** CPU-ms per journey: all server processes (Redis and PostgreSQL included). */
  serverCpuMsPerJourney: number;
  /** CPU-ms per journey of the web servers together. */
  webCpuMsPerJourney: number;
  /** CPU-ms per journey of redis-server (0 without it). */
  redisCpuMsPerJourney: number;
}

/** The comparison `deno task bench --only load` reports (`suites.load.scaleOut`). */
export interface ScaleOutComparison {
  runs: ScaleOutRun[];
  /** The Redis store's calls in the two-server run, ms (setup and warm-up included). */
  storeLatencyMs: StoreLatency;
  /** Two servers on Redis minus one in memory. */
  added: { serverCpuMsPerJourney: number; journeyP50Ms: number; journeyP99Ms: number };
  notes: string[];
}

export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function latency(values: number[]): Latency {
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    s.length ? round(s[Math.max(0, Math.min(s.length - 1, Math.ceil(p * s.length) - 1))]) : 0;
  return { n: s.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) };
}

/** Issue 20: server CPU per journey (all server processes, PostgreSQL included). */
export const SERVER_CPU_MS_PER_JOURNEY = 5;
/** Issue 20: journeys/s and journey p99 (ms), both in the same run. */
export const ISSUE20_JOURNEYS_PER_SECOND = 180;
export const ISSUE20_P99_MS = 200;

/** The server CPU per journey by process, as one line ("web 4.2, key-vault 2.9, …"). */
export function serverCpuBreakdown(r: Pick<LoadResult, "processes">): string {
  return [...r.processes].sort((a, b) => b.cpuMsPerJourney - a.cpuMsPerJourney)
    .map((p) => `${p.name === "postgres" ? "PostgreSQL" : p.name} ${p.cpuMsPerJourney}`)
    .join(", ");
}

/** The targets of issues 7 and 20, judged on a result. */
export function judgeLoad(r: Omit<LoadResult, "targets">): LoadTarget[] {
  // A leak shows in the live heap after full GCs: more than 10 % + 4 MB from the last full
  // GC before the timed window to the last one in it counts as growth. Without two full
  // GCs the RSS decides (after ≤ before + 10 % + 16 MiB), which also moves with the heap
  // V8 keeps committed.
  const growth = r.processes.filter((p) => p.pid !== null).map((p) => {
    const h = p.liveHeapAfterGcMb ?? [];
    if (h.length >= 2) {
      const d = h.at(-1)! - h[0];
      return {
        text: `${p.name} live heap ${h[0]} → ${h.at(-1)} MB`,
        grew: d > h[0] * 0.1 + 4,
        unsure: false,
      };
    }
    if (p.rssBeforeKiB === null || p.rssAfterKiB === null) {
      return { text: `${p.name} not measured`, grew: false, unsure: false };
    }
    const d = p.rssAfterKiB - p.rssBeforeKiB;
    const rssGrew = d > p.rssBeforeKiB * 0.1 + 16 * 1024;
    return {
      text: `${p.name} RSS ${d >= 0 ? "+" : ""}${(d / 1024).toFixed(1)} MiB${
        rssGrew ? " (no 2 full GCs to tell heap growth from a leak)" : ""
      }`,
      grew: false,
      unsure: rssGrew,
    };
  });
  return [
    {
      target: "≥ 200 sign-in + submit journeys/s",
      status: r.perSecond.journeys >= 200 ? "met" : "not met",
      figures: `${r.perSecond.journeys} journeys/s`,
    },
    {
      target: "journey p99 < 100 ms",
      status: r.latency.journey.n > 0 && r.latency.journey.p99 < 100 ? "met" : "not met",
      figures: `p50 ${r.latency.journey.p50} ms, p99 ${r.latency.journey.p99} ms`,
    },
    {
      target: "zero errors",
      status: r.errors === 0 ? "met" : "not met",
      figures: `${r.errors} errors`,
    },
    {
      target: "zero lost audit rows, chain verifies",
      status: r.audit.lost === 0 && r.audit.chainOk && r.audit.expected > 0 ? "met" : "not met",
      figures: `${r.audit.present} of ${r.audit.expected} rows, chain ${
        r.audit.chainOk ? "ok" : "BROKEN"
      }`,
    },
    {
      target: `server CPU ≤ ${SERVER_CPU_MS_PER_JOURNEY} ms per journey (issue 20)`,
      status: r.journeys > 0 && r.serverCpuMsPerJourney <= SERVER_CPU_MS_PER_JOURNEY
        ? "met"
        : "not met",
      figures: `${r.serverCpuMsPerJourney} CPU-ms: ${serverCpuBreakdown(r)}`,
    },
    {
      target:
        `≥ ${ISSUE20_JOURNEYS_PER_SECOND} journeys/s with p99 < ${ISSUE20_P99_MS} ms (issue 20)`,
      status: r.perSecond.journeys >= ISSUE20_JOURNEYS_PER_SECOND && r.latency.journey.n > 0 &&
          r.latency.journey.p99 < ISSUE20_P99_MS
        ? "met"
        : "not met",
      figures: `${r.perSecond.journeys} journeys/s, p99 ${r.latency.journey.p99} ms`,
    },
    {
      target: "no memory growth (live heap after full GC, else RSS)",
      status: growth.some((g) => g.grew)
        ? "not met"
        : growth.some((g) => g.unsure)
        ? "inconclusive"
        : "met",
      figures: growth.map((g) => g.text).join(", "),
    },
  ];
}

/** The result as text: the table of `deno task bench` and of this file's own CLI. */
export function loadText(r: LoadResult): string {
  const lat = (name: string, l: Latency) =>
    `  ${name.padEnd(8)} p50 ${String(l.p50).padStart(7)} ms  p90 ${
      String(l.p90).padStart(7)
    } ms  p99 ${String(l.p99).padStart(7)} ms  max ${String(l.max).padStart(7)} ms`;
  const kib = (v: number | null) => (v === null ? "—" : `${(v / 1024).toFixed(1)} MiB`);
  return [
    `${r.journeys} journeys in ${r.config.seconds} s (after ${r.config.warmupSeconds} s warm-up), ` +
    `${r.config.concurrency} in flight, ${r.config.users} users, ${r.config.workers} generator workers`,
    `journeys/s ${r.perSecond.journeys}  sign-ins/s ${r.perSecond.logins}  verified submissions/s ${r.perSecond.submissions}  errors ${r.errors}`,
    lat("journey", r.latency.journey),
    ...STEPS.map((s) => lat(s, r.latency[s])),
    "  process      CPU ms/journey  cores   RSS after warm-up → end (peak); V8 live heap",
    ...r.processes.map((p) =>
      `  ${p.name.padEnd(12)} ${String(p.cpuMsPerJourney).padStart(14)}  ${
        String(p.cores).padStart(5)
      }   ${
        p.pid === null
          ? "(backends of the database)"
          : `${kib(p.rssBeforeKiB)} → ${kib(p.rssAfterKiB)} (${kib(p.rssPeakKiB)})${
            p.liveHeapAfterGcMb?.length
              ? `; live heap after full GC ${p.liveHeapAfterGcMb[0]} → ${
                p.liveHeapAfterGcMb.at(-1)
              } MB (${p.liveHeapAfterGcMb.length} GCs, ${p.committedHeapMb} MB committed)`
              : ""
          }`
      }`
    ),
    `  server total ${
      String(r.serverCpuMsPerJourney).padStart(14)
    }           → CPU-bound on 2 idle cores ≈ ${r.serverBoundPerSecondOn2Cores} journeys/s`,
    `server CPU-ms per journey: ${r.serverCpuMsPerJourney} (${
      serverCpuBreakdown(r)
    }; issue 20 target ≤ ${SERVER_CPU_MS_PER_JOURNEY})`,
    `  generator    ${String(r.generator.cpuMsPerJourney).padStart(14)}  ${
      String(r.generator.cores).padStart(5)
    }`,
    `audit: ${r.audit.present} of ${r.audit.expected} expected rows (lost ${r.audit.lost}); chain ${
      r.audit.chainOk ? "verifies" : "BROKEN"
    } (${r.audit.chainRows} rows, ${r.audit.unsealed} unsealed)`,
    ...r.errorList.map((e) => `  error ${e.step} ${e.identity}: ${e.code} ${e.message}`),
    ...r.targets.map((t) =>
      `  target ${
        t.status === "met" ? "met    " : t.status === "inconclusive" ? "UNSURE " : "NOT MET"
      } ${t.target}: ${t.figures}`
    ),
    ...r.notes.map((n) => `  - ${n}`),
    ...(r.scaleOut ? [scaleOutText(r.scaleOut)] : []),
  ].join("\n");
}

/** The comparison as text (after the load suite's own table). */
export function scaleOutText(c: ScaleOutComparison): string {
  return [
    "one against two web servers sharing Redis:",
    "  servers store   journeys/s  journey p50 / p99 ms   server CPU-ms/journey (web, redis)  errors",
    ...c.runs.map((r) =>
      `  ${String(r.webServers).padEnd(7)} ${r.store.padEnd(7)} ${
        String(r.journeysPerSecond).padStart(10)
      }  ${`${r.journey.p50} / ${r.journey.p99}`.padStart(19)}   ${
        `${r.serverCpuMsPerJourney} (${r.webCpuMsPerJourney}, ${r.redisCpuMsPerJourney})`
          .padStart(33)
      }  ${r.errors}`
    ),
    `  added by Redis and a second server: ${c.added.serverCpuMsPerJourney} CPU-ms/journey, ` +
    `journey p50 ${c.added.journeyP50Ms} ms, p99 ${c.added.journeyP99Ms} ms`,
    "  store call   p50 ms   p99 ms   calls",
    ...Object.entries(c.storeLatencyMs).map(([op, f]) =>
      `  ${op.padEnd(10)} ${String(f.p50).padStart(8)} ${String(f.p99).padStart(8)} ${
        String(f.n).padStart(7)
      }`
    ),
    ...c.notes.map((n) => `  - ${n}`),
  ].join("\n");
}
