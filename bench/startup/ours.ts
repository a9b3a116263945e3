/**
 * Applet start of roamsign's core, as the applet's worker will do it (DESIGN.md §2.1):
 * fetch the wasm bytes, check them against the manifest's SHA-256, instantiate,
 * import the PKCS#8 key, sign once, destroy the key. The generated entry passes in
 * the wasm-crypto module, so this file does not import the core itself.
 *
 * @module
 */
import { bytesEqual, fromBase64, fromHex, toBase64 } from "../impls/bytes.ts";
import type { WasmCryptoModule } from "../impls/ours.ts";
import type { StartContext, StartResult } from "./common.ts";

export function oursStart(mod: WasmCryptoModule): (ctx: StartContext) => Promise<StartResult> {
  return async (ctx) => {
    if (!ctx.wasmUrl || !ctx.wasmSha256) throw new Error("ours start: no wasm URL or hash");
    const t0 = performance.now();
    const res = await fetch(ctx.wasmUrl, { cache: "no-store" });
    if (!res.ok) throw new Error(`ours start: GET ${ctx.wasmUrl} → ${res.status}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const t1 = performance.now();
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    if (!bytesEqual(digest, fromHex(ctx.wasmSha256))) {
      throw new Error("ours start: wasm hash mismatch");
    }
    const t2 = performance.now();
    await mod.initWasmCrypto(bytes);
    const t3 = performance.now();
    const key = mod.importPrivateKeyPkcs8(fromBase64(ctx.pkcs8));
    const t4 = performance.now();
    const signature = mod.signPkcs1v15(key, "SHA-256", fromBase64(ctx.message));
    const t5 = performance.now();
    key.destroy();
    return {
      signature: toBase64(signature),
      phases: {
        fetchWasm: t1 - t0,
        hashCheck: t2 - t1,
        init: t3 - t2,
        importKey: t4 - t3,
        sign: t5 - t4,
      },
    };
  };
}
