/**
 * Hashing a file in the document worker with wasm-crypto's streaming SHA-256 (FIPS
 * 180-4), chunk by chunk as the browser reads it, reporting progress; the wasm module is
 * the one whose SHA-256 the build linked into this bundle (applet/linked.ts), checked
 * before it is instantiated, as the signing worker does.
 *
 * @module
 */
import { createSha256, initWasmCrypto } from "../../wasm-crypto/mod.ts";
import { toHex } from "../../protocol/mod.ts";
import { linked } from "../linked.ts";

let _ready: Promise<void> | null = null;

/** Fetches and checks the baseline wasm build, then instantiates it (once). */
export function initHashing(origin: string): Promise<void> {
  _ready ??= (async () => {
    const { wasm } = linked();
    const res = await fetch(new URL(wasm.baseline.path, origin));
    if (!res.ok) throw new Error("The crypto module is unavailable.");
    const bytes = new Uint8Array(await res.arrayBuffer());
    const actual = toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
    if (actual !== wasm.baseline.sha256) {
      throw new Error("The crypto module does not match the applet's build.");
    }
    await initWasmCrypto(bytes);
  })();
  return _ready;
}

/** Reports at most every this many bytes. */
const _PROGRESS_STEP = 1 << 20;

/**
 * SHA-256 of `file`, read as a stream; `keep` also returns its bytes (a PDF, which is
 * then parsed). `onProgress` gets the fraction read.
 */
export async function hashFile(
  file: Blob,
  keep: boolean,
  onProgress: (fraction: number) => void,
): Promise<{ digest: Uint8Array; bytes?: Uint8Array }> {
  const hash = createSha256();
  const bytes = keep ? new Uint8Array(file.size) : undefined;
  const reader = file.stream().getReader();
  let done = 0;
  let reported = 0;
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    hash.update(r.value);
    bytes?.set(r.value, done);
    done += r.value.length;
    if (done - reported >= _PROGRESS_STEP) {
      reported = done;
      onProgress(file.size ? done / file.size : 1);
    }
  }
  onProgress(1);
  return { digest: hash.digest(), bytes };
}

/** SHA-256 of the concatenation of `parts` (a PDF's byte range), streamed through the core. */
export function hashParts(parts: Uint8Array[], onProgress: (fraction: number) => void): Uint8Array {
  const hash = createSha256();
  const total = parts.reduce((n, p) => n + p.length, 0);
  let done = 0;
  for (const p of parts) {
    for (let at = 0; at < p.length; at += _PROGRESS_STEP) {
      const chunk = p.subarray(at, Math.min(p.length, at + _PROGRESS_STEP));
      hash.update(chunk);
      done += chunk.length;
      onProgress(total ? done / total : 1);
    }
  }
  return hash.digest();
}
