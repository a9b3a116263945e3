/**
 * Passkeys (docs/passkeys.md): adding one (`passkey.register.start`/`finish`), signing in
 * with one (`passkey.login.start`/`finish`), listing and removing them, and the upgrade of
 * a key record v1 to v2 (`keyrecord.upgrade`). WebAuthn answers are verified with
 * @simplewebauthn/server: the vault's own challenge, single use (taken in a statement of
 * its own before anything is checked, so a refused answer cannot be tried again), the
 * configured origins and RP ID, user verification required, and the signature counter.
 * A verified assertion releases the key record as a finished OPAQUE login does, with the
 * passkey's slot appended; the vault never sees a PRF output or a KEK.
 *
 * @module
 */
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from "@simplewebauthn/server";
import type { Transaction } from "kysely";
import { b64uDecode, b64uEncode, canonicalJson, utf8 } from "../../protocol/mod.ts";
import {
  ApiError,
  type KeyRecord,
  ksfParamsOf,
  MAX_PASSKEYS,
  type OpBody,
} from "../../platform/mod.ts";
import { appendAudit } from "../audit.ts";
import { certificateVerifyKey } from "../ca.ts";
import { type WebauthnConfig, webauthnConfigFromEnv } from "../config.ts";
import { sha256 } from "../crypto.ts";
import type { Database, PasskeyChallenge } from "../db.ts";
import { creditSuccess } from "../guard.ts";
import * as repo from "../repositories/mod.ts";
import { signStatement } from "../statements.ts";
import {
  audit,
  checkKeyRecord,
  consumeReauth,
  consumeRpcNonce,
  consumeUserNonce,
  type Handler,
  inTransaction,
  iso,
  lockActive,
  type OpContext,
  verifyByCurrentKey,
} from "./context.ts";

/** How long a challenge is valid. */
const _CHALLENGE_TTL_MS = 120_000;
/** ES256, RS256, EdDSA: what every current authenticator offers. */
const _ALGORITHMS = [-7, -257, -8];

let _defaultWebauthn: WebauthnConfig | null = null;

function _webauthn(ctx: OpContext): WebauthnConfig {
  return ctx.vault.config.webauthn ?? (_defaultWebauthn ??= webauthnConfigFromEnv());
}

function _refuse(code: "passkey_failed" | "passkey_challenge_expired", why: string): never {
  throw new ApiError(401, code, why);
}

/** The stored record of an active identity, which must be v2 to take a passkey. */
async function _storedV2(db: repo.Q, identity: string): Promise<KeyRecord & { v: 2 }> {
  const text = await repo.getKeyRecord(db, identity);
  const record = text ? JSON.parse(text) as KeyRecord : null;
  if (!record) throw new ApiError(403, "account_revoked", "the key was revoked");
  if (record.v !== 2) {
    throw new ApiError(409, "upgrade_required", "sign in with the pass phrase once first");
  }
  return record;
}

/** Issues a challenge: stored (single use, 2 minutes) with the applet's session binding. */
async function _issue(
  ctx: OpContext,
  purpose: PasskeyChallenge["purpose"],
  identity: string | null,
  challenge: string,
  binding: string,
): Promise<string> {
  const id = b64uEncode(crypto.getRandomValues(new Uint8Array(16)));
  await inTransaction(ctx, (tx) =>
    repo.insertPasskeyChallenge(tx, {
      id,
      purpose,
      identity,
      challenge,
      binding,
      client_tag: ctx.clientTag,
      expires_at: new Date(ctx.now.getTime() + _CHALLENGE_TTL_MS),
    }, ctx.now));
  return id;
}

/** Takes a challenge in a statement of its own: used up whatever the answer is. */
async function _take(
  ctx: OpContext,
  id: string,
  purpose: PasskeyChallenge["purpose"],
): Promise<PasskeyChallenge> {
  await consumeRpcNonce(ctx.vault.db, ctx);
  const ch = await repo.takePasskeyChallenge(ctx.vault.db, id, purpose);
  if (!ch || new Date(ch.expires_at) <= ctx.now) {
    _refuse("passkey_challenge_expired", "no such passkey challenge: start again");
  }
  return ch!;
}

