/**
 * roamsign crypto core: the WebAssembly exports.
 *
 * Calling convention: the host writes inputs into the IO region (offsets from
 * `layout_*`), calls an export, reads the outputs, and wipes what it wrote.
 * Status codes: 0 ok, 1 out of range (x >= n), 2 invalid key, 3 fault
 * detected (the e check failed), 4 blinding failed (retry), 5 bad arguments,
 * 6 key generation must retry. No export allocates; none traps on any input
 * the host can pass (the host checks lengths first).
 */
import {
  CTX_SIZE,
  CTX_TMP0,
  PUB_CTX_SIZE,
  IO_BASE,
  IO_SIZE,
  KEYS_BASE,
  SCRATCH_BASE,
  SCRATCH_SIZE,
  SHA_CTX,
  KG_P,
} from "./layout";
import * as sha from "./sha";
import * as rsa from "./rsa";
import * as keygen from "./keygen";
import * as modpow from "./modpow";
import { fmaFused } from "./mont_fma";

export function init(): i32 {
  if (__heap_base > 65536) return 0;
  keygen.initSmallPrimes();
  return 1;
}

export function layout_io(): usize {
  return IO_BASE;
}
export function layout_io_size(): usize {
  return IO_SIZE;
}
export function layout_keys(): usize {
  return KEYS_BASE;
}
export function layout_slot_size(): usize {
  return rsa.SLOT_SIZE;
}
export function layout_sha_ctx(): usize {
  return SHA_CTX;
}
export function layout_sha_ctx_size(): usize {
  return sha.SHA_CTX_BYTES;
}
export function layout_pub_ctx(): usize {
  return CTX_TMP0;
}
/** Bytes of the public context at layout_pub_ctx() (a Montgomery context and C3). */
export function layout_pub_ctx_size(): usize {
  return PUB_CTX_SIZE;
}
export function layout_ctx_size(): usize {
  return CTX_SIZE;
}
export function layout_slot_ctx_n(): usize {
  return rsa.SLOT_CTX_N;
}
export function layout_scratch(): usize {
  return SCRATCH_BASE;
}
export function layout_scratch_size(): usize {
  return SCRATCH_SIZE;
}

export function sha256_init(): void {
  sha.sha256Init();
}
export function sha256_update(p: usize, len: usize): void {
  sha.sha256Update(p, len);
}
export function sha256_final(out: usize): void {
  sha.sha256Final(out);
}
export function sha1_init(): void {
  sha.sha1Init();
}
export function sha1_update(p: usize, len: usize): void {
  sha.sha1Update(p, len);
}
export function sha1_final(out: usize): void {
  sha.sha1Final(out);
}

/** One-shot SHA-256 of len bytes at p into out (the host passes IO addresses). */
export function sha256_oneshot(p: usize, len: usize, out: usize): void {
  sha.sha256OneShot(p, len, out);
}
/** One-shot SHA-1 of len bytes at p into out. */
export function sha1_oneshot(p: usize, len: usize, out: usize): void {
  sha.sha1OneShot(p, len, out);
}

/**
 * MGF1 of seedLen bytes at seed XORed into dstLen bytes at dst (SHA-1 when sha1 != 0);
 * 36 bytes after the seed are scratch (the host passes IO addresses).
 */
export function mgf1_xor(seed: usize, seedLen: usize, dst: usize, dstLen: usize, sha1: i32): void {
  sha.mgf1Xor(seed, seedLen, dst, dstLen, sha1 != 0);
}

export function mod_pow(baseLen: i32, expLen: i32, modLen: i32): i32 {
  return modpow.modPow(baseLen, expLen, modLen, false);
}
/** The deliberately variable-time exponentiation: negative control of the timing check only. */
export function mod_pow_vartime(baseLen: i32, expLen: i32, modLen: i32): i32 {
  return modpow.modPow(baseLen, expLen, modLen, true);
}

export function rsa_key_set(
  slot: usize,
  nLen: i32,
  eLen: i32,
  dLen: i32,
  pLen: i32,
  qLen: i32,
  dpLen: i32,
  dqLen: i32,
  qiLen: i32,
): i32 {
  return rsa.rsaKeySet(slot, nLen, eLen, dLen, pLen, qLen, dpLen, dqLen, qiLen);
}
export function rsa_key_get(slot: usize): void {
  rsa.rsaKeyGet(slot);
}
export function rsa_key_wipe(slot: usize): void {
  memory.fill(slot, 0, rsa.SLOT_SIZE);
}
export function rsa_private(slot: usize): i32 {
  return rsa.rsaPrivate(slot);
}
export function rsa_pub_prepare(nLen: i32): void {
  rsa.pubPrepare(nLen);
}
/** Completes a public context from the Montgomery context (CTX_SIZE bytes) the host wrote at layout_pub_ctx(). */
export function rsa_pub_extend(): void {
  rsa.pubExtend();
}
export function rsa_public(nBytes: i32, eLen: i32): i32 {
  return rsa.rsaPublic(nBytes, eLen);
}
export function kg_finish(slot: usize, bits: i32): i32 {
  return keygen.kgFinish(slot, bits);
}
export function wipe_scratch(): void {
  rsa.wipeScratch();
  memory.fill(CTX_TMP0, 0, CTX_SIZE);
}

/** Wipes the primes of an unfinished key generation (the host calls it when generation ends, however it ends). */
export function kg_abort(): void {
  keygen.kgAbort();
}

/** Where key generation keeps p and q between host calls (2 * 512 bytes); for tests. */
export function layout_kg(): usize {
  return KG_P;
}

/**
 * For tests: x^-1 mod m by the variable-time inversion used for blinding.
 * x at IO_IN (mLen bytes, x < m), m at IO_RAND (mLen bytes, odd, top byte non-zero).
 * Out: IO_OUT (mLen bytes). Returns 1, or 0 if not invertible.
 */
export function mod_inv_vartime_for_tests(mLen: i32): i32 {
  return modpow.modInvVarTimeForTests(mLen);
}

/**
 * 1 when this build can run here: always for the baseline build; for the relaxed
 * build (mont_fma.ts) only when the engine fuses f64x2.relaxed_madd. The host checks it
 * right after instantiation and falls back to the baseline build on 0.
 */
export function relaxed_ok(): i32 {
  if (ASC_FEATURE_RELAXED_SIMD) return fmaFused(IO_BASE);
  return 1;
}

/** 1 in the relaxed build, 0 in the baseline build. */
export function core_relaxed(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}
