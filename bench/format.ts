/**
 * How the bench writes figures (the table, the report, the targets): a module of its own, so
 * that `targets.ts` need not import `result.ts`, which imports its types.
 *
 * @module
 */

/** Milliseconds with about four significant digits. */
export function fmtMs(x: number): string {
  if (x >= 1000) return `${(x / 1000).toFixed(2)} s`;
  if (x >= 100) return `${x.toFixed(0)} ms`;
  if (x >= 10) return `${x.toFixed(1)} ms`;
  if (x >= 1) return `${x.toFixed(2)} ms`;
  if (x >= 0.01) return `${(x * 1000).toFixed(1)} µs`;
  return `${(x * 1000).toFixed(2)} µs`;
}

export function fmtRatio(x: number): string {
  return x >= 100 ? `${x.toFixed(0)}×` : x >= 10 ? `${x.toFixed(1)}×` : `${x.toFixed(2)}×`;
}
