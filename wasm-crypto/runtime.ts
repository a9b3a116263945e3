/**
 * The WebAssembly instance behind wasm-crypto: explicit asynchronous
 * initialisation, access to linear memory, key slots, host randomness, and
 * {@link zeroizeMemory}.
 *
 * Works unchanged in Deno and in a browser (Worker): only `fetch`,
 * `WebAssembly` and `crypto.getRandomValues` are used, plus `Deno.readFile`
 * when it exists and the module is a `file:` URL.
 *
 * @module
 */
import { WasmCryptoError } from "./errors.ts";

/** The core's exports (see assembly/index.ts). */
export interface CoreExports {
  memory: WebAssembly.Memory;
  init(): number;
  layout_io(): number;
  layout_io_size(): number;
  layout_keys(): number;
  layout_slot_size(): number;
  layout_sha_ctx(): number;
  layout_sha_ctx_size(): number;
  layout_pub_ctx(): number;
  layout_pub_ctx_size(): number;
  rsa_pub_extend(): void;
  layout_ctx_size(): number;
  layout_slot_ctx_n(): number;
  sha256_init(): void;
  sha256_update(p: number, len: number): void;
  sha256_final(out: number): void;
  sha1_init(): void;
  sha1_update(p: number, len: number): void;
  sha1_final(out: number): void;
  sha256_oneshot(p: number, len: number, out: number): void;
  sha1_oneshot(p: number, len: number, out: number): void;
  mgf1_xor(seed: number, seedLen: number, dst: number, dstLen: number, sha1: number): void;
  mod_pow(baseLen: number, expLen: number, modLen: number): number;
  mod_pow_vartime(baseLen: number, expLen: number, modLen: number): number;
  rsa_key_set(
    slot: number,
    nLen: number,
    eLen: number,
    dLen: number,
    pLen: number,
    qLen: number,
    dpLen: number,
    dqLen: number,
    qiLen: number,
  ): number;
  rsa_key_get(slot: number): void;
  rsa_key_wipe(slot: number): void;
  rsa_private(slot: number): number;
  rsa_pub_prepare(nLen: number): void;
  rsa_public(nBytes: number, eLen: number): number;
  /** The baseline build only (assembly/index_baseline.ts): one-candidate search. */
  kg_candidate?: (which: number, bits: number, rounds: number) => number;
  kg_finish(slot: number, bits: number): number;
  kg_abort(): void;
  /** The relaxed build only (assembly/index_relaxed.ts): two-lane Miller-Rabin. */
  kg_sieve?: (lane: number, bits: number) => number;
  kg_round2?: (bits: number) => number;
  kg_accept?: (lane: number, which: number, bits: number) => number;
  layout_kg(): number;
  mod_inv_vartime_for_tests(mLen: number): number;
  wipe_scratch(): void;
  relaxed_ok(): number;
  core_relaxed(): number;
}

/** Status codes of the core (assembly/index.ts). */
export const Status = {
  OK: 0,
  RANGE: 1,
  INVALID_KEY: 2,
  FAULT: 3,
  BLINDING: 4,
  ARGS: 5,
  KG_RETRY: 6,
} as const;

/** IO offsets relative to the IO base (assembly/rsa.ts). */
export const IO_IN = 0;
export const IO_RAND = 1024;
export const IO_OUT = 4096;
export const IO_STAGE = 8192;
export const STAGE_STRIDE = 1024;

interface State {
  core: CoreExports;
  /** A view of linear memory, replaced when memory grows (see {@link mem}). */
  view: Uint8Array;
  io: number;
  ioSize: number;
  keysBase: number;
  slotSize: number;
  free: number[];
  slotCount: number;
  generation: number;
}

let _state: State | undefined;
let _generation = 0;
let _pending: Promise<void> | undefined;

/** What {@link initWasmCrypto} accepts: the module's bytes, a compiled module, its URL, or a fetch Response. */
export type WasmSource = BufferSource | WebAssembly.Module | URL | Response;

