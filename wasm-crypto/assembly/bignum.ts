/**
 * Multi-precision natural numbers on u32 limbs (little-endian limb order) in
 * linear memory: conversion from and to big-endian bytes, addition,
 * subtraction, comparison, selection, shifts and schoolbook multiplication.
 *
 * Every function without `VarTime` in its name runs in time that depends only
 * on the limb counts it is given (public), never on the values: no branch, no
 * early exit and no memory index derived from a limb value. Secret booleans are
 * u32 masks (0 or 0xFFFFFFFF) combined with `&`, `|`, `^`.
 */

// @ts-ignore: decorator

// @ts-ignore: decorator
@inline
export function ld(p: usize, i: i32): u32 {
  return load<u32>(p + (<usize> i << 2));
}

// @ts-ignore: decorator

// @ts-ignore: decorator
@inline
export function st(p: usize, i: i32, v: u32): void {
  store<u32>(p + (<usize> i << 2), v);
}

/** Mask: all ones if x != 0, else 0. */
// @ts-ignore: decorator

// @ts-ignore: decorator
@inline
export function ctNonZeroMask(x: u32): u32 {
  return 0 - ((x | (0 - x)) >> 31);
}

/** Mask: all ones if a == b, else 0. */
// @ts-ignore: decorator

// @ts-ignore: decorator
@inline
export function ctEqMask(a: u32, b: u32): u32 {
  return ~ctNonZeroMask(a ^ b);
}

/** r = 0 (k limbs). */
export function bnZero(r: usize, k: i32): void {
  memory.fill(r, 0, <usize> k << 2);
}

/** r = a (k limbs). Overlapping regions are allowed. */
export function bnCopy(r: usize, a: usize, k: i32): void {
  memory.copy(r, a, <usize> k << 2);
}

/** r = small value v, zero-extended to k limbs. */
export function bnSetWord(r: usize, k: i32, v: u32): void {
  bnZero(r, k);
  if (k > 0) st(r, 0, v);
}

/**
 * Big-endian bytes src[0..len) to k limbs at r. Precondition: len <= 4k.
 * Constant time in the values.
 */
export function bnFromBytes(r: usize, k: i32, src: usize, len: i32): void {
  bnZero(r, k);
  for (let i = 0; i < len; i++) {
    const byte = <u32> load<u8>(src + <usize> (len - 1 - i));
    const limb = i >> 2;
    st(r, limb, ld(r, limb) | (byte << (<u32> (i & 3) << 3)));
  }
}

/**
 * k limbs at a to big-endian bytes dst[0..len). Limbs beyond len bytes are
 * dropped (callers ensure they are zero); bytes beyond 4k are zero.
 */
export function bnToBytes(dst: usize, len: i32, a: usize, k: i32): void {
  for (let i = 0; i < len; i++) {
    const limb = i >> 2;
    let byte: u32 = 0;
    if (limb < k) byte = (ld(a, limb) >> (<u32> (i & 3) << 3)) & 0xff;
    store<u8>(dst + <usize> (len - 1 - i), <u8> byte);
  }
}

/** r = a + b (k limbs); returns the carry (0 or 1). r may alias a or b. */
export function bnAdd(r: usize, a: usize, b: usize, k: i32): u32 {
  let c: u64 = 0;
  for (let i = 0; i < k; i++) {
    const s = <u64> ld(a, i) + <u64> ld(b, i) + c;
    st(r, i, <u32> s);
    c = s >> 32;
  }
  return <u32> c;
}

/** r = a - b (k limbs); returns the borrow (0 or 1). r may alias a or b. */
export function bnSub(r: usize, a: usize, b: usize, k: i32): u32 {
  let borrow: u64 = 0;
  for (let i = 0; i < k; i++) {
    const d = <u64> ld(a, i) - <u64> ld(b, i) - borrow;
    st(r, i, <u32> d);
    borrow = d >> 63;
  }
  return <u32> borrow;
}

/** r = a + (b & mask) (k limbs); returns the carry. */
export function bnAddMasked(r: usize, a: usize, b: usize, k: i32, mask: u32): u32 {
  let c: u64 = 0;
  for (let i = 0; i < k; i++) {
    const s = <u64> ld(a, i) + <u64> (ld(b, i) & mask) + c;
    st(r, i, <u32> s);
    c = s >> 32;
  }
  return <u32> c;
}

/** r = a - (b & mask) (k limbs); returns the borrow. */
export function bnSubMasked(r: usize, a: usize, b: usize, k: i32, mask: u32): u32 {
  let borrow: u64 = 0;
  for (let i = 0; i < k; i++) {
    const d = <u64> ld(a, i) - <u64> (ld(b, i) & mask) - borrow;
    st(r, i, <u32> d);
    borrow = d >> 63;
  }
  return <u32> borrow;
}

/** r = a + w (k limbs, w one word); returns the carry. */
export function bnAddWord(r: usize, a: usize, k: i32, w: u32): u32 {
  let c: u64 = <u64> w;
  for (let i = 0; i < k; i++) {
    const s = <u64> ld(a, i) + c;
    st(r, i, <u32> s);
    c = s >> 32;
  }
  return <u32> c;
}

/** r = a - w (k limbs, w one word); returns the borrow. */
export function bnSubWord(r: usize, a: usize, k: i32, w: u32): u32 {
  let borrow: u64 = <u64> w;
  for (let i = 0; i < k; i++) {
    const d = <u64> ld(a, i) - borrow;
    st(r, i, <u32> d);
    borrow = d >> 63;
  }
  return <u32> borrow;
}

