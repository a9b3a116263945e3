/**
 * One modulus in fused multiply-adds (the RELAXED build only, moduli of up to
 * N_MAX_K limbs): the exponentiations by a PUBLIC exponent that run modulo a single
 * m — RSA's public operation (verify, OAEP encryption), privateGeneral's r^e, the
 * modPowVarTime control — on mont_fma.ts's exact 51-bit products, where the baseline
 * build (and larger moduli) use mont_digits.ts's 28-bit integer kernel. Secret
 * exponents stay on the integer kernel (modExp). The dispatchers modExp,
 * modExpVarTime and modPowPublic pick the kernel; their callers do not know which ran.
 *
 * Layout of montMulN1 (the integer kernel montMulD's, in f64): the pairs [a_j, u_j]
 * against the pairs [b_l, m'_l] (reversed), so one pair of fused multiply-adds gives
 * a_j*b_(i-j) in lane 0 and u_j*m'_(i-j) in lane 1: a column of L pairs is L vector
 * products (42 at RSA-2048, against 75 extmul pairs of 28-bit digits). Modulus scaled
 * as in mont_fma.ts (m' = mu*m = -1 mod 2^51, so u_i = t mod 2^51 and the carry is
 * (t >> 51) + u_i; m'_0 is stored as 0 so that the pair j = i adds a_i*b_0 only), L =
 * nDigits(k), R'' = 2^(51L) >= 16m': operands below 2m' give a product below 2m'.
 * The lanes are summed at the end of each column and the chain runs in scalar i64
 * (an arithmetic shift is one instruction there).
 *
 * Constant time as mont_fma.ts: no value is subnormal, loop bounds and branches depend
 * on L and the column index only; the VarTime exponentiations branch on the bits of
 * their public exponent only.
 */
import { bnBitLenVarTime, bnCopy, bnSelect, bnSetWord, bnSub, bnZero } from "./bignum";
import { CTX_C1P, CTX_M, CTX_RR, D, DIGITS_BYTES, MD_A, MD_B, S } from "./layout";
import { montExp, montExpVarTime, montPowPublicVarTime, publicEntryConstant } from "./mont_digits";
import {
  BITS_HI,
  BITS_LO,
  DMASK,
  FK,
  fmaConstants,
  fmaHi,
  fmaLo,
  fromDigitsF,
  K_HI,
  K_LO,
  scaledModulusF,
  toDigitsF,
} from "./mont_fma";
import {
  ctxK,
  FMA_DIGIT_BITS,
  fromMont,
  modAdd,
  montMul,
  montOne,
  N_MAX_K,
  nDigits,
  reduceWide,
  T_X,
  T_Y,
  toMont,
} from "./montgomery";

const W: i32 = FMA_DIGIT_BITS;
const AU: usize = MD_A + DIGITS_BYTES; // pairs [a_j, u_j] (FK holds the constants below)
const BM: usize = MD_B; // pairs [b_l, m'_l], l from L - 1 down to 0; m'_0 stored as 0

/** FK's constants and m' of ctx into BM's odd lanes (reversed, m'_0 = 0). Constant time. */
function setupN1(ctx: usize, L: i32): void {
  fmaConstants();
  const tmp = D(0);
  scaledModulusF(ctx, L, tmp, 8);
  const top = BM + (<usize>(L - 1) << 4);
  store<f64>(top, 0.0, 8);
  for (let l = 1; l < L; l++) store<f64>(top - (<usize>l << 4), load<f64>(tmp + (<usize>l << 3)), 8);
}

/**
 * montMulN1: r = a*b*R''^-1 (mod m'), below 2m' for a, b below 2m' (L f64 digits
 * each, 8 bytes apart). r may alias a or b (both are copied in first). setupN1 first.
 * Product scanning: column i sums the pairs j = max(0, i - L + 1) .. min(i, L - 1);
 * columns below L end with u_i, the others with the result digit r_(i-L). Two
 * columns per turn: their common pairs in one loop, each [a_j, u_j] loaded once for
 * both (and each [b_l, m'_l] once for two pairs), so one loop exit per two columns;
 * column i + 1's pair j = i waits for u_i and takes it from the register.
 */
