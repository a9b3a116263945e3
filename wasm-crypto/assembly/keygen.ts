/**
 * RSA key generation (FIPS 186-5 B.3.3, probable primes; e = 65537): random
 * candidates with the top two bits set, trial division by the small primes,
 * gcd(p - 1, e) = 1, Miller-Rabin, |p - q| and d checks, then
 * d = e^-1 mod lcm(p - 1, q - 1), dP, dQ and qInv into a key slot (rsa.ts).
 * As Go's crypto/rsa keeps keygen.go apart from the operations.
 *
 * Timing: a rejected candidate may exit early (kgCandidateVarTime,
 * millerRabinVarTime): it is thrown away and the next one is fresh randomness.
 * For the accepted primes every step runs in full; the one leak is the number of
 * Miller-Rabin squarings, the 2-adic valuation of p - 1 (as in BoringSSL).
 * kgFinish is constant time in p and q (its one branch rejects the whole key).
 */
import {
  bnAddWord,
  bnBitLenVarTime,
  bnCondSwap,
  bnCopy,
  bnDivMod,
  bnEqMask,
  bnFromBytes,
  bnLtMask,
  bnMul,
  bnMulWord,
  bnSelect,
  bnSetWord,
  bnShl1,
  bnShr1,
  bnSub,
  bnSubMasked,
  bnSubWord,
  bnZero,
  ld,
  st,
} from "./bignum";
import {
  CTX_K,
  CTX_M,
  CTX_SIZE,
  CTX_TMP1,
  CTX_TMP2,
  IO_BASE,
  KG_LANE0,
  KG_LANE1,
  KG_P,
  KG_Q,
  NUM_BYTES,
  S,
  SCRATCH_BASE,
  SMALL_PRIME_COUNT,
  SMALL_PRIMES,
} from "./layout";
import { fromMont, modSub, montOne, montSetupVarTime, montSqr, toMont } from "./montgomery";
import { modExp } from "./mont_fma1";
import { montExpN2 } from "./mont_fma";
import { __res128_hi, __umulq64 } from "as-bignum/assembly/globals";
import {
  IO_IN,
  IO_RAND,
  KG_RETRY,
  OK,
  SLOT_BITS,
  SLOT_CTX_N,
  SLOT_CTX_P,
  SLOT_CTX_Q,
  SLOT_D,
  SLOT_DP,
  SLOT_DQ,
  SLOT_E,
  SLOT_ELEN,
  SLOT_KE,
  SLOT_NBYTES,
  SLOT_QINV,
  SLOT_SIZE,
  wipeScratch,
} from "./rsa";

/** Fills the small-prime table: the first SMALL_PRIME_COUNT odd primes. */
export function initSmallPrimes(): void {
  // sieve of Eratosthenes over odd numbers < 2^15 * 2, using scratch as the bitmap
  const limit: u32 = 20000;
  const sieve = SCRATCH_BASE;
  memory.fill(sieve, 0, limit);
  let count = 0;
  for (let i: u32 = 3; i < limit && count < SMALL_PRIME_COUNT; i += 2) {
    if (load<u8>(sieve + i) != 0) continue;
    store<u16>(SMALL_PRIMES + (<usize> count << 1), <u16> i);
    count++;
    for (let j: u32 = i * i; j < limit; j += 2 * i) store<u8>(sieve + j, 1);
  }
  memory.fill(sieve, 0, limit);
}

/** mu = floor(2^64 / d) for odd d > 1, the Barrett constant of {@link modSmall} (d public). */
// @ts-ignore: decorator
@inline
function barrettMu(d: u32): u64 {
  return 0xffffffffffffffff / <u64> d; // 2^64 / d is not an integer, so this is its floor
}

/**
 * x mod d for odd 1 < d < 2^30 (x of k limbs), by Barrett reduction of one limb
 * at a time with mu = barrettMu(d): constant time in x.
 * Step: v = r * 2^32 + x_i < d * 2^32; q = floor(v * mu / 2^64), the high half of
 * as-bignum's branch-free 64x64 -> 128-bit product (__umulq64, high half in
 * __res128_hi), satisfies floor(v/d) - 1 <= q <= floor(v/d), so v - q*d < 2d and
 * one masked subtraction leaves r < d. Clears __res128_hi (a wasm global, which no
 * memory wipe reaches) before it returns.
 */
