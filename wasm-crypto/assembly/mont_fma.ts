/**
 * The two-lane exponentiation of RSA's CRT halves (montExp2, montExpVarTime2) in
 * fused multiply-adds: the RELAXED build of the core only (`--enable relaxed-simd`,
 * `build/roamsign-relaxed.wasm`; the host uses it where the engine validates relaxed
 * SIMD and `relaxed_ok()` finds the multiply-add fused, the baseline build otherwise).
 *
 * Representation: a "pair number" holds the digits of a number modulo p in the f64
 * lane 0 and of one modulo q in lane 1 of each v128; digits of W = 51 bits, exact
 * integers in f64. Modulus scaled as in montMulD: m' = mu*m with mu = -m^-1 mod 2^51,
 * so m' = -1 mod 2^51 and a column's reduction digit is its low 51 bits
 * ("Montgomery-friendly"). L = nDigits(k) digits with R'' = 2^(51L) >= 16m', so
 * operands below 2m' give a product below 2m' (lazy reduction, Walter 1999).
 *
 * Exact products (after Emmart and Weems, "Faster Modular Exponentiation Using Double
 * Precision Floating Point Arithmetic on the GPU", 2018): for digits x, y < 2^51,
 * h = fma(x, y, 2^103) lies in [2^103, 2^104), where the ulp is 2^51, so the mantissa
 * of h is the high digit round(xy / 2^51); l = fma(x, y, (2^103 + 1.5 * 2^52) - h)
 * = xy - (h - 2^103) + 1.5 * 2^52 lies in [2^52, 2^53), so its mantissa is the signed
 * low digit + 2^51. Both are added as raw bit patterns in i64 lanes (mod 2^64) and the
 * exponent and bias bits are subtracted once per column (the count is public); the
 * high digit goes to the next column. A column holds at most 4L such terms below 2^52
 * plus the carry: below 2^60.
 *
 * Constant time: floating-point multiply-adds, adds and conversions of normal numbers
 * and zero take data-independent time on the CPUs this targets; no value here is
 * subnormal (digits are integers, h >= 2^103, l >= 2^52). Loop bounds and branches
 * depend on k, L and the column index only; the table scan reads every entry.
 */
import { bnCopy, bnZero, ld, st } from "./bignum";
import { selMasksN, tableScan, windowAt } from "./exp";
import {
  CTX_C1P,
  CTX_M,
  CTX_M0INV,
  D,
  DIGITS_BYTES,
  MD_A,
  MD_B,
  MM_P,
  S,
  TABLE,
  TABLE_ENTRIES,
  WINDOW,
} from "./layout";
import { ctxK, FMA_DIGIT_BITS, montOne, nDigits, reduceWide } from "./montgomery";

/** Digit width of the relaxed kernel. */
const W: i32 = FMA_DIGIT_BITS;
export const DMASK: u64 = (<u64>1 << 51) - 1;
const C_HI: f64 = 10141204801825835211973625643008.0; // 2^103
const C_LO: f64 = 10141204801825835211973625643008.0 + 6755399441055744.0; // 2^103 + 1.5 * 2^52, exact
const TWO52: f64 = 4503599627370496.0;
export const BITS_HI: i64 = 0x4660000000000000; // bits of 2^103
export const BITS_LO: i64 = 0x4330000000000000 + 0x0008000000000000; // bits of 2^52, plus the bias 2^51
const BIAS: i64 = <i64>1 << 58; // keeps a column sum positive (|low halves| < 4L * 2^50 <= 2^58)

// Kernel buffers (the integer kernels' regions; montExpN2 never runs beside them).
// FK holds the kernel's v128 constants, stored by pairsSetupN: V8 materialises a
// v128.const afresh at each use inside a loop (a load from the constant pool, vmovq,
// vpunpcklqdq), while a loaded value stays in a register or costs one load.
export const FK: usize = MD_A;
export const K_HI: usize = 0, K_LO: usize = 16;
const K_MASK: usize = 32, K_BITS_LO: usize = 48;
const K_BITS_HI: usize = 64, K_BIAS_W: usize = 80, K_TWO52: usize = 96;
const FU: usize = MD_A + DIGITS_BYTES; // the reduction digits u, L pairs
const FM: usize = MD_B + DIGITS_BYTES; // m' reversed, L pairs

