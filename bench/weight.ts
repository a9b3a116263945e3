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

export type Sized =
  | {
    bytes: number;
    gzipBytes: number;
    note?: string;
    parts?: { role: string; bytes: number; gzipBytes: number }[];
  }
  | { unavailable: string };

export interface WeightResult {
  wasm: Sized;
  wrapperJs: Sized;
  /** The applet's JavaScript (page + worker, each gzipped on its own, as served). */
  appletJs: Sized;
  /** Every file of the applet (HTML, CSS, JS, wasm), the on-demand workers included. */
  appletTotal: Sized;
  /**
   * What the first load fetches (issue 20's transfer target): {@link appletTotal} without
   * the workers fetched on demand ({@link ON_DEMAND_ROLES}).
   */
  appletStart: Sized;
}

/**
 * Manifest entries the first load does not fetch: the pass-phrase strength worker (opened
 * with "New registration") and the document worker (opened with "Sign a document").
 */
export const ON_DEMAND_ROLES: ReadonlySet<string> = new Set(["strength", "documents"]);

export function gzipSize(data: Uint8Array): number {
  return gzipSync(data, { level: 9 }).length;
}

function _sized(data: Uint8Array, note?: string): Sized {
  return { bytes: data.length, gzipBytes: gzipSize(data), ...(note ? { note } : {}) };
}

function _sum(files: { role: string; bytes: Uint8Array }[], note: string): Sized {
  const parts = files.map((f) => ({
    role: f.role,
    bytes: f.bytes.length,
    gzipBytes: gzipSize(f.bytes),
  }));
  return {
    bytes: parts.reduce((a, p) => a + p.bytes, 0),
    gzipBytes: parts.reduce((a, p) => a + p.gzipBytes, 0),
    note,
    parts,
  };
}

export async function measureWeight(ctx: HostContext): Promise<WeightResult> {
  const wasm: Sized = ctx.ours.build
    ? _sized(
      ctx.ours.build.bytes,
      `${ctx.ours.build.variant} build, sha256 ${ctx.ours.build.sha256}`,
    )
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
  if ("unavailable" in applet) {
    return { wasm, wrapperJs, appletJs: applet, appletTotal: applet, appletStart: applet };
  }
  const js = applet.files.filter((f) =>
    f.role === "page" || f.role === "worker" || f.role === "bundle"
  );
  // a browser downloads one of the two wasm builds: the relaxed one where it has
  // relaxed SIMD (as Chromium does), so the baseline file is not counted then
  const downloaded = applet.files.filter((f) =>
    !(f.role === "wasm" && applet.files.some((g) => g.role === "wasmRelaxed"))
  );
  return {
    wasm,
    wrapperJs,
    appletJs: js.length
      ? _sum(js, applet.source)
      : { unavailable: `${applet.source}: no JS entries` },
    appletTotal: _sum(downloaded, `${applet.source}; wasm: the relaxed build`),
    appletStart: _sum(
      downloaded.filter((f) => !ON_DEMAND_ROLES.has(f.role)),
      `${applet.source}; wasm: the relaxed build; without ${[...ON_DEMAND_ROLES].join(", ")}`,
    ),
  };
}
