/**
 * Interleaved timing of competing implementations of one operation.
 *
 * Each candidate is warmed up (so the JIT has tiered up), then calibrated to a batch
 * size k such that one batch lasts about `batchMs` (timer resolution in a browser is
 * 5–100 µs, so single fast calls cannot be timed alone). Then `rounds` rounds run; in
 * each round every candidate runs one batch, in an order rotated by one per round, so
 * that slow drifts of the machine (other processes, thermal state, GC) fall on all
 * candidates alike. A sample is batch time ÷ k; the figure is the median of the
 * samples, with min and max. Ratios between candidates are taken from these medians
 * and, per round, from the paired samples.
 *
 * No Deno or DOM APIs beyond `performance.now()`: runs in pages and in Deno.
 *
 * @module
 */
import { median, summarize } from "./stats.ts";
import type { Summary } from "./stats.ts";

/** One competitor: a call that may return a value or a promise of one. */
export interface Candidate {
  impl: string;
  fn: () => unknown;
}

export interface TimingOptions {
  rounds: number;
  /** Target duration of one batch, ms. */
  batchMs: number;
  /** Warm-up duration per candidate, ms (at least 2 calls). */
  warmupMs: number;
  /**
   * Soft budget for the whole measurement, ms: when one round of all candidates
   * would make the total exceed it, fewer rounds run (never fewer than `minRounds`).
   */
  budgetMs: number;
  minRounds: number;
}

/** Timing result of one candidate. */
export interface Timing extends Summary {
  impl: string;
  /** Calls per batch. */
  iterations: number;
  /** Per-round samples, ms per call, in round order (for paired ratios). */
  samples: number[];
}

let _sink: unknown;

/** Keep the last result reachable so that no engine can drop a call as dead code. */
export function sink(): unknown {
  return _sink;
}

async function _isAsync(fn: () => unknown): Promise<boolean> {
  const r = fn();
  if (r instanceof Promise) {
    _sink = await r;
    return true;
  }
  _sink = r;
  return false;
}

async function _batch(fn: () => unknown, k: number, isAsync: boolean): Promise<number> {
  const t0 = performance.now();
  if (isAsync) {
    for (let i = 0; i < k; i++) _sink = await fn();
  } else {
    for (let i = 0; i < k; i++) _sink = fn();
  }
  return performance.now() - t0;
}

/** Measure candidates of one operation, interleaved; see the module doc. */
export async function measure(
  candidates: readonly Candidate[],
  o: TimingOptions,
): Promise<Timing[]> {
  const prepared: { c: Candidate; isAsync: boolean; k: number; perCall: number }[] = [];
  for (const c of candidates) {
    const isAsync = await _isAsync(c.fn);
    // warm-up: at least two calls and about warmupMs
    let calls = 1;
    const w0 = performance.now();
    do {
      await _batch(c.fn, 1, isAsync);
      calls++;
    } while (calls < 2 || performance.now() - w0 < o.warmupMs);
    // calibrate: grow k until one batch takes at least half the target
    let k = 1;
    let t = await _batch(c.fn, k, isAsync);
    while (t < o.batchMs / 2 && k < 1 << 24) {
      const want = Math.ceil((k * o.batchMs) / Math.max(t, 0.01));
      k = Math.min(Math.max(k * 2, Math.min(want, k * 100)), 1 << 24);
      t = await _batch(c.fn, k, isAsync);
    }
    prepared.push({ c, isAsync, k, perCall: t / k });
  }
  const roundMs = prepared.reduce((s, p) => s + p.k * p.perCall, 0);
  const rounds = Math.max(
    o.minRounds,
    Math.min(o.rounds, Math.floor(o.budgetMs / Math.max(roundMs, 1e-3))),
  );
  const samples = prepared.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < prepared.length; j++) {
      const i = (j + r) % prepared.length;
      const p = prepared[i];
      samples[i].push((await _batch(p.c.fn, p.k, p.isAsync)) / p.k);
    }
  }
  return prepared.map((p, i) => ({
    impl: p.c.impl,
    iterations: p.k,
    samples: samples[i],
    ...summarize(samples[i]),
  }));
}

/**
 * Median over rounds of the per-round ratio a/b (both measured in the same round);
 * less sensitive to drift than the ratio of medians.
 */
export function pairedRatio(a: Timing, b: Timing): number {
  const n = Math.min(a.samples.length, b.samples.length);
  const ratios: number[] = [];
  for (let i = 0; i < n; i++) ratios.push(a.samples[i] / b.samples[i]);
  return median(ratios);
}