function modSmall(x: usize, k: i32, d: u32, mu: u64): u32 {
  let r: u32 = 0;
  for (let i = k - 1; i >= 0; i--) {
    const v = (<u64> r << 32) | <u64> ld(x, i);
    __umulq64(v, mu);
    const q = __res128_hi;
    r = <u32> (v - q * <u64> d); // < 2d
    r -= d & ctNonZeroMaskGe(r, d);
  }
  __res128_hi = 0; // the library's out-parameter holds a quotient of x: wiped like scratch
  return r;
}

/**
 * r mod d for r < 2^30 and odd 1 < d < 2^15 (d public), constant time in r: q =
 * floor(r * floor(2^32 / d) / 2^32) is floor(r/d) or one less, so r - q*d < 2d and one
 * masked subtraction leaves the remainder.
 */
// @ts-ignore: decorator
@inline
function modWord(r: u32, d: u32): u32 {
  const mu = <u64> (0xffffffff / d); // floor(2^32 / d): 2^32 / d is not an integer
  let x = r - <u32> ((<u64> r * mu) >> 32) * d; // < 2d
  x -= d & ctNonZeroMaskGe(x, d);
  return x;
}

/** Mask: all ones if a >= b (a, b < 2^31). */
// @ts-ignore: decorator
@inline
function ctNonZeroMaskGe(a: u32, b: u32): u32 {
  return ~(0 - ((a - b) >> 31));
}

/**
 * Tests one prime candidate for key generation.
 * In: bits/2/8 random bytes at IO_IN (the candidate), rounds * that many at
 * IO_RAND (Miller-Rabin bases). `which` 0 stores into KG_P, 1 into KG_Q (then
 * |p - q| > 2^(bits/2 - 100) is also required). Returns 1 if the candidate is a
 * probable prime meeting FIPS 186-5 B.3.3's conditions (top two bits set so
 * that p >= sqrt(2) * 2^(bits/2 - 1); gcd(p - 1, e) = 1 for e = 65537), else 0.
 *
 * Timing: a rejected candidate may exit early (it is thrown away and the next
 * one is fresh randomness, not derived from it). For the accepted candidate
 * every step runs in full; the one leak is the number of Miller-Rabin squarings,
 * which is the 2-adic valuation of p - 1 (as in BoringSSL).
 */
export function kgCandidateVarTime(which: i32, bits: i32, rounds: i32): i32 {
  const half = bits >> 1;
  const kp = half >> 5;
  const bytes = half >> 3;
  const w = which == 0 ? KG_P : KG_Q;
  bnFromBytes(w, kp, IO_IN, bytes);
  memory.fill(IO_IN, 0, <usize> bytes);
  st(w, kp - 1, ld(w, kp - 1) | 0xc0000000);
  st(w, 0, ld(w, 0) | 1);
  let ok = true;
  // trial division (early exit only on a candidate that is thrown away)
  for (let i = 0; i < SMALL_PRIME_COUNT; i++) {
    const d = <u32> load<u16>(SMALL_PRIMES + (<usize> i << 1));
    if (modSmall(w, kp, d, barrettMu(d)) == 0) {
      ok = false;
      break;
    }
  }
  // gcd(w - 1, 65537) = 1, i.e. w mod 65537 != 1
  if (ok && modSmall(w, kp, 65537, barrettMu(65537)) == 1) ok = false;
  if (ok && which == 1 && !farApart(KG_P, KG_Q, kp)) ok = false;
  if (ok && !millerRabinVarTime(w, kp, rounds, bytes)) ok = false;
  memory.fill(IO_RAND, 0, <usize> (rounds * bytes));
  wipeScratch();
  if (!ok) {
    bnZero(w, kp);
    return 0;
  }
  return 1;
}

