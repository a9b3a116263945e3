/**
 * A registered user's lifecycle: registration.update, reregister, revoke, and the
 * revocation shared with the operator's admin.revoke.
 *
 * @module
 */
import type { Transaction } from "kysely";
import { b64uDecode, canonicalJson } from "../../protocol/mod.ts";
import { ApiError, type KeyRecord, ksfParamsOf, type OpBody } from "../../platform/mod.ts";
import { certificateVerifyKey } from "../ca.ts";
import { parseUserSpki } from "../crypto.ts";
import type { Database, User } from "../db.ts";
import * as repo from "../repositories/mod.ts";
import { signStatement } from "../statements.ts";
import {
  audit,
  checkKeyRecord,
  consumeReauth,
  consumeUserNonce,
  type Handler,
  inTransaction,
  issueUserCertificate,
  lockActive,
  type OpContext,
  registrationOf,
  requireVaultKsf,
  verifyByCurrentKey,
} from "./context.ts";
import { refreshCrl } from "./directory.ts";
import { rewrapPasskeySlots } from "./passkeys.ts";
import {
  idempotencyRequestSha256,
  type IdemRun,
  replaySignedBy,
  runIdempotent,
} from "./idempotency.ts";

export async function revokeUser(
  tx: Transaction<Database>,
  ctx: OpContext,
  user: User,
  who: { by: "user" } | { by: "operator"; operator: string | null },
  reason: string,
  op: string,
) {
  await repo.eraseRecords(tx, user.identity);
  // Every slot goes with the record: the passkeys' wrapped data keys and credentials.
  const passkeys = await repo.erasePasskeysOf(tx, user.identity);
  await repo.deleteConsent(tx, user.identity);
  const cert = await repo.activeCertificate(tx, user.identity);
  if (cert) await repo.retireCertificate(tx, cert.serial, "revoked", reason, ctx.now);
  await repo.setUserStatus(tx, user.identity, "revoked", ctx.now);
  if (cert) await refreshCrl(tx, ctx);
  await audit(tx, ctx, op, user.identity, "revoked", {
    ...who,
    reason,
    serial: cert?.serial ?? null,
    was: user.status,
    passkeysErased: passkeys,
  });
  return { identity: user.identity, status: "revoked" as const, serial: cert?.serial ?? null };
}

/**
 * `registration.update`: a new record and registration data, stored as **pending**
 * (docs/lifecycle.md, "Pending key record"). The vault cannot tell a record that opens
 * from garbage; the owner's applet can, after a sign-in, and confirms it then
 * (`login.confirm`). Until then the current record and data stay, and every sign-in
 * releases both: a stolen applet that stores garbage cannot lock the owner out. A
 * second update replaces the pending one, never the current.
 */
export const registrationUpdate: Handler<"registration.update"> = async (ctx, body) => {
  const registration = registrationOf(body.registration);
  const identity = registration.identity;
  return await inTransaction(ctx, async (tx) => {
    const { cert } = await lockActive(tx, identity);
    await verifyByCurrentKey(tx, "registration.update", identity, body, cert);
    const key = await certificateVerifyKey(cert.pem);
    const bits = (key.algorithm as RsaHashedKeyAlgorithm).modulusLength;
    checkKeyRecord(body.keyRecord, identity, cert.spki_sha256, bits);
    // A signed-in applet may be a stolen one (docs/threat-model.md): the new record and
    // address need a fresh proof of the pass phrase, and the record must keep the
    // stretching parameters the vault set, or the owner's next sign-in could not open it.
    // The nonce first: a replayed request is `nonce_used` (a refusal rolls both back).
    await consumeUserNonce(tx, body.nonce);
    await consumeReauth(tx, ctx, "registration.update", identity, body.reauthLoginId);
    const ksfParams = await repo.getKsfParams(tx, identity);
    await _noDowngrade(tx, identity, body.keyRecord);
    requireVaultKsf(body.keyRecord, ksfParams ?? "");
    const stored = await repo.putPendingRecord(
      tx,
      identity,
      canonicalJson(body.keyRecord),
      canonicalJson(registration),
      ctx.now,
    );
    if (!stored) throw new Error("vault: active user without a key record");
    await audit(tx, ctx, "registration.update", identity, "pending");
    return { status: "active", pending: true };
  });
};

/**
 * A record v2 never goes back to v1: its data key is what the passkeys' slots wrap
 * (`key_record_mismatch`).
 */
async function _noDowngrade(tx: Transaction<Database>, identity: string, next: KeyRecord) {
  const stored = JSON.parse((await repo.getKeyRecord(tx, identity)) ?? "null") as KeyRecord | null;
  if (stored?.v === 2 && next.v !== 2) {
    throw new ApiError(400, "key_record_mismatch", "a key record v2 cannot become v1 again");
  }
}

