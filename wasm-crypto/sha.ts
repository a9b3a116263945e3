/**
 * SHA-1 and SHA-256 (FIPS 180-4), one-shot and streaming, computed by the
 * WebAssembly core. A streaming hash keeps its small state (112 bytes) in this
 * object and swaps it into the core around each call, so any number can be
 * open at once. Data passes through the core's IO buffer, which is wiped after
 * each use (hashed data may be secret).
 *
 * @module
 */
import { WasmCryptoError } from "./errors.ts";
import { mem, state } from "./runtime.ts";

/** Hash names accepted across wasm-crypto. */
export type HashName = "SHA-256" | "SHA-1";

/** A streaming hash. `digest()` ends it (its state is wiped); further use throws. */
export interface StreamingHash {
  update(data: Uint8Array): void;
  digest(): Uint8Array;
}

/** Output length in bytes of a supported hash; throws `unsupported_hash` otherwise. */
export function hashLength(hash: HashName): number {
  if (hash === "SHA-256") return 32;
  if (hash === "SHA-1") return 20;
  throw new WasmCryptoError("unsupported_hash", `sha: unsupported hash ${String(hash)}`);
}

function _checkBytes(data: unknown, what: string): asserts data is Uint8Array {
  if (!(data instanceof Uint8Array)) {
    throw new WasmCryptoError("invalid_argument", `sha: ${what} must be a Uint8Array`);
  }
}

class _Hasher implements StreamingHash {
  #sha1: boolean;
  #state: Uint8Array | undefined;

  constructor(sha1: boolean) {
    this.#sha1 = sha1;
    const s = state();
    if (sha1) s.core.sha1_init();
    else s.core.sha256_init();
    const ctx = s.core.layout_sha_ctx();
    const size = s.core.layout_sha_ctx_size();
    const view = new Uint8Array(s.core.memory.buffer, ctx, size);
    this.#state = view.slice();
    view.fill(0);
  }

  update(data: Uint8Array): void {
    _checkBytes(data, "data");
    if (!this.#state) throw new WasmCryptoError("invalid_argument", "sha: digest() was called");
    const s = state();
    const ctx = s.core.layout_sha_ctx();
    const buf = new Uint8Array(s.core.memory.buffer);
    buf.set(this.#state, ctx);
    const chunk = s.ioSize;
    for (let off = 0; off < data.length; off += chunk) {
      const part = data.subarray(off, Math.min(data.length, off + chunk));
      buf.set(part, s.io);
      if (this.#sha1) s.core.sha1_update(s.io, part.length);
      else s.core.sha256_update(s.io, part.length);
    }
    // each chunk overwrote the last: one wipe of the extent used, not one per chunk
    buf.fill(0, s.io, s.io + Math.min(data.length, chunk));
    this.#state.set(buf.subarray(ctx, ctx + this.#state.length));
    buf.fill(0, ctx, ctx + this.#state.length);
  }

  digest(): Uint8Array {
    if (!this.#state) throw new WasmCryptoError("invalid_argument", "sha: digest() was called");
    const s = state();
    const ctx = s.core.layout_sha_ctx();
    const buf = new Uint8Array(s.core.memory.buffer);
    buf.set(this.#state, ctx);
    this.#state.fill(0);
    this.#state = undefined;
    const len = this.#sha1 ? 20 : 32;
    if (this.#sha1) s.core.sha1_final(s.io);
    else s.core.sha256_final(s.io);
    const out = buf.slice(s.io, s.io + len);
    buf.fill(0, s.io, s.io + len);
    return out;
  }
}

/** A streaming SHA-256. */
export function createSha256(): StreamingHash {
  return new _Hasher(false);
}

/** A streaming SHA-1 (legacy verification only; see DESIGN.md). */
export function createSha1(): StreamingHash {
  return new _Hasher(true);
}

/**
 * One-shot hash of the concatenation of `parts` in the core's context directly (no
 * state swap): one core call when they fit the IO buffer together, else init, chunked
 * updates, final. Wipes the IO bytes it wrote.
 */
function _oneShot(sha1: boolean, parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) {
    _checkBytes(p, "data");
    n += p.length;
  }
  const s = state();
  const core = s.core;
  const io = s.io;
  const len = sha1 ? 20 : 32;
  let m = mem();
  if (n <= s.ioSize - len) {
    let at = io;
    for (const p of parts) {
      m.set(p, at);
      at += p.length;
    }
    if (sha1) core.sha1_oneshot(io, n, io + n);
    else core.sha256_oneshot(io, n, io + n);
    const out = m.slice(io + n, io + n + len);
    m.fill(0, io, io + n + len);
    return out;
  }
  if (sha1) core.sha1_init();
  else core.sha256_init();
  const chunk = s.ioSize;
  let used = 0;
  for (const data of parts) {
    for (let off = 0; off < data.length; off += chunk) {
      const part = data.subarray(off, Math.min(data.length, off + chunk));
      m.set(part, io);
      used = Math.max(used, part.length);
      if (sha1) core.sha1_update(io, part.length);
      else core.sha256_update(io, part.length);
    }
  }
  // each chunk overwrote the last: one wipe of the extent used, not one per chunk
  m.fill(0, io, io + used);
  if (sha1) core.sha1_final(io);
  else core.sha256_final(io);
  m = mem();
  const out = m.slice(io, io + len);
  m.fill(0, io, io + len);
  return out;
}

/** SHA-256 of data. */
export function sha256(data: Uint8Array): Uint8Array {
  return _oneShot(false, [data]);
}

/** SHA-1 of data. */
export function sha1(data: Uint8Array): Uint8Array {
  return _oneShot(true, [data]);
}

/** The hash named `hash` of the concatenation of `parts`. */
export function hashParts(hash: HashName, ...parts: Uint8Array[]): Uint8Array {
  hashLength(hash);
  return _oneShot(hash === "SHA-1", parts);
}

/**
 * dst ^= MGF1(seed) (RFC 8017 B.2.1) with `hash`, in place: one core call (`mgf1_xor`)
 * when seed, its 36 bytes of scratch and dst fit the IO buffer together, else block by
 * block. Wipes the IO bytes it wrote (the seed and dst may be secret: OAEP decryption).
 */
export function mgf1Xor(hash: HashName, seed: Uint8Array, dst: Uint8Array): void {
  const hLen = hashLength(hash);
  _checkBytes(seed, "seed");
  _checkBytes(dst, "dst");
  const s = state();
  const io = s.io;
  const used = seed.length + 36 + dst.length;
  if (used > s.ioSize) {
    const counter = new Uint8Array(4);
    for (let i = 0, off = 0; off < dst.length; i++, off += hLen) {
      new DataView(counter.buffer).setUint32(0, i, false);
      const block = hashParts(hash, seed, counter);
      const n = Math.min(hLen, dst.length - off);
      for (let j = 0; j < n; j++) dst[off + j] ^= block[j];
      block.fill(0);
    }
    return;
  }
  const m = mem();
  const at = io + seed.length + 36;
  m.set(seed, io);
  m.set(dst, at);
  s.core.mgf1_xor(io, seed.length, at, dst.length, hash === "SHA-1" ? 1 : 0);
  dst.set(m.subarray(at, at + dst.length));
  m.fill(0, io, io + used);
}