/*
 * Two candidates at once (relaxed build only: index_relaxed.ts exports these, the
 * baseline build keeps kgCandidateVarTime). Each lane holds one candidate that passed
 * trial division (kgSieveVarTime); one kgRound2VarTime runs a Miller-Rabin round on
 * both in the two-lane FMA kernel (montExpN2, the constant-time exponentiation of
 * signing's CRT halves); the host counts the rounds per lane, refills a lane whose
 * candidate failed with the next fresh one, and moves a candidate that passed all its
 * rounds into KG_P or KG_Q (kgAcceptVarTime). The lanes live in the upper halves of
 * KG_P and KG_Q (layout.ts), which kg_abort and kg_finish wipe.
 * Timing as kgCandidateVarTime: rejected candidates may exit early; for an accepted
 * one every round runs in full, and the one leak is its number of squarings after
 * the exponentiation, the 2-adic valuation of p - 1. The other lane's candidate is
 * independent fresh randomness.
 */

/**
 * A fresh candidate for `lane` (0, 1): bits/2/8 random bytes at IO_IN (wiped) with the
 * top two bits and the low bit set; trial division by the small primes and gcd(w - 1, e)
 * = 1 as in kgCandidateVarTime (the same candidates pass), with the primes taken two at
 * a time (a helper shared with kgCandidateVarTime changed the baseline build's bytes,
 * which this keeps as they were). Returns 1 if it passed (it stays in its lane), else 0
 * (the lane is zeroed). Touches no scratch: modSmall and modWord work in locals.
 */
export function kgSieveVarTime(lane: i32, bits: i32): i32 {
  const half = bits >> 1;
  const kp = half >> 5;
  const bytes = half >> 3;
  const w = lane == 0 ? KG_LANE0 : KG_LANE1;
  bnFromBytes(w, kp, IO_IN, bytes);
  memory.fill(IO_IN, 0, <usize> bytes);
  st(w, kp - 1, ld(w, kp - 1) | 0xc0000000);
  st(w, 0, ld(w, 0) | 1);
  let ok = true;
  // two primes per pass: r = w mod d0*d1 (< 2^29, so modSmall's d < 2^30 holds), then r
  // mod d0 and r mod d1 in one word each; one pass over the limbs instead of two
  for (let i = 0; i < SMALL_PRIME_COUNT; i += 2) {
    const d0 = <u32> load<u16>(SMALL_PRIMES + (<usize> i << 1));
    const d1 = <u32> load<u16>(SMALL_PRIMES + (<usize> (i + 1) << 1));
    const r = modSmall(w, kp, d0 * d1, barrettMu(d0 * d1));
    if ((modWord(r, d0) == 0) | (modWord(r, d1) == 0)) {
      ok = false;
      break;
    }
  }
  if (ok && modSmall(w, kp, 65537, barrettMu(65537)) == 1) ok = false;
  if (!ok) {
    bnZero(w, kp);
    return 0;
  }
  return 1;
}

/**
 * One Miller-Rabin round (FIPS 186-5 B.3.1) on each lane's candidate, the two
 * exponentiations b^m mod w side by side in montExpN2 (each exponent m, the odd part of
 * w - 1, over all 32k bits: leading zeros cost what ones cost), then each lane's own
 * squarings. Bases: bits/2/8 random bytes per lane at IO_RAND (lane 0) and IO_RAND +
 * bytes (lane 1), wiped; uniform in [2, 2^(32k - 2)) as in millerRabinVarTime.
 * Returns bit 0 set if lane 0's candidate passed the round, bit 1 for lane 1; a lane
 * that failed is zeroed. Wipes scratch (the contexts CTX_TMP1, CTX_TMP2 lie in it).
 */
export function kgRound2VarTime(bits: i32): i32 {
  const half = bits >> 1;
  const k = half >> 5;
  const bytes = half >> 3;
  const c0 = CTX_TMP1, c1 = CTX_TMP2;
  const m0 = S(0), m1 = S(1), z0 = S(2), z1 = S(3);
  const a0 = laneSetupVarTime(c0, m0, z0, KG_LANE0, k, IO_RAND, bytes);
  const a1 = laneSetupVarTime(c1, m1, z1, KG_LANE1, k, IO_RAND + <usize> bytes, bytes);
  montExpN2(z0, z1, z0, z1, m0, m1, k, c0, c1);
  let pass = 0;
  if (laneVerdictVarTime(z0, a0, c0, k)) pass |= 1;
  if (laneVerdictVarTime(z1, a1, c1, k)) pass |= 2;
  memory.fill(IO_RAND, 0, <usize> (2 * bytes));
  wipeScratch();
  if ((pass & 1) == 0) bnZero(KG_LANE0, k);
  if ((pass & 2) == 0) bnZero(KG_LANE1, k);
  return pass;
}

