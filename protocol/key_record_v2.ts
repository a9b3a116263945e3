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
 * passkey       = { kind: "passkey", credentialId, salt, iv, wrapped }
 *   KEK         = HKDF-SHA256(ikm = WebAuthn PRF output, salt = the slot's 32-byte salt,
 *                             info = "roamsign key record v2 passkey slot")
 * wrapped       = AES-256-GCM(KEK, DK), aad = "roamsign/keyslot/v2\0" ‖ kind ‖ "\0" ‖
 *                 identity ‖ "\0" ‖ credentialId (empty for the pass phrase)
 * ```
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

/** A passkey's slot: DK under the KEK of its PRF output and `salt`. */
export interface PasskeySlot {
  kind: "passkey";
  /** base64url WebAuthn credential id. */
  credentialId: string;
  /** base64url 32 random bytes, the HKDF salt. */
  salt: string;
  iv: string;
  wrapped: string;
}

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
    if (typeof s.credentialId !== "string" || typeof s.salt !== "string") badRecord("slot");
    if (_len(s.credentialId as string) < 16 || _len(s.credentialId as string) > 1023) {
      badRecord("credentialId");
    }
    if (_len(s.salt as string) !== 32) badRecord("salt length");
    return {
      kind: "passkey",
      credentialId: s.credentialId as string,
      salt: s.salt as string,
      ..._wrappedOf(s),
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

async function _hkdfKey(ikm: Uint8Array, salt: Uint8Array, info: string): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey("raw", ikm as BufferSource, "HKDF", false, [
    "deriveKey",
  ]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: salt as BufferSource, info: utf8(info) as BufferSource },
    base,
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

/** A passkey slot's KEK from its PRF output and salt (neither wiped here). */
export function derivePasskeyKek(prfOutput: Uint8Array, salt: Uint8Array): Promise<CryptoKey> {
  if (prfOutput.length < 32) {
    throw new KeyRecordError("passkey_no_prf", "kek: the PRF output is too short");
  }
  if (salt.length !== 32) throw new KeyRecordError("bad_key_record", "kek: salt length");
  return _hkdfKey(prfOutput, salt, "roamsign key record v2 passkey slot");
}

function _payloadAad(identity: string, spkiSha256: string): Uint8Array {
  return concat(utf8("roamsign/keyrecord/v2"), utf8(identity), b64uDecode(spkiSha256));
}

function _slotAad(identity: string, slot: SlotRef): Uint8Array {
  const id = slot.kind === "passkey" ? b64uDecode(slot.credentialId) : new Uint8Array(0);
  return concat(utf8(`roamsign/keyslot/v2\0${slot.kind}\0${identity}\0`), id);
}

/** DK under `kek` for the slot `slot` of `identity`'s record. Does not wipe `dk`. */
export async function wrapDataKey(
  kek: CryptoKey,
  dk: Uint8Array,
  identity: string,
  slot: SlotRef,
): Promise<{ iv: string; wrapped: string }> {
  if (dk.length !== _DK_BYTES) throw new KeyRecordError("bad_key_record", "data key length");
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const wrapped = await crypto.subtle.encrypt(
    {
      name: "AES-GCM",
      iv: iv as BufferSource,
      additionalData: _slotAad(identity, slot) as BufferSource,
    },
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
 * whatever happens. `key_record_undecryptable` when the slot does not open.
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
          additionalData: _slotAad(record.identity, ref) as BufferSource,
        },
        kek,
        b64uDecode(slot.wrapped) as BufferSource,
      ),
    );
  } catch {
    throw new KeyRecordError("key_record_undecryptable", "key record: the slot does not open");
  }
  try {
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
    ...await wrapDataKey(p.kek, input.dk, identity, { kind: "passphrase" }),
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