/**
 * Whether f64x2.relaxed_madd is fused on this engine (1) or not (0): (2^52 + 1)^2 -
 * (2^104 + 2^53) is 1 exactly, 0 when the product is rounded first. The operand is
 * read from memory so that the compiler cannot fold the answer. Leaves IO unchanged.
 */
export function fmaFused(io: usize): i32 {
  const saved = load<f64>(io);
  store<f64>(io, 4503599627370497.0); // 2^52 + 1
  const a = f64x2.splat(load<f64>(io));
  store<f64>(io, saved);
  const r = f64x2.relaxed_madd(a, a, f64x2.splat(-20282409603651679430146505998336.0));
  return f64x2.extract_lane(r, 0) == 1.0 && f64x2.extract_lane(r, 1) == 1.0 ? 1 : 0;
}

/** The raw high half of x*y (a float in [2^103, 2^104)). */
// @ts-ignore: decorator
@inline
export function fmaHi(x: v128, y: v128, kHi: v128): v128 {
  return f64x2.relaxed_madd(x, y, kHi);
}

/** The raw low half of x*y, given h = fmaHi(x, y) (a float in [2^52, 2^53)). */
// @ts-ignore: decorator
@inline
export function fmaLo(x: v128, y: v128, h: v128, kLo: v128): v128 {
  return f64x2.relaxed_madd(x, y, f64x2.sub(kLo, h));
}

/** An i64x2 of integers below 2^52 as f64x2 (exact: or-ing into 2^52's bits). */
// @ts-ignore: decorator
@inline
function toF(u: v128): v128 {
  const two52 = v128.load(FK, K_TWO52); // its bits are 0x4330000000000000
  return f64x2.sub(v128.or(u, two52), two52);
}

/**
 * montMulN: r = a*b*R''^-1 (mod m'_p, m'_q) per lane, each lane below 2m' for inputs
 * below 2m' (pair numbers of L digits). r may alias a or b. pairsBeginN first. Product
 * scanning (FIPS, Koc, Acar, Kaliski 1996): column i runs its a*b products and the u*m'
 * products of j < i - 1 in one loop while both last, then the longer stream's rest; u_(i-1)*m'_1 joins on the chain: t = column + carry,
 * u_i = t mod 2^51, carry = (t >> 51) + u_i (m'_0 = 2^51 - 1). a and b are read in
 * place (b from the top down): column i >= L reads digits of index > i - L only, after
 * which r_(i-L) is written, so aliasing needs no copies.
 */