/** Mask: all ones if a < b (k limbs). */
export function bnLtMask(a: usize, b: usize, k: i32): u32 {
  let borrow: u64 = 0;
  for (let i = 0; i < k; i++) {
    const d = <u64> ld(a, i) - <u64> ld(b, i) - borrow;
    borrow = d >> 63;
  }
  return 0 - <u32> borrow;
}

/** Mask: all ones if a == b (k limbs). */
export function bnEqMask(a: usize, b: usize, k: i32): u32 {
  let acc: u32 = 0;
  for (let i = 0; i < k; i++) acc |= ld(a, i) ^ ld(b, i);
  return ~ctNonZeroMask(acc);
}

/** Mask: all ones if a == 0 (k limbs). */
export function bnIsZeroMask(a: usize, k: i32): u32 {
  let acc: u32 = 0;
  for (let i = 0; i < k; i++) acc |= ld(a, i);
  return ~ctNonZeroMask(acc);
}

/** Mask: all ones if a == w (k limbs, w one word). */
export function bnEqWordMask(a: usize, k: i32, w: u32): u32 {
  let acc: u32 = ld(a, 0) ^ w;
  for (let i = 1; i < k; i++) acc |= ld(a, i);
  return ~ctNonZeroMask(acc);
}

/** r = mask ? a : b (k limbs). r may alias a or b. */
export function bnSelect(r: usize, a: usize, b: usize, k: i32, mask: u32): void {
  for (let i = 0; i < k; i++) st(r, i, (ld(a, i) & mask) | (ld(b, i) & ~mask));
}

/** Swaps a and b when mask is all ones (k limbs). */
export function bnCondSwap(a: usize, b: usize, k: i32, mask: u32): void {
  for (let i = 0; i < k; i++) {
    const x = ld(a, i);
    const y = ld(b, i);
    const t = (x ^ y) & mask;
    st(a, i, x ^ t);
    st(b, i, y ^ t);
  }
}

/** r = a >> 1 (k limbs), with `top` shifted into the most significant bit. */
export function bnShr1(r: usize, a: usize, k: i32, top: u32): void {
  for (let i = 0; i < k - 1; i++) st(r, i, (ld(a, i) >> 1) | (ld(a, i + 1) << 31));
  st(r, k - 1, (ld(a, k - 1) >> 1) | (top << 31));
}

/** r = a << 1 (k limbs); returns the bit shifted out. */
export function bnShl1(r: usize, a: usize, k: i32): u32 {
  const out = ld(a, k - 1) >> 31;
  for (let i = k - 1; i > 0; i--) st(r, i, (ld(a, i) << 1) | (ld(a, i - 1) >> 31));
  st(r, 0, ld(a, 0) << 1);
  return out;
}

/**
 * r = a * b, schoolbook (ka + kb limbs). r must not alias a or b.
 * Constant time in the values.
 */
export function bnMul(r: usize, a: usize, ka: i32, b: usize, kb: i32): void {
  bnZero(r, ka + kb);
  for (let i = 0; i < ka; i++) {
    const ai = <u64> ld(a, i);
    let c: u64 = 0;
    for (let j = 0; j < kb; j++) {
      const s = <u64> ld(r, i + j) + ai * <u64> ld(b, j) + c;
      st(r, i + j, <u32> s);
      c = s >> 32;
    }
    st(r, i + kb, <u32> c);
  }
}

/** r = a * w (k limbs times one word); returns the top limb. r may alias a. */
export function bnMulWord(r: usize, a: usize, k: i32, w: u32): u32 {
  let c: u64 = 0;
  for (let i = 0; i < k; i++) {
    const s = <u64> ld(a, i) * <u64> w + c;
    st(r, i, <u32> s);
    c = s >> 32;
  }
  return <u32> c;
}

/** Bit length of a (k limbs). Variable time: only for public values or lengths. */
export function bnBitLenVarTime(a: usize, k: i32): i32 {
  for (let i = k - 1; i >= 0; i--) {
    const w = ld(a, i);
    if (w != 0) return i * 32 + 32 - <i32> clz<u32>(w);
  }
  return 0;
}

/** Number of limbs up to the highest non-zero one. Variable time: public values only. */
export function bnLimbLenVarTime(a: usize, k: i32): i32 {
  for (let i = k - 1; i >= 0; i--) if (ld(a, i) != 0) return i + 1;
  return 0;
}

/**
 * Constant-time division: q = a / b, r = a mod b, by restoring shift-and-subtract
 * over all 32*ka bits of a. a has ka limbs, b has kb limbs (b != 0). q gets ka
 * limbs (may be 0 to skip), r gets kb limbs. Uses scratch rr (kb + 1 limbs) and
 * bb (kb + 1 limbs). Time depends on ka and kb only. No output may alias an input.
 */
export function bnDivMod(
  q: usize,
  r: usize,
  a: usize,
  ka: i32,
  b: usize,
  kb: i32,
  rr: usize,
  bb: usize,
): void {
  bnZero(rr, kb + 1);
  bnCopy(bb, b, kb);
  st(bb, kb, 0);
  if (q != 0) bnZero(q, ka);
  for (let bit = ka * 32 - 1; bit >= 0; bit--) {
    // rr = 2*rr + bit; rr < 2b fits kb + 1 limbs
    bnShl1(rr, rr, kb + 1);
    st(rr, 0, ld(rr, 0) | ((ld(a, bit >> 5) >> <u32> (bit & 31)) & 1));
    // if rr >= b: rr -= b
    const ge = ~bnLtMask(rr, bb, kb + 1);
    bnSubMasked(rr, rr, bb, kb + 1, ge);
    if (q != 0) st(q, bit >> 5, ld(q, bit >> 5) | ((ge & 1) << <u32> (bit & 31)));
  }
  bnCopy(r, rr, kb);
}
