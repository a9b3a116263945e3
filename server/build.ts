/**
 * Builds the applet (DESIGN.md §2.1): wasm-crypto through asc (`buildWasm()`),
 * the OPAQUE client's wasm split out of its package (server/opaque_split.ts),
 * the page script, its worker, the pass-phrase strength worker and the document worker
 * (both loaded only on demand, docs/passphrase.md, docs/documents.md) through `deno bundle`,
 * the style sheet, and
 * the page itself. Every output except the page is content-addressed
 * (`/applet/<sha256>.<ext>`), all of them are listed with their SHA-256 in
 * `manifest.json` (served at `/.well-known/roamsign/manifest.json`), and the
 * page loads its script and style with Subresource Integrity.
 *
 * Two steps (docs/trust-anchors.md):
 * 1. **Compile** ({@link compileApplet}): asc and `deno bundle`, into a cache
 *    (`.build/applet/`) keyed by a fingerprint over every source file. It needs no
 *    deployment data.
 * 2. **Link** ({@link linkApplet}): the deployment's trust anchors and the SHA-256 of
 *    both wasm builds and of the OPAQUE client's wasm replace a placeholder in the worker
 *    bundle (and in the document bundle, which hashes with wasm-crypto), then every file is
 *    named by its hash, the page gets the URL and SRI hash of each worker in a `<meta>`, and
 *    the manifest lists files and anchors. Without anchors there is no applet: the
 *    build refuses ({@link BuildError} `no_anchors`).
 *
 * Reproducible: the outputs depend only on the sources and the anchors (bundles are
 * built from the repository root with relative paths, minified, without source
 * maps). Incremental: `build-state.json` keeps the fingerprint and the anchors; an
 * unchanged pair with every output present skips the build. Writes go to a
 * temporary name and are renamed, so a reader (or a second builder) never sees half
 * a file.
 *
 * Run: `deno task build [--force] [--out DIR] [--anchors FILE] [--print-anchors]
 * [--code-only]`. Anchors come from `--anchors FILE`, else from `DATA_DIR/anchors/`
 * (the vault and the bank publish them there at first start).
 *
 * @module
 */
import { buildWasm } from "../wasm-crypto/build.ts";
import { toHex } from "../protocol/mod.ts";
import { base64 } from "../protocol/mod.ts";
import type { Anchors } from "../protocol/mod.ts";
import { canonicalJson } from "../protocol/mod.ts";
import { LINK_PLACEHOLDER, type Linked } from "../protocol/mod.ts";
import { readAnchorFiles, readAnchorsFile } from "../platform/mod.ts";
import { prepareOpaqueClient } from "./opaque_split.ts";
import { sourceFingerprint } from "./source_fingerprint.ts";

export { sourceFingerprint };

/** Repository root (this file lives in `server/`). */
export const ROOT = new URL("../", import.meta.url).pathname.replace(/\/$/, "");

/** One file of the applet. */
export interface ManifestFile {
  /** Lower-case hex SHA-256 of the bytes. */
  sha256: string;
  size: number;
  type: string;
}

/** `/.well-known/roamsign/manifest.json`. */
export interface Manifest {
  version: 1;
  /** The trust anchors compiled into the worker (for auditors; the applet never reads this). */
  anchors: Anchors;
  /** URL path → file. */
  files: Record<string, ManifestFile>;
  /** URL paths by role. */
  entries: {
    page: string;
    html: string;
    worker: string;
    /** The baseline build of wasm-crypto (every engine with wasm SIMD). */
    wasm: string;
    /** The relaxed-SIMD build, which the worker takes where the engine supports it. */
    wasmRelaxed: string;
    /** The OPAQUE client's wasm (server/opaque_split.ts), fetched by the worker. */
    opaque: string;
    style: string;
    /** The favicon (SVG). */
    icon: string;
    /** The pass-phrase strength worker (zxcvbn-ts, the EFF word list), fetched on demand. */
    strength: string;
    /** The document worker (CMS, PAdES, pdf-lib), fetched when "Sign a document" opens. */
    documents: string;
  };
}

/** What {@link buildApplet} returns. */
export interface BuildResult {
  outDir: string;
  manifest: Manifest;
  fingerprint: string;
  /** False when the previous outputs were still current. */
  rebuilt: boolean;
}

/** Options of {@link buildApplet}. */
export interface BuildOptions {
  /** Output directory (default `DIST_DIR` or `<root>/dist`). */
  outDir?: string;
  /** Build even if the fingerprint is unchanged. */
  force?: boolean;
  /** The anchors to link; default: the files in `<dataDir>/anchors/`. */
  anchors?: Anchors;
  /** Where to read the anchors from when `anchors` is not given (default `DATA_DIR`). */
  dataDir?: string;
}