/**
 * A lane's set-up: the Montgomery context of w in ctx, m with w - 1 = 2^a * m (returns
 * a), and the base (from `rand`) in Montgomery form in z.
 */
function laneSetupVarTime(ctx: usize, m: usize, z: usize, w: usize, k: i32, rand: usize, bytes: i32): i32 {
  store<i32>(ctx + CTX_K, k);
  bnCopy(ctx + CTX_M, w, k);
  montSetupVarTime(ctx);
  bnSubWord(m, w, k, 1);
  // a is the one quantity this test leaks (see kgCandidateVarTime)
  let a = 0;
  while ((ld(m, 0) & 1) == 0) {
    bnShr1(m, m, k, 0);
    a++;
  }
  bnFromBytes(z, k, rand, bytes);
  st(z, k - 1, ld(z, k - 1) & 0x3fffffff);
  if (bnBitLenVarTime(z, k) < 2) bnSetWord(z, k, 2); // b <= 1: chance 2^-(32k-3)
  toMont(z, z, ctx);
  return a;
}

/** z = b^m (Montgomery form): whether z = 1, or z^(2^j) = w - 1 for some 0 <= j < a. */
function laneVerdictVarTime(z: usize, a: i32, ctx: usize, k: i32): bool {
  const one = S(4), minus1 = S(5);
  montOne(one, ctx);
  bnZero(minus1, k);
  modSub(minus1, minus1, one, ctx); // (w - 1) * R mod w
  let ok = bnEqMask(z, one, k) | bnEqMask(z, minus1, k);
  for (let j = 1; j < a; j++) {
    montSqr(z, z, ctx);
    ok |= bnEqMask(z, minus1, k);
  }
  return ok != 0;
}

/**
 * Moves the candidate of `lane`, which passed all its rounds, into KG_P (which 0) or
 * KG_Q (which 1; then |p - q| > 2^(bits/2 - 100) is also required). Returns 1, or 0 if
 * that check failed (the candidate is wiped). The lane is zeroed either way.
 */
export function kgAcceptVarTime(lane: i32, which: i32, bits: i32): i32 {
  const k = bits >> 6;
  const src = lane == 0 ? KG_LANE0 : KG_LANE1;
  const dst = which == 0 ? KG_P : KG_Q;
  bnCopy(dst, src, k);
  bnZero(src, k);
  let ok = true;
  if (which == 1 && !farApart(KG_P, KG_Q, k)) ok = false;
  wipeScratch();
  if (!ok) {
    bnZero(dst, k);
    return 0;
  }
  return 1;
}

/** |p - q| > 2^(32k - 100) (FIPS 186-5 B.3.3 step 5.4), without branching on p or q. */
function farApart(p: usize, q: usize, k: i32): bool {
  const d1 = S(0), d2 = S(1);
  const borrow = bnSub(d1, p, q, k);
  bnSub(d2, q, p, k);
  bnSelect(d1, d2, d1, k, 0 - borrow);
  const bit = 32 * k - 100;
  let acc: u32 = ld(d1, bit >> 5) >> <u32> (bit & 31);
  for (let i = (bit >> 5) + 1; i < k; i++) acc |= ld(d1, i);
  return acc != 0;
}

/**
 * Miller-Rabin (FIPS 186-5 B.3.1) on odd w (k limbs) with bases from IO_RAND.
 * Variable time in w: the loop that writes w - 1 = 2^a * m runs a times (the one
 * leak of an accepted prime, see kgCandidateVarTime), a base below 2 is replaced,
 * and the test stops at the first witness (the candidate is then thrown away).
 * The exponentiations themselves are constant time.
 */
