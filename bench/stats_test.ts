import assert from "node:assert/strict";
import { dudectT, median, quantileSorted, summarize, welchT, Welford } from "./stats.ts";
import type { LabelledSample } from "./stats.ts";

/** Deterministic PRNG (mulberry32) so that the statistical tests are reproducible. */
function _prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal by Box–Muller from a uniform source. */
function _normal(rand: () => number): number {
  const u = 1 - rand();
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

Deno.test("median() of odd and even samples", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
  assert.throws(() => median([]), RangeError);
});

Deno.test("summarize() reports median, min, max and n", () => {
  assert.deepEqual(summarize([5, 1, 9, 3, 7]), { median: 5, min: 1, max: 9, n: 5 });
});

Deno.test("quantileSorted() interpolates between ranks", () => {
  const xs = [10, 20, 30, 40, 50];
  assert.equal(quantileSorted(xs, 0), 10);
  assert.equal(quantileSorted(xs, 1), 50);
  assert.equal(quantileSorted(xs, 0.5), 30);
  assert.equal(quantileSorted(xs, 0.1), 14);
});

Deno.test("Welford mean and variance equal the two-pass formulas", () => {
  const rand = _prng(1);
  const xs = Array.from({ length: 1000 }, () => 1e6 + rand());
  const w = new Welford();
  for (const x of xs) w.push(x);
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1);
  assert.ok(Math.abs(w.mean - mean) < 1e-6);
  assert.ok(Math.abs(w.variance - variance) / variance < 1e-9);
});

Deno.test("welchT() matches a hand-computed value", () => {
  // a = [1, 2, 3, 4] (mean 2.5, var 5/3), b = [2, 4, 6] (mean 4, var 4):
  // t = −1.5 / √(5/12 + 4/3) = −1.5 / √(21/12)
  const a = new Welford();
  [1, 2, 3, 4].forEach((x) => a.push(x));
  const b = new Welford();
  [2, 4, 6].forEach((x) => b.push(x));
  assert.ok(Math.abs(welchT(a, b) - -1.5 / Math.sqrt(21 / 12)) < 1e-12);
});

Deno.test("dudectT() stays under 4.5 when both classes share one distribution", () => {
  const rand = _prng(42);
  const samples: LabelledSample[] = [];
  for (let i = 0; i < 20000; i++) {
    // long right tail, like real timings with interrupts
    const tail = rand() < 0.01 ? 50 * rand() : 0;
    samples.push({ cls: rand() < 0.5 ? 0 : 1, t: 100 + _normal(rand) + tail });
  }
  const { max, tests } = dudectT(samples);
  assert.equal(tests.length, 11);
  assert.ok(Math.abs(max.t) < 4.5, `max |t| = ${max.t} (${max.test})`);
});

Deno.test("dudectT() flags a 1 % mean shift hidden under a heavy tail", () => {
  const rand = _prng(7);
  const samples: LabelledSample[] = [];
  for (let i = 0; i < 20000; i++) {
    const cls = rand() < 0.5 ? 0 : 1;
    const tail = rand() < 0.02 ? 500 * rand() : 0;
    samples.push({ cls, t: 100 + cls + _normal(rand) * 2 + tail });
  }
  const { max } = dudectT(samples);
  assert.ok(Math.abs(max.t) > 10, `max |t| = ${max.t} (${max.test})`);
  // the raw test is drowned by the tail; a cropped test finds the shift
  assert.notEqual(max.test, "raw");
});