export function montMulN(r: usize, a: usize, b: usize, L: i32): void {
  const mTop = FM + (<usize>(L - 1) << 4);
  const kHi = v128.load(FK, K_HI), kLo = v128.load(FK, K_LO);
  const m1 = v128.load(mTop - 16);
  let c = i64x2.splat(0), hiPrev = i64x2.splat(0), uPrev = f64x2.splat(0);
  for (let i = 0; i < 2 * L - 1; i++) {
    const jlo = i < L ? 0 : i - L + 1;
    const na = (i < L ? i + 1 : L) - jlo;
    const juHi = i < L ? i - 1 : L;
    const nu = juHi > jlo ? juHi - jlo : 0;
    let pa = a + (<usize>jlo << 4), pb = b + (<usize>(i - jlo) << 4);
    let pu = FU + (<usize>jlo << 4), pm = mTop - (<usize>(i - jlo) << 4);
    let loA = i64x2.splat(0), hiA = i64x2.splat(0), loU = i64x2.splat(0), hiU = i64x2.splat(0);
    const endJ = pa + (<usize>(na < nu ? na : nu) << 4);
    while (pa < endJ) {
      const x = v128.load(pa), y = v128.load(pb), h = fmaHi(x, y, kHi);
      hiA = i64x2.add(hiA, h);
      loA = i64x2.add(loA, fmaLo(x, y, h, kLo));
      const x2 = v128.load(pu), y2 = v128.load(pm), h2 = fmaHi(x2, y2, kHi);
      hiU = i64x2.add(hiU, h2);
      loU = i64x2.add(loU, fmaLo(x2, y2, h2, kLo));
      pa += 16;
      pb -= 16;
      pu += 16;
      pm += 16;
    }
    for (const endA = a + (<usize>(jlo + na) << 4); pa < endA; pa += 16, pb -= 16) {
      const x = v128.load(pa), y = v128.load(pb), h = fmaHi(x, y, kHi);
      hiA = i64x2.add(hiA, h);
      loA = i64x2.add(loA, fmaLo(x, y, h, kLo));
    }
    for (const endU = FU + (<usize>(jlo + nu) << 4); pu < endU; pu += 16, pm += 16) {
      const x = v128.load(pu), y = v128.load(pm), h = fmaHi(x, y, kHi);
      hiU = i64x2.add(hiU, h);
      loU = i64x2.add(loU, fmaLo(x, y, h, kLo));
    }
    const count = na + nu;
    // t carries + 2^58 (a multiple of 2^51, above any negative sum of low halves), so
    // its shifts can be logical: the carry takes 2^7 back off
    const cLo = i64x2.splat(<i64>count * BITS_LO - BIAS), cHi = i64x2.splat(<i64>count * BITS_HI);
    let t = i64x2.add(i64x2.add(i64x2.sub(i64x2.add(loA, loU), cLo), hiPrev), c);
    hiPrev = i64x2.sub(i64x2.add(hiA, hiU), cHi);
    if (i < L) {
      if (i > 0) {
        const h = fmaHi(uPrev, m1, kHi);
        t = i64x2.add(t, i64x2.sub(fmaLo(uPrev, m1, h, kLo), v128.load(FK, K_BITS_LO)));
        hiPrev = i64x2.add(hiPrev, i64x2.sub(h, v128.load(FK, K_BITS_HI)));
      }
      const u = v128.and(t, v128.load(FK, K_MASK));
      c = i64x2.add(i64x2.sub(i64x2.shr_u(t, W), v128.load(FK, K_BIAS_W)), u);
      uPrev = toF(u);
      v128.store(FU + (<usize>i << 4), uPrev);
    } else {
      v128.store(r + (<usize>(i - L) << 4), toF(v128.and(t, v128.load(FK, K_MASK))));
      c = i64x2.sub(i64x2.shr_u(t, W), v128.load(FK, K_BIAS_W));
    }
  }
  v128.store(r + (<usize>(L - 1) << 4), toF(i64x2.add(hiPrev, c)));
}

/**
 * montSqrN: r = a^2*R''^-1 per lane, bounds as montMulN's; a column's a*a products are
 * the pairs j < i - j, doubled, and the middle term. Its chain step (the column's sum to
 * u_i and the carry) is montMulN's, written out again: it updates three locals that
 * AssemblyScript cannot return from an inlined helper without a round trip through
 * memory in the kernel's innermost path. A column has about half as
 * many a*a pairs (j < i - j) as u*m' products, so its main loop runs one a*a pair and
 * two u*m' products per turn, and at most one of each is left over: one loop of
 * about i/2 turns per column instead of two.
 */