export const passkeyRegisterStart: Handler<"passkey.register.start"> = async (ctx, body) => {
  const identity = body.identity;
  const wa = _webauthn(ctx);
  const user = await repo.findUser(ctx.vault.db, identity);
  if (!user) throw new ApiError(404, "unknown_identity", "no such identity");
  if (user.status === "revoked") throw new ApiError(403, "account_revoked", "the key was revoked");
  if (user.status !== "active") throw new ApiError(409, "not_active", "the account is not active");
  // Adding a way in needs the pass phrase again (checked here, used by the finish).
  if (!(await repo.hasLiveReauthProof(ctx.vault.db, body.reauthLoginId, identity, ctx.now))) {
    throw new ApiError(403, "reauth_required", "enter your current pass phrase again");
  }
  await _storedV2(ctx.vault.db, identity);
  const existing = await repo.listPasskeys(ctx.vault.db, identity);
  if (existing.length >= MAX_PASSKEYS) {
    throw new ApiError(409, "too_many_passkeys", `at most ${MAX_PASSKEYS} passkeys`);
  }
  // A user handle that names nobody: the keyed tag of the identity, hashed.
  const userId = await sha256(utf8(`roamsign/passkey-user\0${ctx.vault.tags.identity(identity)}`));
  const options = await generateRegistrationOptions({
    rpName: wa.rpName,
    rpID: wa.rpId,
    userName: identity,
    userID: userId as Uint8Array<ArrayBuffer>,
    attestationType: "none",
    excludeCredentials: existing.map((p) => ({ id: p.credential_id })),
    authenticatorSelection: { residentKey: "preferred", userVerification: "required" },
    supportedAlgorithmIDs: _ALGORITHMS,
    timeout: _CHALLENGE_TTL_MS,
  });
  const challengeId = await _issue(ctx, "register", identity, options.challenge, body.binding);
  const vaultSignature = await signStatement(ctx.vault.statementKey, {
    kind: "passkey.register.start",
    identity,
    challengeId,
    challenge: options.challenge,
    rpId: wa.rpId,
    userId: options.user.id,
    binding: body.binding,
  });
  return {
    challengeId,
    challenge: options.challenge,
    rpId: wa.rpId,
    rpName: wa.rpName,
    userId: options.user.id,
    excludeCredentials: existing.map((p) => p.credential_id),
    algorithms: _ALGORITHMS,
    timeout: _CHALLENGE_TTL_MS,
    vaultSignature,
  };
};

export const passkeyRegisterFinish: Handler<"passkey.register.finish"> = async (ctx, body) => {
  const identity = body.identity;
  const wa = _webauthn(ctx);
  const ch = await _take(ctx, body.challengeId, "register");
  if (ch.identity !== identity) {
    _refuse("passkey_challenge_expired", "challenge of another identity");
  }
  let info;
  try {
    const v = await verifyRegistrationResponse({
      response: body.response,
      expectedChallenge: ch.challenge,
      expectedOrigin: wa.origins,
      expectedRPID: wa.rpId,
      requireUserVerification: true,
      supportedAlgorithmIDs: _ALGORITHMS,
    });
    if (!v.verified) throw new Error("not verified");
    info = v.registrationInfo;
  } catch (err) {
    _refuse("passkey_failed", `passkey registration: ${_reason(err)}`);
  }
  const credential = info!.credential;
  if (credential.id !== body.slot.credentialId || credential.id !== body.response.id) {
    throw new ApiError(400, "key_record_mismatch", "the slot is for another credential");
  }
  const r = await inTransaction(ctx, async (tx) => {
    const { cert } = await lockActive(tx, identity);
    await verifyByCurrentKey(tx, "passkey.register.finish", identity, body, cert);
    await _storedV2(tx, identity);
    await consumeUserNonce(tx, body.nonce);
    await consumeReauth(tx, ctx, "passkey.register.finish", identity, body.reauthLoginId);
    if (await repo.countPasskeys(tx, identity) >= MAX_PASSKEYS) {
      throw new ApiError(409, "too_many_passkeys", `at most ${MAX_PASSKEYS} passkeys`);
    }
    const added = await repo.insertPasskey(tx, {
      credentialId: credential.id,
      identity,
      publicKey: b64uEncode(credential.publicKey),
      counter: credential.counter,
      transports: body.response.response.transports ?? [],
      name: body.name,
      slot: canonicalJson(body.slot),
      now: ctx.now,
    });
    if (!added) throw new ApiError(409, "passkey_exists", "this passkey is registered already");
    await audit(tx, ctx, "passkey.register.finish", identity, "added", {
      credential: await _credentialTag(credential.id),
      userVerified: info!.userVerified,
    });
    return { credentialId: credential.id, name: body.name, createdAt: ctx.now.toISOString() };
  });
  const vaultSignature = await signStatement(ctx.vault.statementKey, {
    kind: "passkey.add",
    identity,
    credentialId: r.credentialId,
    nonce: body.nonce,
  });
  return { ...r, vaultSignature };
};