function _defaultUrl(relaxed: boolean): URL {
  return new URL(
    relaxed ? "./build/roamsign-relaxed.wasm" : "./build/roamsign.wasm",
    import.meta.url,
  );
}

/**
 * A minimal module whose one function is f64x2.relaxed_madd of its three v128
 * parameters: it validates exactly where the engine has relaxed SIMD.
 */
const _RELAXED_PROBE = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00, // magic, version
  0x01,
  0x08,
  0x01,
  0x60,
  0x03,
  0x7b,
  0x7b,
  0x7b,
  0x01,
  0x7b, // type: (v128 v128 v128) -> v128
  0x03,
  0x02,
  0x01,
  0x00, // function 0 has type 0
  0x0a,
  0x0d,
  0x01,
  0x0b,
  0x00, // code: one body of 11 bytes, no locals
  0x20,
  0x00,
  0x20,
  0x01,
  0x20,
  0x02, // local.get 0, 1, 2
  0xfd,
  0x87,
  0x02, // f64x2.relaxed_madd
  0x0b, // end
]);

/**
 * Whether this engine has relaxed SIMD, so that the relaxed build
 * (`build/roamsign-relaxed.wasm`) can be compiled here. Whether its multiply-add is
 * fused is checked after instantiation (`relaxed_ok`).
 */
export function relaxedSimdSupported(): boolean {
  return WebAssembly.validate(_RELAXED_PROBE);
}

async function _bytesOf(source: URL | Response): Promise<ArrayBuffer> {
  if (source instanceof Response) {
    if (!source.ok) throw new Error(`HTTP ${source.status}`);
    return await source.arrayBuffer();
  }
  // deno-lint-ignore no-explicit-any
  const deno = (globalThis as any).Deno;
  if (source.protocol === "file:" && deno?.readFile) {
    const b: Uint8Array = await deno.readFile(source);
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }
  const res = await fetch(source);
  if (!res.ok) throw new Error(`HTTP ${res.status} for ${source.href}`);
  return await res.arrayBuffer();
}

/**
 * Loads and instantiates the crypto core. Must be awaited once before any other
 * function of wasm-crypto is called (they throw `not_initialized` until then).
 * With no argument it loads the build next to this module (Deno, or a browser that
 * serves the files there): `build/roamsign-relaxed.wasm` where the engine has relaxed
 * SIMD and fuses its multiply-add, `build/roamsign.wasm` otherwise. Given a source,
 * it uses that module; a relaxed build on an engine that does not fuse is refused
 * (`init_failed`), so the caller can load the baseline build instead. Calling it again
 * while initialised does nothing; after {@link zeroizeMemory} it instantiates afresh.
 */
export async function initWasmCrypto(source?: WasmSource): Promise<void> {
  if (_state) return;
  if (_pending) return await _pending;
  _pending = (async () => {
    let core: CoreExports | undefined;
    if (source === undefined && relaxedSimdSupported()) {
      core = await _instantiate(_defaultUrl(true)).catch(() => undefined);
    }
    core ??= await _instantiate(source ?? _defaultUrl(false));
    _generation++;
    _state = {
      core,
      view: new Uint8Array(core.memory.buffer),
      io: core.layout_io(),
      ioSize: core.layout_io_size(),
      keysBase: core.layout_keys(),
      slotSize: core.layout_slot_size(),
      free: [],
      slotCount: 0,
      generation: _generation,
    };
  })();
  try {
    await _pending;
  } finally {
    _pending = undefined;
  }
}

/**
 * Compiles and instantiates one build and checks that it is a roamsign core that
 * can run here (`init`, `relaxed_ok`).
 */
