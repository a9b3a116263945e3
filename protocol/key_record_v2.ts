/**
 * Key record v2 (DESIGN.md §3, docs/passkeys.md): SKu under a random data key DK, and DK
 * wrapped in slots, one per way of signing in.
 *
 * ```
 * { v: 2, identity, spkiSha256, bits, sigAlg, iv, ct, slots: [passphrase, ...passkey] }
 * ct plaintext  = PKCS#8 DER of SKu ‖ SHA-256(PKCS#8 DER ‖ canonical registration data)
 * ct aad        = "roamsign/keyrecord/v2" ‖ identity ‖ spkiSha256        (key: DK)
 * passphrase    = { kind: "passphrase", kdf: { name: "opaque-export-key", ksf, params }, iv, wrapped }
 *   KEK         = HKDF-SHA256(ikm = OPAQUE export_key, salt = empty,
 *                             info = "roamsign key record v2 passphrase slot")
 * passkey       = { kind: "passkey", credentialId, salt, pub, epk, iv, wrapped, tag }
 *   x           = HKDF-SHA256(ikm = WebAuthn PRF output, salt = the slot's 32-byte salt,
 *                             info = "roamsign key record v2 passkey x25519")   (32 bytes)
 *   pub         = X25519(x, 9): the passkey's public key (RFC 7748)
 *   epk         = X25519(e, 9) for a new ephemeral e at every wrap
 *   KEK         = HKDF-SHA256(ikm = X25519(e, pub) = X25519(x, epk), salt = epk ‖ pub,
 *                             info = "roamsign key record v2 passkey slot")
 *   tag         = HMAC-SHA256(HKDF-SHA256(DK, salt = empty, info = "roamsign passkey slot pub tag"),
 *                             credentialId ‖ pub)
 * wrapped       = AES-256-GCM(KEK, DK), aad = "roamsign/keyslot/v2\0" ‖ kind ‖ "\0" ‖
 *                 identity ‖ "\0" ‖ credentialId (empty for the pass phrase) [‖ epk ‖ pub]
 * ```
 *
 * A passkey slot is asymmetric: wrapping DK to it needs only `pub`, so a re-registration
 * wraps its new DK to every passkey without touching any authenticator; opening it needs
 * x, which only the PRF output gives. `tag` lets whoever holds DK check that `pub` is the
 * one the passkey's owner enrolled (a relay that substitutes its own key is refused,
 * {@link checkPasskeyTags}); opening a slot checks it too.
 *
 * Every KEK is a non-extractable CryptoKey; DK exists as bytes only inside
 * {@link withDataKey} (and while a record is made) and is wiped at once. The pass-phrase
 * slot is always the first and always there: a record without one does not parse, so
 * losing a passkey never loses the key. The vault stores a record with the pass-phrase
 * slot only and keeps each passkey's slot beside its credential; after a passkey sign-in
 * it releases the record with that passkey's slot appended.
 *
 * The PRF input is one constant ({@link PASSKEY_PRF_INPUT}), so a discoverable credential
 * can be asked before anyone knows which it is; the per-credential part is the HKDF salt.
 *
 * @module
 */
import { b64uDecode, b64uEncode } from "./base64url.ts";
import { concat, sha256, utf8, wipe } from "./bytes.ts";
import type { Registration } from "./registration.ts";
import {
  badRecord,
  checkRecordIdentity,
  type KeyRecord,
  KeyRecordError,
  KSF_FLOOR,
  type KsfParams,
  openPayload,
  parseKdf,
  parseKeyRecord as parseKeyRecordV1,
  parseRecordFields,
  sealPayload,
  type SigAlg,
} from "./key_record.ts";

/** The pass-phrase slot: DK under the KEK of the OPAQUE export key. */
export interface PassphraseSlot {
  kind: "passphrase";
  kdf: KeyRecord["kdf"];
  iv: string;
  wrapped: string;
}

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
  /** base64url HMAC-SHA256 under a key from DK over credentialId ‖ pub (32 bytes). */
  tag: string;
}

/** A passkey slot's public parts: all a re-registration needs to wrap a new DK to it. */
export type PasskeyPublic = Pick<PasskeySlot, "credentialId" | "salt" | "pub">;

