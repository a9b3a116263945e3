/**
 * `deno task bench`'s public face (the command itself is `main.ts`): the result types that
 * the smoke tests read from the files the bench writes.
 *
 * @module
 */
export type { BenchResult } from "./result.ts";
export type { RuntimeResult } from "./runner.ts";
export type { LoadResult } from "./load.ts";
export type { DocumentsResult } from "./documents_result.ts";
