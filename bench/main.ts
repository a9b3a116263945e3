/**
 * `deno task bench`: roamsign's wasm-crypto against WebCrypto and the JavaScript and
 * WebAssembly peers, in headless Debian Chromium and in Deno; the low-power profile;
 * the timing-leak check; applet weight; the targets of issue 4; signing a 10 MiB PDF in
 * the applet page (issue 17).
 *
 * Writes `bench/results/latest.json` and `bench/results/report.html`, prints a
 * summary. Exit code 1 when something is broken (an adapter failed its correctness
 * check, a suite crashed, the timing-leak check found a leak or could not flag its
 * control); unmet speed targets do not fail the run. See docs/benchmarks.md.
 *
 * @module
 */
import { parseOptions, USAGE } from "./cli.ts";
import type { BenchOptions } from "./cli.ts";
import type { HostContext, Suite } from "./context.ts";
import type { DudectConfig, DudectResult } from "./dudect.ts";
import { encodeInputs, makeInputs } from "./inputs.ts";
import { runLowPower } from "./lowpower.ts";
import { runDocuments } from "./documents.ts";
import type { DocumentsResult } from "./documents_result.ts";
import { buildOurs, oursPresent, REPO_ROOT } from "./ours_loader.ts";
import { writeReport } from "./report.ts";
import { runVaultLoad } from "./vault_load.ts";
import { type LoadResult, runLoad } from "./load.ts";
import { postgresAvailable, redisUnavailable, TEST_DATABASE_URL } from "../harness/mod.ts";
import { compareScaleOut } from "./load_scale.ts";
import { isRuntime, SCHEMA } from "./result.ts";
import type { BenchResult } from "./result.ts";
import type { RunConfig, RuntimeResult } from "./runner.ts";
import { openChromiumSession } from "./session.ts";
import type { ChromiumSession } from "./session.ts";
import { summaryText } from "./table.ts";
import { judgeTargets, type LoadSuite, type VaultSuite } from "./targets.ts";
import { measureWeight } from "./weight.ts";

/**
 * The suite registry. In-runtime suites list operation-id prefixes (run in Chromium
 * and in Deno, in one interleaved pass); host suites run from here and their result
 * lands under `suites[id]` in latest.json and in the report.
 *
 * A host suite that is not in DEFAULT_SUITES (cli.ts) runs only when named in `--only`.
 */
export const SUITES: Suite[] = [
  { id: "sign", title: "RSA PKCS#1 v1.5 and PSS sign/verify", ops: ["rsa.pkcs1.", "rsa.pss."] },
  { id: "oaep", title: "RSA-2048 OAEP encrypt/decrypt", ops: ["rsa.oaep."] },
  { id: "keygen", title: "RSA-2048 key generation", ops: ["rsa.keygen."] },
  { id: "modpow", title: "modPow 1024/2048/4096", ops: ["modpow."] },
  { id: "sha", title: "SHA-1 and SHA-256 at 64 B, 1 KiB, 1 MiB", ops: ["sha256.", "sha1."] },
  { id: "lowpower", title: "Low-power profile (CPU throttling 4×, 6×)", host: runLowPower },
  {
    id: "documents",
    title: "Documents: hash and sign a 10 MiB PDF in the applet page (Chromium), " +
      "time and peak memory, against WebCrypto's SHA-256",
    host: (ctx) => runDocuments({ runs: ctx.options.documentRuns, log: ctx.log }),
  },
  { id: "dudect", title: "Timing-leak check (dudect)", host: runDudectChild },
  {
    id: "vault",
    title: "Vault load: login.finish and apply through proxy + vault on PostgreSQL",
    host: (ctx) =>
      runVaultLoad(ctx.options.quick ? { login: 600, apply: 60, concurrency: 16 } : {}),
  },
  {
    id: "load",
    title: "Load: simulated users sign in, sign and submit against deno task start (PostgreSQL); " +
      "then one against two web servers sharing Redis",
    host: async (ctx) => {
      if (!(await postgresAvailable())) {
        ctx.log(`[bench] load: skipped, no PostgreSQL at ${TEST_DATABASE_URL}`);
        return { skipped: `no PostgreSQL server at ${TEST_DATABASE_URL} (TEST_DATABASE_URL)` };
      }
      const options = {
        seconds: ctx.options.loadSeconds,
        warmupSeconds: ctx.options.loadWarmup,
        users: ctx.options.quick ? Math.min(64, ctx.options.loadUsers) : ctx.options.loadUsers,
        concurrency: ctx.options.loadConcurrency,
      };
      const one = await runLoad(options);
      // Issue 19: the same load on two web servers sharing Redis (bench/load_scale.ts).
      const noRedis = await redisUnavailable();
      if (noRedis) {
        ctx.log(`[bench] load: one against two web servers skipped, ${noRedis}`);
        return { ...one, notes: [...one.notes, `two web servers on Redis: skipped, ${noRedis}`] };
      }
      ctx.log("[bench] load: again with two web servers sharing Redis");
      const two = await runLoad({ ...options, webServers: 2 });
      return { ...one, scaleOut: compareScaleOut(one, two) };
    },
  },
];

