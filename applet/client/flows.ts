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
import { userRequestBytes } from "../../protocol/mod.ts";
import { parseConsentPhrase } from "../../protocol/mod.ts";
import { b64uDecode, b64uEncode } from "../../protocol/mod.ts";
import {
  concat as concatBytes,
  ctEqual,
  fromUtf8,
  randomBytes,
  sha256,
  toHex,
  utf8,
  wipe,
} from "../../protocol/mod.ts";
import { OID_SHA256_WITH_RSA, parseCertificate, pemDecode } from "../../protocol/mod.ts";
import {
  type DebitInstruction,
  deriveHostKeys,
  formatDebitInstruction,
  HOST_KEY_BYTES,
  HOST_NAME_PATTERN,
  hostKeyLabel,
  type HostKeys,
  type HostMessage,
  type HostReply,
  openHost,
  parseReceipt,
  type Receipt,
  sealHost,
} from "../../protocol/mod.ts";
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
} from "../../protocol/mod.ts";
import { normalizeRegistration, type Registration } from "../../protocol/mod.ts";
import { type Anchors, type VaultStatement, vaultStatementBytes } from "../../protocol/mod.ts";
import { u64be } from "../../protocol/mod.ts";
import { RpcError, type Session, type SessionCrypto } from "./session.ts";

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

