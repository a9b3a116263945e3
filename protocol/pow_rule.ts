/**
 * The rule of the sign-in proof of work that both ends share (docs/rate-limits.md, "Past
 * the per-identity window"): SHA-256(utf8(challenge ‖ ":" ‖ solution)) must start with
 * `bits` zero bits, and the vault asks for at most {@link POW_MAX_BITS}. No crypto of its
 * own and no imports, so the vault can use it without the applet's client code.
 *
 * @module
 */

/** The most work the vault asks for. */
export const POW_MAX_BITS = 18;

/** True when `digest` starts with `bits` zero bits. */
export function leadingZeroBitsAtLeast(digest: Uint8Array, bits: number): boolean {
  let i = 0;
  for (; bits >= 8; bits -= 8, i++) if (digest[i] !== 0) return false;
  return bits === 0 || (digest[i] >> (8 - bits)) === 0;
}
