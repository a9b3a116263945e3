/**
 * Load benchmark (not a test): many simulated users doing full journeys against
 * `deno task start` (web, proxy, vault, bank as real processes) on a real PostgreSQL
 * server, on loopback, for a bounded time. `deno task bench --only load` runs it through
 * {@link runLoad}; on its own:
 *
 *   deno run -A bench/load.ts [--seconds 60] [--users 160] [--concurrency 32] [--json]
 *
 * A journey is what a user of the applet does to sign one message: new session
 * (`GET /api/session`, KS under PUB(c,s)) → OPAQUE sign-in (`login.start`,
 * `login.finish`) → key record decrypted and checked → message signed with wasm-crypto →
 * `message.submit` (the web server verifies the signature against the directory
 * certificate) → session closed. The simulated users run the applet's own protocol code
 * (bench/load_worker.ts) in Deno workers, each user from its own loopback address, so
 * the per-address limits of docs/rate-limits.md apply to each as to a real user.
 *
 * Marked shortcut, client-side only: load users use the test-only light stretching
 * (LIGHT_KSF, argon2id 1 MiB, 1 pass) so that the generator does not starve the server
 * on a 2-core machine; the applet refuses it (`weak_ksf`). The server does the same work
 * whatever the client's stretching.
 *
 * Reported: sustained journeys/s, sign-ins/s and verified submissions/s with p50/p99 of
 * the journey and of each step, every error, the RSS of each process after the warm-up
 * and at the end, CPU-ms per journey of each process (from /proc), the generator's own
 * CPU share, and the audit rows the journeys must have written against those present
 * (and the chain verified). docs/benchmarks.md "Load".
 *
 * @module
 */
import { createProxyClient } from "../platform/mod.ts";
import { readSecret } from "../platform/mod.ts";
import { localUrl, type ProcessName, TOPOLOGY } from "../platform/mod.ts";
import {
  createTestDatabase,
  postgresAvailable,
  sqlAsAdmin,
  TEST_DATABASE_URL,
  type TestDatabase,
} from "../harness/mod.ts";
import {
  type JourneyRecord,
  type LoadError,
  type LoadUser,
  type Step,
  STEPS,
  type WorkerReply,
  type WorkerRequest,
} from "./load_worker.ts";
import { childrenOf, cpuMs, rssKiB } from "./proc.ts";

const _ROOT = new URL("../", import.meta.url).pathname;

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

/** A target of issue 7 and whether this run met it. */
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
}

function _round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function _latency(values: number[]): Latency {
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    s.length ? _round(s[Math.max(0, Math.min(s.length - 1, Math.ceil(p * s.length) - 1))]) : 0;
  return { n: s.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) };
}

function _freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** User i's loopback address: 127.10.x.y (y in 1..250). */
export function loadAddress(i: number): string {
  return `127.10.${Math.floor(i / 250)}.${1 + (i % 250)}`;
}

/** A full (mark-compact) GC of a started process, from V8's `--trace-gc` line. */
interface FullGc {
  pid: number;
  /** Epoch ms when the line arrived here. */
  at: number;
  /** V8 heap in use after the GC (the live objects), MB. */
  liveMb: number;
  committedMb: number;
}

const _FULL_GC =
  /^\[(\d+):0x[0-9a-f]+\]\s+\d+ ms: (?:Incremental )?Mark-Compact(?: \(reduce\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \(([\d.]+)\) MB/;

async function _pump(
  stream: ReadableStream<Uint8Array>,
  keep: string[],
  gcs: FullGc[],
): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of stream) {
    buffer += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, i);
      const gc = line.startsWith("[") ? _FULL_GC.exec(line) : null;
      if (gc) {
        gcs.push({
          pid: Number(gc[1]),
          at: performance.timeOrigin + performance.now(),
          liveMb: Number(gc[2]),
          committedMb: Number(gc[3]),
        });
      } else keep.push(line);
      if (keep.length > 400) keep.splice(0, keep.length - 200);
      buffer = buffer.slice(i + 1);
    }
  }
}

/** `deno task start` (after its build step) as a process, with the PIDs of its children. */
interface Started {
  supervisor: Deno.ChildProcess;
  webUrl: string;
  proxyUrl: string;
  dataDir: string;
  lines: string[];
  gcs: FullGc[];
  pids: Record<string, number>;
  stop(): Promise<void>;
}

