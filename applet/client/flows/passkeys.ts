/**
 * Passkeys (docs/passkeys.md): add one (after the pass phrase again), sign in with one,
 * list and remove them. The WebAuthn ceremonies run in the page (the only place the
 * browser offers them); these are the worker's halves before and after each ceremony.
 * The PRF output arrives from the page as transferred bytes, becomes the passkey's
 * non-extractable X25519 key (its public half at enrollment, a slot's KEK at sign-in) at
 * once and is wiped; the data key exists as bytes only inside `withDataKey`.
 * Every challenge comes from the vault with its statement signature over this session's
 * binding, checked before the page asks the authenticator anything.
 *
 * @module
 */
import { signPkcs1v15 } from "../../../wasm-crypto/mod.ts";
import {
  b64uEncode,
  checkPasskeyTags,
  derivePasskeyKek,
  type KsfParams,
  openKeyRecordV2,
  parseKeyRecordV2,
  type PasskeyPublic,
  passkeyPublicKey,
  type PasskeySlot,
  randomBytes,
  slotOf,
  type SlotRef,
  userRequestBytes,
  wipe,
  withDataKey,
  wrapToPasskey,
} from "../../../protocol/mod.ts";
import type { Session } from "../session.ts";
import { callWithPow } from "../pow.ts";
import { checkVaultStatement, FlowError, sessionBinding } from "./common.ts";
import { reauthenticate, type Released, type SignedIn, unlockReleased } from "./sign_in.ts";

/** What the page needs for `navigator.credentials.create` (nothing secret). */
export interface PasskeyCreation {
  challengeId: string;
  challenge: string;
  rpId: string;
  rpName: string;
  userId: string;
  userName: string;
  excludeCredentials: string[];
  algorithms: number[];
  timeout: number;
}

/** What the page needs for `navigator.credentials.get` (nothing secret). */
export interface PasskeyRequest {
  challengeId: string;
  challenge: string;
  rpId: string;
  allowCredentials: string[];
  timeout: number;
  /** The identity asked for ("" for a discoverable credential). */
  identity: string;
}

/** A WebAuthn answer as JSON, without `clientExtensionResults` (the PRF output stays here). */
export type WebauthnJson = Record<string, unknown> & { id: string };

