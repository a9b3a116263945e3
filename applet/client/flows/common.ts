/**
 * What the user's flows share: their errors, the session crypto done by wasm-crypto,
 * retries, the vault statement check, the pass phrase as OPAQUE's password, the KEK
 * and a new key pair with its key record.
 *
 * @module
 */
import * as opaque from "@serenity-kit/opaque";
import {
  encryptOaep,
  generateRsaKey,
  importPublicKeySpki,
  type RsaPrivateKey,
  verifyPkcs1v15,
} from "../../../wasm-crypto/mod.ts";
import {
  type Anchors,
  type AnyKeyRecord,
  b64uDecode,
  b64uEncode,
  checkKsf,
  concat as concatBytes,
  deriveKek,
  derivePassphraseKek,
  fromUtf8,
  type KeyRecord,
  KeyRecordError,
  KSF_FLOOR,
  type KsfParams,
  newDataKey,
  type PasskeyPublic,
  type PasskeySlot,
  randomBytes,
  type Registration,
  sealKeyRecord,
  sealKeyRecordV2,
  sha256,
  u64be,
  utf8,
  type VaultStatement,
  vaultStatementBytes,
  wipe,
  wrapToPasskey,
} from "../../../protocol/mod.ts";
import { RpcError, type Session, type SessionCrypto } from "../session.ts";
import { callWithPow } from "../pow.ts";
import { characterCount, lengthReason } from "../../passphrase/policy.ts";

/** A flow that stopped for a reason the user should read; `code` is stable. */
export class FlowError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "FlowError";
    this.code = code;
  }
}

/** RSA for the session bootstrap, done by wasm-crypto. */
export const wasmSessionCrypto: SessionCrypto = {
  encryptOaep(spki, plaintext, label) {
    const pub = importPublicKeySpki(spki);
    return encryptOaep(pub, "SHA-256", plaintext, label);
  },
  verifyPkcs1v15(spki, message, signature) {
    const pub = importPublicKeySpki(spki);
    return verifyPkcs1v15(pub, "SHA-256", message, signature);
  },
};

/**
 * Delays before the automatic retries of a transient failure (an `RpcError` that is
 * `retryable`: 503/504 or no answer). Every retry of apply, consent, re-registration
 * and revocation carries the idempotency key of its first attempt, so the vault
 * answers it with the first attempt's outcome if that one got through
 * (docs/faults.md). Then the error goes to the user, who may try again.
 */
export const RETRY_DELAYS_MS = [500, 2_000] as const;

export async function retrying<T>(send: () => Promise<T>): Promise<T> {
  for (let attempt = 0;; attempt++) {
    try {
      return await send();
    } catch (err) {
      if (!(err instanceof RpcError) || !err.retryable || attempt >= RETRY_DELAYS_MS.length) {
        throw err;
      }
      await new Promise((r) => setTimeout(r, RETRY_DELAYS_MS[attempt]));
    }
  }
}

/** The alert a user sees when the vault's answer does not carry the pinned key's signature. */
export const UNTRUSTED_VAULT_MESSAGE =
  "The key vault's answer could not be verified; nothing more was sent.";

/**
 * Checks the vault's signature over a statement with the statement key pinned in the
 * anchors (docs/trust-anchors.md); throws `untrusted_vault` otherwise. The web server
 * relays these answers and cannot make one.
 */
export function checkVaultStatement(
  anchors: Anchors,
  statement: VaultStatement,
  signature: unknown,
): void {
  let ok = false;
  try {
    ok = typeof signature === "string" && verifyPkcs1v15(
      importPublicKeySpki(b64uDecode(anchors.vaultSigningSpki)),
      "SHA-256",
      vaultStatementBytes(statement),
      b64uDecode(signature),
    );
  } catch {
    ok = false;
  }
  if (!ok) throw new FlowError("untrusted_vault", UNTRUSTED_VAULT_MESSAGE);
}

/**
 * What the applet asks the vault to echo in its signed `register.start` answer: a hash
 * of this channel's sid, N(s) and T(s), so an answer made for another session (or
 * another relay's request) does not check out here.
 */
export async function sessionBinding(session: Session): Promise<string> {
  const { sid, nonce, time } = session.binding;
  return b64uEncode(
    await sha256(concatBytes(utf8("roamsign/session-binding/v1\0"), sid, nonce, u64be(time))),
  );
}

