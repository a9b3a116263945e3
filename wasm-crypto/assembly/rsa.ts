/**
 * RSA in the core (RFC 8017 primitives; FIPS 186-5 key generation).
 *
 * - Key slots: a private key lives in a fixed-size slot of linear memory
 *   (layout below) from import/generation until `rsaKeyWipe`.
 * - rsaPrivate: RSASP1/RSADP by CRT (Garner), with fresh base blinding per call
 *   and the result checked with e before it is released (fault attacks).
 *   Constant time in every secret: the CRT exponentiations are fixed-window
 *   over the whole exponent length, the table is scanned whole, reductions and
 *   the recombination are branch-free. The one variable-time step is the
 *   inversion of the blinding factor r, which is done on r*b mod n for a second
 *   fresh random b (BoringSSL's approach), so its timing is independent of r.
 * - rsaPublic: RSAVP1/RSAEP with the public exponent (variable time in e only).
 * - Key generation: random candidates with the top two bits set, trial
 *   division, Miller-Rabin, |p - q| and d checks, d = e^-1 mod lcm(p-1, q-1)
 *   computed without a secret-dependent branch.
 *
 * Status codes returned to the host: see index.ts.
 */
import {
  bnAdd,
  bnAddWord,
  bnBitLenVarTime,
  bnCondSwap,
  bnCopy,
  bnDivModCT,
  bnEqMask,
  bnEqWordMask,
  bnFromBytes,
  bnIsZeroMask,
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
  bnToBytes,
  bnZero,
  ld,
  st,
} from "./bignum";
import { modInvVarTime } from "./inverse";
import {
  CTX_K,
  CTX_M,
  CTX_SIZE,
  CTX_TMP0,
  CTX_TMP1,
  CTX_TMP2,
  IO_BASE,
  KG_P,
  KG_Q,
  NUM_BYTES,
  PUB_C3,
  S,
  SCRATCH_BASE,
  SCRATCH_NUMS,
  SCRATCH_SIZE,
  SMALL_PRIME_COUNT,
  SMALL_PRIME_MU,
  SMALL_PRIMES,
} from "./layout";
import {
  ctxK,
  fromMont,
  modSub,
  montMul,
  montOne,
  montSetupVarTime,
  montSqr,
  PAIR_MAX_K,
  reduceWide,
  toMont,
} from "./montgomery";
import { montExp, montExpVarTime, montPowPublic, publicEntryConstant } from "./mont_digits";
import { montExp2, montExpVarTime2 } from "./mont_pair";

export const OK: i32 = 0;
export const ERR_RANGE: i32 = 1;
export const ERR_INVALID_KEY: i32 = 2;
export const ERR_FAULT: i32 = 3;
export const ERR_BLINDING: i32 = 4;
export const ERR_ARGS: i32 = 5;
export const KG_RETRY: i32 = 6;

// Slot layout
export const SLOT_BITS: usize = 0; // i32: bit length of n
export const SLOT_NBYTES: usize = 4; // i32: byte length of n
export const SLOT_KE: usize = 8; // i32: limbs of e
export const SLOT_ELEN: usize = 12; // i32: byte length of e
export const SLOT_CTX_N: usize = 64;
export const SLOT_CTX_P: usize = SLOT_CTX_N + CTX_SIZE;
export const SLOT_CTX_Q: usize = SLOT_CTX_P + CTX_SIZE;
export const SLOT_E: usize = SLOT_CTX_Q + CTX_SIZE;
export const SLOT_D: usize = SLOT_E + NUM_BYTES;
export const SLOT_DP: usize = SLOT_D + NUM_BYTES;
export const SLOT_DQ: usize = SLOT_DP + NUM_BYTES;
export const SLOT_QINV: usize = SLOT_DQ + NUM_BYTES;
export const SLOT_SIZE: usize = 16384;