/** Key record v2. */
export interface KeyRecordV2 {
  v: 2;
  identity: string;
  spkiSha256: string;
  bits: number;
  sigAlg: SigAlg;
  iv: string;
  ct: string;
  slots: [PassphraseSlot, ...PasskeySlot[]];
}

/** Either version, as a released record may be (v1 until its next sign-in). */
export type AnyKeyRecord = KeyRecord | KeyRecordV2;

/** The slot a sign-in opened: the pass phrase, or the passkey with this credential id. */
export type SlotRef = { kind: "passphrase" } | { kind: "passkey"; credentialId: string };

/** What the applet asks every passkey's PRF to evaluate (docs/passkeys.md). */
export const PASSKEY_PRF_INPUT: Uint8Array = utf8("roamsign/passkey-prf/v1");

const _DK_BYTES = 32;
const _MAX_SLOTS = 1 + 32;

/** Validates a key record v2 (the pass-phrase slot first, then passkey slots). */
export function parseKeyRecordV2(input: unknown, floor: KsfParams = KSF_FLOOR): KeyRecordV2 {
  const { rec, fields } = parseRecordFields(input, 2);
  const slots = rec.slots;
  if (!Array.isArray(slots) || slots.length < 1 || slots.length > _MAX_SLOTS) badRecord("slots");
  const [first, ...rest] = slots as Record<string, unknown>[];
  if (first?.kind !== "passphrase") badRecord("the pass-phrase slot must come first");
  const passphrase: PassphraseSlot = {
    kind: "passphrase",
    kdf: parseKdf(first.kdf, floor),
    ..._wrappedOf(first),
  };
  const passkeys = rest.map((s): PasskeySlot => {
    if (s?.kind !== "passkey") badRecord("a second pass-phrase slot");
    if (typeof s.credentialId !== "string") badRecord("slot");
    if (_len(s.credentialId as string) < 16 || _len(s.credentialId as string) > 1023) {
      badRecord("credentialId");
    }
    for (const f of ["salt", "pub", "epk", "tag"] as const) {
      if (typeof s[f] !== "string" || _len(s[f] as string) !== 32) badRecord(`slot ${f}`);
    }
    return {
      kind: "passkey",
      credentialId: s.credentialId as string,
      salt: s.salt as string,
      pub: s.pub as string,
      epk: s.epk as string,
      ..._wrappedOf(s),
      tag: s.tag as string,
    };
  });
  return {
    v: 2,
    ...fields,
    iv: rec.iv as string,
    ct: rec.ct as string,
    slots: [passphrase, ...passkeys],
  };
}

/** Parses v1 or v2 by its `v`. */
export function parseAnyKeyRecord(input: unknown, floor: KsfParams = KSF_FLOOR): AnyKeyRecord {
  const v = (input as { v?: unknown } | null)?.v;
  if (v === 2) return parseKeyRecordV2(input, floor);
  return parseKeyRecordV1(input, floor);
}

function _len(b64u: string): number {
  try {
    return b64uDecode(b64u).length;
  } catch {
    return -1;
  }
}

function _wrappedOf(s: Record<string, unknown>): { iv: string; wrapped: string } {
  if (typeof s.iv !== "string" || _len(s.iv) !== 12) badRecord("slot iv");
  if (typeof s.wrapped !== "string" || _len(s.wrapped) !== _DK_BYTES + 16) {
    badRecord("slot wrapped length");
  }
  return { iv: s.iv as string, wrapped: s.wrapped as string };
}

/** The stretching parameters the pass phrase uses, whatever the version. */
export function recordKdf(record: AnyKeyRecord): KeyRecord["kdf"] {
  return record.v === 1 ? record.kdf : record.slots[0].kdf;
}

async function _hkdfBase(ikm: Uint8Array): Promise<CryptoKey> {
  return await crypto.subtle.importKey("raw", ikm as BufferSource, "HKDF", false, [
    "deriveKey",
    "deriveBits",
  ]);
}

function _hkdfParams(salt: Uint8Array, info: string): HkdfParams {
  return {
    name: "HKDF",
    hash: "SHA-256",
    salt: salt as BufferSource,
    info: utf8(info) as BufferSource,
  };
}