function millerRabinVarTime(w: usize, k: i32, rounds: i32, bytes: i32): bool {
  const ctx = CTX_TMP1;
  store<i32>(ctx + CTX_K, k);
  bnCopy(ctx + CTX_M, w, k);
  montSetupVarTime(ctx);
  const wm1 = S(0), m = S(1), one = S(2), minus1 = S(3), b = S(4), z = S(5);
  bnSubWord(wm1, w, k, 1);
  // w - 1 = 2^a * m; a is the one quantity this test leaks (see kgCandidateVarTime)
  let a = 0;
  bnCopy(m, wm1, k);
  while ((ld(m, 0) & 1) == 0) {
    bnShr1(m, m, k, 0);
    a++;
  }
  montOne(one, ctx);
  bnZero(minus1, k);
  modSub(minus1, minus1, one, ctx); // (w - 1) * R mod w
  let pass = true;
  for (let r = 0; r < rounds; r++) {
    // base b uniform in [2, 2^(32k - 2)), below w since w has its top two bits set
    bnFromBytes(b, k, IO_RAND + <usize> (r * bytes), bytes);
    st(b, k - 1, ld(b, k - 1) & 0x3fffffff);
    if (bnBitLenVarTime(b, k) < 2) bnSetWord(b, k, 2); // b <= 1: chance 2^-(32k-3)
    toMont(z, b, ctx);
    modExp(z, z, m, k, ctx);
    let ok = bnEqMask(z, one, k) | bnEqMask(z, minus1, k);
    for (let j = 1; j < a; j++) {
      montSqr(z, z, ctx);
      ok |= bnEqMask(z, minus1, k);
    }
    if (ok == 0) {
      pass = false; // composite: the candidate is thrown away
      break;
    }
  }
  memory.fill(ctx, 0, CTX_SIZE);
  return pass;
}

/**
 * Completes key generation from the primes in KG_P and KG_Q (bits/2 bits each)
 * with e = 65537: n = p*q, lambda = lcm(p-1, q-1), d = e^-1 mod lambda, dP, dQ,
 * qInv, into `slot`. Returns OK, or KG_RETRY when d <= 2^(bits/2) (FIPS 186-5
 * B.3.1 criterion 3; the host then draws new primes). Constant time in p and q.
 * Wipes KG_P, KG_Q and scratch.
 */
export function kgFinish(slot: usize, bits: i32): i32 {
  const kp = bits >> 6;
  const kn = 2 * kp;
  const e: u32 = 65537;
  const p = KG_P, q = KG_Q;
  const n = S(0), pm1 = S(1), qm1 = S(2), g = S(3), quo = S(4), rem = S(5), rr = S(6), bb = S(7);
  const lam = S(8), x = S(9), d = S(10);
  bnMul(n, p, kp, q, kp);
  bnSubWord(pm1, p, kp, 1);
  bnSubWord(qm1, q, kp, 1);
  gcd(g, pm1, qm1, kp);
  // lambda = ((p - 1) / g) * (q - 1)
  bnDivMod(quo, rem, pm1, kp, g, kp, rr, bb);
  bnMul(lam, quo, kp, qm1, kp);
  // t = lambda^-1 mod e by Fermat (e prime), in a one-limb Montgomery context
  const ectx = CTX_TMP2;
  store<i32>(ectx + CTX_K, 1);
  store<u32>(ectx + CTX_M, e);
  montSetupVarTime(ectx);
  const tw = S(11);
  bnSetWord(tw, 1, modSmall(lam, kn, e, barrettMu(e)));
  toMont(tw, tw, ectx);
  const em2 = S(12 + 7); // a free temporary
  bnSetWord(em2, 1, e - 2);
  modExp(tw, tw, em2, 1, ectx);
  fromMont(tw, tw, ectx);
  const t = ld(tw, 0);
  // d = (1 + lambda * (e - t)) / e, an exact division: e * d = 1 mod lambda, d < lambda
  st(x, kn, bnMulWord(x, lam, kn, e - t));
  bnAddWord(x, x, kn + 1, 1);
  exactDivWord(d, x, kn + 1, e);
  // FIPS 186-5: d > 2^(nlen/2)
  let hi: u32 = 0;
  for (let i = kp; i < kn; i++) hi |= ld(d, i);
  if (hi == 0) {
    wipeKg(kp);
    return KG_RETRY;
  }
  // slot
  memory.fill(slot, 0, SLOT_SIZE);
  const ctxN = slot + SLOT_CTX_N, ctxP = slot + SLOT_CTX_P, ctxQ = slot + SLOT_CTX_Q;
  store<i32>(ctxN + CTX_K, kn);
  bnCopy(ctxN + CTX_M, n, kn);
  store<i32>(ctxP + CTX_K, kp);
  bnCopy(ctxP + CTX_M, p, kp);
  store<i32>(ctxQ + CTX_K, kp);
  bnCopy(ctxQ + CTX_M, q, kp);
  montSetupVarTime(ctxN);
  montSetupVarTime(ctxP);
  montSetupVarTime(ctxQ);
  store<i32>(slot + SLOT_BITS, bits);
  store<i32>(slot + SLOT_NBYTES, bits >> 3);
  store<i32>(slot + SLOT_KE, 1);
  store<i32>(slot + SLOT_ELEN, 3);
  st(slot + SLOT_E, 0, e);
  bnCopy(slot + SLOT_D, d, kn);
  bnDivMod(0, slot + SLOT_DP, d, kn, pm1, kp, rr, bb);
  bnDivMod(0, slot + SLOT_DQ, d, kn, qm1, kp, rr, bb);
  // qInv = q^(p-2) mod p (p prime); q < R so toMont's precondition holds
  const pm2 = S(11);
  bnSubWord(pm2, p, kp, 2);
  toMont(x, q, ctxP);
  modExp(x, x, pm2, kp, ctxP);
  fromMont(slot + SLOT_QINV, x, ctxP);
  wipeKg(kp);
  return OK;
}

