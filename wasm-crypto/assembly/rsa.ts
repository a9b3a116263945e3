/**
 * RSA in the core (RFC 8017 primitives): key slots, the private and the public
 * operation. Key generation (FIPS 186-5) is keygen.ts; the generic modPow export
 * is modpow.ts.
 *
 * - Key slots: a private key lives in a fixed-size slot of linear memory
 *   (layout below) from import/generation until `rsaKeyWipe`.
 * - rsaPrivate: RSASP1/RSADP by CRT (Garner), with base blinding (a pair drawn
 *   afresh every BLIND_USES calls and squared in between) and the final result checked with e (s^e = c mod n) before it is released
 *   (fault attacks, releaseChecked).
 *   Constant time in every secret: the CRT exponentiations are fixed-window
 *   over the whole exponent length, the table is scanned whole, reductions and
 *   the recombination are branch-free. The one variable-time step is the
 *   inversion of the blinding factor r, which is done on r*b mod n for a second
 *   fresh random b (BoringSSL's approach), so its timing is independent of r.
 * - rsaPublic: RSAVP1/RSAEP with the public exponent (variable time in e only).
 *
 * Status codes returned to the host: see index.ts.
 */
import {
  bnAdd,
  bnAddWord,
  bnBitLenVarTime,
  bnCopy,
  bnDivMod,
  bnEqMask,
  bnEqWordMask,
  bnFromBytes,
  bnLtMask,
  bnMul,
  bnSubWord,
  bnToBytes,
  bnZero,
} from "./bignum";
import { modInvVarTime } from "./inverse";
import {
  CTX_K,
  CTX_M,
  CTX_SIZE,
  CTX_TMP0,
  IO_BASE,
  IO_SIZE,
  NUM_BYTES,
  PUB_C3,
  S,
  SCRATCH_BASE,
  SCRATCH_NUMS,
  SCRATCH_SIZE,
} from "./layout";
import {
  ctxK,
  fromMont,
  modSub,
  montMul,
  montSetupVarTime,
  PAIR_MAX_K,
  reduceWide,
  toMont,
} from "./montgomery";
import { montExpVarTime } from "./mont_digits";
import { modExp, modExpVarTime, modPowPublic, publicEntry } from "./mont_fma1";
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
/**
 * The blinding pair of the two-lane private operation (privatePairs), kept between
 * calls: A = r^e and Ai = r^-1 modulo p and modulo q (Montgomery form, PAIR_MAX_K
 * limbs each), and how many more calls it serves (i32 in the header; 0: draw afresh).
 */
export const SLOT_BLIND_LEFT: usize = 16;
export const SLOT_BA_P: usize = SLOT_QINV + NUM_BYTES;
export const SLOT_BA_Q: usize = SLOT_BA_P + (<usize> PAIR_MAX_K << 2);
export const SLOT_BI_P: usize = SLOT_BA_Q + (<usize> PAIR_MAX_K << 2);
export const SLOT_BI_Q: usize = SLOT_BI_P + (<usize> PAIR_MAX_K << 2);
export const SLOT_SIZE: usize = 17408;

/**
 * Calls one blinding pair serves, squared before each reuse, before it is drawn afresh
 * from the host's randomness (OpenSSL's and BoringSSL's BN_BLINDING_COUNTER).
 */
export const BLIND_USES: i32 = 32;

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
export function limbsOf(bytes: i32): i32 {
  return (bytes + 3) >> 2;
}

/** Loads big-endian bytes into a context's modulus and sets it up. */
export function ctxLoad(ctx: usize, src: usize, len: i32): void {
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
  bnDivMod(0, rem, slot + SLOT_D, kn, xm1, kx, rr, bb);
  let good = bnEqMask(rem, dX, kx);
  const ke = load<i32>(slot + SLOT_KE);
  bnMul(prod, dX, kx, slot + SLOT_E, ke);
  bnDivMod(0, rem, prod, kx + ke, xm1, kx, rr, bb);
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
  if (isDefined(ROAMSIGN_FAULT_TEST)) faultTestHook(u);
  bnMul(out, qctx + CTX_M, kq, u, kp);
  const carry = bnAdd(out, out, h, kq);
  bnAddWord(out + (<usize> kq << 2), out + (<usize> kq << 2), kp, carry);
}

