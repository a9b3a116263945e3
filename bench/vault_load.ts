/**
 * Vault load benchmark (not a test): login-finish (the key-record fetch) and apply
 * throughput through proxy + vault as real processes on a real PostgreSQL server, with
 * p50/p99 latency. `deno task bench` calls {@link runVaultLoad}; on its own:
 *
 *   deno run -A bench/vault_load.ts [--login 12000] [--apply 600] [--concurrency 64] [--pool 16] [--json]
 *     [--cpu-prof DIR]   (V8 CPU profiles of vault and proxy, written when they stop)
 *   VAULT_LOAD_CHILD_ENV='{"VAULT_SEAL_INTERVAL_MS":"600000"}' …   (extra env for vault + proxy: experiments)
 *
 * Method. Setup (not timed): registers `login / 25` users (apply + consent) and, for
 * each timed login, runs OPAQUE `login.start` and the client's finish, so that the timed
 * phases send only `login.finish` requests, a third each at 8, 16 and `concurrency` in
 * flight, each one a real OPAQUE finish plus key-record release and audit row in the
 * vault. Apply bodies are
 * built beforehand too (OPAQUE registration, key record, proof of possession); the
 * timed phase sends only `apply`. Each request carries its own client address so that
 * the per-address limits (docs/rate-limits.md) do not refuse the generator.
 *
 * Marked shortcuts, both client-side only: users use LIGHT_KSF (argon2id 1 MiB, 1 pass)
 * so the generator does not starve the server of CPU on a 2-core machine, and the apply
 * phase round-robins over 8 RSA key pairs instead of generating one per application.
 * The server does the same work either way.
 *
 * @module
 */
import * as opaque from "@serenity-kit/opaque";
import type { ProxyClient } from "../platform/mod.ts";
import {
  createTestDatabase,
  postgresAvailable,
  sqlAsAdmin,
  startStack,
  TEST_DATABASE_URL,
} from "../harness/mod.ts";
import * as u from "../harness/mod.ts";
import { cpuMs } from "./proc.ts";

/** What to run. */
export interface VaultLoadOptions {
  /** Timed login.finish requests (default 12 000), in equal shares at 8, 16 and `concurrency` in flight. */
  login?: number;
  /** Timed apply requests (default 600). */
  apply?: number;
  /** Requests in flight (default 64). */
  concurrency?: number;
  /** The vault's PostgreSQL pool size, `VAULT_DB_POOL` (default 16). */
  pool?: number;
  /** PostgreSQL server to create the benchmark database on (default TEST_DATABASE_URL). */
  serverUrl?: string;
  /** Progress lines on stderr (default true). */
  verbose?: boolean;
  /** Write V8 CPU profiles of the vault and the proxy into this directory (`--cpu-prof`). */
  cpuProfDir?: string;
}

/**
 * One scenario's figures. Latencies in milliseconds, measured at the client.
 * `cpuMsPerRequest`: CPU time (user + system, from /proc) each process spent per
 * request during the timed phase — robust to other load on the machine, unlike the rate.
 * `cpuBoundPerSecondOn2Cores` = 2 000 / the sum: the rate two otherwise idle cores could
 * sustain if CPU were the only limit (derived, not measured).
 */
export interface ScenarioResult {
  name: string;
  requests: number;
  errors: number;
  concurrency: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  cpuMsPerRequest?: { vault: number; proxy: number; postgres: number; generator: number };
  cpuBoundPerSecondOn2Cores?: number;
}

/** The benchmark's result. */
export interface VaultLoadResult {
  kind: "vault-load";
  date: string;
  database: "postgres";
  notes: string[];
  scenarios: ScenarioResult[];
}

function _percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round(sorted[Math.max(0, i)] * 100) / 100;
}

/** Runs `tasks` with at most `concurrency` in flight; returns latencies and error count. */
async function _drive(
  name: string,
  tasks: (() => Promise<unknown>)[],
  concurrency: number,
): Promise<ScenarioResult> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const firstErrors: string[] = [];
  const started = performance.now();
  const worker = async () => {
    while (next < tasks.length) {
      const task = tasks[next++];
      const t0 = performance.now();
      try {
        await task();
        latencies.push(performance.now() - t0);
      } catch (err) {
        errors++;
        if (firstErrors.length < 3) firstErrors.push(String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  if (firstErrors.length) console.error(`${name}: first errors: ${firstErrors.join(" | ")}`);
  latencies.sort((a, b) => a - b);
  return {
    name,
    requests: tasks.length,
    errors,
    concurrency,
    seconds: Math.round(seconds * 1000) / 1000,
    perSecond: Math.round(tasks.length / seconds),
    p50: _percentile(latencies, 50),
    p90: _percentile(latencies, 90),
    p99: _percentile(latencies, 99),
    max: _percentile(latencies, 100),
  };
}

async function _parallel<T>(
  n: number,
  concurrency: number,
  fn: (i: number) => Promise<T>,
): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  }));
  return out;
}