export function montMulN1(r: usize, a: usize, b: usize, L: i32): void {
  const bTop = BM + (<usize>(L - 1) << 4);
  for (let j = 0; j < L; j++) {
    const o = <usize>j;
    // [a_j, 0]: the u lane is written before it is read, except at j = i (times m'_0 = 0)
    v128.store(AU + (o << 4), f64x2.replace_lane(f64x2.splat(0.0), 0, load<f64>(a + (o << 3))));
    store<f64>(bTop - (o << 4), load<f64>(b + (o << 3)));
  }
  const kHi = v128.load(FK, K_HI), kLo = v128.load(FK, K_LO);
  let c: i64 = 0, hiPrev: i64 = 0;
  const last = 2 * L - 2;
  // two columns per turn, i and i + 1, over their common pairs with one load of [a_j, u_j]
  for (let i = 0; i <= last; i += 2) {
    const lo0 = i < L ? 0 : i - L + 1; // column i: pairs lo0 .. hi0
    const lo1 = i + 1 < L ? 0 : i - L + 2; // column i + 1: pairs lo1 .. hi1
    const hi0 = i < L ? i : L - 1;
    // the common pairs lo1 .. cEnd - 1 (j = i is column i + 1's only after u_i is known)
    const cEnd = i < L ? i : L;
    let pa = AU + (<usize>lo1 << 4), pb = bTop - (<usize>(i - lo1) << 4);
    const end = AU + (<usize>cEnd << 4);
    let loA = i64x2.splat(0), hiA = i64x2.splat(0), loB = i64x2.splat(0), hiB = i64x2.splat(0);
    // two pairs per turn: [a_j, u_j] and [a_(j+1), u_(j+1)] against three b pairs
    while (pa + 16 < end) {
      const x = v128.load(pa), x2 = v128.load(pa, 16);
      const y1 = v128.load(pb - 16), y = v128.load(pb), y2 = v128.load(pb, 16);
      const h = fmaHi(x, y, kHi), h1 = fmaHi(x, y1, kHi);
      const g = fmaHi(x2, y2, kHi), g1 = fmaHi(x2, y, kHi);
      hiA = i64x2.add(hiA, h);
      loA = i64x2.add(loA, fmaLo(x, y, h, kLo));
      hiB = i64x2.add(hiB, h1);
      loB = i64x2.add(loB, fmaLo(x, y1, h1, kLo));
      hiA = i64x2.add(hiA, g);
      loA = i64x2.add(loA, fmaLo(x2, y2, g, kLo));
      hiB = i64x2.add(hiB, g1);
      loB = i64x2.add(loB, fmaLo(x2, y, g1, kLo));
      pa += 32;
      pb += 32;
    }
    if (pa < end) {
      const x = v128.load(pa), y = v128.load(pb), y1 = v128.load(pb - 16);
      const h = fmaHi(x, y, kHi), h1 = fmaHi(x, y1, kHi);
      hiA = i64x2.add(hiA, h);
      loA = i64x2.add(loA, fmaLo(x, y, h, kLo));
      hiB = i64x2.add(hiB, h1);
      loB = i64x2.add(loB, fmaLo(x, y1, h1, kLo));
    }
    let nA = cEnd - lo1, nB = nA;
    if (lo0 < lo1) {
      // column i's lowest pair (i >= L - 1)
      const x = v128.load(AU + (<usize>lo0 << 4)), y = v128.load(bTop - (<usize>(i - lo0) << 4));
      const h = fmaHi(x, y, kHi);
      hiA = i64x2.add(hiA, h);
      loA = i64x2.add(loA, fmaLo(x, y, h, kLo));
      nA++;
    }
    if (i < L) {
      // column i's pair j = i: [a_i, -] against [b_0, m'_0 = 0]
      const x = v128.load(AU + (<usize>i << 4)), y = v128.load(bTop);
      const h = fmaHi(x, y, kHi);
      hiA = i64x2.add(hiA, h);
      loA = i64x2.add(loA, fmaLo(x, y, h, kLo));
      nA++;
    }
    {
      const n2 = <i64>nA << 1;
      const t = i64x2.extract_lane(loA, 0) + i64x2.extract_lane(loA, 1) - n2 * BITS_LO + hiPrev + c;
      hiPrev = i64x2.extract_lane(hiA, 0) + i64x2.extract_lane(hiA, 1) - n2 * BITS_HI;
      const d = t & <i64>DMASK;
      if (i < L) {
        c = (t >> W) + d;
        const at = AU + (<usize>i << 4);
        const au = f64x2.replace_lane(v128.load(at), 1, <f64>d);
        v128.store(at, au);
        if (i + 1 <= last) {
          // column i + 1's pair j = i, [a_i, u_i] from the register
          const y = v128.load(bTop - 16), h = fmaHi(au, y, kHi);
          hiB = i64x2.add(hiB, h);
          loB = i64x2.add(loB, fmaLo(au, y, h, kLo));
          nB++;
        }
      } else {
        store<f64>(r + (<usize>(i - L) << 3), <f64>d);
        c = t >> W;
      }
    }
    if (i + 1 > last) break;
    if (i + 1 < L) {
      // column i + 1's pair j = i + 1: [a_(i+1), -] against [b_0, m'_0 = 0]
      const x = v128.load(AU + (<usize>(i + 1) << 4)), y = v128.load(bTop);
      const h = fmaHi(x, y, kHi);
      hiB = i64x2.add(hiB, h);
      loB = i64x2.add(loB, fmaLo(x, y, h, kLo));
      nB++;
    }
    {
      const n2 = <i64>nB << 1;
      const t = i64x2.extract_lane(loB, 0) + i64x2.extract_lane(loB, 1) - n2 * BITS_LO + hiPrev + c;
      hiPrev = i64x2.extract_lane(hiB, 0) + i64x2.extract_lane(hiB, 1) - n2 * BITS_HI;
      const d = t & <i64>DMASK;
      if (i + 1 < L) {
        c = (t >> W) + d;
        const at = AU + (<usize>(i + 1) << 4);
        v128.store(at, f64x2.replace_lane(v128.load(at), 1, <f64>d));
      } else {
        store<f64>(r + (<usize>(i + 1 - L) << 3), <f64>d);
        c = t >> W;
      }
    }
  }
  store<f64>(r + (<usize>(L - 1) << 3), <f64>(hiPrev + c));
}