async function _hkdfKey(ikm: Uint8Array, salt: Uint8Array, info: string): Promise<CryptoKey> {
  return await crypto.subtle.deriveKey(
    _hkdfParams(salt, info),
    await _hkdfBase(ikm),
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

/** The pass-phrase slot's KEK from OPAQUE's export key (not wiped here). */
export function derivePassphraseKek(exportKey: Uint8Array): Promise<CryptoKey> {
  if (exportKey.length < 32) {
    throw new KeyRecordError("bad_export_key", "kek: export key too short");
  }
  return _hkdfKey(exportKey, new Uint8Array(0), "roamsign key record v2 passphrase slot");
}

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
        _hkdfParams(salt, "roamsign key record v2 passkey x25519"),
        await _hkdfBase(prfOutput),
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
    return await _hkdfKey(z, concat(epk, pub), "roamsign key record v2 passkey slot");
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
  if (dk.length !== _DK_BYTES) throw new KeyRecordError("bad_key_record", "data key length");
  return await crypto.subtle.deriveKey(
    _hkdfParams(new Uint8Array(0), "roamsign passkey slot pub tag"),
    await _hkdfBase(dk),
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign", "verify"],
  );
}

function _tagged(p: { credentialId: string; pub: string }): Uint8Array {
  return concat(b64uDecode(p.credentialId), b64uDecode(p.pub));
}

/**
 * Checks every slot's tag under DK (not wiped here): each `pub` is the one the owner of DK
 * enrolled for that credential. `passkey_slot_untrusted` at the first that is not (a relay
 * that substituted its own key, or a slot made under another data key).
 */
export async function checkPasskeyTags(
  dk: Uint8Array,
  slots: readonly { credentialId: string; pub: string; tag: string }[],
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
  const pub = b64uDecode(p.pub);
  const pubKey = await _x25519Public(pub, "passkey_slot_untrusted");
  const e = await crypto.subtle.generateKey(_X25519, false, ["deriveBits"]) as CryptoKeyPair;
  const epk = new Uint8Array(await crypto.subtle.exportKey("raw", e.publicKey));
  const kek = await _slotKek(e.privateKey, pubKey, epk, pub, "passkey_slot_untrusted");
  const slot = { kind: "passkey" as const, credentialId: p.credentialId, salt: p.salt, pub: p.pub };
  const wrapped = await _wrap(kek, dk, _slotAad(identity, { ...slot, epk: b64uEncode(epk) }));
  const tag = new Uint8Array(
    await crypto.subtle.sign("HMAC", await _tagKey(dk), _tagged(p) as BufferSource),
  );
  return { ...slot, epk: b64uEncode(epk), ...wrapped, tag: b64uEncode(tag) };
}

function _payloadAad(identity: string, spkiSha256: string): Uint8Array {
  return concat(utf8("roamsign/keyrecord/v2"), utf8(identity), b64uDecode(spkiSha256));
}

/** A slot's AAD: its kind and identity; a passkey's also its credential id, epk and pub. */
function _slotAad(
  identity: string,
  slot: { kind: "passphrase" } | Pick<PasskeySlot, "kind" | "credentialId" | "epk" | "pub">,
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

async function _wrap(
  kek: CryptoKey,
  dk: Uint8Array,
  aad: Uint8Array,
): Promise<{ iv: string; wrapped: string }> {
  if (dk.length !== _DK_BYTES) throw new KeyRecordError("bad_key_record", "data key length");
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const wrapped = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv: iv as BufferSource, additionalData: aad as BufferSource },
    kek,
    dk as BufferSource,
  );
  return { iv: b64uEncode(iv), wrapped: b64uEncode(new Uint8Array(wrapped)) };
}

/** The record's slot for `ref`; `key_record_mismatch` when the record has none. */
export function slotOf(record: KeyRecordV2, ref: SlotRef): PassphraseSlot | PasskeySlot {
  const slot = ref.kind === "passphrase"
    ? record.slots[0]
    : record.slots.find((s) => s.kind === "passkey" && s.credentialId === ref.credentialId);
  if (!slot) throw new KeyRecordError("key_record_mismatch", "key record: no slot for this key");
  return slot;
}

