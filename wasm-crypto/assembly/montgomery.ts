/**
 * Montgomery arithmetic modulo an odd m of k limbs, R = 2^(32k), and modular
 * exponentiation.
 *
 * A Montgomery context (layout.ts, CTX_*) holds k, m0inv = -m^-1 mod 2^32, m
 * and RR = R^2 mod m. "Montgomery form" of x is x*R mod m.
 *
 * Everything here is constant time in the values except the functions whose
 * names end in `VarTime`: montSetup's use of the modulus's bit length (a
 * public size), and montExpVarTime, which branches on its exponent and is only
 * ever given public exponents (RSA's e) or used as the deliberately leaky
 * negative control of the timing check.
 *
 * Speed notes for tuning (issue 4): montMul is the one hot loop; everything
 * reaches it through `montMul`/`montSqr`, so a different limb width, an
 * unrolled or SIMD inner loop, or a dedicated squaring can replace them alone.
 */
import {
  bnAdd,
  bnAddMasked,
  bnBitLenVarTime,
  bnCopy,
  bnEqMask,
  bnLtMask,
  bnSelect,
  bnSetWord,
  bnShl1,
  bnShr1,
  bnSub,
  bnSubMasked,
  bnZero,
  ctEqMask,
  ld,
  st,
} from "./bignum";
import { entryDoublingsN, montExpN2, montExpVarTimeN2, N_MAX_K } from "./fma";
import {
  CTX_K,
  CTX_KD,
  CTX_M,
  CTX_M0INV,
  CTX_C1,
  CTX_C1P,
  CTX_C2,
  CTX_M28,
  CTX_MP,
  CTX_RBITS,
  CTX_RR,
  D,
  DIGIT_BITS,
  DIGITS_BYTES,
  MD_A,
  MD_B,
  MD_MP,
  MD_SEL,
  MM_A,
  MM_P,
  MM_T,
  NUM_BYTES,
  S,
  TABLE,
  TABLE_ENTRIES,
  WINDOW,
} from "./layout";

const DIGIT_MASK: u32 = (1 << DIGIT_BITS) - 1;

// Scratch temporaries owned by this module (see layout.S): S(12)..S(14), and
// S(17)..S(23) in modInvVarTime. Callers use S(0)..S(11), S(15) and S(16).
const T_ONE: i32 = 12;
const T_X: i32 = 13;
const T_Y: i32 = 14;

// @ts-ignore: decorator

// @ts-ignore: decorator
@inline
export function ctxK(ctx: usize): i32 {
  return load<i32>(ctx + CTX_K);
}

// @ts-ignore: decorator

// @ts-ignore: decorator
@inline
export function ctxM(ctx: usize): usize {
  return ctx + CTX_M;
}

// @ts-ignore: decorator

// @ts-ignore: decorator
@inline
export function ctxRR(ctx: usize): usize {
  return ctx + CTX_RR;
}

