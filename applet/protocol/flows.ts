/**
 * The user's flows (DESIGN.md §2 steps 3–7, 11) as plain functions over a
 * {@link Session}: apply to register, consent, sign in, sign and submit,
 * update registration, sign out. wasm-crypto does every RSA operation and
 * OPAQUE (`@serenity-kit/opaque`) the password protocol; WebCrypto does
 * AES-GCM and HKDF. The applet's worker runs these, and so can a Deno client.
 *
 * Secrets: the pass phrase arrives as bytes and becomes a string only for the
 * OPAQUE calls (the library's API; docs/architecture.md); OPAQUE's export_key is
 * decoded to bytes at once, turned into a non-extractable KEK and wiped; SKu
 * lives in wasm-crypto memory, its PKCS#8 bytes are wiped after each use.
 *
 * @module
 */
import * as opaque from "@serenity-kit/opaque";
import {
  encryptOaep,
  generateRsaKey,
  importPrivateKeyPkcs8,
  importPublicKeySpki,
  type RsaPrivateKey,
  signPkcs1v15,
  verifyPkcs1v15,
} from "../../wasm-crypto/mod.ts";
import { userRequestBytes } from "../../proxy/user_request.ts";
import { parseConsentPhrase } from "../../proxy/consent_phrase.ts";
import { b64uDecode, b64uEncode } from "./base64url.ts";
import { ctEqual, fromUtf8, sha256, wipe } from "./bytes.ts";
import { parseCertificate, pemDecode } from "./der.ts";
import {
  checkKsf,
  deriveKek,
  type KeyRecord,
  KSF_DEFAULT,
  KSF_FLOOR,
  type KsfParams,
  openKeyRecord,
  parseKeyRecord,
  sealKeyRecord,
} from "./key_record.ts";
import { normalizeRegistration, type Registration } from "./registration.ts";
import type { Session, SessionCrypto } from "./session.ts";

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

/** Key sizes the applet offers. */
export const KEY_SIZES = [2048, 3072, 4096] as const;

/** Inputs of {@link applyToRegister}. */
export interface ApplyInput {
  registration: Registration;
  /** UTF-8 pass phrase; wiped before this returns. */
  passphrase: Uint8Array;
  bits: number;
  /** Key generation progress, 0..1 (an estimate: prime search has no fixed length). */
  onProgress?: (fraction: number) => void;
  /** Stretching parameters; never below {@link KSF_FLOOR} in the applet. */
  ksf?: KsfParams;
  /** Lowest stretching accepted; the applet always uses {@link KSF_FLOOR}. */
  ksfFloor?: KsfParams;
}

/** Answer of the vault to an application. */
export interface ApplyResult {
  status: string;
  consentExpiresAt?: string;
}

function _password(passphrase: Uint8Array): string {
  if (passphrase.length < 8) {
    throw new FlowError("weak_passphrase", "The pass phrase must be at least 8 characters.");
  }
  try {
    return fromUtf8(passphrase);
  } catch {
    throw new FlowError("bad_passphrase", "The pass phrase is not valid text.");
  }
}

async function _kekFrom(exportKey: string): Promise<CryptoKey> {
  const bytes = b64uDecode(exportKey.replace(/=+$/, ""));
  try {
    return await deriveKek(bytes);
  } finally {
    wipe(bytes);
  }
}

/**
 * Apply to register (DESIGN.md §2.3): key pair in wasm-crypto, OPAQUE
 * registration, key record under KEK, then `apply` signed by the new SKu
 * (proof of possession) over the nonce of its own request.
 */