/**
 * Releases s (x: kn limbs, plain, < n) at IO_OUT only if s^e = c (mod n) for the
 * operation's input c at S(0): the fault check of every private-key path, on the
 * final output (Boneh-DeMillo-Lipton: a faulty s with s = s_true modulo one prime
 * only gives that prime as gcd(s^e - c, n)). s goes to bytes in scratch, is read back
 * from them and raised to e; the bytes then reach IO_OUT through a mask that is all
 * zeros when the check failed. So the check covers the recombination and the
 * conversion, and a faulty value never reaches IO. Constant time in s and c (e is
 * public); the one branch is on the outcome. Returns OK or ERR_FAULT. Uses S(7), S(8).
 */
function releaseChecked(slot: usize, x: usize): i32 {
  const nctx = slot + SLOT_CTX_N;
  const kn = ctxK(nctx);
  const nBytes = load<i32>(slot + SLOT_NBYTES);
  const bytes = S(7), y = S(8);
  bnToBytes(bytes, nBytes, x, kn);
  bnFromBytes(y, kn, bytes, nBytes);
  toMont(y, y, nctx);
  // the integer kernel on purpose: with the single-lane FMA one here, dudect's secret-key
  // target flagged the signature (docs/wasm-crypto.md, "Techniques tried", issue 20)
  montExpVarTime(y, y, slot + SLOT_E, load<i32>(slot + SLOT_KE), nctx);
  fromMont(y, y, nctx);
  return release(bytes, nBytes, bnEqMask(y, S(0), kn));
}

/**
 * releaseChecked for privatePairs: the same check on the same final value, taken modulo
 * p and modulo q in the two-lane kernel (s^e = c mod p and mod q is s^e = c mod n, as
 * p and q are coprime), against c mod p and mod q (Montgomery form) at cp and cq.
 * Uses S(1), S(2), S(7), S(8).
 */
function releaseCheckedPairs(slot: usize, x: usize, cp: usize, cq: usize): i32 {
  const nctx = slot + SLOT_CTX_N, pctx = slot + SLOT_CTX_P, qctx = slot + SLOT_CTX_Q;
  const kn = ctxK(nctx), kp = ctxK(pctx);
  const nBytes = load<i32>(slot + SLOT_NBYTES);
  const bytes = S(7), y = S(8), yp = S(1), yq = S(2);
  bnToBytes(bytes, nBytes, x, kn);
  bnFromBytes(y, kn, bytes, nBytes);
  reduceWide(yp, y, kn, pctx); // s * R mod p
  reduceWide(yq, y, kn, qctx);
  montExpVarTime2(yp, yq, yp, yq, slot + SLOT_E, load<i32>(slot + SLOT_KE), kp, pctx, qctx);
  return release(bytes, nBytes, bnEqMask(yp, cp, kp) & bnEqMask(yq, cq, kp));
}

/** Copies nBytes at `bytes` to IO_OUT through the mask `ok` (all ones or zero): OK or ERR_FAULT. */
function release(bytes: usize, nBytes: i32, ok: u32): i32 {
  for (let i = 0; i < nBytes; i++) {
    store<u8>(IO_OUT + <usize>i, load<u8>(bytes + <usize>i) & <u8>ok);
  }
  return ok != 0 ? OK : ERR_FAULT;
}

/**
 * FAULT TEST BUILD ONLY: compiled only when asc gets `--use ROAMSIGN_FAULT_TEST=1`
 * (build.ts FAULT_TEST_FLAGS); the shipping builds contain no trace of it (the
 * isDefined() test is false at compile time, so nothing calls it). A transient fault
 * in the recombination: the last word of IO counts Garner calls down, and the call
 * that brings it to zero flips bit 0 of u = (xp - xq) * qInv mod p, so the result is
 * right modulo q and wrong modulo p (rsa_fault_test.ts).
 */