/**
 * Runs `use` with DK unwrapped from the slot `ref` under `kek`, and wipes DK after it,
 * whatever happens. `key_record_undecryptable` when the slot does not open; for a passkey
 * slot, `passkey_slot_untrusted` when its tag does not check out under the DK it holds.
 */
export async function withDataKey<T>(
  kek: CryptoKey,
  record: KeyRecordV2,
  ref: SlotRef,
  use: (dk: Uint8Array) => Promise<T>,
): Promise<T> {
  const slot = slotOf(record, ref);
  let dk: Uint8Array;
  try {
    dk = new Uint8Array(
      await crypto.subtle.decrypt(
        {
          name: "AES-GCM",
          iv: b64uDecode(slot.iv) as BufferSource,
          additionalData: _slotAad(record.identity, slot) as BufferSource,
        },
        kek,
        b64uDecode(slot.wrapped) as BufferSource,
      ),
    );
  } catch {
    throw new KeyRecordError("key_record_undecryptable", "key record: the slot does not open");
  }
  try {
    if (slot.kind === "passkey") await checkPasskeyTags(dk, [slot]);
    return await use(dk);
  } finally {
    wipe(dk);
  }
}

function _dataKey(dk: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", dk as BufferSource, "AES-GCM", false, [
    "encrypt",
    "decrypt",
  ]);
}

/** Inputs of {@link sealKeyRecordV2}. */
export interface SealKeyRecordV2Input {
  /** The data key (32 bytes; the caller wipes it): new, or the record's own on an update. */
  dk: Uint8Array;
  /** The pass-phrase slot: made under `passKek`, or kept as it is. */
  passphrase: { kek: CryptoKey; ksf: KsfParams } | PassphraseSlot;
  registration: Registration;
  /** PKCS#8 DER of SKu; not wiped here. */
  pkcs8: Uint8Array;
  spki: Uint8Array;
  bits: number;
  sigAlg?: SigAlg;
}

/** A record v2 with its pass-phrase slot (and no passkey slot: those live at the vault). */
export async function sealKeyRecordV2(input: SealKeyRecordV2Input): Promise<KeyRecordV2> {
  const identity = input.registration.identity.normalize("NFC").trim();
  const spkiSha256 = b64uEncode(await sha256(input.spki));
  const dkKey = await _dataKey(input.dk);
  const { iv, ct } = await sealPayload(
    dkKey,
    _payloadAad(identity, spkiSha256),
    input.pkcs8,
    input.registration,
  );
  const p = input.passphrase;
  const slot: PassphraseSlot = "kind" in p ? { ...p } : {
    kind: "passphrase",
    kdf: { name: "opaque-export-key", ksf: "argon2id", params: { ...p.ksf } },
    ...await _wrap(p.kek, input.dk, _slotAad(identity, { kind: "passphrase" })),
  };
  return {
    v: 2,
    identity,
    spkiSha256,
    bits: input.bits,
    sigAlg: input.sigAlg ?? "RSASSA-PKCS1-v1_5-SHA256",
    iv,
    ct,
    slots: [slot],
  };
}

/** A new, random data key (the caller wipes it). */
export function newDataKey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(_DK_BYTES));
}

/**
 * Opens a record v2 through the slot `ref` with its KEK and runs the hash check against
 * the registration data. Returns the PKCS#8 DER of SKu (the caller wipes it).
 */
export async function openKeyRecordV2(
  kek: CryptoKey,
  ref: SlotRef,
  record: KeyRecordV2,
  registration: Registration,
): Promise<Uint8Array> {
  checkRecordIdentity(record.identity, registration);
  return await withDataKey(kek, record, ref, async (dk) => {
    const key = await _dataKey(dk);
    return await openPayload(
      key,
      _payloadAad(record.identity, record.spkiSha256),
      record,
      registration,
    );
  });
}

/** The record as the vault stores it: the pass-phrase slot only. */
export function storedForm(record: KeyRecordV2): KeyRecordV2 {
  return { ...record, slots: [record.slots[0]] };
}
