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
 *                 DK wrapped to the passkey's X25519 key: protocol/passkey_slot.ts
 * wrapped       = AES-256-GCM(KEK, DK), aad = "roamsign/keyslot/v2\0" ‖ kind ‖ "\0" ‖
 *                 identity ‖ "\0" ‖ credentialId ‖ epk ‖ pub (the last three empty for the
 *                 pass phrase)
 * ```
 *
 * Every KEK is a non-extractable CryptoKey; DK exists as bytes only inside
 * {@link withDataKey} (and while a record is made) and is wiped at once. The pass-phrase
 * slot is always the first and always there: a record without one does not parse, so
 * losing a passkey never loses the key. The vault stores a record with the pass-phrase
 * slot only and keeps each passkey's slot beside its credential; after a passkey sign-in
 * it releases the record with that passkey's slot appended.
 *
 * The PRF input is one constant (`PASSKEY_PRF_INPUT`, protocol/passkey_slot.ts), so a
 * discoverable credential can be asked before anyone knows which it is; the per-credential
 * part is the HKDF salt.
 *
 * @module
 */
import { b64uDecode, b64uEncode } from "./base64url.ts";
import { concat, sha256, utf8, wipe } from "./bytes.ts";
import type { Registration } from "./registration.ts";
import { checkPasskeyTags, type PasskeySlot } from "./passkey_slot.ts";
import { b64uLength, DK_BYTES, hkdfAesKey, slotAad, wrapUnder } from "./slot_wrap.ts";
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
    if (b64uLength(s.credentialId as string) < 16 || b64uLength(s.credentialId as string) > 1023) {
      badRecord("credentialId");
    }
    for (const f of ["salt", "pub", "epk", "tag"] as const) {
      if (typeof s[f] !== "string" || b64uLength(s[f] as string) !== 32) badRecord(`slot ${f}`);
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

function _wrappedOf(s: Record<string, unknown>): { iv: string; wrapped: string } {
  if (typeof s.iv !== "string" || b64uLength(s.iv) !== 12) badRecord("slot iv");
  if (typeof s.wrapped !== "string" || b64uLength(s.wrapped) !== DK_BYTES + 16) {
    badRecord("slot wrapped length");
  }
  return { iv: s.iv as string, wrapped: s.wrapped as string };
}

/** The stretching parameters the pass phrase uses, whatever the version. */
export function recordKdf(record: AnyKeyRecord): KeyRecord["kdf"] {
  return record.v === 1 ? record.kdf : record.slots[0].kdf;
}

/** The pass-phrase slot's KEK from OPAQUE's export key (not wiped here). */
export function derivePassphraseKek(exportKey: Uint8Array): Promise<CryptoKey> {
  if (exportKey.length < 32) {
    throw new KeyRecordError("bad_export_key", "kek: export key too short");
  }
  return hkdfAesKey(exportKey, new Uint8Array(0), "roamsign key record v2 passphrase slot");
}

function _payloadAad(identity: string, spkiSha256: string): Uint8Array {
  return concat(utf8("roamsign/keyrecord/v2"), utf8(identity), b64uDecode(spkiSha256));
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
          additionalData: slotAad(record.identity, slot) as BufferSource,
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
    ...await wrapUnder(p.kek, input.dk, slotAad(identity, { kind: "passphrase" })),
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
  return crypto.getRandomValues(new Uint8Array(DK_BYTES));
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