function faultTestHook(u: usize): void {
  const arm = IO_BASE + IO_SIZE - 4;
  const n = load<u32>(arm);
  if (n == 0) return;
  store<u32>(arm, n - 1);
  if (n == 1) store<u32>(u, load<u32>(u) ^ 1);
}

/**
 * The private operation with p and q in the two SIMD lanes (kp == kq), for c at
 * S(0), c < n. Everything runs modulo p and q until the last recombination:
 * 1. the blinding pair A = r^e, Ai = r^-1 (mod p and mod q) of the slot: drawn
 *    afresh (blindingFresh) every BLIND_USES calls, otherwise squared (r becomes r^2:
 *    (r^2)^e = A^2, (r^2)^-1 = Ai^2), as OpenSSL's BN_BLINDING_update does;
 * 2. (c * A)^dP mod p and (c * A)^dQ mod q = c^dP * r, c^dQ * r (e dP = 1 mod p - 1);
 * 3. s = (c^dP * r) * Ai mod p and mod q, the recombination into s mod n, and the
 *    fault check on that final value (releaseChecked: s^e = c mod n) before it reaches
 *    IO_OUT. (The check used to run on s mod p and s mod q before the recombination,
 *    which left a fault in the recombination itself unseen.) A call that fails the
 *    check also drops the pair, so a fault in it cannot outlive the call.
 */
function privatePairs(slot: usize): i32 {
  const nctx = slot + SLOT_CTX_N, pctx = slot + SLOT_CTX_P, qctx = slot + SLOT_CTX_Q;
  const kn = ctxK(nctx), kp = ctxK(pctx);
  const c = S(0), m1 = S(5), m2 = S(6), x = S(9), cp = S(15), cq = S(16);
  const ap = slot + SLOT_BA_P, aq = slot + SLOT_BA_Q;
  const ip = slot + SLOT_BI_P, iq = slot + SLOT_BI_Q;
  // 1. the blinding pair for this call
  const left = load<i32>(slot + SLOT_BLIND_LEFT);
  if (left <= 0) {
    if (blindingFresh(slot) != OK) return ERR_BLINDING;
  } else {
    montMul(ap, ap, ap, pctx);
    montMul(aq, aq, aq, qctx);
    montMul(ip, ip, ip, pctx);
    montMul(iq, iq, iq, qctx);
    store<i32>(slot + SLOT_BLIND_LEFT, left - 1);
  }
  // 2. (c * A)^dP mod p, (c * A)^dQ mod q
  reduceWide(cp, c, kn, pctx); // c mod p, c mod q (Montgomery form)
  reduceWide(cq, c, kn, qctx);
  montMul(m1, cp, ap, pctx);
  montMul(m2, cq, aq, qctx);
  montExp2(m1, m2, m1, m2, slot + SLOT_DP, slot + SLOT_DQ, kp, pctx, qctx);
  // 3. unblind, recombine, check
  montMul(m1, m1, ip, pctx);
  montMul(m2, m2, iq, qctx);
  garner(x, m1, m2, slot);
  const rc = releaseCheckedPairs(slot, x, cp, cq);
  if (rc != OK) blindingDrop(slot);
  return rc;
}

/**
 * Draws the slot's blinding pair afresh: r and b uniform modulo p and q, each from
 * 4kp + 8 random bytes at IO_RAND (so r and b are statistically uniform mod n);
 * A = r^e mod p and mod q (e is public); Ai = r^-1 through x = r*b mod n, inverted
 * in variable time (x is uniform and independent of r for a fresh b: BoringSSL's
 * approach), then r^-1 = x^-1 * b. Returns OK, or ERR_BLINDING (x not invertible: n
 * has a factor found by chance) with the pair dropped. Uses S(1)..S(4), S(7)..S(11).
 */
