/**
 * Two moduli at once: Montgomery multiplication and exponentiation modulo p and q
 * side by side in the SIMD lanes (RSA's CRT halves, mont_digits.ts's digits).
 *
 * RSA's CRT exponentiations modulo p and modulo q are independent and, for the
 * usual balanced primes, of one size. montExp2 runs them side by side: a "pair
 * number" holds p's digit j in u32 slot 2j and q's in slot 2j + 1, so one
 * i64x2.extmul of the pairs j, j + 1 gives both moduli's products in its two
 * lanes, and the reduction chain that runs through the columns is one SIMD chain
 * for both. As the lanes no longer mix a*b with u*m products, a squaring skips
 * the symmetric half of its a*a products (HAC 14.16): about 25% fewer products.
 * 28-bit digits and lazy reduction as in mont_digits.ts, but on the unscaled moduli, with
 * pairDigits(k) = floor(32k / 28) + 1 digits (R'' = 2^(28 pairDigits) >= 16m): in
 * SIMD the chain's two multiplications (u_i = t_i * m0inv, u_i * m_0) cost less
 * than the extra digit the scaling needs (measured: 2-3% faster).
 *
 * In the relaxed build montExp2 and montExpVarTime2 hand moduli of up to
 * N_MAX_K limbs to mont_fma.ts. Constant time except montExpVarTime2, which
 * branches on the bits of its (public) exponent.
 */
import { bnBitLenVarTime, ld } from "./bignum";
import { selMasks2, tableScan, windowAt } from "./exp";
import {
  CTX_C1P,
  CTX_C2,
  CTX_M0INV,
  CTX_M28,
  D,
  DIGITS_BYTES,
  MD_A,
  MD_B,
  MD_MP,
  TABLE,
  TABLE_ENTRIES,
  WINDOW,
} from "./layout";
import { DIGIT_MASK, dotPairs, limbsToDigits, montOne, N_MAX_K, pairDigits } from "./montgomery";
import { pairDigitsToLimbs } from "./mont_digits";
import { montExpN2, montExpVarTimeN2 } from "./mont_fma";

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