/** A build that cannot produce an applet; `code` is stable. */
export class BuildError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "BuildError";
    this.code = code;
  }
}

/** The compiled, not yet linked applet (step 1). */
export interface CompiledApplet {
  fingerprint: string;
  wasm: Uint8Array;
  wasmRelaxed: Uint8Array;
  /** The OPAQUE client's wasm (server/opaque_split.ts). */
  opaqueWasm: Uint8Array;
  /** The worker bundle with the link placeholder still in it. */
  worker: Uint8Array;
  /** The strength worker (applet/passphrase/strength_worker.ts). */
  strength: Uint8Array;
  /** The document worker (applet/documents/worker.ts), with the link placeholder. */
  documents: Uint8Array;
  page: Uint8Array;
  style: Uint8Array;
  icon: Uint8Array;
  html: string;
}

/** The output directory when `DIST_DIR` is unset. */
export const DEFAULT_OUT_DIR = `${ROOT}/dist`;

/** Default output directory of the build CLI and of {@link buildApplet}: `DIST_DIR` or {@link DEFAULT_OUT_DIR}. */
export function defaultOutDir(): string {
  return Deno.env.get("DIST_DIR") || DEFAULT_OUT_DIR;
}

async function _sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
}

async function _writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeFile(tmp, bytes);
  await Deno.rename(tmp, path);
}

async function _bundle(entry: string, importMap?: string): Promise<Uint8Array> {
  const tmp = await Deno.makeTempDir({ prefix: "roamsign-bundle-" });
  try {
    const out = `${tmp}/out.js`;
    const cmd = new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform=browser",
        "--format=esm",
        "--minify",
        ...(importMap ? [`--import-map=${importMap}`] : []),
        "-o",
        out,
        entry,
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    });
    const r = await cmd.output();
    if (!r.success) {
      throw new Error(
        `build: deno bundle ${entry} failed:\n${new TextDecoder().decode(r.stderr)}`,
      );
    }
    return await Deno.readFile(out);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/** Where compiled code is cached (one directory for every output directory). */
const _CODE_DIR = `${ROOT}/.build/applet`;
const _CODE_FILES = [
  "wasm",
  "wasmRelaxed",
  "opaqueWasm",
  "worker",
  "strength",
  "documents",
  "page",
  "style",
  "icon",
  "html",
] as const;

async function _readCompiled(fingerprint: string): Promise<CompiledApplet | null> {
  try {
    const state = JSON.parse(await Deno.readTextFile(`${_CODE_DIR}/state.json`));
    if (state.fingerprint !== fingerprint) return null;
    const read = (n: string) => Deno.readFile(`${_CODE_DIR}/${n}`);
    const bytes = await Promise.all(_CODE_FILES.map(read));
    const code = Object.fromEntries(_CODE_FILES.map((n, i) => [n, bytes[i]]));
    return { ...code, fingerprint, html: new TextDecoder().decode(code.html) } as CompiledApplet;
  } catch {
    return null;
  }
}

/**
 * Step 1: compiles wasm-crypto and bundles the page and the worker, unless the cache
 * holds the outputs of the same sources.
 */
export async function compileApplet(options: { force?: boolean } = {}): Promise<CompiledApplet> {
  const fingerprint = await sourceFingerprint();
  if (!options.force) {
    const cached = await _readCompiled(fingerprint);
    if (cached) return cached;
  }
  const wasm = await buildWasm();
  // The worker bundle takes the package's glue without the inlined wasm (import map).
  const opaque = await prepareOpaqueClient(ROOT, `${ROOT}/.build/opaque`);
  const compiled: CompiledApplet = {
    fingerprint,
    wasm: wasm.bytes,
    wasmRelaxed: wasm.relaxed.bytes,
    opaqueWasm: opaque.wasm,
    worker: await _bundle("applet/worker.ts", opaque.importMap),
    strength: await _bundle("applet/passphrase/strength_worker.ts"),
    documents: await _bundle("applet/documents/worker.ts"),
    page: await _bundle("applet/page.ts"),
    // minified by the same bundler (esbuild's CSS minifier): 2,012 -> 1,618 B gzipped
    style: await _bundle("applet/style.css"),
    icon: await Deno.readFile(`${ROOT}/applet/icon.svg`),
    html: await Deno.readTextFile(`${ROOT}/applet/index.html`),
  };
  _placeholderAt(compiled.worker); // a bundle that cannot be linked fails here, not later
  _placeholderAt(compiled.documents);
  if (new TextDecoder().decode(compiled.worker).includes("AGFzbQ")) {
    // base64 of "\0asm": the import map did not apply and the package inlined its wasm
    throw new BuildError("link_failed", "build: the worker bundle holds an inlined wasm module");
  }
  await Deno.mkdir(_CODE_DIR, { recursive: true });
  const enc = new TextEncoder();
  for (const n of _CODE_FILES) {
    const v = compiled[n];
    await _writeAtomic(`${_CODE_DIR}/${n}`, typeof v === "string" ? enc.encode(v) : v);
  }
  await _writeAtomic(`${_CODE_DIR}/state.json`, enc.encode(JSON.stringify({ fingerprint }) + "\n"));
  return compiled;
}