/** Wipes the primes and the contexts of key generation. */
export function kgAbort(): void {
  wipeKg(0);
  memory.fill(IO_BASE, 0, 8192);
}

function wipeKg(kp: i32): void {
  memory.fill(KG_P, 0, NUM_BYTES);
  memory.fill(KG_Q, 0, NUM_BYTES);
  memory.fill(CTX_TMP2, 0, CTX_SIZE);
  wipeScratch();
}

/** q = x / w for x (L limbs) known to be a multiple of the odd word w (Hensel / exact division). */
function exactDivWord(q: usize, x: usize, L: i32, w: u32): void {
  let inv = w;
  for (let i = 0; i < 4; i++) inv = inv * (2 - w * inv); // w^-1 mod 2^32
  let borrow: u64 = 0;
  for (let i = 0; i < L; i++) {
    const diff = <u64> ld(x, i) - borrow;
    const t = <u32> diff;
    const qi = t * inv;
    st(q, i, qi);
    borrow = ((<u64> qi * <u64> w) >> 32) + (diff >> 63);
  }
}

/**
 * g = gcd(a, b) for a, b > 0 (k limbs), constant time: common factors of two
 * are stripped with masked shifts over all 32k bit positions, then a binary
 * GCD with an odd x runs 64k + 1 iterations (x*y at least halves in each),
 * and the factors of two are put back with masked shifts.
 */
function gcd(g: usize, a: usize, b: usize, k: i32): void {
  const x = S(21), y = S(22), tmp = S(23);
  bnCopy(x, a, k);
  bnCopy(y, b, k);
  let shift: u32 = 0;
  let counting: u32 = 0xffffffff;
  for (let i = 0; i < 32 * k; i++) {
    const bothEven = 0 - (~(ld(x, 0) | ld(y, 0)) & 1);
    const mask = bothEven & counting;
    bnShr1(tmp, x, k, 0);
    bnSelect(x, tmp, x, k, mask);
    bnShr1(tmp, y, k, 0);
    bnSelect(y, tmp, y, k, mask);
    shift += mask & 1;
    counting &= bothEven;
  }
  // make x odd (one of them is)
  bnCondSwap(x, y, k, 0 - (~ld(x, 0) & 1));
  for (let i = 0; i < 64 * k + 1; i++) {
    const yOdd = 0 - (ld(y, 0) & 1);
    const lt = bnLtMask(y, x, k) & yOdd;
    bnCondSwap(x, y, k, lt);
    bnSubMasked(y, y, x, k, yOdd);
    bnShr1(y, y, k, 0);
  }
  for (let i: u32 = 0; i < <u32> (32 * k); i++) {
    const mask = 0 - ((i - shift) >> 31); // i < shift
    bnShl1(tmp, x, k);
    bnSelect(x, tmp, x, k, mask);
  }
  bnCopy(g, x, k);
}