/**
 * The credentials a sign-in may use: the identity's passkeys; for an identity that has
 * none (or does not exist) one made-up id derived from its keyed tag, the same each time,
 * so the answer does not tell whether it has any. No identity: a discoverable credential.
 */
async function _allowed(ctx: OpContext, identity: string | undefined): Promise<string[]> {
  if (identity === undefined) return [];
  const user = await repo.findUser(ctx.vault.db, identity);
  if (user?.status === "pending") {
    throw new ApiError(403, "account_pending", "consent has not been given yet");
  }
  if (user?.status === "revoked") throw new ApiError(403, "account_revoked", "the key was revoked");
  const ids = user
    ? (await repo.listPasskeys(ctx.vault.db, identity)).map((p) => p.credential_id)
    : [];
  if (ids.length > 0) return ids;
  const fake = await sha256(utf8(`roamsign/no-passkey\0${ctx.vault.tags.identity(identity)}`));
  return [b64uEncode(fake)];
}

export const passkeyLoginStart: Handler<"passkey.login.start"> = async (ctx, body) => {
  const wa = _webauthn(ctx);
  const allowCredentials = await _allowed(ctx, body.identity);
  const options = await generateAuthenticationOptions({
    rpID: wa.rpId,
    allowCredentials: allowCredentials.map((id) => ({ id })),
    userVerification: "required",
    timeout: _CHALLENGE_TTL_MS,
  });
  const identity = body.identity ?? null;
  const challengeId = await _issue(ctx, "login", identity, options.challenge, body.binding);
  const vaultSignature = await signStatement(ctx.vault.statementKey, {
    kind: "passkey.login.start",
    identity: identity ?? "",
    challengeId,
    challenge: options.challenge,
    rpId: wa.rpId,
    allowCredentials,
    binding: body.binding,
  });
  return {
    challengeId,
    challenge: options.challenge,
    rpId: wa.rpId,
    allowCredentials,
    timeout: _CHALLENGE_TTL_MS,
    vaultSignature,
  };
};

export const passkeyLoginFinish: Handler<"passkey.login.finish"> = async (ctx, body) => {
  const wa = _webauthn(ctx);
  const ch = await _take(ctx, body.challengeId, "login");
  const pk = await repo.findPasskey(ctx.vault.db, body.response.id);
  if (!pk || (ch.identity !== null && pk.identity !== ch.identity)) {
    await _auditFailure(ctx, ch.identity, "unknown credential");
    _refuse("passkey_failed", "passkey sign-in: unknown credential");
  }
  let newCounter: number;
  try {
    const v = await verifyAuthenticationResponse({
      response: body.response,
      expectedChallenge: ch.challenge,
      expectedOrigin: wa.origins,
      expectedRPID: wa.rpId,
      credential: {
        id: pk!.credential_id,
        publicKey: b64uDecode(pk!.public_key) as Uint8Array<ArrayBuffer>,
        counter: Number(pk!.counter),
      },
      requireUserVerification: true,
    });
    if (!v.verified) throw new Error("not verified");
    newCounter = v.authenticationInfo.newCounter;
  } catch (err) {
    await _auditFailure(ctx, pk!.identity, _reason(err));
    _refuse("passkey_failed", `passkey sign-in: ${_reason(err)}`);
  }
  return await inTransaction(ctx, (tx) => _release(tx, ctx, pk!, newCounter!));
};

