/**
 * The sign-in proof of work (docs/rate-limits.md, "Past the per-identity window").
 * Past its per-identity window a `login.start` from a new address is not refused but
 * must carry a solved challenge: SHA-256(challenge ‖ ":" ‖ solution) with `bits` leading
 * zero bits (applet/client/pow.ts solves it). The work grows with how far the window
 * is exceeded, up to {@link POW_MAX_BITS}, so the owner on a fresh browser pays about a
 * second once while every guess past the window costs the guesser the same.
 *
 * A challenge is stateless and bound to the identity and the client address tag:
 *
 *   challenge = "v1." expiresMs "." bits "." rand "." mac
 *   mac       = HMAC-SHA256(tag-key, "pow" ‖ 0x00 ‖ identity ‖ 0x00 ‖ addressTag ‖ 0x00 ‖ expiresMs.bits.rand)
 *
 * (the first 128 bits, base64url), valid {@link POW_TTL_MS}, and single use (its `rand`
 * goes into `nonces`, scope `pow`, when it is spent).
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import { b64uEncode } from "../protocol/mod.ts";
import { leadingZeroBitsAtLeast, POW_MAX_BITS } from "../protocol/mod.ts";
import type { Database } from "./db.ts";
import { spendPowNonce } from "./repositories/mod.ts";
import type { Tagger } from "./tags.ts";

export { POW_MAX_BITS };

/** Work asked for the first attempt past the window (2^14 hashes: tens of ms). */
export const POW_BASE_BITS = 14;
/** One more bit per this many attempts past the window (in the same window). */
export const POW_STEP = 30;
/** How long a challenge may be spent. */
export const POW_TTL_MS = 2 * 60_000;

/** A solved challenge, as `login.start` carries it. */
export interface PowProof {
  challenge: string;
  solution: string;
}

/** Bits asked for the `excess`-th attempt past the window (1-based). */
export function powBits(excess: number): number {
  return Math.min(POW_MAX_BITS, POW_BASE_BITS + Math.floor(Math.max(0, excess - 1) / POW_STEP));
}

function _mac(tags: Tagger, identity: string, addressTag: string, body: string): string {
  return tags.mac("pow", `${identity}\u0000${addressTag}\u0000${body}`).slice(0, 22);
}

/** A fresh challenge for (identity, address) asking for `bits`. */
export function issuePowChallenge(
  tags: Tagger,
  identity: string,
  addressTag: string,
  bits: number,
  now: Date,
): { challenge: string; bits: number } {
  const rand = b64uEncode(crypto.getRandomValues(new Uint8Array(16)));
  const body = `${now.getTime() + POW_TTL_MS}.${bits}.${rand}`;
  return { challenge: `v1.${body}.${_mac(tags, identity, addressTag, body)}`, bits };
}

/**
 * True when `proof` solves a live challenge issued to (identity, address) that nobody
 * spent yet; spends it. Any malformed, foreign, expired, unsolved or spent proof is
 * false (the caller asks for work again).
 */
export async function spendPow(
  db: Kysely<Database>,
  tags: Tagger,
  identity: string,
  addressTag: string,
  proof: PowProof,
  now: Date,
): Promise<boolean> {
  const m = /^v1\.(\d{1,15})\.(\d{1,2})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{22})$/.exec(
    proof.challenge,
  );
  if (!m || !/^[0-9]{1,20}$/.test(proof.solution)) return false;
  const [, expires, bits, rand, mac] = m;
  const body = `${expires}.${bits}.${rand}`;
  const expected = _mac(tags, identity, addressTag, body);
  // The MAC is compared in full; it is not secret once sent, but no prefix oracle either.
  let diff = expected.length ^ mac.length;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ mac.charCodeAt(i);
  if (diff !== 0 || Number(expires) <= now.getTime()) return false;
  const digest = createHash("sha256").update(`${proof.challenge}:${proof.solution}`).digest();
  if (!leadingZeroBitsAtLeast(digest, Number(bits))) return false;
  return await spendPowNonce(db, rand, new Date(Number(expires)));
}
