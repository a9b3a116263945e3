/**
 * The OPAQUE client's wasm as a file of its own (issue 20, docs/applet.md "The OPAQUE
 * client's wasm"). `@serenity-kit/opaque` (pinned in deno.json) ships its wasm-bindgen
 * module inlined as base64 in its JavaScript, and its public API (`client`, `server`,
 * `ready`) has no way to pass the module in. The applet's build therefore derives two
 * things from the package's `esm/index.js`:
 *
 * - **the wasm**: the base64 decoded, the server's five exports dropped and what only
 *   they reach removed (Binaryen's `remove-unused-module-elements`: whole functions,
 *   imports and data the client never reaches; the code that stays is not
 *   re-optimised), custom sections (names, producers) left out. Served
 *   content-addressed like wasm-crypto; the worker checks it against the SHA-256 linked
 *   into its own bytes (server/build.ts, applet/worker.ts);
 * - **the glue**: the package's JavaScript without the base64 and its decoder, whose
 *   `ready` waits for the bytes the worker hands over (applet/opaque_wasm.ts) instead of
 *   compiling the inlined copy. The worker bundle resolves `@serenity-kit/opaque` to it
 *   through an import map (deno.json's, with that one entry changed); everything else in
 *   the module — the client's and server's functions, the bindings — is the package's
 *   text unchanged.
 *
 * A package whose text no longer has the expected shape fails the build
 * (`opaque_split_failed`) rather than bundling the inlined copy. Deterministic: the
 * outputs depend only on the package's bytes and the pinned Binaryen (the one asc uses).
 *
 * @module
 */
import binaryen from "binaryen";

/** The package's exports that only a server calls. */
const _SERVER_EXPORTS = [
  "createServerRegistrationResponse",
  "createServerSetup",
  "finishServerLogin",
  "getServerPublicKey",
  "startServerLogin",
];

/** What the applet's glue imports the checked bytes from (relative to the glue's directory). */
const _HANDOFF = "../../applet/opaque_wasm.ts";

/** The split: the wasm module and the glue's text. */
export interface OpaqueSplit {
  wasm: Uint8Array;
  glue: string;
}

/** A package that cannot be split; `code` is stable. */
export class OpaqueSplitError extends Error {
  readonly code = "opaque_split_failed";
  constructor(message: string) {
    super(`build: @serenity-kit/opaque: ${message}`);
    this.name = "OpaqueSplitError";
  }
}

/** The package's ES module, as Deno resolved it (its `esm/` beside the `cjs/` entry). */
export function opaquePackageUrl(): URL {
  return new URL("../esm/index.js", import.meta.resolve("@serenity-kit/opaque"));
}

function _one(text: string, re: RegExp, what: string): RegExpExecArray {
  const hits = [...text.matchAll(new RegExp(re.source, "g"))];
  if (hits.length !== 1) throw new OpaqueSplitError(`${hits.length} × ${what}, expected 1`);
  return hits[0] as RegExpExecArray;
}

