/**
 * Modular inversion for RSA's blinding (rsa.ts): x^-1 mod m by Pornin's binary
 * extended GCD on approximations, with the bit-serial binary extended Euclid as
 * its safety net.
 *
 * VARIABLE TIME in x (every function here ends in `VarTime`): it is only ever
 * given x = r*b mod n for fresh random r and b, which is uniform and independent
 * of the key and of r (BoringSSL's approach), so its timing reveals no secret.
 */
import {
  bnAdd,
  bnAddMasked,
  bnBitLenVarTime,
  bnCopy,
  bnLtMask,
  bnSetWord,
  bnSub,
  bnZero,
  ld,
  st,
} from "./bignum";
import { CTX_M, CTX_M0INV, D, S } from "./layout";
import { ctxK } from "./montgomery";

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
      xa = <i64>((topBits32VarTime(a, len) << 30) | (<u64>ld(a, 0) & 0x3fffffff));
      xb = <i64>((topBits32VarTime(b, len) << 30) | (<u64>ld(b, 0) & 0x3fffffff));
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

/**
 * Bits [len - 32, len) of a (len > 62), as a u64 below 2^32. Variable time: the limb
 * it reads depends on len, the bit length of a blinded value.
 */
// @ts-ignore: decorator
@inline
function topBits32VarTime(a: usize, len: i32): u64 {
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