/** Offset and length of the one quoted placeholder in the worker bundle. */
function _placeholderAt(worker: Uint8Array): { at: number; length: number } {
  const text = new TextDecoder().decode(worker);
  const hits = [...text.matchAll(new RegExp(`(["'\`])${LINK_PLACEHOLDER}\\1`, "g"))];
  if (hits.length !== 1) {
    throw new BuildError(
      "link_failed",
      `build: the worker bundle holds ${hits.length} link placeholders, expected 1`,
    );
  }
  return { at: hits[0].index!, length: hits[0][0].length };
}

/** The worker bundle with the link data in place of its placeholder. */
function _linkWorker(worker: Uint8Array, data: Linked): Uint8Array {
  const text = new TextDecoder().decode(worker);
  const { at, length } = _placeholderAt(worker);
  // A JS string literal whose value is the JSON text (JSON.stringify escapes both levels).
  const literal = JSON.stringify(canonicalJson(data));
  return new TextEncoder().encode(text.slice(0, at) + literal + text.slice(at + length));
}

async function _readState(
  outDir: string,
): Promise<{ fingerprint: string; anchors: string; manifest: Manifest } | null> {
  try {
    const state = JSON.parse(await Deno.readTextFile(`${outDir}/build-state.json`));
    for (const path of Object.keys(state.manifest.files)) {
      await Deno.stat(`${outDir}/${_diskName(path)}`);
    }
    return state;
  } catch {
    return null;
  }
}

/** Where a manifest path lives under the output directory. */
function _diskName(urlPath: string): string {
  return urlPath === "/" ? "index.html" : urlPath.replace(/^\//, "");
}

async function _sri(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-384", bytes as BufferSource));
  return `sha384-${base64(digest)}`;
}

/** Step 2: links compiled code with anchors into `outDir` (see the module doc). */
export async function linkApplet(
  code: CompiledApplet,
  anchors: Anchors,
  outDir: string,
): Promise<Manifest> {
  await Deno.mkdir(`${outDir}/applet`, { recursive: true });
  const files: Record<string, ManifestFile> = {};
  const put = async (ext: string, type: string, bytes: Uint8Array): Promise<string> => {
    const hex = toHex(await _sha256(bytes));
    const urlPath = `/applet/${hex}.${ext}`;
    await _writeAtomic(`${outDir}/${_diskName(urlPath)}`, bytes);
    files[urlPath] = { sha256: hex, size: bytes.length, type };
    return urlPath;
  };
  const wasmPath = await put("wasm", "application/wasm", code.wasm);
  const wasmRelaxedPath = await put("wasm", "application/wasm", code.wasmRelaxed);
  const opaquePath = await put("wasm", "application/wasm", code.opaqueWasm);
  const linkedWasm = (path: string) => ({ path, sha256: files[path].sha256 });
  const linkData: Linked = {
    anchors,
    wasm: {
      baseline: linkedWasm(wasmPath),
      relaxed: linkedWasm(wasmRelaxedPath),
      opaque: linkedWasm(opaquePath),
    },
  };
  const worker = _linkWorker(code.worker, linkData);
  const documents = _linkWorker(code.documents, linkData);
  const workerPath = await put("js", "text/javascript", worker);
  const strengthPath = await put("js", "text/javascript", code.strength);
  const documentsPath = await put("js", "text/javascript", documents);
  const pagePath = await put("js", "text/javascript", code.page);
  const stylePath = await put("css", "text/css", code.style);
  const iconPath = await put("svg", "image/svg+xml", code.icon);

  const html = code.html
    .replaceAll("{{icon}}", iconPath)
    .replaceAll("{{style}}", stylePath)
    .replaceAll("{{styleIntegrity}}", await _sri(code.style))
    .replaceAll("{{page}}", pagePath)
    .replaceAll("{{pageIntegrity}}", await _sri(code.page))
    .replaceAll("{{worker}}", workerPath)
    .replaceAll("{{workerIntegrity}}", await _sri(worker))
    .replaceAll("{{strength}}", strengthPath)
    .replaceAll("{{strengthIntegrity}}", await _sri(code.strength))
    .replaceAll("{{documents}}", documentsPath)
    .replaceAll("{{documentsIntegrity}}", await _sri(documents));
  if (html.includes("{{")) throw new Error("build: unreplaced placeholder in applet/index.html");
  const htmlBytes = new TextEncoder().encode(html);
  await _writeAtomic(`${outDir}/index.html`, htmlBytes);
  files["/"] = {
    sha256: toHex(await _sha256(htmlBytes)),
    size: htmlBytes.length,
    type: "text/html",
  };

  const manifest: Manifest = {
    version: 1,
    anchors,
    files: Object.fromEntries(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1))),
    entries: {
      html: "/",
      page: pagePath,
      worker: workerPath,
      wasm: wasmPath,
      wasmRelaxed: wasmRelaxedPath,
      opaque: opaquePath,
      style: stylePath,
      icon: iconPath,
      strength: strengthPath,
      documents: documentsPath,
    },
  };
  await _writeAtomic(
    `${outDir}/manifest.json`,
    new TextEncoder().encode(JSON.stringify(manifest, null, 2) + "\n"),
  );
  return manifest;
}