export function montSqrN(r: usize, a: usize, L: i32): void {
  const mTop = FM + (<usize>(L - 1) << 4);
  const kHi = v128.load(FK, K_HI), kLo = v128.load(FK, K_LO);
  const m1 = v128.load(mTop - 16);
  let c = i64x2.splat(0), hiPrev = i64x2.splat(0), uPrev = f64x2.splat(0);
  for (let i = 0; i < 2 * L - 1; i++) {
    const jlo = i < L ? 0 : i - L + 1;
    const na = ((i + 1) >> 1) - jlo;
    const juHi = i < L ? i - 1 : L;
    const nu = juHi > jlo ? juHi - jlo : 0;
    const turns = na < (nu >> 1) ? na : nu >> 1;
    let pa = a + (<usize>jlo << 4), pb = a + (<usize>(i - jlo) << 4);
    let pu = FU + (<usize>jlo << 4), pm = mTop - (<usize>(i - jlo) << 4);
    let loA = i64x2.splat(0), hiA = i64x2.splat(0), loU = i64x2.splat(0), hiU = i64x2.splat(0);
    const endJ = pa + (<usize>turns << 4);
    while (pa < endJ) {
      const x = v128.load(pa), y = v128.load(pb), h = fmaHi(x, y, kHi);
      hiA = i64x2.add(hiA, h);
      loA = i64x2.add(loA, fmaLo(x, y, h, kLo));
      const x2 = v128.load(pu), y2 = v128.load(pm), h2 = fmaHi(x2, y2, kHi);
      const x3 = v128.load(pu, 16), y3 = v128.load(pm, 16), h3 = fmaHi(x3, y3, kHi);
      hiU = i64x2.add(hiU, i64x2.add(h2, h3));
      loU = i64x2.add(loU, i64x2.add(fmaLo(x2, y2, h2, kLo), fmaLo(x3, y3, h3, kLo)));
      pa += 16;
      pb -= 16;
      pu += 32;
      pm += 32;
    }
    for (const endA = a + (<usize>(jlo + na) << 4); pa < endA; pa += 16, pb -= 16) {
      const x = v128.load(pa), y = v128.load(pb), h = fmaHi(x, y, kHi);
      hiA = i64x2.add(hiA, h);
      loA = i64x2.add(loA, fmaLo(x, y, h, kLo));
    }
    for (const endU = FU + (<usize>(jlo + nu) << 4); pu < endU; pu += 16, pm += 16) {
      const x = v128.load(pu), y = v128.load(pm), h = fmaHi(x, y, kHi);
      hiU = i64x2.add(hiU, h);
      loU = i64x2.add(loU, fmaLo(x, y, h, kLo));
    }
    loA = i64x2.shl(loA, 1);
    hiA = i64x2.shl(hiA, 1);
    let count = 2 * na + nu;
    if ((i & 1) == 0) {
      const d = v128.load(a + (<usize>(i >> 1) << 4)), h = fmaHi(d, d, kHi);
      hiA = i64x2.add(hiA, h);
      loA = i64x2.add(loA, fmaLo(d, d, h, kLo));
      count++;
    }
    const cLo = i64x2.splat(<i64>count * BITS_LO - BIAS), cHi = i64x2.splat(<i64>count * BITS_HI);
    let t = i64x2.add(i64x2.add(i64x2.sub(i64x2.add(loA, loU), cLo), hiPrev), c);
    hiPrev = i64x2.sub(i64x2.add(hiA, hiU), cHi);
    if (i < L) {
      if (i > 0) {
        const h = fmaHi(uPrev, m1, kHi);
        t = i64x2.add(t, i64x2.sub(fmaLo(uPrev, m1, h, kLo), v128.load(FK, K_BITS_LO)));
        hiPrev = i64x2.add(hiPrev, i64x2.sub(h, v128.load(FK, K_BITS_HI)));
      }
      const u = v128.and(t, v128.load(FK, K_MASK));
      c = i64x2.add(i64x2.sub(i64x2.shr_u(t, W), v128.load(FK, K_BIAS_W)), u);
      uPrev = toF(u);
      v128.store(FU + (<usize>i << 4), uPrev);
    } else {
      v128.store(r + (<usize>(i - L) << 4), toF(v128.and(t, v128.load(FK, K_MASK))));
      c = i64x2.sub(i64x2.shr_u(t, W), v128.load(FK, K_BIAS_W));
    }
  }
  v128.store(r + (<usize>(L - 1) << 4), toF(i64x2.add(hiPrev, c)));
}

/**
 * Lane `lane` (0: p, 1: q) of the pair number dst (L digits) from the k-limb number
 * at src (< 2^(32k)). Constant time.
 */
function toDigitsN(dst: usize, lane: i32, src: usize, k: i32, L: i32): void {
  toDigitsF(dst + (<usize>lane << 3), 16, src, k, L);
}

/** The L digits of the k-limb number at src (< 2^(32k)) as f64, `stride` bytes apart at dst. Constant time. */
export function toDigitsF(dst: usize, stride: usize, src: usize, k: i32, L: i32): void {
  const pad = MM_P; // k + 4 limbs, the last four zero
  bnCopy(pad, src, k);
  memory.fill(pad + (<usize>k << 2), 0, 16);
  for (let i = 0; i < L; i++) {
    const bit = i * W;
    const at = pad + (<usize>(bit >> 5) << 2);
    const sh = <u64>(bit & 31);
    // bits [bit, bit + 51) span three limbs; (x << 1) << (63 - sh) is 0 for sh = 0
    const v = (load<u64>(at) >> sh) | ((<u64>load<u32>(at, 8) << 1) << (63 - sh));
    store<f64>(dst + <usize>i * stride, <f64><i64>(v & DMASK));
  }
}

