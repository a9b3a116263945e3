/**
 * What the slots of a key record v2 share (protocol/key_record_v2.ts,
 * protocol/passkey_slot.ts): HKDF-SHA256, the AES-256-GCM wrap of the data key DK, and
 * each slot's AAD. Internal to protocol/ (not exported by its mod.ts).
 *
 * ```
 * aad = "roamsign/keyslot/v2\0" ‖ kind ‖ "\0" ‖ identity ‖ "\0" ‖ credentialId ‖ epk ‖ pub
 *       (the last three empty for the pass phrase)
 * ```
 *
 * @module
 */
import { b64uDecode } from "./base64url.ts";
import { concat, utf8 } from "./bytes.ts";
import { gcmSeal, KeyRecordError } from "./key_record.ts";

/** The data key's length. */
export const DK_BYTES = 32;

/** The decoded length of a base64url string; -1 when it is not one. */
export function b64uLength(b64u: string): number {
  try {
    return b64uDecode(b64u).length;
  } catch {
    return -1;
  }
}

/** HKDF-SHA256 keying material (non-extractable); `ikm` is not wiped here. */
export async function hkdfBase(ikm: Uint8Array): Promise<CryptoKey> {
  return await crypto.subtle.importKey("raw", ikm as BufferSource, "HKDF", false, [
    "deriveKey",
    "deriveBits",
  ]);
}

/** HKDF-SHA256 parameters with `salt` and the UTF-8 `info`. */
export function hkdfParams(salt: Uint8Array, info: string): HkdfParams {
  return {
    name: "HKDF",
    hash: "SHA-256",
    salt: salt as BufferSource,
    info: utf8(info) as BufferSource,
  };
}

/** A non-extractable AES-256-GCM key = HKDF-SHA256(ikm, salt, info); `ikm` is not wiped here. */
export async function hkdfAesKey(
  ikm: Uint8Array,
  salt: Uint8Array,
  info: string,
): Promise<CryptoKey> {
  return await crypto.subtle.deriveKey(
    hkdfParams(salt, info),
    await hkdfBase(ikm),
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

/** A slot's AAD: its kind and identity; a passkey's also its credential id, epk and pub. */
export function slotAad(
  identity: string,
  slot: { kind: "passphrase" } | {
    kind: "passkey";
    credentialId: string;
    epk: string;
    pub: string;
  },
): Uint8Array {
  const head = utf8(`roamsign/keyslot/v2\0${slot.kind}\0${identity}\0`);
  if (slot.kind === "passphrase") return head;
  return concat(
    head,
    b64uDecode(slot.credentialId),
    b64uDecode(slot.epk),
    b64uDecode(slot.pub),
  );
}

/** DK (not wiped here) under `kek` with a new 12-byte IV and `aad`. */
export async function wrapUnder(
  kek: CryptoKey,
  dk: Uint8Array,
  aad: Uint8Array,
): Promise<{ iv: string; wrapped: string }> {
  if (dk.length !== DK_BYTES) throw new KeyRecordError("bad_key_record", "data key length");
  const { iv, ct } = await gcmSeal(kek, aad, dk);
  return { iv, wrapped: ct };
}