/** A fresh idempotency key: one per logical operation, the same for its retries. */
export function newIdempotencyKey(): string {
  return b64uEncode(randomBytes(16));
}

/** Key sizes the applet offers. */
export const KEY_SIZES = [2048, 3072, 4096] as const;

/**
 * The floor for any pass phrase the applet sends to OPAQUE (sign-in included: accounts made
 * before the policy of applet/passphrase/policy.ts may have 8 characters).
 */
export function checkLength(passphrase: Uint8Array): void {
  if (passphrase.length < 8) {
    throw new FlowError("weak_passphrase", "The pass phrase must be at least 8 characters.");
  }
}

/**
 * The length rule of the pass-phrase policy for a **new** pass phrase (apply,
 * re-registration): at least `MIN_LENGTH` (12) characters. The strength score is checked
 * by the page before it hands the phrase over (applet/passphrase/mod.ts); this floor also
 * holds for the flows run without the page (Deno clients, tests).
 */
export function checkNewLength(passphrase: Uint8Array): void {
  let length: number;
  try {
    length = characterCount(fromUtf8(passphrase));
  } catch {
    throw new FlowError("bad_passphrase", "The pass phrase is not valid text.");
  }
  const reason = lengthReason(length);
  if (reason) throw new FlowError("weak_passphrase", reason);
}

export function opaquePassword(passphrase: Uint8Array): string {
  checkLength(passphrase);
  try {
    return fromUtf8(passphrase);
  } catch {
    throw new FlowError("bad_passphrase", "The pass phrase is not valid text.");
  }
}

/** The KEK of a key record v1 from OPAQUE's export key (the decoded bytes are wiped). */
export async function kekFrom(exportKey: string): Promise<CryptoKey> {
  return (await keksFrom(exportKey)).v1;
}

/**
 * Both KEKs an OPAQUE export key gives: v1's (the record's key), and v2's pass-phrase slot
 * key (protocol/key_record_v2.ts). The decoded bytes are wiped before this returns.
 */
export async function keksFrom(exportKey: string): Promise<{ v1: CryptoKey; v2: CryptoKey }> {
  const bytes = b64uDecode(exportKey.replace(/=+$/, ""));
  try {
    return { v1: await deriveKek(bytes), v2: await derivePassphraseKek(bytes) };
  } finally {
    wipe(bytes);
  }
}

/** What apply and re-registration both make: a key pair, its OPAQUE registration and record. */
interface NewKey {
  key: RsaPrivateKey;
  spki: Uint8Array;
  kek: CryptoKey;
  keyRecord: AnyKeyRecord;
  registrationRecord: string;
  /** The new data key wrapped to each passkey asked for (`passkeys`); v2 only. */
  passkeySlots: PasskeySlot[];
}

/**
 * The vault's stretching parameters from its signed `register.start` answer: well formed
 * and not below `floor`, else `weak_ksf` / `bad_ksf`.
 */
function _vaultKsf(offered: unknown, floor: KsfParams | undefined): KsfParams {
  try {
    return checkKsf(offered, floor ?? KSF_FLOOR);
  } catch (err) {
    if (err instanceof KeyRecordError) {
      throw new FlowError(
        err.code,
        "The key vault asked for key stretching weaker than this applet accepts.",
      );
    }
    throw err;
  }
}

/**
 * A new key pair in wasm-crypto, a new OPAQUE registration under `passphrase`, and the
 * key record sealed under that registration's KEK. The caller destroys `key`; the
 * PKCS#8 bytes are wiped here, the pass phrase by the caller.
 */
