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
 */
import { SHA_CTX } from "./layout";

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

/**
 * SHA-256 compression of one 64-byte block at p into H (FIPS 180-4 §6.2.2), fully
 * unrolled: the eight working variables rotate by renaming and the message schedule
 * lives in sixteen locals, W[t] computed in place of W[t - 16] (generated; the round
 * constants K are the K256 table above, as immediates).
 */
function compress256(p: usize): void {
  const h = SHA_CTX + H_OFF;
  let w0 = be32(p + 0);
  let w1 = be32(p + 4);
  let w2 = be32(p + 8);
  let w3 = be32(p + 12);
  let w4 = be32(p + 16);
  let w5 = be32(p + 20);
  let w6 = be32(p + 24);
  let w7 = be32(p + 28);
  let w8 = be32(p + 32);
  let w9 = be32(p + 36);
  let w10 = be32(p + 40);
  let w11 = be32(p + 44);
  let w12 = be32(p + 48);
  let w13 = be32(p + 52);
  let w14 = be32(p + 56);
  let w15 = be32(p + 60);
  let a = load<u32>(h, 0), b = load<u32>(h, 4), c = load<u32>(h, 8), d = load<u32>(h, 12);
  let e = load<u32>(h, 16), f = load<u32>(h, 20), g = load<u32>(h, 24), hh = load<u32>(h, 28);
  hh = hh + 0x428a2f98 + w0 + (g ^ (e & (f ^ g))) + (rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25));
  d += hh;
  hh = hh + ((a & b) | (c & (a | b))) + (rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22));
  g = g + 0x71374491 + w1 + (f ^ (d & (e ^ f))) + (rotr<u32>(d, 6) ^ rotr<u32>(d, 11) ^ rotr<u32>(d, 25));
  c += g;
  g = g + ((hh & a) | (b & (hh | a))) + (rotr<u32>(hh, 2) ^ rotr<u32>(hh, 13) ^ rotr<u32>(hh, 22));
  f = f + 0xb5c0fbcf + w2 + (e ^ (c & (d ^ e))) + (rotr<u32>(c, 6) ^ rotr<u32>(c, 11) ^ rotr<u32>(c, 25));
  b += f;
  f = f + ((g & hh) | (a & (g | hh))) + (rotr<u32>(g, 2) ^ rotr<u32>(g, 13) ^ rotr<u32>(g, 22));
  e = e + 0xe9b5dba5 + w3 + (d ^ (b & (c ^ d))) + (rotr<u32>(b, 6) ^ rotr<u32>(b, 11) ^ rotr<u32>(b, 25));
  a += e;
  e = e + ((f & g) | (hh & (f | g))) + (rotr<u32>(f, 2) ^ rotr<u32>(f, 13) ^ rotr<u32>(f, 22));
  d = d + 0x3956c25b + w4 + (c ^ (a & (b ^ c))) + (rotr<u32>(a, 6) ^ rotr<u32>(a, 11) ^ rotr<u32>(a, 25));
  hh += d;
  d = d + ((e & f) | (g & (e | f))) + (rotr<u32>(e, 2) ^ rotr<u32>(e, 13) ^ rotr<u32>(e, 22));
  c = c + 0x59f111f1 + w5 + (b ^ (hh & (a ^ b))) + (rotr<u32>(hh, 6) ^ rotr<u32>(hh, 11) ^ rotr<u32>(hh, 25));
  g += c;
  c = c + ((d & e) | (f & (d | e))) + (rotr<u32>(d, 2) ^ rotr<u32>(d, 13) ^ rotr<u32>(d, 22));
  b = b + 0x923f82a4 + w6 + (a ^ (g & (hh ^ a))) + (rotr<u32>(g, 6) ^ rotr<u32>(g, 11) ^ rotr<u32>(g, 25));
  f += b;
  b = b + ((c & d) | (e & (c | d))) + (rotr<u32>(c, 2) ^ rotr<u32>(c, 13) ^ rotr<u32>(c, 22));
  a = a + 0xab1c5ed5 + w7 + (hh ^ (f & (g ^ hh))) + (rotr<u32>(f, 6) ^ rotr<u32>(f, 11) ^ rotr<u32>(f, 25));
  e += a;
  a = a + ((b & c) | (d & (b | c))) + (rotr<u32>(b, 2) ^ rotr<u32>(b, 13) ^ rotr<u32>(b, 22));
  hh = hh + 0xd807aa98 + w8 + (g ^ (e & (f ^ g))) + (rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25));
  d += hh;
  hh = hh + ((a & b) | (c & (a | b))) + (rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22));
  g = g + 0x12835b01 + w9 + (f ^ (d & (e ^ f))) + (rotr<u32>(d, 6) ^ rotr<u32>(d, 11) ^ rotr<u32>(d, 25));
  c += g;
  g = g + ((hh & a) | (b & (hh | a))) + (rotr<u32>(hh, 2) ^ rotr<u32>(hh, 13) ^ rotr<u32>(hh, 22));
  f = f + 0x243185be + w10 + (e ^ (c & (d ^ e))) + (rotr<u32>(c, 6) ^ rotr<u32>(c, 11) ^ rotr<u32>(c, 25));
  b += f;
  f = f + ((g & hh) | (a & (g | hh))) + (rotr<u32>(g, 2) ^ rotr<u32>(g, 13) ^ rotr<u32>(g, 22));
  e = e + 0x550c7dc3 + w11 + (d ^ (b & (c ^ d))) + (rotr<u32>(b, 6) ^ rotr<u32>(b, 11) ^ rotr<u32>(b, 25));
  a += e;
  e = e + ((f & g) | (hh & (f | g))) + (rotr<u32>(f, 2) ^ rotr<u32>(f, 13) ^ rotr<u32>(f, 22));
  d = d + 0x72be5d74 + w12 + (c ^ (a & (b ^ c))) + (rotr<u32>(a, 6) ^ rotr<u32>(a, 11) ^ rotr<u32>(a, 25));
  hh += d;
  d = d + ((e & f) | (g & (e | f))) + (rotr<u32>(e, 2) ^ rotr<u32>(e, 13) ^ rotr<u32>(e, 22));
  c = c + 0x80deb1fe + w13 + (b ^ (hh & (a ^ b))) + (rotr<u32>(hh, 6) ^ rotr<u32>(hh, 11) ^ rotr<u32>(hh, 25));
  g += c;
  c = c + ((d & e) | (f & (d | e))) + (rotr<u32>(d, 2) ^ rotr<u32>(d, 13) ^ rotr<u32>(d, 22));
  b = b + 0x9bdc06a7 + w14 + (a ^ (g & (hh ^ a))) + (rotr<u32>(g, 6) ^ rotr<u32>(g, 11) ^ rotr<u32>(g, 25));
  f += b;
  b = b + ((c & d) | (e & (c | d))) + (rotr<u32>(c, 2) ^ rotr<u32>(c, 13) ^ rotr<u32>(c, 22));
  a = a + 0xc19bf174 + w15 + (hh ^ (f & (g ^ hh))) + (rotr<u32>(f, 6) ^ rotr<u32>(f, 11) ^ rotr<u32>(f, 25));
  e += a;
  a = a + ((b & c) | (d & (b | c))) + (rotr<u32>(b, 2) ^ rotr<u32>(b, 13) ^ rotr<u32>(b, 22));
  w0 += (rotr<u32>(w14, 17) ^ rotr<u32>(w14, 19) ^ (w14 >> 10)) + w9 + (rotr<u32>(w1, 7) ^ rotr<u32>(w1, 18) ^ (w1 >> 3));
  hh = hh + 0xe49b69c1 + w0 + (g ^ (e & (f ^ g))) + (rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25));
  d += hh;
  hh = hh + ((a & b) | (c & (a | b))) + (rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22));
  w1 += (rotr<u32>(w15, 17) ^ rotr<u32>(w15, 19) ^ (w15 >> 10)) + w10 + (rotr<u32>(w2, 7) ^ rotr<u32>(w2, 18) ^ (w2 >> 3));
  g = g + 0xefbe4786 + w1 + (f ^ (d & (e ^ f))) + (rotr<u32>(d, 6) ^ rotr<u32>(d, 11) ^ rotr<u32>(d, 25));
  c += g;
  g = g + ((hh & a) | (b & (hh | a))) + (rotr<u32>(hh, 2) ^ rotr<u32>(hh, 13) ^ rotr<u32>(hh, 22));
  w2 += (rotr<u32>(w0, 17) ^ rotr<u32>(w0, 19) ^ (w0 >> 10)) + w11 + (rotr<u32>(w3, 7) ^ rotr<u32>(w3, 18) ^ (w3 >> 3));
  f = f + 0x0fc19dc6 + w2 + (e ^ (c & (d ^ e))) + (rotr<u32>(c, 6) ^ rotr<u32>(c, 11) ^ rotr<u32>(c, 25));
  b += f;
  f = f + ((g & hh) | (a & (g | hh))) + (rotr<u32>(g, 2) ^ rotr<u32>(g, 13) ^ rotr<u32>(g, 22));
  w3 += (rotr<u32>(w1, 17) ^ rotr<u32>(w1, 19) ^ (w1 >> 10)) + w12 + (rotr<u32>(w4, 7) ^ rotr<u32>(w4, 18) ^ (w4 >> 3));
  e = e + 0x240ca1cc + w3 + (d ^ (b & (c ^ d))) + (rotr<u32>(b, 6) ^ rotr<u32>(b, 11) ^ rotr<u32>(b, 25));
  a += e;
  e = e + ((f & g) | (hh & (f | g))) + (rotr<u32>(f, 2) ^ rotr<u32>(f, 13) ^ rotr<u32>(f, 22));
  w4 += (rotr<u32>(w2, 17) ^ rotr<u32>(w2, 19) ^ (w2 >> 10)) + w13 + (rotr<u32>(w5, 7) ^ rotr<u32>(w5, 18) ^ (w5 >> 3));
  d = d + 0x2de92c6f + w4 + (c ^ (a & (b ^ c))) + (rotr<u32>(a, 6) ^ rotr<u32>(a, 11) ^ rotr<u32>(a, 25));
  hh += d;
  d = d + ((e & f) | (g & (e | f))) + (rotr<u32>(e, 2) ^ rotr<u32>(e, 13) ^ rotr<u32>(e, 22));
  w5 += (rotr<u32>(w3, 17) ^ rotr<u32>(w3, 19) ^ (w3 >> 10)) + w14 + (rotr<u32>(w6, 7) ^ rotr<u32>(w6, 18) ^ (w6 >> 3));
  c = c + 0x4a7484aa + w5 + (b ^ (hh & (a ^ b))) + (rotr<u32>(hh, 6) ^ rotr<u32>(hh, 11) ^ rotr<u32>(hh, 25));
  g += c;
  c = c + ((d & e) | (f & (d | e))) + (rotr<u32>(d, 2) ^ rotr<u32>(d, 13) ^ rotr<u32>(d, 22));
  w6 += (rotr<u32>(w4, 17) ^ rotr<u32>(w4, 19) ^ (w4 >> 10)) + w15 + (rotr<u32>(w7, 7) ^ rotr<u32>(w7, 18) ^ (w7 >> 3));
  b = b + 0x5cb0a9dc + w6 + (a ^ (g & (hh ^ a))) + (rotr<u32>(g, 6) ^ rotr<u32>(g, 11) ^ rotr<u32>(g, 25));
  f += b;
  b = b + ((c & d) | (e & (c | d))) + (rotr<u32>(c, 2) ^ rotr<u32>(c, 13) ^ rotr<u32>(c, 22));
  w7 += (rotr<u32>(w5, 17) ^ rotr<u32>(w5, 19) ^ (w5 >> 10)) + w0 + (rotr<u32>(w8, 7) ^ rotr<u32>(w8, 18) ^ (w8 >> 3));
  a = a + 0x76f988da + w7 + (hh ^ (f & (g ^ hh))) + (rotr<u32>(f, 6) ^ rotr<u32>(f, 11) ^ rotr<u32>(f, 25));
  e += a;
  a = a + ((b & c) | (d & (b | c))) + (rotr<u32>(b, 2) ^ rotr<u32>(b, 13) ^ rotr<u32>(b, 22));
  w8 += (rotr<u32>(w6, 17) ^ rotr<u32>(w6, 19) ^ (w6 >> 10)) + w1 + (rotr<u32>(w9, 7) ^ rotr<u32>(w9, 18) ^ (w9 >> 3));
  hh = hh + 0x983e5152 + w8 + (g ^ (e & (f ^ g))) + (rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25));
  d += hh;
  hh = hh + ((a & b) | (c & (a | b))) + (rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22));
  w9 += (rotr<u32>(w7, 17) ^ rotr<u32>(w7, 19) ^ (w7 >> 10)) + w2 + (rotr<u32>(w10, 7) ^ rotr<u32>(w10, 18) ^ (w10 >> 3));
  g = g + 0xa831c66d + w9 + (f ^ (d & (e ^ f))) + (rotr<u32>(d, 6) ^ rotr<u32>(d, 11) ^ rotr<u32>(d, 25));
  c += g;
  g = g + ((hh & a) | (b & (hh | a))) + (rotr<u32>(hh, 2) ^ rotr<u32>(hh, 13) ^ rotr<u32>(hh, 22));
  w10 += (rotr<u32>(w8, 17) ^ rotr<u32>(w8, 19) ^ (w8 >> 10)) + w3 + (rotr<u32>(w11, 7) ^ rotr<u32>(w11, 18) ^ (w11 >> 3));
  f = f + 0xb00327c8 + w10 + (e ^ (c & (d ^ e))) + (rotr<u32>(c, 6) ^ rotr<u32>(c, 11) ^ rotr<u32>(c, 25));
  b += f;
  f = f + ((g & hh) | (a & (g | hh))) + (rotr<u32>(g, 2) ^ rotr<u32>(g, 13) ^ rotr<u32>(g, 22));
  w11 += (rotr<u32>(w9, 17) ^ rotr<u32>(w9, 19) ^ (w9 >> 10)) + w4 + (rotr<u32>(w12, 7) ^ rotr<u32>(w12, 18) ^ (w12 >> 3));
  e = e + 0xbf597fc7 + w11 + (d ^ (b & (c ^ d))) + (rotr<u32>(b, 6) ^ rotr<u32>(b, 11) ^ rotr<u32>(b, 25));
  a += e;
  e = e + ((f & g) | (hh & (f | g))) + (rotr<u32>(f, 2) ^ rotr<u32>(f, 13) ^ rotr<u32>(f, 22));
  w12 += (rotr<u32>(w10, 17) ^ rotr<u32>(w10, 19) ^ (w10 >> 10)) + w5 + (rotr<u32>(w13, 7) ^ rotr<u32>(w13, 18) ^ (w13 >> 3));
  d = d + 0xc6e00bf3 + w12 + (c ^ (a & (b ^ c))) + (rotr<u32>(a, 6) ^ rotr<u32>(a, 11) ^ rotr<u32>(a, 25));
  hh += d;
  d = d + ((e & f) | (g & (e | f))) + (rotr<u32>(e, 2) ^ rotr<u32>(e, 13) ^ rotr<u32>(e, 22));
  w13 += (rotr<u32>(w11, 17) ^ rotr<u32>(w11, 19) ^ (w11 >> 10)) + w6 + (rotr<u32>(w14, 7) ^ rotr<u32>(w14, 18) ^ (w14 >> 3));
  c = c + 0xd5a79147 + w13 + (b ^ (hh & (a ^ b))) + (rotr<u32>(hh, 6) ^ rotr<u32>(hh, 11) ^ rotr<u32>(hh, 25));
  g += c;
  c = c + ((d & e) | (f & (d | e))) + (rotr<u32>(d, 2) ^ rotr<u32>(d, 13) ^ rotr<u32>(d, 22));
  w14 += (rotr<u32>(w12, 17) ^ rotr<u32>(w12, 19) ^ (w12 >> 10)) + w7 + (rotr<u32>(w15, 7) ^ rotr<u32>(w15, 18) ^ (w15 >> 3));
  b = b + 0x06ca6351 + w14 + (a ^ (g & (hh ^ a))) + (rotr<u32>(g, 6) ^ rotr<u32>(g, 11) ^ rotr<u32>(g, 25));
  f += b;
  b = b + ((c & d) | (e & (c | d))) + (rotr<u32>(c, 2) ^ rotr<u32>(c, 13) ^ rotr<u32>(c, 22));
  w15 += (rotr<u32>(w13, 17) ^ rotr<u32>(w13, 19) ^ (w13 >> 10)) + w8 + (rotr<u32>(w0, 7) ^ rotr<u32>(w0, 18) ^ (w0 >> 3));
  a = a + 0x14292967 + w15 + (hh ^ (f & (g ^ hh))) + (rotr<u32>(f, 6) ^ rotr<u32>(f, 11) ^ rotr<u32>(f, 25));
  e += a;
  a = a + ((b & c) | (d & (b | c))) + (rotr<u32>(b, 2) ^ rotr<u32>(b, 13) ^ rotr<u32>(b, 22));
  w0 += (rotr<u32>(w14, 17) ^ rotr<u32>(w14, 19) ^ (w14 >> 10)) + w9 + (rotr<u32>(w1, 7) ^ rotr<u32>(w1, 18) ^ (w1 >> 3));
  hh = hh + 0x27b70a85 + w0 + (g ^ (e & (f ^ g))) + (rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25));
  d += hh;
  hh = hh + ((a & b) | (c & (a | b))) + (rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22));
  w1 += (rotr<u32>(w15, 17) ^ rotr<u32>(w15, 19) ^ (w15 >> 10)) + w10 + (rotr<u32>(w2, 7) ^ rotr<u32>(w2, 18) ^ (w2 >> 3));
  g = g + 0x2e1b2138 + w1 + (f ^ (d & (e ^ f))) + (rotr<u32>(d, 6) ^ rotr<u32>(d, 11) ^ rotr<u32>(d, 25));
  c += g;
  g = g + ((hh & a) | (b & (hh | a))) + (rotr<u32>(hh, 2) ^ rotr<u32>(hh, 13) ^ rotr<u32>(hh, 22));
  w2 += (rotr<u32>(w0, 17) ^ rotr<u32>(w0, 19) ^ (w0 >> 10)) + w11 + (rotr<u32>(w3, 7) ^ rotr<u32>(w3, 18) ^ (w3 >> 3));
  f = f + 0x4d2c6dfc + w2 + (e ^ (c & (d ^ e))) + (rotr<u32>(c, 6) ^ rotr<u32>(c, 11) ^ rotr<u32>(c, 25));
  b += f;
  f = f + ((g & hh) | (a & (g | hh))) + (rotr<u32>(g, 2) ^ rotr<u32>(g, 13) ^ rotr<u32>(g, 22));
  w3 += (rotr<u32>(w1, 17) ^ rotr<u32>(w1, 19) ^ (w1 >> 10)) + w12 + (rotr<u32>(w4, 7) ^ rotr<u32>(w4, 18) ^ (w4 >> 3));
  e = e + 0x53380d13 + w3 + (d ^ (b & (c ^ d))) + (rotr<u32>(b, 6) ^ rotr<u32>(b, 11) ^ rotr<u32>(b, 25));
  a += e;
  e = e + ((f & g) | (hh & (f | g))) + (rotr<u32>(f, 2) ^ rotr<u32>(f, 13) ^ rotr<u32>(f, 22));
  w4 += (rotr<u32>(w2, 17) ^ rotr<u32>(w2, 19) ^ (w2 >> 10)) + w13 + (rotr<u32>(w5, 7) ^ rotr<u32>(w5, 18) ^ (w5 >> 3));
  d = d + 0x650a7354 + w4 + (c ^ (a & (b ^ c))) + (rotr<u32>(a, 6) ^ rotr<u32>(a, 11) ^ rotr<u32>(a, 25));
  hh += d;
  d = d + ((e & f) | (g & (e | f))) + (rotr<u32>(e, 2) ^ rotr<u32>(e, 13) ^ rotr<u32>(e, 22));
  w5 += (rotr<u32>(w3, 17) ^ rotr<u32>(w3, 19) ^ (w3 >> 10)) + w14 + (rotr<u32>(w6, 7) ^ rotr<u32>(w6, 18) ^ (w6 >> 3));
  c = c + 0x766a0abb + w5 + (b ^ (hh & (a ^ b))) + (rotr<u32>(hh, 6) ^ rotr<u32>(hh, 11) ^ rotr<u32>(hh, 25));
  g += c;
  c = c + ((d & e) | (f & (d | e))) + (rotr<u32>(d, 2) ^ rotr<u32>(d, 13) ^ rotr<u32>(d, 22));
  w6 += (rotr<u32>(w4, 17) ^ rotr<u32>(w4, 19) ^ (w4 >> 10)) + w15 + (rotr<u32>(w7, 7) ^ rotr<u32>(w7, 18) ^ (w7 >> 3));
  b = b + 0x81c2c92e + w6 + (a ^ (g & (hh ^ a))) + (rotr<u32>(g, 6) ^ rotr<u32>(g, 11) ^ rotr<u32>(g, 25));
  f += b;
  b = b + ((c & d) | (e & (c | d))) + (rotr<u32>(c, 2) ^ rotr<u32>(c, 13) ^ rotr<u32>(c, 22));
  w7 += (rotr<u32>(w5, 17) ^ rotr<u32>(w5, 19) ^ (w5 >> 10)) + w0 + (rotr<u32>(w8, 7) ^ rotr<u32>(w8, 18) ^ (w8 >> 3));
  a = a + 0x92722c85 + w7 + (hh ^ (f & (g ^ hh))) + (rotr<u32>(f, 6) ^ rotr<u32>(f, 11) ^ rotr<u32>(f, 25));
  e += a;
  a = a + ((b & c) | (d & (b | c))) + (rotr<u32>(b, 2) ^ rotr<u32>(b, 13) ^ rotr<u32>(b, 22));
  w8 += (rotr<u32>(w6, 17) ^ rotr<u32>(w6, 19) ^ (w6 >> 10)) + w1 + (rotr<u32>(w9, 7) ^ rotr<u32>(w9, 18) ^ (w9 >> 3));
  hh = hh + 0xa2bfe8a1 + w8 + (g ^ (e & (f ^ g))) + (rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25));
  d += hh;
  hh = hh + ((a & b) | (c & (a | b))) + (rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22));
  w9 += (rotr<u32>(w7, 17) ^ rotr<u32>(w7, 19) ^ (w7 >> 10)) + w2 + (rotr<u32>(w10, 7) ^ rotr<u32>(w10, 18) ^ (w10 >> 3));
  g = g + 0xa81a664b + w9 + (f ^ (d & (e ^ f))) + (rotr<u32>(d, 6) ^ rotr<u32>(d, 11) ^ rotr<u32>(d, 25));
  c += g;
  g = g + ((hh & a) | (b & (hh | a))) + (rotr<u32>(hh, 2) ^ rotr<u32>(hh, 13) ^ rotr<u32>(hh, 22));
  w10 += (rotr<u32>(w8, 17) ^ rotr<u32>(w8, 19) ^ (w8 >> 10)) + w3 + (rotr<u32>(w11, 7) ^ rotr<u32>(w11, 18) ^ (w11 >> 3));
  f = f + 0xc24b8b70 + w10 + (e ^ (c & (d ^ e))) + (rotr<u32>(c, 6) ^ rotr<u32>(c, 11) ^ rotr<u32>(c, 25));
  b += f;
  f = f + ((g & hh) | (a & (g | hh))) + (rotr<u32>(g, 2) ^ rotr<u32>(g, 13) ^ rotr<u32>(g, 22));
  w11 += (rotr<u32>(w9, 17) ^ rotr<u32>(w9, 19) ^ (w9 >> 10)) + w4 + (rotr<u32>(w12, 7) ^ rotr<u32>(w12, 18) ^ (w12 >> 3));
  e = e + 0xc76c51a3 + w11 + (d ^ (b & (c ^ d))) + (rotr<u32>(b, 6) ^ rotr<u32>(b, 11) ^ rotr<u32>(b, 25));
  a += e;
  e = e + ((f & g) | (hh & (f | g))) + (rotr<u32>(f, 2) ^ rotr<u32>(f, 13) ^ rotr<u32>(f, 22));
  w12 += (rotr<u32>(w10, 17) ^ rotr<u32>(w10, 19) ^ (w10 >> 10)) + w5 + (rotr<u32>(w13, 7) ^ rotr<u32>(w13, 18) ^ (w13 >> 3));
  d = d + 0xd192e819 + w12 + (c ^ (a & (b ^ c))) + (rotr<u32>(a, 6) ^ rotr<u32>(a, 11) ^ rotr<u32>(a, 25));
  hh += d;
  d = d + ((e & f) | (g & (e | f))) + (rotr<u32>(e, 2) ^ rotr<u32>(e, 13) ^ rotr<u32>(e, 22));
  w13 += (rotr<u32>(w11, 17) ^ rotr<u32>(w11, 19) ^ (w11 >> 10)) + w6 + (rotr<u32>(w14, 7) ^ rotr<u32>(w14, 18) ^ (w14 >> 3));
  c = c + 0xd6990624 + w13 + (b ^ (hh & (a ^ b))) + (rotr<u32>(hh, 6) ^ rotr<u32>(hh, 11) ^ rotr<u32>(hh, 25));
  g += c;
  c = c + ((d & e) | (f & (d | e))) + (rotr<u32>(d, 2) ^ rotr<u32>(d, 13) ^ rotr<u32>(d, 22));
  w14 += (rotr<u32>(w12, 17) ^ rotr<u32>(w12, 19) ^ (w12 >> 10)) + w7 + (rotr<u32>(w15, 7) ^ rotr<u32>(w15, 18) ^ (w15 >> 3));
  b = b + 0xf40e3585 + w14 + (a ^ (g & (hh ^ a))) + (rotr<u32>(g, 6) ^ rotr<u32>(g, 11) ^ rotr<u32>(g, 25));
  f += b;
  b = b + ((c & d) | (e & (c | d))) + (rotr<u32>(c, 2) ^ rotr<u32>(c, 13) ^ rotr<u32>(c, 22));
  w15 += (rotr<u32>(w13, 17) ^ rotr<u32>(w13, 19) ^ (w13 >> 10)) + w8 + (rotr<u32>(w0, 7) ^ rotr<u32>(w0, 18) ^ (w0 >> 3));
  a = a + 0x106aa070 + w15 + (hh ^ (f & (g ^ hh))) + (rotr<u32>(f, 6) ^ rotr<u32>(f, 11) ^ rotr<u32>(f, 25));
  e += a;
  a = a + ((b & c) | (d & (b | c))) + (rotr<u32>(b, 2) ^ rotr<u32>(b, 13) ^ rotr<u32>(b, 22));
  w0 += (rotr<u32>(w14, 17) ^ rotr<u32>(w14, 19) ^ (w14 >> 10)) + w9 + (rotr<u32>(w1, 7) ^ rotr<u32>(w1, 18) ^ (w1 >> 3));
  hh = hh + 0x19a4c116 + w0 + (g ^ (e & (f ^ g))) + (rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25));
  d += hh;
  hh = hh + ((a & b) | (c & (a | b))) + (rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22));
  w1 += (rotr<u32>(w15, 17) ^ rotr<u32>(w15, 19) ^ (w15 >> 10)) + w10 + (rotr<u32>(w2, 7) ^ rotr<u32>(w2, 18) ^ (w2 >> 3));
  g = g + 0x1e376c08 + w1 + (f ^ (d & (e ^ f))) + (rotr<u32>(d, 6) ^ rotr<u32>(d, 11) ^ rotr<u32>(d, 25));
  c += g;
  g = g + ((hh & a) | (b & (hh | a))) + (rotr<u32>(hh, 2) ^ rotr<u32>(hh, 13) ^ rotr<u32>(hh, 22));
  w2 += (rotr<u32>(w0, 17) ^ rotr<u32>(w0, 19) ^ (w0 >> 10)) + w11 + (rotr<u32>(w3, 7) ^ rotr<u32>(w3, 18) ^ (w3 >> 3));
  f = f + 0x2748774c + w2 + (e ^ (c & (d ^ e))) + (rotr<u32>(c, 6) ^ rotr<u32>(c, 11) ^ rotr<u32>(c, 25));
  b += f;
  f = f + ((g & hh) | (a & (g | hh))) + (rotr<u32>(g, 2) ^ rotr<u32>(g, 13) ^ rotr<u32>(g, 22));
  w3 += (rotr<u32>(w1, 17) ^ rotr<u32>(w1, 19) ^ (w1 >> 10)) + w12 + (rotr<u32>(w4, 7) ^ rotr<u32>(w4, 18) ^ (w4 >> 3));
  e = e + 0x34b0bcb5 + w3 + (d ^ (b & (c ^ d))) + (rotr<u32>(b, 6) ^ rotr<u32>(b, 11) ^ rotr<u32>(b, 25));
  a += e;
  e = e + ((f & g) | (hh & (f | g))) + (rotr<u32>(f, 2) ^ rotr<u32>(f, 13) ^ rotr<u32>(f, 22));
  w4 += (rotr<u32>(w2, 17) ^ rotr<u32>(w2, 19) ^ (w2 >> 10)) + w13 + (rotr<u32>(w5, 7) ^ rotr<u32>(w5, 18) ^ (w5 >> 3));
  d = d + 0x391c0cb3 + w4 + (c ^ (a & (b ^ c))) + (rotr<u32>(a, 6) ^ rotr<u32>(a, 11) ^ rotr<u32>(a, 25));
  hh += d;
  d = d + ((e & f) | (g & (e | f))) + (rotr<u32>(e, 2) ^ rotr<u32>(e, 13) ^ rotr<u32>(e, 22));
  w5 += (rotr<u32>(w3, 17) ^ rotr<u32>(w3, 19) ^ (w3 >> 10)) + w14 + (rotr<u32>(w6, 7) ^ rotr<u32>(w6, 18) ^ (w6 >> 3));
  c = c + 0x4ed8aa4a + w5 + (b ^ (hh & (a ^ b))) + (rotr<u32>(hh, 6) ^ rotr<u32>(hh, 11) ^ rotr<u32>(hh, 25));
  g += c;
  c = c + ((d & e) | (f & (d | e))) + (rotr<u32>(d, 2) ^ rotr<u32>(d, 13) ^ rotr<u32>(d, 22));
  w6 += (rotr<u32>(w4, 17) ^ rotr<u32>(w4, 19) ^ (w4 >> 10)) + w15 + (rotr<u32>(w7, 7) ^ rotr<u32>(w7, 18) ^ (w7 >> 3));
  b = b + 0x5b9cca4f + w6 + (a ^ (g & (hh ^ a))) + (rotr<u32>(g, 6) ^ rotr<u32>(g, 11) ^ rotr<u32>(g, 25));
  f += b;
  b = b + ((c & d) | (e & (c | d))) + (rotr<u32>(c, 2) ^ rotr<u32>(c, 13) ^ rotr<u32>(c, 22));
  w7 += (rotr<u32>(w5, 17) ^ rotr<u32>(w5, 19) ^ (w5 >> 10)) + w0 + (rotr<u32>(w8, 7) ^ rotr<u32>(w8, 18) ^ (w8 >> 3));
  a = a + 0x682e6ff3 + w7 + (hh ^ (f & (g ^ hh))) + (rotr<u32>(f, 6) ^ rotr<u32>(f, 11) ^ rotr<u32>(f, 25));
  e += a;
  a = a + ((b & c) | (d & (b | c))) + (rotr<u32>(b, 2) ^ rotr<u32>(b, 13) ^ rotr<u32>(b, 22));
  w8 += (rotr<u32>(w6, 17) ^ rotr<u32>(w6, 19) ^ (w6 >> 10)) + w1 + (rotr<u32>(w9, 7) ^ rotr<u32>(w9, 18) ^ (w9 >> 3));
  hh = hh + 0x748f82ee + w8 + (g ^ (e & (f ^ g))) + (rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25));
  d += hh;
  hh = hh + ((a & b) | (c & (a | b))) + (rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22));
  w9 += (rotr<u32>(w7, 17) ^ rotr<u32>(w7, 19) ^ (w7 >> 10)) + w2 + (rotr<u32>(w10, 7) ^ rotr<u32>(w10, 18) ^ (w10 >> 3));
  g = g + 0x78a5636f + w9 + (f ^ (d & (e ^ f))) + (rotr<u32>(d, 6) ^ rotr<u32>(d, 11) ^ rotr<u32>(d, 25));
  c += g;
  g = g + ((hh & a) | (b & (hh | a))) + (rotr<u32>(hh, 2) ^ rotr<u32>(hh, 13) ^ rotr<u32>(hh, 22));
  w10 += (rotr<u32>(w8, 17) ^ rotr<u32>(w8, 19) ^ (w8 >> 10)) + w3 + (rotr<u32>(w11, 7) ^ rotr<u32>(w11, 18) ^ (w11 >> 3));
  f = f + 0x84c87814 + w10 + (e ^ (c & (d ^ e))) + (rotr<u32>(c, 6) ^ rotr<u32>(c, 11) ^ rotr<u32>(c, 25));
  b += f;
  f = f + ((g & hh) | (a & (g | hh))) + (rotr<u32>(g, 2) ^ rotr<u32>(g, 13) ^ rotr<u32>(g, 22));
  w11 += (rotr<u32>(w9, 17) ^ rotr<u32>(w9, 19) ^ (w9 >> 10)) + w4 + (rotr<u32>(w12, 7) ^ rotr<u32>(w12, 18) ^ (w12 >> 3));
  e = e + 0x8cc70208 + w11 + (d ^ (b & (c ^ d))) + (rotr<u32>(b, 6) ^ rotr<u32>(b, 11) ^ rotr<u32>(b, 25));
  a += e;
  e = e + ((f & g) | (hh & (f | g))) + (rotr<u32>(f, 2) ^ rotr<u32>(f, 13) ^ rotr<u32>(f, 22));
  w12 += (rotr<u32>(w10, 17) ^ rotr<u32>(w10, 19) ^ (w10 >> 10)) + w5 + (rotr<u32>(w13, 7) ^ rotr<u32>(w13, 18) ^ (w13 >> 3));
  d = d + 0x90befffa + w12 + (c ^ (a & (b ^ c))) + (rotr<u32>(a, 6) ^ rotr<u32>(a, 11) ^ rotr<u32>(a, 25));
  hh += d;
  d = d + ((e & f) | (g & (e | f))) + (rotr<u32>(e, 2) ^ rotr<u32>(e, 13) ^ rotr<u32>(e, 22));
  w13 += (rotr<u32>(w11, 17) ^ rotr<u32>(w11, 19) ^ (w11 >> 10)) + w6 + (rotr<u32>(w14, 7) ^ rotr<u32>(w14, 18) ^ (w14 >> 3));
  c = c + 0xa4506ceb + w13 + (b ^ (hh & (a ^ b))) + (rotr<u32>(hh, 6) ^ rotr<u32>(hh, 11) ^ rotr<u32>(hh, 25));
  g += c;
  c = c + ((d & e) | (f & (d | e))) + (rotr<u32>(d, 2) ^ rotr<u32>(d, 13) ^ rotr<u32>(d, 22));
  w14 += (rotr<u32>(w12, 17) ^ rotr<u32>(w12, 19) ^ (w12 >> 10)) + w7 + (rotr<u32>(w15, 7) ^ rotr<u32>(w15, 18) ^ (w15 >> 3));
  b = b + 0xbef9a3f7 + w14 + (a ^ (g & (hh ^ a))) + (rotr<u32>(g, 6) ^ rotr<u32>(g, 11) ^ rotr<u32>(g, 25));
  f += b;
  b = b + ((c & d) | (e & (c | d))) + (rotr<u32>(c, 2) ^ rotr<u32>(c, 13) ^ rotr<u32>(c, 22));
  w15 += (rotr<u32>(w13, 17) ^ rotr<u32>(w13, 19) ^ (w13 >> 10)) + w8 + (rotr<u32>(w0, 7) ^ rotr<u32>(w0, 18) ^ (w0 >> 3));
  a = a + 0xc67178f2 + w15 + (hh ^ (f & (g ^ hh))) + (rotr<u32>(f, 6) ^ rotr<u32>(f, 11) ^ rotr<u32>(f, 25));
  e += a;
  a = a + ((b & c) | (d & (b | c))) + (rotr<u32>(b, 2) ^ rotr<u32>(b, 13) ^ rotr<u32>(b, 22));
  store<u32>(h, load<u32>(h, 0) + a, 0);
  store<u32>(h, load<u32>(h, 4) + b, 4);
  store<u32>(h, load<u32>(h, 8) + c, 8);
  store<u32>(h, load<u32>(h, 12) + d, 12);
  store<u32>(h, load<u32>(h, 16) + e, 16);
  store<u32>(h, load<u32>(h, 20) + f, 20);
  store<u32>(h, load<u32>(h, 24) + g, 24);
  store<u32>(h, load<u32>(h, 28) + hh, 28);
}