/** IO offsets used by the RSA exports. */
export const IO_IN: usize = IO_BASE; // input number (big-endian)
export const IO_RAND: usize = IO_BASE + 1024; // randomness from the host
export const IO_OUT: usize = IO_BASE + 4096; // output number (big-endian)
/** Staging for key components: component i at IO_STAGE + i * 1024. */
export const IO_STAGE: usize = IO_BASE + 8192;
export const STAGE_STRIDE: usize = 1024;

/** Wipes all scratch memory (tables, temporaries, temporary contexts). */
export function wipeScratch(): void {
  memory.fill(SCRATCH_BASE, 0, SCRATCH_SIZE);
}

// @ts-ignore: decorator
@inline
function limbsOf(bytes: i32): i32 {
  return (bytes + 3) >> 2;
}

/** Loads big-endian bytes into a context's modulus and sets it up. */
function ctxLoad(ctx: usize, src: usize, len: i32): void {
  const k = limbsOf(len);
  store<i32>(ctx + CTX_K, k);
  bnFromBytes(ctx + CTX_M, k, src, len);
  montSetupVarTime(ctx);
}

/**
 * Loads a private key from the staging area (n, e, d, p, q, dP, dQ, qInv,
 * big-endian, lengths given, host-validated: canonical, n of 2048..4096 bits,
 * every length <= 512) into `slot` and checks that it is consistent:
 * n = p*q, p and q odd and > 1, q*qInv = 1 mod p, dP = d mod (p-1),
 * dQ = d mod (q-1), e*dP = 1 mod (p-1), e*dQ = 1 mod (q-1).
 * Returns OK or ERR_INVALID_KEY (the slot is wiped then). Wipes the staging area.
 */
export function rsaKeySet(
  slot: usize,
  nLen: i32,
  eLen: i32,
  dLen: i32,
  pLen: i32,
  qLen: i32,
  dpLen: i32,
  dqLen: i32,
  qiLen: i32,
): i32 {
  memory.fill(slot, 0, SLOT_SIZE);
  const kn = limbsOf(nLen);
  const kp = limbsOf(pLen);
  const kq = limbsOf(qLen);
  const ke = limbsOf(eLen);
  let ok = true;
  if (
    kp > kn || kq > kn || dLen > nLen || dpLen > pLen || dqLen > qLen || qiLen > pLen || eLen > nLen
  ) ok = false;
  const stage = IO_STAGE;
  const nS = stage, eS = stage + STAGE_STRIDE, dS = stage + 2 * STAGE_STRIDE;
  const pS = stage + 3 * STAGE_STRIDE, qS = stage + 4 * STAGE_STRIDE;
  const dpS = stage + 5 * STAGE_STRIDE,
    dqS = stage + 6 * STAGE_STRIDE,
    qiS = stage + 7 * STAGE_STRIDE;
  if (ok) {
    // oddness and p, q > 1 (lengths are public; these checks reject bad keys outright)
    const nLast = load<u8>(nS + <usize> (nLen - 1)), pLast = load<u8>(pS + <usize> (pLen - 1));
    const qLast = load<u8>(qS + <usize> (qLen - 1)), eLast = load<u8>(eS + <usize> (eLen - 1));
    if (((nLast & pLast & qLast & eLast) & 1) == 0) ok = false;
    if ((pLen == 1 && pLast < 3) || (qLen == 1 && qLast < 3)) ok = false;
  }
  if (!ok) {
    memory.fill(stage, 0, 8 * STAGE_STRIDE);
    return ERR_INVALID_KEY;
  }
  const ctxN = slot + SLOT_CTX_N, ctxP = slot + SLOT_CTX_P, ctxQ = slot + SLOT_CTX_Q;
  ctxLoad(ctxN, nS, nLen);
  ctxLoad(ctxP, pS, pLen);
  ctxLoad(ctxQ, qS, qLen);
  store<i32>(slot + SLOT_BITS, bnBitLenVarTime(ctxN + CTX_M, kn));
  store<i32>(slot + SLOT_NBYTES, nLen);
  store<i32>(slot + SLOT_KE, ke);
  store<i32>(slot + SLOT_ELEN, eLen);
  bnFromBytes(slot + SLOT_E, ke, eS, eLen);
  bnFromBytes(slot + SLOT_D, kn, dS, dLen);
  bnFromBytes(slot + SLOT_DP, kp, dpS, dpLen);
  bnFromBytes(slot + SLOT_DQ, kq, dqS, dqLen);
  bnFromBytes(slot + SLOT_QINV, kp, qiS, qiLen);
  memory.fill(stage, 0, 8 * STAGE_STRIDE);

  let good: u32 = 0xffffffff;
  // n = p*q
  const prod = S(0), nPad = S(1);
  bnMul(prod, ctxP + CTX_M, kp, ctxQ + CTX_M, kq);
  const L = kp + kq > kn ? kp + kq : kn;
  bnZero(nPad, L);
  bnCopy(nPad, ctxN + CTX_M, kn);
  if (kp + kq < L) bnZero(prod + (<usize> (kp + kq) << 2), L - kp - kq);
  good &= bnEqMask(prod, nPad, L);
  // qInv < p and q*qInv = 1 mod p
  good &= bnLtMask(slot + SLOT_QINV, ctxP + CTX_M, kp);
  reduceWide(S(2), ctxQ + CTX_M, kq, ctxP);
  montMul(S(3), S(2), slot + SLOT_QINV, ctxP);
  good &= bnEqWordMask(S(3), kp, 1);
  // the CRT exponents against d and e, for p and for q
  good &= checkCrtExponent(slot, ctxP, slot + SLOT_DP, kn);
  good &= checkCrtExponent(slot, ctxQ, slot + SLOT_DQ, kn);
  wipeScratch();
  if (good == 0) {
    memory.fill(slot, 0, SLOT_SIZE);
    return ERR_INVALID_KEY;
  }
  return OK;
}

