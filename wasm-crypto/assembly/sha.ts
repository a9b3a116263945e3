/**
 * SHA-256 and SHA-1 (FIPS 180-4), streaming, over one context in linear memory
 * at SHA_CTX. The host swaps a context's state in and out around each call, so
 * any number of streaming hashes can be open at once without allocation.
 *
 * Context layout: H (8 words, SHA-1 uses 5) at +0, block buffer (64 bytes) at
 * +32, buffered byte count (u32) at +96, total byte count (u64) at +104.
 * Constant time in the data (no data-dependent branch or index). `*_final`
 * wipes the context and the message schedule.
 */
import { SHA_CTX, SHA_W } from "./layout";

const H_OFF: usize = 0;
const BUF_OFF: usize = 32;
const BUFLEN_OFF: usize = 96;
const TOTAL_OFF: usize = 104;
export const SHA_CTX_BYTES: usize = 112;

/** FIPS 180-4 §4.2.2: first 32 bits of the fractional parts of the cube roots of the first 64 primes. */
const K256: StaticArray<u32> = [
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
];

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

// @ts-ignore: decorator

// @ts-ignore: decorator
@inline
function be32(p: usize): u32 {
  return bswap<u32>(load<u32>(p));
}

/** SHA-256 compression of one 64-byte block at p into H (FIPS 180-4 §6.2.2). */
function compress256(p: usize): void {
  const w = SHA_W;
  for (let t: usize = 0; t < 16; t++) store<u32>(w + (t << 2), be32(p + (t << 2)));
  for (let t: usize = 16; t < 64; t++) {
    const w15 = load<u32>(w + ((t - 15) << 2));
    const w2 = load<u32>(w + ((t - 2) << 2));
    const s0 = rotr<u32>(w15, 7) ^ rotr<u32>(w15, 18) ^ (w15 >> 3);
    const s1 = rotr<u32>(w2, 17) ^ rotr<u32>(w2, 19) ^ (w2 >> 10);
    store<u32>(
      w + (t << 2),
      load<u32>(w + ((t - 16) << 2)) + s0 + load<u32>(w + ((t - 7) << 2)) + s1,
    );
  }
  const h = SHA_CTX + H_OFF;
  let a = load<u32>(h, 0), b = load<u32>(h, 4), c = load<u32>(h, 8), d = load<u32>(h, 12);
  let e = load<u32>(h, 16), f = load<u32>(h, 20), g = load<u32>(h, 24), hh = load<u32>(h, 28);
  const kp = changetype<usize>(K256);
  for (let t: usize = 0; t < 64; t++) {
    const S1 = rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25);
    const ch = (e & f) ^ (~e & g);
    const t1 = hh + S1 + ch + load<u32>(kp + (t << 2)) + load<u32>(w + (t << 2));
    const S0 = rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22);
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = S0 + maj;
    hh = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  store<u32>(h, load<u32>(h, 0) + a, 0);
  store<u32>(h, load<u32>(h, 4) + b, 4);
  store<u32>(h, load<u32>(h, 8) + c, 8);
  store<u32>(h, load<u32>(h, 12) + d, 12);
  store<u32>(h, load<u32>(h, 16) + e, 16);
  store<u32>(h, load<u32>(h, 20) + f, 20);
  store<u32>(h, load<u32>(h, 24) + g, 24);
  store<u32>(h, load<u32>(h, 28) + hh, 28);
}

/** SHA-1 compression of one 64-byte block at p into H (FIPS 180-4 §6.1.2). */
function compress1(p: usize): void {
  const w = SHA_W;
  for (let t: usize = 0; t < 16; t++) store<u32>(w + (t << 2), be32(p + (t << 2)));
  for (let t: usize = 16; t < 80; t++) {
    const x = load<u32>(w + ((t - 3) << 2)) ^ load<u32>(w + ((t - 8) << 2)) ^
      load<u32>(w + ((t - 14) << 2)) ^ load<u32>(w + ((t - 16) << 2));
    store<u32>(w + (t << 2), rotl<u32>(x, 1));
  }
  const h = SHA_CTX + H_OFF;
  let a = load<u32>(h, 0), b = load<u32>(h, 4), c = load<u32>(h, 8), d = load<u32>(h, 12);
  let e = load<u32>(h, 16);
  for (let t: usize = 0; t < 80; t++) {
    let f: u32, k: u32;
    // t is public: these branches depend on the round number only
    if (t < 20) {
      f = (b & c) | (~b & d);
      k = 0x5a827999;
    } else if (t < 40) {
      f = b ^ c ^ d;
      k = 0x6ed9eba1;
    } else if (t < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8f1bbcdc;
    } else {
      f = b ^ c ^ d;
      k = 0xca62c1d6;
    }
    const tmp = rotl<u32>(a, 5) + f + e + k + load<u32>(w + (t << 2));
    e = d;
    d = c;
    c = rotl<u32>(b, 30);
    b = a;
    a = tmp;
  }
  store<u32>(h, load<u32>(h, 0) + a, 0);
  store<u32>(h, load<u32>(h, 4) + b, 4);
  store<u32>(h, load<u32>(h, 8) + c, 8);
  store<u32>(h, load<u32>(h, 12) + d, 12);
  store<u32>(h, load<u32>(h, 16) + e, 16);
}

function initCtx(iv: usize, words: usize): void {
  memory.fill(SHA_CTX, 0, SHA_CTX_BYTES);
  memory.copy(SHA_CTX + H_OFF, iv, words << 2);
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
    store<u32>(out + (i << 2), bswap<u32>(load<u32>(SHA_CTX + H_OFF + (i << 2))));
  }
  memory.fill(SHA_CTX, 0, SHA_CTX_BYTES);
  memory.fill(SHA_W, 0, 320);
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