function blindingFresh(slot: usize): i32 {
  const nctx = slot + SLOT_CTX_N, pctx = slot + SLOT_CTX_P, qctx = slot + SLOT_CTX_Q;
  const kn = ctxK(nctx), kp = ctxK(pctx);
  const rp = S(1), rq = S(2), bp = S(3), bq = S(4), x = S(9), inv = S(10), tmp = S(11);
  const dl = 4 * kp + 8;
  randomResidue(rp, IO_RAND, dl, pctx, tmp);
  randomResidue(rq, IO_RAND + <usize> dl, dl, qctx, tmp);
  randomResidue(bp, IO_RAND + <usize> (2 * dl), dl, pctx, tmp);
  randomResidue(bq, IO_RAND + <usize> (3 * dl), dl, qctx, tmp);
  memory.fill(IO_RAND, 0, <usize> (4 * dl));
  const ap = slot + SLOT_BA_P, aq = slot + SLOT_BA_Q;
  const ip = slot + SLOT_BI_P, iq = slot + SLOT_BI_Q;
  montExpVarTime2(ap, aq, rp, rq, slot + SLOT_E, load<i32>(slot + SLOT_KE), kp, pctx, qctx);
  montMul(rp, rp, bp, pctx); // r*b*R mod p
  montMul(rq, rq, bq, qctx);
  garner(x, rp, rq, slot);
  if (modInvVarTime(inv, x, nctx) == 0) {
    blindingDrop(slot);
    return ERR_BLINDING;
  }
  reduceWide(ip, inv, kn, pctx); // x^-1 * R mod p
  reduceWide(iq, inv, kn, qctx);
  montMul(ip, ip, bp, pctx); // x^-1 * b * R = r^-1 * R mod p
  montMul(iq, iq, bq, qctx);
  store<i32>(slot + SLOT_BLIND_LEFT, BLIND_USES - 1);
  return OK;
}

/**
 * dst = (len random bytes at src, big-endian) * R mod the modulus of ctx: a blinding
 * residue in Montgomery form, statistically uniform when len exceeds the modulus by 8
 * bytes. tmp: scratch for the unreduced number.
 */
function randomResidue(dst: usize, src: usize, len: i32, ctx: usize, tmp: usize): void {
  const k = limbsOf(len);
  bnFromBytes(tmp, k, src, len);
  reduceWide(dst, tmp, k, ctx);
}

/** Wipes the slot's blinding pair; the next private operation draws a fresh one. */
function blindingDrop(slot: usize): void {
  store<i32>(slot + SLOT_BLIND_LEFT, 0);
  memory.fill(slot + SLOT_BA_P, 0, <usize> PAIR_MAX_K << 4);
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
  randomResidue(rM, IO_RAND, rLen, nctx, u);
  randomResidue(bM, IO_RAND + <usize> rLen, rLen, nctx, u);
  memory.fill(IO_RAND, 0, <usize> (2 * rLen));
  // 2. cb = c * r^e mod n (e is public); 3. CRT exponentiations
  modExpVarTime(t, rM, e, ke, nctx);
  montMul(cb, c, t, nctx); // c < n < R; t in Montgomery form -> plain product
  reduceWide(m1, cb, kn, pctx);
  reduceWide(m2, cb, kn, qctx);
  modExp(m1, m1, slot + SLOT_DP, kp, pctx);
  modExp(m2, m2, slot + SLOT_DQ, kq, qctx);
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
  // 6. the fault check on what is released
  return releaseChecked(slot, x);
}

/**
 * Prepares a public Montgomery context for n (big-endian at IO_IN, nLen bytes)
 * in CTX_TMP0 and its entry constant in PUB_C3; the host keeps a copy of those
 * PUB_CTX_SIZE bytes (the "public context") with the key.
 */
export function pubPrepare(nLen: i32): void {
  memory.fill(CTX_TMP0, 0, CTX_SIZE);
  ctxLoad(CTX_TMP0, IO_IN, nLen);
  publicEntry(PUB_C3, CTX_TMP0);
  wipeScratchKeepCtx();
}

/** Completes a public context whose CTX_SIZE bytes the host copied to CTX_TMP0 (PUB_C3). */
export function pubExtend(): void {
  publicEntry(PUB_C3, CTX_TMP0);
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
  modPowPublic(y, x, e, ke, ctx, PUB_C3);
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
