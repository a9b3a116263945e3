/**
 * Montgomery arithmetic modulo an odd m of k limbs (u32), R = 2^(32k): the
 * context, conversions between limbs and the kernels' digit forms, and the
 * limb-form multiplication `montMul` (reductions, form conversions, Garner).
 *
 * A Montgomery context (layout.ts, CTX_*) holds k, m0inv = -m^-1 mod 2^32, m,
 * RR = R^2 mod m, m as 28-bit digits and the entry and exit constants of the
 * digit domains of the kernels; `montSetupVarTime` computes all of them, so the
 * sizes of those domains are fixed here too (lazyDigits, pairDigits, nDigits).
 * "Montgomery form" of x is x*R mod m.
 *
 * The kernels on top of this file: mont_digits.ts (one modulus, 28-bit digits),
 * mont_pair.ts (two moduli in the two SIMD lanes), mont_fma.ts (fused
 * multiply-adds, relaxed build only), exp.ts (windows and the table scan),
 * inverse.ts (the blinding inversion).
 *
 * Timing, the rule of the whole core (as FiloSottile/bigmod's): everything is
 * constant time in the values it is given, except functions whose names end in
 * `VarTime`, which may branch or index on an input and say in their doc comment
 * on what and why that is safe. Sizes (k, digit counts, a modulus's bit length)
 * are public. Here only `montSetupVarTime` (the bit length of m) is variable time.
 */
import {
  bnAdd,
  bnAddMasked,
  bnBitLenVarTime,
  bnCopy,
  bnSelect,
  bnSetWord,
  bnShl1,
  bnSub,
  bnZero,
  ld,
  st,
} from "./bignum";
import {
  CTX_C1,
  CTX_C1P,
  CTX_C2,
  CTX_K,
  CTX_KD,
  CTX_M,
  CTX_M0INV,
  CTX_M28,
  CTX_MP,
  CTX_RBITS,
  CTX_RR,
  DIGIT_BITS,
  MM_A,
  MM_P,
  MM_T,
  S,
} from "./layout";

/** Mask of a 28-bit digit (DIGIT_BITS), as u32 and as u64. */
export const DIGIT_MASK: u32 = (1 << DIGIT_BITS) - 1;
export const DM64: u64 = <u64>DIGIT_MASK;

// Scratch temporaries owned by the Montgomery modules (see layout.S): S(12)..S(14),
// and S(17)..S(23) in inverse.ts. Callers use S(0)..S(11), S(15) and S(16).
export const T_ONE: i32 = 12;
export const T_X: i32 = 13;
export const T_Y: i32 = 14;

// @ts-ignore: decorator
@inline
export function ctxK(ctx: usize): i32 {
  return load<i32>(ctx + CTX_K);
}

// @ts-ignore: decorator
@inline
export function ctxM(ctx: usize): usize {
  return ctx + CTX_M;
}

// @ts-ignore: decorator
@inline
export function ctxRR(ctx: usize): usize {
  return ctx + CTX_RR;
}

// @ts-ignore: decorator
@inline
export function digitsOf(ctx: usize): i32 {
  return load<i32>(ctx + CTX_KD);
}

/** Digits of the digit domain for a k-limb modulus. */
// @ts-ignore: decorator
@inline
export function lazyDigits(k: i32): i32 {
  return (32 * k) / DIGIT_BITS + 2;
}

/** Digits of the two-lane kernel's domain for k-limb moduli. */
// @ts-ignore: decorator
@inline
export function pairDigits(k: i32): i32 {
  return (32 * k) / DIGIT_BITS + 1;
}

/** Largest limb count montExp2 (mont_pair.ts) takes (pair numbers must fit DIGITS_BYTES with padding). */
export const PAIR_MAX_K: i32 = 64;

/** Digit width of the relaxed build's fused multiply-add domain (mont_fma.ts). */
export const FMA_DIGIT_BITS: i32 = 51;

/** Digits of the relaxed kernel's domain for k-limb moduli: 51L >= 32k + 55 (R'' >= 16m'). */
// @ts-ignore: decorator
@inline
export function nDigits(k: i32): i32 {
  return (32 * k + 55 + FMA_DIGIT_BITS - 1) / FMA_DIGIT_BITS;
}

/** Largest limb count the relaxed kernel takes (a pair number must fit DIGITS_BYTES): RSA-4096. */
export const N_MAX_K: i32 = 64;