async function _startServer(
  databaseUrl: string,
  logLevel: string | undefined,
  v8Flags: string | undefined,
): Promise<Started> {
  // `deno task start` = `deno run -A server/build.ts --code-only && deno run -A server/start.ts`.
  const build = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "server/build.ts", "--code-only"],
    cwd: _ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!build.success) {
    throw new Error(
      `server/build.ts failed: ${new TextDecoder().decode(build.stderr).slice(-2000)}`,
    );
  }
  const dataDir = await Deno.makeTempDir({ prefix: "roamsign-load-" });
  // Every process of the topology (platform/topology.ts) on a free port.
  const ports = Object.fromEntries(TOPOLOGY.map((p) => [p.name, _freePort()])) as Record<
    ProcessName,
    number
  >;
  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    // this run's applet is linked with this run's anchors
    DIST_DIR: `${dataDir}/dist`,
    DATABASE_URL: databaseUrl,
    ...Object.fromEntries(TOPOLOGY.map((p) => [p.portEnv, String(ports[p.name])])),
  };
  if (logLevel) env.LOG_LEVEL = logLevel;
  // --trace-gc: one line per GC on the child's stdout; the live heap after each full GC is
  // the leak indicator (RSS also moves with how much heap V8 decides to keep committed).
  env.DENO_V8_FLAGS = ["--trace-gc", v8Flags ?? ""].join(" ").trim();
  const supervisor = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "server/start.ts"],
    cwd: _ROOT,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const gcs: FullGc[] = [];
  const pumps = Promise.all([
    _pump(supervisor.stdout, lines, gcs),
    _pump(supervisor.stderr, lines, gcs),
  ]);
  const webUrl = localUrl(ports.web);
  const stop = async () => {
    const kids = childrenOf(supervisor.pid);
    try {
      supervisor.kill("SIGTERM");
    } catch {
      // already gone
    }
    const done = await Promise.race([
      supervisor.status.then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 15_000)),
    ]);
    if (!done) {
      for (const k of kids) {
        try {
          Deno.kill(k.pid, "SIGKILL");
        } catch {
          // gone
        }
      }
      try {
        supervisor.kill("SIGKILL");
      } catch {
        // gone
      }
      await supervisor.status;
    }
    await pumps.catch(() => {});
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  };
  const started = performance.now();
  const exited = supervisor.status.then((s) => s);
  let ready = false;
  while (!ready) {
    if (performance.now() - started > 180_000) {
      await stop();
      throw new Error(
        `deno task start did not get ready in 180 s:\n${lines.slice(-20).join("\n")}`,
      );
    }
    const status = await Promise.race([
      exited,
      new Promise<null>((r) => setTimeout(() => r(null), 250)),
    ]);
    if (status) {
      await pumps.catch(() => {});
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      throw new Error(
        `deno task start exited with ${status.code}:\n${lines.slice(-20).join("\n")}`,
      );
    }
    ready = lines.some((l) => l.includes("roamsign is running at"));
  }
  const pids: Record<string, number> = { supervisor: supervisor.pid };
  for (const k of childrenOf(supervisor.pid)) {
    const hit = TOPOLOGY.find((p) => k.cmdline.includes(p.entry));
    if (hit) pids[hit.name] = k.pid;
  }
  return {
    supervisor,
    webUrl,
    proxyUrl: localUrl(ports.proxy),
    dataDir,
    lines,
    gcs,
    pids,
    stop,
  };
}

/** A worker and a typed request/answer over it (one request at a time). */
function _worker() {
  const w = new Worker(new URL("./load_worker.ts", import.meta.url), { type: "module" });
  const ask = <T extends WorkerReply["type"]>(
    req: WorkerRequest & { type: T },
  ): Promise<Extract<WorkerReply, { type: T }>> =>
    new Promise((resolve, reject) => {
      w.onmessage = (e: MessageEvent<WorkerReply>) => {
        if (e.data.type === "error") reject(new Error(`load worker: ${e.data.message}`));
        else resolve(e.data as Extract<WorkerReply, { type: T }>);
      };
      w.onerror = (e) => {
        e.preventDefault();
        reject(new Error(`load worker: ${e.message}`));
      };
      w.postMessage(req);
    });
  return { ask, terminate: () => w.terminate() };
}

