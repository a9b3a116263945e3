/**
 * A passkey's slot of a key record v2 (docs/passkeys.md, protocol/key_record_v2.ts): the
 * data key DK wrapped to an X25519 key that only the passkey's WebAuthn PRF output gives.
 *
 * ```
 * passkey = { kind: "passkey", credentialId, salt, pub, epk, iv, wrapped, tag }
 * x       = HKDF-SHA256(ikm = PRF output, salt = the slot's 32-byte salt,
 *                       info = "roamsign key record v2 passkey x25519")        (32 bytes)
 * pub     = X25519(x, 9)                                 (RFC 7748; x as RFC 8410 PKCS#8)
 * epk     = X25519(e, 9) for a new ephemeral key e at every wrap
 * KEK     = HKDF-SHA256(ikm = X25519(e, pub) = X25519(x, epk), salt = epk ‖ pub,
 *                       info = "roamsign key record v2 passkey slot")
 * wrapped = AES-256-GCM(KEK, DK), aad = "roamsign/keyslot/v2\0passkey\0" ‖ identity ‖ "\0" ‖
 *           credentialId ‖ epk ‖ pub
 * tag     = HMAC-SHA256(key = HKDF-SHA256(DK, salt = empty,
 *                                         info = "roamsign passkey slot pub tag"),
 *                       credentialId ‖ salt ‖ pub)
 * ```
 *
 * Wrapping needs only `pub` ({@link wrapToPasskey}), so a re-registration wraps its new DK
 * to every passkey without touching an authenticator; opening needs x
 * ({@link derivePasskeyKek}). `tag` lets whoever holds DK check that `salt` and `pub` are
 * the ones the passkey's owner enrolled ({@link checkPasskeyTags}): a relay that
 * substitutes a key of its own, so that a new DK would be wrapped to it, is refused.
 *
 * Secrets: the PRF output is the caller's (wiped there); x, and the agreement Z, exist as
 * bytes only for the instant they are imported or derived from, and are wiped; x, every
 * ephemeral private key and every KEK are non-extractable CryptoKeys. Not constant time in
 * any sense beyond WebCrypto's own (X25519, HKDF, AES-GCM, HMAC verify).
 *
 * @module
 */
import { b64uDecode, b64uEncode } from "./base64url.ts";
import { concat, utf8, wipe } from "./bytes.ts";
import { KeyRecordError } from "./key_record.ts";
import {
  b64uLength,
  DK_BYTES,
  hkdfAesKey,
  hkdfBase,
  hkdfParams,
  slotAad,
  wrapUnder,
} from "./slot_wrap.ts";

/** A passkey's slot: DK wrapped to the X25519 key its PRF output and `salt` give. */
export interface PasskeySlot {
  kind: "passkey";
  /** base64url WebAuthn credential id. */
  credentialId: string;
  /** base64url 32 random bytes, the HKDF salt of x. */
  salt: string;
  /** base64url X25519 public key of x (32 bytes). */
  pub: string;
  /** base64url X25519 public key of this wrap's ephemeral key (32 bytes). */
  epk: string;
  iv: string;
  wrapped: string;
  /** base64url HMAC-SHA256 under a key from DK over credentialId ‖ salt ‖ pub (32 bytes). */
  tag: string;
}

/** A passkey slot's public parts: all a re-registration needs to wrap a new DK to it. */
export type PasskeyPublic = Pick<PasskeySlot, "credentialId" | "salt" | "pub">;

/** What the applet asks every passkey's PRF to evaluate (docs/passkeys.md). */
export const PASSKEY_PRF_INPUT: Uint8Array = utf8("roamsign/passkey-prf/v1");

/** RFC 8410 §7: PKCS#8 of an X25519 private key is this prefix ‖ the 32 raw bytes. */
const _X25519_PKCS8_PREFIX = Uint8Array.from(
  "302e020100300506032b656e04220420".match(/../g)!,
  (h) => parseInt(h, 16),
);
/** RFC 7748 §4.1: the base point u = 9; X25519(k, 9) is k's public key. */
const _X25519_BASE = Uint8Array.of(9, ...new Uint8Array(31));
const _X25519 = { name: "X25519" } as const;

/**
 * x, the passkey's X25519 private key, as a non-extractable CryptoKey: HKDF of the PRF
 * output with the slot's salt. The bytes of x (and of its PKCS#8) are wiped here; the PRF
 * output is not.
 */
async function _passkeyPrivate(prfOutput: Uint8Array, salt: Uint8Array): Promise<CryptoKey> {
  if (prfOutput.length < 32) {
    throw new KeyRecordError("passkey_no_prf", "kek: the PRF output is too short");
  }
  if (salt.length !== 32) throw new KeyRecordError("bad_key_record", "kek: salt length");
  const pkcs8 = new Uint8Array(_X25519_PKCS8_PREFIX.length + 32);
  let x: Uint8Array | null = null;
  try {
    x = new Uint8Array(
      await crypto.subtle.deriveBits(
        hkdfParams(salt, "roamsign key record v2 passkey x25519"),
        await hkdfBase(prfOutput),
        256,
      ),
    );
    pkcs8.set(_X25519_PKCS8_PREFIX);
    pkcs8.set(x, _X25519_PKCS8_PREFIX.length);
    return await crypto.subtle.importKey("pkcs8", pkcs8, _X25519, false, ["deriveBits"]);
  } finally {
    wipe(x, pkcs8);
  }
}

/** An X25519 public key; `code` when it is not one (wrong length, or refused by WebCrypto). */
async function _x25519Public(raw: Uint8Array, code: string): Promise<CryptoKey> {
  if (raw.length !== 32) throw new KeyRecordError(code, "passkey slot: X25519 key length");
  try {
    return await crypto.subtle.importKey("raw", raw as BufferSource, _X25519, true, []);
  } catch {
    throw new KeyRecordError(code, "passkey slot: not an X25519 public key");
  }
}

