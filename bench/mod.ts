/**
 * The benchmark's public face: `deno task bench` is `main.ts`; these are the
 * pieces other code may run on their own (see docs/benchmarks.md).
 *
 * @module
 */
export { main, SUITES } from "./main.ts";
export { runVaultLoad, type VaultLoadOptions, type VaultLoadResult } from "./vault_load.ts";
export { type DudectConfig, type DudectResult, T_THRESHOLD } from "./dudect.ts";
