/**
 * Applet weight: what a browser downloads for roamsign's crypto, gzipped (level 9,
 * as a static server would pre-compress it): the wasm module, the JavaScript
 * wrapper of wasm-crypto bundled and minified, and the applet's JS when it exists.
 *
 * @module
 */
import { gzipSync } from "node:zlib";
import { appletBundle } from "./applet.ts";
import { BUILD_DIR, bundle } from "./bundle.ts";
import type { HostContext } from "./context.ts";
import { WASM_CRYPTO_MOD } from "./ours_loader.ts";

export type Sized = { bytes: number; gzipBytes: number; note?: string } | { unavailable: string };

export interface WeightResult {
  wasm: Sized;
  wrapperJs: Sized;
  appletJs: Sized;
}

export function gzipSize(data: Uint8Array): number {
  return gzipSync(data, { level: 9 }).length;
}

function _sized(data: Uint8Array, note?: string): Sized {
  return { bytes: data.length, gzipBytes: gzipSize(data), ...(note ? { note } : {}) };
}

export async function measureWeight(ctx: HostContext): Promise<WeightResult> {
  const wasm: Sized = ctx.ours.build
    ? _sized(ctx.ours.build.bytes, ctx.ours.build.sha256)
    : { unavailable: ctx.ours.unavailable };
  let wrapperJs: Sized = { unavailable: ctx.ours.unavailable };
  if (ctx.ours.present) {
    try {
      wrapperJs = _sized(
        await bundle(WASM_CRYPTO_MOD, new URL("wasm_crypto_mod.min.js", BUILD_DIR), {
          minify: true,
        }),
        "wasm-crypto/mod.ts bundled for the browser, minified",
      );
    } catch (e) {
      wrapperJs = { unavailable: (e as Error).message.split("\n")[0] };
    }
  }
  const applet = await appletBundle();
  const appletJs: Sized = applet
    ? _sized(applet.js, applet.source)
    : { unavailable: "the applet bundle is not built yet (web server issue)" };
  return { wasm, wrapperJs, appletJs };
}