/**
 * How many modular doublings turn R mod m into the relaxed domain's entry constant
 * C1N = R''^2 / R mod m = R * 2^(2*51L - 64k) mod m (montSetupVarTime keeps it in
 * CTX_C1P).
 */
export function entryDoublingsN(k: i32): i32 {
  return 2 * FMA_DIGIT_BITS * nDigits(k) - 64 * k;
}

/**
 * Splits k u32 limbs at src into kd 28-bit digits at dst (u32 each). Bits at
 * and above 32k are dropped: the last digit is masked to rbits bits when
 * rbits > 0. Reads one limb past src + 4k (its bits are masked away).
 */
// @ts-ignore: decorator
@inline
function toDigits(dst: usize, src: usize, kd: i32, rbits: i32): void {
  for (let i = 0; i < kd; i++) {
    const bit = i * DIGIT_BITS;
    const v = load<u64>(src + (<usize>(bit >> 5) << 2)) >> <u64>(bit & 31);
    store<u32>(dst + (<usize>i << 2), <u32>v & DIGIT_MASK);
  }
  if (rbits > 0) {
    const last = dst + (<usize>(kd - 1) << 2);
    store<u32>(last, load<u32>(last) & ((<u32>1 << <u32>rbits) - 1));
  }
}

/**
 * Digit i of the k-limb number at p (28 bits; the top digit masked to rbits bits
 * when rbits > 0, so bits at and above 32k, read from the limb past the end, drop).
 */
// @ts-ignore: decorator
@inline
function digitAt(p: usize, i: i32, kd: i32, rbits: i32): u32 {
  const bit = i * DIGIT_BITS;
  const v = <u32>(load<u64>(p + (<usize>(bit >> 5) << 2)) >> <u64>(bit & 31));
  const mask = i == kd - 1 && rbits > 0 ? (<u32>1 << <u32>rbits) - 1 : DIGIT_MASK;
  return v & mask;
}

/**
 * Sum over n vectors v = 0..n-1 of the pairwise products of the v128 at
 * A + 8j0 + 16v and bp + 8j0 + 16v: lane 0 gets a*b, lane 1 u*m' (see montMulD, mont_digits.ts).
 */
// @ts-ignore: decorator
@inline
export function dotPairs(A: usize, bp: usize, j0: i32, n: i32): v128 {
  let pa = A + (<usize>j0 << 3);
  let pb = bp + (<usize>j0 << 3);
  const end = pa + (<usize>n << 4);
  let s0 = i64x2.splat(0), s1 = i64x2.splat(0), s2 = i64x2.splat(0), s3 = i64x2.splat(0);
  while (pa + 32 <= end) {
    const va = v128.load(pa), vb = v128.load(pb);
    const wa = v128.load(pa, 16), wb = v128.load(pb, 16);
    s0 = i64x2.add(s0, i64x2.extmul_low_i32x4_u(va, vb));
    s1 = i64x2.add(s1, i64x2.extmul_high_i32x4_u(va, vb));
    s2 = i64x2.add(s2, i64x2.extmul_low_i32x4_u(wa, wb));
    s3 = i64x2.add(s3, i64x2.extmul_high_i32x4_u(wa, wb));
    pa += 32;
    pb += 32;
  }
  if (pa < end) {
    const va = v128.load(pa), vb = v128.load(pb);
    s0 = i64x2.add(s0, i64x2.extmul_low_i32x4_u(va, vb));
    s1 = i64x2.add(s1, i64x2.extmul_high_i32x4_u(va, vb));
  }
  return i64x2.add(i64x2.add(s0, s1), i64x2.add(s2, s3));
}

/**
 * montMul: r = a*b*R^-1 mod m, R = 2^(32k).
 * Preconditions: a < R (any k limbs), b < m. Then the result is < m.
 * r may alias a or b (inputs are split into digits first, r is written last).
 *
 * Algorithm: Montgomery multiplication by product scanning on 28-bit digits,
 * the layout of montMulD: MM_A holds the pairs [a_j, u_j], MM_T the pairs
 * [b_l, m_l] reversed, so each column is one dot product of v128s (a*b and u*m
 * in the two u64 lanes of an extmul), carried only at its end. With
 * kd = ceil(32k / 28) digits and rbits = 32k mod 28, columns 0..full-1
 * (full = 32k div 28) each reduce by 2^28 (u_i = t_i * (-m^-1) mod 2^28); when
 * rbits > 0 column `full` reduces by 2^rbits only, so that R stays 2^(32k) for
 * every caller, and the result starts rbits bits into that column. The result
 * is below 2m (a*b < R*m and U < R); one subtraction is always computed and
 * selected by a mask. Loop bounds and branches depend on k only.
 */