/** The anchors of {@link BuildOptions}: given, or read from `DATA_DIR/anchors/`. */
export async function resolveAnchors(options: BuildOptions = {}): Promise<Anchors> {
  if (options.anchors) return options.anchors;
  const dataDir = options.dataDir ?? (Deno.env.get("DATA_DIR") || "./data");
  const anchors = await readAnchorFiles(dataDir);
  if (!anchors) {
    throw new BuildError(
      "no_anchors",
      `build: no trust anchors in ${dataDir}/anchors/ — the applet is not built without them. ` +
        "Start the key-vault once (deno task start does) or pass --anchors FILE.",
    );
  }
  return anchors;
}

/** Compiles (if the sources changed) and links the applet into `outDir` (if not current). */
export async function buildApplet(options: BuildOptions = {}): Promise<BuildResult> {
  const outDir = options.outDir ?? defaultOutDir();
  const anchors = await resolveAnchors(options);
  const fingerprint = await sourceFingerprint();
  const anchorsKey = canonicalJson(anchors);
  if (!options.force) {
    const state = await _readState(outDir);
    if (state?.fingerprint === fingerprint && state.anchors === anchorsKey) {
      return { outDir, manifest: state.manifest, fingerprint, rebuilt: false };
    }
  }
  const code = await compileApplet({ force: options.force });
  const manifest = await linkApplet(code, anchors, outDir);
  await _writeAtomic(
    `${outDir}/build-state.json`,
    new TextEncoder().encode(
      JSON.stringify({ fingerprint, anchors: anchorsKey, manifest }, null, 2) + "\n",
    ),
  );
  return { outDir, manifest, fingerprint, rebuilt: true };
}

function _flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

if (import.meta.main) {
  const args = Deno.args;
  const started = performance.now();
  try {
    const anchorsPath = _flag(args, "--anchors");
    const anchors = anchorsPath ? await readAnchorsFile(anchorsPath) : undefined;
    if (args.includes("--print-anchors")) {
      console.log(JSON.stringify(await resolveAnchors({ anchors }), null, 2));
      Deno.exit(0);
    }
    if (args.includes("--code-only")) {
      const code = await compileApplet({ force: args.includes("--force") });
      console.log(JSON.stringify({
        event: "applet_compiled",
        fingerprint: code.fingerprint,
        ms: Math.round(performance.now() - started),
      }));
      Deno.exit(0);
    }
    const r = await buildApplet({
      force: args.includes("--force"),
      outDir: _flag(args, "--out"),
      anchors,
    });
    console.log(
      JSON.stringify({
        event: r.rebuilt ? "applet_built" : "applet_current",
        outDir: r.outDir,
        ms: Math.round(performance.now() - started),
        entries: r.manifest.entries,
      }),
    );
  } catch (err) {
    if (!(err instanceof BuildError) && !(err instanceof Error && "code" in err)) throw err;
    console.error(err.message);
    Deno.exit(1);
  }
}
