/**
 * Who calls a vault operation (`OpContext`), the operation's type, and the helpers every
 * operation file shares: the transaction that records the RPC nonce, the audit row,
 * signature and key-record checks, certificates.
 *
 * @module
 */
import * as opaque from "@serenity-kit/opaque";
import type { Transaction } from "kysely";
import {
  canonicalJson,
  type KsfParams,
  normalizeRegistration,
  type Registration,
  RegistrationError,
  type SignedOp,
  userRequestBytes,
} from "../../protocol/mod.ts";
import {
  ApiError,
  type KeyRecord,
  ksfParamsOf,
  type OpBody,
  type OpName,
} from "../../platform/mod.ts";
import { appendAudit, type AuditEntry } from "../audit.ts";
import { certificateVerifyKey, issueCertificate, type Issued } from "../ca.ts";
import { verifyUserSignature } from "../crypto.ts";
import type { Certificate, Database } from "../db.ts";
import * as repo from "../repositories/mod.ts";
import type { VaultState } from "../state.ts";

/** Who is calling (from the operation's caller class), and from where. */
export interface OpContext {
  vault: VaultState;
  actor: "web" | "admin";
  /** Tag of the end user's address ("" for operators). */
  clientTag: string;
  now: Date;
  /**
   * The request's RPC nonce when its single use is recorded with the operation (class
   * `none`): by the first transaction the operation opens, else right after it.
   */
  rpcNonce?: { nonce: string; expiresAt: Date; consumed: boolean };
}

export async function consumeRpcNonce(q: repo.Q, ctx: OpContext): Promise<void> {
  const n = ctx.rpcNonce;
  if (!n || n.consumed) return;
  if (!(await repo.consumeNonce(q, "rpc", n.nonce, n.expiresAt))) {
    throw new ApiError(401, "replayed_nonce", "request nonce already used");
  }
  n.consumed = true;
}

export type Handler<N extends OpName> = (ctx: OpContext, body: OpBody<N>) => Promise<unknown>;

/**
 * The `kdf` the vault hands out with `login.start` and names in its signed
 * `register.start` answer: OPAQUE's export key stretched with Argon2id under `params`.
 */
export function kdfOf(params: KsfParams) {
  return { name: "opaque-export-key", ksf: "argon2id", params } as const;
}

/**
 * The stretching parameters are the vault's, never the client's (docs/lifecycle.md,
 * "Stretching parameters"): a record whose pass-phrase stretching parameters
 * ({@link ksfParamsOf}: v1's `kdf.params`, v2's pass-phrase slot's) differ from `expected`
 * (canonical JSON) is refused before anything is stored.
 */
export function requireVaultKsf(record: KeyRecord, expected: string): void {
  if (canonicalJson(ksfParamsOf(record)) !== expected) {
    throw new ApiError(
      400,
      "ksf_mismatch",
      "key record's stretching parameters differ from the vault's",
    );
  }
}

// ── helpers ─────────────────────────────────────────────────────────────────────────

export function registrationOf(input: unknown): Registration {
  try {
    return normalizeRegistration(input);
  } catch (err) {
    if (err instanceof RegistrationError) throw new ApiError(400, err.code, err.message);
    throw err;
  }
}

/** The request's RPC nonce when no statement of this request has recorded it yet. */
export function unconsumedNonce(ctx: OpContext): OpContext["rpcNonce"] | undefined {
  return ctx.rpcNonce && !ctx.rpcNonce.consumed ? ctx.rpcNonce : undefined;
}

/**
 * Whether the client's OPAQUE finish message completes the login started with state:
 * the login's session key (base64url, shared with the client only), or null.
 */
export function opaqueFinishes(
  serverLoginState: string,
  finishLoginRequest: string,
): string | null {
  try {
    return opaque.server.finishLogin({ serverLoginState, finishLoginRequest }).sessionKey;
  } catch {
    return null;
  }
}

export function inTransaction<T>(
  ctx: OpContext,
  fn: (tx: Transaction<Database>) => Promise<T>,
): Promise<T> {
  return ctx.vault.db.transaction().execute(async (tx) => {
    const pending = unconsumedNonce(ctx) !== undefined;
    await consumeRpcNonce(tx, ctx);
    try {
      return await fn(tx);
    } catch (err) {
      if (pending) ctx.rpcNonce!.consumed = false; // rolled back with the rest
      throw err;
    }
  });
}

export function audit(
  tx: Transaction<Database>,
  ctx: OpContext,
  op: string,
  identity: string | null,
  outcome: string,
  details: Record<string, unknown> = {},
) {
  const entry: AuditEntry = {
    actor: ctx.actor,
    op,
    identity,
    outcome,
    details: ctx.clientTag ? { client: ctx.clientTag, ...details } : details,
  };
  return appendAudit(tx, entry, ctx.now);
}

/** Checks a key record against its identity and public key. */
export function checkKeyRecord(
  record: KeyRecord,
  identity: string,
  spkiSha256: string,
  bits: number,
) {
  if (record.identity !== identity) {
    throw new ApiError(400, "key_record_mismatch", "key record is for another identity");
  }
  if (record.spkiSha256 !== spkiSha256) {
    throw new ApiError(400, "key_record_mismatch", "key record is for another public key");
  }
  if (record.bits !== bits) {
    throw new ApiError(
      400,
      "key_record_mismatch",
      `key record says ${record.bits} bits, key has ${bits}`,
    );
  }
}