/** Mask: all ones if dX = d mod (x-1) and e*dX = 1 mod (x-1), for the prime x of ctx. */
function checkCrtExponent(slot: usize, ctx: usize, dX: usize, kn: i32): u32 {
  const kx = ctxK(ctx);
  const xm1 = S(4), rem = S(5), rr = S(6), bb = S(7), prod = S(8);
  bnSubWord(xm1, ctx + CTX_M, kx, 1);
  bnDivModCT(0, rem, slot + SLOT_D, kn, xm1, kx, rr, bb);
  let good = bnEqMask(rem, dX, kx);
  const ke = load<i32>(slot + SLOT_KE);
  bnMul(prod, dX, kx, slot + SLOT_E, ke);
  bnDivModCT(0, rem, prod, kx + ke, xm1, kx, rr, bb);
  good &= bnEqWordMask(rem, kx, 1);
  return good;
}

/**
 * Writes the key's components to the staging area (n, e, d, p, q, dP, dQ, qInv
 * at IO_STAGE + i * STAGE_STRIDE), each as big-endian bytes of a fixed length:
 * n and d: nBytes; e: 4 * limbs; p, dP, qInv: 4 * kp; q, dQ: 4 * kq. The host
 * strips leading zeros and wipes the staging area.
 */
export function rsaKeyGet(slot: usize): void {
  const kn = ctxK(slot + SLOT_CTX_N);
  const kp = ctxK(slot + SLOT_CTX_P);
  const kq = ctxK(slot + SLOT_CTX_Q);
  const ke = load<i32>(slot + SLOT_KE);
  const nBytes = load<i32>(slot + SLOT_NBYTES);
  const st0 = IO_STAGE;
  bnToBytes(st0, nBytes, slot + SLOT_CTX_N + CTX_M, kn);
  bnToBytes(st0 + STAGE_STRIDE, ke * 4, slot + SLOT_E, ke);
  bnToBytes(st0 + 2 * STAGE_STRIDE, nBytes, slot + SLOT_D, kn);
  bnToBytes(st0 + 3 * STAGE_STRIDE, kp * 4, slot + SLOT_CTX_P + CTX_M, kp);
  bnToBytes(st0 + 4 * STAGE_STRIDE, kq * 4, slot + SLOT_CTX_Q + CTX_M, kq);
  bnToBytes(st0 + 5 * STAGE_STRIDE, kp * 4, slot + SLOT_DP, kp);
  bnToBytes(st0 + 6 * STAGE_STRIDE, kq * 4, slot + SLOT_DQ, kq);
  bnToBytes(st0 + 7 * STAGE_STRIDE, kp * 4, slot + SLOT_QINV, kp);
}

