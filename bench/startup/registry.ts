/**
 * The applet-start providers the lowpower suite measures. Each is a TypeScript entry
 * exporting `start(ctx: StartContext): Promise<StartResult>`; the suite bundles it,
 * serves it, and times `await import(url)` + `start(ctx)` in a fresh browser context.
 *
 * To add the real applet once the web server builds it: add a provider whose entry
 * loads the applet's client code (its worker protocol) and signs `ctx.message` with
 * `ctx.pkcs8`, the way the applet does after sign-in; see docs/benchmarks.md.
 *
 * @module
 */
import type { ImplKind } from "../impls/types.ts";
import { writeEntry } from "../bundle.ts";

export interface StartProvider {
  name: string;
  kind: ImplKind;
  label: string;
  /** The entry to bundle, or the reason the provider cannot run. */
  entry(ours: { present: boolean; built: boolean }): Promise<URL | { unavailable: string }>;
}

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
  // The applet (web server issue) goes here when its bundle exists.
];
