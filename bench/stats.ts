/**
 * Summary statistics for the benchmark: medians with min/max of repeated samples,
 * and Welch's t-test (with dudect's percentile cropping) for the timing-leak check.
 *
 * Pure functions on plain arrays; no Deno or DOM APIs, so the same module runs in
 * Chromium pages and in Deno.
 *
 * @module
 */

/** Median, minimum and maximum of a sample, with its size. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** Median of a non-empty array (mean of the two middle values for even sizes). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError("stats: median of an empty sample");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median, min and max of a non-empty sample. */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new RangeError("stats: summary of an empty sample");
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { median: median(values), min, max, n: values.length };
}

/**
 * Quantile q ∈ [0, 1] of an already sorted array, by linear interpolation between
 * the closest ranks (the "R-7" definition used by most tools).
 */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError("stats: quantile of an empty sample");
  if (!(q >= 0 && q <= 1)) throw new RangeError(`stats: quantile ${q} outside [0, 1]`);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Running mean and variance by Welford's algorithm: numerically stable for the long
 * streams of nearly equal timings that dudect produces.
 */
export class Welford {
  n = 0;
  mean = 0;
  #m2 = 0;

  push(x: number): void {
    this.n++;
    const delta = x - this.mean;
    this.mean += delta / this.n;
    this.#m2 += delta * (x - this.mean);
  }

  /** Unbiased sample variance (n − 1 in the denominator); 0 below two samples. */
  get variance(): number {
    return this.n > 1 ? this.#m2 / (this.n - 1) : 0;
  }
}

/**
 * Welch's t statistic for two independent samples with unequal variances:
 * t = (mean₀ − mean₁) / √(var₀/n₀ + var₁/n₁). Returns 0 when either class has
 * fewer than two samples or both variances are zero (no evidence either way).
 */
export function welchT(a: Welford, b: Welford): number {
  if (a.n < 2 || b.n < 2) return 0;
  const se = Math.sqrt(a.variance / a.n + b.variance / b.n);
  if (se === 0) return a.mean === b.mean ? 0 : Infinity * Math.sign(a.mean - b.mean);
  return (a.mean - b.mean) / se;
}

/** One labelled timing: class 0 is the fixed input, class 1 the random one. */
export interface LabelledSample {
  cls: 0 | 1;
  t: number;
}

/** Result of one t-test of the battery in {@link dudectT}. */
export interface TTest {
  /** "raw", or "crop p<q>" for the test on samples below the q-quantile. */
  test: string;
  t: number;
  n0: number;
  n1: number;
  /** Difference of class means (fixed − random), in the samples' unit. */
  diff: number;
  /** Standard error of that difference; 4.5·se is the smallest difference this test flags. */
  se: number;
}

/**
 * Cropping quantiles, as in dudect (Reparaz, Balasch, Verbauwhede, "Dude, is my
 * code constant time?", DATE 2017, reference code `prepare_percentiles`):
 * q_k = 1 − 0.5^(10·(k+1)/K). They concentrate near the top, where the long tail of
 * interrupts and GC pauses lives. K = 10 here (dudect uses 100); the battery is small
 * enough that taking the maximum |t| over it barely raises the false-positive rate.
 */
export const DUDECT_CROP_QUANTILES: readonly number[] = Array.from(
  { length: 10 },
  (_, k) => 1 - Math.pow(0.5, (10 * (k + 1)) / 10),
);

/**
 * The dudect battery of first-order Welch t-tests: on all samples, and on the
 * samples below each cropping quantile of the pooled distribution. A timing leak
 * shows as a large |t| in at least one test; |t| > 4.5 is the usual threshold.
 */
export function dudectT(samples: readonly LabelledSample[]): { max: TTest; tests: TTest[] } {
  const sorted = samples.map((s) => s.t).sort((a, b) => a - b);
  const thresholds = [
    { test: "raw", limit: Infinity },
    ...DUDECT_CROP_QUANTILES.map((q) => ({
      test: `crop p${(q * 100).toFixed(2)}`,
      limit: sorted.length > 0 ? quantileSorted(sorted, q) : Infinity,
    })),
  ];
  const tests: TTest[] = thresholds.map(({ test, limit }) => {
    const acc = [new Welford(), new Welford()];
    for (const s of samples) if (s.t <= limit) acc[s.cls].push(s.t);
    const [a, b] = acc;
    const se = a.n > 1 && b.n > 1 ? Math.sqrt(a.variance / a.n + b.variance / b.n) : Infinity;
    return { test, t: welchT(a, b), n0: a.n, n1: b.n, diff: a.mean - b.mean, se };
  });
  let max = tests[0];
  for (const t of tests) if (Math.abs(t.t) > Math.abs(max.t)) max = t;
  return { max, tests };
}