/**
 * The inverse for a value below 2^(51L): lane `lane` of the pair number x into
 * limbs at r (nl = ceil(51L / 32) + 1 limbs). Constant time.
 */
function fromDigitsN(r: usize, x: usize, lane: i32, L: i32, nl: i32): void {
  fromDigitsF(r, x + (<usize>lane << 3), 16, L, nl);
}

/** The inverse of toDigitsF for a value below 2^(51L): into nl = ceil(51L / 32) + 1 limbs at r. */
export function fromDigitsF(r: usize, x: usize, stride: usize, L: i32, nl: i32): void {
  bnZero(r, nl + 2);
  for (let i = 0; i < L; i++) {
    const bit = i * W;
    const at = r + (<usize>(bit >> 5) << 2);
    const sh = <u64>(bit & 31);
    const d = <u64><i64>load<f64>(x + <usize>i * stride);
    store<u64>(at, load<u64>(at) | (d << sh));
    store<u32>(at, load<u32>(at, 8) | <u32>((d >> 1) >> (63 - sh)), 8);
  }
}

/**
 * m' = mu*m (mu = -m^-1 mod 2^51) of the context, as lane `lane` of FM (reversed).
 * mu from m0inv = -m^-1 mod 2^32 by one Newton step to 64 bits. Constant time.
 */
function scaledModulusN(ctx: usize, lane: i32, L: i32): void {
  const tmp = D(0);
  scaledModulusF(ctx, L, tmp + (<usize>lane << 3), 16);
  const mTop = FM + (<usize>(L - 1) << 4);
  for (let l = 0; l < L; l++) {
    store<f64>(mTop - (<usize>l << 4) + (<usize>lane << 3), load<f64>(tmp + (<usize>l << 4) + (<usize>lane << 3)));
  }
}

/** m' = mu*m of the context (mu = -m^-1 mod 2^51) as L f64 digits, `stride` bytes apart at dst. Constant time. */
export function scaledModulusF(ctx: usize, L: i32, dst: usize, stride: usize): void {
  const k = ctxK(ctx);
  const m = ctx + CTX_M;
  const inv32 = <u64>(0 - load<u32>(ctx + CTX_M0INV)); // m^-1 mod 2^32
  const inv64 = inv32 * (2 - load<u64>(m) * inv32); // m^-1 mod 2^64
  const mu = (0 - inv64) & DMASK;
  const muLo = mu & 0xffffffff, muHi = mu >> 32;
  // mp = m * mu (k + 2 limbs) = m * muLo + (m * muHi) << 32
  const mp = S(14);
  let c: u64 = 0;
  for (let j = 0; j < k; j++) {
    const v = <u64>ld(m, j) * muLo + c; // < 2^64
    st(mp, j, <u32>v);
    c = v >> 32;
  }
  st(mp, k, <u32>c);
  c = 0;
  for (let j = 0; j < k; j++) {
    const v = <u64>ld(mp, j + 1) + <u64>ld(m, j) * muHi + c; // < 2^52
    st(mp, j + 1, <u32>v);
    c = v >> 32;
  }
  st(mp, k + 1, <u32>c);
  toDigitsF(dst, stride, mp, k + 2, L);
}

/**
 * Common start: FK = the kernel's constants; FM = (m'_p, m'_q) reversed; D(2) = the
 * entry constants (C1N_p, C1N_q), D(4) = the bases (bp, bq) as digits, D(3) = the pair
 * number 1 (the exit factor).
 */
function pairsSetupN(bp: usize, bq: usize, k: i32, pctx: usize, qctx: usize, L: i32): void {
  fmaConstants();
  scaledModulusN(pctx, 0, L);
  scaledModulusN(qctx, 1, L);
  toDigitsN(D(2), 0, pctx + CTX_C1P, k, L);
  toDigitsN(D(2), 1, qctx + CTX_C1P, k, L);
  toDigitsN(D(4), 0, bp, k, L);
  toDigitsN(D(4), 1, bq, k, L);
  memory.fill(D(3), 0, <usize>L << 4);
  v128.store(D(3), f64x2.splat(1.0));
}

