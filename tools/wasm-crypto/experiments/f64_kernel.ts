/**
 * EXPERIMENT, not part of the core (not compiled into roamsign.wasm; run by
 * tools/wasm-crypto/f64_probe.ts): the two-lane Montgomery kernel in f64x2 arithmetic
 * instead of 28-bit integer digits with i64x2.extmul. Digits of W = 23 bits held
 * as f64 (products < 2^46, column sums of up to 2L products stay below 2^53, so
 * every operation is exact), scaled modulus m' = mu*m = -1 mod 2^W
 * ("Montgomery-friendly"), so u_i = t_i mod 2^W. Variants: S (one column at
 * a time, like montMul2) and B (blocks of 4 columns sharing each a_j load). The fused
 * multiply-add variant that grew out of this probe is assembly/fma.ts (the relaxed build).
 * Findings in docs/wasm-crypto.md, "f64 kernel experiment".
 */
import { montMul2, montSqr2 } from "../../../wasm-crypto/assembly/mont_pair";
import { D } from "../../../wasm-crypto/assembly/layout";

const W: i32 = 23;
const RADIX: f64 = <f64>(1 << W);
const INV_RADIX: f64 = 1.0 / RADIX;
// regions at 1 MiB, each 2 KiB with 8 zero pairs of padding around (the probe sets 40 pages)
const FA: usize = (1 << 20) + 128;
const FB: usize = FA + 2048; // b reversed
const FU: usize = FB + 2048;
const FM: usize = FU + 2048; // m' reversed
const FS: usize = FM + 2048; // 4 block sums
const FX: usize = FS + 2048; // operands
const SA: usize = FX + 8192;
const SB: usize = SA + 2048;
const SU: usize = SB + 2048;
const SM: usize = SU + 2048;
const SM1: usize = SM + 2048;

// @ts-ignore
@inline
function dotF(a: usize, b: usize, n: i32): v128 {
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0), s2 = f64x2.splat(0), s3 = f64x2.splat(0);
  const end = a + (<usize>n << 4);
  while (a + 64 <= end) {
    s0 = f64x2.add(s0, f64x2.mul(v128.load(a), v128.load(b)));
    s1 = f64x2.add(s1, f64x2.mul(v128.load(a, 16), v128.load(b, 16)));
    s2 = f64x2.add(s2, f64x2.mul(v128.load(a, 32), v128.load(b, 32)));
    s3 = f64x2.add(s3, f64x2.mul(v128.load(a, 48), v128.load(b, 48)));
    a += 64;
    b += 64;
  }
  while (a < end) {
    s0 = f64x2.add(s0, f64x2.mul(v128.load(a), v128.load(b)));
    a += 16;
    b += 16;
  }
  return f64x2.add(f64x2.add(s0, s1), f64x2.add(s2, s3));
}

export function montMulS(r: usize, a: usize, b: usize, L: i32): void {
  const bTop = SB + (<usize>(L - 1) << 4);
  const mTop = SM + (<usize>(L - 1) << 4);
  memory.copy(SA, a, <usize>L << 4);
  for (let l = 0; l < L; l++) v128.store(bTop - (<usize>l << 4), v128.load(b + (<usize>l << 4)));
  const radix = f64x2.splat(RADIX), inv = f64x2.splat(INV_RADIX);
  const m1 = v128.load(SM1);
  let c = f64x2.splat(0);
  let uPrev = f64x2.splat(0);
  for (let i = 0; i < L; i++) {
    let s = dotF(SA, bTop - (<usize>i << 4), i + 1);
    if (i >= 2) s = f64x2.add(s, dotF(SU, mTop - (<usize>i << 4), i - 1));
    const t = f64x2.add(f64x2.add(s, c), f64x2.mul(uPrev, m1));
    const h = f64x2.floor(f64x2.mul(t, inv));
    const u = f64x2.sub(t, f64x2.mul(h, radix));
    c = f64x2.add(h, u);
    uPrev = u;
    v128.store(SU + (<usize>i << 4), u);
  }
  for (let i = L; i < 2 * L - 1; i++) {
    const j0 = i - L + 1;
    let t = f64x2.add(dotF(SA + (<usize>j0 << 4), bTop - (<usize>(i - j0) << 4), L - j0),
      dotF(SU + (<usize>j0 << 4), mTop - (<usize>(i - j0) << 4), L - j0));
    t = f64x2.add(t, c);
    const h = f64x2.floor(f64x2.mul(t, inv));
    v128.store(r + (<usize>(i - L) << 4), f64x2.sub(t, f64x2.mul(h, radix)));
    c = h;
  }
  v128.store(r + (<usize>(L - 1) << 4), c);
}

