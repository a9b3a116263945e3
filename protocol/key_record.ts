/**
 * Key record v1 (DESIGN.md §3): SKu encrypted under KEK with AES-256-GCM.
 *
 * ```
 * { v: 1, identity, spkiSha256, bits, sigAlg,
 *   kdf: { name: "opaque-export-key", ksf: "argon2id", params }, iv, ct }
 * ct plaintext = PKCS#8 DER of SKu ‖ SHA-256(PKCS#8 DER ‖ canonical registration data)
 * aad          = "roamsign/keyrecord/v1" ‖ identity ‖ spkiSha256
 * ```
 *
 * KEK = HKDF-SHA256(ikm = OPAQUE export_key, salt = empty, info = "roamsign key record v1")
 * and lives only as a non-extractable CryptoKey. Opening the record re-hashes
 * SKu ‖ registration data and compares in constant time: the patent's user
 * authentication step. Every plaintext buffer is wiped after use.
 *
 * @module
 */
import { b64uDecode, b64uEncode } from "./base64url.ts";
import { concat, ctEqual, sha256, utf8, wipe } from "./bytes.ts";
import { canonicalRegistration, type Registration } from "./registration.ts";

/** Argon2id parameters OPAQUE's key stretching used (memory in KiB). */
export interface KsfParams {
  memory: number;
  iterations: number;
  parallelism: number;
}

/** The weakest stretching the applet accepts: OPAQUE's `memory-constrained` (RFC 9106 §4 second choice). */
export const KSF_FLOOR: KsfParams = { memory: 65536, iterations: 3, parallelism: 4 };

/** What the applet registers with. */
export const KSF_DEFAULT: KsfParams = KSF_FLOOR;

/** Signature algorithms a record may name. */
export type SigAlg = "RSASSA-PKCS1-v1_5-SHA256" | "RSA-PSS-SHA256";

/** Key record v1. */
export interface KeyRecord {
  v: 1;
  identity: string;
  spkiSha256: string;
  bits: number;
  sigAlg: SigAlg;
  kdf: { name: "opaque-export-key"; ksf: "argon2id"; params: KsfParams };
  iv: string;
  ct: string;
}

/** Thrown for a record that is malformed, does not decrypt, or fails the hash check. */
export class KeyRecordError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "KeyRecordError";
    this.code = code;
  }
}

const _HASH_BYTES = 32;
const _MAX_CT = 8192; // PKCS#8 of RSA-4096 is ~2.4 KB

/**
 * Checks Argon2id parameters against a floor; returns them normalised.
 * The applet always passes {@link KSF_FLOOR}; only a load generator may pass a lower one.
 */
export function checkKsf(input: unknown, floor: KsfParams = KSF_FLOOR): KsfParams {
  const p = input as Record<string, unknown> | null;
  const int = (v: unknown, max: number) =>
    typeof v === "number" && Number.isSafeInteger(v) && v >= 1 && v <= max;
  if (
    typeof p !== "object" || p === null || !int(p.memory, 1 << 22) || !int(p.iterations, 64) ||
    !int(p.parallelism, 64)
  ) {
    throw new KeyRecordError("bad_ksf", "key record: argon2id parameters malformed");
  }
  const params = {
    memory: p.memory as number,
    iterations: p.iterations as number,
    parallelism: p.parallelism as number,
  };
  if (
    params.memory < floor.memory || params.iterations < floor.iterations ||
    params.memory * params.iterations < floor.memory * floor.iterations
  ) {
    throw new KeyRecordError("weak_ksf", "key record: argon2id parameters below the floor");
  }
  return params;
}

/** Validates the shape of a key record v1 received from elsewhere. */
export function parseKeyRecord(input: unknown, floor: KsfParams = KSF_FLOOR): KeyRecord {
  const { rec, fields } = parseRecordFields(input, 1);
  return {
    v: 1,
    ...fields,
    kdf: parseKdf(rec.kdf, floor),
    iv: rec.iv as string,
    ct: rec.ct as string,
  };
}

/** Throws `bad_key_record` naming what is wrong. */
export function badRecord(what: string): never {
  throw new KeyRecordError("bad_key_record", `key record: ${what}`);
}

