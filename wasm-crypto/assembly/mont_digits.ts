/**
 * The digit domain: Montgomery multiplication modulo one m on 28-bit digits in
 * SIMD (montMulD), the exponentiations built on it (montExp, montExpVarTime, and
 * montPowPublicVarTime for RSA's public operation), and the exits back to limbs.
 *
 * Exponentiations run in a digit domain built for speed:
 * - Numbers are L digits of 28 bits (one u32 each, little-endian), so a column of
 *   products sums in u64 without carries (see montMulD).
 * - The modulus is scaled: m' = mu*m with mu = -m^-1 mod 2^28, so m' = -1 mod 2^28
 *   ("Montgomery-friendly"): the reduction digit of a column is simply its low 28
 *   bits, and its carry is (t >> 28) + u. That takes two multiplications off the
 *   sequential chain that runs through the columns. Working modulo m' keeps every
 *   congruence modulo m (m divides m'); the result is reduced modulo m at the exit.
 * - Lazy reduction (Walter 1999): R' = 2^(28L) >= 16m' with L = floor(32k / 28) + 2,
 *   so operands below 2m' give a product below 2m' and montMulD never subtracts.
 * Entry: x*R mod m (limb form, R = 2^(32k)) times C1 = R'^2 / R mod m gives a value
 * = x*R' (mod m); exit: times C2 = R mod m gives x*R (mod m), then the reduction to
 * [0, m) (digitsToLimbs).
 *
 * Constant time except the `VarTime` exponentiations, which branch on the bits of
 * their (public) exponent.
 */
import { bnBitLenVarTime, bnCopy, bnSetWord, bnZero, ld, st } from "./bignum";
import { selMasks1, tableScan, windowAt } from "./exp";
import {
  CTX_C1,
  CTX_C2,
  CTX_KD,
  CTX_M,
  CTX_M0INV,
  CTX_M28,
  CTX_MP,
  CTX_RR,
  D,
  DIGIT_BITS,
  DIGITS_BYTES,
  MD_A,
  MD_B,
  MD_MP,
  MM_P,
  S,
  TABLE,
  TABLE_ENTRIES,
  WINDOW,
} from "./layout";
import {
  ctxK,
  DIGIT_MASK,
  DM64,
  dotPairs,
  lazyDigits,
  limbsToDigits,
  montMul,
  montOne,
  pairDigits,
  T_X,
  T_Y,
} from "./montgomery";

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
export function montPowPublicVarTime(
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
 * dst = C3 = R'^2 mod m as L digits (the entry constant of montPowPublicVarTime), from the
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
// 28-bit digits and lazy reduction as in mont_digits.ts, but on the unscaled moduli, with
// pairDigits(k) = floor(32k / 28) + 1 digits (R'' = 2^(28 pairDigits) >= 16m): in
// SIMD the chain's two multiplications (u_i = t_i * m0inv, u_i * m_0) cost less
// than the extra digit the scaling needs (measured: 2-3% faster).

const A2: usize = MD_A; // pairs a_j, then zero padding
const U2: usize = MD_A + DIGITS_BYTES; // pairs u_j, then zero padding
const B2: usize = MD_B; // pairs b_l reversed, then zero padding
const M2: usize = MD_B + DIGITS_BYTES; // pairs m'_l reversed, then zero padding
const MP2: usize = MD_MP; // pairs m_j in order
const MINV2: usize = MD_MP + DIGITS_BYTES - 16; // -m^-1 mod 2^28 of p and q (u32 lanes 0, 1)

/**
 * r = x mod m as k limbs, for x < 2m given as pairDigits(k) digits: packs x
 * into k + 1 limbs and subtracts m when x >= m (computed always, selected by a
 * mask). Constant time.
 */
export function pairDigitsToLimbs(r: usize, x: usize, ctx: usize): void {
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
