/**
 * A registered user's lifecycle: update registration, re-register, revoke the key
 * (docs/lifecycle.md).
 *
 * @module
 */
import { type RsaPrivateKey, signPkcs1v15 } from "../../../wasm-crypto/mod.ts";
import {
  type AnyKeyRecord,
  b64uEncode,
  ctEqual,
  type KsfParams,
  normalizeRegistration,
  parseCertificate,
  type PasskeySlot,
  pemDecode,
  type Registration,
  sealKeyRecord,
  sealKeyRecordV2,
  sha256,
  userRequestBytes,
  wipe,
  withDataKey,
} from "../../../protocol/mod.ts";
import type { Session } from "../session.ts";
import {
  checkNewLength,
  checkVaultStatement,
  FlowError,
  KEY_SIZES,
  newIdempotencyKey,
  newKey,
  retrying,
} from "./common.ts";
import { trustedPasskeyKeys } from "./passkeys.ts";
import { forget, reauthenticate, type SignedIn } from "./sign_in.ts";

/**
 * Updates the registration data (DESIGN.md §2): the key record sealed again with the new
 * data, signed by SKu. `reauth` is the CURRENT pass phrase (UTF-8, wiped before this
 * returns) for the fresh login the vault requires ({@link reauthenticate}), or the
 * `loginId` of one done just before. A wrong one is `wrong_passphrase`; nothing changes.
 */
export async function updateRegistration(
  session: Session,
  user: SignedIn,
  next: Registration,
  reauth: Uint8Array | string,
  ksfFloor?: KsfParams,
): Promise<{ status: string; pending?: boolean }> {
  let registration: Registration;
  try {
    registration = normalizeRegistration(next);
    if (registration.identity !== user.identity) {
      throw new FlowError("bad_registration", "The identity cannot change.");
    }
  } catch (err) {
    if (typeof reauth !== "string") wipe(reauth);
    throw err;
  }
  // A signed-in applet may be a stolen one: the vault wants a fresh proof of the pass
  // phrase (docs/lifecycle.md, "Re-authentication"). The record keeps the stretching
  // parameters the vault set (those it was opened with).
  const reauthLoginId = typeof reauth === "string"
    ? reauth
    : await reauthenticate(session, user, reauth, ksfFloor);
  const keyRecord = await _resealed(user, registration);
  // Stored as pending: current at the vault from the next sign-in that opens it
  // (docs/lifecycle.md, "Pending key record").
  const r = await session.call<{ status: string; pending?: boolean }>(
    "registration.update",
    async (nonce) => {
      const body = { registration, keyRecord, reauthLoginId, nonce };
      const signature = signPkcs1v15(
        user.key,
        "SHA-256",
        await userRequestBytes("registration.update", user.identity, nonce, body),
      );
      return { ...body, signature: b64uEncode(signature) };
    },
  );
  user.registration = registration;
  // The slots are unchanged (the same data key): keep the one this sign-in opened.
  user.record = keyRecord.v === 2 && user.record.v === 2
    ? { ...keyRecord, slots: [keyRecord.slots[0], ...user.record.slots.slice(1) as PasskeySlot[]] }
    : keyRecord;
  return r;
}

/**
 * The record sealed again for new registration data: v1 under the KEK; v2 under the same
 * data key (unwrapped from the slot this sign-in opened, wiped after), its pass-phrase
 * slot kept as it is, so every passkey's slot still opens it. Returns the stored form.
 */
async function _resealed(user: SignedIn, registration: Registration): Promise<AnyKeyRecord> {
  const pkcs8 = user.key.exportPkcs8();
  const common = {
    registration,
    pkcs8,
    spki: user.key.publicKey.exportSpki(),
    bits: user.record.bits,
    sigAlg: user.record.sigAlg,
  };
  try {
    const record = user.record;
    if (record.v === 1) {
      return await sealKeyRecord({ kek: user.kek, ksf: record.kdf.params, ...common });
    }
    return await withDataKey(
      user.kek,
      record,
      user.slot,
      (dk) => sealKeyRecordV2({ dk, passphrase: record.slots[0], ...common }),
    );
  } finally {
    wipe(pkcs8);
  }
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
  /** Lowest stretching accepted from the vault (which sets it); the applet: KSF_FLOOR. */
  ksfFloor?: KsfParams;
  /** `1` keeps a v1 user on v1 (tests only); a v2 record never goes back. */
  recordVersion?: 1 | 2;
}

/** What the vault answers to a re-registration. */
export interface ReregisterResult {
  certificate: string;
  serial: string;
  superseded: string;
  /** How many passkeys' slots now wrap the new data key (docs/passkeys.md): all of them. */
  passkeysRewrapped: number;
}

