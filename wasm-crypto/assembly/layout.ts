/**
 * Static memory layout of the roamsign crypto core.
 *
 * The core never allocates: every buffer is a fixed region of linear memory,
 * laid out here once. The host (mod.ts) reads the offsets through the exported
 * `layout_*` functions, writes inputs into the IO region, calls an export and
 * reads the result back. Private keys live in key slots above `KEYS_BASE`; the
 * host grows memory by whole pages when it needs more slots.
 *
 * Limbs are u32, little-endian (limb 0 is least significant). `MAX_LIMBS`
 * limbs hold a 4096-bit number.
 */

/** Limb width in bits (the representation is written for 32; see docs/wasm-crypto.md). */
export const LIMB_BITS: i32 = 32;
/** Limbs of the largest supported modulus (4096 bits). */
export const MAX_LIMBS: i32 = 128;
/** Bytes of one number of MAX_LIMBS limbs. */
export const NUM_BYTES: usize = 512;

/** Fixed window width of the constant-time exponentiation, and its table size. */
export const WINDOW: i32 = 5;
export const TABLE_ENTRIES: i32 = 1 << WINDOW;

/** Host <-> core exchange buffer (inputs, outputs, randomness, hash data). */
export const IO_BASE: usize = 65536;
export const IO_SIZE: usize = 65536;

/** Scratch: wiped after every operation that touches secrets. */
export const SCRATCH_BASE: usize = 131072;
/**
 * Window table of the fixed-window exponentiation: TABLE_ENTRIES numbers in the digit
 * domain (mont_digits.ts), DIGITS_BYTES each.
 */
export const TABLE: usize = SCRATCH_BASE;
/**
 * Bytes of one number in the digit domain: up to 168 digits of 28 bits, one u32 each;
 * or, in the relaxed build's two-lane kernel (mont_fma.ts), 42 pairs of 51-bit f64 digits,
 * enough for primes of 64 limbs (RSA-4096).
 */
export const DIGITS_BYTES: usize = 672;
/** Temporaries S(0)..S(SCRATCH_COUNT-1), each 2 * MAX_LIMBS limbs (a double-width product fits). */
export const SCRATCH_NUMS: usize = TABLE + <usize> TABLE_ENTRIES * DIGITS_BYTES;
export const SCRATCH_STRIDE: usize = 2 * NUM_BYTES;
export const SCRATCH_COUNT: i32 = 24;
/** Montgomery multiplication on limbs (montMul): the pairs [a_j, u_j] (MM_A), the pairs [b_l, m_l] reversed (MM_T), the packed result (MM_P). */
export const MM_T: usize = SCRATCH_NUMS + <usize>SCRATCH_COUNT * SCRATCH_STRIDE;
export const MM_A: usize = MM_T + 2432;
export const MM_B: usize = MM_A + 1280;
export const MM_P: usize = MM_B + 640;
/**
 * Digit-domain multiplication (montMulD): the interleaved operands [a_j, u_j] and the
 * reversed [b_l, m'_l] pairs, each with zero padding; the digits of the scaled modulus
 * m'; then digit temporaries D(0)..D(7).
 */
export const MD_A: usize = MM_P + 768;
export const MD_B: usize = MD_A + 2 * DIGITS_BYTES;
export const MD_MP: usize = MD_B + 2 * DIGITS_BYTES;
/** The 32 selection masks of the window table scan (one v128 each). */
export const MD_SEL: usize = MD_MP + DIGITS_BYTES;
export const MD_NUMS: usize = MD_SEL + 512;
export const MD_COUNT: i32 = 8;
/** Temporary Montgomery contexts (modPow, public key operations, key generation). */
export const CTX_TMP0: usize = MD_NUMS + <usize>MD_COUNT * DIGITS_BYTES;
/**
 * The public-key operation's entry constant C3 = R'^2 mod m (digits) of the context in
 * CTX_TMP0, right after it: the host keeps CTX_TMP0 .. PUB_C3 + DIGITS_BYTES (the
 * "public context", PUB_CTX_SIZE bytes) with each public key.
 */