/**
 * SHA-1 compression of one 64-byte block at p into H (FIPS 180-4 §6.1.2), fully
 * unrolled in the same way (generated).
 */
function compress1(p: usize): void {
  const h = SHA_CTX + H_OFF;
  let w0 = be32(p + 0);
  let w1 = be32(p + 4);
  let w2 = be32(p + 8);
  let w3 = be32(p + 12);
  let w4 = be32(p + 16);
  let w5 = be32(p + 20);
  let w6 = be32(p + 24);
  let w7 = be32(p + 28);
  let w8 = be32(p + 32);
  let w9 = be32(p + 36);
  let w10 = be32(p + 40);
  let w11 = be32(p + 44);
  let w12 = be32(p + 48);
  let w13 = be32(p + 52);
  let w14 = be32(p + 56);
  let w15 = be32(p + 60);
  let a = load<u32>(h, 0), b = load<u32>(h, 4), c = load<u32>(h, 8), d = load<u32>(h, 12);
  let e = load<u32>(h, 16);
  e = e + 0x5a827999 + w0 + (d ^ (b & (c ^ d))) + rotl<u32>(a, 5);
  b = rotl<u32>(b, 30);
  d = d + 0x5a827999 + w1 + (c ^ (a & (b ^ c))) + rotl<u32>(e, 5);
  a = rotl<u32>(a, 30);
  c = c + 0x5a827999 + w2 + (b ^ (e & (a ^ b))) + rotl<u32>(d, 5);
  e = rotl<u32>(e, 30);
  b = b + 0x5a827999 + w3 + (a ^ (d & (e ^ a))) + rotl<u32>(c, 5);
  d = rotl<u32>(d, 30);
  a = a + 0x5a827999 + w4 + (e ^ (c & (d ^ e))) + rotl<u32>(b, 5);
  c = rotl<u32>(c, 30);
  e = e + 0x5a827999 + w5 + (d ^ (b & (c ^ d))) + rotl<u32>(a, 5);
  b = rotl<u32>(b, 30);
  d = d + 0x5a827999 + w6 + (c ^ (a & (b ^ c))) + rotl<u32>(e, 5);
  a = rotl<u32>(a, 30);
  c = c + 0x5a827999 + w7 + (b ^ (e & (a ^ b))) + rotl<u32>(d, 5);
  e = rotl<u32>(e, 30);
  b = b + 0x5a827999 + w8 + (a ^ (d & (e ^ a))) + rotl<u32>(c, 5);
  d = rotl<u32>(d, 30);
  a = a + 0x5a827999 + w9 + (e ^ (c & (d ^ e))) + rotl<u32>(b, 5);
  c = rotl<u32>(c, 30);
  e = e + 0x5a827999 + w10 + (d ^ (b & (c ^ d))) + rotl<u32>(a, 5);
  b = rotl<u32>(b, 30);
  d = d + 0x5a827999 + w11 + (c ^ (a & (b ^ c))) + rotl<u32>(e, 5);
  a = rotl<u32>(a, 30);
  c = c + 0x5a827999 + w12 + (b ^ (e & (a ^ b))) + rotl<u32>(d, 5);
  e = rotl<u32>(e, 30);
  b = b + 0x5a827999 + w13 + (a ^ (d & (e ^ a))) + rotl<u32>(c, 5);
  d = rotl<u32>(d, 30);
  a = a + 0x5a827999 + w14 + (e ^ (c & (d ^ e))) + rotl<u32>(b, 5);
  c = rotl<u32>(c, 30);
  e = e + 0x5a827999 + w15 + (d ^ (b & (c ^ d))) + rotl<u32>(a, 5);
  b = rotl<u32>(b, 30);
  w0 = rotl<u32>(w13 ^ w8 ^ w2 ^ w0, 1);
  d = d + 0x5a827999 + w0 + (c ^ (a & (b ^ c))) + rotl<u32>(e, 5);
  a = rotl<u32>(a, 30);
  w1 = rotl<u32>(w14 ^ w9 ^ w3 ^ w1, 1);
  c = c + 0x5a827999 + w1 + (b ^ (e & (a ^ b))) + rotl<u32>(d, 5);
  e = rotl<u32>(e, 30);
  w2 = rotl<u32>(w15 ^ w10 ^ w4 ^ w2, 1);
  b = b + 0x5a827999 + w2 + (a ^ (d & (e ^ a))) + rotl<u32>(c, 5);
  d = rotl<u32>(d, 30);
  w3 = rotl<u32>(w0 ^ w11 ^ w5 ^ w3, 1);
  a = a + 0x5a827999 + w3 + (e ^ (c & (d ^ e))) + rotl<u32>(b, 5);
  c = rotl<u32>(c, 30);
  w4 = rotl<u32>(w1 ^ w12 ^ w6 ^ w4, 1);
  e = e + 0x6ed9eba1 + w4 + (b ^ c ^ d) + rotl<u32>(a, 5);
  b = rotl<u32>(b, 30);
  w5 = rotl<u32>(w2 ^ w13 ^ w7 ^ w5, 1);
  d = d + 0x6ed9eba1 + w5 + (a ^ b ^ c) + rotl<u32>(e, 5);
  a = rotl<u32>(a, 30);
  w6 = rotl<u32>(w3 ^ w14 ^ w8 ^ w6, 1);
  c = c + 0x6ed9eba1 + w6 + (e ^ a ^ b) + rotl<u32>(d, 5);
  e = rotl<u32>(e, 30);
  w7 = rotl<u32>(w4 ^ w15 ^ w9 ^ w7, 1);
  b = b + 0x6ed9eba1 + w7 + (d ^ e ^ a) + rotl<u32>(c, 5);
  d = rotl<u32>(d, 30);
  w8 = rotl<u32>(w5 ^ w0 ^ w10 ^ w8, 1);
  a = a + 0x6ed9eba1 + w8 + (c ^ d ^ e) + rotl<u32>(b, 5);
  c = rotl<u32>(c, 30);
  w9 = rotl<u32>(w6 ^ w1 ^ w11 ^ w9, 1);
  e = e + 0x6ed9eba1 + w9 + (b ^ c ^ d) + rotl<u32>(a, 5);
  b = rotl<u32>(b, 30);
  w10 = rotl<u32>(w7 ^ w2 ^ w12 ^ w10, 1);
  d = d + 0x6ed9eba1 + w10 + (a ^ b ^ c) + rotl<u32>(e, 5);
  a = rotl<u32>(a, 30);
  w11 = rotl<u32>(w8 ^ w3 ^ w13 ^ w11, 1);
  c = c + 0x6ed9eba1 + w11 + (e ^ a ^ b) + rotl<u32>(d, 5);
  e = rotl<u32>(e, 30);
  w12 = rotl<u32>(w9 ^ w4 ^ w14 ^ w12, 1);
  b = b + 0x6ed9eba1 + w12 + (d ^ e ^ a) + rotl<u32>(c, 5);
  d = rotl<u32>(d, 30);
  w13 = rotl<u32>(w10 ^ w5 ^ w15 ^ w13, 1);
  a = a + 0x6ed9eba1 + w13 + (c ^ d ^ e) + rotl<u32>(b, 5);
  c = rotl<u32>(c, 30);
  w14 = rotl<u32>(w11 ^ w6 ^ w0 ^ w14, 1);
  e = e + 0x6ed9eba1 + w14 + (b ^ c ^ d) + rotl<u32>(a, 5);
  b = rotl<u32>(b, 30);
  w15 = rotl<u32>(w12 ^ w7 ^ w1 ^ w15, 1);
  d = d + 0x6ed9eba1 + w15 + (a ^ b ^ c) + rotl<u32>(e, 5);
  a = rotl<u32>(a, 30);
  w0 = rotl<u32>(w13 ^ w8 ^ w2 ^ w0, 1);
  c = c + 0x6ed9eba1 + w0 + (e ^ a ^ b) + rotl<u32>(d, 5);
  e = rotl<u32>(e, 30);
  w1 = rotl<u32>(w14 ^ w9 ^ w3 ^ w1, 1);
  b = b + 0x6ed9eba1 + w1 + (d ^ e ^ a) + rotl<u32>(c, 5);
  d = rotl<u32>(d, 30);
  w2 = rotl<u32>(w15 ^ w10 ^ w4 ^ w2, 1);
  a = a + 0x6ed9eba1 + w2 + (c ^ d ^ e) + rotl<u32>(b, 5);
  c = rotl<u32>(c, 30);
  w3 = rotl<u32>(w0 ^ w11 ^ w5 ^ w3, 1);
  e = e + 0x6ed9eba1 + w3 + (b ^ c ^ d) + rotl<u32>(a, 5);
  b = rotl<u32>(b, 30);
  w4 = rotl<u32>(w1 ^ w12 ^ w6 ^ w4, 1);
  d = d + 0x6ed9eba1 + w4 + (a ^ b ^ c) + rotl<u32>(e, 5);
  a = rotl<u32>(a, 30);
  w5 = rotl<u32>(w2 ^ w13 ^ w7 ^ w5, 1);
  c = c + 0x6ed9eba1 + w5 + (e ^ a ^ b) + rotl<u32>(d, 5);
  e = rotl<u32>(e, 30);
  w6 = rotl<u32>(w3 ^ w14 ^ w8 ^ w6, 1);
  b = b + 0x6ed9eba1 + w6 + (d ^ e ^ a) + rotl<u32>(c, 5);
  d = rotl<u32>(d, 30);
  w7 = rotl<u32>(w4 ^ w15 ^ w9 ^ w7, 1);
  a = a + 0x6ed9eba1 + w7 + (c ^ d ^ e) + rotl<u32>(b, 5);
  c = rotl<u32>(c, 30);
  w8 = rotl<u32>(w5 ^ w0 ^ w10 ^ w8, 1);
  e = e + 0x8f1bbcdc + w8 + ((b & c) | (d & (b | c))) + rotl<u32>(a, 5);
  b = rotl<u32>(b, 30);
  w9 = rotl<u32>(w6 ^ w1 ^ w11 ^ w9, 1);
  d = d + 0x8f1bbcdc + w9 + ((a & b) | (c & (a | b))) + rotl<u32>(e, 5);
  a = rotl<u32>(a, 30);
  w10 = rotl<u32>(w7 ^ w2 ^ w12 ^ w10, 1);
  c = c + 0x8f1bbcdc + w10 + ((e & a) | (b & (e | a))) + rotl<u32>(d, 5);
  e = rotl<u32>(e, 30);
  w11 = rotl<u32>(w8 ^ w3 ^ w13 ^ w11, 1);
  b = b + 0x8f1bbcdc + w11 + ((d & e) | (a & (d | e))) + rotl<u32>(c, 5);
  d = rotl<u32>(d, 30);
  w12 = rotl<u32>(w9 ^ w4 ^ w14 ^ w12, 1);
  a = a + 0x8f1bbcdc + w12 + ((c & d) | (e & (c | d))) + rotl<u32>(b, 5);
  c = rotl<u32>(c, 30);
  w13 = rotl<u32>(w10 ^ w5 ^ w15 ^ w13, 1);
  e = e + 0x8f1bbcdc + w13 + ((b & c) | (d & (b | c))) + rotl<u32>(a, 5);
  b = rotl<u32>(b, 30);
  w14 = rotl<u32>(w11 ^ w6 ^ w0 ^ w14, 1);
  d = d + 0x8f1bbcdc + w14 + ((a & b) | (c & (a | b))) + rotl<u32>(e, 5);
  a = rotl<u32>(a, 30);
  w15 = rotl<u32>(w12 ^ w7 ^ w1 ^ w15, 1);
  c = c + 0x8f1bbcdc + w15 + ((e & a) | (b & (e | a))) + rotl<u32>(d, 5);
  e = rotl<u32>(e, 30);
  w0 = rotl<u32>(w13 ^ w8 ^ w2 ^ w0, 1);
  b = b + 0x8f1bbcdc + w0 + ((d & e) | (a & (d | e))) + rotl<u32>(c, 5);
  d = rotl<u32>(d, 30);
  w1 = rotl<u32>(w14 ^ w9 ^ w3 ^ w1, 1);
  a = a + 0x8f1bbcdc + w1 + ((c & d) | (e & (c | d))) + rotl<u32>(b, 5);
  c = rotl<u32>(c, 30);
  w2 = rotl<u32>(w15 ^ w10 ^ w4 ^ w2, 1);
  e = e + 0x8f1bbcdc + w2 + ((b & c) | (d & (b | c))) + rotl<u32>(a, 5);
  b = rotl<u32>(b, 30);
  w3 = rotl<u32>(w0 ^ w11 ^ w5 ^ w3, 1);
  d = d + 0x8f1bbcdc + w3 + ((a & b) | (c & (a | b))) + rotl<u32>(e, 5);
  a = rotl<u32>(a, 30);
  w4 = rotl<u32>(w1 ^ w12 ^ w6 ^ w4, 1);
  c = c + 0x8f1bbcdc + w4 + ((e & a) | (b & (e | a))) + rotl<u32>(d, 5);
  e = rotl<u32>(e, 30);
  w5 = rotl<u32>(w2 ^ w13 ^ w7 ^ w5, 1);
  b = b + 0x8f1bbcdc + w5 + ((d & e) | (a & (d | e))) + rotl<u32>(c, 5);
  d = rotl<u32>(d, 30);
  w6 = rotl<u32>(w3 ^ w14 ^ w8 ^ w6, 1);
  a = a + 0x8f1bbcdc + w6 + ((c & d) | (e & (c | d))) + rotl<u32>(b, 5);
  c = rotl<u32>(c, 30);
  w7 = rotl<u32>(w4 ^ w15 ^ w9 ^ w7, 1);
  e = e + 0x8f1bbcdc + w7 + ((b & c) | (d & (b | c))) + rotl<u32>(a, 5);
  b = rotl<u32>(b, 30);
  w8 = rotl<u32>(w5 ^ w0 ^ w10 ^ w8, 1);
  d = d + 0x8f1bbcdc + w8 + ((a & b) | (c & (a | b))) + rotl<u32>(e, 5);
  a = rotl<u32>(a, 30);
  w9 = rotl<u32>(w6 ^ w1 ^ w11 ^ w9, 1);
  c = c + 0x8f1bbcdc + w9 + ((e & a) | (b & (e | a))) + rotl<u32>(d, 5);
  e = rotl<u32>(e, 30);
  w10 = rotl<u32>(w7 ^ w2 ^ w12 ^ w10, 1);
  b = b + 0x8f1bbcdc + w10 + ((d & e) | (a & (d | e))) + rotl<u32>(c, 5);
  d = rotl<u32>(d, 30);
  w11 = rotl<u32>(w8 ^ w3 ^ w13 ^ w11, 1);
  a = a + 0x8f1bbcdc + w11 + ((c & d) | (e & (c | d))) + rotl<u32>(b, 5);
  c = rotl<u32>(c, 30);
  w12 = rotl<u32>(w9 ^ w4 ^ w14 ^ w12, 1);
  e = e + 0xca62c1d6 + w12 + (b ^ c ^ d) + rotl<u32>(a, 5);
  b = rotl<u32>(b, 30);
  w13 = rotl<u32>(w10 ^ w5 ^ w15 ^ w13, 1);
  d = d + 0xca62c1d6 + w13 + (a ^ b ^ c) + rotl<u32>(e, 5);
  a = rotl<u32>(a, 30);
  w14 = rotl<u32>(w11 ^ w6 ^ w0 ^ w14, 1);
  c = c + 0xca62c1d6 + w14 + (e ^ a ^ b) + rotl<u32>(d, 5);
  e = rotl<u32>(e, 30);
  w15 = rotl<u32>(w12 ^ w7 ^ w1 ^ w15, 1);
  b = b + 0xca62c1d6 + w15 + (d ^ e ^ a) + rotl<u32>(c, 5);
  d = rotl<u32>(d, 30);
  w0 = rotl<u32>(w13 ^ w8 ^ w2 ^ w0, 1);
  a = a + 0xca62c1d6 + w0 + (c ^ d ^ e) + rotl<u32>(b, 5);
  c = rotl<u32>(c, 30);
  w1 = rotl<u32>(w14 ^ w9 ^ w3 ^ w1, 1);
  e = e + 0xca62c1d6 + w1 + (b ^ c ^ d) + rotl<u32>(a, 5);
  b = rotl<u32>(b, 30);
  w2 = rotl<u32>(w15 ^ w10 ^ w4 ^ w2, 1);
  d = d + 0xca62c1d6 + w2 + (a ^ b ^ c) + rotl<u32>(e, 5);
  a = rotl<u32>(a, 30);
  w3 = rotl<u32>(w0 ^ w11 ^ w5 ^ w3, 1);
  c = c + 0xca62c1d6 + w3 + (e ^ a ^ b) + rotl<u32>(d, 5);
  e = rotl<u32>(e, 30);
  w4 = rotl<u32>(w1 ^ w12 ^ w6 ^ w4, 1);
  b = b + 0xca62c1d6 + w4 + (d ^ e ^ a) + rotl<u32>(c, 5);
  d = rotl<u32>(d, 30);
  w5 = rotl<u32>(w2 ^ w13 ^ w7 ^ w5, 1);
  a = a + 0xca62c1d6 + w5 + (c ^ d ^ e) + rotl<u32>(b, 5);
  c = rotl<u32>(c, 30);
  w6 = rotl<u32>(w3 ^ w14 ^ w8 ^ w6, 1);
  e = e + 0xca62c1d6 + w6 + (b ^ c ^ d) + rotl<u32>(a, 5);
  b = rotl<u32>(b, 30);
  w7 = rotl<u32>(w4 ^ w15 ^ w9 ^ w7, 1);
  d = d + 0xca62c1d6 + w7 + (a ^ b ^ c) + rotl<u32>(e, 5);
  a = rotl<u32>(a, 30);
  w8 = rotl<u32>(w5 ^ w0 ^ w10 ^ w8, 1);
  c = c + 0xca62c1d6 + w8 + (e ^ a ^ b) + rotl<u32>(d, 5);
  e = rotl<u32>(e, 30);
  w9 = rotl<u32>(w6 ^ w1 ^ w11 ^ w9, 1);
  b = b + 0xca62c1d6 + w9 + (d ^ e ^ a) + rotl<u32>(c, 5);
  d = rotl<u32>(d, 30);
  w10 = rotl<u32>(w7 ^ w2 ^ w12 ^ w10, 1);
  a = a + 0xca62c1d6 + w10 + (c ^ d ^ e) + rotl<u32>(b, 5);
  c = rotl<u32>(c, 30);
  w11 = rotl<u32>(w8 ^ w3 ^ w13 ^ w11, 1);
  e = e + 0xca62c1d6 + w11 + (b ^ c ^ d) + rotl<u32>(a, 5);
  b = rotl<u32>(b, 30);
  w12 = rotl<u32>(w9 ^ w4 ^ w14 ^ w12, 1);
  d = d + 0xca62c1d6 + w12 + (a ^ b ^ c) + rotl<u32>(e, 5);
  a = rotl<u32>(a, 30);
  w13 = rotl<u32>(w10 ^ w5 ^ w15 ^ w13, 1);
  c = c + 0xca62c1d6 + w13 + (e ^ a ^ b) + rotl<u32>(d, 5);
  e = rotl<u32>(e, 30);
  w14 = rotl<u32>(w11 ^ w6 ^ w0 ^ w14, 1);
  b = b + 0xca62c1d6 + w14 + (d ^ e ^ a) + rotl<u32>(c, 5);
  d = rotl<u32>(d, 30);
  w15 = rotl<u32>(w12 ^ w7 ^ w1 ^ w15, 1);
  a = a + 0xca62c1d6 + w15 + (c ^ d ^ e) + rotl<u32>(b, 5);
  c = rotl<u32>(c, 30);
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