/**
 * Re-registration (DESIGN.md §2.9): always a new key pair and a new record, under
 * the KEK of a new OPAQUE registration (new pass phrase, or the same one again).
 * The request carries the new record, the new PKu and a signature by the current
 * SKu; no consent. On success `user` holds the new key, KEK, record and
 * certificate, and the old key is destroyed.
 *
 * The new record has a new data key, wrapped also to every passkey (docs/passkeys.md,
 * "Re-registration"): their public keys come from `passkey.list` and are checked first
 * against their tags under the current data key ({@link trustedPasskeyKeys}); one that
 * does not check out (a relay's own key) is `passkey_slot_untrusted`, before anything
 * else is sent. The vault replaces every passkey's slot in the same transaction.
 */
export async function reregister(
  session: Session,
  user: SignedIn,
  input: ReregisterInput,
): Promise<ReregisterResult> {
  if (!KEY_SIZES.includes(input.bits as typeof KEY_SIZES[number])) {
    throw new FlowError("bad_key_size", "Key size must be 2048, 3072 or 4096 bits.");
  }
  let key: RsaPrivateKey | null = null;
  try {
    checkNewLength(input.passphrase); // a too short new pass phrase fails before anything runs
    // Before anything is sent that changes state: the passkeys to wrap the new data key to,
    // each vouched for by its tag under the current one.
    const passkeys = await trustedPasskeyKeys(session, user);
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
    const made = await newKey(session, user.registration, input.passphrase, {
      bits: input.bits,
      ksfFloor: input.ksfFloor,
      sigAlg: user.record.sigAlg,
      onProgress: input.onProgress,
      reauthLoginId,
      recordVersion: user.record.v === 1 ? input.recordVersion : 2,
      passkeys,
    });
    key = made.key;
    const r = await _sendReregister(session, user, made, reauthLoginId);
    _replaceKey(user, key, made.kek, made.keyRecord, r.certificate);
    key = null;
    const { certificate, serial, superseded, passkeysRewrapped } = r;
    return {
      certificate,
      serial,
      superseded,
      passkeysRewrapped: Number(passkeysRewrapped) || 0,
    };
  } finally {
    wipe(input.passphrase, input.currentPassphrase ?? null);
    key?.destroy();
  }
}

/**
 * `reregister` with the new key's parts, signed by the CURRENT key (retried with one
 * idempotency key); the vault's signed statement and the certificate it issued for the
 * new key are checked (`untrusted_vault`, `bad_certificate`).
 */
async function _sendReregister(
  session: Session,
  user: SignedIn,
  made: Awaited<ReturnType<typeof newKey>>,
  reauthLoginId: string,
): Promise<ReregisterResult> {
  const idempotencyKey = newIdempotencyKey();
  let sentNonce = "";
  const r = await retrying(() =>
    session.call<ReregisterResult & { vaultSignature?: string }>("reregister", async (nonce) => {
      sentNonce = nonce;
      const body = {
        identity: user.identity,
        // What the new record is sealed with (docs/lifecycle.md, "Pending key record").
        registration: user.registration,
        spki: b64uEncode(made.spki),
        keyRecord: made.keyRecord,
        registrationRecord: made.registrationRecord,
        reauthLoginId,
        nonce,
        idempotencyKey,
        // The new data key wrapped to every passkey (docs/passkeys.md, "Re-registration").
        ...(made.passkeySlots.length > 0 ? { passkeySlots: made.passkeySlots } : {}),
      };
      const signature = signPkcs1v15(
        user.key,
        "SHA-256",
        await userRequestBytes("reregister", user.identity, nonce, body),
      );
      return { ...body, signature: b64uEncode(signature) };
    })
  );
  checkVaultStatement(session.anchors, {
    kind: "reregister",
    identity: user.identity,
    spkiSha256: b64uEncode(await sha256(made.spki)),
    serial: r.serial,
    superseded: r.superseded,
    nonce: sentNonce,
  }, r.vaultSignature);
  if (!ctEqual(parseCertificate(pemDecode(r.certificate)).spki, made.spki)) {
    throw new FlowError("bad_certificate", "The new certificate is not for the new key.");
  }
  return r;
}

/** After a re-registration: the new key, its pass-phrase KEK, record and certificate. */
function _replaceKey(
  user: SignedIn,
  key: RsaPrivateKey,
  kek: CryptoKey,
  record: AnyKeyRecord,
  certificate: string,
): void {
  user.key.destroy();
  user.key = key;
  user.kek = kek;
  user.record = record;
  user.slot = { kind: "passphrase" };
  user.certificate = certificate;
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
  const idempotencyKey = newIdempotencyKey();
  const r = await retrying(() =>
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