export const reregister: Handler<"reregister"> = async (ctx, body) => {
  const identity = body.identity;
  const pub = await parseUserSpki(body.spki);
  checkKeyRecord(body.keyRecord, identity, pub.spkiSha256, pub.bits);
  requireVaultKsf(body.keyRecord, canonicalJson(ctx.vault.config.ksf));
  if (b64uDecode(body.registrationRecord).length < 64) {
    throw new ApiError(400, "bad_opaque_message", "registrationRecord is too short");
  }
  const requestSha = body.idempotencyKey
    ? await idempotencyRequestSha256("reregister", body)
    : undefined;
  const r = await inTransaction(ctx, (tx) =>
    runIdempotent(
      tx,
      ctx,
      "reregister",
      identity,
      body.idempotencyKey,
      requestSha,
      replaySignedBy(tx, "reregister", identity, body),
      (meta) => _reregisterIn(tx, ctx, body, pub, meta),
    ));
  const vaultSignature = await signStatement(ctx.vault.statementKey, {
    kind: "reregister",
    identity,
    spkiSha256: pub.spkiSha256,
    serial: r.serial,
    superseded: r.superseded,
    nonce: body.nonce,
  });
  return { ...r, vaultSignature };
};

async function _reregisterIn(
  tx: Transaction<Database>,
  ctx: OpContext,
  body: OpBody<"reregister">,
  pub: { spkiSha256: string; bits: number; spki: Uint8Array },
  meta: IdemRun,
) {
  const identity = body.identity;
  // Locked first, verified second: of two racing re-registrations the second sees the
  // first's new key, and its signature by the old key is `key_superseded`.
  const { cert } = await lockActive(tx, identity);
  await verifyByCurrentKey(tx, "reregister", identity, body, cert);
  meta.signer = cert.serial;
  if (pub.spkiSha256 === cert.spki_sha256) {
    throw new ApiError(400, "same_key", "re-registration needs a new key pair");
  }
  await consumeReauth(tx, ctx, "reregister", identity, body.reauthLoginId);
  await consumeUserNonce(tx, body.nonce);
  if (body.registration) {
    // The data the new record is sealed with become current with it: a pending update's
    // may differ from the current ones, and the record must open with what sign-in sends.
    const registration = registrationOf(body.registration);
    if (registration.identity !== identity) {
      throw new ApiError(
        400,
        "registration_mismatch",
        "registration data are for another identity",
      );
    }
    await repo.updateRegistration(tx, registration, ctx.now);
  }
  await repo.putOpaqueRecord(tx, identity, body.registrationRecord, ctx.now);
  // A re-registration replaces the OPAQUE record too, so it takes the vault's current
  // (perhaps raised) stretching parameters, checked above (DESIGN.md §3). It replaces
  // the record at once, pending update included (docs/lifecycle.md, "Pending key record").
  const ksfParams = canonicalJson(ksfParamsOf(body.keyRecord));
  const record = canonicalJson(body.keyRecord);
  await repo.putKeyRecord(tx, identity, record, pub.spkiSha256, ksfParams, ctx.now);
  // A new key gets a new data key (docs/passkeys.md): the applet wrapped it to every
  // passkey's public key, and each passkey's slot is replaced here (or nothing is stored).
  const passkeysRewrapped = await rewrapPasskeySlots(tx, identity, body.passkeySlots);
  await repo.retireCertificate(tx, cert.serial, "superseded", "reregistered", ctx.now);
  const next = await issueUserCertificate(tx, ctx, identity, pub.spki);
  await repo.deleteLoginAttemptsOf(tx, identity);
  await refreshCrl(tx, ctx);
  await audit(tx, ctx, "reregister", identity, "reregistered", {
    superseded: cert.serial,
    serial: next.serial,
    spkiSha256: pub.spkiSha256,
    bits: pub.bits,
    passkeysRewrapped,
  });
  return {
    certificate: next.pem,
    serial: next.serial,
    superseded: cert.serial,
    passkeysRewrapped,
  };
}

export const revoke: Handler<"revoke"> = async (ctx, body) => {
  const requestSha = body.idempotencyKey
    ? await idempotencyRequestSha256("revoke", body)
    : undefined;
  return await inTransaction(ctx, (tx) =>
    runIdempotent(
      tx,
      ctx,
      "revoke",
      body.identity,
      body.idempotencyKey,
      requestSha,
      replaySignedBy(tx, "revoke", body.identity, body),
      async (meta) => {
        const { user, cert } = await lockActive(tx, body.identity);
        await verifyByCurrentKey(tx, "revoke", body.identity, body, cert);
        meta.signer = cert.serial;
        await consumeReauth(tx, ctx, "revoke", body.identity, body.reauthLoginId);
        await consumeUserNonce(tx, body.nonce);
        return await revokeUser(
          tx,
          ctx,
          user,
          { by: "user" },
          body.reason ?? "revoked by its user",
          "revoke",
        );
      },
    ));
};
