/**
 * The inputs of one benchmark run, made once by the orchestrator and handed to every
 * runtime, so that Chromium and Deno, ours and every peer, work on the same keys
 * (PKCS#8 / SPKI / JWK exported by WebCrypto) and the same numbers.
 *
 * @module
 */
import { fromBase64, toBase64 } from "./impls/bytes.ts";
import { generateKeyMaterial } from "./impls/webcrypto.ts";
import type { KeyMaterial } from "./impls/types.ts";

/** Inputs of one modPow size: base < modulus, full-length exponent, odd full-length modulus. */
export interface ModPowInput {
  bits: number;
  base: Uint8Array;
  exponent: Uint8Array;
  modulus: Uint8Array;
}

export interface BenchInputs {
  /** One WebCrypto key per RSA size. */
  keys: KeyMaterial[];
  /** The message every signature covers (128 random bytes, about a payment order). */
  message: Uint8Array;
  /** The OAEP plaintext (32 random bytes, a session key). */
  oaepPlaintext: Uint8Array;
  modPow: ModPowInput[];
}

function _random(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) {
    crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  }
  return out;
}

/** Random modPow inputs of `bits` bits: top bit set on modulus and exponent, modulus odd, base < modulus. */
export function makeModPowInput(bits: number): ModPowInput {
  const len = bits / 8;
  const modulus = _random(len);
  modulus[0] |= 0x80;
  modulus[len - 1] |= 1;
  const exponent = _random(len);
  exponent[0] |= 0x80;
  const base = _random(len);
  base[0] &= 0x7f; // below 2^(bits−1) ≤ modulus
  return { bits, base, exponent, modulus };
}

export async function makeInputs(
  rsaSizes: readonly number[],
  modPowSizes: readonly number[],
): Promise<BenchInputs> {
  const keys: KeyMaterial[] = [];
  for (const bits of rsaSizes) keys.push(await generateKeyMaterial(bits));
  return {
    keys,
    message: _random(128),
    oaepPlaintext: _random(32),
    modPow: modPowSizes.map(makeModPowInput),
  };
}

/** JSON text of the inputs (bytes as base64), to hand them to a page or a child process. */
export function encodeInputs(inputs: BenchInputs): string {
  return JSON.stringify(inputs, (_k, v) => (v instanceof Uint8Array ? { $b64: toBase64(v) } : v));
}

export function decodeInputs(json: string): BenchInputs {
  return JSON.parse(
    json,
    (_k, v) => (v && typeof v === "object" && typeof v.$b64 === "string" ? fromBase64(v.$b64) : v),
  );
}