/** Checks a record's `kdf` (the pass phrase's: OPAQUE export key, argon2id, params ≥ floor). */
export function parseKdf(input: unknown, floor: KsfParams = KSF_FLOOR): KeyRecord["kdf"] {
  const kdf = input as Record<string, unknown> | null;
  if (
    typeof kdf !== "object" || kdf === null || kdf.name !== "opaque-export-key" ||
    kdf.ksf !== "argon2id"
  ) badRecord("kdf");
  return { name: "opaque-export-key", ksf: "argon2id", params: checkKsf(kdf!.params, floor) };
}

/**
 * The fields v1 and v2 share (identity, spkiSha256, bits, sigAlg) and the payload's
 * `iv`/`ct`, checked; `rec` is the input as an object. For protocol/key_record_v2.ts.
 */
export function parseRecordFields(input: unknown, v: 1 | 2) {
  const r = input as Record<string, unknown> | null;
  if (typeof r !== "object" || r === null || Array.isArray(r)) badRecord("expected an object");
  const rec = r as Record<string, unknown>;
  if (rec.v !== v) badRecord("unsupported version");
  if (typeof rec.identity !== "string" || rec.identity.length === 0) badRecord("identity");
  for (const f of ["spkiSha256", "iv", "ct"] as const) {
    if (typeof rec[f] !== "string") badRecord(f);
  }
  let spkiHash: Uint8Array, iv: Uint8Array, ct: Uint8Array;
  try {
    spkiHash = b64uDecode(rec.spkiSha256 as string);
    iv = b64uDecode(rec.iv as string);
    ct = b64uDecode(rec.ct as string);
  } catch {
    return badRecord("fields are not base64url");
  }
  if (spkiHash.length !== 32) badRecord("spkiSha256 length");
  if (iv.length !== 12) badRecord("iv length");
  if (ct.length < 16 + _HASH_BYTES + 64 || ct.length > _MAX_CT) badRecord("ct length");
  if (rec.bits !== 2048 && rec.bits !== 3072 && rec.bits !== 4096) badRecord("bits");
  if (rec.sigAlg !== "RSASSA-PKCS1-v1_5-SHA256" && rec.sigAlg !== "RSA-PSS-SHA256") {
    badRecord("sigAlg");
  }
  return {
    rec,
    fields: {
      identity: rec.identity as string,
      spkiSha256: rec.spkiSha256 as string,
      bits: rec.bits as number,
      sigAlg: rec.sigAlg as SigAlg,
    },
  };
}

/**
 * KEK = HKDF-SHA256(export_key, salt = empty, info = "roamsign key record v1"),
 * as a non-extractable AES-256-GCM key. Does not wipe `exportKey`.
 */
export async function deriveKek(exportKey: Uint8Array): Promise<CryptoKey> {
  if (exportKey.length < 32) {
    throw new KeyRecordError("bad_export_key", "kek: export key too short");
  }
  const base = await crypto.subtle.importKey("raw", exportKey as BufferSource, "HKDF", false, [
    "deriveKey",
  ]);
  return crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: new Uint8Array(0),
      info: utf8("roamsign key record v1") as BufferSource,
    },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

function _aad(identity: string, spkiSha256: string): Uint8Array {
  return concat(utf8("roamsign/keyrecord/v1"), utf8(identity), b64uDecode(spkiSha256));
}

/** Inputs of {@link sealKeyRecord}. */
export interface SealKeyRecordInput {
  kek: CryptoKey;
  registration: Registration;
  /** PKCS#8 DER of SKu; not wiped here (the caller owns it). */
  pkcs8: Uint8Array;
  /** SPKI DER of PKu. */
  spki: Uint8Array;
  bits: number;
  sigAlg?: SigAlg;
  ksf: KsfParams;
}

/** Encrypts SKu ‖ H(SKu ‖ registration) under KEK. Wipes its own plaintext copy. */
export async function sealKeyRecord(input: SealKeyRecordInput): Promise<KeyRecord> {
  const identity = input.registration.identity.normalize("NFC").trim();
  const spkiSha256 = b64uEncode(await sha256(input.spki));
  const { iv, ct } = await sealPayload(
    input.kek,
    _aad(identity, spkiSha256),
    input.pkcs8,
    input.registration,
  );
  return {
    v: 1,
    identity,
    spkiSha256,
    bits: input.bits,
    sigAlg: input.sigAlg ?? "RSASSA-PKCS1-v1_5-SHA256",
    kdf: { name: "opaque-export-key", ksf: "argon2id", params: { ...input.ksf } },
    iv,
    ct,
  };
}