/** A passkey as the list shows it. */
export interface PasskeyInfo {
  credentialId: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

function _noSecrets(response: WebauthnJson): WebauthnJson {
  return { ...response, clientExtensionResults: {} };
}

function _needV2(user: SignedIn) {
  if (user.record.v !== 2) {
    throw new FlowError(
      "upgrade_required",
      "Your key record could not be upgraded yet: sign out and sign in with your pass phrase " +
        "again, then add the passkey.",
    );
  }
  return user.record;
}

/**
 * Step 1 of adding a passkey: the current pass phrase again (a fresh OPAQUE login,
 * wiped here), then the vault's options for a new credential, its signature checked.
 * Returns the options and the re-authentication for step 2.
 */
export async function startAddPasskey(
  session: Session,
  user: SignedIn,
  currentPassphrase: Uint8Array,
  ksfFloor?: KsfParams,
): Promise<{ creation: PasskeyCreation; reauthLoginId: string }> {
  try {
    _needV2(user);
  } catch (err) {
    wipe(currentPassphrase);
    throw err;
  }
  const reauthLoginId = await reauthenticate(session, user, currentPassphrase, ksfFloor);
  const binding = await sessionBinding(session);
  const r = await session.call<Omit<PasskeyCreation, "userName"> & { vaultSignature?: string }>(
    "passkey.register.start",
    { identity: user.identity, binding, reauthLoginId },
  );
  checkVaultStatement(session.anchors, {
    kind: "passkey.register.start",
    identity: user.identity,
    challengeId: r.challengeId,
    challenge: r.challenge,
    rpId: r.rpId,
    userId: r.userId,
    binding,
  }, r.vaultSignature);
  const creation: PasskeyCreation = {
    challengeId: r.challengeId,
    challenge: r.challenge,
    rpId: r.rpId,
    rpName: String(r.rpName ?? "roamsign"),
    userId: r.userId,
    userName: user.identity,
    excludeCredentials: Array.isArray(r.excludeCredentials) ? r.excludeCredentials : [],
    algorithms: Array.isArray(r.algorithms) ? r.algorithms : [-7, -257],
    timeout: Number(r.timeout) || 120_000,
  };
  return { creation, reauthLoginId };
}

/**
 * Step 2: the new credential's slot (DK wrapped to the X25519 key of its PRF output and a
 * new salt; `prf` is wiped here), sent with the registration answer, signed by SKu. The
 * vault's statement that it stored this credential is checked.
 */
export async function finishAddPasskey(
  session: Session,
  user: SignedIn,
  pending: { challengeId: string; reauthLoginId: string },
  input: { response: WebauthnJson; prf: Uint8Array; name: string },
): Promise<PasskeyInfo> {
  let salt: Uint8Array | null = null;
  let slot: PasskeySlot;
  try {
    const record = _needV2(user);
    const credentialId = input.response.id;
    salt = randomBytes(32);
    const pub = await passkeyPublicKey(input.prf, salt);
    wipe(input.prf);
    const enrolled = { credentialId, salt: b64uEncode(salt), pub: b64uEncode(pub) };
    slot = await withDataKey(
      user.kek,
      record,
      user.slot,
      (dk) => wrapToPasskey(dk, user.identity, enrolled),
    );
  } finally {
    wipe(input.prf, salt);
  }
  const name = input.name.trim().slice(0, 64) || "Passkey";
  let sentNonce = "";
  const r = await session.call<PasskeyInfo & { vaultSignature?: string }>(
    "passkey.register.finish",
    async (nonce) => {
      sentNonce = nonce;
      const body = {
        identity: user.identity,
        challengeId: pending.challengeId,
        name,
        response: _noSecrets(input.response),
        slot,
        reauthLoginId: pending.reauthLoginId,
        nonce,
      };
      const signature = signPkcs1v15(
        user.key,
        "SHA-256",
        await userRequestBytes("passkey.register.finish", user.identity, nonce, body),
      );
      return { ...body, signature: b64uEncode(signature) };
    },
  );
  checkVaultStatement(session.anchors, {
    kind: "passkey.add",
    identity: user.identity,
    credentialId: r.credentialId,
    nonce: sentNonce,
  }, r.vaultSignature);
  if (r.credentialId !== slot.credentialId) {
    throw new FlowError("untrusted_vault", "The vault stored another passkey than this one.");
  }
  return { credentialId: r.credentialId, name, createdAt: r.createdAt, lastUsedAt: null };
}

/** Step 1 of a passkey sign-in: the vault's challenge for this session, its signature checked. */
export async function startPasskeySignIn(
  session: Session,
  identity: string,
): Promise<PasskeyRequest> {
  const binding = await sessionBinding(session);
  const r = await callWithPow<Omit<PasskeyRequest, "identity"> & { vaultSignature?: string }>(
    session,
    "passkey.login.start",
    { ...(identity ? { identity } : {}), binding },
  );
  const allowCredentials = Array.isArray(r.allowCredentials) ? r.allowCredentials : [];
  checkVaultStatement(session.anchors, {
    kind: "passkey.login.start",
    identity,
    challengeId: r.challengeId,
    challenge: r.challenge,
    rpId: r.rpId,
    allowCredentials,
    binding,
  }, r.vaultSignature);
  return {
    challengeId: r.challengeId,
    challenge: r.challenge,
    rpId: r.rpId,
    allowCredentials,
    timeout: Number(r.timeout) || 120_000,
    identity,
  };
}

/**
 * Step 2: the assertion goes to the vault, which releases the record with this passkey's
 * slot; the slot opens under the KEK of the PRF output (`prf`, wiped here) and the slot's
 * salt and ephemeral key (its tag checked under the data key it holds), and the key is
 * checked against the certificate as after a pass-phrase sign-in.
 */
export async function finishPasskeySignIn(
  session: Session,
  pending: PasskeyRequest,
  input: { response: WebauthnJson; prf: Uint8Array; ksfFloor?: KsfParams },
): Promise<SignedIn> {
  try {
    if (input.prf.length < 32) {
      throw new FlowError("passkey_no_prf", "This passkey gave no PRF output.");
    }
    const released = await session.call<Released & { credentialId?: string }>(
      "passkey.login.finish",
      { challengeId: pending.challengeId, response: _noSecrets(input.response) },
    );
    const record = parseKeyRecordV2(released.keyRecord, input.ksfFloor);
    const credentialId = input.response.id;
    if (released.credentialId !== undefined && released.credentialId !== credentialId) {
      throw new FlowError("key_record_mismatch", "The vault answered for another passkey.");
    }
    const ref: SlotRef = { kind: "passkey", credentialId };
    const slot = slotOf(record, ref) as PasskeySlot;
    const kek = await derivePasskeyKek(input.prf, slot);
    wipe(input.prf);
    const user = await unlockReleased(
      session,
      pending.identity,
      released,
      record,
      (reg) => openKeyRecordV2(kek, ref, record, reg),
    );
    return { ...user, kek, slot: ref };
  } finally {
    wipe(input.prf);
  }
}

/** The signed-in user's passkeys. */
export async function listPasskeys(session: Session, user: SignedIn): Promise<PasskeyInfo[]> {
  const r = await session.call<{ passkeys: PasskeyInfo[] }>("passkey.list", {
    identity: user.identity,
  });
  return (Array.isArray(r.passkeys) ? r.passkeys : []).map((p) => ({
    credentialId: p.credentialId,
    name: p.name,
    createdAt: p.createdAt,
    lastUsedAt: p.lastUsedAt,
  }));
}

/**
 * What a re-registration wraps its new data key to (docs/passkeys.md, "Re-registration"):
 * the public parts of every passkey's slot as `passkey.list` gives them, each checked
 * against its tag under the CURRENT data key (unwrapped from the slot this sign-in opened,
 * wiped after). The answer passes through the web server; one that substituted a key of
 * its own (so that the new data key would be wrapped to it) is `passkey_slot_untrusted`.
 */
export async function trustedPasskeyKeys(
  session: Session,
  user: SignedIn,
): Promise<PasskeyPublic[]> {
  const record = user.record;
  if (record.v !== 2) return []; // a v1 record has no passkeys (they need v2)
  const r = await session.call<{ passkeys: Record<string, unknown>[] }>("passkey.list", {
    identity: user.identity,
  });
  const listed = (Array.isArray(r.passkeys) ? r.passkeys : []).map((p) => ({
    credentialId: String(p?.credentialId ?? ""),
    salt: String(p?.salt ?? ""),
    pub: String(p?.pub ?? ""),
    tag: String(p?.tag ?? ""),
  }));
  await withDataKey(user.kek, record, user.slot, (dk) => checkPasskeyTags(dk, listed));
  return listed.map(({ credentialId, salt, pub }) => ({ credentialId, salt, pub }));
}

/**
 * Removes a passkey: the current pass phrase again (wiped here), then a request signed by
 * SKu. The vault deletes its credential and slot; the pass-phrase slot is never touched.
 */
export async function removePasskey(
  session: Session,
  user: SignedIn,
  credentialId: string,
  currentPassphrase: Uint8Array,
  ksfFloor?: KsfParams,
): Promise<{ removed: boolean }> {
  const reauthLoginId = await reauthenticate(session, user, currentPassphrase, ksfFloor);
  return await session.call<{ removed: boolean }>("passkey.remove", async (nonce) => {
    const body = { identity: user.identity, credentialId, reauthLoginId, nonce };
    const signature = signPkcs1v15(
      user.key,
      "SHA-256",
      await userRequestBytes("passkey.remove", user.identity, nonce, body),
    );
    return { ...body, signature: b64uEncode(signature) };
  });
}
