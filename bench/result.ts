/**
 * The shape of `bench/results/latest.json`, and formatting shared by the stdout
 * tables and the HTML report.
 *
 * @module
 */
import type { BenchOptions } from "./cli.ts";
import type { DudectResult } from "./dudect.ts";
import type { LowPowerResult } from "./lowpower.ts";
import type { ImplResult, OpResult, RuntimeResult } from "./runner.ts";
import type { TargetResult } from "./targets.ts";
import type { WeightResult } from "./weight.ts";

export const SCHEMA = "roamsign-bench/1";

export interface BenchResult {
  schema: typeof SCHEMA;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  command: string;
  options: BenchOptions;
  env: {
    deno: string;
    v8: string;
    chromium: string | null;
    cpu: string;
    cores: number;
    os: string;
    commit: string;
    /** Uncommitted changes in the work tree when the run started. */
    dirty: boolean;
  };
  ours: { present: boolean; built: boolean; unavailable?: string; wasmSha256?: string };
  runtimes: {
    chromium?: RuntimeResult | { error: string };
    deno?: RuntimeResult | { error: string };
  };
  /** Host-side suites by id: lowpower, dudect, and any added to the registry (vault, …). */
  suites: {
    lowpower?: LowPowerResult | { error: string };
    dudect?: DudectResult | { error: string };
    [id: string]: unknown;
  };
  weight: WeightResult;
  targets: TargetResult[];
  /** Broken adapters, failed suites, invalid timing check: any entry makes the exit code 1. */
  problems: string[];
}

export type Ok = Extract<ImplResult, { status: "ok" }>;

export function isRuntime(r: RuntimeResult | { error: string } | undefined): r is RuntimeResult {
  return r !== undefined && !("error" in r);
}

/** The implementation ratios are taken against: ours if it has a figure, else WebCrypto. */
export function reference(op: OpResult): Ok | undefined {
  const ok = op.results.filter((r): r is Ok => r.status === "ok");
  return ok.find((r) => r.impl === "ours") ?? ok.find((r) => r.impl === "webcrypto");
}

export { fmtMs, fmtRatio } from "./format.ts";

/** MB/s (10^6 bytes per second) for a hash of `bytes` bytes taking `ms` ms. */
export function mbPerS(bytes: number, ms: number): number {
  return bytes / ms / 1000;
}