export async function applyToRegister(session: Session, input: ApplyInput): Promise<ApplyResult> {
  const registration = normalizeRegistration(input.registration);
  if (!KEY_SIZES.includes(input.bits as typeof KEY_SIZES[number])) {
    throw new FlowError("bad_key_size", "Key size must be 2048, 3072 or 4096 bits.");
  }
  const ksf = checkKsf(input.ksf ?? KSF_DEFAULT, input.ksfFloor ?? KSF_FLOOR);
  let password: string | null = null;
  let key: RsaPrivateKey | null = null;
  let pkcs8: Uint8Array | null = null;
  try {
    password = _password(input.passphrase);
    key = generateRsaKey(input.bits as typeof KEY_SIZES[number], { onProgress: input.onProgress });
    const spki = key.publicKey.exportSpki();
    pkcs8 = key.exportPkcs8();
    const start = opaque.client.startRegistration({ password });
    const { registrationResponse } = await session.call<{ registrationResponse: string }>(
      "register.start",
      { identity: registration.identity, registrationRequest: start.registrationRequest },
    );
    const finish = opaque.client.finishRegistration({
      clientRegistrationState: start.clientRegistrationState,
      registrationResponse,
      password,
      keyStretching: { "argon2id-custom": ksf },
    });
    password = null;
    const kek = await _kekFrom(finish.exportKey);
    const keyRecord = await sealKeyRecord({
      kek,
      registration,
      pkcs8,
      spki,
      bits: input.bits,
      ksf,
    });
    wipe(pkcs8);
    const signer = key;
    return await session.call<ApplyResult>("apply", async (nonce) => {
      const body = {
        registration,
        spki: b64uEncode(spki),
        keyRecord,
        registrationRecord: finish.registrationRecord,
        nonce,
      };
      const pop = signPkcs1v15(
        signer,
        "SHA-256",
        await userRequestBytes("apply", registration.identity, nonce, body),
      );
      return { ...body, pop: b64uEncode(pop) };
    });
  } finally {
    wipe(input.passphrase, pkcs8);
    key?.destroy();
    password = null;
  }
}

/** Consent (DESIGN.md §2.4): the phrase is typo-checked before anything is sent. */
export async function giveConsent(
  session: Session,
  input: { registration: Registration; phrase: string },
): Promise<{ status: string; certificate: string }> {
  const registration = normalizeRegistration(input.registration);
  parseConsentPhrase(input.phrase).fill(0); // throws ConsentPhraseError on a typo
  return await session.call("consent", { registration, phrase: input.phrase });
}

/** A signed-in user: SKu in wasm-crypto, KEK as a non-extractable key. */
export interface SignedIn {
  identity: string;
  registration: Registration;
  certificate: string;
  record: KeyRecord;
  key: RsaPrivateKey;
  kek: CryptoKey;
}

/** Inputs of {@link signIn}. */
export interface SignInInput {
  identity: string;
  /** UTF-8 pass phrase; wiped before this returns. */
  passphrase: Uint8Array;
  ksfFloor?: KsfParams;
}

/**
 * Sign in (DESIGN.md §2.6): OPAQUE login; a wrong pass phrase fails inside
 * the client (the server's answer does not authenticate), so `login.finish`
 * is never sent and the vault never releases the record. Then the record is
 * decrypted and the patent's hash check runs, and PKu is checked against the
 * certificate.
 */
