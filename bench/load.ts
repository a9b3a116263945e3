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
import { TOPOLOGY } from "../platform/mod.ts";
import {
  createTestDatabase,
  postgresAvailable,
  sqlAsAdmin,
  TEST_DATABASE_URL,
  type TestDatabase,
} from "../harness/mod.ts";
import { type JourneyRecord, type LoadError, type LoadUser, STEPS } from "./load_worker.ts";
import { cpuMs, rssKiB } from "./proc.ts";
import { type ScaleOutParts, scaleOutParts, storeLatency } from "./load_scale.ts";

import {
  judgeLoad,
  latency as latencyOf,
  type LoadOptions,
  type LoadResult,
  loadText,
  type ProcessFigures,
  round,
} from "./load_result.ts";
import {
  heapFigures,
  loadAddress,
  split,
  type Started,
  startServer,
  startWorker,
} from "./load_server.ts";

export * from "./load_result.ts";
export { loadAddress } from "./load_server.ts";

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
  const two = options.webServers === 2;
  let scale: ScaleOutParts | undefined;
  const workers: ReturnType<typeof startWorker>[] = [];
  const onSignal = async () => {
    workers.forEach((w) => w.terminate());
    await server?.stop().catch(() => {});
    await scale?.stop().catch(() => {});
    await db.drop().catch(() => {});
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    if (two) scale = await scaleOutParts(options.logLevel);
    server = await startServer(db.url, options.logLevel, options.v8Flags, scale?.startEnv);
    const webUrls = [server.webUrl];
    if (scale) {
      const second = await scale.startSecond(server.dataDir, server.proxyUrl);
      webUrls.push(second.url);
      server.pids["web-2"] = second.pid;
      server.pids.redis = scale.redis.pid();
      say(`second web server at ${second.url}; sessions in Redis ${scale.redis.url}`);
    }
    const missing = TOPOLOGY.map((p) => p.name).filter((n) => !server!.pids[n]);
    if (missing.length) say(`could not find the PIDs of ${missing.join(", ")}`);
    const adminSecret = await readSecret("admin-proxy.key", server.dataDir);
    const admin = createProxyClient({ url: server.proxyUrl, keyId: "admin", secret: adminSecret });
    adminSecret.fill(0);

    for (let i = 0; i < workerCount; i++) workers.push(startWorker());
    await Promise.all(
      workers.map((w) => w.ask({ type: "init", webUrl: server!.webUrl, webUrls })),
    );

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
    const parts = split(users, workerCount);
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
      journey: latencyOf(timed.map((j) => j.ends.close! - j.t0)),
    } as LoadResult["latency"];
    for (const s of STEPS) latency[s] = latencyOf(timed.map((j) => j.ms[s]!));
    const n = Math.max(1, done.length);
    const processes: ProcessFigures[] = names.map((name) => ({
      name,
      pid: server!.pids[name],
      rssBeforeKiB: rss0[name],
      rssAfterKiB: rss1[name],
      rssPeakKiB: peak[name],
      rssSeriesKiB: [...(series[name] ?? []), rss1[name]],
      ...heapFigures(server!.gcs, server!.pids[name], from),
      cpuMsPerJourney: round((cpu1[name] - cpu0[name]) / n),
      cores: round((cpu1[name] - cpu0[name]) / (seconds * 1000)),
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
      cpuMsPerJourney: round(pgCpu / n),
      cores: round(pgCpu / (seconds * 1000)),
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
    const storeMs = scale ? await storeLatency(scale.metricsUrls) : undefined;
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
        }, fresh database${
          two ? "; a second web server beside it, both with their sessions in Redis" : ""
        }`,
        "each simulated user runs the applet's protocol code (applet/protocol, wasm-crypto, " +
        "OPAQUE) in a Deno worker from its own address 127.10.x.y; one journey per user per " +
        `${userIntervalMs} ms at most (login.start: 120 per minute per address)`,
        `the generator shares the ${navigator.hardwareConcurrency} cores with the server: ` +
        `it used ${round(genCpu / (seconds * 1000))} cores (${
          round(genCpu / n)
        } CPU-ms per journey) during the timed phase`,
      ],
      journeys: done.length,
      perSecond: {
        journeys: round(done.length / seconds, 1),
        logins: round(logins / seconds, 1),
        submissions: round(submissions / seconds, 1),
      },
      latency,
      errors: errors.length,
      errorList: errors.slice(0, 20),
      processes,
      generator: { cpuMsPerJourney: round(genCpu / n), cores: round(genCpu / (seconds * 1000)) },
      serverCpuMsPerJourney: round(serverCpu),
      serverBoundPerSecondOn2Cores: serverCpu > 0 ? Math.round(2000 / serverCpu) : 0,
      audit: {
        expected: 2 * signedIn,
        present,
        lost: Math.max(0, 2 * signedIn - present),
        chainOk: verified.ok,
        chainRows: verified.rows,
        unsealed: verified.unsealed,
      },
      webServers: two ? 2 : 1,
      sessionStore: two ? "redis" : "memory",
      ...(storeMs ? { storeLatencyMs: storeMs } : {}),
    };
    return { ...base, targets: judgeLoad(base) };
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    workers.forEach((w) => w.terminate());
    await server?.stop();
    await scale?.stop();
    await db.drop();
  }
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
