/**
 * Sign in and re-authenticate (DESIGN.md §2 step 5), and forget the signed-in key.
 *
 * @module
 */
import * as opaque from "@serenity-kit/opaque";
import { importPrivateKeyPkcs8, type RsaPrivateKey } from "../../../wasm-crypto/mod.ts";
import {
  b64uEncode,
  checkKsf,
  ctEqual,
  type KeyRecord,
  KSF_FLOOR,
  type KsfParams,
  normalizeRegistration,
  openKeyRecord,
  parseCertificate,
  parseKeyRecord,
  pemDecode,
  pendingConfirmMac,
  type Registration,
  sha256,
  wipe,
} from "../../../protocol/mod.ts";
import type { Session } from "../session.ts";
import { FlowError, kekFrom, opaquePassword, UNTRUSTED_VAULT_MESSAGE } from "./common.ts";
import { callWithPow } from "../pow.ts";

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

/** What `login.finish` releases; `pending`: an update not yet confirmed by a sign-in. */
interface Released {
  keyRecord: unknown;
  registration: Registration;
  certificate: string;
  pending?: { keyRecord: unknown; registration: Registration };
}

/**
 * Sign in (DESIGN.md §2.6): OPAQUE login; a wrong pass phrase fails inside
 * the client (the server's answer does not authenticate), so `login.finish`
 * is never sent and the vault never releases the record. Then the record is
 * decrypted and the patent's hash check runs, and PKu is checked against the
 * certificate.
 *
 * A pending update (docs/lifecycle.md, "Pending key record") is tried first: when it
 * opens and checks out, the applet confirms it (`login.confirm`, a MAC under this
 * login's OPAQUE session key) and the vault makes it current; when it does not (garbage
 * stored by a stolen applet), the current record is used and nothing is confirmed.
 */
export async function signIn(session: Session, input: SignInInput): Promise<SignedIn> {
  let password: string | null = null;
  try {
    password = opaquePassword(input.passphrase);
    const { loginId, finish } = await _opaqueLogin(
      session,
      "login.start",
      input.identity,
      password,
      input.ksfFloor,
    );
    password = null;
    const kek = await kekFrom(finish.exportKey);
    const released = await session.call<Released>("login.finish", {
      loginId,
      finishLoginRequest: finish.finishLoginRequest,
    });
    const floor = input.ksfFloor ?? KSF_FLOOR;
    if (released.pending) {
      const opened = await _openRelease(input.identity, kek, released.pending, released, floor)
        .catch(() => null);
      if (opened) {
        await _confirmPending(session, input.identity, loginId, finish.sessionKey, released);
        return opened;
      }
    }
    return await _openRelease(input.identity, kek, released, released, floor);
  } finally {
    wipe(input.passphrase);
    password = null;
  }
}

/**
 * Opens one released record with its registration data: decrypts, runs the hash check,
 * imports SKu into wasm-crypto and checks PKu against the certificate.
 */
async function _openRelease(
  identity: string,
  kek: CryptoKey,
  which: { keyRecord: unknown; registration: Registration },
  released: Released,
  floor: KsfParams,
): Promise<SignedIn> {
  const record = parseKeyRecord(which.keyRecord, floor);
  const registration = normalizeRegistration(which.registration);
  if (registration.identity !== identity || record.identity !== identity) {
    throw new FlowError("key_record_mismatch", "The vault answered for another identity.");
  }
  const pkcs8 = await openKeyRecord(kek, record, registration);
  let key: RsaPrivateKey;
  try {
    key = importPrivateKeyPkcs8(pkcs8);
  } finally {
    wipe(pkcs8);
  }
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
  return { identity, registration, certificate: released.certificate, record, key, kek };
}

/**
 * Tells the vault that the pending record opened, with a MAC under this login's OPAQUE
 * session key (protocol/pending_record.ts). Best effort: if it does not get through,
 * the next sign-in releases both records again and confirms then.
 */
async function _confirmPending(
  session: Session,
  identity: string,
  loginId: string,
  sessionKey: string,
  released: Released,
): Promise<void> {
  const mac = await pendingConfirmMac(sessionKey, identity, loginId, released.pending!.keyRecord);
  try {
    await session.call("login.confirm", { identity, mac: b64uEncode(mac) });
  } catch {
    // the current record stays current; the next sign-in tries again
  } finally {
    wipe(mac);
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
  const started = await callWithPow<{ loginId: string; loginResponse: string; ksf: unknown }>(
    session,
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
    password = opaquePassword(currentPassphrase);
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
export function forget(user: SignedIn | null): void {
  if (!user) return;
  user.key.destroy();
  (user as { kek: CryptoKey | null }).kek = null;
}