/**
 * The shared secret X25519(priv, pub) → KEK = HKDF(Z, epk ‖ pub). Z is wiped; a
 * low-order `pub` (an all-zero Z, which WebCrypto refuses) is `code`.
 */
async function _slotKek(
  priv: CryptoKey,
  other: CryptoKey,
  epk: Uint8Array,
  pub: Uint8Array,
  code: string,
): Promise<CryptoKey> {
  let z: Uint8Array | null = null;
  try {
    z = new Uint8Array(
      await crypto.subtle.deriveBits({ name: "X25519", public: other }, priv, 256),
    );
  } catch {
    throw new KeyRecordError(code, "passkey slot: no X25519 agreement with this key");
  }
  try {
    return await hkdfAesKey(z, concat(epk, pub), "roamsign key record v2 passkey slot");
  } finally {
    wipe(z);
  }
}

/**
 * The passkey's X25519 public key `pub` from its PRF output and the slot's salt (neither
 * wiped here), for a new slot. x stays a non-extractable key: pub = X25519(x, 9).
 */
export async function passkeyPublicKey(
  prfOutput: Uint8Array,
  salt: Uint8Array,
): Promise<Uint8Array> {
  const x = await _passkeyPrivate(prfOutput, salt);
  const base = await _x25519Public(_X25519_BASE, "bad_key_record");
  return new Uint8Array(await crypto.subtle.deriveBits({ name: "X25519", public: base }, x, 256));
}

/**
 * The KEK that opens the passkey slot `slot` with its PRF output (not wiped here):
 * x from the PRF output and salt, Z = X25519(x, epk), KEK = HKDF(Z, epk ‖ pub). A PRF
 * output of another passkey, or a changed salt, epk or pub, gives a KEK that does not open.
 */
export async function derivePasskeyKek(
  prfOutput: Uint8Array,
  slot: PasskeySlot,
): Promise<CryptoKey> {
  const x = await _passkeyPrivate(prfOutput, b64uDecode(slot.salt));
  const epk = b64uDecode(slot.epk);
  const epkKey = await _x25519Public(epk, "key_record_undecryptable");
  return await _slotKek(x, epkKey, epk, b64uDecode(slot.pub), "key_record_undecryptable");
}

/** The key of a slot's tag: HKDF(DK, info "roamsign passkey slot pub tag"), HMAC-SHA256. */
async function _tagKey(dk: Uint8Array): Promise<CryptoKey> {
  if (dk.length !== DK_BYTES) throw new KeyRecordError("bad_key_record", "data key length");
  return await crypto.subtle.deriveKey(
    hkdfParams(new Uint8Array(0), "roamsign passkey slot pub tag"),
    await hkdfBase(dk),
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign", "verify"],
  );
}

/** What a tag covers: credentialId ‖ salt ‖ pub (the last two 32 bytes each). */
function _tagged(p: PasskeyPublic): Uint8Array {
  return concat(b64uDecode(p.credentialId), b64uDecode(p.salt), b64uDecode(p.pub));
}

/**
 * Checks every slot's tag under DK (not wiped here): each `salt` and `pub` are the ones the
 * owner of DK enrolled for that credential. `passkey_slot_untrusted` at the first that is
 * not (a relay that substituted its own key, or a slot made under another data key).
 */
export async function checkPasskeyTags(
  dk: Uint8Array,
  slots: readonly (PasskeyPublic & { tag: string })[],
): Promise<void> {
  const key = await _tagKey(dk);
  for (const s of slots) {
    let ok = false;
    try {
      ok = await crypto.subtle.verify(
        "HMAC",
        key,
        b64uDecode(s.tag) as BufferSource,
        _tagged(s) as BufferSource,
      );
    } catch {
      ok = false;
    }
    if (!ok) {
      throw new KeyRecordError(
        "passkey_slot_untrusted",
        "a passkey's public key is not the one enrolled with this key",
      );
    }
  }
}

/**
 * DK (not wiped here) wrapped to a passkey's public key, for `identity`'s record: a new
 * ephemeral X25519 key, its KEK, and the tag under DK. Needs only the public parts, so a
 * new DK can be wrapped to every passkey without its authenticator. A `pub` that is not
 * an X25519 key of full order is `passkey_slot_untrusted`.
 */
export async function wrapToPasskey(
  dk: Uint8Array,
  identity: string,
  p: PasskeyPublic,
): Promise<PasskeySlot> {
  if (b64uLength(p.salt) !== 32) {
    throw new KeyRecordError("passkey_slot_untrusted", "slot salt length");
  }
  const pub = b64uDecode(p.pub);
  const pubKey = await _x25519Public(pub, "passkey_slot_untrusted");
  const e = await crypto.subtle.generateKey(_X25519, false, ["deriveBits"]) as CryptoKeyPair;
  const epk = new Uint8Array(await crypto.subtle.exportKey("raw", e.publicKey));
  const kek = await _slotKek(e.privateKey, pubKey, epk, pub, "passkey_slot_untrusted");
  const slot = { kind: "passkey" as const, credentialId: p.credentialId, salt: p.salt, pub: p.pub };
  const wrapped = await wrapUnder(kek, dk, slotAad(identity, { ...slot, epk: b64uEncode(epk) }));
  const tag = new Uint8Array(
    await crypto.subtle.sign("HMAC", await _tagKey(dk), _tagged(p) as BufferSource),
  );
  return { ...slot, epk: b64uEncode(epk), ...wrapped, tag: b64uEncode(tag) };
}