// @ts-ignore: decorator
@inline
function digitsOf(ctx: usize): i32 {
  return load<i32>(ctx + CTX_KD);
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
    // the relaxed build's two-lane kernel (fma.ts) takes CTX_C1P for its entry
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

/** Bits [pos, pos + WINDOW) of exp (expK limbs); zero beyond. pos is public. */
// @ts-ignore: decorator

// @ts-ignore: decorator
@inline
export function windowAt(exp: usize, expK: i32, pos: i32): u32 {
  const limb = pos >> 5;
  const sh = <u32> (pos & 31);
  let v: u32 = 0;
  if (limb < expK) v = ld(exp, limb) >> sh;
  if (sh + <u32> WINDOW > 32 && limb + 1 < expK) v |= ld(exp, limb + 1) << (32 - sh);
  return v & ((1 << WINDOW) - 1);
}

// ---------------------------------------------------------------- the digit domain
//
// Exponentiations run in a digit domain built for speed:
// - Numbers are L digits of 28 bits (one u32 each, little-endian), so a column of
//   products sums in u64 without carries (see montMulD).
// - The modulus is scaled: m' = mu*m with mu = -m^-1 mod 2^28, so m' = -1 mod 2^28
//   ("Montgomery-friendly"): the reduction digit of a column is simply its low 28
//   bits, and its carry is (t >> 28) + u. That takes two multiplications off the
//   sequential chain that runs through the columns. Working modulo m' keeps every
//   congruence modulo m (m divides m'); the result is reduced modulo m at the exit.
// - Lazy reduction (Walter 1999): R' = 2^(28L) >= 16m' with L = floor(32k / 28) + 2,
//   so operands below 2m' give a product below 2m' and montMulD never subtracts.
// Entry: x*R mod m (limb form, R = 2^(32k)) times C1 = R'^2 / R mod m gives a value
// = x*R' (mod m); exit: times C2 = R mod m gives x*R (mod m), then the reduction to
// [0, m) (digitsToLimbs).

const DM64: u64 = <u64>DIGIT_MASK;

/** Digits of the digit domain for a k-limb modulus. */
// @ts-ignore: decorator
@inline
export function lazyDigits(k: i32): i32 {
  return (32 * k) / DIGIT_BITS + 2;
}

/**
 * Prepares the digit domain of the context's modulus m: the digits of
 * m' = mu*m into MD_MP and into the odd slots of MD_B (reversed, as montMulD
 * reads them), zero padding after MD_A, MD_B and MD_MP. Call before a run of
 * montMulD with a new ctx. Constant time.
 */
export function digitsBegin(ctx: usize): void {
  const k = ctxK(ctx);
  const L = lazyDigits(k);
  memory.copy(MD_MP, ctx + CTX_MP, <usize>L << 2);
  const bTop = MD_B + (<usize>(L - 1) << 3);
  for (let l = 0; l < L; l++) {
    store<u32>(bTop - (<usize>l << 3), 0);
    store<u32>(bTop - (<usize>l << 3) + 4, load<u32>(MD_MP + (<usize>l << 2)));
  }
  memory.fill(MD_MP + (<usize>L << 2), 0, 16);
  memory.fill(MD_B + (<usize>L << 3), 0, 32);
  memory.fill(MD_A + (<usize>L << 3), 0, 32);
}

/**
 * Sum over n vectors v = 0..n-1 of the pairwise products of the v128 at
 * A + 8j0 + 16v and bp + 8j0 + 16v: lane 0 gets a*b, lane 1 u*m' (see montMulD).
 */
// @ts-ignore: decorator
@inline
function dotPairs(A: usize, bp: usize, j0: i32, n: i32): v128 {
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
 * montMulD: r = a*b*R'^-1 mod m' up to one m', R' = 2^(28L): r < 2m' for a, b < 2m'
 * (L digits each, every digit < 2^28). r may alias a or b. digitsBegin(ctx) first.
 *
 * Algorithm: Montgomery multiplication by product scanning (FIPS, Koc, Acar,
 * Kaliski 1996) with delayed carries. Column i sums a_j*b_(i-j) + u_j*m'_(i-j);
 * the operands are laid out so that one column is one dot product: MD_A holds
 * the pairs [a_j, u_j], MD_B the pairs [b_l, m'_l] in reverse order, and one
 * i64x2.extmul of a v128 from each gives a_j*b_l and u_j*m'_l in its two u64
 * lanes. Lane sums stay below L * 2^56 < 2^64 (L <= 148), so a column needs no
 * carry until its end; the two lanes are then added in 28-bit halves (no
 * overflow for any L). Columns 0..L-1 take u_i = t_i mod 2^28, which makes
 * t_i + u_i*m'_0 = t_i + u_i*(2^28 - 1) divisible by 2^28, with the carry
 * (t_i >> 28) + u_i; columns L..2L-2 give the result digits. The newest u
 * (u_(i-1) from a register, u_(i-2) from memory) enter a column as scalar
 * terms, never through a vector load of a value just stored. Loop bounds
 * depend on L and the column index only; there is no branch on a value.
 */
export function montMulD(r: usize, a: usize, b: usize, ctx: usize): void {
  const L = lazyDigits(ctxK(ctx));
  const mp1 = <u64>load<u32>(MD_MP, 4);
  const A = MD_A;
  const bTop = MD_B + (<usize>(L - 1) << 3);
  for (let j = 0; j < L; j++) {
    const o = <usize>j;
    store<u32>(A + (o << 3), load<u32>(a + (o << 2)));
    store<u32>(bTop - (o << 3), load<u32>(b + (o << 2)));
  }
  const b0 = <u64>load<u32>(b), b1 = <u64>load<u32>(b, 4);
  // column 0: t = a_0 b_0
  let t = <u64>load<u32>(A) * b0;
  let u = t & DM64;
  store<u32>(A, <u32>u, 4);
  let c = (t >> 28) + u;
  // columns 1..L-1: pairs j < ns by vector, j = ns..i-2 from memory, j = i-1 with
  // u_(i-1) from the register u, j = i (a_i b_0; u_i m'_0 is in the carry formula)
  for (let i = 1; i < L; i++) {
    const ns = (i - 1) & ~1; // even, 0 <= ns <= i - 1
    const s = dotPairs(A, bTop - (<usize>i << 3), 0, ns >> 1);
    const l0 = <u64>i64x2.extract_lane(s, 0);
    const l1 = <u64>i64x2.extract_lane(s, 1);
    t = (l0 & DM64) + (l1 & DM64);
    const hi = (l0 >> 28) + (l1 >> 28);
    for (let j = ns; j < i - 1; j++) {
      const pa = A + (<usize>j << 3);
      const o2 = <usize>(i - j) << 2;
      t += <u64>load<u32>(pa) * <u64>load<u32>(b + o2) + <u64>load<u32>(pa, 4) * <u64>load<u32>(MD_MP + o2);
    }
    t += <u64>load<u32>(A + (<usize>i << 3)) * b0 + <u64>load<u32>(A + (<usize>(i - 1) << 3)) * b1;
    t += c;
    t += u * mp1;
    u = t & DM64;
    store<u32>(A + (<usize>i << 3), <u32>u, 4);
    c = (t >> 28) + u + hi;
  }
  // Columns L..2L-2: pairs j0..L-1 (rounded up to even; A's zero padding).
  for (let i = L; i < 2 * L - 1; i++) {
    const j0 = i - L + 1;
    const s = dotPairs(A, bTop - (<usize>i << 3), j0, (L - j0 + 1) >> 1);
    const l0 = <u64>i64x2.extract_lane(s, 0);
    const l1 = <u64>i64x2.extract_lane(s, 1);
    t = (l0 & DM64) + (l1 & DM64) + c;
    store<u32>(r + (<usize>(i - L) << 2), <u32>t & DIGIT_MASK);
    c = (t >> 28) + (l0 >> 28) + (l1 >> 28);
  }
  store<u32>(r + (<usize>(L - 1) << 2), <u32>c); // < 2^28 since r < 2m' < R'
}

/** montSqrD: r = a^2 * R'^-1 mod m' up to one m' (the hook for a dedicated squaring). */
// @ts-ignore: decorator
@inline
export function montSqrD(r: usize, a: usize, ctx: usize): void {
  montMulD(r, a, a, ctx);
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

/**
 * r = x mod m as k limbs, for x < 2m' = 2*mu*m < 2^29 * m given as L digits:
 * packs x into k + 1 limbs, then 29 steps of restoring reduction, x -= 2^s * m
 * when x >= 2^s * m for s = 28..0, each computed always and selected by a mask.
 * Constant time.
 */
export function digitsToLimbs(r: usize, x: usize, ctx: usize): void {
  const k = ctxK(ctx);
  const L = lazyDigits(k);
  const m = ctx + CTX_M;
  const p = MM_P, ms = S(T_X), d = S(T_Y);
  memory.fill(p, 0, (<usize>k + 3) << 2);
  for (let i = 0; i < L; i++) {
    const bit = i * DIGIT_BITS;
    const at = p + (<usize>(bit >> 5) << 2);
    store<u64>(at, load<u64>(at) | (<u64>load<u32>(x + (<usize>i << 2)) << <u64>(bit & 31)));
  }
  // ms = m * 2^28 (k + 1 limbs)
  const kk = k + 1;
  st(ms, 0, ld(m, 0) << 28);
  for (let j = 1; j < k; j++) st(ms, j, (ld(m, j) << 28) | (ld(m, j - 1) >> 4));
  st(ms, k, ld(m, k - 1) >> 4);
  st(ms, k + 1, 0);
  for (let s = 28; s >= 0; s--) {
    // d = p - ms; keep p when that borrowed; then ms /= 2
    let borrow: u64 = 0;
    for (let j = 0; j < kk; j++) {
      const v = <u64>ld(p, j) - <u64>ld(ms, j) - borrow;
      st(d, j, <u32>v);
      borrow = v >> 63;
    }
    const keep = 0 - <u32>borrow;
    for (let j = 0; j < kk; j++) {
      st(p, j, (ld(p, j) & keep) | (ld(d, j) & ~keep));
      st(ms, j, (ld(ms, j) >> 1) | (ld(ms, j + 1) << 31));
    }
  }
  bnCopy(r, p, k);
}

/** Builds the selection masks of the table scan: entry idx is taken, no other. */
function selMasks1(idx: u32): void {
  for (let i = 0; i < TABLE_ENTRIES; i++) {
    v128.store(MD_SEL + (<usize>i << 4), i32x4.splat(ctEqMask(<u32>i, idx)));
  }
}

/**
 * dst = the OR over all table entries of entry & mask (masks from selMasks1/2),
 * vecs v128 per entry: every entry is read whole, so no memory index depends
 * on the selected index. Each v128 of dst is accumulated in a register.
 */
export function tableScan(dst: usize, vecs: i32): void {
  // four v128 of dst at a time, each mask loaded once per entry for all four
  let v: usize = 0;
  for (; v + 4 <= <usize>vecs; v += 4) {
    let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
    let e = TABLE + (v << 4);
    for (let i: usize = 0; i < <usize>TABLE_ENTRIES; i++) {
      const mask = v128.load(MD_SEL + (i << 4));
      a0 = v128.or(a0, v128.and(v128.load(e), mask));
      a1 = v128.or(a1, v128.and(v128.load(e, 16), mask));
      a2 = v128.or(a2, v128.and(v128.load(e, 32), mask));
      a3 = v128.or(a3, v128.and(v128.load(e, 48), mask));
      e += DIGITS_BYTES;
    }
    v128.store(dst + (v << 4), a0);
    v128.store(dst + (v << 4), a1, 16);
    v128.store(dst + (v << 4), a2, 32);
    v128.store(dst + (v << 4), a3, 48);
  }
  for (; v < <usize>vecs; v++) {
    let acc = i32x4.splat(0);
    let e = TABLE + (v << 4);
    for (let i: usize = 0; i < <usize>TABLE_ENTRIES; i++) {
      acc = v128.or(acc, v128.and(v128.load(e), v128.load(MD_SEL + (i << 4))));
      e += DIGITS_BYTES;
    }
    v128.store(dst + (v << 4), acc);
  }
}

/**
 * Constant-time fixed-window exponentiation (window WINDOW bits):
 * r = base^exp in the Montgomery domain, i.e. r = (b^e)*R mod m when
 * base = b*R mod m. base < m (k limbs), result < m. exp has expK limbs; every
 * one of its 32*expK bits is processed (so leading zero bits cost the same as
 * ones), every window does WINDOW squarings and one multiplication by an entry
 * selected from the whole table. The work runs in the digit domain (montMulD).
 * r may alias base. Uses D(0)..D(3), S(T_X) and the table.
 */
export function montExp(r: usize, base: usize, exp: usize, expK: i32, ctx: usize): void {
  const k = ctxK(ctx);
  const L = lazyDigits(k);
  digitsBegin(ctx);
  const c1 = ctx + CTX_C1, c2 = ctx + CTX_C2, acc = D(2), sel = D(3);
  // table[i] = base^i * R' (mod m)
  const t1 = TABLE + DIGITS_BYTES;
  montMulD(TABLE, c2, c1, ctx);
  limbsToDigits(acc, base, k, L);
  montMulD(t1, acc, c1, ctx);
  for (let i = 2; i < TABLE_ENTRIES; i++) {
    const ti = TABLE + <usize>i * DIGITS_BYTES;
    montMulD(ti, ti - DIGITS_BYTES, t1, ctx);
  }
  const nw = (expK * 32 + WINDOW - 1) / WINDOW;
  if (nw == 0) {
    montMulD(acc, TABLE, c2, ctx);
  } else {
    selMasks1(windowAt(exp, expK, (nw - 1) * WINDOW));
    tableScan(acc, (L + 3) >> 2);
    for (let w = nw - 2; w >= 0; w--) {
      for (let s = 0; s < WINDOW; s++) montSqrD(acc, acc, ctx);
      selMasks1(windowAt(exp, expK, w * WINDOW));
      tableScan(sel, (L + 3) >> 2);
      montMulD(acc, acc, sel, ctx);
    }
    montMulD(acc, acc, c2, ctx);
  }
  digitsToLimbs(r, acc, ctx);
}

/**
 * Variable-time left-to-right square-and-multiply: r = base^exp in the
 * Montgomery domain (base < m, result < m). Branches on every exponent bit and
 * skips leading zeros. Only for public exponents (RSA's e) and for the timing
 * check's negative control. r may alias base. Uses D(0)..D(3), S(T_X).
 */
export function montExpVarTime(r: usize, base: usize, exp: usize, expK: i32, ctx: usize): void {
  const k = ctxK(ctx);
  const L = lazyDigits(k);
  const bits = bnBitLenVarTime(exp, expK);
  if (bits == 0) {
    montOne(r, ctx);
    return;
  }
  digitsBegin(ctx);
  const c1 = ctx + CTX_C1, c2 = ctx + CTX_C2, acc = D(2), b = D(3);
  limbsToDigits(acc, base, k, L);
  montMulD(b, acc, c1, ctx);
  memory.copy(acc, b, <usize>L << 2);
  for (let i = bits - 2; i >= 0; i--) {
    montSqrD(acc, acc, ctx);
    if (((ld(exp, i >> 5) >> <u32> (i & 31)) & 1) != 0) montMulD(acc, acc, b, ctx);
  }
  montMulD(acc, acc, c2, ctx);
  digitsToLimbs(r, acc, ctx);
}

/**
 * r = x^exp mod m for a PLAIN x < m (k limbs) and a PUBLIC exponent (expK limbs);
 * r plain, fully reduced (k limbs); c3 = publicEntryConstant of the context. The
 * square-and-multiply of montExpVarTime (variable time in exp only), entered by one
 * montMulD with c3 (no limb toMont), with a cheaper exit: the last Montgomery
 * reduction by R' runs with the unscaled m (redcDigits), which lands in [0, m]
 * directly, so neither the exit constant C2 nor the 29-step reduction of
 * digitsToLimbs nor a limb fromMont is needed. Constant time in x and m.
 * r may alias x. Uses D(2), D(3), S(T_Y) and what montMulD uses.
 */
export function montPowPublic(
  r: usize, x: usize, exp: usize, expK: i32, ctx: usize, c3: usize,
): void {
  const k = ctxK(ctx);
  const L = lazyDigits(k);
  const bits = bnBitLenVarTime(exp, expK);
  if (bits == 0) {
    bnSetWord(r, k, 1);
    // 1 mod m is 1 for the m > 1 every caller has
    return;
  }
  digitsBegin(ctx);
  const acc = D(2), b = D(3);
  limbsToDigits(acc, x, k, L);
  montMulD(b, acc, c3, ctx); // x * R'^2 * R'^-1 = x * R'
  memory.copy(acc, b, <usize>L << 2);
  for (let i = bits - 2; i >= 0; i--) {
    montSqrD(acc, acc, ctx);
    if (((ld(exp, i >> 5) >> <u32> (i & 31)) & 1) != 0) montMulD(acc, acc, b, ctx);
  }
  redcDigits(acc, acc, ctx);
  pairDigitsToLimbs(r, acc, ctx);
}

/**
 * dst = C3 = R'^2 mod m as L digits (the entry constant of montPowPublic), from the
 * context's C1 = R'^2 / R mod m and RR: C1 * RR * R^-1. Constant time.
 */
export function publicEntryConstant(dst: usize, ctx: usize): void {
  const k = ctxK(ctx);
  const L = lazyDigits(k);
  const c1 = S(T_X), y = S(T_Y);
  bnZero(c1, k + 2);
  for (let i = 0; i < L; i++) {
    // C1 < m: its digits pack into k limbs
    const bit = i * DIGIT_BITS;
    const at = c1 + (<usize>(bit >> 5) << 2);
    store<u64>(at, load<u64>(at) | (<u64>load<u32>(ctx + CTX_C1 + (<usize>i << 2)) << <u64>(bit & 31)));
  }
  montMul(y, c1, ctx + CTX_RR, ctx);
  limbsToDigits(dst, y, k, L);
}

/**
 * Montgomery reduction by R' = 2^(28L) (L = lazyDigits(k)) with the UNSCALED m:
 * r = x * R'^-1 mod m up to one m, for x < 2m' given as L digits; the result
 * Y = (x + U*m) / R' < m + 2m'/R' <= m + 1/8, so Y <= m (L digits, the top one
 * zero: pairDigitsToLimbs finishes with one masked subtraction). Product scanning
 * over the digits of m (CTX_M28, kd digits and a zero) with u64 column sums
 * (at most L + 3 products below 2^56: < 2^64), by SIMD dot products. r may alias
 * x. Uses S(T_X) (m reversed) and S(T_Y) (the u digits). Constant time: bounds depend on k only.
 */
function redcDigits(r: usize, x: usize, ctx: usize): void {
  const L = lazyDigits(ctxK(ctx));
  const kd = load<i32>(ctx + CTX_KD);
  const m = ctx + CTX_M28;
  const minv = <u64>(load<u32>(ctx + CTX_M0INV) & DIGIT_MASK);
  const m0 = <u64>load<u32>(m);
  // m reversed (digit kd, a zero, first), with four zero digits on each side, so
  // that m_(i-j) = P_i[j] for P_i = MR + 16 + 4(kd - i); U zero beyond the digits
  // computed so far: dot products may round their bounds out to whole vectors.
  const MR = S(T_X), U = S(T_Y);
  memory.fill(MR, 0, <usize>(kd + 9) << 2);
  for (let d = 0; d <= kd; d++) store<u32>(MR + 16 + (<usize>d << 2), load<u32>(m + (<usize>(kd - d) << 2)));
  memory.fill(U, 0, <usize>(L + 4) << 2);
  let c: u64 = 0;
  for (let i = 0; i < L; i++) {
    const lo = (i > kd ? i - kd : 0) & ~3;
    const P = MR + 16 + (<usize>(kd - i) << 2);
    const t = c + <u64>load<u32>(x + (<usize>i << 2)) +
      dotU32(U + (<usize>lo << 2), P + (<usize>lo << 2), (i - lo + 3) >> 2);
    const u = ((t & DM64) * minv) & DM64;
    store<u32>(U + (<usize>i << 2), <u32>u);
    c = (t + u * m0) >> 28;
  }
  for (let i = L; i < 2 * L - 1; i++) {
    const lo = (i - kd) & ~3;
    const P = MR + 16 + (<usize>(kd - i) << 2);
    const t = c + dotU32(U + (<usize>lo << 2), P + (<usize>lo << 2), (L - lo + 3) >> 2);
    store<u32>(r + (<usize>(i - L) << 2), <u32>t & DIGIT_MASK);
    c = t >> 28;
  }
  store<u32>(r + (<usize>(L - 1) << 2), <u32>c);
}

/** Sum of a_x * b_x over x < 4 * n4 (u32 arrays; at most 255 products below 2^56). */
// @ts-ignore: decorator
@inline
function dotU32(a: usize, b: usize, n4: i32): u64 {
  let s = i64x2.splat(0);
  for (let v = 0; v < n4; v++) {
    const x = v128.load(a + (<usize>v << 4)), y = v128.load(b + (<usize>v << 4));
    s = i64x2.add(s, i64x2.extmul_low_i32x4_u(x, y));
    s = i64x2.add(s, i64x2.extmul_high_i32x4_u(x, y));
  }
  return <u64>i64x2.extract_lane(s, 0) + <u64>i64x2.extract_lane(s, 1);
}

// ---------------------------------------------------------------- two moduli at once
//
// RSA's CRT exponentiations modulo p and modulo q are independent and, for the
// usual balanced primes, of one size. montExp2 runs them side by side: a "pair
// number" holds p's digit j in u32 slot 2j and q's in slot 2j + 1, so one
// i64x2.extmul of the pairs j, j + 1 gives both moduli's products in its two
// lanes, and the reduction chain that runs through the columns is one SIMD chain
// for both. As the lanes no longer mix a*b with u*m products, a squaring skips
// the symmetric half of its a*a products (HAC 14.16): about 25% fewer products.
// 28-bit digits and lazy reduction as above, but on the unscaled moduli, with
// pairDigits(k) = floor(32k / 28) + 1 digits (R'' = 2^(28 pairDigits) >= 16m): in
// SIMD the chain's two multiplications (u_i = t_i * m0inv, u_i * m_0) cost less
// than the extra digit the scaling needs (measured: 2-3% faster).

const A2: usize = MD_A; // pairs a_j, then zero padding
const U2: usize = MD_A + DIGITS_BYTES; // pairs u_j, then zero padding
const B2: usize = MD_B; // pairs b_l reversed, then zero padding
const M2: usize = MD_B + DIGITS_BYTES; // pairs m'_l reversed, then zero padding
const MP2: usize = MD_MP; // pairs m_j in order
const MINV2: usize = MD_MP + DIGITS_BYTES - 16; // -m^-1 mod 2^28 of p and q (u32 lanes 0, 1)

/** The u32 lanes 0 and 2 (the low halves of two u64 lanes) moved to lanes 0 and 1. */
// @ts-ignore: decorator
@inline
function narrow(x: v128): v128 {
  return v128.shuffle<u32>(x, x, 0, 2, 0, 2);
}

/** Digits of the two-lane kernel's domain for k-limb moduli. */
// @ts-ignore: decorator
@inline
export function pairDigits(k: i32): i32 {
  return (32 * k) / DIGIT_BITS + 1;
}

/** Largest limb count montExp2 takes (pair numbers must fit DIGITS_BYTES with padding). */
export const PAIR_MAX_K: i32 = 64;

/** dst pairs (p's digits in even slots, q's in odd ones) from the L digits at xp and xq. */
function interleave(dst: usize, xp: usize, xq: usize, L: i32): void {
  for (let j = 0; j < L; j++) {
    const o = <usize>j;
    store<u32>(dst + (o << 3), load<u32>(xp + (o << 2)));
    store<u32>(dst + (o << 3), load<u32>(xq + (o << 2)), 4);
  }
}

/** The inverse of interleave. */
function deinterleave(xp: usize, xq: usize, src: usize, L: i32): void {
  for (let j = 0; j < L; j++) {
    const o = <usize>j;
    store<u32>(xp + (o << 2), load<u32>(src + (o << 3)));
    store<u32>(xq + (o << 2), load<u32>(src + (o << 3), 4));
  }
}

/** Prepares M2, MP2 and the paddings for montMul2/montSqr2 with moduli p and q (equal k). */
function pairsBegin(pctx: usize, qctx: usize, L: i32): void {
  interleave(MP2, pctx + CTX_M28, qctx + CTX_M28, L);
  const inv = i32x4.replace_lane(i32x4.splat(load<u32>(pctx + CTX_M0INV) & DIGIT_MASK), 1,
    load<u32>(qctx + CTX_M0INV) & DIGIT_MASK);
  v128.store(MINV2, inv);
  const mTop = M2 + (<usize>(L - 1) << 3);
  for (let l = 0; l < L; l++) store<u64>(mTop - (<usize>l << 3), load<u64>(MP2 + (<usize>l << 3)));
  const pad = <usize>L << 3;
  memory.fill(A2 + pad, 0, 16);
  memory.fill(U2 + pad, 0, 16);
  memory.fill(B2 + pad, 0, 16);
  memory.fill(M2 + pad, 0, 16);
}

/**
 * Column 0 < i < L of montMul2/montSqr2: adds to s (the lane sums of the
 * column's a*b products) the u*m' products of the pairs j < i - 1, from U2:
 * by vector up to an even count, the odd last one (j = i - 2) by one extmul.
 */
// @ts-ignore: decorator
@inline
function reduceColumn2(s: v128, i: i32, mTop: usize): v128 {
  const nu = (i - 1) >> 1;
  s = i64x2.add(s, dotPairs(U2, mTop - (<usize>i << 3), 0, nu));
  if ((i - 1) & 1) {
    s = i64x2.add(s, i64x2.extmul_low_i32x4_u(
      v128.load64_zero(U2 + (<usize>(i - 2) << 3)), v128.load64_zero(MP2, 16)));
  }
  return s;
}

/**
 * montMul2: r = a*b*R'^-1 (mod m'_p, m'_q), each lane below 2m' for inputs below
 * 2m' (pair numbers of L pairs). r may alias a or b. pairsBegin first.
 * Product scanning as montMulD, with the a*b and u*m' dot products apart and one
 * SIMD chain for both moduli: t = column sum + carry + u_(i-1)*m_1,
 * u_i = t * (-m^-1) mod 2^28 (i32x4.mul), carry = (t + u_i*m_0) >> 28. Lane sums stay below 2L * 2^56
 * (< 2^64 for L <= 127). No branch or index depends on a value.
 */
export function montMul2(r: usize, a: usize, b: usize, L: i32): void {
  const bTop = B2 + (<usize>(L - 1) << 3);
  const mTop = M2 + (<usize>(L - 1) << 3);
  memory.copy(A2, a, <usize>L << 3);
  for (let l = 0; l < L; l++) store<u64>(bTop - (<usize>l << 3), load<u64>(b + (<usize>l << 3)));
  const mask = i64x2.splat(DIGIT_MASK);
  const mask32 = i32x4.splat(DIGIT_MASK);
  const m0 = v128.load64_zero(MP2);
  const m1 = v128.load64_zero(MP2, 8);
  const minv = v128.load(MINV2);
  let t = i64x2.extmul_low_i32x4_u(v128.load64_zero(A2), v128.load64_zero(b));
  let uPrev = v128.and(i32x4.mul(narrow(t), minv), mask32);
  let c = i64x2.shr_u(i64x2.add(t, i64x2.extmul_low_i32x4_u(uPrev, m0)), 28);
  v128.store64_lane(U2, uPrev, 0);
  for (let i = 1; i < L; i++) {
    // a_j * b_(i-j), j = 0..i (one pair more when i + 1 is odd: B2's padding)
    let s = dotPairs(A2, bTop - (<usize>i << 3), 0, (i + 2) >> 1);
    s = reduceColumn2(s, i, mTop);
    t = i64x2.add(i64x2.add(s, c), i64x2.extmul_low_i32x4_u(uPrev, m1));
    uPrev = v128.and(i32x4.mul(narrow(t), minv), mask32);
    c = i64x2.shr_u(i64x2.add(t, i64x2.extmul_low_i32x4_u(uPrev, m0)), 28);
    v128.store64_lane(U2 + (<usize>i << 3), uPrev, 0);
  }
  for (let i = L; i < 2 * L - 1; i++) {
    const j0 = i - L + 1;
    const n = (L - j0 + 1) >> 1;
    t = i64x2.add(dotPairs(A2, bTop - (<usize>i << 3), j0, n), dotPairs(U2, mTop - (<usize>i << 3), j0, n));
    t = i64x2.add(t, c);
    v128.store64_lane(r + (<usize>(i - L) << 3), narrow(v128.and(t, mask)), 0);
    c = i64x2.shr_u(t, 28);
  }
  v128.store64_lane(r + (<usize>(L - 1) << 3), narrow(c), 0);
}

/**
 * montSqr2: r = a^2*R'^-1 (mod m'_p, m'_q), as montMul2 with b = a, but each
 * column's a*a dot product runs over j < i - j only (the last odd pair by a
 * single extmul), is doubled, and gets the middle term a_(i/2)^2 when i is
 * even. Branches on the column index only (public). r may alias a.
 */
export function montSqr2(r: usize, a: usize, L: i32): void {
  const aTop = B2 + (<usize>(L - 1) << 3);
  const mTop = M2 + (<usize>(L - 1) << 3);
  memory.copy(A2, a, <usize>L << 3);
  for (let l = 0; l < L; l++) store<u64>(aTop - (<usize>l << 3), load<u64>(a + (<usize>l << 3)));
  const mask = i64x2.splat(DIGIT_MASK);
  const mask32 = i32x4.splat(DIGIT_MASK);
  const m0 = v128.load64_zero(MP2);
  const m1 = v128.load64_zero(MP2, 8);
  const minv = v128.load(MINV2);
  let c = i64x2.splat(0);
  let uPrev = i64x2.splat(0);
  for (let i = 0; i < 2 * L - 1; i++) {
    const lo = i < L ? 0 : i - L + 1;
    const count = ((i + 1) >> 1) - lo; // pairs j in [lo, lo + count): j < i - j
    const col = aTop - (<usize>i << 3);
    let s = dotPairs(A2, col, lo, count >> 1);
    if (count & 1) {
      const j = <usize>(lo + count - 1) << 3;
      s = i64x2.add(s, i64x2.extmul_low_i32x4_u(v128.load64_zero(A2 + j), v128.load64_zero(col + j)));
    }
    s = i64x2.shl(s, 1);
    if ((i & 1) == 0) {
      const d = v128.load64_zero(A2 + (<usize>(i >> 1) << 3));
      s = i64x2.add(s, i64x2.extmul_low_i32x4_u(d, d));
    }
    if (i < L) {
      if (i > 0) s = reduceColumn2(s, i, mTop);
      const t = i64x2.add(i64x2.add(s, c), i64x2.extmul_low_i32x4_u(uPrev, m1));
      uPrev = v128.and(i32x4.mul(narrow(t), minv), mask32);
      c = i64x2.shr_u(i64x2.add(t, i64x2.extmul_low_i32x4_u(uPrev, m0)), 28);
      v128.store64_lane(U2 + (<usize>i << 3), uPrev, 0);
    } else {
      const j0 = i - L + 1;
      s = i64x2.add(s, dotPairs(U2, mTop - (<usize>i << 3), j0, (L - j0 + 1) >> 1));
      const t = i64x2.add(s, c);
      v128.store64_lane(r + (<usize>(i - L) << 3), narrow(v128.and(t, mask)), 0);
      c = i64x2.shr_u(t, 28);
    }
  }
  v128.store64_lane(r + (<usize>(L - 1) << 3), narrow(c), 0);
}

/**
 * Builds the selection masks of the two-lane table scan: entry i is taken in
 * p's slots when i = ip and in q's slots when i = iq.
 */
function selMasks2(ip: u32, iq: u32): void {
  for (let i = 0; i < TABLE_ENTRIES; i++) {
    const mp = ctEqMask(<u32>i, ip), mq = ctEqMask(<u32>i, iq);
    v128.store(MD_SEL + (<usize>i << 4), i32x4.replace_lane(
      i32x4.replace_lane(i32x4.splat(mp), 1, mq), 3, mq));
  }
}

/**
 * rp = bp^ep mod p and rq = bq^eq mod q in Montgomery form (R = 2^(32k) each),
 * for bp < p, bq < q (k limbs; both contexts have k limbs, k <= PAIR_MAX_K) and
 * exponents of k limbs: the constant-time fixed-window exponentiation of
 * montExp for both at once (every window of both exponents, whole table scans).
 * rp may alias bp, rq bq. Uses the table, D(0)..D(7), S(T_X), S(T_Y).
 */
export function montExp2(
  rp: usize, rq: usize, bp: usize, bq: usize, ep: usize, eq: usize, k: i32, pctx: usize,
  qctx: usize,
): void {
  if (ASC_FEATURE_RELAXED_SIMD && k <= N_MAX_K) {
    montExpN2(rp, rq, bp, bq, ep, eq, k, pctx, qctx);
    return;
  }
  const L = pairDigits(k);
  const c1 = D(2), c2 = D(3), acc = D(4), sel = D(5);
  pairsSetup(bp, bq, k, pctx, qctx);
  // table[i] = base^i * R' (per lane)
  const t1 = TABLE + DIGITS_BYTES;
  montMul2(TABLE, c2, c1, L);
  montMul2(t1, acc, c1, L);
  for (let i = 2; i < TABLE_ENTRIES; i++) {
    // even entries by squaring (cheaper), odd ones by one multiplication
    const ti = TABLE + <usize>i * DIGITS_BYTES;
    if (i & 1) montMul2(ti, ti - DIGITS_BYTES, t1, L);
    else montSqr2(ti, TABLE + <usize>(i >> 1) * DIGITS_BYTES, L);
  }
  const vecs = (L + 1) >> 1;
  const nw = (k * 32 + WINDOW - 1) / WINDOW;
  let pos = (nw - 1) * WINDOW;
  selMasks2(windowAt(ep, k, pos), windowAt(eq, k, pos));
  tableScan(acc, vecs);
  for (let w = nw - 2; w >= 0; w--) {
    for (let s = 0; s < WINDOW; s++) montSqr2(acc, acc, L);
    pos = w * WINDOW;
    selMasks2(windowAt(ep, k, pos), windowAt(eq, k, pos));
    tableScan(sel, vecs);
    montMul2(acc, acc, sel, L);
  }
  pairsEnd(rp, rq, k, pctx, qctx);
}

/**
 * The common start of montExp2 and montExpVarTime2: D(2) = the pair of entry
 * constants C1, D(3) = the pair of exit constants C2, D(4) = the pair of bases
 * (bp, bq as digits), and pairsBegin.
 */
function pairsSetup(bp: usize, bq: usize, k: i32, pctx: usize, qctx: usize): void {
  const L = pairDigits(k);
  interleave(D(2), pctx + CTX_C1P, qctx + CTX_C1P, L);
  interleave(D(3), pctx + CTX_C2, qctx + CTX_C2, L);
  limbsToDigits(D(6), bp, k, L);
  limbsToDigits(D(7), bq, k, L);
  interleave(D(4), D(6), D(7), L);
  pairsBegin(pctx, qctx, L);
}

/** The common end: D(4) times C2 (D(3)), split and fully reduced into rp and rq. */
function pairsEnd(rp: usize, rq: usize, k: i32, pctx: usize, qctx: usize): void {
  const L = pairDigits(k);
  montMul2(D(4), D(4), D(3), L);
  deinterleave(D(6), D(7), D(4), L);
  pairDigitsToLimbs(rp, D(6), pctx);
  pairDigitsToLimbs(rq, D(7), qctx);
}

/**
 * r = x mod m as k limbs, for x < 2m given as pairDigits(k) digits: packs x
 * into k + 1 limbs and subtracts m when x >= m (computed always, selected by a
 * mask). Constant time.
 */
function pairDigitsToLimbs(r: usize, x: usize, ctx: usize): void {
  const k = ctxK(ctx);
  const L = pairDigits(k);
  const m = ctx + CTX_M;
  const p = MM_P;
  memory.fill(p, 0, (<usize>k + 3) << 2);
  for (let i = 0; i < L; i++) {
    const bit = i * DIGIT_BITS;
    const at = p + (<usize>(bit >> 5) << 2);
    store<u64>(at, load<u64>(at) | (<u64>load<u32>(x + (<usize>i << 2)) << <u64>(bit & 31)));
  }
  let borrow: u64 = 0;
  for (let j = 0; j < k; j++) {
    const v = <u64>ld(p, j) - <u64>ld(m, j) - borrow;
    st(r, j, <u32>v);
    borrow = v >> 63;
  }
  // keep p when p < m: the subtraction borrowed past limb k (which is 0 or 1)
  const keepP = 0 - (<u32>borrow & ~ld(p, k) & 1);
  for (let j = 0; j < k; j++) st(r, j, (ld(p, j) & keepP) | (ld(r, j) & ~keepP));
}

/**
 * rp = bp^e mod p and rq = bq^e mod q in Montgomery form, for a PUBLIC exponent
 * e (ek limbs): left-to-right square-and-multiply on pair numbers, branching on
 * the bits of e (variable time in e only; constant time in bp, bq, p, q).
 * Preconditions as montExp2. rp may alias bp, rq bq.
 */
export function montExpVarTime2(
  rp: usize, rq: usize, bp: usize, bq: usize, e: usize, ek: i32, k: i32, pctx: usize,
  qctx: usize,
): void {
  const L = pairDigits(k);
  const bits = bnBitLenVarTime(e, ek);
  if (bits == 0) {
    montOne(rp, pctx);
    montOne(rq, qctx);
    return;
  }
  if (ASC_FEATURE_RELAXED_SIMD && k <= N_MAX_K) {
    montExpVarTimeN2(rp, rq, bp, bq, e, ek, bits, k, pctx, qctx);
    return;
  }
  pairsSetup(bp, bq, k, pctx, qctx);
  const acc = D(4), b = D(5);
  montMul2(b, acc, D(2), L);
  memory.copy(acc, b, <usize>L << 3);
  for (let i = bits - 2; i >= 0; i--) {
    montSqr2(acc, acc, L);
    if (((ld(e, i >> 5) >> <u32> (i & 31)) & 1) != 0) montMul2(acc, acc, b, L);
  }
  pairsEnd(rp, rq, k, pctx, qctx);
}

/**
 * Modular inverse modulo the context's odd m, r = x^-1 mod m. Returns 1 on
 * success, 0 if gcd(x, m) != 1.
 * VARIABLE TIME in x: only ever called on a value blinded by a fresh random
 * factor (see rsa.ts), so its timing says nothing about a secret.
 * x < m. Uses D(0)..D(7) (S(17)..S(20) in the fallback). r must not alias x.
 *
 * Algorithm: binary extended GCD on approximations (T. Pornin, "Optimized
 * Binary GCD for Modular Inversion", 2020): each pass runs 30 binary-GCD steps
 * on 62-bit approximations of a and b (their top 32 and low 30 bits), collects
 * them in a 2x2 matrix of signed coefficients |f|, |g| <= 2^30, and applies it
 * once to the full a, b (dividing by 2^30) and to u, v (dividing by 2^30
 * modulo m, a Montgomery step). Invariants: a = u*x, b = v*x (mod m), b odd.
 * The simple bit-serial algorithm finishes the job should a pass bound be
 * exceeded (it never is in the tests; it is the safety net).
 */
export function modInvVarTime(r: usize, x: usize, ctx: usize): u32 {
  const k = ctxK(ctx);
  const m = ctx + CTX_M;
  const m0inv = load<u32>(ctx + CTX_M0INV);
  // a, b, u, v and their next values, swapped by pointer after each pass (k + 2 limbs
  // each: a and b keep a zero limb above, so approximations may read past limb k - 1)
  let a = D(0), b = D(1), u = D(2), v = D(3), na = D(4), nb = D(5), nu = D(6), nv = D(7);
  bnCopy(a, x, k);
  store<u64>(a + (<usize>k << 2), 0);
  bnCopy(b, m, k);
  store<u64>(b + (<usize>k << 2), 0);
  bnSetWord(u, k + 1, 1);
  bnZero(v, k + 1);
  const maxPasses = (64 * k) / 28 + 8;
  for (let pass = 0; pass < maxPasses; pass++) {
    const lenA = bnBitLenVarTime(a, k);
    if (lenA == 0) {
      if (!isWordVarTime(b, k, 1)) return 0;
      bnCopy(r, v, k);
      return 1;
    }
    const lenB = bnBitLenVarTime(b, k);
    const len = lenA > lenB ? lenA : lenB;
    let xa: i64, xb: i64;
    if (len <= 62) {
      xa = load<i64>(a);
      xb = load<i64>(b);
    } else {
      xa = <i64>((topBits32(a, len) << 30) | (<u64>ld(a, 0) & 0x3fffffff));
      xb = <i64>((topBits32(b, len) << 30) | (<u64>ld(b, 0) & 0x3fffffff));
    }
    // 30 binary-GCD steps on the approximations, without branches (the data are
    // blinded, but mispredicted branches cost more than these masks)
    let f0: i64 = 1, g0: i64 = 0, f1: i64 = 0, g1: i64 = 1;
    for (let i = 0; i < 30; i++) {
      const odd = 0 - (xa & 1);
      const swap = odd & ((xa - xb) >> 63); // xa odd and xa < xb (both < 2^62)
      let t = (xa ^ xb) & swap;
      xa ^= t;
      xb ^= t;
      t = (f0 ^ f1) & swap;
      f0 ^= t;
      f1 ^= t;
      t = (g0 ^ g1) & swap;
      g0 ^= t;
      g1 ^= t;
      xa -= xb & odd;
      f0 -= f1 & odd;
      g0 -= g1 & odd;
      xa >>= 1;
      f1 <<= 1;
      g1 <<= 1;
    }
    // (a, b) = ((f0 a + g0 b), (f1 a + g1 b)) / 2^30, made non-negative
    const neg = linComb2VarTime(na, nb, a, b, f0, g0, f1, g1, k);
    if (neg & 1) {
      f0 = -f0;
      g0 = -g0;
    }
    if (neg & 2) {
      f1 = -f1;
      g1 = -g1;
    }
    let t = a;
    a = na;
    na = t;
    t = b;
    b = nb;
    nb = t;
    // (u, v) = ((f0 u + g0 v), (f1 u + g1 v)) / 2^30 mod m
    linCombMod2VarTime(nu, nv, u, v, f0, g0, f1, g1, k, m, m0inv);
    t = u;
    u = nu;
    nu = t;
    t = v;
    v = nv;
    nv = t;
  }
  return modInvBitSerialVarTime(r, x, ctx);
}

/** Bits [len - 32, len) of a (len > 62), as a u64 below 2^32. */
// @ts-ignore: decorator
@inline
function topBits32(a: usize, len: i32): u64 {
  const p = len - 32;
  return (load<u64>(a + (<usize>(p >> 5) << 2)) >> <u64>(p & 31)) & 0xffffffff;
}

/**
 * na = |f0*a + g0*b| / 2^30 and nb = |f1*a + g1*b| / 2^30 for a, b >= 0 (k limbs,
 * the sums divisible by 2^30, |f| + |g| <= 2^30), in one pass; na and nb get k + 2
 * limbs (the top one zero). Returns bit 0 set if the first sum was negative,
 * bit 1 if the second was.
 */
function linComb2VarTime(
  na: usize, nb: usize, a: usize, b: usize, f0: i64, g0: i64, f1: i64, g1: i64, k: i32,
): i32 {
  let c0: i64 = 0, c1: i64 = 0;
  let p0: u32 = 0, p1: u32 = 0;
  for (let j = 0; j < k; j++) {
    const aj = <i64>ld(a, j), bj = <i64>ld(b, j);
    const w0 = f0 * aj + g0 * bj + c0; // |w| < 2^62 + 2^33
    const w1 = f1 * aj + g1 * bj + c1;
    const l0 = <u32>w0, l1 = <u32>w1;
    c0 = w0 >> 32;
    c1 = w1 >> 32;
    if (j > 0) {
      st(na, j - 1, (p0 >> 30) | (l0 << 2));
      st(nb, j - 1, (p1 >> 30) | (l1 << 2));
    }
    p0 = l0;
    p1 = l1;
  }
  st(na, k - 1, (p0 >> 30) | (<u32>c0 << 2));
  st(na, k, <u32>(c0 >> 30));
  st(nb, k - 1, (p1 >> 30) | (<u32>c1 << 2));
  st(nb, k, <u32>(c1 >> 30));
  store<u32>(na + (<usize>(k + 1) << 2), 0);
  store<u32>(nb + (<usize>(k + 1) << 2), 0);
  let neg = 0;
  if (c0 < 0) {
    negateVarTime(na, k + 1);
    neg |= 1;
  }
  if (c1 < 0) {
    negateVarTime(nb, k + 1);
    neg |= 2;
  }
  return neg;
}

/** out = -out (n limbs, two's complement). */
function negateVarTime(out: usize, n: i32): void {
  let c: u64 = 1;
  for (let j = 0; j < n; j++) {
    const s = <u64>(~ld(out, j)) + c;
    st(out, j, <u32>s);
    c = s >> 32;
  }
}

/**
 * nu = (f0*u + g0*v) / 2^30 mod m and nv = (f1*u + g1*v) / 2^30 mod m for u, v in
 * [0, m) (k limbs), |f| + |g| <= 2^30, in one pass: q = w*(-m^-1) mod 2^30 makes
 * w + q*m divisible by 2^30 (|f*u + g*v + q*m| < 2^62 + 2^62 per limb step), the
 * quotient lies in (-2m, 2m) and is brought into [0, m). nu and nv get k + 1
 * limbs (the top one zero).
 */
function linCombMod2VarTime(
  nu: usize, nv: usize, u: usize, v: usize, f0: i64, g0: i64, f1: i64, g1: i64, k: i32,
  m: usize, m0inv: u32,
): void {
  const u0 = <i64>ld(u, 0), v0 = <i64>ld(v, 0);
  const q0 = <i64>((<u32>(f0 * u0 + g0 * v0) * m0inv) & 0x3fffffff);
  const q1 = <i64>((<u32>(f1 * u0 + g1 * v0) * m0inv) & 0x3fffffff);
  let c0: i64 = 0, c1: i64 = 0;
  let p0: u32 = 0, p1: u32 = 0;
  for (let j = 0; j < k; j++) {
    const uj = <i64>ld(u, j), vj = <i64>ld(v, j), mj = <i64>ld(m, j);
    const w0 = f0 * uj + g0 * vj + q0 * mj + c0;
    const w1 = f1 * uj + g1 * vj + q1 * mj + c1;
    const l0 = <u32>w0, l1 = <u32>w1;
    c0 = w0 >> 32;
    c1 = w1 >> 32;
    if (j > 0) {
      st(nu, j - 1, (p0 >> 30) | (l0 << 2));
      st(nv, j - 1, (p1 >> 30) | (l1 << 2));
    }
    p0 = l0;
    p1 = l1;
  }
  st(nu, k - 1, (p0 >> 30) | (<u32>c0 << 2));
  st(nu, k, <u32>(c0 >> 30));
  st(nv, k - 1, (p1 >> 30) | (<u32>c1 << 2));
  st(nv, k, <u32>(c1 >> 30));
  normalizeModVarTime(nu, k, m);
  normalizeModVarTime(nv, k, m);
}

/** a < b (k limbs), comparing from the top limb down (variable time). */
function ltVarTime(a: usize, b: usize, k: i32): bool {
  for (let j = k - 1; j >= 0; j--) {
    const x = ld(a, j), y = ld(b, j);
    if (x != y) return x < y;
  }
  return false;
}

/** Brings x (k + 1 limbs, signed, in (-2m, 2m)) into [0, m); the top limb ends zero. */
function normalizeModVarTime(x: usize, k: i32, m: usize): void {
  while (<i32>ld(x, k) < 0) {
    const carry = bnAdd(x, x, m, k);
    st(x, k, ld(x, k) + carry);
  }
  while (ld(x, k) != 0 || !ltVarTime(x, m, k)) {
    const borrow = bnSub(x, x, m, k);
    st(x, k, ld(x, k) - borrow);
  }
}

/** The bit-serial binary extended Euclid (the safety net of modInvVarTime). Uses S(17)..S(20). */
function modInvBitSerialVarTime(r: usize, x: usize, ctx: usize): u32 {

  const k = ctxK(ctx);
  const m = ctx + CTX_M;
  const m0inv = load<u32>(ctx + CTX_M0INV);
  const u = S(17);
  const v = S(18);
  const x1 = S(19);
  const x2 = S(20);
  bnCopy(u, x, k);
  bnCopy(v, m, k);
  bnSetWord(x1, k, 1);
  bnZero(x2, k);
  // invariants: x1*x = u (mod m), x2*x = v (mod m); v odd after the first pass.
  while (true) {
    if (isWordVarTime(u, k, 1)) {
      bnCopy(r, x1, k);
      return 1;
    }
    if (isWordVarTime(v, k, 1)) {
      bnCopy(r, x2, k);
      return 1;
    }
    if (isWordVarTime(u, k, 0) || isWordVarTime(v, k, 0)) return 0;
    halveAllVarTime(u, x1, k, m, m0inv);
    halveAllVarTime(v, x2, k, m, m0inv);
    if (bnLtMask(u, v, k) == 0) {
      bnSub(u, u, v, k);
      modSubRaw(x1, x2, k, m);
    } else {
      bnSub(v, v, u, k);
      modSubRaw(x2, x1, k, m);
    }
  }
  return 0;
}

function isWordVarTime(a: usize, k: i32, w: u32): bool {
  if (ld(a, 0) != w) return false;
  for (let i = 1; i < k; i++) if (ld(a, i) != 0) return false;
  return true;
}

/** a -= b mod m (a, b < m). */
function modSubRaw(a: usize, b: usize, k: i32, m: usize): void {
  const borrow = bnSub(a, a, b, k);
  bnAddMasked(a, a, m, k, 0 - borrow);
}

/**
 * Strips the trailing zero bits of u (u != 0), t of them at a time (t <= 31),
 * dividing y by 2^t mod m alongside: y = (y + q*m) / 2^t with
 * q = y * (-m^-1) mod 2^t (a Montgomery step). Variable time.
 */
function halveAllVarTime(u: usize, y: usize, k: i32, m: usize, m0inv: u32): void {
  for (;;) {
    const low = ld(u, 0);
    if (low & 1) return;
    const t = low == 0 ? 31 : <i32> ctz<u32>(low);
    const tt = <u32> t;
    // u >>= t
    for (let i = 0; i < k - 1; i++) st(u, i, (ld(u, i) >> tt) | (ld(u, i + 1) << (32 - tt)));
    st(u, k - 1, ld(u, k - 1) >> tt);
    // y = (y + q*m) >> t, q = y * m0inv mod 2^t; y + q*m < 2^t * m + m fits k+1 limbs
    const q = <u64> ((ld(y, 0) * m0inv) & ((<u32> 1 << tt) - 1));
    let c: u64 = 0;
    let prev: u32 = 0;
    for (let i = 0; i < k; i++) {
      const s = <u64> ld(y, i) + q * <u64> ld(m, i) + c;
      c = s >> 32;
      const cur = <u32> s;
      if (i > 0) st(y, i - 1, (prev >> tt) | (cur << (32 - tt)));
      prev = cur;
    }
    st(y, k - 1, (prev >> tt) | (<u32> c << (32 - tt)));
  }
}

/** Number of limbs needed for NUM_BYTES; re-exported for callers. */
export const MAX_K: i32 = <i32> (NUM_BYTES >> 2);

export { bnEqMask, bnSubMasked };