/**
 * RSASP1 / RSADP with CRT, blinding and the e check.
 * In: x at IO_IN (nBytes, big-endian), 4 * (nBytes + 8) random bytes at IO_RAND.
 * Out: x^d mod n at IO_OUT (nBytes). Returns OK, ERR_RANGE (x >= n),
 * ERR_BLINDING (r*b not invertible: n has a factor found by chance; retry) or
 * ERR_FAULT (the result failed the e check; nothing is released).
 * Wipes scratch and the randomness.
 */
export function rsaPrivate(slot: usize): i32 {
  const nctx = slot + SLOT_CTX_N, pctx = slot + SLOT_CTX_P, qctx = slot + SLOT_CTX_Q;
  const kn = ctxK(nctx), kp = ctxK(pctx), kq = ctxK(qctx);
  const nBytes = load<i32>(slot + SLOT_NBYTES);
  const c = S(0);
  bnFromBytes(c, kn, IO_IN, nBytes);
  let rc: i32;
  if (bnLtMask(c, nctx + CTX_M, kn) == 0) rc = ERR_RANGE;
  // p and q side by side in the SIMD lanes when their sizes allow (sizes are public)
  else if (kp == kq && kp <= PAIR_MAX_K) rc = privatePairs(slot);
  else rc = privateGeneral(slot);
  memory.fill(IO_RAND, 0, <usize> (4 * (nBytes + 8)));
  if (rc == ERR_FAULT) memory.fill(IO_OUT, 0, <usize> nBytes);
  wipeScratch();
  return rc;
}

/**
 * out = the x < n with x = xp (mod p) and x = xq (mod q), for xp, xq in
 * Montgomery form (fully reduced): Garner, x = xq + q*((xp - xq)*qInv mod p).
 * out gets kp + kq limbs. Uses S(7), S(8). Constant time.
 */
function garner(out: usize, xp: usize, xq: usize, slot: usize): void {
  const pctx = slot + SLOT_CTX_P, qctx = slot + SLOT_CTX_Q;
  const kp = ctxK(pctx), kq = ctxK(qctx);
  const u = S(7), h = S(8);
  fromMont(h, xq, qctx); // xq plain
  reduceWide(u, h, kq, pctx); // xq * R mod p
  modSub(u, xp, u, pctx); // (xp - xq) * R mod p
  montMul(u, u, slot + SLOT_QINV, pctx); // (xp - xq) * qInv mod p, plain
  bnMul(out, qctx + CTX_M, kq, u, kp);
  const carry = bnAdd(out, out, h, kq);
  bnAddWord(out + (<usize> kq << 2), out + (<usize> kq << 2), kp, carry);
}

/**
 * The private operation with p and q in the two SIMD lanes (kp == kq), for c at
 * S(0), c < n. Everything runs modulo p and q until the last recombination:
 * 1. blinding factors r and b drawn as (r mod p, r mod q), (b mod p, b mod q),
 *    each from 4kp + 8 random bytes (so r and b are statistically uniform mod n);
 * 2. (c * r^e)^dP mod p and (c * r^e)^dQ mod q = c^dP * r, c^dQ * r (e dP = 1 mod p - 1);
 * 3. x = r*b mod n by Garner, x^-1 by the variable-time inversion (x is uniform
 *    and independent of r for a fresh b), r^-1 = x^-1 * b mod p and mod q;
 * 4. s = c^d mod p and mod q, checked with e (s^e = c mod p and mod q, i.e. mod n)
 *    before the recombination into s mod n at IO_OUT.
 */