/**
 * The exit: acc (x*R'', digits) times 1 gives x below 2m'; reduceWide brings it into
 * Montgomery limb form modulo m (r = x*R mod m, k limbs). Constant time.
 */
function endN1(r: usize, acc: usize, ctx: usize, L: i32): void {
  const one = D(3);
  memory.fill(one, 0, <usize>L << 3);
  store<f64>(one, 1.0);
  montMulN1(acc, acc, one, L);
  const nl = (W * L + 31) / 32 + 1;
  // not S(T_Y): reduceWide's modAdd writes it while later chunks of x are still unread
  const x = D(6);
  fromDigitsF(x, acc, 8, L, nl);
  reduceWide(r, x, nl, ctx);
}

/**
 * montExpVarTime in the single-lane FMA kernel (square-and-multiply, branching on the
 * bits of the PUBLIC exponent only). r may alias base. Uses D(0)..D(4), D(6), S(T_X), S(T_Y).
 */
function montExpVarTimeN1(r: usize, base: usize, exp: usize, expK: i32, ctx: usize): void {
  const k = ctxK(ctx);
  const L = nDigits(k);
  const bits = bnBitLenVarTime(exp, expK);
  if (bits == 0) {
    montOne(r, ctx);
    return;
  }
  const c1 = D(2), acc = D(4), b = D(1);
  setupN1(ctx, L);
  toDigitsF(c1, 8, ctx + CTX_C1P, k, L);
  toDigitsF(acc, 8, base, k, L);
  montMulN1(b, acc, c1, L);
  sqrMulVarTimeN1(acc, b, exp, bits, L, b);
  endN1(r, acc, ctx, L);
}

/**
 * acc = b^exp (digits, b = x*R'' gives x^exp*R''): left to right over the PUBLIC exp's
 * bits. With last != b, the multiplication of bit 0 (if any) takes last instead of b:
 * last = x (plain digits) then gives x^exp itself, below 2m' — the exit's
 * multiplication by 1 folded into it. Returns whether that happened.
 */
function sqrMulVarTimeN1(acc: usize, b: usize, exp: usize, bits: i32, L: i32, last: usize): bool {
  memory.copy(acc, b, <usize>L << 3);
  let folded = false;
  for (let i = bits - 2; i >= 0; i--) {
    montMulN1(acc, acc, acc, L);
    if (((load<u32>(exp + (<usize>(i >> 5) << 2)) >> <u32>(i & 31)) & 1) != 0) {
      montMulN1(acc, acc, i == 0 ? last : b, L);
      folded = i == 0;
    }
  }
  return folded;
}

// The dispatchers test ASC_FEATURE_RELAXED_SIMD in the `if` itself: asc drops the branch
// (and never compiles the relaxed kernel) in the baseline build only when written so.

