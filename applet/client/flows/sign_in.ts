/**
 * Sign in and re-authenticate (DESIGN.md §2 step 5), and forget the signed-in key.
 *
 * @module
 */
import * as opaque from "@serenity-kit/opaque";
import {
  importPrivateKeyPkcs8,
  type RsaPrivateKey,
  signPkcs1v15,
} from "../../../wasm-crypto/mod.ts";
import {
  type AnyKeyRecord,
  b64uEncode,
  checkKsf,
  ctEqual,
  type KeyRecord,
  type KeyRecordV2,
  KSF_FLOOR,
  type KsfParams,
  newDataKey,
  normalizeRegistration,
  openKeyRecord,
  openKeyRecordV2,
  parseAnyKeyRecord,
  parseCertificate,
  pemDecode,
  pendingConfirmMac,
  type Registration,
  sealKeyRecordV2,
  sha256,
  type SlotRef,
  userRequestBytes,
  wipe,
} from "../../../protocol/mod.ts";
import type { Session } from "../session.ts";
import { FlowError, keksFrom, opaquePassword, UNTRUSTED_VAULT_MESSAGE } from "./common.ts";
import { callWithPow } from "../pow.ts";

/**
 * A signed-in user: SKu in wasm-crypto; the key record as released (v2: the pass-phrase
 * slot, and after a passkey sign-in that passkey's slot too; v1 until it is upgraded);
 * `kek` the non-extractable KEK of the slot `slot` that opened it (v1: the record's KEK).
 */
export interface SignedIn {
  identity: string;
  registration: Registration;
  certificate: string;
  record: AnyKeyRecord;
  key: RsaPrivateKey;
  kek: CryptoKey;
  slot: SlotRef;
}

/** Inputs of {@link signIn}. */
export interface SignInInput {
  identity: string;
  /** UTF-8 pass phrase; wiped before this returns. */
  passphrase: Uint8Array;
  ksfFloor?: KsfParams;
}

/**
 * What the vault releases after a login. `pending` (an update not yet confirmed by a
 * sign-in, docs/lifecycle.md "Pending key record") comes only with an OPAQUE
 * `login.finish`: a passkey sign-in releases the current record alone (docs/passkeys.md).
 */
export interface Released {
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
 * A record v1 is then upgraded to v2 (docs/passkeys.md) — only one that is current at
 * the vault: the current record, or a pending one whose confirmation went through.
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
    const keks = await keksFrom(finish.exportKey);
    const released = await session.call<Released>("login.finish", {
      loginId,
      finishLoginRequest: finish.finishLoginRequest,
    });
    const floor = input.ksfFloor ?? KSF_FLOOR;
    const open = (which: { keyRecord: unknown; registration: Registration }) =>
      _openWithPassphrase(session, input.identity, keks, which, released.certificate, floor);
    if (released.pending) {
      const opened = await open(released.pending).catch(() => null);
      if (opened) {
        const confirmed = await _confirmPending(
          session,
          input.identity,
          loginId,
          finish.sessionKey,
          released,
        );
        return confirmed ? await _upgradeV1(session, opened, keks.v2) : opened;
      }
    }
    return await _upgradeV1(session, await open(released), keks.v2);
  } finally {
    wipe(input.passphrase);
    password = null;
  }
}

/**
 * One released record (the current one or the pending one) opened with the pass phrase's
 * KEKs: v1 under its record KEK, v2 through its pass-phrase slot.
 */
async function _openWithPassphrase(
  session: Session,
  identity: string,
  keks: { v1: CryptoKey; v2: CryptoKey },
  which: { keyRecord: unknown; registration: Registration },
  certificate: string,
  floor: KsfParams,
): Promise<SignedIn> {
  const record = parseAnyKeyRecord(which.keyRecord, floor);
  const ref: SlotRef = { kind: "passphrase" };
  const user = await unlockReleased(
    session,
    identity,
    { keyRecord: which.keyRecord, registration: which.registration, certificate },
    record,
    (reg) =>
      record.v === 1
        ? openKeyRecord(keks.v1, record, reg)
        : openKeyRecordV2(keks.v2, ref, record, reg),
  );
  return { ...user, kek: record.v === 1 ? keks.v1 : keks.v2, slot: ref };
}