function privatePairs(slot: usize): i32 {
  const nctx = slot + SLOT_CTX_N, pctx = slot + SLOT_CTX_P, qctx = slot + SLOT_CTX_Q;
  const kn = ctxK(nctx), kp = ctxK(pctx);
  const nBytes = load<i32>(slot + SLOT_NBYTES);
  const ke = load<i32>(slot + SLOT_KE);
  const e = slot + SLOT_E;
  const c = S(0), rp = S(1), rq = S(2), bp = S(3), bq = S(4), m1 = S(5), m2 = S(6);
  const x = S(9), inv = S(10), tmp = S(11), cp = S(15), cq = S(16);
  // 1. r and b modulo p and q, in Montgomery form
  const dl = 4 * kp + 8;
  const dk = limbsOf(dl);
  bnFromBytes(tmp, dk, IO_RAND, dl);
  reduceWide(rp, tmp, dk, pctx);
  bnFromBytes(tmp, dk, IO_RAND + <usize> dl, dl);
  reduceWide(rq, tmp, dk, qctx);
  bnFromBytes(tmp, dk, IO_RAND + <usize> (2 * dl), dl);
  reduceWide(bp, tmp, dk, pctx);
  bnFromBytes(tmp, dk, IO_RAND + <usize> (3 * dl), dl);
  reduceWide(bq, tmp, dk, qctx);
  memory.fill(IO_RAND, 0, <usize> (4 * dl));
  // 2. (c * r^e)^dP mod p, (c * r^e)^dQ mod q; e is public
  reduceWide(cp, c, kn, pctx); // c mod p, c mod q (Montgomery form), kept for step 4
  reduceWide(cq, c, kn, qctx);
  montExpVarTime2(m1, m2, rp, rq, e, ke, kp, pctx, qctx);
  montMul(m1, cp, m1, pctx);
  montMul(m2, cq, m2, qctx);
  montExp2(m1, m2, m1, m2, slot + SLOT_DP, slot + SLOT_DQ, kp, pctx, qctx);
  // 3. r^-1 mod p and mod q through x = r*b mod n
  montMul(rp, rp, bp, pctx); // r*b*R mod p
  montMul(rq, rq, bq, qctx);
  garner(x, rp, rq, slot);
  if (modInvVarTime(inv, x, nctx) == 0) return ERR_BLINDING;
  reduceWide(rp, inv, kn, pctx); // x^-1 * R mod p
  reduceWide(rq, inv, kn, qctx);
  montMul(rp, rp, bp, pctx); // x^-1 * b * R = r^-1 * R mod p
  montMul(rq, rq, bq, qctx);
  // 4. s = c^dP mod p and c^dQ mod q (Montgomery form); the fault check; recombination
  montMul(m1, m1, rp, pctx);
  montMul(m2, m2, rq, qctx);
  montExpVarTime2(rp, rq, m1, m2, e, ke, kp, pctx, qctx);
  if ((bnEqMask(rp, cp, kp) & bnEqMask(rq, cq, kp)) == 0) return ERR_FAULT;
  garner(x, m1, m2, slot);
  bnToBytes(IO_OUT, nBytes, x, kn);
  return OK;
}