export function opaqueCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch {
    throw new ApiError(400, "bad_opaque_message", "OPAQUE message does not parse");
  }
}

export async function verifySigned(
  op: SignedOp,
  identity: string,
  nonce: string,
  body: Record<string, unknown>,
  signature: string,
  key: CryptoKey,
  code: string,
): Promise<void> {
  const data = await userRequestBytes(op, identity, nonce, body);
  if (!(await verifyUserSignature(key, signature, data))) {
    throw new ApiError(403, code, "signature by the user's key does not verify");
  }
}

/**
 * Verifies a signed user request against the identity's current certificate. A
 * signature that instead verifies with the certificate superseded most recently
 * (a re-registration won a race, or an old session kept going) is
 * `key_superseded`, so the client can tell the user to sign in again.
 */
export async function verifyByCurrentKey(
  tx: Transaction<Database>,
  op: SignedOp,
  identity: string,
  body: { nonce: string; signature: string },
  cert: Certificate,
): Promise<void> {
  const data = await userRequestBytes(op, identity, body.nonce, body);
  if (await verifyUserSignature(await certificateVerifyKey(cert.pem), body.signature, data)) {
    return;
  }
  const previous = await repo.latestRetiredCertificate(tx, identity, "superseded");
  if (
    previous &&
    await verifyUserSignature(await certificateVerifyKey(previous.pem), body.signature, data)
  ) {
    throw new ApiError(
      409,
      "key_superseded",
      "the request is signed with a key that was replaced by a re-registration: sign in again",
    );
  }
  throw new ApiError(403, "signature_invalid", "signature by the user's key does not verify");
}

/** Locks an active user and returns it with its active certificate. */
export async function lockActive(tx: Transaction<Database>, identity: string) {
  const user = await repo.lockUser(tx, identity);
  if (!user) throw new ApiError(404, "unknown_identity", "no such identity");
  if (user.status === "revoked") throw new ApiError(403, "account_revoked", "the key was revoked");
  if (user.status !== "active") {
    throw new ApiError(409, "not_active", "the account is not active yet");
  }
  const cert = await repo.activeCertificate(tx, identity);
  if (!cert) throw new Error("vault: active user without an active certificate");
  return { user, cert };
}

export async function consumeUserNonce(tx: Transaction<Database>, nonce: string) {
  if (!(await repo.consumeNonce(tx, "user", nonce, null))) {
    throw new ApiError(409, "nonce_used", "this request nonce was used before");
  }
}

/**
 * Re-authentication (docs/lifecycle.md): `reregister` and the user's `revoke` must name
 * a login finished with `reauth: true` for the same identity, not expired and not used
 * before. It is marked used here, in the operation's transaction: single use, and a
 * rolled-back attempt leaves it usable for the retry.
 */
export async function consumeReauth(
  tx: Transaction<Database>,
  ctx: OpContext,
  op:
    | "registration.update"
    | "reregister"
    | "revoke"
    | "passkey.register.finish"
    | "passkey.remove",
  identity: string,
  loginId: string | undefined,
): Promise<void> {
  const refuse = (why: string): never => {
    throw new ApiError(
      403,
      "reauth_required",
      `enter your current pass phrase again (${why})`,
    );
  };
  if (!loginId) refuse("no re-authentication");
  const used = await repo.consumeReauthProof(tx, loginId!, identity, op, ctx.now);
  if (!used) refuse("the re-authentication is unknown, expired, used or for someone else");
}

/** The `certificates` row of a certificate the CA just issued: active from now on. */
export function certificateRow(
  issued: Issued,
  identity: string | null,
  kind: Certificate["kind"],
  now: Date,
): Certificate {
  return {
    serial: issued.serial,
    identity,
    kind,
    subject: issued.subject,
    spki_sha256: issued.spkiSha256,
    pem: issued.pem,
    status: "active",
    not_before: issued.notBefore,
    not_after: issued.notAfter,
    issued_at: now,
    status_changed_at: null,
    revocation_reason: null,
  };
}

export async function issueUserCertificate(
  tx: Transaction<Database>,
  ctx: OpContext,
  identity: string,
  spki: Uint8Array,
): Promise<Certificate> {
  const issued = await issueCertificate(
    ctx.vault.ca,
    spki,
    "user-signing",
    identity,
    ctx.vault.config.certValidityDays,
    ctx.now,
  );
  const cert = certificateRow(issued, identity, "user", ctx.now);
  await repo.insertCertificate(tx, cert);
  return cert;
}

export function certView(c: Certificate) {
  return {
    serial: c.serial,
    status: c.status,
    notBefore: new Date(c.not_before).toISOString(),
    notAfter: new Date(c.not_after).toISOString(),
    issuedAt: new Date(c.issued_at).toISOString(),
    statusChangedAt: c.status_changed_at ? new Date(c.status_changed_at).toISOString() : null,
    certificate: c.pem,
  };
}

export function iso(d: Date | null): string | null {
  return d ? new Date(d).toISOString() : null;
}