export function montMul(r: usize, a: usize, b: usize, ctx: usize): void {
  const k = ctxK(ctx);
  const kd = digitsOf(ctx);
  const rbits = load<i32>(ctx + CTX_RBITS);
  const full = rbits > 0 ? kd - 1 : kd;
  const m = ctx + CTX_M;
  const md = ctx + CTX_M28;
  const m0inv = load<u32>(ctx + CTX_M0INV);
  const m0 = <u64>load<u32>(md), m1 = <u64>load<u32>(md, 4);
  const A = MM_A;
  const bTop = MM_T + (<usize>(kd - 1) << 3);
  for (let j = 0; j < kd; j++) {
    const o = <usize>j << 3;
    store<u32>(A + o, digitAt(a, j, kd, rbits));
    store<u32>(bTop - o, digitAt(b, j, kd, rbits));
    store<u32>(bTop - o, load<u32>(md + (<usize>j << 2)), 4);
  }
  memory.fill(A + (<usize>kd << 3), 0, 16);
  memory.fill(MM_T + (<usize>kd << 3), 0, 16);
  const b0 = <u64>load<u32>(bTop), b1 = <u64>load<u32>(bTop - 8);
  let c: u64 = 0, uPrev: u64 = 0, low: u64 = 0;
  // Columns 0..kd-1: t_i, then u_i (the last one partial when rbits > 0)
  for (let i = 0; i < kd; i++) {
    const ns = (i - 1) & ~1 & ~((i - 1) >> 31); // even, 0 <= ns <= max(i - 1, 0)
    const s = dotPairs(A, bTop - (<usize>i << 3), 0, ns >> 1);
    const l0 = <u64>i64x2.extract_lane(s, 0);
    const l1 = <u64>i64x2.extract_lane(s, 1);
    let t = (l0 & DM64) + (l1 & DM64) + c;
    const hi = (l0 >> 28) + (l1 >> 28);
    for (let j = ns; j < i - 1; j++) {
      const pa = A + (<usize>j << 3);
      const pb = bTop - (<usize>(i - j) << 3);
      t += <u64>load<u32>(pa) * <u64>load<u32>(pb) + <u64>load<u32>(pa, 4) * <u64>load<u32>(pb, 4);
    }
    if (i > 0) t += <u64>load<u32>(A + (<usize>(i - 1) << 3)) * b1 + uPrev * m1;
    t += <u64>load<u32>(A + (<usize>i << 3)) * b0;
    let u: u64;
    if (i < full) {
      u = <u64>((<u32>t * m0inv) & DIGIT_MASK);
      t += u * m0; // divisible by 2^28
    } else {
      // the partial reduction by 2^rbits; bits rbits..27 are the first result bits
      u = <u64>((<u32>t * m0inv) & ((<u32>1 << <u32>rbits) - 1));
      t += u * m0;
      low = (t & DM64) >> <u64>rbits;
    }
    store<u32>(A + (<usize>i << 3), <u32>u, 4);
    uPrev = u;
    c = (t >> 28) + hi;
  }
  // Columns kd..2kd-2: the result digits, packed at bit offset `off`
  const p = MM_P;
  memory.fill(p, 0, (<usize>k + 4) << 2);
  const off = rbits > 0 ? DIGIT_BITS - rbits : 0;
  store<u64>(p, low);
  for (let i = kd; i < 2 * kd - 1; i++) {
    const j0 = i - kd + 1;
    const s = dotPairs(A, bTop - (<usize>i << 3), j0, (kd - j0 + 1) >> 1);
    const l0 = <u64>i64x2.extract_lane(s, 0);
    const l1 = <u64>i64x2.extract_lane(s, 1);
    const t = (l0 & DM64) + (l1 & DM64) + c;
    packDigit(p, off + (i - kd) * DIGIT_BITS, t & DM64);
    c = (t >> 28) + (l0 >> 28) + (l1 >> 28);
  }
  packDigit(p, off + (kd - 1) * DIGIT_BITS, c); // < 2^29: the result is below 2m
  // one subtraction, p < 2m -> r < m
  let borrow: u64 = 0;
  for (let j = 0; j < k; j++) {
    const d = <u64>ld(p, j) - <u64>ld(m, j) - borrow;
    st(r, j, <u32>d);
    borrow = d >> 63;
  }
  // keep p when p < m, i.e. when the subtraction borrowed past p_k
  const keepP = 0 - (<u32>borrow & ~ld(p, k) & 1);
  for (let j = 0; j < k; j++) st(r, j, (ld(p, j) & keepP) | (ld(r, j) & ~keepP));
}

