/**
 * The pieces of a constant-time fixed-window exponentiation that every kernel
 * shares (mont_digits.ts montExp, mont_pair.ts montExp2, mont_fma.ts montExpN2):
 * the exponent's windows and the scan of the window table.
 *
 * The table (layout.ts TABLE) holds TABLE_ENTRIES = 2^WINDOW numbers of a
 * kernel's digit form, DIGITS_BYTES apart. A window's entry is chosen by masks
 * built once per window (selMasks1/2/N: all ones for the chosen entry, zero for
 * the others) and read by `tableScan`, which reads every entry whole, so no
 * memory address depends on an exponent bit. Window positions are public loop
 * indices. Everything here is constant time.
 */
import { ctEqMask, ld } from "./bignum";
import { DIGITS_BYTES, MD_SEL, TABLE, TABLE_ENTRIES, WINDOW } from "./layout";

/** Bits [pos, pos + WINDOW) of exp (expK limbs); zero beyond. pos is public. */
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

/** Builds the selection masks of the table scan: entry idx is taken, no other. */
export function selMasks1(idx: u32): void {
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
 * Builds the selection masks of the two-lane table scan: entry i is taken in
 * p's slots when i = ip and in q's slots when i = iq.
 */
export function selMasks2(ip: u32, iq: u32): void {
  for (let i = 0; i < TABLE_ENTRIES; i++) {
    const mp = ctEqMask(<u32>i, ip), mq = ctEqMask(<u32>i, iq);
    v128.store(MD_SEL + (<usize>i << 4), i32x4.replace_lane(
      i32x4.replace_lane(i32x4.splat(mp), 1, mq), 3, mq));
  }
}

/** Selection masks of the relaxed table scan: p's lane (i32 lanes 0, 1) when i = ip, q's (2, 3) when i = iq. */
export function selMasksN(ip: u32, iq: u32): void {
  for (let i = 0; i < TABLE_ENTRIES; i++) {
    const mp = ctEqMask(<u32>i, ip), mq = ctEqMask(<u32>i, iq);
    v128.store(MD_SEL + (<usize>i << 4), i32x4.replace_lane(i32x4.replace_lane(i32x4.splat(mp), 2, mq), 3, mq));
  }
}
