/**
 * "Applet start" under test: everything between a page deciding to sign and having
 * the first signature: loading the module (download + parse), initialising the
 * library (for wasm: download + compile + instantiate), importing the PKCS#8 key, and
 * the first signature. Each provider is bundled on its own and imported by the page
 * with a cache-busting URL, so nothing is reused between samples.
 *
 * @module
 */
import { fromBase64, toBase64 } from "../impls/bytes.ts";
import type { KeyMaterial, RsaAdapter } from "../impls/types.ts";

/** What the orchestrator passes to `start()` (JSON; bytes in base64). */
export interface StartContext {
  bits: number;
  pkcs8: string;
  spki: string;
  jwk: JsonWebKey;
  message: string;
  /** ours only: where the wasm module is served and its expected SHA-256 (hex). */
  wasmUrl?: string;
  wasmSha256?: string;
  /** Provider-specific values from its `prepare()` (e.g. the applet's worker and manifest URLs). */
  extra?: Record<string, string>;
}

/**
 * What `start()` returns: the signature (checked by the orchestrator against WebCrypto's;
 * absent for a provider whose start ends before a signature) and phase times, ms.
 */
export interface StartResult {
  signature?: string;
  phases: Record<string, number>;
}

export function keyFromContext(ctx: StartContext): KeyMaterial {
  return { bits: ctx.bits, pkcs8: fromBase64(ctx.pkcs8), spki: fromBase64(ctx.spki), jwk: ctx.jwk };
}

/** Start through one of the bench's RSA adapters: init, key import, first signature. */
export async function startWithAdapter(
  adapter: RsaAdapter,
  ctx: StartContext,
): Promise<StartResult> {
  const t0 = performance.now();
  await adapter.init?.();
  const t1 = performance.now();
  const ops = await adapter.load(keyFromContext(ctx));
  const t2 = performance.now();
  const signature = await ops.signPkcs1!(fromBase64(ctx.message));
  const t3 = performance.now();
  ops.dispose?.();
  return {
    signature: toBase64(signature),
    phases: { init: t1 - t0, importKey: t2 - t1, sign: t3 - t2 },
  };
}