export function montSqrS(r: usize, a: usize, L: i32): void {
  const aTop = SB + (<usize>(L - 1) << 4);
  const mTop = SM + (<usize>(L - 1) << 4);
  memory.copy(SA, a, <usize>L << 4);
  for (let l = 0; l < L; l++) v128.store(aTop - (<usize>l << 4), v128.load(a + (<usize>l << 4)));
  const radix = f64x2.splat(RADIX), inv = f64x2.splat(INV_RADIX);
  const m1 = v128.load(SM1);
  let c = f64x2.splat(0);
  let uPrev = f64x2.splat(0);
  for (let i = 0; i < 2 * L - 1; i++) {
    const lo = i < L ? 0 : i - L + 1;
    const count = ((i + 1) >> 1) - lo;
    let s = dotF(SA + (<usize>lo << 4), aTop - (<usize>(i - lo) << 4), count);
    s = f64x2.add(s, s);
    if ((i & 1) == 0) {
      const d = v128.load(SA + (<usize>(i >> 1) << 4));
      s = f64x2.add(s, f64x2.mul(d, d));
    }
    if (i < L) {
      if (i >= 2) s = f64x2.add(s, dotF(SU, mTop - (<usize>i << 4), i - 1));
      const t = f64x2.add(f64x2.add(s, c), f64x2.mul(uPrev, m1));
      const h = f64x2.floor(f64x2.mul(t, inv));
      const u = f64x2.sub(t, f64x2.mul(h, radix));
      c = f64x2.add(h, u);
      uPrev = u;
      v128.store(SU + (<usize>i << 4), u);
    } else {
      const j0 = i - L + 1;
      let t = f64x2.add(s, dotF(SU + (<usize>j0 << 4), mTop - (<usize>(i - j0) << 4), L - j0));
      t = f64x2.add(t, c);
      const h = f64x2.floor(f64x2.mul(t, inv));
      v128.store(r + (<usize>(i - L) << 4), f64x2.sub(t, f64x2.mul(h, radix)));
      c = h;
    }
  }
  v128.store(r + (<usize>(L - 1) << 4), c);
}

/**
 * Adds to the 4 sums at FS: S_d += sum_{j in [0, n)} a[j] * br[j - d] (pairs), d = 0..3.
 */
// @ts-ignore
@inline
function dot4(a: usize, br: usize, n: i32): void {
  let s0 = v128.load(FS), s1 = v128.load(FS, 16), s2 = v128.load(FS, 32), s3 = v128.load(FS, 48);
  let b1 = v128.load(br - 16), b2 = v128.load(br - 32), b3 = v128.load(br - 48);
  const end = a + (<usize>n << 4);
  while (a < end) {
    const x = v128.load(a);
    const b0 = v128.load(br);
    s0 = f64x2.add(s0, f64x2.mul(x, b0));
    s1 = f64x2.add(s1, f64x2.mul(x, b1));
    s2 = f64x2.add(s2, f64x2.mul(x, b2));
    s3 = f64x2.add(s3, f64x2.mul(x, b3));
    b3 = b2;
    b2 = b1;
    b1 = b0;
    a += 16;
    br += 16;
  }
  v128.store(FS, s0);
  v128.store(FS, s1, 16);
  v128.store(FS, s2, 32);
  v128.store(FS, s3, 48);
}

// @ts-ignore
@inline
function at(base: usize, i: i32): v128 {
  return v128.load(base + (<usize>i << 4));
}

/** Column i0 + d's chain step. Returns new carry; stores u (i < L) or the output digit. */
// @ts-ignore
@inline
function step(t: v128, i: i32, L: i32, r: usize): v128 {
  const h = f64x2.floor(f64x2.mul(t, f64x2.splat(INV_RADIX)));
  const u = f64x2.sub(t, f64x2.mul(h, f64x2.splat(RADIX)));
  if (i < L) {
    v128.store(FU + (<usize>i << 4), u);
    return f64x2.add(h, u);
  }
  v128.store(r + (<usize>(i - L) << 4), u);
  return h;
}

// @ts-ignore
@inline
function mad(s: v128, x: v128, y: v128): v128 {
  return f64x2.add(s, f64x2.mul(x, y));
}

/** The u*m' part of block i0 (j < i0 known) and the chain through its 4 columns. */
// @ts-ignore
@inline
function finishBlock(i0: i32, L: i32, r: usize, c: v128): v128 {
  const mTop = FM + (<usize>(L - 1) << 4);
  const jlo = i0 - L + 1 > 0 ? i0 - L + 1 : 0;
  const jhi = i0 < L ? i0 : L; // exclusive
  if (jhi > jlo) dot4(FU + (<usize>jlo << 4), mTop - (<usize>(i0 - jlo) << 4), jhi - jlo);
  // in-block triangle: u_i0.. (zero when >= L: FU padding is zero beyond L)
  const m1 = at(mTop, -1), m2 = at(mTop, -2), m3 = at(mTop, -3);
  let t = f64x2.add(v128.load(FS), c);
  c = step(t, i0, L, r);
  const u0 = i0 < L ? at(FU, i0) : f64x2.splat(0);
  t = f64x2.add(mad(v128.load(FS, 16), u0, m1), c);
  c = step(t, i0 + 1, L, r);
  const u1 = i0 + 1 < L ? at(FU, i0 + 1) : f64x2.splat(0);
  t = f64x2.add(mad(mad(v128.load(FS, 32), u0, m2), u1, m1), c);
  c = step(t, i0 + 2, L, r);
  const u2 = i0 + 2 < L ? at(FU, i0 + 2) : f64x2.splat(0);
  t = f64x2.add(mad(mad(mad(v128.load(FS, 48), u0, m3), u1, m2), u2, m1), c);
  return step(t, i0 + 3, L, r);
}

