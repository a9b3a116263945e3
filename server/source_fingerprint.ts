/**
 * The applet build's cache key (server/build.ts): SHA-256 over every source file the
 * applet's code is made of — the folders the bundles import from, the configuration and
 * lock file (which pin the npm packages, `@serenity-kit/opaque` among them) and the
 * build's own code.
 *
 * @module
 */
import { toHex } from "../protocol/mod.ts";

const _ROOT = new URL("../", import.meta.url).pathname.replace(/\/$/, "");

const _SOURCE_DIRS = ["applet", "protocol", "wasm-crypto", "proxy", "documents"];
const _SOURCE_FILES = [
  "deno.json",
  "deno.lock",
  "server/build.ts",
  "server/opaque_split.ts",
  "server/source_fingerprint.ts",
];
const _SKIP = /(^|\/)(build|node_modules|\.git)(\/|$)|_test\.ts$/;

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
    else if (e.isFile && /\.(ts|html|css|json|txt)$/.test(e.name)) out.push(r.slice(1));
  }
}

/** SHA-256 over every source path and its bytes, in sorted order, under `root`. */
export async function sourceFingerprint(root: string = _ROOT): Promise<string> {
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

async function _sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
}
