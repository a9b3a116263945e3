/**
 * What a host-side suite (low power, dudect, vault load, …) receives from main.ts.
 *
 * @module
 */
import type { BenchOptions } from "./cli.ts";
import type { BenchInputs } from "./inputs.ts";
import type { BuiltWasm } from "./ours_loader.ts";
import type { ChromiumSession } from "./session.ts";

export interface HostContext {
  options: BenchOptions;
  inputs: BenchInputs;
  log: (line: string) => void;
  ours: { present: boolean; build: BuiltWasm | null; unavailable: string };
  /** The shared Chromium session, opened on first use. */
  chromium(): Promise<ChromiumSession>;
}

/** A suite of the registry in main.ts. */
export interface Suite {
  id: string;
  title: string;
  /** Operation id prefixes this suite adds to the in-runtime run (Chromium and Deno). */
  ops?: string[];
  /** A host-side suite: its result lands under `suites[id]` in latest.json. */
  host?: (ctx: HostContext) => Promise<unknown>;
}