/** The private operation for p and q of different limb counts (as privatePairs, modulo n). */
function privateGeneral(slot: usize): i32 {
  const nctx = slot + SLOT_CTX_N, pctx = slot + SLOT_CTX_P, qctx = slot + SLOT_CTX_Q;
  const kn = ctxK(nctx), kp = ctxK(pctx), kq = ctxK(qctx);
  const nBytes = load<i32>(slot + SLOT_NBYTES);
  const ke = load<i32>(slot + SLOT_KE);
  const e = slot + SLOT_E;
  const c = S(0), rM = S(1), bM = S(2), t = S(3), cb = S(4), m1 = S(5), m2 = S(6);
  const u = S(7), sb = S(9), x = S(10), chk = S(11);
  // 1. blinding factors r, b uniform mod n (64 extra random bits), in Montgomery form
  const rLen = nBytes + 8;
  const rl = limbsOf(rLen);
  bnFromBytes(u, rl, IO_RAND, rLen);
  reduceWide(rM, u, rl, nctx);
  bnFromBytes(u, rl, IO_RAND + <usize> rLen, rLen);
  reduceWide(bM, u, rl, nctx);
  memory.fill(IO_RAND, 0, <usize> (2 * rLen));
  // 2. cb = c * r^e mod n (e is public); 3. CRT exponentiations
  montExpVarTime(t, rM, e, ke, nctx);
  montMul(cb, c, t, nctx); // c < n < R; t in Montgomery form -> plain product
  reduceWide(m1, cb, kn, pctx);
  reduceWide(m2, cb, kn, qctx);
  montExp(m1, m1, slot + SLOT_DP, kp, pctx);
  montExp(m2, m2, slot + SLOT_DQ, kq, qctx);
  // 4. Garner: sb = c^d * r mod n
  garner(sb, m1, m2, slot);
  // 5. unblind: s = sb * r^-1 = sb * b * (r*b)^-1; (r*b) is uniform and independent
  //    of r, so inverting it in variable time reveals nothing about r.
  montMul(x, rM, bM, nctx);
  fromMont(x, x, nctx); // r*b mod n, plain
  if (modInvVarTime(chk, x, nctx) == 0) return ERR_BLINDING;
  toMont(chk, chk, nctx); // (r*b)^-1 * R
  montMul(x, sb, bM, nctx); // sb * b, plain
  montMul(x, x, chk, nctx); // sb * b * (r*b)^-1 = s, plain
  // 6. fault check: s^e = c
  toMont(chk, x, nctx);
  montExpVarTime(chk, chk, e, ke, nctx);
  fromMont(chk, chk, nctx);
  if (bnEqMask(chk, c, kn) == 0) return ERR_FAULT;
  bnToBytes(IO_OUT, nBytes, x, kn);
  return OK;
}

/**
 * Prepares a public Montgomery context for n (big-endian at IO_IN, nLen bytes)
 * in CTX_TMP0 and its entry constant in PUB_C3; the host keeps a copy of those
 * PUB_CTX_SIZE bytes (the "public context") with the key.
 */
export function pubPrepare(nLen: i32): void {
  memory.fill(CTX_TMP0, 0, CTX_SIZE);
  ctxLoad(CTX_TMP0, IO_IN, nLen);
  publicEntryConstant(PUB_C3, CTX_TMP0);
  wipeScratchKeepCtx();
}

/** Completes a public context whose CTX_SIZE bytes the host copied to CTX_TMP0 (PUB_C3). */
export function pubExtend(): void {
  publicEntryConstant(PUB_C3, CTX_TMP0);
  wipeScratchKeepCtx();
}

function wipeScratchKeepCtx(): void {
  // everything in scratch below the temporary contexts
  memory.fill(SCRATCH_BASE, 0, CTX_TMP0 - SCRATCH_BASE);
}

/**
 * RSAVP1 / RSAEP: x^e mod n with the public context the host copied to CTX_TMP0,
 * x at IO_IN (nBytes), e at IO_RAND (eLen bytes). Out: IO_OUT (nBytes).
 * Returns OK or ERR_RANGE (x >= n).
 */
export function rsaPublic(nBytes: i32, eLen: i32): i32 {
  const ctx = CTX_TMP0;
  const k = ctxK(ctx);
  const x = S(0), e = S(1), y = S(2);
  bnFromBytes(x, k, IO_IN, nBytes);
  if (bnLtMask(x, ctx + CTX_M, k) == 0) {
    wipePublicScratch();
    return ERR_RANGE;
  }
  const ke = limbsOf(eLen);
  bnFromBytes(e, ke, IO_RAND, eLen);
  montPowPublic(y, x, e, ke, ctx, PUB_C3);
  bnToBytes(IO_OUT, nBytes, y, k);
  wipePublicScratch();
  return OK;
}

/**
 * Wipes what the public operation used (x may be secret: OAEP encryption): the
 * temporaries and kernel buffers between SCRATCH_NUMS and the public context. It
 * never touches the window table, and the public context holds public values.
 */