/** Splits the package's module text (see the module doc). */
export function splitOpaque(source: string): OpaqueSplit {
  const loader = _one(source, /function _loadWasmModule ?\(/, "the inline loader").index;
  const data = _one(
    source,
    /function wasmData\(imports\)\{return _loadWasmModule\(0, null, '([A-Za-z0-9+/=]+)'(?:, imports)?\)\}\n/,
    "the inlined wasm",
  );
  if (loader > data.index) throw new OpaqueSplitError("the loader follows the wasm");
  const ready = _one(
    source,
    /const ready = __wbg_init\(\{ module_or_path: wasmData\(\) \}\)\.then\(\(\) => \{\n\}\);\n/,
    "the ready promise",
  );
  const glue = source.slice(0, loader) +
    source.slice(data.index + data[0].length, ready.index) +
    `import { opaqueWasmBytes } from ${JSON.stringify(_HANDOFF)};\n` +
    "const ready = opaqueWasmBytes()\n" +
    "  .then((bytes) => __wbg_init({ module_or_path: bytes }))\n" +
    "  .then(() => {});\n" +
    source.slice(ready.index + ready[0].length);
  if (/AGFzbQ|_loadWasmModule|wasmData/.test(glue)) {
    throw new OpaqueSplitError("the glue still refers to the inlined wasm");
  }
  return { wasm: _pruneClient(_fromBase64(data[1])), glue };
}

function _fromBase64(b64: string): Uint8Array {
  const raw = atob(b64);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

/** The client's module: the server's exports and what only they reach removed. */
function _pruneClient(wasm: Uint8Array): Uint8Array {
  if (!WebAssembly.validate(wasm as BufferSource)) {
    throw new OpaqueSplitError("the inlined wasm does not validate");
  }
  const names = WebAssembly.Module.exports(new WebAssembly.Module(wasm as BufferSource))
    .map((e) => e.name);
  for (const n of _SERVER_EXPORTS) {
    if (!names.includes(n)) throw new OpaqueSplitError(`the wasm exports no ${n}`);
  }
  const mod = binaryen.readBinary(wasm);
  try {
    mod.setFeatures(binaryen.Features.All);
    for (const n of _SERVER_EXPORTS) mod.removeExport(n);
    mod.runPasses(["remove-unused-module-elements"]);
    if (!mod.validate()) throw new OpaqueSplitError("the pruned wasm does not validate");
    const out = _withoutCustomSections(mod.emitBinary());
    if (!WebAssembly.validate(out as BufferSource)) {
      throw new OpaqueSplitError("the pruned wasm does not validate in this engine");
    }
    return out;
  } finally {
    mod.dispose();
  }
}

/** The module without custom sections (id 0: names, producers, target features). */
function _withoutCustomSections(b: Uint8Array): Uint8Array {
  const keep: Uint8Array[] = [b.subarray(0, 8)];
  let p = 8;
  const leb = (): number => {
    let r = 0, s = 0, x: number;
    do {
      x = b[p++];
      r += (x & 0x7f) * 2 ** s;
      s += 7;
    } while (x & 0x80);
    return r;
  };
  while (p < b.length) {
    const start = p;
    const id = b[p++];
    const len = leb();
    const end = p + len;
    if (end > b.length) throw new OpaqueSplitError("a section runs past the module's end");
    if (id !== 0) keep.push(b.subarray(start, end));
    p = end;
  }
  const out = new Uint8Array(keep.reduce((n, k) => n + k.length, 0));
  let o = 0;
  for (const k of keep) {
    out.set(k, o);
    o += k.length;
  }
  return out;
}

/**
 * Writes the glue and an import map for `deno bundle` into `dir` (deno.json's imports,
 * `@serenity-kit/opaque` mapped to the glue) and returns the wasm and the map's path.
 * `dir` must be two levels below the repository root (the glue's import of
 * applet/opaque_wasm.ts is relative).
 */
export async function prepareOpaqueClient(
  root: string,
  dir: string,
): Promise<{ wasm: Uint8Array; importMap: string }> {
  const split = splitOpaque(await Deno.readTextFile(opaquePackageUrl()));
  const config = JSON.parse(await Deno.readTextFile(`${root}/deno.json`));
  const imports = { ...config.imports, "@serenity-kit/opaque": "./opaque.js" };
  await Deno.mkdir(dir, { recursive: true });
  // Atomic: two builders may run at once; both write the same bytes.
  const write = async (path: string, text: string) => {
    const tmp = `${path}.${crypto.randomUUID()}.tmp`;
    await Deno.writeTextFile(tmp, text);
    await Deno.rename(tmp, path);
  };
  await write(`${dir}/opaque.js`, split.glue);
  const importMap = `${dir}/import_map.json`;
  await write(importMap, JSON.stringify({ imports }, null, 2) + "\n");
  return { wasm: split.wasm, importMap };
}
