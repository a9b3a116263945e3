/**
 * The exports of the baseline build only: build.ts compiles this file as a second entry
 * beside index.ts for that build (VARIANTS.baseline.entries), so the relaxed build,
 * whose key generation runs two candidates at a time (index_relaxed.ts), carries
 * neither the export nor its one-lane Miller-Rabin (about 400 B gzipped of the
 * applet's first load).
 *
 * Key generation's one-candidate search (keygen.ts): a fresh candidate (bits/16 bytes
 * at IO_IN) and `rounds` Miller-Rabin bases (IO_RAND); 1 if it became p (which 0) or
 * q (which 1), else 0. The host uses it when the instance has no kg_round2
 * (wasm-crypto/keys.ts).
 */
import * as keygen from "./keygen";

export function kg_candidate(which: i32, bits: i32, rounds: i32): i32 {
  return keygen.kgCandidateVarTime(which, bits, rounds);
}
