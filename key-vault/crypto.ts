/**
 * The vault's own cryptography on applicants' data (WebCrypto only):
 * - `E_CPU` (DESIGN.md §2.3): the key record wrapped once more under a key derived from
 *   the consent phrase: HKDF-SHA256(ikm = the phrase's 80 bits, salt = 16 random bytes,
 *   info = "roamsign consent v1" ‖ 0x00 ‖ identity) → AES-256-GCM, AAD = identity.
 * - the user's public key: SPKI parsing (RSA 2048/3072/4096, e = 65537) and
 *   RSASSA-PKCS1-v1_5 SHA-256 verification of signed user requests.
 *
 * @module
 */
import { b64uDecode, b64uEncode } from "../protocol/mod.ts";
import { ApiError } from "../platform/mod.ts";

const _enc = new TextEncoder();

async function _phraseKey(
  phrase: Uint8Array,
  salt: Uint8Array,
  identity: string,
): Promise<CryptoKey> {
  const ikm = await crypto.subtle.importKey(
    "raw",
    phrase as Uint8Array<ArrayBuffer>,
    "HKDF",
    false,
    [
      "deriveKey",
    ],
  );
  return crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: salt as Uint8Array<ArrayBuffer>,
      info: _enc.encode(`roamsign consent v1\u0000${identity}`),
    },
    ikm,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

/** Wraps `record` under the phrase: base64url(salt ‖ iv ‖ ciphertext ‖ tag). */
export async function wrapUnderPhrase(
  record: Uint8Array,
  phrase: Uint8Array,
  identity: string,
): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await _phraseKey(phrase, salt, identity);
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: _enc.encode(identity) },
      key,
      record as Uint8Array<ArrayBuffer>,
    ),
  );
  const out = new Uint8Array(28 + ct.length);
  out.set(salt);
  out.set(iv, 16);
  out.set(ct, 28);
  return b64uEncode(out);
}

/** Unwraps; returns null when the phrase is not the one it was wrapped under. */
export async function unwrapUnderPhrase(
  wrapped: string,
  phrase: Uint8Array,
  identity: string,
): Promise<Uint8Array | null> {
  const bytes = b64uDecode(wrapped);
  const key = await _phraseKey(phrase, bytes.slice(0, 16), identity);
  try {
    return new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: bytes.slice(16, 28), additionalData: _enc.encode(identity) },
        key,
        bytes.slice(28),
      ),
    );
  } catch {
    return null;
  }
}

/** Constant-time equality of two byte strings of public length. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** SHA-256 of bytes. */
export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
}

/** A user's RSA public key, checked. */
export interface UserPublicKey {
  spki: Uint8Array;
  spkiSha256: string;
  bits: number;
  key: CryptoKey;
}

/**
 * Parses a base64url SubjectPublicKeyInfo as an RSA signing key. Throws 400
 * `bad_public_key` unless it is RSA with a 2048, 3072 or 4096-bit modulus and e = 65537.
 */
export async function parseUserSpki(spkiB64u: string): Promise<UserPublicKey> {
  let spki: Uint8Array;
  let key: CryptoKey;
  try {
    spki = b64uDecode(spkiB64u);
    key = await crypto.subtle.importKey(
      "spki",
      spki as Uint8Array<ArrayBuffer>,
      { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
      true,
      ["verify"],
    );
  } catch {
    throw new ApiError(400, "bad_public_key", "spki: not an RSA SubjectPublicKeyInfo");
  }
  const alg = key.algorithm as RsaHashedKeyAlgorithm;
  const e = Array.from(alg.publicExponent).join(",");
  if (![2048, 3072, 4096].includes(alg.modulusLength) || (e !== "1,0,1" && e !== "0,1,0,1")) {
    throw new ApiError(
      400,
      "bad_public_key",
      `spki: expected RSA 2048/3072/4096 with e = 65537, got ${alg.modulusLength} bits`,
    );
  }
  return { spki, spkiSha256: b64uEncode(await sha256(spki)), bits: alg.modulusLength, key };
}

/** Verifies an RSASSA-PKCS1-v1_5 SHA-256 signature (base64url); false on any malformation. */
export async function verifyUserSignature(
  key: CryptoKey,
  signatureB64u: string,
  data: Uint8Array,
): Promise<boolean> {
  let sig: Uint8Array;
  try {
    sig = b64uDecode(signatureB64u);
  } catch {
    return false;
  }
  const alg = key.algorithm as RsaHashedKeyAlgorithm;
  if (sig.length !== alg.modulusLength / 8) return false;
  return await crypto.subtle.verify(
    "RSASSA-PKCS1-v1_5",
    key,
    sig as Uint8Array<ArrayBuffer>,
    data as Uint8Array<ArrayBuffer>,
  );
}