/**
 * The released record opened by `open` (which returns SKu's PKCS#8, wiped here), the
 * key imported into wasm-crypto and checked against the published certificate and the
 * record's `spkiSha256`. `identity`: the one asked for ("" when the sign-in named none).
 */
export async function unlockReleased(
  _session: Session,
  identity: string,
  released: Released,
  record: AnyKeyRecord,
  open: (registration: Registration) => Promise<Uint8Array>,
): Promise<Omit<SignedIn, "kek" | "slot">> {
  const registration = normalizeRegistration(released.registration);
  const named = identity || registration.identity;
  if (registration.identity !== named || record.identity !== named) {
    throw new FlowError("key_record_mismatch", "The vault answered for another identity.");
  }
  let pkcs8: Uint8Array | null = null;
  try {
    pkcs8 = await open(registration);
    const key = importPrivateKeyPkcs8(pkcs8);
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
    return { identity: named, registration, certificate: released.certificate, record, key };
  } finally {
    wipe(pkcs8);
  }
}

/**
 * Tells the vault that the pending record opened, with a MAC under this login's OPAQUE
 * session key (protocol/pending_record.ts). Best effort: if it does not get through,
 * the next sign-in releases both records again and confirms then. True when the vault
 * made the pending record current.
 */
async function _confirmPending(
  session: Session,
  identity: string,
  loginId: string,
  sessionKey: string,
  released: Released,
): Promise<boolean> {
  const mac = await pendingConfirmMac(sessionKey, identity, loginId, released.pending!.keyRecord);
  try {
    await session.call("login.confirm", { identity, mac: b64uEncode(mac) });
    return true;
  } catch {
    // the current record stays current; the next sign-in tries again
    return false;
  } finally {
    wipe(mac);
  }
}

/**
 * A record v1 becomes v2 at its next sign-in (docs/passkeys.md): the same SKu and
 * registration data under a new data key, in the pass-phrase slot under `kekV2`, signed
 * by SKu (`keyrecord.upgrade`, which replaces the vault's current record and drops any
 * pending one). Only for a record that is current at the vault, so the caller skips it
 * when a pending record opened but its confirmation did not go through. If the vault
 * does not take it (it is unreachable, say) the user is signed in with v1 all the same,
 * and the next sign-in tries again. A record v2 is returned as it is.
 */
async function _upgradeV1(
  session: Session,
  user: SignedIn,
  kekV2: CryptoKey,
): Promise<SignedIn> {
  if (user.record.v !== 1) return user;
  const v1 = user.record as KeyRecord;
  const pkcs8 = user.key.exportPkcs8();
  const dk = newDataKey();
  let record: KeyRecordV2;
  try {
    record = await sealKeyRecordV2({
      dk,
      passphrase: { kek: kekV2, ksf: v1.kdf.params },
      registration: user.registration,
      pkcs8,
      spki: user.key.publicKey.exportSpki(),
      bits: v1.bits,
      sigAlg: v1.sigAlg,
    });
  } finally {
    wipe(pkcs8, dk);
  }
  try {
    await session.call("keyrecord.upgrade", async (nonce) => {
      const body = { identity: user.identity, keyRecord: record, nonce };
      const signature = signPkcs1v15(
        user.key,
        "SHA-256",
        await userRequestBytes("keyrecord.upgrade", user.identity, nonce, body),
      );
      return { ...body, signature: b64uEncode(signature) };
    });
  } catch {
    return user;
  }
  return { ...user, record, kek: kekV2 };
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
