/**
 * Command line of `deno task bench`: which suites, how long, where the results go.
 *
 * @module
 */
import { parseArgs } from "node:util";

export const USAGE = `deno task bench [options]

  --only LIST      suites to run, comma-separated (default: all). Suites:
                     sign (PKCS#1 v1.5 + PSS sign/verify), oaep, keygen, modpow, sha,
                     lowpower (CPU throttling 4x/6x: sign + applet start), dudect,
                     vault (login.finish + apply load through proxy + vault, PostgreSQL),
                     load (simulated users: session + sign-in + sign + submit against
                       deno task start on PostgreSQL; needs TEST_DATABASE_URL's server;
                       then again with two web servers sharing a Redis of its own),
                     documents (hash and sign a 10 MiB PDF in the applet page in
                       Chromium: time and peak memory, against WebCrypto's SHA-256),
                     rsa (= sign,oaep,keygen,modpow), plus any registered in main.ts
  --quick          short smoke run: few rounds, 3 keys, small dudect
  --sizes LIST     RSA sizes for sign/verify (default 2048,3072,4096)
  --runtime LIST   chromium,deno (default both; targets use chromium)
  --impl LIST      keep only these implementations (e.g. ours,webcrypto)
  --rounds N       rounds per operation (default 21, quick 5)
  --keys N         keys per implementation for keygen (default 20, quick 3)
  --dudect-samples N   measurements per dudect target (default 20000, quick 3000)
  --load-seconds N       load: timed seconds (default 60, quick 10)
  --load-warmup N        load: untimed warm-up seconds before (default 5)
  --load-users N         load: simulated users, each on its own loopback address (default 160;
                         each starts ≤ 1 journey per 0.55 s)
  --load-concurrency N   load: journeys in flight (default 32)
  --document-runs N      documents: timed runs after one warm-up (default 11, quick 3)
  --out DIR        output directory (default bench/results)
  --help           this text
`;

export interface BenchOptions {
  suites: string[];
  quick: boolean;
  rsaSizes: number[];
  runtimes: ("chromium" | "deno")[];
  impls: string[];
  rounds: number;
  keys: number;
  dudectSamples: number;
  loadSeconds: number;
  loadWarmup: number;
  loadUsers: number;
  loadConcurrency: number;
  documentRuns: number;
  outDir: string;
  help: boolean;
}

/** Suites run when --only is absent, in order. */
export const DEFAULT_SUITES = [
  "sign",
  "oaep",
  "keygen",
  "modpow",
  "sha",
  "lowpower",
  "documents",
  "dudect",
  "vault",
  "load",
];
export const SUITE_ALIASES: Record<string, string[]> = {
  rsa: ["sign", "oaep", "keygen", "modpow"],
};

function _list(v: string | undefined): string[] {
  return v === undefined ? [] : v.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

function _int(name: string, v: string | undefined, fallback: number, min: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    throw new Error(`bench: --${name} expects an integer ≥ ${min}, got "${v}"`);
  }
  return n;
}

/**
 * Parse the arguments. `knownSuites` are the suite ids of the registry in main.ts;
 * an unknown suite, size or runtime is an error, not a silent no-op.
 */
export function parseOptions(args: string[], knownSuites: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args,
    options: {
      only: { type: "string" },
      quick: { type: "boolean", default: false },
      sizes: { type: "string" },
      runtime: { type: "string" },
      impl: { type: "string" },
      rounds: { type: "string" },
      keys: { type: "string" },
      "dudect-samples": { type: "string" },
      "load-seconds": { type: "string" },
      "load-warmup": { type: "string" },
      "load-users": { type: "string" },
      "load-concurrency": { type: "string" },
      "document-runs": { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const quick = values.quick === true;
  const requested = values.only === undefined ? DEFAULT_SUITES : _list(values.only);
  const suites: string[] = [];
  for (const s of requested) {
    const expanded = SUITE_ALIASES[s] ?? [s];
    for (const e of expanded) {
      if (!knownSuites.includes(e)) {
        throw new Error(
          `bench: unknown suite "${e}" (known: ${
            [...knownSuites, ...Object.keys(SUITE_ALIASES)].join(", ")
          })`,
        );
      }
      if (!suites.includes(e)) suites.push(e);
    }
  }
  const rsaSizes = values.sizes === undefined
    ? [2048, 3072, 4096]
    : _list(values.sizes).map(Number);
  for (const b of rsaSizes) {
    if (![2048, 3072, 4096].includes(b)) {
      throw new Error(`bench: --sizes takes 2048, 3072, 4096; got "${b}"`);
    }
  }
  const runtimes = values.runtime === undefined ? ["chromium", "deno"] : _list(values.runtime);
  for (const r of runtimes) {
    if (r !== "chromium" && r !== "deno") {
      throw new Error(`bench: --runtime takes chromium, deno; got "${r}"`);
    }
  }
  return {
    suites,
    quick,
    rsaSizes,
    runtimes: runtimes as ("chromium" | "deno")[],
    impls: _list(values.impl),
    rounds: _int("rounds", values.rounds, quick ? 5 : 21, 1),
    keys: _int("keys", values.keys, quick ? 3 : 20, 1),
    dudectSamples: _int("dudect-samples", values["dudect-samples"], quick ? 3000 : 20000, 100),
    loadSeconds: _int("load-seconds", values["load-seconds"], quick ? 10 : 60, 1),
    loadWarmup: _int("load-warmup", values["load-warmup"], 5, 0),
    loadUsers: _int("load-users", values["load-users"], 160, 1),
    loadConcurrency: _int("load-concurrency", values["load-concurrency"], 32, 1),
    documentRuns: _int("document-runs", values["document-runs"], quick ? 3 : 11, 1),
    outDir: values.out ?? "bench/results",
    help: values.help === true,
  };
}
