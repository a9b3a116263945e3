/**
 * Builds the applet (DESIGN.md §2.1): wasm-crypto through asc (`buildWasm()`),
 * the page script and its worker through `deno bundle`, the style sheet, and
 * the page itself. Every output except the page is content-addressed
 * (`/applet/<sha256>.<ext>`), all of them are listed with their SHA-256 in
 * `manifest.json` (served at `/.well-known/roamsign/manifest.json`), and the
 * page loads its script and style with Subresource Integrity.
 *
 * Reproducible: the outputs depend only on the sources (bundles are built from
 * the repository root with relative paths, minified, without source maps).
 * Incremental: a fingerprint over every source file that can change an output
 * is kept in `build-state.json`; an unchanged fingerprint with every output
 * present skips the build. Writes go to a temporary name and are renamed, so a
 * reader (or a second builder) never sees half a file.
 *
 * Run: `deno task build` (or `deno run -A server/build.ts [--force] [--out DIR]`).
 *
 * @module
 */
import { buildWasm } from "../wasm-crypto/build.ts";
import { toHex } from "../applet/protocol/bytes.ts";
import { base64 } from "../applet/protocol/der.ts";

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
    style: string;
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
}

const _SOURCE_DIRS = ["applet", "wasm-crypto", "proxy"];
const _SOURCE_FILES = ["deno.json", "deno.lock", "server/build.ts"];
const _SKIP = /(^|\/)(build|node_modules|\.git)(\/|$)|_test\.ts$/;

/** Default output directory. */
export function defaultOutDir(): string {
  return Deno.env.get("DIST_DIR") || `${ROOT}/dist`;
}

async function _sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
}

async function _walk(dir: string, rel: string, out: string[]): Promise<void> {
  let entries: Deno.DirEntry[];
  try {
    entries = [];
    for await (const e of Deno.readDir(dir)) entries.push(e);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw err;
  }
  for (const e of entries) {
    const r = `${rel}/${e.name}`;
    if (_SKIP.test(r)) continue;
    if (e.isDirectory) await _walk(`${dir}/${e.name}`, r, out);
    else if (e.isFile && /\.(ts|html|css|json)$/.test(e.name)) out.push(r.slice(1));
  }
}

/** SHA-256 over every source path and its bytes, in sorted order, under `root`. */
export async function sourceFingerprint(root: string = ROOT): Promise<string> {
  const files: string[] = [];
  for (const d of _SOURCE_DIRS) await _walk(`${root}/${d}`, `/${d}`, files);
  files.push(..._SOURCE_FILES);
  files.sort();
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const f of files) {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(`${root}/${f}`);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue;
      throw err;
    }
    parts.push(enc.encode(`${f}\0${bytes.length}\0`), bytes);
  }
  let n = 0;
  for (const p of parts) n += p.length;
  const all = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return toHex(await _sha256(all));
}

async function _writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeFile(tmp, bytes);
  await Deno.rename(tmp, path);
}

async function _bundle(entry: string): Promise<Uint8Array> {
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

async function _readState(
  outDir: string,
): Promise<{ fingerprint: string; manifest: Manifest } | null> {
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

/** Builds the applet into `outDir` unless it is current. */
export async function buildApplet(options: BuildOptions = {}): Promise<BuildResult> {
  const outDir = options.outDir ?? defaultOutDir();
  const fingerprint = await sourceFingerprint();
  if (!options.force) {
    const state = await _readState(outDir);
    if (state?.fingerprint === fingerprint) {
      return { outDir, manifest: state.manifest, fingerprint, rebuilt: false };
    }
  }
  await Deno.mkdir(`${outDir}/applet`, { recursive: true });
  const files: Record<string, ManifestFile> = {};
  const put = async (ext: string, type: string, bytes: Uint8Array): Promise<string> => {
    const hex = toHex(await _sha256(bytes));
    const urlPath = `/applet/${hex}.${ext}`;
    await _writeAtomic(`${outDir}/${_diskName(urlPath)}`, bytes);
    files[urlPath] = { sha256: hex, size: bytes.length, type };
    return urlPath;
  };
  const sri = async (bytes: Uint8Array) =>
    `sha384-${
      base64(new Uint8Array(await crypto.subtle.digest("SHA-384", bytes as BufferSource)))
    }`;

  const wasm = await buildWasm();
  const wasmPath = await put("wasm", "application/wasm", wasm.bytes);
  const wasmRelaxedPath = await put("wasm", "application/wasm", wasm.relaxed.bytes);
  const workerBytes = await _bundle("applet/worker.ts");
  const workerPath = await put("js", "text/javascript", workerBytes);
  const pageBytes = await _bundle("applet/page.ts");
  const pagePath = await put("js", "text/javascript", pageBytes);
  const styleBytes = await Deno.readFile(`${ROOT}/applet/style.css`);
  const stylePath = await put("css", "text/css", styleBytes);

  const template = await Deno.readTextFile(`${ROOT}/applet/index.html`);
  const html = template
    .replaceAll("{{style}}", stylePath)
    .replaceAll("{{styleIntegrity}}", await sri(styleBytes))
    .replaceAll("{{page}}", pagePath)
    .replaceAll("{{pageIntegrity}}", await sri(pageBytes))
    .replaceAll("{{worker}}", workerPath);
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
    files: Object.fromEntries(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1))),
    entries: {
      html: "/",
      page: pagePath,
      worker: workerPath,
      wasm: wasmPath,
      wasmRelaxed: wasmRelaxedPath,
      style: stylePath,
    },
  };
  await _writeAtomic(
    `${outDir}/manifest.json`,
    new TextEncoder().encode(JSON.stringify(manifest, null, 2) + "\n"),
  );
  await _writeAtomic(
    `${outDir}/build-state.json`,
    new TextEncoder().encode(JSON.stringify({ fingerprint, manifest }, null, 2) + "\n"),
  );
  return { outDir, manifest, fingerprint, rebuilt: true };
}

if (import.meta.main) {
  const args = Deno.args;
  const outIdx = args.indexOf("--out");
  const started = performance.now();
  const r = await buildApplet({
    force: args.includes("--force"),
    outDir: outIdx >= 0 ? args[outIdx + 1] : undefined,
  });
  const ms = Math.round(performance.now() - started);
  console.log(
    JSON.stringify({
      event: r.rebuilt ? "applet_built" : "applet_current",
      outDir: r.outDir,
      ms,
      entries: r.manifest.entries,
    }),
  );
}
