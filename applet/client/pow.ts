/**
 * The client half of the sign-in proof of work (docs/rate-limits.md, "Past the
 * per-identity window"): when the vault answers `login.start` with `pow_required`
 * (details `{ challenge, bits }`), find a `solution` such that
 *
 *   SHA-256(utf8(challenge ‖ ":" ‖ solution)) starts with `bits` zero bits
 *
 * and send `login.start` again with `pow: { challenge, solution }`. Expected work:
 * 2^bits hashes (the vault asks for at most {@link POW_MAX_BITS}: about a second in the
 * applet's worker). Not secret, not constant time: the challenge and the solution are
 * public.
 *
 * @module
 */
import { sha256 } from "../../wasm-crypto/mod.ts";
import { RpcError, type Session } from "./session.ts";

import { leadingZeroBitsAtLeast, POW_MAX_BITS } from "../../protocol/mod.ts";
export { leadingZeroBitsAtLeast, POW_MAX_BITS };

/** What the vault sends with `pow_required`. */
export interface PowChallenge {
  challenge: string;
  bits: number;
}

/** Reads `{ challenge, bits }` from a `pow_required` refusal's details. */
export function powChallengeOf(details: Record<string, unknown> | undefined): PowChallenge {
  const c = details?.challenge, b = details?.bits;
  if (typeof c !== "string" || c.length > 200 || !Number.isInteger(b)) {
    throw new Error("pow: the vault's challenge is malformed");
  }
  if ((b as number) < 0 || (b as number) > POW_MAX_BITS) {
    throw new Error(`pow: ${b} bits asked, at most ${POW_MAX_BITS}`);
  }
  return { challenge: c, bits: b as number };
}

/** Finds a solution by counting up (decimal); about 2^bits hashes. */
export function solvePow({ challenge, bits }: PowChallenge): string {
  const enc = new TextEncoder();
  const prefix = enc.encode(`${challenge}:`);
  const buf = new Uint8Array(prefix.length + 20);
  buf.set(prefix);
  for (let n = 0;; n++) {
    const written = enc.encodeInto(String(n), buf.subarray(prefix.length)).written;
    if (leadingZeroBitsAtLeast(sha256(buf.subarray(0, prefix.length + written)), bits)) {
      return String(n);
    }
  }
}

/**
 * `session.call(op, args)`; when the answer is `pow_required`, solves the challenge
 * and sends the call once more with `pow`. Any other answer is the caller's.
 */
export async function callWithPow<T>(
  session: Session,
  op: string,
  args: Record<string, unknown>,
): Promise<T> {
  try {
    return await session.call<T>(op, args);
  } catch (err) {
    if (!(err instanceof RpcError) || err.code !== "pow_required") throw err;
    const challenge = powChallengeOf(err.details);
    return await session.call<T>(op, {
      ...args,
      pow: { challenge: challenge.challenge, solution: solvePow(challenge) },
    });
  }
}