/** ORs the value v (< 2^32) into the limbs at p at bit position bit. */
// @ts-ignore: decorator
@inline
function packDigit(p: usize, bit: i32, v: u64): void {
  const at = p + (<usize>(bit >> 5) << 2);
  store<u64>(at, load<u64>(at) | (v << <u64>(bit & 31)));
}

/** montSqr: r = a^2 * R^-1 mod m, a < m. (The hook for a dedicated squaring.) */
// @ts-ignore: decorator
@inline
export function montSqr(r: usize, a: usize, ctx: usize): void {
  montMul(r, a, a, ctx);
}

/** r = a + b mod m; a, b < m. r may alias a or b. */
export function modAdd(r: usize, a: usize, b: usize, ctx: usize): void {
  const k = ctxK(ctx);
  const m = ctx + CTX_M;
  const carry = bnAdd(r, a, b, k);
  const tmp = S(T_Y);
  const borrow = bnSub(tmp, r, m, k);
  // keep the sum when it is < m: no carry out and the subtraction borrowed
  const keep = 0 - (borrow & ~carry & 1);
  bnSelect(r, r, tmp, k, keep);
}

/** r = a - b mod m; a, b < m. r may alias a or b. */
export function modSub(r: usize, a: usize, b: usize, ctx: usize): void {
  const k = ctxK(ctx);
  const borrow = bnSub(r, a, b, k);
  bnAddMasked(r, r, ctx + CTX_M, k, 0 - borrow);
}

/** x = 2x mod m, x < m (k limbs). */
function modDouble(x: usize, ctx: usize): void {
  const k = ctxK(ctx);
  const carry = bnShl1(x, x, k);
  const tmp = S(T_Y);
  const borrow = bnSub(tmp, x, ctx + CTX_M, k);
  const keep = 0 - (borrow & ~carry & 1);
  bnSelect(x, x, tmp, k, keep);
}

/**
 * Sets up a context whose k and m are already stored: m0inv and RR = R^2 mod m.
 * Precondition: m odd, m > 1, top limb may be zero. Time depends on k and on
 * the bit length of m (treated as public), not on the other bits of m.
 *
 * RR: with k = a * 2^(j-5), a odd, x = 2^(32k + a) mod m (Montgomery form of
 * 2^a) is reached by doubling 2^(bits-1) < m; j Montgomery squarings then give
 * the form of 2^(a*2^j) = 2^(32k) = R, which is R^2 mod m.
 */
export function montSetupVarTime(ctx: usize): void {
  const k = ctxK(ctx);
  const m = ctx + CTX_M;
  // m0inv by Newton iteration: inv = m0 is right to 3 bits; each step doubles.
  const m0 = load<u32>(m);
  let inv = m0;
  for (let i = 0; i < 4; i++) inv = inv * (2 - m0 * inv);
  store<u32>(ctx + CTX_M0INV, 0 - inv);
  // the 28-bit digit form of m used by montMul
  const kd = (32 * k + DIGIT_BITS - 1) / DIGIT_BITS;
  store<i32>(ctx + CTX_KD, kd);
  store<i32>(ctx + CTX_RBITS, 32 * k - DIGIT_BITS * (32 * k / DIGIT_BITS));
  toDigits(ctx + CTX_M28, m, kd, load<i32>(ctx + CTX_RBITS));
  // the digit domain (montMulD) may use one digit more than kd: it is zero
  store<u32>(ctx + CTX_M28 + (<usize>kd << 2), 0);

  const bits = bnBitLenVarTime(m, k);
  const tz = <i32> ctz<u32>(<u32> k);
  const a = k >> tz;
  const j = 5 + tz;
  const x = S(T_X);
  bnZero(x, k);
  st(x, (bits - 1) >> 5, <u32> 1 << <u32> ((bits - 1) & 31));
  const doublings = 32 * k + a - (bits - 1);
  for (let i = 0; i < doublings; i++) modDouble(x, ctx);
  // RR must be < m for montMul's precondition: x is, and squarings keep it so.
  for (let i = 0; i < j; i++) montMul(x, x, x, ctx);
  bnCopy(ctx + CTX_RR, x, k);
  // the digit domain: m' = mu*m, C2 = R mod m, C1 = R'^2 / R = R * 2^(2h) mod m
  const L = lazyDigits(k);
  scaledModulus(ctx + CTX_MP, ctx, L);
  montOne(x, ctx);
  limbsToDigits(ctx + CTX_C2, x, k, L);
  // the two-lane kernel's domain (unscaled m, pairDigits(k) = L - 1 digits) first:
  // C1 there is R * 2^(2h') with h' = h - 28
  const h2 = 2 * (DIGIT_BITS * L - 32 * k);
  if (ASC_FEATURE_RELAXED_SIMD && k <= N_MAX_K) {
    // the relaxed build's two-lane kernel (mont_fma.ts) takes CTX_C1P for its entry
    // constant C1N = R''^2 / R mod m, as k limbs
    const y = S(T_ONE);
    bnCopy(y, x, k);
    for (let i = 0; i < entryDoublingsN(k); i++) modDouble(y, ctx);
    bnCopy(ctx + CTX_C1P, y, k);
  }
  for (let i = 0; i < h2 - 2 * DIGIT_BITS; i++) modDouble(x, ctx);
  if (!ASC_FEATURE_RELAXED_SIMD || k > N_MAX_K) limbsToDigits(ctx + CTX_C1P, x, k, L - 1);
  for (let i = 0; i < 2 * DIGIT_BITS; i++) modDouble(x, ctx);
  limbsToDigits(ctx + CTX_C1, x, k, L);
}

