/**
 * The applet-start providers the lowpower suite measures. Each is a TypeScript entry
 * exporting `start(ctx: StartContext): Promise<StartResult>`; the suite bundles it,
 * serves it, and times `await import(url)` + `start(ctx)` in a fresh browser context.
 *
 * A provider may `prepare()` files on the bench server (the applet's build) and pass
 * values to its `start()` through `ctx.extra`; one that cannot be throttled lists the
 * rates it runs at.
 *
 * @module
 */
import { appletBundle } from "../applet.ts";
import type { StaticServer } from "../chromium.ts";
import type { ImplKind } from "../impls/types.ts";
import { writeEntry } from "../bundle.ts";
import { gzipSize } from "../weight.ts";

export interface StartProvider {
  name: string;
  kind: ImplKind;
  label: string;
  /** The entry to bundle, or the reason the provider cannot run. */
  entry(ours: { present: boolean; built: boolean }): Promise<URL | { unavailable: string }>;
  /**
   * Serve what the start needs; returns values for `ctx.extra` and, when the bundle is
   * not what the user downloads, the gzipped bytes that are.
   */
  prepare?(
    server: StaticServer,
  ): Promise<{ extra: Record<string, string>; gzipBytes?: number } | { unavailable: string }>;
  /** False for a start that ends before a signature (default true: the signature is checked). */
  signs?: boolean;
  /** Throttling rates at which the measurement means what it says (default: all). */
  rates?: number[];
  /** Why the other rates are n/a. */
  ratesReason?: string;
}

/**
 * Chromium refuses CPU throttling on worker targets ("Operation is only supported for
 * pages, not workers"), and a page's throttling does not slow its dedicated workers
 * (measured), so a start that runs in a worker is only measured unthrottled.
 */
export const WORKER_THROTTLING_REASON =
  "CDP cannot throttle dedicated workers (Emulation.setCPUThrottlingRate: only supported for pages); " +
  "the same crypto on a throttled main thread is the ours row";

const appletProvider: StartProvider = {
  name: "applet",
  kind: "ours",
  label:
    "the applet's worker: worker JS + wasm (wasm-crypto, OPAQUE) + hash checks + instantiate + OPAQUE ready (no signature: needs sign-in)",
  entry: () => Promise.resolve(new URL("applet.ts", new URL("./", import.meta.url))),
  async prepare(server) {
    const built = await appletBundle();
    if ("unavailable" in built) return built;
    const manifest = built.manifest as { entries?: { worker?: string } } | undefined;
    const worker = built.files.find((f) => f.role === "worker");
    if (!manifest?.entries?.worker || !worker?.urlPath) {
      return { unavailable: "the applet build has no worker entry" };
    }
    for (const f of built.files) {
      if (f.urlPath && f.urlPath !== "/") {
        server.put(f.urlPath, { body: f.bytes, type: f.type ?? "application/octet-stream" });
      }
    }
    // what the worker fetches at start: itself, one wasm-crypto build, the OPAQUE wasm
    const wasm = built.files.find((f) => f.role === "wasm");
    const opaqueWasm = built.files.find((f) => f.role === "opaque");
    return {
      extra: { workerUrl: worker.urlPath },
      gzipBytes: gzipSize(worker.bytes) + (wasm ? gzipSize(wasm.bytes) : 0) +
        (opaqueWasm ? gzipSize(opaqueWasm.bytes) : 0),
    };
  },
  signs: false,
  rates: [1],
  ratesReason: WORKER_THROTTLING_REASON,
};

const STARTUP_DIR = new URL("./", import.meta.url);

function _static(name: string, kind: ImplKind, label: string, file: string): StartProvider {
  return { name, kind, label, entry: () => Promise.resolve(new URL(file, STARTUP_DIR)) };
}

export const START_PROVIDERS: StartProvider[] = [
  {
    name: "ours",
    kind: "ours",
    label: "roamsign wasm-crypto: fetch wasm + hash check + instantiate + import key + sign",
    async entry(ours) {
      if (!ours.present) return { unavailable: "wasm-crypto/mod.ts not found" };
      if (!ours.built) return { unavailable: "no wasm module was built" };
      return await writeEntry(
        "start_ours.ts",
        [
          'import * as wasmCrypto from "../../../wasm-crypto/mod.ts";',
          'import { oursStart } from "../../startup/ours.ts";',
          'import type { WasmCryptoModule } from "../../impls/ours.ts";',
          "export const start = oursStart(wasmCrypto as unknown as WasmCryptoModule);",
          "",
        ].join("\n"),
      );
    },
  },
  _static("webcrypto", "native", "WebCrypto: import key + sign", "webcrypto.ts"),
  _static("node-forge", "js", "node-forge: load + import key + sign", "forge.ts"),
  _static("jsrsasign", "js", "jsrsasign: load + import key + sign", "jsrsasign.ts"),
  _static("micro-rsa-dsa-dh", "js", "micro-rsa-dsa-dh: load + import key + sign", "micro.ts"),
  _static(
    "rsa.wasm",
    "wasm",
    "@hazae41/rsa.wasm: load + compile bundled wasm + import key + sign",
    "hazae.ts",
  ),
  appletProvider,
];