export async function signIn(session: Session, input: SignInInput): Promise<SignedIn> {
  let password: string | null = null;
  let pkcs8: Uint8Array | null = null;
  try {
    password = _password(input.passphrase);
    const start = opaque.client.startLogin({ password });
    const started = await session.call<{ loginId: string; loginResponse: string; ksf: unknown }>(
      "login.start",
      { identity: input.identity, startLoginRequest: start.startLoginRequest },
    );
    // The vault sends the record's `kdf` ({ name, ksf, params }); accept bare params too.
    const kdf = started.ksf as { params?: unknown } | null;
    const ksf = checkKsf(kdf?.params ?? kdf, input.ksfFloor ?? KSF_FLOOR);
    const finish = opaque.client.finishLogin({
      clientLoginState: start.clientLoginState,
      loginResponse: started.loginResponse,
      password,
      keyStretching: { "argon2id-custom": ksf },
    });
    password = null;
    if (!finish) {
      throw new FlowError("wrong_passphrase", "Wrong identity or pass phrase.");
    }
    const kek = await _kekFrom(finish.exportKey);
    const released = await session.call<
      { keyRecord: unknown; registration: Registration; certificate: string }
    >("login.finish", { loginId: started.loginId, finishLoginRequest: finish.finishLoginRequest });
    const record = parseKeyRecord(released.keyRecord, input.ksfFloor ?? KSF_FLOOR);
    const registration = normalizeRegistration(released.registration);
    if (registration.identity !== input.identity || record.identity !== input.identity) {
      throw new FlowError("key_record_mismatch", "The vault answered for another identity.");
    }
    pkcs8 = await openKeyRecord(kek, record, registration);
    const key = importPrivateKeyPkcs8(pkcs8);
    wipe(pkcs8);
    const spki = key.publicKey.exportSpki();
    const certSpki = parseCertificate(pemDecode(released.certificate)).spki;
    const spkiHash = await sha256(spki);
    if (!ctEqual(spki, certSpki) || b64uEncode(spkiHash) !== record.spkiSha256) {
      key.destroy();
      throw new FlowError(
        "key_record_mismatch",
        "The decrypted key does not match the published certificate.",
      );
    }
    return {
      identity: input.identity,
      registration,
      certificate: released.certificate,
      record,
      key,
      kek,
    };
  } finally {
    wipe(input.passphrase, pkcs8);
    password = null;
  }
}

/** A signature and the server's verdict on it. */
export interface SignResult {
  signature: Uint8Array;
  verified: boolean;
  serial?: string;
}

/**
 * Sign a message (DESIGN.md §2.7): RSASSA-PKCS1-v1_5 SHA-256 with SKu, then
 * submitted over the channel, where the server verifies it with WebCrypto
 * against the directory certificate.
 */
export async function signAndSubmit(
  session: Session,
  user: SignedIn,
  message: Uint8Array,
): Promise<SignResult> {
  const signature = signPkcs1v15(user.key, "SHA-256", message);
  const r = await session.call<{ verified: boolean; serial?: string }>("message.submit", {
    message: b64uEncode(message),
    signature: b64uEncode(signature),
    alg: "RSASSA-PKCS1-v1_5-SHA256",
  });
  return { signature, verified: r.verified === true, serial: r.serial };
}

/**
 * Update registration (DESIGN.md §2.5): the record's hash covers the
 * registration data, so the record is re-sealed under the same KEK for the new
 * data, and the request is signed with SKu.
 */
export async function updateRegistration(
  session: Session,
  user: SignedIn,
  next: Registration,
): Promise<{ status: string }> {
  const registration = normalizeRegistration(next);
  if (registration.identity !== user.identity) {
    throw new FlowError("bad_registration", "The identity cannot change.");
  }
  const pkcs8 = user.key.exportPkcs8();
  let keyRecord: KeyRecord;
  try {
    keyRecord = await sealKeyRecord({
      kek: user.kek,
      registration,
      pkcs8,
      spki: user.key.publicKey.exportSpki(),
      bits: user.record.bits,
      sigAlg: user.record.sigAlg,
      ksf: user.record.kdf.params,
    });
  } finally {
    wipe(pkcs8);
  }
  const r = await session.call<{ status: string }>("registration.update", async (nonce) => {
    const body = { registration, keyRecord, nonce };
    const signature = signPkcs1v15(
      user.key,
      "SHA-256",
      await userRequestBytes("registration.update", user.identity, nonce, body),
    );
    return { ...body, signature: b64uEncode(signature) };
  });
  user.registration = registration;
  user.record = keyRecord;
  return r;
}

/** Forgets SKu (wasm memory wiped by `destroy`) and the KEK reference. */
export function forget(user: SignedIn | null): void {
  if (!user) return;
  user.key.destroy();
  (user as { kek: CryptoKey | null }).kek = null;
}