/** Blocked: L even (2L columns in blocks of 4). */
export function montMulB(r: usize, a: usize, b: usize, L: i32): void {
  const bTop = FB + (<usize>(L - 1) << 4);
  memory.copy(FA, a, <usize>L << 4);
  for (let l = 0; l < L; l++) v128.store(bTop - (<usize>l << 4), at(b, l));
  memory.fill(FU, 0, <usize>(L + 4) << 4);
  let c = f64x2.splat(0);
  const cols = 2 * L - 1;
  for (let i0 = 0; i0 < cols; i0 += 4) {
    memory.fill(FS, 0, 64);
    const jlo = i0 - L + 1 > 0 ? i0 - L + 1 : 0;
    const jhi = i0 + 4 < L ? i0 + 4 : L;
    dot4(FA + (<usize>jlo << 4), bTop - (<usize>(i0 - jlo) << 4), jhi - jlo);
    c = finishBlock(i0, L, r, c);
  }
  // cols = 2L - 1 columns; blocks may have produced digits up to r[L+2]: the top digit is c at L - 1 when (2L-1) % 4 == 0
}

export function montSqrB(r: usize, a: usize, L: i32): void {
  const aTop = FB + (<usize>(L - 1) << 4);
  memory.copy(FA, a, <usize>L << 4);
  for (let l = 0; l < L; l++) v128.store(aTop - (<usize>l << 4), at(a, l));
  memory.fill(FU, 0, <usize>(L + 4) << 4);
  let c = f64x2.splat(0);
  const cols = 2 * L - 1;
  for (let i0 = 0; i0 < cols; i0 += 4) {
    memory.fill(FS, 0, 64);
    const h = i0 >> 1;
    const jlo = i0 - L + 1 > 0 ? i0 - L + 1 : 0;
    if (h > jlo) dot4(FA + (<usize>jlo << 4), aTop - (<usize>(i0 - jlo) << 4), h - jlo);
    // extras: col+1: a_h a_h+1; col+2: a_h a_h+2; col+3: a_h a_h+3 + a_h+1 a_h+2 (zero padding beyond L)
    const x0 = at(FA, h), x1 = at(FA, h + 1), x2 = at(FA, h + 2), x3 = at(FA, h + 3);
    let s0 = v128.load(FS), s1 = v128.load(FS, 16), s2 = v128.load(FS, 32), s3 = v128.load(FS, 48);
    s1 = mad(s1, x0, x1);
    s2 = mad(s2, x0, x2);
    s3 = mad(mad(s3, x0, x3), x1, x2);
    s0 = mad(f64x2.add(s0, s0), x0, x0);
    s1 = f64x2.add(s1, s1);
    s2 = mad(f64x2.add(s2, s2), x1, x1);
    s3 = f64x2.add(s3, s3);
    v128.store(FS, s0);
    v128.store(FS, s1, 16);
    v128.store(FS, s2, 32);
    v128.store(FS, s3, 48);
    c = finishBlock(i0, L, r, c);
  }
}

/** m' (u32 digits at mp, mq; scaled) into both variants' layouts, zero padding around. */
export function setupF(mp: usize, mq: usize, L: i32): void {
  memory.fill(FA - 128, 0, 5 * 2048 + 128);
  memory.fill(SA, 0, 5 * 2048);
  const mTop = FM + (<usize>(L - 1) << 4);
  const sTop = SM + (<usize>(L - 1) << 4);
  for (let l = 0; l < L; l++) {
    const v = f64x2.replace_lane(
      f64x2.splat(<f64>load<u32>(mp + (<usize>l << 2))), 1, <f64>load<u32>(mq + (<usize>l << 2)));
    v128.store(mTop - (<usize>l << 4), v);
    v128.store(sTop - (<usize>l << 4), v);
    if (l == 1) v128.store(SM1, v);
  }
}
export function fAddr(): usize { return FX; }
export function benchSqrS(n: i32, L: i32): void { for (let i = 0; i < n; i++) montSqrS(FX, FX, L); }
export function benchMulS(n: i32, L: i32): void { for (let i = 0; i < n; i++) montMulS(FX, FX, FX + 2048, L); }
export function benchSqrB(n: i32, L: i32): void { for (let i = 0; i < n; i++) montSqrB(FX, FX, L); }
export function benchMulB(n: i32, L: i32): void { for (let i = 0; i < n; i++) montMulB(FX, FX, FX + 2048, L); }
export function benchSqr2(n: i32, L: i32): void { for (let i = 0; i < n; i++) montSqr2(D(4), D(4), L); }
export function benchMul2(n: i32, L: i32): void { for (let i = 0; i < n; i++) montMul2(D(4), D(4), D(5), L); }