export const PUB_C3: usize = CTX_TMP0 + 4352;
export const PUB_CTX_SIZE: usize = 4352 + DIGITS_BYTES;
export const CTX_TMP1: usize = PUB_C3 + DIGITS_BYTES;
export const CTX_TMP2: usize = CTX_TMP1 + 4352;
export const SCRATCH_END: usize = CTX_TMP2 + 4352;
export const SCRATCH_SIZE: usize = SCRATCH_END - SCRATCH_BASE;

/** Hash state swapped in and out by the host (one context at a time). */
export const SHA_CTX: usize = 205312;
/** The hash state H (8 words) at the start of the context (sha.ts describes the rest). */
export const SHA_H: usize = SHA_CTX;
/** Key generation: the primes found so far, kept between host calls, wiped at the end. */
export const KG_P: usize = SHA_CTX + 512;
export const KG_Q: usize = KG_P + NUM_BYTES;
export const KG_END: usize = KG_Q + NUM_BYTES;
/**
 * The relaxed build's two-lane Miller-Rabin (keygen.ts kgRound2VarTime): the candidate
 * of lane 0 and of lane 1 between host calls, in the upper halves of KG_P and KG_Q
 * (a prime has at most 64 limbs, 256 bytes), so that every wipe of KG_P and KG_Q
 * (kg_abort, kg_finish) wipes them too.
 */
export const KG_LANE0: usize = KG_P + 256;
export const KG_LANE1: usize = KG_Q + 256;
/**
 * Small odd primes for trial division (u16). The 8 KiB above them, up to KEYS_BASE, are
 * unused: they held u32 Barrett constants until keygen.ts's modSmall took whole limbs
 * with a 64-bit constant computed per prime (issue 21).
 */
export const SMALL_PRIMES: usize = 208896;
export const SMALL_PRIME_COUNT: i32 = 2048;
/** Private key slots start here; the host grows memory to add slots. */
export const KEYS_BASE: usize = 221184;

/**
 * A Montgomery context: k (i32, limbs of m), m0inv = -m^-1 mod 2^32 (u32), kd (i32, 28-bit
 * digits of a k-limb number), rbits (i32, 32k - 28 * floor(32k / 28)), m (k limbs),
 * RR = R^2 mod m (k limbs, R = 2^(32k)), m as kd 28-bit digits (u32 each); and for the
 * digit domain of the exponentiations (mont_digits.ts), as L = floor(32k / 28) + 2 digits:
 * the scaled modulus m' = mu*m, C1 = R'^2 / R mod m and C2 = R mod m; and C1 of the
 * two-lane kernel's domain (R'' = 2^(28(L - 1)), unscaled m).
 */
export const CTX_K: usize = 0;
export const CTX_M0INV: usize = 4;
export const CTX_KD: usize = 8;
export const CTX_RBITS: usize = 12;
export const CTX_M: usize = 64;
export const CTX_RR: usize = CTX_M + NUM_BYTES;
export const CTX_M28: usize = CTX_RR + NUM_BYTES;
export const CTX_MP: usize = CTX_M28 + 640;
export const CTX_C1: usize = CTX_MP + 640;
export const CTX_C2: usize = CTX_C1 + 640;
/** C1 of the two-lane kernel's domain (unscaled m, one digit fewer; mont_pair.ts). */
export const CTX_C1P: usize = CTX_C2 + 640;
export const CTX_SIZE: usize = CTX_C1P + 640;

/** Digit width of the Montgomery multiplication's lazy-carry accumulation. */
export const DIGIT_BITS: i32 = 28;

/** Address of scratch temporary i. */
// @ts-ignore: decorator
@inline
export function S(i: i32): usize {
  return SCRATCH_NUMS + <usize> i * SCRATCH_STRIDE;
}

/** Address of digit temporary i (DIGITS_BYTES each). */
// @ts-ignore: decorator
@inline
export function D(i: i32): usize {
  return MD_NUMS + <usize> i * DIGITS_BYTES;
}
