/**
 * SHA-256 and SHA-1 (FIPS 180-4), streaming, over one context in linear memory
 * at SHA_CTX. The host swaps a context's state in and out around each call, so
 * any number of streaming hashes can be open at once without allocation.
 *
 * Context layout: H (8 words, SHA-1 uses 5) at +0, block buffer (64 bytes) at
 * +32, buffered byte count (u32) at +96, total byte count (u64) at +104.
 * Constant time in the data (no data-dependent branch or index). `*_final`
 * wipes the context (the message schedule lives in locals only). The one-shot
 * entry points hash a whole buffer in one call (no state swap, one host call).
 * The compression functions and K256 are generated: sha_rounds.ts
 * (tools/wasm-crypto/gen_sha.ts).
 */
import { SHA_CTX, SHA_H } from "./layout";
import { compress1, compress256 } from "./sha_rounds";

const BUF_OFF: usize = 32;
const BUFLEN_OFF: usize = 96;
const TOTAL_OFF: usize = 104;
export const SHA_CTX_BYTES: usize = 112;

/** FIPS 180-4 §5.3.3: first 32 bits of the fractional parts of the square roots of the first 8 primes. */
const IV256: StaticArray<u32> = [
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
];

/** FIPS 180-4 §5.3.1. */
const IV1: StaticArray<u32> = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];

function initCtx(iv: usize, words: usize): void {
  memory.fill(SHA_CTX, 0, SHA_CTX_BYTES);
  memory.copy(SHA_H, iv, words << 2);
}

function update(p: usize, len: usize, sha1: bool): void {
  const buf = SHA_CTX + BUF_OFF;
  store<u64>(SHA_CTX + TOTAL_OFF, load<u64>(SHA_CTX + TOTAL_OFF) + <u64> len);
  let have = <usize> load<u32>(SHA_CTX + BUFLEN_OFF);
  if (have > 0) {
    const take = len < 64 - have ? len : 64 - have;
    memory.copy(buf + have, p, take);
    have += take;
    p += take;
    len -= take;
    if (have < 64) {
      store<u32>(SHA_CTX + BUFLEN_OFF, <u32> have);
      return;
    }
    if (sha1) compress1(buf);
    else compress256(buf);
    have = 0;
  }
  while (len >= 64) {
    if (sha1) compress1(p);
    else compress256(p);
    p += 64;
    len -= 64;
  }
  memory.copy(buf, p, len);
  store<u32>(SHA_CTX + BUFLEN_OFF, <u32> len);
}

function finalize(out: usize, words: usize, sha1: bool): void {
  const buf = SHA_CTX + BUF_OFF;
  const have = <usize> load<u32>(SHA_CTX + BUFLEN_OFF);
  const bits = load<u64>(SHA_CTX + TOTAL_OFF) << 3;
  store<u8>(buf + have, 0x80);
  memory.fill(buf + have + 1, 0, 63 - have);
  if (have >= 56) {
    if (sha1) compress1(buf);
    else compress256(buf);
    memory.fill(buf, 0, 64);
  }
  store<u64>(buf + 56, bswap<u64>(bits));
  if (sha1) compress1(buf);
  else compress256(buf);
  for (let i: usize = 0; i < words; i++) {
    store<u32>(out + (i << 2), bswap<u32>(load<u32>(SHA_H + (i << 2))));
  }
  memory.fill(SHA_CTX, 0, SHA_CTX_BYTES);
}

export function sha256Init(): void {
  initCtx(changetype<usize>(IV256), 8);
}
export function sha256Update(p: usize, len: usize): void {
  update(p, len, false);
}
export function sha256Final(out: usize): void {
  finalize(out, 8, false);
}
export function sha1Init(): void {
  initCtx(changetype<usize>(IV1), 5);
}
export function sha1Update(p: usize, len: usize): void {
  update(p, len, true);
}
export function sha1Final(out: usize): void {
  finalize(out, 5, true);
}

/** SHA-256 of len bytes at p into out (32 bytes), in one call. */
export function sha256OneShot(p: usize, len: usize, out: usize): void {
  sha256Init();
  update(p, len, false);
  finalize(out, 8, false);
}

/** SHA-1 of len bytes at p into out (20 bytes), in one call. */
export function sha1OneShot(p: usize, len: usize, out: usize): void {
  sha1Init();
  update(p, len, true);
  finalize(out, 5, true);
}

/**
 * MGF1 (RFC 8017 B.2.1) with SHA-256 or SHA-1, XORed into dst: dst[i] ^= mask[i] for
 * i < dstLen, mask = H(seed ‖ 0) ‖ H(seed ‖ 1) ‖ …. The caller leaves 4 + 32 bytes free
 * after the seed (the counter, then each block's digest); both are wiped before return.
 * One host call instead of one per block. Constant time in the data (lengths are public).
 */
export function mgf1Xor(seed: usize, seedLen: usize, dst: usize, dstLen: usize, sha1: bool): void {
  const hLen: usize = sha1 ? 20 : 32;
  const ctr = seed + seedLen;
  const blk = ctr + 4;
  let i: u32 = 0;
  for (let off: usize = 0; off < dstLen; off += hLen) {
    store<u32>(ctr, bswap<u32>(i++));
    if (sha1) {
      sha1Init();
      update(seed, seedLen + 4, true);
      finalize(blk, 5, true);
    } else {
      sha256Init();
      update(seed, seedLen + 4, false);
      finalize(blk, 8, false);
    }
    const n = dstLen - off < hLen ? dstLen - off : hLen;
    for (let j: usize = 0; j < n; j++) {
      store<u8>(dst + off + j, load<u8>(dst + off + j) ^ load<u8>(blk + j));
    }
  }
  memory.fill(ctr, 0, 4 + 32);
}
