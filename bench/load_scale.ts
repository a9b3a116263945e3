/**
 * The scale-out part of the load benchmark (issue 19, docs/benchmarks.md "Load: one
 * against two web servers"): `deno task start` with its web server on Redis (a
 * redis-server of the bench's own, no persistence) plus a second web server
 * (`server/main.ts`, what `deno task web` runs) on the same data directory, the generator
 * sending every request round robin to one or the other (a load balancer without
 * affinity, without the balancer's own cost), and the store's added latency read from
 * each web server's `/metrics` (`roamsign_web_session_store_seconds`).
 *
 * On a machine with two cores shared by the generator, the processes and PostgreSQL, a
 * second web server cannot add throughput: the comparison measures what the shared store
 * costs (CPU per journey, latency), not a speed-up.
 *
 * @module
 */
import { startRedis, type TestRedis } from "../harness/mod.ts";
import {
  type LoadResult,
  round,
  type ScaleOutComparison,
  type ScaleOutRun,
  type StoreLatency,
} from "./load_result.ts";

const _ROOT = new URL("../", import.meta.url).pathname;

/** The second web server and the Redis of a two-server run. */
export interface ScaleOutParts {
  redis: TestRedis;
  /** Environment for `deno task start` (its web server on Redis, with a metrics port). */
  startEnv: Record<string, string>;
  metricsUrls: string[];
  /** Starts the second web server once `deno task start` is up; its URL and PID. */
  startSecond(dataDir: string, proxyUrl: string): Promise<{ url: string; pid: number }>;
  stop(): Promise<void>;
}

function _freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Starts the Redis and prepares the second web server. */
export async function scaleOutParts(logLevel?: string): Promise<ScaleOutParts> {
  const redis = await startRedis();
  const metrics = [_freePort(), _freePort()];
  let second: Deno.ChildProcess | undefined;
  return {
    redis,
    startEnv: { REDIS_URL: redis.url, METRICS_PORT: String(metrics[0]) },
    metricsUrls: metrics.map((p) => `http://127.0.0.1:${p}/metrics`),
    async startSecond(dataDir, proxyUrl) {
      const port = _freePort();
      second = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "server/main.ts"],
        cwd: _ROOT,
        env: {
          DATA_DIR: dataDir,
          DIST_DIR: `${dataDir}/dist`,
          SKIP_BUILD: "1",
          PORT: String(port),
          PROXY_URL: proxyUrl,
          HOST_BANK_URL: "none",
          REDIS_URL: redis.url,
          METRICS_PORT: String(metrics[1]),
          ...(logLevel ? { LOG_LEVEL: logLevel } : {}),
        },
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      const url = `http://127.0.0.1:${port}`;
      for (let i = 0; i < 600; i++) {
        if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) {
          return { url, pid: second.pid };
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error("the second web server did not answer /healthz in 60 s");
    },
    async stop() {
      if (second) {
        try {
          second.kill("SIGTERM");
        } catch {
          // gone
        }
        await second.status;
      }
      await redis.stop();
    },
  };
}

/**
 * Reads `roamsign_web_session_store_seconds` from each web server. Quantiles are per
 * server; the figure given is the count-weighted mean of the servers' quantiles.
 */
export async function storeLatency(metricsUrls: string[]): Promise<StoreLatency> {
  const acc: Record<string, { p50: number; p99: number; n: number }> = {};
  for (const url of metricsUrls) {
    const text = await fetch(url).then((r) => r.text(), () => "");
    const per: Record<string, { p50?: number; p99?: number; n?: number }> = {};
    for (const line of text.split("\n")) {
      const m = /^roamsign_web_session_store_seconds(_count)?\{([^}]*)\} ([\d.e+-]+|NaN)$/.exec(
        line,
      );
      if (!m) continue;
      const op = /op="([^"]+)"/.exec(m[2])?.[1];
      if (!op) continue;
      const q = /quantile="([^"]+)"/.exec(m[2])?.[1];
      const v = Number(m[3]);
      per[op] ??= {};
      if (m[1]) per[op].n = v;
      else if (q === "0.5") per[op].p50 = v * 1000;
      else if (q === "0.99") per[op].p99 = v * 1000;
    }
    for (const [op, f] of Object.entries(per)) {
      if (!f.n || f.p50 === undefined || f.p99 === undefined) continue;
      const a = acc[op] ??= { p50: 0, p99: 0, n: 0 };
      a.p50 = (a.p50 * a.n + f.p50 * f.n) / (a.n + f.n);
      a.p99 = (a.p99 * a.n + f.p99 * f.n) / (a.n + f.n);
      a.n += f.n;
    }
  }
  for (const f of Object.values(acc)) {
    f.p50 = round(f.p50, 3);
    f.p99 = round(f.p99, 3);
  }
  return acc;
}

function _run(r: LoadResult): ScaleOutRun {
  const cpu = (pred: (name: string) => boolean) =>
    round(r.processes.filter((p) => pred(p.name)).reduce((a, p) => a + p.cpuMsPerJourney, 0));
  return {
    webServers: r.webServers ?? 1,
    store: r.sessionStore ?? "memory",
    journeysPerSecond: r.perSecond.journeys,
    journey: { p50: r.latency.journey.p50, p99: r.latency.journey.p99 },
    errors: r.errors,
    serverCpuMsPerJourney: r.serverCpuMsPerJourney,
    webCpuMsPerJourney: cpu((n) => n.startsWith("web")),
    redisCpuMsPerJourney: cpu((n) => n === "redis"),
  };
}

/** The comparison of a one-server (memory) and a two-server (Redis) run. */
export function compareScaleOut(one: LoadResult, two: LoadResult): ScaleOutComparison {
  const a = _run(one);
  const b = _run(two);
  return {
    runs: [a, b],
    storeLatencyMs: two.storeLatencyMs ?? {},
    added: {
      serverCpuMsPerJourney: round(b.serverCpuMsPerJourney - a.serverCpuMsPerJourney),
      journeyP50Ms: round(b.journey.p50 - a.journey.p50),
      journeyP99Ms: round(b.journey.p99 - a.journey.p99),
    },
    notes: [
      `${navigator.hardwareConcurrency} cores shared by the generator, every process and ` +
      "PostgreSQL: a second web server cannot add throughput here; the figures are the " +
      "overhead of sessions in Redis (CPU per journey, latency), not a speed-up",
      "two servers: every request goes round robin to one or the other (no affinity), " +
      "from the generator itself (no load balancer process in the figures)",
      "store latency: the Redis store's own calls as each web server measured them " +
      "(prom-client summary over the whole run, setup included); a request makes 3 " +
      "(lookup, accept, release)",
    ],
  };
}