/** A verified assertion: the record with the passkey's slot, as login.finish releases it. */
async function _release(
  tx: Transaction<Database>,
  ctx: OpContext,
  pk: NonNullable<Awaited<ReturnType<typeof repo.findPasskey>>>,
  counter: number,
) {
  const identity = pk.identity;
  const user = await repo.lockUser(tx, identity);
  if (user?.status !== "active") throw new ApiError(403, "account_revoked", "the key was revoked");
  const cert = await repo.activeCertificate(tx, identity);
  const record = await _storedV2(tx, identity);
  if (!cert) throw new Error("vault: active user without an active certificate");
  // The counter must still be the one verified against (a concurrent replay loses).
  if (!(await repo.usePasskey(tx, pk.credential_id, Number(pk.counter), counter, ctx.now))) {
    _refuse("passkey_failed", "passkey sign-in: the signature counter moved meanwhile");
  }
  await creditSuccess(tx, ctx.vault.tags, "login", identity, ctx.clientTag, ctx.now);
  await audit(tx, ctx, "passkey.login.finish", identity, "released", {
    serial: cert.serial,
    credential: await _credentialTag(pk.credential_id),
  });
  return {
    keyRecord: { ...record, slots: [record.slots[0], JSON.parse(pk.slot)] },
    registration: repo.registrationOf(user),
    certificate: cert.pem,
    credentialId: pk.credential_id,
  };
}

/**
 * The identity's passkeys: name and times for the list, and each slot's public parts
 * (`salt`, `pub`, `tag`), which a re-registration needs to wrap its new data key to every
 * passkey (docs/passkeys.md, "Re-registration"). Nothing in them opens anything.
 */
export const passkeyList: Handler<"passkey.list"> = async (ctx, body) => {
  const rows = await repo.listPasskeys(ctx.vault.db, body.identity);
  return {
    passkeys: rows.map((p) => {
      const slot = JSON.parse(p.slot) as Partial<Record<"salt" | "pub" | "tag", string>>;
      return {
        credentialId: p.credential_id,
        name: p.name,
        createdAt: iso(p.created_at),
        lastUsedAt: iso(p.last_used_at),
        salt: slot.salt ?? "",
        pub: slot.pub ?? "",
        tag: slot.tag ?? "",
      };
    }),
  };
};

/**
 * Re-registration's part (docs/passkeys.md): each passkey's slot replaced by the one the
 * applet re-wrapped to the new data key, in the caller's transaction (the user row locked).
 * The credential ids sent must be exactly the identity's, and each slot must keep the salt
 * and public key its passkey enrolled with — whoever re-wraps can change only the wrap —
 * else `passkey_slots_mismatch` and nothing is stored. Returns how many were re-wrapped.
 */
export async function rewrapPasskeySlots(
  tx: Transaction<Database>,
  identity: string,
  slots: OpBody<"reregister">["passkeySlots"],
): Promise<number> {
  const sent = slots ?? [];
  const stored = new Map(
    (await repo.lockPasskeysOf(tx, identity)).map((p) => [p.credential_id, JSON.parse(p.slot)]),
  );
  const ids = new Set(sent.map((s) => s.credentialId));
  const exact = ids.size === sent.length && ids.size === stored.size &&
    sent.every((s) => {
      const was = stored.get(s.credentialId) as { salt?: unknown; pub?: unknown } | undefined;
      return was !== undefined && was.salt === s.salt && was.pub === s.pub;
    });
  if (!exact) {
    throw new ApiError(
      409,
      "passkey_slots_mismatch",
      "the slots are not for exactly this identity's passkeys and their keys",
    );
  }
  for (const slot of sent) {
    if (!(await repo.replacePasskeySlot(tx, identity, slot.credentialId, canonicalJson(slot)))) {
      throw new Error("vault: a locked passkey disappeared");
    }
  }
  return sent.length;
}