function wipePublicScratch(): void {
  memory.fill(SCRATCH_NUMS, 0, CTX_TMP0 - SCRATCH_NUMS);
}

/**
 * modPow: base^exp mod m. base at IO_IN (baseLen <= 1024), exp at IO_RAND
 * (expLen <= 512), m at IO_RAND + 1024 (modLen <= 512, odd, > 1, no leading
 * zero byte). Out: IO_OUT (modLen bytes). Constant time in base and exp
 * (fixed window over all expLen bytes), unless varTime is set: then the
 * deliberately leaky square-and-multiply of the timing check's negative control.
 */
export function modPow(baseLen: i32, expLen: i32, modLen: i32, varTime: bool): i32 {
  if (modLen < 1 || modLen > 512 || expLen < 0 || expLen > 512 || baseLen < 0 || baseLen > 1024) {
    return ERR_ARGS;
  }
  const mS = IO_RAND + 1024;
  if ((load<u8>(mS + <usize> (modLen - 1)) & 1) == 0) return ERR_ARGS;
  if (load<u8>(mS) == 0 || (modLen == 1 && load<u8>(mS) < 3)) return ERR_ARGS;
  const ctx = CTX_TMP0;
  ctxLoad(ctx, mS, modLen);
  const k = ctxK(ctx);
  const b = S(0), bM = S(1), e = S(2), y = S(3);
  const bl = limbsOf(baseLen);
  bnFromBytes(b, bl, IO_IN, baseLen);
  reduceWide(bM, b, bl, ctx);
  const ek = limbsOf(expLen);
  bnFromBytes(e, ek, IO_RAND, expLen);
  if (varTime) montExpVarTime(y, bM, e, ek, ctx);
  else montExp(y, bM, e, ek, ctx);
  fromMont(y, y, ctx);
  bnToBytes(IO_OUT, modLen, y, k);
  wipeScratch();
  return OK;
}

// ---------------------------------------------------------------- key generation

/** Fills the small-prime table: the first SMALL_PRIME_COUNT odd primes, and mu = floor(2^32 / p). */
export function initSmallPrimes(): void {
  // sieve of Eratosthenes over odd numbers < 2^15 * 2, using scratch as the bitmap
  const limit: u32 = 20000;
  const sieve = SCRATCH_BASE;
  memory.fill(sieve, 0, limit);
  let count = 0;
  for (let i: u32 = 3; i < limit && count < SMALL_PRIME_COUNT; i += 2) {
    if (load<u8>(sieve + i) != 0) continue;
    store<u16>(SMALL_PRIMES + (<usize> count << 1), <u16> i);
    store<u32>(SMALL_PRIME_MU + (<usize> count << 2), <u32> (<u64> 0x100000000 / <u64> i));
    count++;
    for (let j: u32 = i * i; j < limit; j += 2 * i) store<u8>(sieve + j, 1);
  }
  memory.fill(sieve, 0, limit);
}

/**
 * x mod d for d < 2^16 (x of k limbs), by Barrett reduction of 16-bit chunks
 * with mu = floor(2^32 / d): constant time in x.
 */
function modSmall16(x: usize, k: i32, d: u32, mu: u32): u32 {
  let r: u32 = 0;
  for (let i = k - 1; i >= 0; i--) {
    const w = ld(x, i);
    for (let h = 1; h >= 0; h--) {
      const v = (r << 16) | ((w >> (<u32> h << 4)) & 0xffff); // < d * 2^16 <= 2^32
      const q = <u32> ((<u64> v * <u64> mu) >> 32); // floor(v/d) - 1 <= q <= floor(v/d)
      r = v - q * d; // < 2d
      r -= d & ctNonZeroMaskGe(r, d);
    }
  }
  return r;
}