const MODPOW_SIZES = [1024, 2048, 4096];
const HASH_SIZES = [64, 1024, 1 << 20];

const _t0 = performance.now();

/** Progress on stderr, with the seconds since the start. */
function _log(line: string): void {
  console.error(`${((performance.now() - _t0) / 1000).toFixed(0).padStart(5)}s ${line}`);
}

function _runConfig(o: BenchOptions, ops: string[]): RunConfig {
  return {
    ops,
    rsaSizes: o.rsaSizes,
    modPowSizes: o.quick ? [1024, 2048] : MODPOW_SIZES,
    hashSizes: HASH_SIZES,
    impls: o.impls,
    timing: o.quick
      ? {
        rounds: o.rounds,
        batchMs: 10,
        warmupMs: 30,
        budgetMs: 5_000,
        minRounds: Math.min(3, o.rounds),
      }
      : {
        rounds: o.rounds,
        batchMs: 25,
        warmupMs: 200,
        budgetMs: 40_000,
        minRounds: Math.min(7, o.rounds),
      },
    keygen: { bits: 2048, keys: o.keys, budgetMs: o.quick ? 20_000 : 240_000 },
  };
}

async function _tmpJson(value: unknown): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "roamsign-bench-", suffix: ".json" });
  await Deno.writeTextFile(path, typeof value === "string" ? value : JSON.stringify(value));
  return path;
}

async function _child(script: string, input: unknown): Promise<unknown> {
  const inPath = await _tmpJson(input);
  const outPath = await Deno.makeTempFile({ prefix: "roamsign-bench-out-", suffix: ".json" });
  try {
    const status = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL(script, import.meta.url).pathname, inPath, outPath],
      cwd: REPO_ROOT.pathname,
      stdout: "inherit",
      stderr: "inherit",
    }).spawn().status;
    if (!status.success) throw new Error(`${script} exited with code ${status.code}`);
    return JSON.parse(await Deno.readTextFile(outPath));
  } finally {
    await Deno.remove(inPath).catch(() => {});
    await Deno.remove(outPath).catch(() => {});
  }
}

/** The dudect suite runs in its own Deno process (clean heap, nothing else running). */
async function runDudectChild(ctx: HostContext): Promise<DudectResult> {
  const cfg: DudectConfig = { samples: ctx.options.dudectSamples, modPowBits: 1024, rsaBits: 2048 };
  return await _child("./dudect.ts", cfg) as DudectResult;
}

async function _git(args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command("git", {
      args,
      cwd: REPO_ROOT.pathname,
      stdout: "piped",
      stderr: "null",
    }).output();
    return new TextDecoder().decode(out.stdout).trim();
  } catch {
    return "";
  }
}