function _split<T>(items: T[], parts: number): T[][] {
  const out: T[][] = Array.from({ length: parts }, () => []);
  items.forEach((x, i) => out[i % parts].push(x));
  return out;
}

function _heap(gcs: FullGc[], pid: number, from: number) {
  const mine = gcs.filter((g) => g.pid === pid);
  const before = mine.filter((g) => g.at < from).at(-1);
  const during = mine.filter((g) => g.at >= from);
  const list = before ? [before, ...during] : during;
  return {
    liveHeapAfterGcMb: list.map((g) => g.liveMb),
    committedHeapMb: list.at(-1)?.committedMb ?? null,
  };
}

/** The issue 7 targets, judged on a result. */
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

/** Runs the benchmark on a fresh database; stops everything it started. */
export async function runLoad(options: LoadOptions = {}): Promise<LoadResult> {
  const seconds = options.seconds ?? 60;
  const warmupSeconds = options.warmupSeconds ?? 5;
  const userCount = options.users ?? 160;
  const concurrency = Math.min(options.concurrency ?? 32, userCount);
  const workerCount = Math.max(1, Math.min(options.workers ?? 2, concurrency));
  // login.start allows 120 per minute per address: a user starts at most one journey per 0.55 s.
  const userIntervalMs = 550;
  const say = (s: string) => options.verbose !== false && console.error(`load: ${s}`);
  if (!(await postgresAvailable())) {
    throw new Error(
      `the load suite needs PostgreSQL (TEST_DATABASE_URL, now ${TEST_DATABASE_URL})`,
    );
  }
  const db: TestDatabase = await createTestDatabase();
  say(`database ${db.name}; starting deno task start (web, proxy, vault, bank)`);
  let server: Started | undefined;
  const workers: ReturnType<typeof _worker>[] = [];
  const onSignal = async () => {
    workers.forEach((w) => w.terminate());
    await server?.stop().catch(() => {});
    await db.drop().catch(() => {});
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    server = await _startServer(db.url, options.logLevel, options.v8Flags);
    const missing = TOPOLOGY.map((p) => p.name).filter((n) => !server!.pids[n]);
    if (missing.length) say(`could not find the PIDs of ${missing.join(", ")}`);
    const adminSecret = await readSecret("admin-proxy.key", server.dataDir);
    const admin = createProxyClient({ url: server.proxyUrl, keyId: "admin", secret: adminSecret });
    adminSecret.fill(0);

    for (let i = 0; i < workerCount; i++) workers.push(_worker());
    await Promise.all(workers.map((w) => w.ask({ type: "init", webUrl: server!.webUrl })));

    // ── setup: users apply and consent through the applet's flows (not timed) ─────────
    const users: LoadUser[] = Array.from({ length: userCount }, (_, i) => ({
      registration: {
        identity: `load-${i}`,
        fullName: `Load User ${i}`,
        accountNumber: `GB00 LOAD ${String(i).padStart(8, "0")}`,
        address: `${i} Loopback Lane, Localhost`,
      },
      passphrase: `load user ${i} pass phrase`,
      address: loadAddress(i),
    }));
    const parts = _split(users, workerCount);
    const errors: LoadError[] = [];
    say(`${userCount} users apply (RSA-2048 keys made by wasm-crypto, light stretching)`);
    const t0 = performance.now();
    for (
      const r of await Promise.all(
        workers.map((w, i) => w.ask({ type: "apply", users: parts[i], concurrency: 4 })),
      )
    ) errors.push(...r.errors);
    const { letters } = await admin.call("admin.letters", {}) as {
      letters: { identity: string; phrase: string }[];
    };
    const phrases = new Map(letters.map((l) => [l.identity, l.phrase]));
    for (const u of users) u.phrase = phrases.get(u.registration.identity);
    const consenting = parts.map((p) => p.filter((u) => u.phrase));
    for (
      const r of await Promise.all(
        workers.map((w, i) => w.ask({ type: "consent", users: consenting[i], concurrency: 4 })),
      )
    ) errors.push(...r.errors);
    say(`setup took ${((performance.now() - t0) / 1000).toFixed(1)} s, ${errors.length} errors`);
    if (errors.length) {
      throw new Error(
        `load setup failed for ${errors.length} users: ${
          errors.slice(0, 3).map((e) => `${e.step} ${e.identity}: ${e.code} ${e.message}`).join(
            " | ",
          )
        }`,
      );
    }

    // ── the run: warm-up, then the timed window ─────────────────────────────────────────
    const pgPids = async (): Promise<number[]> =>
      (await sqlAsAdmin(
        db.url,
        "select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()",
        [db.name],
      )).rows.map((r: { pid: number }) => r.pid);
    const [{ max: auditBase }] = (await sqlAsAdmin(
      db.url,
      "select coalesce(max(id), 0)::bigint as max from audit_log",
    )).rows as { max: string }[];
    const now = () => performance.timeOrigin + performance.now();
    const from = now() + warmupSeconds * 1000;
    const until = from + seconds * 1000;
    const names = Object.keys(server.pids);
    const cpu0: Record<string, number> = {};
    const cpu1: Record<string, number> = {};
    const rss0: Record<string, number | null> = {};
    const rss1: Record<string, number | null> = {};
    const peak: Record<string, number | null> = {};
    const series: Record<string, (number | null)[]> = {};
    let pg0 = new Map<number, number>();
    let pgCpu = 0;
    say(
      `warm-up ${warmupSeconds} s, then ${seconds} s timed: ${concurrency} journeys in flight over ${userCount} users, ${workerCount} workers`,
    );
    const running = Promise.all(
      workers.map((w, i) =>
        w.ask({
          type: "run",
          users: parts[i],
          concurrency: Math.ceil(concurrency / workerCount),
          until,
          userIntervalMs,
        })
      ),
    );
    const sampler = (async () => {
      await new Promise((r) => setTimeout(r, from - now()));
      pg0 = new Map((await pgPids()).map((p) => [p, cpuMs(p)]));
      for (const n of names) {
        cpu0[n] = cpuMs(server!.pids[n]);
        rss0[n] = peak[n] = rssKiB(server!.pids[n]);
        series[n] = [rss0[n]];
      }
      let tick = 0;
      cpu0.generator = cpuMs("self");
      while (now() < until - 1000) {
        await new Promise((r) => setTimeout(r, 1000));
        tick++;
        for (const n of names) {
          const v = rssKiB(server!.pids[n]);
          if (v !== null) peak[n] = Math.max(peak[n] ?? 0, v);
          if (tick % 5 === 0) series[n].push(v);
        }
      }
      await new Promise((r) => setTimeout(r, Math.max(0, until - now())));
      for (const n of names) {
        cpu1[n] = cpuMs(server!.pids[n]);
        rss1[n] = rssKiB(server!.pids[n]);
        if (rss1[n] !== null) peak[n] = Math.max(peak[n] ?? 0, rss1[n]!);
      }
      cpu1.generator = cpuMs("self");
      for (const p of await pgPids()) pgCpu += cpuMs(p) - (pg0.get(p) ?? 0);
    })();
    const results = await running;
    await sampler;
    const journeys: JourneyRecord[] = results.flatMap((r) => r.journeys);
    for (const r of results) errors.push(...r.errors);

    // ── figures ────────────────────────────────────────────────────────────────────────
    const inWindow = (t: number | undefined) => t !== undefined && t >= from && t < until;
    const done = journeys.filter((j) => j.ok && inWindow(j.ends.close));
    const logins = journeys.filter((j) => inWindow(j.ends.signIn)).length;
    const submissions = journeys.filter((j) => inWindow(j.ends.submit)).length;
    const timed = journeys.filter((j) => j.ok && j.t0 >= from && j.t0 < until);
    const latency = {
      journey: _latency(timed.map((j) => j.ends.close! - j.t0)),
    } as LoadResult["latency"];
    for (const s of STEPS) latency[s] = _latency(timed.map((j) => j.ms[s]!));
    const n = Math.max(1, done.length);
    const processes: ProcessFigures[] = names.map((name) => ({
      name,
      pid: server!.pids[name],
      rssBeforeKiB: rss0[name],
      rssAfterKiB: rss1[name],
      rssPeakKiB: peak[name],
      rssSeriesKiB: [...(series[name] ?? []), rss1[name]],
      ..._heap(server!.gcs, server!.pids[name], from),
      cpuMsPerJourney: _round((cpu1[name] - cpu0[name]) / n),
      cores: _round((cpu1[name] - cpu0[name]) / (seconds * 1000)),
    }));
    processes.push({
      name: "postgres",
      pid: null,
      rssBeforeKiB: null,
      rssAfterKiB: null,
      rssPeakKiB: null,
      rssSeriesKiB: [],
      liveHeapAfterGcMb: [],
      committedHeapMb: null,
      cpuMsPerJourney: _round(pgCpu / n),
      cores: _round(pgCpu / (seconds * 1000)),
    });
    const serverCpu = processes.reduce((a, p) => a + p.cpuMsPerJourney, 0);
    const genCpu = cpu1.generator - cpu0.generator;

    // Every journey that signed in wrote login.start "started" and login.finish "released".
    const signedIn = journeys.filter((j) => j.ends.signIn !== undefined).length;
    const counted = (await sqlAsAdmin(
      db.url,
      `select count(*) filter (where op = 'login.start' and outcome = 'started') as starts,
              count(*) filter (where op = 'login.finish' and outcome = 'released') as releases
       from audit_log where id > $1 and identity like 'load-%'`,
      [auditBase],
    )).rows[0] as { starts: string; releases: string };
    const present = Number(counted.starts) + Number(counted.releases);
    const verified = await admin.call("admin.audit.verify", {}) as {
      ok: boolean;
      rows: number;
      unsealed: number;
    };
    const base: Omit<LoadResult, "targets"> = {
      kind: "load",
      date: new Date().toISOString(),
      database: "postgres",
      config: {
        seconds,
        warmupSeconds,
        users: userCount,
        concurrency,
        workers: workerCount,
        userIntervalMs,
        logLevel: options.logLevel ?? "info (default)",
        cores: navigator.hardwareConcurrency,
      },
      notes: [
        "load users use the test-only light stretching (LIGHT_KSF: argon2id 1 MiB, 1 pass); " +
        "the applet refuses it (weak_ksf)",
        `deno task start (web, proxy, vault, bank) on loopback, PostgreSQL ${
          new URL(TEST_DATABASE_URL).host
        }, fresh database`,
        "each simulated user runs the applet's protocol code (applet/protocol, wasm-crypto, " +
        "OPAQUE) in a Deno worker from its own address 127.10.x.y; one journey per user per " +
        `${userIntervalMs} ms at most (login.start: 120 per minute per address)`,
        `the generator shares the ${navigator.hardwareConcurrency} cores with the server: ` +
        `it used ${_round(genCpu / (seconds * 1000))} cores (${
          _round(genCpu / n)
        } CPU-ms per journey) during the timed phase`,
      ],
      journeys: done.length,
      perSecond: {
        journeys: _round(done.length / seconds, 1),
        logins: _round(logins / seconds, 1),
        submissions: _round(submissions / seconds, 1),
      },
      latency,
      errors: errors.length,
      errorList: errors.slice(0, 20),
      processes,
      generator: { cpuMsPerJourney: _round(genCpu / n), cores: _round(genCpu / (seconds * 1000)) },
      serverCpuMsPerJourney: _round(serverCpu),
      serverBoundPerSecondOn2Cores: serverCpu > 0 ? Math.round(2000 / serverCpu) : 0,
      audit: {
        expected: 2 * signedIn,
        present,
        lost: Math.max(0, 2 * signedIn - present),
        chainOk: verified.ok,
        chainRows: verified.rows,
        unsealed: verified.unsealed,
      },
    };
    return { ...base, targets: judgeLoad(base) };
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    workers.forEach((w) => w.terminate());
    await server?.stop();
    await db.drop();
  }
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
  ].join("\n");
}

if (import.meta.main) {
  const arg = (name: string) => {
    const i = Deno.args.indexOf(`--${name}`);
    return i >= 0 ? Number(Deno.args[i + 1]) : undefined;
  };
  const li = Deno.args.indexOf("--log-level");
  const vi = Deno.args.indexOf("--v8-flags");
  const result = await runLoad({
    seconds: arg("seconds"),
    warmupSeconds: arg("warmup"),
    users: arg("users"),
    concurrency: arg("concurrency"),
    workers: arg("workers"),
    logLevel: li >= 0 ? Deno.args[li + 1] : undefined,
    v8Flags: vi >= 0 ? Deno.args[vi + 1] : undefined,
  });
  console.log(Deno.args.includes("--json") ? JSON.stringify(result, null, 2) : loadText(result));
}