/** x mod d for d < 2^24 (x of k limbs), Barrett on 8-bit chunks: constant time in x. */
function modSmall8(x: usize, k: i32, d: u32): u32 {
  const mu = <u32> (<u64> 0x100000000 / <u64> d);
  let r: u32 = 0;
  for (let i = k - 1; i >= 0; i--) {
    const w = ld(x, i);
    for (let h = 3; h >= 0; h--) {
      const v = (r << 8) | ((w >> (<u32> h << 3)) & 0xff); // < d * 2^8 <= 2^32
      const q = <u32> ((<u64> v * <u64> mu) >> 32);
      r = v - q * d;
      r -= d & ctNonZeroMaskGe(r, d);
    }
  }
  return r;
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
export function kgCandidate(which: i32, bits: i32, rounds: i32): i32 {
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
    const mu = load<u32>(SMALL_PRIME_MU + (<usize> i << 2));
    if (modSmall16(w, kp, d, mu) == 0) {
      ok = false;
      break;
    }
  }
  // gcd(w - 1, 65537) = 1, i.e. w mod 65537 != 1
  if (ok && modSmall8(w, kp, 65537) == 1) ok = false;
  if (ok && which == 1 && !farApart(KG_P, KG_Q, kp)) ok = false;
  if (ok && !millerRabin(w, kp, rounds, bytes)) ok = false;
  memory.fill(IO_RAND, 0, <usize> (rounds * bytes));
  wipeScratch();
  if (!ok) {
    bnZero(w, kp);
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

/** Miller-Rabin (FIPS 186-5 B.3.1) on odd w (k limbs) with bases from IO_RAND. */
function millerRabin(w: usize, k: i32, rounds: i32, bytes: i32): bool {
  const ctx = CTX_TMP1;
  store<i32>(ctx + CTX_K, k);
  bnCopy(ctx + CTX_M, w, k);
  montSetupVarTime(ctx);
  const wm1 = S(0), m = S(1), one = S(2), minus1 = S(3), b = S(4), z = S(5);
  bnSubWord(wm1, w, k, 1);
  // w - 1 = 2^a * m; a is the one quantity this test leaks (see kgCandidate)
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
    montExp(z, z, m, k, ctx);
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
  gcdCT(g, pm1, qm1, kp);
  // lambda = ((p - 1) / g) * (q - 1)
  bnDivModCT(quo, rem, pm1, kp, g, kp, rr, bb);
  bnMul(lam, quo, kp, qm1, kp);
  // t = lambda^-1 mod e by Fermat (e prime), in a one-limb Montgomery context
  const ectx = CTX_TMP2;
  store<i32>(ectx + CTX_K, 1);
  store<u32>(ectx + CTX_M, e);
  montSetupVarTime(ectx);
  const tw = S(11);
  bnSetWord(tw, 1, modSmall8(lam, kn, e));
  toMont(tw, tw, ectx);
  const em2 = S(12 + 7); // a free temporary
  bnSetWord(em2, 1, e - 2);
  montExp(tw, tw, em2, 1, ectx);
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
  bnDivModCT(0, slot + SLOT_DP, d, kn, pm1, kp, rr, bb);
  bnDivModCT(0, slot + SLOT_DQ, d, kn, qm1, kp, rr, bb);
  // qInv = q^(p-2) mod p (p prime); q < R so toMont's precondition holds
  const pm2 = S(11);
  bnSubWord(pm2, p, kp, 2);
  toMont(x, q, ctxP);
  montExp(x, x, pm2, kp, ctxP);
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
function gcdCT(g: usize, a: usize, b: usize, k: i32): void {
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

export { bnIsZeroMask };

/** See index.ts mod_inv_vartime_for_tests. */
export function modInvForTests(mLen: i32): i32 {
  if (mLen < 1 || mLen > 512) return 0;
  const ctx = CTX_TMP0;
  ctxLoad(ctx, IO_RAND, mLen);
  const k = ctxK(ctx);
  bnFromBytes(S(0), k, IO_IN, mLen);
  const ok = modInvVarTime(S(1), S(0), ctx);
  bnToBytes(IO_OUT, mLen, S(1), k);
  wipeScratch();
  return <i32>ok;
}