/** Samples the CPU of the stack's processes around a timed phase. */
async function _withCpu(
  pids: { vault: number; proxy: number; postgres: () => Promise<number[]> },
  run: () => Promise<ScenarioResult>,
): Promise<ScenarioResult> {
  const pg0 = new Map((await pids.postgres()).map((p) => [p, cpuMs(p)]));
  const v0 = cpuMs(pids.vault), p0 = cpuMs(pids.proxy), g0 = cpuMs("self");
  const result = await run();
  const v1 = cpuMs(pids.vault), p1 = cpuMs(pids.proxy), g1 = cpuMs("self");
  let pg = 0;
  for (const p of await pids.postgres()) pg += cpuMs(p) - (pg0.get(p) ?? 0);
  const per = (ms: number) => Math.round((ms / result.requests) * 100) / 100;
  const cpu = {
    vault: per(v1 - v0),
    proxy: per(p1 - p0),
    postgres: per(pg),
    generator: per(g1 - g0),
  };
  const total = cpu.vault + cpu.proxy + cpu.postgres + cpu.generator;
  return {
    ...result,
    cpuMsPerRequest: cpu,
    cpuBoundPerSecondOn2Cores: total > 0 ? Math.round(2000 / total) : undefined,
  };
}

function _address(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

/** Runs the benchmark against a fresh database; stops everything it started. */
export async function runVaultLoad(options: VaultLoadOptions = {}): Promise<VaultLoadResult> {
  const loginN = options.login ?? 12_000;
  const applyN = options.apply ?? 600;
  const concurrency = options.concurrency ?? 64;
  const say = (s: string) => options.verbose !== false && console.error(`vault-load: ${s}`);
  // Other work on the machine before this run loads it: the rate depends on it, so say it.
  const loadBefore = Deno.loadavg().map((x) => x.toFixed(2)).join(" / ");
  if (!options.serverUrl && !(await postgresAvailable())) {
    throw new Error(`vault-load needs PostgreSQL (${TEST_DATABASE_URL})`);
  }
  const db = await createTestDatabase();
  // Ctrl-C during a run: stop the children and drop the database before leaving.
  const started: { stack?: { stop(): Promise<void> } } = {};
  const onSignal = async () => {
    await started.stack?.stop().catch(() => {});
    await db.drop().catch(() => {});
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  const stack = await startStack({
    databaseUrl: db.url,
    env: {
      LOG_LEVEL: "warn",
      VAULT_DB_POOL: String(options.pool ?? 16),
      LOGIN_TTL_SECONDS: "900",
      ...JSON.parse(Deno.env.get("VAULT_LOAD_CHILD_ENV") ?? "{}"),
    },
    denoArgs: options.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfDir}`] : [],
  }).catch(async (err) => {
    Deno.removeSignalListener("SIGINT", onSignal);
    await db.drop();
    throw err;
  });
  started.stack = stack;
  try {
    await opaque.ready;
    const web: ProxyClient = stack.webClient();
    const admin = stack.adminClient();
    const keyPool = await Promise.all(
      Array.from({ length: 8 }, (_, i) => u.makeUser(`keypool${i}`)),
    );
    const userFor = (identity: string, i: number): u.TestUser => ({
      ...keyPool[i % keyPool.length],
      registration: { ...keyPool[0].registration, identity },
      password: `bench pass phrase ${identity}`,
      address: _address(i),
    });

    // ── setup: users for the login phase ───────────────────────────────────────────
    const perUser = 25; // ≤ the per-identity login window from new addresses (docs/rate-limits.md)
    const userCount = Math.ceil(loginN / perUser);
    say(`registering ${userCount} users`);
    const users = await _parallel(userCount, 8, async (i) => {
      const user = userFor(`bench-login-${i}`, i);
      await u.apply(web, user);
      return user;
    });
    const { letters } = await admin.call("admin.letters", {}) as {
      letters: { identity: string; phrase: string }[];
    };
    const phrases = new Map(letters.map((l) => [l.identity, l.phrase]));
    await _parallel(
      users.length,
      8,
      (i) => u.consent(web, users[i], phrases.get(users[i].registration.identity)!),
    );

    say(`preparing ${loginN} logins (login.start + client finish)`);
    const prepared = await _parallel(loginN, 16, async (i) => {
      const user = users[i % users.length];
      const address = _address(100_000 + i);
      const start = opaque.client.startLogin({ password: user.password });
      const started = await web.call("login.start", {
        identity: user.registration.identity,
        startLoginRequest: start.startLoginRequest,
      }, { clientAddress: address }) as { loginId: string; loginResponse: string };
      const finish = opaque.client.finishLogin({
        clientLoginState: start.clientLoginState,
        loginResponse: started.loginResponse,
        password: user.password,
        keyStretching: { "argon2id-custom": { ...u.LIGHT_KSF } },
      });
      if (!finish) throw new Error("bench: client finish failed");
      return { loginId: started.loginId, finishLoginRequest: finish.finishLoginRequest, address };
    });

    const pids = {
      vault: stack.vault.pid,
      proxy: stack.proxy.pid,
      postgres: async () =>
        (await sqlAsAdmin(
          db.url,
          "select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()",
          [db.name],
        )).rows.map((r: { pid: number }) => r.pid),
    };
    const finishTask = (p: typeof prepared[number]) => async () => {
      const r = await web.call("login.finish", {
        loginId: p.loginId,
        finishLoginRequest: p.finishLoginRequest,
      }, { clientAddress: p.address }) as { keyRecord?: unknown };
      if (!r.keyRecord) throw new Error("no key record released");
    };
    // Equal shares at 8 and 16 in flight (latency under a moderate load) and at
    // `concurrency` (throughput); levels above `concurrency` are left out.
    const levels = [...new Set([8, 16, concurrency].filter((c) => c <= concurrency))];
    const share = Math.floor(loginN / levels.length);
    const loginPhases: ScenarioResult[] = [];
    for (const [i, level] of levels.entries()) {
      const batch = i === levels.length - 1 ? prepared.splice(0) : prepared.splice(0, share);
      say(`timing ${batch.length} login.finish at concurrency ${level}`);
      loginPhases.push(
        await _withCpu(pids, () => _drive("login.finish", batch.map(finishTask), level)),
      );
    }

    // ── apply ──────────────────────────────────────────────────────────────────────
    say(`preparing ${applyN} applications`);
    const bodies = await _parallel(applyN, 16, async (i) => {
      const user = userFor(`bench-apply-${i}`, 200_000 + i);
      return { body: await u.applyBody(web, user), address: user.address };
    });
    say(`timing ${applyN} apply at concurrency ${concurrency}`);
    const applyResult = await _withCpu(pids, () =>
      _drive(
        "apply",
        bodies.map((b) => () => web.call("apply", b.body, { clientAddress: b.address })),
        concurrency,
      ));

    const audit = await admin.call("admin.audit.verify", {}) as { ok: boolean; rows: number };
    if (!audit.ok) throw new Error("bench: audit chain broken after the run");
    return {
      kind: "vault-load",
      date: new Date().toISOString(),
      database: "postgres",
      notes: [
        "through proxy + vault as separate processes on loopback, PostgreSQL " +
        new URL(TEST_DATABASE_URL).host,
        "client-side shortcuts: LIGHT_KSF argon2id for bench users; 8 RSA key pairs shared by applicants",
        `audit chain verified after the run: ${audit.rows} rows`,
        "2 shared CPU cores: the load generator, proxy, vault and PostgreSQL compete for them",
        `load average before the run (1 / 5 / 15 min): ${loadBefore}`,
      ],
      scenarios: [...loginPhases, applyResult],
    };
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    await stack.stop();
    await db.drop();
  }
}

if (import.meta.main) {
  const arg = (name: string) => {
    const i = Deno.args.indexOf(`--${name}`);
    return i >= 0 ? Number(Deno.args[i + 1]) : undefined;
  };
  const result = await runVaultLoad({
    login: arg("login"),
    apply: arg("apply"),
    concurrency: arg("concurrency"),
    pool: arg("pool"),
    cpuProfDir: Deno.args.includes("--cpu-prof")
      ? Deno.args[Deno.args.indexOf("--cpu-prof") + 1]
      : undefined,
  });
  if (Deno.args.includes("--json")) console.log(JSON.stringify(result, null, 2));
  else {
    for (const s of result.scenarios) {
      console.log(
        `${s.name.padEnd(13)} ${
          String(s.perSecond).padStart(6)
        } req/s  p50 ${s.p50} ms  p99 ${s.p99} ms  max ${s.max} ms  ` +
          `(${s.requests} requests, ${s.errors} errors, concurrency ${s.concurrency})`,
      );
      if (s.cpuMsPerRequest) {
        const c = s.cpuMsPerRequest;
        console.log(
          `${
            "".padEnd(13)
          } CPU ms/request: vault ${c.vault}, proxy ${c.proxy}, PostgreSQL ${c.postgres}, ` +
            `generator ${c.generator} → CPU-bound on 2 idle cores ≈ ${s.cpuBoundPerSecondOn2Cores} req/s`,
        );
      }
    }
    for (const n of result.notes) console.log(`  - ${n}`);
  }
}