/**
 * The payload of a key record (v1 and v2): AES-256-GCM under `key` of
 * PKCS#8 ‖ SHA-256(PKCS#8 ‖ canonical registration data), with `aad`. Wipes its own
 * plaintext copies; `pkcs8` stays the caller's. For protocol/key_record_v2.ts.
 */
export async function sealPayload(
  key: CryptoKey,
  aad: Uint8Array,
  pkcs8: Uint8Array,
  registration: Registration,
): Promise<{ iv: string; ct: string }> {
  const reg = canonicalRegistration(registration);
  const hashed = concat(pkcs8, reg);
  const digest = await sha256(hashed);
  const plaintext = concat(pkcs8, digest);
  wipe(hashed, digest);
  try {
    return await gcmSeal(key, aad, plaintext);
  } finally {
    wipe(plaintext);
  }
}

/** AES-256-GCM of `plaintext` (not wiped here) under `key` with a new 12-byte IV and `aad`. */
export async function gcmSeal(
  key: CryptoKey,
  aad: Uint8Array,
  plaintext: Uint8Array,
): Promise<{ iv: string; ct: string }> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv: iv as BufferSource, additionalData: aad as BufferSource },
    key,
    plaintext as BufferSource,
  );
  return { iv: b64uEncode(iv), ct: b64uEncode(new Uint8Array(ct)) };
}

/**
 * Decrypts a record and runs the hash check against the registration data.
 * Returns the PKCS#8 DER of SKu (the caller wipes it). Throws
 * {@link KeyRecordError} `key_record_undecryptable` or `key_record_mismatch`.
 */
export async function openKeyRecord(
  kek: CryptoKey,
  record: KeyRecord,
  registration: Registration,
): Promise<Uint8Array> {
  checkRecordIdentity(record.identity, registration);
  return await openPayload(kek, _aad(record.identity, record.spkiSha256), record, registration);
}

/** Throws `key_record_mismatch` when a record names another identity than `registration`. */
export function checkRecordIdentity(identity: string, registration: Registration): void {
  if (identity !== registration.identity.normalize("NFC").trim()) {
    throw new KeyRecordError("key_record_mismatch", "key record: belongs to another identity");
  }
}

/**
 * Decrypts a payload sealed by {@link sealPayload} and runs the hash check against the
 * registration data; returns the PKCS#8 DER of SKu (the caller wipes it).
 */
export async function openPayload(
  key: CryptoKey,
  aad: Uint8Array,
  sealed: { iv: string; ct: string },
  registration: Registration,
): Promise<Uint8Array> {
  const reg = canonicalRegistration(registration);
  let plaintext: Uint8Array;
  try {
    plaintext = new Uint8Array(
      await crypto.subtle.decrypt(
        {
          name: "AES-GCM",
          iv: b64uDecode(sealed.iv) as BufferSource,
          additionalData: aad as BufferSource,
        },
        key,
        b64uDecode(sealed.ct) as BufferSource,
      ),
    );
  } catch {
    throw new KeyRecordError("key_record_undecryptable", "key record: does not decrypt");
  }
  if (plaintext.length <= _HASH_BYTES) {
    wipe(plaintext);
    throw new KeyRecordError("key_record_mismatch", "key record: too short");
  }
  const split = plaintext.length - _HASH_BYTES;
  const pkcs8 = plaintext.slice(0, split);
  const stored = plaintext.subarray(split);
  const hashed = concat(pkcs8, reg);
  const digest = await sha256(hashed);
  const ok = ctEqual(digest, stored);
  wipe(plaintext, hashed, digest);
  if (!ok) {
    wipe(pkcs8);
    throw new KeyRecordError(
      "key_record_mismatch",
      "key record: hash of key and registration data does not match",
    );
  }
  return pkcs8;
}