/** The kernels' v128 constants into FK (see FK). */
export function fmaConstants(): void {
  v128.store(FK, f64x2.splat(C_HI), K_HI);
  v128.store(FK, f64x2.splat(C_LO), K_LO);
  v128.store(FK, i64x2.splat(<i64>DMASK), K_MASK);
  v128.store(FK, i64x2.splat(BITS_LO), K_BITS_LO);
  v128.store(FK, i64x2.splat(BITS_HI), K_BITS_HI);
  v128.store(FK, i64x2.splat(BIAS >> W), K_BIAS_W);
  v128.store(FK, f64x2.splat(TWO52), K_TWO52);
}

/**
 * Common end: acc * 1 * R''^-1 = the plain value (< 2m') per lane, then into
 * Montgomery limb form modulo p and q by reduceWide (constant time).
 */
function pairsEndN(rp: usize, rq: usize, acc: usize, k: i32, pctx: usize, qctx: usize, L: i32): void {
  montMulN(acc, acc, D(3), L);
  const nl = (W * L + 31) / 32 + 1;
  const x = S(14);
  fromDigitsN(x, acc, 0, L, nl);
  reduceWide(rp, x, nl, pctx);
  fromDigitsN(x, acc, 1, L, nl);
  reduceWide(rq, x, nl, qctx);
}

/**
 * rp = bp^ep mod p and rq = bq^eq mod q in Montgomery form (R = 2^(32k)), for bp < p,
 * bq < q (k limbs, k <= N_MAX_K) and exponents of k limbs: montExp2's constant-time
 * fixed-window exponentiation (every window of both exponents, whole table scans) in
 * the relaxed kernel. rp may alias bp, rq bq. Uses the table, D(0)..D(5), S(14).
 */
export function montExpN2(
  rp: usize, rq: usize, bp: usize, bq: usize, ep: usize, eq: usize, k: i32, pctx: usize,
  qctx: usize,
): void {
  const L = nDigits(k);
  const c1 = D(2), acc = D(4), sel = D(5);
  pairsSetupN(bp, bq, k, pctx, qctx, L);
  // table[i] = base^i * R'' (per lane): table[1] = base*R * C1N / R''; table[0] = table[1] / base
  const t1 = TABLE + DIGITS_BYTES;
  montMulN(t1, acc, c1, L);
  // table[0] = R'' mod m: C1N * (R mod m) / R''
  const one = S(14);
  montOne(one, pctx);
  toDigitsN(TABLE, 0, one, k, L);
  montOne(one, qctx);
  toDigitsN(TABLE, 1, one, k, L);
  montMulN(TABLE, TABLE, c1, L);
  for (let i = 2; i < TABLE_ENTRIES; i++) {
    const ti = TABLE + <usize>i * DIGITS_BYTES;
    if (i & 1) montMulN(ti, ti - DIGITS_BYTES, t1, L);
    else montSqrN(ti, TABLE + <usize>(i >> 1) * DIGITS_BYTES, L);
  }
  const nw = (k * 32 + WINDOW - 1) / WINDOW;
  let pos = (nw - 1) * WINDOW;
  selMasksN(windowAt(ep, k, pos), windowAt(eq, k, pos));
  tableScan(acc, L);
  for (let w = nw - 2; w >= 0; w--) {
    for (let s = 0; s < WINDOW; s++) montSqrN(acc, acc, L);
    pos = w * WINDOW;
    selMasksN(windowAt(ep, k, pos), windowAt(eq, k, pos));
    tableScan(sel, L);
    montMulN(acc, acc, sel, L);
  }
  pairsEndN(rp, rq, acc, k, pctx, qctx, L);
}

/**
 * montExpVarTime2 in the relaxed kernel: left-to-right square-and-multiply for a
 * PUBLIC exponent e (ek limbs, nonzero bit length bits), branching on its bits only.
 */
export function montExpVarTimeN2(
  rp: usize, rq: usize, bp: usize, bq: usize, e: usize, ek: i32, bits: i32, k: i32,
  pctx: usize, qctx: usize,
): void {
  const L = nDigits(k);
  const acc = D(4), b = D(5);
  pairsSetupN(bp, bq, k, pctx, qctx, L);
  montMulN(b, acc, D(2), L);
  memory.copy(acc, b, <usize>L << 4);
  for (let i = bits - 2; i >= 0; i--) {
    montSqrN(acc, acc, L);
    if (((ld(e, i >> 5) >> <u32>(i & 31)) & 1) != 0) montMulN(acc, acc, b, L);
  }
  pairsEndN(rp, rq, acc, k, pctx, qctx, L);
}
