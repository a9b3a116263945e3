/**
 * The exports of the relaxed build only: build.ts compiles this file as a second entry
 * beside index.ts for that build (VARIANTS.relaxed.entries), so the baseline build has
 * neither the exports nor their code (the two-lane FMA kernel is the relaxed build's);
 * the baseline build's own is index_baseline.ts (kg_candidate).
 *
 * Key generation's two-lane Miller-Rabin (keygen.ts): the host fills each lane with a
 * fresh candidate (kg_sieve until it returns 1), runs rounds on both lanes at once
 * (kg_round2; bit i of the result: lane i passed), and moves a candidate that passed all
 * of FIPS 186-5 Table B.1's rounds into p or q (kg_accept). kg_abort and kg_finish wipe
 * the lanes with p and q. The host uses these when the instance exports them
 * (wasm-crypto/keys.ts), else the baseline build's kg_candidate.
 */
import * as keygen from "./keygen";

/** A fresh candidate (bits/16 bytes at IO_IN) into `lane` (0, 1) if it passes trial division: 1, else 0. */
export function kg_sieve(lane: i32, bits: i32): i32 {
  return keygen.kgSieveVarTime(lane, bits);
}
/** One Miller-Rabin round on both lanes (bases: 2 * bits/16 bytes at IO_RAND): bit i set if lane i passed. */
export function kg_round2(bits: i32): i32 {
  return keygen.kgRound2VarTime(bits);
}
/** The candidate of `lane` becomes p (which 0) or q (which 1, if |p - q| is large enough): 1, else 0. */
export function kg_accept(lane: i32, which: i32, bits: i32): i32 {
  return keygen.kgAcceptVarTime(lane, which, bits);
}
