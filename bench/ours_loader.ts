/**
 * Finding, building and loading roamsign's wasm-crypto from the Deno side. The bench
 * is pluggable: when `wasm-crypto/mod.ts` or its build is missing, "ours" is reported
 * as unavailable with the reason and every peer is still measured.
 *
 * @module
 */
import type { OursBinding, WasmCryptoModule } from "./impls/ours.ts";
import { missingOursExports } from "./impls/ours.ts";

export const REPO_ROOT = new URL("../", import.meta.url);
export const WASM_CRYPTO_MOD = new URL("wasm-crypto/mod.ts", REPO_ROOT);
export const WASM_CRYPTO_BUILD = new URL("wasm-crypto/build.ts", REPO_ROOT);

/** The built module as `buildWasm()` returns it (issue 2 contract). */
export interface BuiltWasm {
  path: string;
  sha256: string;
  bytes: Uint8Array;
  /** Which build of the core: "relaxed" (fused multiply-add kernel) or "baseline". */
  variant: string;
}

async function _exists(url: URL): Promise<boolean> {
  try {
    return (await Deno.stat(url)).isFile;
  } catch {
    return false;
  }
}

function _text(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Build the wasm module through `wasm-crypto/build.ts`, or say why it cannot be had. */
export async function buildOurs(): Promise<BuiltWasm | { unavailable: string }> {
  if (!(await _exists(WASM_CRYPTO_BUILD))) {
    return { unavailable: "wasm-crypto/build.ts not found (core not merged yet)" };
  }
  try {
    const build = await import(WASM_CRYPTO_BUILD.href);
    if (typeof build.buildWasm !== "function") {
      return { unavailable: "wasm-crypto/build.ts exports no buildWasm()" };
    }
    const built = await build.buildWasm();
    // the build the applet's worker would pick on this engine (Deno's V8, as Chromium's):
    // the relaxed build where relaxed SIMD validates (wasm-crypto/runtime.ts)
    const runtime = await import(new URL("wasm-crypto/runtime.ts", REPO_ROOT).href);
    const relaxed = built.relaxed && runtime.relaxedSimdSupported?.() === true;
    const pick = relaxed ? built.relaxed : built;
    const bytes = pick.bytes instanceof Uint8Array ? pick.bytes : await Deno.readFile(pick.path);
    return {
      path: String(pick.path),
      sha256: String(pick.sha256),
      bytes,
      variant: relaxed ? "relaxed" : "baseline",
    };
  } catch (e) {
    return { unavailable: `wasm-crypto build failed: ${_text(e)}` };
  }
}

/** Import wasm-crypto/mod.ts in this process and check it offers the contract. */
export async function loadOursInDeno(): Promise<OursBinding | { unavailable: string }> {
  if (!(await _exists(WASM_CRYPTO_MOD))) {
    return { unavailable: "wasm-crypto/mod.ts not found (core not merged yet)" };
  }
  try {
    const mod = await import(WASM_CRYPTO_MOD.href);
    if (missingOursExports(mod).includes("initWasmCrypto")) {
      return { unavailable: "wasm-crypto/mod.ts exports no initWasmCrypto" };
    }
    return { mod: mod as WasmCryptoModule };
  } catch (e) {
    return { unavailable: `importing wasm-crypto/mod.ts failed: ${_text(e)}` };
  }
}

/** Whether the core's source is present (the page bundle links it in only then). */
export function oursPresent(): Promise<boolean> {
  return _exists(WASM_CRYPTO_MOD);
}
