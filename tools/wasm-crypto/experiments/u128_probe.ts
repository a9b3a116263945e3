/**
 * EXPERIMENT, not part of the core (run by tools/wasm-crypto/as_bignum_probe.ts): what
 * as-bignum's u128 class costs under the core's flags (`--runtime stub`). Every u128
 * value is a heap object, so each product allocates, and the stub runtime never frees;
 * `bytesPerMul` reports how far the allocator moves per 64x64 -> 128-bit product, and
 * `mulHiFree` is the allocation-free path the core uses (`__umulq64`).
 * Findings in docs/wasm-crypto.md, "as-bignum (issue 21)".
 */
import { u128 } from "as-bignum/assembly";
import { __res128_hi, __umulq64 } from "as-bignum/assembly/globals";

/** High half of a*b through the u128 class. */
export function mulHiClass(a: u64, b: u64): u64 {
  return (u128.fromU64(a) * u128.fromU64(b)).hi;
}

/** High half of a*b through the allocation-free global. */
export function mulHiFree(a: u64, b: u64): u64 {
  __umulq64(a, b);
  return __res128_hi;
}

/** Bytes the allocator advances per mulHiClass call, over n calls. */
export function bytesPerMul(n: i32): i32 {
  const before = changetype<usize>(u128.Zero);
  let x: u64 = 0x9e3779b97f4a7c15;
  for (let i = 0; i < n; i++) x ^= mulHiClass(x, 0xd1b54a32d192ed03);
  const after = changetype<usize>(new u128(x));
  return <i32>(after - before) / n;
}