/**
 * montExp (constant time, SECRET exponents: modPow, key generation, privateGeneral):
 * the integer kernel in both builds. A constant-time fixed-window montExpN1 on this
 * kernel was 0.65-0.72x of it, but dudect's secret-exponent target flagged it in 3 of
 * 4 runs paired with the integer kernel's (which passed all 3): docs/wasm-crypto.md,
 * "Techniques tried" (issue 20). Kept here as the one place to change that.
 */
export function modExp(r: usize, base: usize, exp: usize, expK: i32, ctx: usize): void {
  montExp(r, base, exp, expK, ctx);
}

/** montExpVarTime (public exponents only) in the kernel that fits. */
export function modExpVarTime(r: usize, base: usize, exp: usize, expK: i32, ctx: usize): void {
  if (ASC_FEATURE_RELAXED_SIMD && ctxK(ctx) <= N_MAX_K) montExpVarTimeN1(r, base, exp, expK, ctx);
  else montExpVarTime(r, base, exp, expK, ctx);
}

/**
 * The public operation's entry constant of ctx into dst (the host keeps it with the
 * key, layout.ts PUB_C3): in the FMA kernel C3N = R''^2 mod m as L f64 digits
 * (C1N * RR * R^-1), else mont_digits.ts's C3. Constant time.
 */
export function publicEntry(dst: usize, ctx: usize): void {
  const k = ctxK(ctx);
  if (ASC_FEATURE_RELAXED_SIMD && k <= N_MAX_K) {
    const y = S(T_X);
    montMul(y, ctx + CTX_C1P, ctx + CTX_RR, ctx);
    toDigitsF(dst, 8, y, k, nDigits(k));
  } else {
    publicEntryConstant(dst, ctx);
  }
}

/**
 * The public operation's exit: r = y mod m (plain, k limbs) from acc = y*R'' (digits),
 * for an m of exactly 32k bits with nl <= 2k (RSA-2048's n): acc times 1 is y' < 2m'
 * = lo + hi*R with lo < 2^(32k) < 2m (acc is y' already when plain), so y = (lo - m if lo >= m) + hi*R mod m: one limb
 * montMul (hi * RR) and two masked subtractions, where endN1 + fromMont take five
 * montMuls. Constant time.
 */
function publicExitN1(r: usize, acc: usize, ctx: usize, L: i32, nl: i32, plain: bool): void {
  const k = ctxK(ctx);
  if (!plain) {
    const one = D(3);
    memory.fill(one, 0, <usize>L << 3);
    store<f64>(one, 1.0);
    montMulN1(acc, acc, one, L);
  }
  const x = D(6), h = S(T_X);
  fromDigitsF(x, acc, 8, L, nl);
  bnZero(h, k);
  bnCopy(h, x + (<usize>k << 2), nl - k);
  montMul(h, h, ctx + CTX_RR, ctx); // hi * R mod m
  const borrow = bnSub(r, x, ctx + CTX_M, k);
  bnSelect(r, x, r, k, 0 - borrow); // lo when lo < m, else lo - m
  modAdd(r, r, h, ctx);
}

/**
 * montPowPublicVarTime (plain x < m in, plain x^exp mod m out, exp public) in the
 * kernel that fits; c3 is publicEntry's constant. Constant time in x. r may alias x.
 */
export function modPowPublic(
  r: usize, x: usize, exp: usize, expK: i32, ctx: usize, c3: usize,
): void {
  const k = ctxK(ctx);
  if (!ASC_FEATURE_RELAXED_SIMD || k > N_MAX_K) {
    montPowPublicVarTime(r, x, exp, expK, ctx, c3);
    return;
  }
  if (bnBitLenVarTime(exp, expK) == 0) {
    bnSetWord(r, k, 1);
    return;
  }
  const L = nDigits(k);
  const nl = (W * L + 31) / 32 + 1;
  if (nl > 2 * k || bnBitLenVarTime(ctx + CTX_M, k) != 32 * k) {
    // the general exit (never for RSA-2048's n, the one modulus that gets here)
    toMont(r, x, ctx);
    montExpVarTimeN1(r, r, exp, expK, ctx);
    fromMont(r, r, ctx);
    return;
  }
  const acc = D(4), b = D(1), xd = D(3); // xd: x's digits, kept for the last multiplication
  setupN1(ctx, L);
  toDigitsF(xd, 8, x, k, L);
  montMulN1(b, xd, c3, L); // x * R''^2 / R'' = x * R''
  const plain = sqrMulVarTimeN1(acc, b, exp, bnBitLenVarTime(exp, expK), L, xd);
  publicExitN1(r, acc, ctx, L, nl, plain);
}