async function _instantiate(source: WasmSource): Promise<CoreExports> {
  let module: WebAssembly.Module;
  try {
    if (source instanceof WebAssembly.Module) module = source;
    else if (source instanceof URL || source instanceof Response) {
      module = await WebAssembly.compile(await _bytesOf(source));
    } else module = await WebAssembly.compile(source);
  } catch (e) {
    throw new WasmCryptoError(
      "init_failed",
      `wasm-crypto: cannot load the module: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const instance = await WebAssembly.instantiate(module, {
    env: {
      abort() {
        throw new WasmCryptoError("internal", "wasm-crypto: core aborted");
      },
    },
  });
  const core = instance.exports as unknown as CoreExports;
  if (typeof core.init !== "function" || typeof core.relaxed_ok !== "function") {
    throw new WasmCryptoError("init_failed", "wasm-crypto: not a roamsign core module");
  }
  if (core.relaxed_ok() !== 1) {
    throw new WasmCryptoError(
      "init_failed",
      "wasm-crypto: the relaxed build needs a fused multiply-add; load the baseline build",
    );
  }
  if (core.init() !== 1) {
    throw new WasmCryptoError("init_failed", "wasm-crypto: not a roamsign core module");
  }
  return core;
}

/** Which build is running: "relaxed" (fused multiply-add kernel) or "baseline". */
export function coreVariant(): "baseline" | "relaxed" {
  return state().core.core_relaxed() === 1 ? "relaxed" : "baseline";
}

/** The live state; throws `not_initialized` before {@link initWasmCrypto}. */
export function state(): State {
  if (!_state) {
    throw new WasmCryptoError(
      "not_initialized",
      "wasm-crypto: call and await initWasmCrypto() first",
    );
  }
  return _state;
}

/** The current instance generation (changes on every instantiation). */
export function generation(): number {
  return _state?.generation ?? -1;
}

/** A view of all of linear memory (cached; renewed when memory has grown, which detaches views). */
export function mem(): Uint8Array {
  const s = state();
  // Growing memory (allocSlot, the only place: the core never grows it) detaches the
  // old buffer, and a view of a detached buffer has length 0; testing that is much
  // cheaper than reading `memory.buffer` (an API getter) on every call.
  if (s.view.length === 0) s.view = new Uint8Array(s.core.memory.buffer);
  return s.view;
}

/** Fills `len` bytes at IO offset `off` with host randomness. */
export function randomIo(off: number, len: number): void {
  const s = state();
  const view = mem().subarray(s.io + off, s.io + off + len);
  for (let i = 0; i < len; i += 65536) {
    crypto.getRandomValues(view.subarray(i, Math.min(len, i + 65536)));
  }
}

/** Copies bytes into IO at offset `off`. */
export function writeIo(off: number, bytes: Uint8Array): void {
  mem().set(bytes, state().io + off);
}

/** Copies `len` bytes out of IO at offset `off`. */
export function readIo(off: number, len: number): Uint8Array {
  const at = state().io + off;
  return mem().slice(at, at + len);
}

/** Zeroes `len` bytes of IO at offset `off`. */
export function wipeIo(off: number, len: number): void {
  const at = state().io + off;
  mem().fill(0, at, at + len);
}

/** Takes a free key slot (growing memory if needed) and returns its address. */
export function allocSlot(): number {
  const s = state();
  let index = s.free.pop();
  if (index === undefined) {
    index = s.slotCount++;
    const need = s.keysBase + (index + 1) * s.slotSize;
    const have = s.core.memory.buffer.byteLength;
    if (need > have) s.core.memory.grow(Math.ceil((need - have) / 65536));
  }
  return s.keysBase + index * s.slotSize;
}

/** Wipes a key slot and returns it to the free list. */
export function freeSlot(addr: number): void {
  const s = state();
  s.core.rsa_key_wipe(addr);
  s.free.push((addr - s.keysBase) / s.slotSize);
}

/**
 * Zeroes every byte of the core's linear memory — keys, scratch, IO, hash
 * state, constants — and drops the instance. Every live private key becomes
 * unusable (`key_destroyed`); anything else throws `not_initialized` until
 * {@link initWasmCrypto} is awaited again. The applet calls this before it
 * terminates its worker. Does nothing when not initialised.
 */
export function zeroizeMemory(): void {
  if (!_state) return;
  new Uint8Array(_state.core.memory.buffer).fill(0);
  _state = undefined;
}