/** r = x*R mod m (to Montgomery form), x < R. */
// @ts-ignore: decorator
@inline
export function toMont(r: usize, x: usize, ctx: usize): void {
  montMul(r, x, ctx + CTX_RR, ctx);
}

/** r = x*R^-1 mod m (from Montgomery form), x < R. */
export function fromMont(r: usize, x: usize, ctx: usize): void {
  const one = S(T_ONE);
  bnSetWord(one, ctxK(ctx), 1);
  montMul(r, x, one, ctx);
}

/** r = R mod m (Montgomery form of 1). */
export function montOne(r: usize, ctx: usize): void {
  const one = S(T_ONE);
  bnSetWord(one, ctxK(ctx), 1);
  montMul(r, one, ctx + CTX_RR, ctx);
}

/**
 * r = x*R mod m for x of any length L limbs (Montgomery form of x mod m).
 * Horner over k-limb chunks c_i of x = sum c_i R^i: acc = acc*R + c_i*R.
 * Constant time in x and m. r must not alias x.
 */
export function reduceWide(r: usize, x: usize, L: i32, ctx: usize): void {
  const k = ctxK(ctx);
  const rr = ctx + CTX_RR;
  const tmp = S(T_X);
  const chunks = (L + k - 1) / k;
  if (chunks == 0) {
    bnZero(r, k);
    return;
  }
  // top chunk, zero padded
  const top = (chunks - 1) * k;
  bnZero(tmp, k);
  bnCopy(tmp, x + (<usize> top << 2), L - top);
  montMul(r, tmp, rr, ctx);
  for (let c = chunks - 2; c >= 0; c--) {
    montMul(r, r, rr, ctx);
    montMul(tmp, x + (<usize> (c * k) << 2), rr, ctx);
    modAdd(r, r, tmp, ctx);
  }
}

/** m' = mu*m of the context as L digits at dst. Constant time. */
function scaledModulus(dst: usize, ctx: usize, L: i32): void {
  const mu = <u64>(load<u32>(ctx + CTX_M0INV) & DIGIT_MASK);
  limbsToDigits(dst, ctx + CTX_M, ctxK(ctx), L);
  let c: u64 = 0;
  for (let j = 0; j < L; j++) {
    const at = dst + (<usize>j << 2);
    const v = <u64>load<u32>(at) * mu + c;
    store<u32>(at, <u32>v & DIGIT_MASK);
    c = v >> 28;
  }
}

/** L digits of the k-limb number at src (< 2^(32k)) into dst. Constant time. */
export function limbsToDigits(dst: usize, src: usize, k: i32, L: i32): void {
  const pad = MM_P; // k + 2 limbs, the last two zero
  bnCopy(pad, src, k);
  store<u64>(pad + (<usize>k << 2), 0);
  for (let i = 0; i < L; i++) {
    const bit = i * DIGIT_BITS;
    const limb = bit >> 5;
    const v = limb <= k ? load<u64>(pad + (<usize>limb << 2)) >> <u64>(bit & 31) : 0;
    store<u32>(dst + (<usize>i << 2), <u32>v & DIGIT_MASK);
  }
}