async function _retrying<T>(send: () => Promise<T>): Promise<T> {
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
function _checkVaultStatement(
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
async function _sessionBinding(session: Session): Promise<string> {
  const { sid, nonce, time } = session.binding;
  return b64uEncode(
    await sha256(concatBytes(utf8("roamsign/session-binding/v1\0"), sid, nonce, u64be(time))),
  );
}

/** A fresh idempotency key: one per logical operation, the same for its retries. */
function _idempotencyKey(): string {
  return b64uEncode(randomBytes(16));
}

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

function _checkLength(passphrase: Uint8Array): void {
  if (passphrase.length < 8) {
    throw new FlowError("weak_passphrase", "The pass phrase must be at least 8 characters.");
  }
}

function _password(passphrase: Uint8Array): string {
  _checkLength(passphrase);
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

/** What apply and re-registration both make: a key pair, its OPAQUE registration and record. */
interface NewKey {
  key: RsaPrivateKey;
  spki: Uint8Array;
  kek: CryptoKey;
  keyRecord: KeyRecord;
  registrationRecord: string;
}

/**
 * A new key pair in wasm-crypto, a new OPAQUE registration under `passphrase`, and the
 * key record sealed under that registration's KEK. The caller destroys `key`; the
 * PKCS#8 bytes are wiped here, the pass phrase by the caller.
 */
async function _newKey(
  session: Session,
  registration: Registration,
  passphrase: Uint8Array,
  o: {
    bits: number;
    ksf: KsfParams;
    sigAlg?: KeyRecord["sigAlg"];
    onProgress?: (fraction: number) => void;
  },
): Promise<NewKey> {
  let password: string | null = _password(passphrase);
  const key = generateRsaKey(o.bits as typeof KEY_SIZES[number], { onProgress: o.onProgress });
  let pkcs8: Uint8Array | null = null;
  try {
    const spki = key.publicKey.exportSpki();
    pkcs8 = key.exportPkcs8();
    const start = opaque.client.startRegistration({ password });
    const binding = await _sessionBinding(session);
    const { registrationResponse, vaultSignature } = await session.call<
      { registrationResponse: string; vaultSignature?: string }
    >(
      "register.start",
      { identity: registration.identity, registrationRequest: start.registrationRequest, binding },
    );
    // Before anything derived from the pass phrase exists: the answer must be the vault's
    // (an OPRF evaluation by anyone else would let them guess the pass phrase offline).
    _checkVaultStatement(session.anchors, {
      kind: "register.start",
      identity: registration.identity,
      requestSha256: b64uEncode(await sha256(b64uDecode(start.registrationRequest))),
      registrationResponse,
      binding,
    }, vaultSignature);
    const finish = opaque.client.finishRegistration({
      clientRegistrationState: start.clientRegistrationState,
      registrationResponse,
      password,
      keyStretching: { "argon2id-custom": o.ksf },
    });
    password = null;
    if (finish.serverStaticPublicKey !== session.anchors.opaqueServerPublicKey) {
      throw new FlowError("untrusted_vault", UNTRUSTED_VAULT_MESSAGE);
    }
    const kek = await _kekFrom(finish.exportKey);
    const keyRecord = await sealKeyRecord({
      kek,
      registration,
      pkcs8,
      spki,
      bits: o.bits,
      sigAlg: o.sigAlg,
      ksf: o.ksf,
    });
    return { key, spki, kek, keyRecord, registrationRecord: finish.registrationRecord };
  } catch (err) {
    key.destroy();
    throw err;
  } finally {
    wipe(pkcs8);
    password = null;
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
  let key: RsaPrivateKey | null = null;
  try {
    const made = await _newKey(session, registration, input.passphrase, {
      bits: input.bits,
      ksf,
      onProgress: input.onProgress,
    });
    key = made.key;
    const { spki, keyRecord } = made;
    const signer = key;
    const idempotencyKey = _idempotencyKey();
    let sentNonce = "";
    const r = await _retrying(() =>
      session.call<ApplyResult & { vaultSignature?: string }>("apply", async (nonce) => {
        sentNonce = nonce;
        const body = {
          registration,
          spki: b64uEncode(spki),
          keyRecord,
          registrationRecord: made.registrationRecord,
          nonce,
          idempotencyKey,
        };
        const pop = signPkcs1v15(
          signer,
          "SHA-256",
          await userRequestBytes("apply", registration.identity, nonce, body),
        );
        return { ...body, pop: b64uEncode(pop) };
      })
    );
    // The vault's own word that it stored this application (not the web server's).
    _checkVaultStatement(session.anchors, {
      kind: "apply",
      identity: registration.identity,
      spkiSha256: b64uEncode(await sha256(spki)),
      status: r.status,
      consentExpiresAt: r.consentExpiresAt ?? null,
      nonce: sentNonce,
    }, r.vaultSignature);
    return { status: r.status, consentExpiresAt: r.consentExpiresAt };
  } finally {
    wipe(input.passphrase);
    key?.destroy();
  }
}

/** Consent (DESIGN.md §2.4): the phrase is typo-checked before anything is sent. */
export async function giveConsent(
  session: Session,
  input: { registration: Registration; phrase: string },
): Promise<{ status: string; certificate: string }> {
  const registration = normalizeRegistration(input.registration);
  parseConsentPhrase(input.phrase).fill(0); // throws ConsentPhraseError on a typo
  const idempotencyKey = _idempotencyKey();
  return await _retrying(() =>
    session.call("consent", { registration, phrase: input.phrase, idempotencyKey })
  );
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
    const { loginId, finish } = await _opaqueLogin(
      session,
      "login.start",
      input.identity,
      password,
      input.ksfFloor,
    );
    password = null;
    const kek = await _kekFrom(finish.exportKey);
    const released = await session.call<
      { keyRecord: unknown; registration: Registration; certificate: string }
    >("login.finish", { loginId, finishLoginRequest: finish.finishLoginRequest });
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

/**
 * The client half of an OPAQUE login up to `login.finish` (shared by sign-in and
 * re-authentication): `login.start` (or the web server's `reauth.start`, which runs
 * the vault's `login.start` for the signed-in user), then the client's finish. A wrong
 * pass phrase fails here, in the client, and nothing more is sent.
 */
async function _opaqueLogin(
  session: Session,
  startOp: "login.start" | "reauth.start",
  identity: string,
  password: string,
  ksfFloor: KsfParams | undefined,
) {
  const start = opaque.client.startLogin({ password });
  const started = await session.call<{ loginId: string; loginResponse: string; ksf: unknown }>(
    startOp,
    { identity, startLoginRequest: start.startLoginRequest },
  );
  // The vault sends the record's `kdf` ({ name, ksf, params }); accept bare params too.
  const kdf = started.ksf as { params?: unknown } | null;
  const ksf = checkKsf(kdf?.params ?? kdf, ksfFloor ?? KSF_FLOOR);
  const finish = opaque.client.finishLogin({
    clientLoginState: start.clientLoginState,
    loginResponse: started.loginResponse,
    password,
    keyStretching: { "argon2id-custom": ksf },
  });
  if (!finish) {
    throw new FlowError("wrong_passphrase", "Wrong identity or pass phrase.");
  }
  // A login answer from another OPAQUE server (a relay that registered a guess under its
  // own setup) must not learn that the guess was right: nothing more is sent.
  if (finish.serverStaticPublicKey !== session.anchors.opaqueServerPublicKey) {
    throw new FlowError("untrusted_vault", UNTRUSTED_VAULT_MESSAGE);
  }
  return { loginId: started.loginId, finish };
}

/**
 * Re-authentication before a re-registration or a revocation (docs/lifecycle.md): a
 * fresh OPAQUE login with the user's CURRENT pass phrase, in the signed-in session.
 * Returns the `loginId` the vault recorded as proof (single use, valid for 2 minutes).
 * A wrong pass phrase is `wrong_passphrase` and changes nothing: the user stays signed
 * in. The pass phrase bytes are wiped before this returns.
 */
export async function reauthenticate(
  session: Session,
  user: SignedIn,
  currentPassphrase: Uint8Array,
  ksfFloor?: KsfParams,
): Promise<string> {
  let password: string | null = null;
  try {
    password = _password(currentPassphrase);
    const { loginId, finish } = await _opaqueLogin(
      session,
      "reauth.start",
      user.identity,
      password,
      ksfFloor,
    );
    password = null;
    await session.call<{ loginId: string }>("reauth.finish", {
      loginId,
      finishLoginRequest: finish.finishLoginRequest,
    });
    return loginId;
  } catch (err) {
    // A too-short or malformed "current pass phrase" is just a wrong one.
    if (
      err instanceof FlowError && (err.code === "weak_passphrase" || err.code === "bad_passphrase")
    ) {
      throw new FlowError("wrong_passphrase", "Wrong current pass phrase.");
    }
    if (err instanceof FlowError && err.code === "wrong_passphrase") {
      throw new FlowError("wrong_passphrase", "Wrong current pass phrase.");
    }
    throw err;
  } finally {
    wipe(currentPassphrase);
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
  // Verification changes nothing: retrying it is always safe.
  const r = await _retrying(() =>
    session.call<{ verified: boolean; serial?: string }>("message.submit", {
      message: b64uEncode(message),
      signature: b64uEncode(signature),
      alg: "RSASSA-PKCS1-v1_5-SHA256",
    })
  );
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

/** Inputs of {@link reregister}. */
export interface ReregisterInput {
  /** UTF-8 pass phrase (new, or the same again); wiped before this returns. */
  passphrase: Uint8Array;
  /**
   * UTF-8 CURRENT pass phrase, for the fresh login the vault requires first
   * ({@link reauthenticate}); wiped before this returns. Or, instead:
   */
  currentPassphrase?: Uint8Array;
  /** The `loginId` of a {@link reauthenticate} done just before (at most 2 minutes). */
  reauthLoginId?: string;
  bits: number;
  onProgress?: (fraction: number) => void;
  ksf?: KsfParams;
  ksfFloor?: KsfParams;
}

/** What the vault answers to a re-registration. */
export interface ReregisterResult {
  certificate: string;
  serial: string;
  superseded: string;
}

/**
 * Re-registration (DESIGN.md §2.9): always a new key pair and a new record, under
 * the KEK of a new OPAQUE registration (new pass phrase, or the same one again).
 * The request carries the new record, the new PKu and a signature by the current
 * SKu; no consent. On success `user` holds the new key, KEK, record and
 * certificate, and the old key is destroyed.
 */
export async function reregister(
  session: Session,
  user: SignedIn,
  input: ReregisterInput,
): Promise<ReregisterResult> {
  if (!KEY_SIZES.includes(input.bits as typeof KEY_SIZES[number])) {
    throw new FlowError("bad_key_size", "Key size must be 2048, 3072 or 4096 bits.");
  }
  const ksf = checkKsf(input.ksf ?? KSF_DEFAULT, input.ksfFloor ?? KSF_FLOOR);
  let key: RsaPrivateKey | null = null;
  try {
    _checkLength(input.passphrase); // a too short new pass phrase fails before anything runs
    // First: a wrong current pass phrase fails at once, before the key generation, and a
    // re-registration racing this one finds this session already re-authenticated, so it
    // loses at the vault (`key_superseded`). The proof's 2 minutes cover the rest.
    const reauthLoginId = input.reauthLoginId ??
      await reauthenticate(
        session,
        user,
        input.currentPassphrase ?? new Uint8Array(),
        input.ksfFloor,
      );
    const made = await _newKey(session, user.registration, input.passphrase, {
      bits: input.bits,
      ksf,
      sigAlg: user.record.sigAlg,
      onProgress: input.onProgress,
    });
    key = made.key;
    const { spki, kek, keyRecord } = made;
    const idempotencyKey = _idempotencyKey();
    let sentNonce = "";
    const r = await _retrying(() =>
      session.call<ReregisterResult & { vaultSignature?: string }>("reregister", async (nonce) => {
        sentNonce = nonce;
        const body = {
          identity: user.identity,
          spki: b64uEncode(spki),
          keyRecord,
          registrationRecord: made.registrationRecord,
          reauthLoginId,
          nonce,
          idempotencyKey,
        };
        const signature = signPkcs1v15(
          user.key,
          "SHA-256",
          await userRequestBytes("reregister", user.identity, nonce, body),
        );
        return { ...body, signature: b64uEncode(signature) };
      })
    );
    _checkVaultStatement(session.anchors, {
      kind: "reregister",
      identity: user.identity,
      spkiSha256: b64uEncode(await sha256(spki)),
      serial: r.serial,
      superseded: r.superseded,
      nonce: sentNonce,
    }, r.vaultSignature);
    if (!ctEqual(parseCertificate(pemDecode(r.certificate)).spki, spki)) {
      throw new FlowError("bad_certificate", "The new certificate is not for the new key.");
    }
    user.key.destroy();
    user.key = key;
    key = null;
    user.kek = kek;
    user.record = keyRecord;
    user.certificate = r.certificate;
    return { certificate: r.certificate, serial: r.serial, superseded: r.superseded };
  } finally {
    wipe(input.passphrase, input.currentPassphrase ?? null);
    key?.destroy();
  }
}

/**
 * Revocation by the user (DESIGN.md §2.10): a fresh login with the CURRENT pass phrase
 * ({@link reauthenticate}; the bytes are wiped before this returns), or the `loginId`
 * of one done just before, then a request signed with SKu that names that login. The
 * vault erases the key record and the OPAQUE record; `user` is forgotten here.
 */
export async function revokeKey(
  session: Session,
  user: SignedIn,
  reauth: Uint8Array | string,
  reason?: string,
  ksfFloor?: KsfParams,
): Promise<{ identity: string; status: string; serial: string | null }> {
  const reauthLoginId = typeof reauth === "string"
    ? reauth
    : await reauthenticate(session, user, reauth, ksfFloor);
  const idempotencyKey = _idempotencyKey();
  const r = await _retrying(() =>
    session.call<{ identity: string; status: string; serial: string | null }>(
      "revoke",
      async (nonce) => {
        const body = {
          identity: user.identity,
          ...(reason ? { reason } : {}),
          reauthLoginId,
          nonce,
          idempotencyKey,
        };
        const signature = signPkcs1v15(
          user.key,
          "SHA-256",
          await userRequestBytes("revoke", user.identity, nonce, body),
        );
        return { ...body, signature: b64uEncode(signature) };
      },
    )
  );
  forget(user);
  return r;
}

// ---- host application, end to end (DESIGN.md §2.8, docs/host-bank.md) --------------------

/** The host's keys after {@link checkHostKeys}. */
export interface CheckedHostKeys {
  name: string;
  /** PUB(c,h) as SPKI DER. */
  confidentialitySpki: Uint8Array;
  /** PUB(i,h) as SPKI DER. */
  integritySpki: Uint8Array;
  /** Hex SHA-256 of PUB(i,h)'s SPKI: what a user can compare with the bank's. */
  fingerprint: string;
}

/** Fetches the host's certificates from the web server (`GET /api/host`). */
export async function fetchHostKeys(
  baseUrl = "",
  f: typeof fetch = fetch.bind(globalThis),
): Promise<HostKeys> {
  const res = await f(`${baseUrl}/api/host`, { cache: "no-store" });
  const body = await res.json().catch(() => null) as
    | (HostKeys & { error?: { code?: string; message?: string } })
    | null;
  if (!res.ok || !body) {
    throw new RpcError(
      body?.error?.code ?? "host_unavailable",
      body?.error?.message ?? "The bank is not reachable.",
      res.status,
    );
  }
  return body;
}

/**
 * Checks the host's certificates: PUB(i,h) is the key pinned for this host name in the
 * anchors (SHA-256 of its SPKI), is self-signed and signed PUB(c,h)
 * (sha256WithRSAEncryption, verified by wasm-crypto). Any other key is refused, so the
 * web server that relays them cannot put itself inside the end-to-end channel.
 */
export async function checkHostKeys(keys: HostKeys, anchors: Anchors): Promise<CheckedHostKeys> {
  let fingerprint: string;
  try {
    if (!HOST_NAME_PATTERN.test(keys.name)) throw new Error("name");
    const integrity = parseCertificate(pemDecode(keys.integrityCert));
    const conf = parseCertificate(pemDecode(keys.confidentialityCert));
    const pub = importPublicKeySpki(integrity.spki);
    for (const c of [integrity, conf]) {
      if (c.signatureAlgorithm !== OID_SHA256_WITH_RSA) throw new Error("algorithm");
      if (!verifyPkcs1v15(pub, "SHA-256", c.tbs, c.signature)) throw new Error("signature");
    }
    importPublicKeySpki(conf.spki);
    fingerprint = toHex(await sha256(integrity.spki));
    if (Object.hasOwn(anchors.hosts, keys.name) && anchors.hosts[keys.name] === fingerprint) {
      return {
        name: keys.name,
        confidentialitySpki: conf.spki,
        integritySpki: integrity.spki,
        fingerprint,
      };
    }
  } catch {
    throw new FlowError(
      "bad_host_certificate",
      "The bank's certificates are malformed or not signed by its integrity key.",
    );
  }
  throw new FlowError(
    "untrusted_host",
    "The bank's key is not the one this applet was built to trust; nothing was sent.",
  );
}

/** The payment a user asks for; the applet adds host, message id, signer and date. */
export type DebitRequest = Pick<DebitInstruction, "to" | "amount" | "currency" | "reference">;

/** What {@link sendToHost} returns. */
export interface HostResult {
  instruction: DebitInstruction;
  /** The exact bytes signed. */
  message: Uint8Array;
  signature: Uint8Array;
  receipt: Receipt;
  /** The receipt as signed (canonical JSON) and the host's signature over it. */
  receiptText: string;
  receiptSignature: Uint8Array;
  hostFingerprint: string;
}

/**
 * Signs a debit instruction with SKu and sends it end to end to the host: a fresh
 * KH under PUB(c,h) (wasm-crypto RSA-OAEP), the signed instruction under a key
 * derived from KH. The web server routes the envelope; the host's answer is opened
 * with KH's other direction key and its signature checked with PUB(i,h).
 */
export async function sendToHost(
  session: Session,
  user: SignedIn,
  host: CheckedHostKeys,
  request: DebitRequest,
): Promise<HostResult> {
  const instruction: DebitInstruction = {
    host: host.name,
    messageId: crypto.randomUUID(),
    from: user.identity,
    to: request.to,
    amount: request.amount,
    currency: request.currency,
    reference: request.reference,
    date: new Date().toISOString(),
  };
  const message = utf8(formatDebitInstruction(instruction));
  const signature = signPkcs1v15(user.key, "SHA-256", message);
  const inner: HostMessage = {
    v: 1,
    message: b64uEncode(message),
    signature: b64uEncode(signature),
    alg: "RSASSA-PKCS1-v1_5-SHA256",
  };
  const kh = randomBytes(HOST_KEY_BYTES);
  let plaintext: Uint8Array | null = null;
  let keys;
  let wrapped: Uint8Array;
  try {
    wrapped = encryptOaep(
      importPublicKeySpki(host.confidentialitySpki),
      "SHA-256",
      kh,
      hostKeyLabel(host.name),
    );
    keys = await deriveHostKeys(kh, host.name);
  } finally {
    wipe(kh);
  }
  let sealed;
  try {
    plaintext = utf8(JSON.stringify(inner));
    sealed = await sealHost(keys.c2h, "c2h", host.name, plaintext);
  } finally {
    wipe(plaintext);
  }
  const reply = await session.call<HostReply>("host.submit", {
    key: b64uEncode(wrapped),
    iv: sealed.iv,
    ct: sealed.ct,
  });
  const opened = await openHost(keys.h2c, "h2c", host.name, reply);
  let answer: { receipt?: unknown; signature?: unknown };
  try {
    answer = JSON.parse(fromUtf8(opened));
  } finally {
    wipe(opened);
  }
  if (typeof answer.receipt !== "string" || typeof answer.signature !== "string") {
    throw new FlowError("bad_receipt", "The bank's answer is malformed.");
  }
  const receiptSignature = b64uDecode(answer.signature);
  const pub = importPublicKeySpki(host.integritySpki);
  if (!verifyPkcs1v15(pub, "SHA-256", utf8(answer.receipt), receiptSignature)) {
    throw new FlowError("bad_receipt", "The receipt is not signed by the bank's integrity key.");
  }
  const receipt = parseReceipt(answer.receipt);
  if (
    receipt.messageId !== instruction.messageId || receipt.identity !== user.identity ||
    receipt.host !== host.name || receipt.messageSha256 !== toHex(await sha256(message))
  ) {
    throw new FlowError("bad_receipt", "The receipt is for another message.");
  }
  return {
    instruction,
    message,
    signature,
    receipt,
    receiptText: answer.receipt,
    receiptSignature,
    hostFingerprint: host.fingerprint,
  };
}

/** Forgets SKu (wasm memory wiped by `destroy`) and the KEK reference. */
export function forget(user: SignedIn | null): void {
  if (!user) return;
  user.key.destroy();
  (user as { kek: CryptoKey | null }).kek = null;
}