export const passkeyRemove: Handler<"passkey.remove"> = async (ctx, body) => {
  const identity = body.identity;
  return await inTransaction(ctx, async (tx) => {
    const { cert } = await lockActive(tx, identity);
    await verifyByCurrentKey(tx, "passkey.remove", identity, body, cert);
    await consumeUserNonce(tx, body.nonce);
    await consumeReauth(tx, ctx, "passkey.remove", identity, body.reauthLoginId);
    if (!(await repo.deletePasskey(tx, identity, body.credentialId))) {
      throw new ApiError(404, "unknown_passkey", "no such passkey for this identity");
    }
    await audit(tx, ctx, "passkey.remove", identity, "removed", {
      credential: await _credentialTag(body.credentialId),
    });
    return { removed: true, credentialId: body.credentialId };
  });
};

/**
 * A key record v1 becomes v2 at its owner's next sign-in with the pass phrase (docs/
 * passkeys.md): the same SKu and registration data, signed by SKu, the vault's stretching
 * parameters kept. Only v1 → v2: a record that is v2 already is not replaced here.
 */
export const keyrecordUpgrade: Handler<"keyrecord.upgrade"> = async (
  ctx,
  body: OpBody<"keyrecord.upgrade">,
) => {
  const identity = body.identity;
  return await inTransaction(ctx, async (tx) => {
    const { cert } = await lockActive(tx, identity);
    await verifyByCurrentKey(tx, "keyrecord.upgrade", identity, body, cert);
    const key = await certificateVerifyKey(cert.pem);
    const bits = (key.algorithm as RsaHashedKeyAlgorithm).modulusLength;
    checkKeyRecord(body.keyRecord, identity, cert.spki_sha256, bits);
    const stored = JSON.parse((await repo.getKeyRecord(tx, identity)) ?? "null") as
      | KeyRecord
      | null;
    if (stored?.v === 2) throw new ApiError(409, "already_upgraded", "the record is v2 already");
    const ksfParams = await repo.getKsfParams(tx, identity);
    if (canonicalJson(ksfParamsOf(body.keyRecord)) !== ksfParams) {
      throw new ApiError(400, "ksf_mismatch", "stretching parameters differ from the vault's");
    }
    await consumeUserNonce(tx, body.nonce);
    const record = canonicalJson(body.keyRecord);
    await repo.putKeyRecord(tx, identity, record, cert.spki_sha256, ksfParams!, ctx.now);
    await audit(tx, ctx, "keyrecord.upgrade", identity, "upgraded", { v: 2 });
    return { status: "upgraded", v: 2 };
  });
};

/**
 * A refused passkey sign-in, audited with the identity whose passkey it named and the
 * library's reason (another origin, no user verification, an old counter, …). Its own
 * row, committed: the refusal rolls nothing back that would hold it.
 */
async function _auditFailure(ctx: OpContext, identity: string | null, reason: string) {
  await appendAudit(ctx.vault.db, {
    actor: ctx.actor,
    op: "passkey.login.finish",
    identity,
    outcome: "refused",
    details: {
      ...(ctx.clientTag ? { client: ctx.clientTag } : {}),
      code: "passkey_failed",
      reason,
    },
  }, ctx.now);
}

/** A short, non-identifying name of a credential for the audit log. */
async function _credentialTag(id: string): Promise<string> {
  return b64uEncode((await sha256(utf8(id))).subarray(0, 9));
}

/** The library's reason (no secret in it: challenges, origins, flags, counters). */
function _reason(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.slice(0, 200);
}