export async function newKey(
  session: Session,
  registration: Registration,
  passphrase: Uint8Array,
  o: {
    bits: number;
    /** The weakest stretching accepted from the vault; the applet always uses KSF_FLOOR. */
    ksfFloor?: KsfParams;
    sigAlg?: KeyRecord["sigAlg"];
    onProgress?: (fraction: number) => void;
    /** Re-registration: the fresh re-authentication the vault asks for an existing identity. */
    reauthLoginId?: string;
    /**
     * `1`: a key record v1, as applets made before passkeys (tests of the upgrade only;
     * the worker never passes it). Default: v2 with a new data key.
     */
    recordVersion?: 1 | 2;
    /**
     * Re-registration: the passkeys to wrap the new data key to, their public keys already
     * checked against their tags under the current one (docs/passkeys.md).
     */
    passkeys?: readonly PasskeyPublic[];
  },
): Promise<NewKey> {
  checkNewLength(passphrase);
  let password: string | null = opaquePassword(passphrase);
  const key = generateRsaKey(o.bits as typeof KEY_SIZES[number], { onProgress: o.onProgress });
  let pkcs8: Uint8Array | null = null;
  try {
    const spki = key.publicKey.exportSpki();
    pkcs8 = key.exportPkcs8();
    const start = opaque.client.startRegistration({ password });
    const binding = await sessionBinding(session);
    const { registrationResponse, vaultSignature, ksf: offered } = await callWithPow<
      { registrationResponse: string; vaultSignature?: string; ksf?: unknown }
    >(session, "register.start", {
      identity: registration.identity,
      registrationRequest: start.registrationRequest,
      binding,
      ...(o.reauthLoginId ? { reauthLoginId: o.reauthLoginId } : {}),
    });
    // Before anything derived from the pass phrase exists: the answer must be the vault's
    // (an OPRF evaluation by anyone else would let them guess the pass phrase offline),
    // and so must the stretching parameters: the vault sets them and signs them with its
    // answer (a relay that changed them is refused here). The applet uses exactly those
    // (docs/lifecycle.md, "Stretching parameters"), never any below its floor (a vault
    // configured lower serves only test clients).
    checkVaultStatement(session.anchors, {
      kind: "register.start",
      identity: registration.identity,
      requestSha256: b64uEncode(await sha256(b64uDecode(start.registrationRequest))),
      registrationResponse,
      binding,
      ksf: offered as KsfParams,
    }, vaultSignature);
    const ksf = _vaultKsf(offered, o.ksfFloor);
    const finish = opaque.client.finishRegistration({
      clientRegistrationState: start.clientRegistrationState,
      registrationResponse,
      password,
      keyStretching: { "argon2id-custom": ksf },
    });
    password = null;
    if (finish.serverStaticPublicKey !== session.anchors.opaqueServerPublicKey) {
      throw new FlowError("untrusted_vault", UNTRUSTED_VAULT_MESSAGE);
    }
    const keks = await keksFrom(finish.exportKey);
    const kek = o.recordVersion === 1 ? keks.v1 : keks.v2;
    const { keyRecord, passkeySlots } = await _sealNew(kek, registration, pkcs8, spki, {
      bits: o.bits,
      sigAlg: o.sigAlg,
      recordVersion: o.recordVersion,
      ksf,
      passkeys: o.passkeys ?? [],
    });
    return {
      key,
      spki,
      kek,
      keyRecord,
      registrationRecord: finish.registrationRecord,
      passkeySlots,
    };
  } catch (err) {
    key.destroy();
    throw err;
  } finally {
    wipe(pkcs8);
    password = null;
  }
}

/**
 * A new record for a new key: v2 under a new data key, which is also wrapped to every
 * passkey in `o.passkeys` and wiped here; or v1 if asked (no passkey takes a v1 record).
 */
async function _sealNew(
  kek: CryptoKey,
  registration: Registration,
  pkcs8: Uint8Array,
  spki: Uint8Array,
  o: {
    bits: number;
    ksf: KsfParams;
    sigAlg?: KeyRecord["sigAlg"];
    recordVersion?: 1 | 2;
    passkeys: readonly PasskeyPublic[];
  },
): Promise<{ keyRecord: AnyKeyRecord; passkeySlots: PasskeySlot[] }> {
  const common = { registration, pkcs8, spki, bits: o.bits, sigAlg: o.sigAlg };
  if (o.recordVersion === 1) {
    if (o.passkeys.length > 0) throw new Error("applet: passkeys need a key record v2");
    return { keyRecord: await sealKeyRecord({ kek, ksf: o.ksf, ...common }), passkeySlots: [] };
  }
  const dk = newDataKey();
  try {
    const keyRecord = await sealKeyRecordV2({ dk, passphrase: { kek, ksf: o.ksf }, ...common });
    const passkeySlots: PasskeySlot[] = [];
    for (const p of o.passkeys) {
      passkeySlots.push(await wrapToPasskey(dk, keyRecord.identity, p));
    }
    return { keyRecord, passkeySlots };
  } finally {
    wipe(dk);
  }
}

/**
 * Apply to register (DESIGN.md §2.3): key pair in wasm-crypto, OPAQUE
 * registration, key record under KEK, then `apply` signed by the new SKu
 * (proof of possession) over the nonce of its own request.
 */
