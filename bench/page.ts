/**
 * Entry of the benchmark page in Chromium. The bundle the orchestrator builds links
 * this module together with wasm-crypto (when present) and calls {@link exposeBench};
 * the orchestrator then drives the page through `globalThis.__roamsignBench`.
 *
 * @module
 */
import { decodeInputs } from "./inputs.ts";
import { missingOursExports } from "./impls/ours.ts";
import type { WasmCryptoModule } from "./impls/ours.ts";
import { runOperations } from "./runner.ts";
import type { RunConfig } from "./runner.ts";

/** What the page puts on `globalThis.__roamsignBench`. */
export interface BenchGlobal {
  run(
    runtime: string,
    config: RunConfig,
    inputsJson: string,
    wasmUrl: string | null,
  ): Promise<string>;
}

/** The page's global, typed (also used by the orchestrator inside `page.evaluate`). */
export function benchGlobal(): { __roamsignBench?: BenchGlobal } {
  return globalThis as { __roamsignBench?: BenchGlobal };
}

/**
 * Make the runner callable from the orchestrator. `ours` is the wasm-crypto module,
 * or a string saying why it is unavailable.
 */
export function exposeBench(ours: Record<string, unknown> | string): void {
  benchGlobal().__roamsignBench = {
    async run(runtime, config, inputsJson, wasmUrl) {
      let binding: Parameters<typeof runOperations>[3];
      if (typeof ours === "string") binding = { unavailable: ours };
      else if (missingOursExports(ours).includes("initWasmCrypto")) {
        binding = { unavailable: "wasm-crypto/mod.ts exports no initWasmCrypto" };
      } else if (wasmUrl === null) binding = { unavailable: "no wasm module was built" };
      else {
        const res = await fetch(wasmUrl, { cache: "no-store" });
        if (!res.ok) throw new Error(`bench page: GET ${wasmUrl} → ${res.status}`);
        binding = {
          mod: ours as unknown as WasmCryptoModule,
          source: new Uint8Array(await res.arrayBuffer()),
        };
      }
      const result = await runOperations(
        runtime,
        config,
        decodeInputs(inputsJson),
        binding,
        (line) => {
          console.log(`[bench] ${line}`);
        },
      );
      return JSON.stringify(result);
    },
  };
}