async function _cpu(): Promise<string> {
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    return info.match(/model name\s*:\s*(.*)/)?.[1] ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** Collect what must make the exit code non-zero. */
function _problems(r: BenchResult): string[] {
  const out: string[] = [];
  for (const [name, rt] of Object.entries(r.runtimes)) {
    if (!rt) continue;
    if (!isRuntime(rt)) {
      out.push(`${name}: ${rt.error}`);
      continue;
    }
    for (const op of rt.operations) {
      for (const x of op.results) {
        if (x.status === "error") out.push(`${name} ${op.id} ${x.impl}: ${x.error}`);
      }
    }
    if (rt.ours.missing?.length) {
      out.push(`${name}: wasm-crypto lacks ${rt.ours.missing.join(", ")}`);
    }
  }
  for (const [id, s] of Object.entries(r.suites)) {
    if (s && typeof s === "object" && "error" in s) {
      out.push(`suite ${id}: ${(s as { error: string }).error}`);
    }
  }
  const lp = r.suites.lowpower;
  if (lp && !("error" in lp)) {
    for (const [rate, list] of Object.entries(lp.start)) {
      for (const s of list) {
        if (s.status === "error") out.push(`lowpower start ${s.impl} at ${rate}×: ${s.error}`);
      }
    }
    for (const [rate, s] of Object.entries(lp.sign)) {
      if ("error" in s) out.push(`lowpower sign at ${rate}×: ${s.error}`);
      else {for (const x of s.results) {
          if (x.status === "error") out.push(`lowpower sign ${x.impl} at ${rate}×: ${x.error}`);
        }}
    }
  }
  const load = r.suites.load as LoadResult | { error: string } | { skipped: string } | undefined;
  if (load && "kind" in load) {
    if (load.errors > 0) out.push(`load: ${load.errors} errors (must be 0)`);
    const twoErrors = load.scaleOut?.runs[1]?.errors ?? 0;
    if (twoErrors > 0) out.push(`load, two web servers on Redis: ${twoErrors} errors (must be 0)`);
    if (load.audit.lost > 0 || !load.audit.chainOk) {
      out.push(
        `load: audit ${load.audit.present} of ${load.audit.expected} rows, chain ${
          load.audit.chainOk ? "ok" : "broken"
        }`,
      );
    }
  }
  const dd = r.suites.dudect;
  if (dd && !("error" in dd) && (dd.verdict === "leak" || dd.verdict === "detector invalid")) {
    out.push(`timing-leak check: ${dd.verdict} (${dd.summary})`);
  }
  return out;
}

export async function main(args: string[]): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(args, SUITES.map((s) => s.id));
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const started = new Date();
  const t0 = performance.now();
  const outDir = new URL(
    options.outDir.endsWith("/") ? options.outDir : options.outDir + "/",
    `file://${Deno.cwd()}/`,
  );
  await Deno.mkdir(outDir, { recursive: true });

  // the core: build it when present, otherwise run the peers alone and say why
  const present = await oursPresent();
  _log(
    `[bench] ${
      present ? "building wasm-crypto" : "wasm-crypto/mod.ts not found: measuring the peers only"
    }`,
  );
  const built = present
    ? await buildOurs()
    : { unavailable: "wasm-crypto/mod.ts not found (core not merged yet)" };
  const ours = {
    present,
    build: "unavailable" in built ? null : built,
    unavailable: "unavailable" in built ? built.unavailable : "",
  };
  if ("unavailable" in built) _log(`[bench] ours unavailable: ${built.unavailable}`);

  const selected = SUITES.filter((s) => options.suites.includes(s.id));
  const ops = selected.flatMap((s) => s.ops ?? []);
  const rsaSizes = [...new Set([...options.rsaSizes, 2048])].sort((a, b) => a - b);
  const inputs = await makeInputs(rsaSizes, MODPOW_SIZES);

  let session: ChromiumSession | undefined;
  const ctx: HostContext = {
    options,
    inputs,
    log: _log,
    ours,
    async chromium() {
      session ??= await openChromiumSession(ours, _log);
      return session;
    },
  };

  const runtimes: BenchResult["runtimes"] = {};
  const suites: BenchResult["suites"] = {};
  try {
    if (ops.length && options.runtimes.includes("chromium")) {
      _log(`[bench] Chromium: ${ops.join(" ")}`);
      try {
        const s = await ctx.chromium();
        const page = await s.newBenchPage();
        runtimes.chromium = await s.run(page, _runConfig(options, ops), inputs);
        await page.context().close();
      } catch (e) {
        runtimes.chromium = { error: (e as Error).message };
      }
    }
    for (const suite of selected.filter((s) => s.host && s.id !== "dudect")) {
      _log(`[bench] suite ${suite.id}: ${suite.title}`);
      try {
        suites[suite.id] = await suite.host!(ctx);
      } catch (e) {
        suites[suite.id] = { error: (e as Error).message };
      }
    }
  } finally {
    await session?.close();
  }
  if (ops.length && options.runtimes.includes("deno")) {
    _log(`[bench] Deno: ${ops.join(" ")}`);
    try {
      runtimes.deno = await _child("./deno_child.ts", {
        config: _runConfig(options, ops),
        inputs: encodeInputs(inputs),
      }) as RuntimeResult;
    } catch (e) {
      runtimes.deno = { error: (e as Error).message };
    }
  }
  const dudect = selected.find((s) => s.id === "dudect");
  if (dudect) {
    _log(`[bench] suite dudect: ${dudect.title}`);
    try {
      suites.dudect = await dudect.host!(ctx) as DudectResult;
    } catch (e) {
      suites.dudect = { error: (e as Error).message };
    }
  }
  const weight = await measureWeight(ctx);

  const chromium = isRuntime(runtimes.chromium) ? runtimes.chromium : undefined;
  const dd = suites.dudect && !("error" in suites.dudect) ? suites.dudect : undefined;
  const result: BenchResult = {
    schema: SCHEMA,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    durationMs: performance.now() - t0,
    command: ["deno task bench", ...args].join(" "),
    options,
    env: {
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      chromium: chromium?.runtime.replace(/^chromium /, "") ??
        (suites.documents as DocumentsResult | undefined)?.chromium ?? null,
      cpu: await _cpu(),
      cores: navigator.hardwareConcurrency,
      os: `${Deno.build.os} ${Deno.build.arch}`,
      commit: await _git(["rev-parse", "--short", "HEAD"]),
      dirty: (await _git(["status", "--porcelain", "--untracked-files=no"])) !== "",
    },
    ours: {
      present,
      built: ours.build !== null,
      ...(ours.unavailable ? { unavailable: ours.unavailable } : {}),
      ...(ours.build ? { wasmSha256: ours.build.sha256 } : {}),
    },
    runtimes,
    suites,
    weight,
    targets: judgeTargets(
      chromium,
      weight,
      dd,
      suites.vault as VaultSuite | undefined,
      suites.load as LoadSuite | undefined,
    ),
    problems: [],
  };
  result.problems = _problems(result);
  await Deno.writeTextFile(new URL("latest.json", outDir), JSON.stringify(result, null, 1));
  await writeReport(result, new URL("report.html", outDir));
  console.log(summaryText(result));
  console.log(
    `\nwrote ${new URL("latest.json", outDir).pathname} and ${
      new URL("report.html", outDir).pathname
    } in ${(result.durationMs / 1000).toFixed(0)} s`,
  );
  return result.problems.length ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
