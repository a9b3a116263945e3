/**
 * The vault operations of docs/architecture.md. Each state change is one transaction
 * with its audit row; a failure anywhere rolls all of it back. Results that must
 * persist although the request fails (a wrong consent phrase, a failed login) commit
 * first and then report the error.
 *
 * The vault stores what the applet sends: the key record is `E_KEK(SKu ‖ hash)` made in
 * the browser; the vault only wraps it once more under the consent phrase until consent.
 *
 * @module
 */
import * as opaque from "@serenity-kit/opaque";
import { type Kysely, sql, type Transaction } from "kysely";
import { b64uDecode, b64uEncode } from "../protocol/mod.ts";
import {
  canonicalRegistration,
  normalizeRegistration,
  type Registration,
  RegistrationError,
} from "../protocol/mod.ts";
import { generateConsentPhrase, parseConsentPhrase } from "../protocol/mod.ts";
import { ApiError } from "../platform/mod.ts";
import type { KeyRecord, OpBody, OpName } from "../platform/mod.ts";
import { canonicalJson, type SignedOp, userRequestBytes } from "../protocol/mod.ts";
import { appendAudit, type AuditEntry, verifyAudit } from "./audit.ts";
import { certificateVerifyKey, issueCertificate, signCrl } from "./ca.ts";
import {
  parseUserSpki,
  sha256,
  timingSafeEqual,
  unwrapUnderPhrase,
  verifyUserSignature,
  wrapUnderPhrase,
} from "./crypto.ts";
import type { Certificate, Database, User } from "./db.ts";
import { creditSuccess, identityKeyTag } from "./guard.ts";
import { identityTagSync, log } from "../platform/mod.ts";
import * as repo from "./repositories.ts";
import { signStatement } from "./statements.ts";
import type { VaultState } from "./state.ts";

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

async function _consumeRpcNonce(q: repo.Q, ctx: OpContext): Promise<void> {
  const n = ctx.rpcNonce;
  if (!n || n.consumed) return;
  if (!(await repo.consumeNonce(q, "rpc", n.nonce, n.expiresAt))) {
    throw new ApiError(401, "replayed_nonce", "request nonce already used");
  }
  n.consumed = true;
}

type Handler<N extends OpName> = (ctx: OpContext, body: OpBody<N>) => Promise<unknown>;

const _DEFAULT_KSF = {
  name: "opaque-export-key",
  ksf: "argon2id",
  params: { memory: 65536, iterations: 3, parallelism: 4 },
} as const;

// ── helpers ─────────────────────────────────────────────────────────────────────────

function _registration(input: unknown): Registration {
  try {
    return normalizeRegistration(input);
  } catch (err) {
    if (err instanceof RegistrationError) throw new ApiError(400, err.code, err.message);
    throw err;
  }
}

/** The request's RPC nonce when no statement of this request has recorded it yet. */
function _unconsumedNonce(ctx: OpContext): OpContext["rpcNonce"] | undefined {
  return ctx.rpcNonce && !ctx.rpcNonce.consumed ? ctx.rpcNonce : undefined;
}

/** Whether the client's OPAQUE finish message completes the login started with state. */
function _opaqueFinishes(serverLoginState: string, finishLoginRequest: string): boolean {
  try {
    opaque.server.finishLogin({ serverLoginState, finishLoginRequest });
    return true;
  } catch {
    return false;
  }
}

function _tx<T>(ctx: OpContext, fn: (tx: Transaction<Database>) => Promise<T>): Promise<T> {
  return ctx.vault.db.transaction().execute(async (tx) => {
    const pending = _unconsumedNonce(ctx) !== undefined;
    await _consumeRpcNonce(tx, ctx);
    try {
      return await fn(tx);
    } catch (err) {
      if (pending) ctx.rpcNonce!.consumed = false; // rolled back with the rest
      throw err;
    }
  });
}

function _audit(
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
function _checkKeyRecord(record: KeyRecord, identity: string, spkiSha256: string, bits: number) {
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

function _opaque<T>(fn: () => T): T {
  try {
    return fn();
  } catch {
    throw new ApiError(400, "bad_opaque_message", "OPAQUE message does not parse");
  }
}

async function _verifySigned(
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
async function _verifyByCurrentKey(
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

const _CRL_LOCK = 72_710_002;
const _CRL_HOURS = 24;

/**
 * Re-signs the CRL inside the caller's transaction (after a certificate was
 * retired in it) with the next CRL number. The advisory lock orders concurrent
 * revocations, so each one's CRL includes every earlier one's.
 */
async function _refreshCrl(tx: Transaction<Database>, ctx: OpContext): Promise<string> {
  await sql`select pg_advisory_xact_lock(${_CRL_LOCK})`.execute(tx);
  const current = await repo.getCrl(tx);
  const rows = await repo.retiredCertificates(tx);
  const number = Number(current?.number ?? 0) + 1;
  const pem = await signCrl(
    ctx.vault.ca,
    rows.map((r) => ({
      serial: r.serial,
      revokedAt: new Date(r.status_changed_at ?? ctx.now),
      reason: r.status === "superseded" ? "superseded" as const : "revoked" as const,
    })),
    _CRL_HOURS,
    ctx.now,
    number,
  );
  await repo.putCrl(tx, {
    number,
    pem,
    thisUpdate: ctx.now,
    nextUpdate: new Date(ctx.now.getTime() + _CRL_HOURS * 3_600_000),
  });
  return pem;
}

/** Locks an active user and returns it with its active certificate. */
async function _lockActive(tx: Transaction<Database>, identity: string) {
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

async function _consumeUserNonce(tx: Transaction<Database>, nonce: string) {
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
async function _consumeReauth(
  tx: Transaction<Database>,
  ctx: OpContext,
  op: "reregister" | "revoke",
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
  const used = await tx.updateTable("reauth_proofs")
    .set({ consumed_at: ctx.now, consumed_by: op })
    .where("login_id", "=", loginId!).where("identity", "=", identity)
    .where("consumed_at", "is", null).where("expires_at", ">", ctx.now)
    .returning("login_id").executeTakeFirst();
  if (!used) refuse("the re-authentication is unknown, expired, used or for someone else");
}

async function _issueUserCertificate(
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
  const cert: Certificate = {
    serial: issued.serial,
    identity,
    kind: "user",
    subject: issued.subject,
    spki_sha256: issued.spkiSha256,
    pem: issued.pem,
    status: "active",
    not_before: issued.notBefore,
    not_after: issued.notAfter,
    issued_at: ctx.now,
    status_changed_at: null,
    revocation_reason: null,
  };
  await repo.insertCertificate(tx, cert);
  return cert;
}

function _certView(c: Certificate) {
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

function _iso(d: Date | null): string | null {
  return d ? new Date(d).toISOString() : null;
}

async function _revoke(
  tx: Transaction<Database>,
  ctx: OpContext,
  user: User,
  who: { by: "user" } | { by: "operator"; operator: string | null },
  reason: string,
  op: string,
) {
  await repo.eraseRecords(tx, user.identity);
  await repo.deleteConsent(tx, user.identity);
  const cert = await repo.activeCertificate(tx, user.identity);
  if (cert) await repo.retireCertificate(tx, cert.serial, "revoked", reason, ctx.now);
  await repo.setUserStatus(tx, user.identity, "revoked", ctx.now);
  if (cert) await _refreshCrl(tx, ctx);
  await _audit(tx, ctx, op, user.identity, "revoked", {
    ...who,
    reason,
    serial: cert?.serial ?? null,
    was: user.status,
  });
  return { identity: user.identity, status: "revoked" as const, serial: cert?.serial ?? null };
}

// ── idempotent retries (docs/faults.md) ─────────────────────────────────────────────

/** Fields that differ between retries of one logical request and so are not pinned. */
const _PER_ATTEMPT = new Set(["nonce", "signature", "pop"]);

function _hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function _requestSha256(op: string, body: Record<string, unknown>): Promise<string> {
  const pinned = Object.fromEntries(Object.entries(body).filter(([k]) => !_PER_ATTEMPT.has(k)));
  return _hex(await sha256(new TextEncoder().encode(canonicalJson([op, pinned]))));
}

/** What an idempotent operation body may set besides its result. */
interface _IdemRun {
  /** Serial of the certificate whose key signed the request (signed operations). */
  signer?: string;
}

/**
 * Runs `run` at most once per `(identity, op, key)`. The key is claimed by the first
 * statement of the transaction: a retry that arrives while the first attempt is still
 * in flight waits on that row's lock and then sees its committed outcome (or, if it
 * rolled back, runs afresh). The outcome is stored in the same transaction as the
 * operation. A replay writes nothing (no audit row, the retry's nonce is not recorded)
 * and returns the stored outcome after `checkReplay` accepted the retry. Without a
 * key, `run` just runs.
 */
async function _idempotent<T>(
  tx: Transaction<Database>,
  ctx: OpContext,
  op: string,
  identity: string,
  key: string | undefined,
  requestSha256: string | undefined,
  checkReplay: (signerSerial: string | null) => Promise<void>,
  run: (meta: _IdemRun) => Promise<T>,
): Promise<T> {
  if (!key || !requestSha256) return await run({});
  const claimed = await tx.insertInto("idempotency_keys").values({
    identity,
    op,
    key,
    request_sha256: requestSha256,
    outcome: null,
    signer_serial: null,
    created_at: ctx.now,
  }).onConflict((oc) => oc.doNothing()).returning("key").executeTakeFirst();
  if (!claimed) {
    const row = await tx.selectFrom("idempotency_keys").selectAll()
      .where("identity", "=", identity).where("op", "=", op).where("key", "=", key)
      .executeTakeFirst();
    if (!row || row.outcome === null) throw new Error("vault: idempotency key without outcome");
    if (row.request_sha256 !== requestSha256) {
      throw new ApiError(
        409,
        "idempotency_key_reused",
        "this idempotency key was used for a different request",
      );
    }
    await checkReplay(row.signer_serial);
    log("info", "idempotent_replay", { op, identity: identityTagSync(identity) });
    return JSON.parse(row.outcome) as T;
  }
  const meta: _IdemRun = {};
  const result = await run(meta);
  await tx.updateTable("idempotency_keys")
    .set({ outcome: canonicalJson(result), signer_serial: meta.signer ?? null })
    .where("identity", "=", identity).where("op", "=", op).where("key", "=", key)
    .execute();
  return result;
}

/** How long an idempotency key's outcome is kept: retries come within seconds, or a day. */
export const IDEMPOTENCY_RETENTION_MS = 7 * 86_400_000;

/** Deletes idempotency keys older than the retention; returns how many. */
export async function pruneIdempotencyKeys(
  db: Kysely<Database>,
  now = new Date(),
): Promise<number> {
  const r = await db.deleteFrom("idempotency_keys")
    .where("created_at", "<", new Date(now.getTime() - IDEMPOTENCY_RETENTION_MS))
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** A retried signed request must be signed by the key that signed the first attempt. */
function _replaySignedBy(
  tx: Transaction<Database>,
  op: SignedOp,
  identity: string,
  body: { nonce: string; signature: string },
) {
  return async (serial: string | null) => {
    const cert = serial
      ? await tx.selectFrom("certificates").selectAll().where("serial", "=", serial)
        .executeTakeFirst()
      : undefined;
    const data = await userRequestBytes(op, identity, body.nonce, body);
    if (
      !cert ||
      !(await verifyUserSignature(await certificateVerifyKey(cert.pem), body.signature, data))
    ) {
      throw new ApiError(403, "signature_invalid", "signature by the user's key does not verify");
    }
  };
}

const _noCheck = () => Promise.resolve();

// ── operations ──────────────────────────────────────────────────────────────────────

/**
 * The OPAQUE registration answer, signed with the vault's statement key over the
 * identity, the request's hash, the answer and the applet's session binding: the
 * applet checks it against its pinned key before it finishes the registration, so a
 * relay that answers with its own OPAQUE setup is refused (docs/trust-anchors.md).
 */
const registerStart: Handler<"register.start"> = async (ctx, body) => {
  const { registrationResponse } = _opaque(() =>
    opaque.server.createRegistrationResponse({
      serverSetup: ctx.vault.opaqueSetup,
      userIdentifier: body.identity,
      registrationRequest: body.registrationRequest,
    })
  );
  const vaultSignature = await signStatement(ctx.vault.statementKey, {
    kind: "register.start",
    identity: body.identity,
    requestSha256: b64uEncode(await sha256(b64uDecode(body.registrationRequest))),
    registrationResponse,
    binding: body.binding ?? "",
  });
  return { registrationResponse, vaultSignature };
};

const apply: Handler<"apply"> = async (ctx, body) => {
  const registration = _registration(body.registration);
  const identity = registration.identity;
  const pub = await parseUserSpki(body.spki);
  _checkKeyRecord(body.keyRecord, identity, pub.spkiSha256, pub.bits);
  if (b64uDecode(body.registrationRecord).length < 64) {
    throw new ApiError(400, "bad_opaque_message", "registrationRecord is too short");
  }
  await _verifySigned("apply", identity, body.nonce, body, body.pop, pub.key, "pop_invalid");

  const record = new TextEncoder().encode(canonicalJson(body.keyRecord));
  const recordHash = Array.from(await sha256(record), (b) => b.toString(16).padStart(2, "0")).join(
    "",
  );
  const phrase = generateConsentPhrase();
  try {
    const wrapped = await wrapUnderPhrase(record, phrase.bytes, identity);
    const letter = await ctx.vault.letters.seal(identity, new TextEncoder().encode(phrase.text));
    const expiresAt = new Date(ctx.now.getTime() + ctx.vault.config.consentTtlDays * 86_400_000);
    const requestSha = body.idempotencyKey ? await _requestSha256("apply", body) : undefined;
    // A replay needs no further check: `pop` (verified above) is by the key in `spki`,
    // which the request hash pins.
    const r = await _tx(
      ctx,
      (tx) =>
        _idempotent(
          tx,
          ctx,
          "apply",
          identity,
          body.idempotencyKey,
          requestSha,
          _noCheck,
          () =>
            _applyIn(tx, ctx, body, registration, pub, { wrapped, letter, recordHash, expiresAt }),
        ),
    );
    // Signed for this attempt's nonce (a retry's answer is the first attempt's outcome).
    const vaultSignature = await signStatement(ctx.vault.statementKey, {
      kind: "apply",
      identity,
      spkiSha256: pub.spkiSha256,
      status: r.status,
      consentExpiresAt: r.consentExpiresAt ?? null,
      nonce: body.nonce,
    });
    return { ...r, vaultSignature };
  } finally {
    phrase.bytes.fill(0);
  }
};

async function _applyIn(
  tx: Transaction<Database>,
  ctx: OpContext,
  body: OpBody<"apply">,
  registration: Registration,
  pub: { spkiSha256: string; bits: number },
  made: { wrapped: string; letter: string; recordHash: string; expiresAt: Date },
): Promise<{ status: string; consentExpiresAt: string }> {
  const identity = registration.identity;
  const { wrapped, letter, recordHash, expiresAt } = made;
  await _consumeUserNonce(tx, body.nonce);
  if (!(await repo.insertPendingUser(tx, registration, ctx.now))) {
    const existing = await repo.lockUser(tx, identity);
    const consent = await repo.findConsent(tx, identity);
    const expired = existing?.status === "pending" && consent &&
      new Date(consent.expires_at) <= ctx.now;
    if (existing?.status === "pending" && !expired) {
      throw new ApiError(
        409,
        "application_pending",
        "an application for this identity is pending",
      );
    }
    if (!expired) throw new ApiError(409, "identity_taken", "this identity is taken");
    await repo.resetPendingUser(tx, registration, ctx.now);
  }
  await repo.putOpaqueRecord(tx, identity, body.registrationRecord, ctx.now);
  await repo.putConsent(tx, {
    identity,
    spki: body.spki,
    wrapped_record: wrapped,
    record_sha256: recordHash,
    attempts: 0,
    expires_at: expiresAt,
    letter_status: "queued",
    letter_sealed: letter,
    letter_sent_at: null,
    created_at: ctx.now,
  });
  await _audit(tx, ctx, "apply", identity, "pending", {
    spkiSha256: pub.spkiSha256,
    bits: pub.bits,
  });
  return { status: "pending", consentExpiresAt: expiresAt.toISOString() };
}

const applicationGet: Handler<"application.get"> = async (ctx, body) => {
  const user = await repo.findUser(ctx.vault.db, body.identity);
  if (!user) throw new ApiError(404, "unknown_identity", "no such identity");
  if (user.status === "pending") {
    const consent = await repo.findConsent(ctx.vault.db, body.identity);
    return {
      status: "pending",
      spki: consent?.spki ?? null,
      consentExpiresAt: _iso(consent?.expires_at ?? null),
      locked: (consent?.attempts ?? 0) >= ctx.vault.config.consentMaxAttempts,
    };
  }
  const cert = await repo.latestCertificate(ctx.vault.db, body.identity);
  return { status: user.status, spkiSha256: cert?.spki_sha256 ?? null };
};

const consent: Handler<"consent"> = async (ctx, body) => {
  const registration = _registration(body.registration);
  const identity = registration.identity;
  const phrase = parseConsentPhrase(body.phrase); // the proxy checked the format already
  const maxAttempts = ctx.vault.config.consentMaxAttempts;
  // The phrase is pinned by its bytes (its spelling may differ between retries); a
  // replay is thereby checked: only someone who knows the phrase has the same hash.
  const requestSha = body.idempotencyKey
    ? await _requestSha256("consent", {
      registration: _hex(canonicalRegistration(registration)),
      phrase: _hex(phrase),
      idempotencyKey: body.idempotencyKey,
    })
    : undefined;
  try {
    const outcome = await _tx(
      ctx,
      (tx) =>
        _idempotent(
          tx,
          ctx,
          "consent",
          identity,
          body.idempotencyKey,
          requestSha,
          _noCheck,
          () => _consentIn(tx, ctx, identity, registration, phrase, maxAttempts),
        ),
    );
    if (!outcome.ok) {
      throw new ApiError(
        403,
        outcome.attemptsLeft > 0 ? "wrong_phrase" : "consent_locked",
        outcome.attemptsLeft > 0
          ? "the consent phrase is not the one in the letter"
          : "too many wrong phrases: an operator must reset consent",
        { attemptsLeft: outcome.attemptsLeft },
      );
    }
    return { status: "active", certificate: outcome.certificate };
  } finally {
    phrase.fill(0);
  }
};

async function _consentIn(
  tx: Transaction<Database>,
  ctx: OpContext,
  identity: string,
  registration: Registration,
  phrase: Uint8Array,
  maxAttempts: number,
): Promise<{ ok: true; certificate: string } | { ok: false; attemptsLeft: number }> {
  const user = await repo.lockUser(tx, identity);
  if (!user) throw new ApiError(404, "unknown_identity", "no application for this identity");
  if (user.status === "active") {
    throw new ApiError(409, "already_active", "consent was given already");
  }
  if (user.status !== "pending") {
    throw new ApiError(403, "account_revoked", "the application was revoked");
  }
  const c = await repo.findConsent(tx, identity);
  if (!c) throw new Error("vault: pending user without a consent row");
  if (new Date(c.expires_at) <= ctx.now) {
    throw new ApiError(410, "consent_expired", "the consent phrase has expired: apply again");
  }
  if (c.attempts >= maxAttempts) {
    throw new ApiError(
      423,
      "consent_locked",
      "too many wrong phrases: an operator must reset consent",
    );
  }
  const stored = canonicalRegistration(repo.registrationOf(user));
  if (!timingSafeEqual(stored, canonicalRegistration(registration))) {
    throw new ApiError(
      400,
      "registration_mismatch",
      "registration data differ from the application",
    );
  }
  const inner = await unwrapUnderPhrase(c.wrapped_record, phrase, identity);
  const hash = inner ? await sha256(inner) : new Uint8Array(32);
  const expected = Uint8Array.from(c.record_sha256.match(/../g)!.map((h) => parseInt(h, 16)));
  if (!inner || !timingSafeEqual(hash, expected)) {
    const attempts = await repo.countConsentAttempt(tx, identity);
    await _audit(tx, ctx, "consent", identity, "wrong_phrase", { attempts });
    return { ok: false as const, attemptsLeft: Math.max(0, maxAttempts - attempts) };
  }
  const record = new TextDecoder().decode(inner);
  const spki = b64uDecode(c.spki);
  const parsed = JSON.parse(record) as KeyRecord;
  await repo.putKeyRecord(tx, identity, record, parsed.spkiSha256, ctx.now);
  const cert = await _issueUserCertificate(tx, ctx, identity, spki);
  await repo.setUserStatus(tx, identity, "active", ctx.now);
  await repo.deleteConsent(tx, identity);
  await creditSuccess(tx, "consent", identity, ctx.clientTag, ctx.now);
  await _audit(tx, ctx, "consent", identity, "active", { serial: cert.serial });
  return { ok: true as const, certificate: cert.pem };
}

/**
 * The opening of the one-statement operations: record the RPC nonce ($1, expiring at $2)
 * when $3, and `go.fresh` says whether the request may take effect (not a replay).
 */
const _RPC_NONCE = `
  with n as (
    insert into nonces (scope, nonce, expires_at)
    select 'rpc', $1, $2::timestamptz where $3::boolean
    on conflict do nothing returning 1
  ),
  go as (select (exists (select 1 from n) or not $3::boolean) as fresh),
`;

/** login.start, statement 1: the user and both records, one round trip (no lock, no write). */
const _LOGIN_START_READ = `
  select u.status, o.registration_record, k.record
  from users u
  left join opaque_records o on o.identity = u.identity
  left join key_records k on k.identity = u.identity
  where u.identity = $1`;

/**
 * login.start, statement 2, atomic: record the RPC nonce ($1 $2, when $3; the guard has
 * usually done so already), store the attempt ($4 … $8) and append its audit row (at $9,
 * actor $10, details $11) — all or nothing, one round trip and one commit.
 */
const _LOGIN_START_WRITE = `
${_RPC_NONCE}  attempt as (
    insert into login_attempts (id, identity, state, client_tag, expires_at)
    select $4, $5, $6, $7, $8::timestamptz where (select fresh from go)
    returning 1
  ),
  audited as (
    insert into audit_log (at, actor, op, identity, outcome, details)
    select $9::timestamptz, $10, 'login.start', $5, 'started', $11
    where exists (select 1 from attempt)
  )
  select (select fresh from go) as fresh`;

const loginStart: Handler<"login.start"> = async (ctx, body) => {
  // The hot path of every sign-in (bench/load.ts): two prepared statements, one read and
  // one atomic write, instead of three reads and a four-round-trip transaction.
  const [user] = await ctx.vault.query<
    { status: string; registration_record: string | null; record: string | null }
  >("login_start_read", _LOGIN_START_READ, [body.identity]);
  if (user?.status === "pending") {
    throw new ApiError(403, "account_pending", "consent has not been given yet");
  }
  if (user?.status === "revoked") throw new ApiError(403, "account_revoked", "the key was revoked");
  const opaqueRecord = user?.registration_record ?? undefined;
  const keyRecord = user?.record ?? undefined;
  // Unknown identity: OPAQUE answers with a fake response, so the caller learns nothing.
  const { serverLoginState, loginResponse } = _opaque(() =>
    opaque.server.startLogin({
      serverSetup: ctx.vault.opaqueSetup,
      registrationRecord: opaqueRecord ?? null,
      startLoginRequest: body.startLoginRequest,
      userIdentifier: body.identity,
    })
  );
  const loginId = b64uEncode(crypto.getRandomValues(new Uint8Array(16)));
  const ksf = keyRecord ? (JSON.parse(keyRecord) as KeyRecord).kdf : _DEFAULT_KSF;
  const nonce = _unconsumedNonce(ctx);
  const [wrote] = await ctx.vault.query<{ fresh: boolean }>(
    "login_start_write",
    _LOGIN_START_WRITE,
    [
      nonce?.nonce ?? null,
      nonce?.expiresAt ?? null,
      nonce !== undefined,
      loginId,
      body.identity,
      serverLoginState,
      ctx.clientTag,
      new Date(ctx.now.getTime() + ctx.vault.config.loginTtlMs),
      ctx.now,
      ctx.actor,
      canonicalJson(ctx.clientTag ? { client: ctx.clientTag } : {}),
    ],
  );
  if (!wrote.fresh) throw new ApiError(401, "replayed_nonce", "request nonce already used");
  if (nonce) nonce.consumed = true;
  _rememberLogin(ctx.vault, loginId, {
    identity: body.identity,
    state: serverLoginState,
    clientTag: ctx.clientTag,
    expiresAt: ctx.now.getTime() + ctx.vault.config.loginTtlMs,
  });
  return { loginId, loginResponse, ksf };
};

/**
 * Login attempts this vault process started, so that its `login.finish` can skip the
 * read (one statement instead of two). A copy of what `login.start` wrote to
 * `login_attempts`, whose rows never change after the insert; the row stays the
 * authority: `login.finish` releases a record only if its statement deletes the row
 * (a concurrent finish, a revocation or a re-registration removes it first). A finish
 * that reaches another vault instance, or one after a restart, reads the row instead.
 * Bounded: expired and oldest entries are dropped first.
 */
interface _PendingLogin {
  identity: string;
  state: string;
  clientTag: string;
  expiresAt: number;
}

const _PENDING_LOGINS_MAX = 20_000;
const _pendingLogins = new WeakMap<VaultState, Map<string, _PendingLogin>>();

function _rememberLogin(vault: VaultState, loginId: string, pending: _PendingLogin): void {
  let map = _pendingLogins.get(vault);
  if (!map) _pendingLogins.set(vault, map = new Map());
  // Insertion order is expiry order (one TTL): drop from the oldest end.
  const now = Date.now();
  for (const [id, p] of map) {
    if (p.expiresAt > now && map.size < _PENDING_LOGINS_MAX) break;
    map.delete(id);
  }
  map.set(loginId, pending);
}

/** Takes (removes and returns) a pending login of this process, if live at `now`. */
function _takePendingLogin(vault: VaultState, loginId: string, now: Date): _PendingLogin | null {
  const map = _pendingLogins.get(vault);
  const pending = map?.get(loginId);
  if (!pending) return null;
  map!.delete(loginId);
  return pending.expiresAt > now.getTime() ? pending : null;
}

/** login.finish, statement 1: the attempt and what a success would release. */
const _LOGIN_FINISH_READ = `
  select a.identity, a.state, a.client_tag, a.expires_at,
    u.status, u.full_name, u.account_number, u.address, k.record, c.pem, c.serial
  from login_attempts a
  left join users u on u.identity = a.identity
  left join key_records k on k.identity = a.identity
  left join certificates c on c.identity = a.identity and c.kind = 'user' and c.status = 'active'
  where a.id = $1`;

/**
 * login.finish, statement 2, atomic: record the RPC nonce ($1 $2, when $3), take the
 * attempt ($4), and when taken clear the backoff keys ($5), mark the address known
 * (when $6: identity $7, tag $8, now $9, rewrite only if older than $10) and append the
 * audit row (when $11 is not null: at $9, actor $12, outcome $11, details $13).
 */
const _LOGIN_FINISH_WRITE = `
${_RPC_NONCE}  a as (
    delete from login_attempts where id = $4 and (select fresh from go) returning identity
  ),
  cleared as (
    delete from rate_limits where key = any($5::text[]) and exists (select 1 from a)
  ),
  known as (
    insert into known_addresses as k (identity, address_tag, last_success_at)
    select $7, $8, $9::timestamptz where $6::boolean and exists (select 1 from a)
    on conflict (identity, address_tag) do update set last_success_at = $9::timestamptz
    where k.last_success_at < $10::timestamptz
  ),
  audited as (
    insert into audit_log (at, actor, op, identity, outcome, details)
    select $9::timestamptz, $12, 'login.finish', $7, $11::text, $13
    where $11::text is not null and exists (select 1 from a)
  )
  select (select fresh from go) as fresh, exists (select 1 from a) as taken`;

/**
 * login.finish in one statement, when this process holds the attempt (see
 * {@link _PendingLogin}): record the RPC nonce ($1 $2, when $3), take the attempt ($4),
 * and when taken read what a success would release for identity $6 and decide the
 * outcome (OPAQUE verified: $5); on release clear the backoff keys ($7) and mark the
 * address known (tag $8 unless empty, now $9, rewrite only if older than $10); append
 * the audit row (actor $11, details with the request's client tag $12). The same
 * effects, rows and outcomes as {@link _LOGIN_FINISH_READ} + {@link _LOGIN_FINISH_WRITE}.
 */
const _LOGIN_FINISH_ONE = `
${_RPC_NONCE}  a as (
    delete from login_attempts where id = $4 and (select fresh from go) returning identity
  ),
  r as (
    select u.status, u.full_name, u.account_number, u.address, k.record, c.pem, c.serial,
      case when not $5::boolean then 'failed'
        when u.status = 'active' and k.record is not null and c.pem is not null
          then 'released'
        else 'refused' end as outcome
    from (select $6::text as identity) i
    left join users u on u.identity = i.identity
    left join key_records k on k.identity = i.identity
    left join certificates c
      on c.identity = i.identity and c.kind = 'user' and c.status = 'active'
    where exists (select 1 from a)
  ),
  cleared as (
    delete from rate_limits where key = any($7::text[])
      and exists (select 1 from r where outcome = 'released')
  ),
  known as (
    insert into known_addresses as k (identity, address_tag, last_success_at)
    select $6, $8, $9::timestamptz
    where $8::text <> '' and exists (select 1 from r where outcome = 'released')
    on conflict (identity, address_tag) do update set last_success_at = $9::timestamptz
    where k.last_success_at < $10::timestamptz
  ),
  audited as (
    insert into audit_log (at, actor, op, identity, outcome, details)
    select $9::timestamptz, $11, 'login.finish', $6, r.outcome,
      '{' || concat_ws(',',
        case when $12::text <> '' then '"client":' || to_json($12::text)::text end,
        case when r.outcome = 'released' then '"serial":' || to_json(r.serial)::text end,
        case when r.outcome = 'refused'
          then '"status":' || to_json(coalesce(r.status, 'none'))::text end
      ) || '}'
    from r
  )
  select (select fresh from go) as fresh, exists (select 1 from a) as taken, r.*
  from (select 1) as one left join r on true`;

/** login.finish when this process started the attempt: one prepared statement. */
async function _loginFinishHeld(
  ctx: OpContext,
  body: OpBody<"login.finish">,
  pending: _PendingLogin,
): Promise<unknown> {
  const ok = _opaqueFinishes(pending.state, body.finishLoginRequest);
  const nonce = _unconsumedNonce(ctx);
  const [row] = await ctx.vault.query<{
    fresh: boolean;
    taken: boolean;
    outcome: string | null;
    status: string | null;
    full_name: string | null;
    account_number: string | null;
    address: string | null;
    record: string | null;
    pem: string | null;
  }>("login_finish_one", _LOGIN_FINISH_ONE, [
    nonce?.nonce ?? null,
    nonce?.expiresAt ?? null,
    nonce !== undefined,
    body.loginId,
    ok,
    pending.identity,
    pending.clientTag ? [`b:login:${identityKeyTag(pending.identity)}:${pending.clientTag}`] : [],
    pending.clientTag,
    ctx.now,
    new Date(ctx.now.getTime() - 86_400_000),
    ctx.actor,
    ctx.clientTag,
  ]);
  if (!row.fresh) throw new ApiError(401, "replayed_nonce", "request nonce already used");
  if (nonce) nonce.consumed = true;
  if (!row.taken) {
    throw new ApiError(401, "login_expired", "no such login in progress: start again");
  }
  if (row.outcome === "failed") throw new ApiError(401, "login_failed", "sign-in failed");
  if (row.outcome !== "released") {
    throw new ApiError(403, "account_revoked", "the key was revoked");
  }
  // A login for re-authentication records its proof, as on the two-statement path.
  if (body.reauth) await _recordReauth(ctx, body.loginId, pending.identity);
  return {
    keyRecord: JSON.parse(row.record!) as KeyRecord,
    registration: {
      identity: pending.identity,
      fullName: row.full_name!,
      accountNumber: row.account_number!,
      address: row.address!,
    },
    certificate: row.pem!,
  };
}

const loginFinish: Handler<"login.finish"> = async (ctx, body) => {
  const pending = _takePendingLogin(ctx.vault, body.loginId, ctx.now);
  if (pending) return await _loginFinishHeld(ctx, body, pending);
  // The hot path (bench/vault_load.ts): two prepared statements, one of which writes.
  // 1. read the login attempt and what a success would release (no lock, no write);
  // 2. after checking the OPAQUE finish in memory, one atomic statement records the
  //    request nonce, takes (deletes) the attempt, and on success clears the backoff,
  //    marks the address known and appends the audit row.
  // The record is released only if statement 2 took the attempt: a concurrent finish,
  // a revocation or a re-registration (both delete pending attempts) in between make it
  // fail. Every state change of the operation is that one statement: all or nothing.
  const [row] = await ctx.vault.query<{
    identity: string;
    state: string;
    client_tag: string;
    expires_at: Date;
    status: string | null;
    full_name: string | null;
    account_number: string | null;
    address: string | null;
    record: string | null;
    pem: string | null;
    serial: string | null;
  }>("login_finish_read", _LOGIN_FINISH_READ, [body.loginId]);
  const nonce = _unconsumedNonce(ctx);
  const expired = !row || new Date(row.expires_at) <= ctx.now;
  const ok = !expired && _opaqueFinishes(row.state, body.finishLoginRequest);
  const releasable = ok && row.status === "active" && !!row.record && !!row.pem;
  const outcome = expired ? null : !ok ? "failed" : releasable ? "released" : "refused";
  const identity = row?.identity ?? null;
  const clientTag = row?.client_tag ?? "";
  const details = canonicalJson({
    client: ctx.clientTag || undefined,
    serial: releasable ? row.serial : undefined,
    status: outcome === "refused" ? row.status ?? "none" : undefined,
  });
  const [wrote] = await ctx.vault.query<{ fresh: boolean; taken: boolean }>(
    "login_finish_write",
    _LOGIN_FINISH_WRITE,
    [
      nonce?.nonce ?? null,
      nonce?.expiresAt ?? null,
      nonce !== undefined,
      body.loginId,
      releasable && clientTag ? [`b:login:${identityKeyTag(identity!)}:${clientTag}`] : [],
      releasable && clientTag !== "",
      identity,
      clientTag,
      ctx.now,
      new Date(ctx.now.getTime() - 86_400_000),
      outcome,
      ctx.actor,
      details,
    ],
  );
  if (!wrote.fresh) throw new ApiError(401, "replayed_nonce", "request nonce already used");
  if (nonce) nonce.consumed = true;
  if (expired || !wrote.taken) {
    throw new ApiError(401, "login_expired", "no such login in progress: start again");
  }
  if (!ok) throw new ApiError(401, "login_failed", "sign-in failed");
  if (!releasable) throw new ApiError(403, "account_revoked", "the key was revoked");
  // A login for re-authentication (docs/lifecycle.md): record its proof. Off the hot
  // path of sign-in; if this write fails the login still succeeded and the user
  // re-authenticates again.
  if (body.reauth) await _recordReauth(ctx, body.loginId, row.identity);
  return {
    keyRecord: JSON.parse(row.record!) as KeyRecord,
    registration: {
      identity: row.identity,
      fullName: row.full_name!,
      accountNumber: row.account_number!,
      address: row.address!,
    },
    certificate: row.pem!,
  };
};

async function _recordReauth(ctx: OpContext, loginId: string, identity: string) {
  const ttl = ctx.vault.config.reauthTtlMs ?? 120_000;
  await ctx.vault.db.transaction().execute(async (tx) => {
    // Old proofs of this identity are of no use to anyone: drop them as we go.
    await tx.deleteFrom("reauth_proofs").where("identity", "=", identity)
      .where("expires_at", "<", new Date(ctx.now.getTime() - 86_400_000)).execute();
    await tx.insertInto("reauth_proofs").values({
      login_id: loginId,
      identity,
      created_at: ctx.now,
      expires_at: new Date(ctx.now.getTime() + ttl),
      consumed_at: null,
      consumed_by: null,
    }).execute();
    await _audit(tx, ctx, "login.finish", identity, "reauthenticated", {
      expiresAt: new Date(ctx.now.getTime() + ttl).toISOString(),
    });
  });
}

const registrationUpdate: Handler<"registration.update"> = async (ctx, body) => {
  const registration = _registration(body.registration);
  const identity = registration.identity;
  return await _tx(ctx, async (tx) => {
    const { cert } = await _lockActive(tx, identity);
    await _verifyByCurrentKey(tx, "registration.update", identity, body, cert);
    const key = await certificateVerifyKey(cert.pem);
    const bits = (key.algorithm as RsaHashedKeyAlgorithm).modulusLength;
    _checkKeyRecord(body.keyRecord, identity, cert.spki_sha256, bits);
    await _consumeUserNonce(tx, body.nonce);
    await repo.updateRegistration(tx, registration, ctx.now);
    await repo.putKeyRecord(tx, identity, canonicalJson(body.keyRecord), cert.spki_sha256, ctx.now);
    await _audit(tx, ctx, "registration.update", identity, "updated");
    return { status: "active" };
  });
};

const reregister: Handler<"reregister"> = async (ctx, body) => {
  const identity = body.identity;
  const pub = await parseUserSpki(body.spki);
  _checkKeyRecord(body.keyRecord, identity, pub.spkiSha256, pub.bits);
  if (b64uDecode(body.registrationRecord).length < 64) {
    throw new ApiError(400, "bad_opaque_message", "registrationRecord is too short");
  }
  const requestSha = body.idempotencyKey ? await _requestSha256("reregister", body) : undefined;
  const r = await _tx(ctx, (tx) =>
    _idempotent(
      tx,
      ctx,
      "reregister",
      identity,
      body.idempotencyKey,
      requestSha,
      _replaySignedBy(tx, "reregister", identity, body),
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
  meta: _IdemRun,
) {
  const identity = body.identity;
  // Locked first, verified second: of two racing re-registrations the second sees the
  // first's new key, and its signature by the old key is `key_superseded`.
  const { cert } = await _lockActive(tx, identity);
  await _verifyByCurrentKey(tx, "reregister", identity, body, cert);
  meta.signer = cert.serial;
  if (pub.spkiSha256 === cert.spki_sha256) {
    throw new ApiError(400, "same_key", "re-registration needs a new key pair");
  }
  await _consumeReauth(tx, ctx, "reregister", identity, body.reauthLoginId);
  await _consumeUserNonce(tx, body.nonce);
  await repo.putOpaqueRecord(tx, identity, body.registrationRecord, ctx.now);
  await repo.putKeyRecord(tx, identity, canonicalJson(body.keyRecord), pub.spkiSha256, ctx.now);
  await repo.retireCertificate(tx, cert.serial, "superseded", "reregistered", ctx.now);
  const next = await _issueUserCertificate(tx, ctx, identity, pub.spki);
  await tx.deleteFrom("login_attempts").where("identity", "=", identity).execute();
  await _refreshCrl(tx, ctx);
  await _audit(tx, ctx, "reregister", identity, "reregistered", {
    superseded: cert.serial,
    serial: next.serial,
    spkiSha256: pub.spkiSha256,
    bits: pub.bits,
  });
  return { certificate: next.pem, serial: next.serial, superseded: cert.serial };
}

const revoke: Handler<"revoke"> = async (ctx, body) => {
  const requestSha = body.idempotencyKey ? await _requestSha256("revoke", body) : undefined;
  return await _tx(ctx, (tx) =>
    _idempotent(
      tx,
      ctx,
      "revoke",
      body.identity,
      body.idempotencyKey,
      requestSha,
      _replaySignedBy(tx, "revoke", body.identity, body),
      async (meta) => {
        const { user, cert } = await _lockActive(tx, body.identity);
        await _verifyByCurrentKey(tx, "revoke", body.identity, body, cert);
        meta.signer = cert.serial;
        await _consumeReauth(tx, ctx, "revoke", body.identity, body.reauthLoginId);
        await _consumeUserNonce(tx, body.nonce);
        return await _revoke(
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

const adminRevoke: Handler<"admin.revoke"> = async (ctx, body) => {
  return await _tx(ctx, async (tx) => {
    const user = await repo.lockUser(tx, body.identity);
    if (!user) throw new ApiError(404, "unknown_identity", "no such identity");
    if (user.status === "revoked") throw new ApiError(409, "already_revoked", "already revoked");
    return await _revoke(
      tx,
      ctx,
      user,
      { by: "operator", operator: body.operator ?? null },
      body.reason,
      "admin.revoke",
    );
  });
};

/**
 * directory.get in one prepared statement (the web server asks it for every submitted
 * signature): the user's latest user certificate, unless the user is still pending.
 */
const _DIRECTORY_GET = `
  select c.*
  from users u
  join lateral (
    select * from certificates
    where identity = u.identity and kind = 'user'
    order by issued_at desc limit 1
  ) c on true
  where u.identity = $1 and u.status <> 'pending'`;

const directoryGet: Handler<"directory.get"> = async (ctx, body) => {
  const [cert] = await ctx.vault.query<Certificate>("directory_get", _DIRECTORY_GET, [
    body.identity,
  ]);
  if (!cert) throw new ApiError(404, "no_certificate", "no certificate for this identity");
  return {
    identity: body.identity,
    ..._certView(cert),
    chain: [ctx.vault.ca.pem],
  };
};

const directoryHistory: Handler<"directory.history"> = async (ctx, body) => {
  const certs = await repo.certificateHistory(ctx.vault.db, body.identity);
  if (certs.length === 0) {
    throw new ApiError(404, "no_certificate", "no certificate for this identity");
  }
  return { identity: body.identity, certificates: certs.map(_certView) };
};

const caGet: Handler<"ca.get"> = (ctx) => Promise.resolve({ certificate: ctx.vault.ca.pem });

const caIssueServer: Handler<"ca.issueServer"> = async (ctx, body) => {
  const spki = b64uDecode(body.spki);
  const spkiSha256 = b64uEncode(await sha256(spki));
  const existing = await ctx.vault.db.selectFrom("certificates").selectAll()
    .where("kind", "=", "server").where("spki_sha256", "=", spkiSha256)
    .where("status", "=", "active").where("not_after", ">", ctx.now).executeTakeFirst();
  if (existing) return { certificate: existing.pem, caCertificate: ctx.vault.ca.pem };
  try {
    await crypto.subtle.importKey(
      "spki",
      spki as Uint8Array<ArrayBuffer>,
      { name: "RSA-OAEP", hash: "SHA-256" },
      false,
      ["encrypt"],
    );
  } catch {
    throw new ApiError(400, "bad_public_key", "spki: not an RSA public key");
  }
  return await _tx(ctx, async (tx) => {
    const issued = await issueCertificate(
      ctx.vault.ca,
      spki,
      "server-confidentiality",
      "roamsign confidentiality",
      ctx.vault.config.certValidityDays,
      ctx.now,
    );
    await repo.insertCertificate(tx, {
      serial: issued.serial,
      identity: null,
      kind: "server",
      subject: issued.subject,
      spki_sha256: issued.spkiSha256,
      pem: issued.pem,
      status: "active",
      not_before: issued.notBefore,
      not_after: issued.notAfter,
      issued_at: ctx.now,
      status_changed_at: null,
      revocation_reason: null,
    });
    await _audit(tx, ctx, "ca.issueServer", null, "issued", {
      serial: issued.serial,
      purpose: body.purpose,
    });
    return { certificate: issued.pem, caCertificate: ctx.vault.ca.pem };
  });
};

/**
 * The stored CRL. Revocations re-sign it in their own transaction; here it is only
 * re-signed (same list, next number) when it is missing or past half its validity.
 */
const crlGet: Handler<"crl.get"> = async (ctx) => {
  const fresh = (c: Awaited<ReturnType<typeof repo.getCrl>>) =>
    c && new Date(c.next_update).getTime() - ctx.now.getTime() > (_CRL_HOURS / 2) * 3_600_000;
  let current = await repo.getCrl(ctx.vault.db);
  if (!fresh(current)) {
    current = await _tx(ctx, async (tx) => {
      await sql`select pg_advisory_xact_lock(${_CRL_LOCK})`.execute(tx);
      const again = await repo.getCrl(tx);
      if (fresh(again)) return again;
      await _refreshCrl(tx, ctx);
      await _audit(tx, ctx, "crl.get", null, "resigned");
      return await repo.getCrl(tx);
    });
  }
  if (!current) throw new Error("vault: no CRL after signing one");
  return {
    crl: current.pem,
    number: Number(current.number),
    thisUpdate: new Date(current.this_update).toISOString(),
    nextUpdate: new Date(current.next_update).toISOString(),
  };
};

const nonceConsume: Handler<"nonce.consume"> = async (ctx, body) => {
  const ok = await repo.consumeNonce(
    ctx.vault.db,
    "session",
    body.nonce,
    new Date(ctx.now.getTime() + 86_400_000),
  );
  if (!ok) throw new ApiError(409, "nonce_used", "this nonce was used before");
  return { consumed: true };
};

const adminUsers: Handler<"admin.users"> = async (ctx) => {
  const users = await repo.listUsers(ctx.vault.db);
  return {
    users: users.map((u) => ({
      identity: u.identity,
      fullName: u.full_name,
      status: u.status,
      createdAt: _iso(u.created_at),
      activatedAt: _iso(u.activated_at),
      revokedAt: _iso(u.revoked_at),
    })),
  };
};

const adminPending: Handler<"admin.pending"> = async (ctx) => {
  const rows = await repo.listPending(ctx.vault.db);
  return {
    pending: rows.map((r) => ({
      identity: r.identity,
      fullName: r.full_name,
      appliedAt: _iso(r.created_at),
      consentExpiresAt: _iso(r.expires_at),
      expired: new Date(r.expires_at) <= ctx.now,
      attempts: r.attempts,
      locked: r.attempts >= ctx.vault.config.consentMaxAttempts,
      letter: r.letter_status,
    })),
  };
};

const adminLetters: Handler<"admin.letters"> = async (ctx) => {
  const rows = await repo.listQueuedLetters(ctx.vault.db);
  const letters = [];
  for (const r of rows) {
    const phrase = r.letter_sealed
      ? new TextDecoder().decode(await ctx.vault.letters.open(r.identity, r.letter_sealed))
      : null;
    letters.push({
      identity: r.identity,
      fullName: r.full_name,
      address: r.address,
      phrase,
      queuedAt: _iso(r.created_at),
      consentExpiresAt: _iso(r.expires_at),
    });
  }
  await _tx(
    ctx,
    (tx) => _audit(tx, ctx, "admin.letters", null, "listed", { count: letters.length }),
  );
  return { letters };
};

const adminLettersSent: Handler<"admin.letters.sent"> = async (ctx, body) => {
  return await _tx(ctx, async (tx) => {
    const rows = await tx.updateTable("consents")
      .set({ letter_status: "sent", letter_sent_at: ctx.now, letter_sealed: null })
      .where("identity", "=", body.identity).where("letter_status", "=", "queued")
      .returning("identity").execute();
    if (rows.length === 0) {
      throw new ApiError(404, "no_letter", "no queued letter for this identity");
    }
    await _audit(tx, ctx, "admin.letters.sent", body.identity, "sent");
    return { identity: body.identity, letter: "sent" };
  });
};

const adminConsentReset: Handler<"admin.consent.reset"> = async (ctx, body) => {
  return await _tx(ctx, async (tx) => {
    const c = await repo.findConsent(tx, body.identity);
    if (!c) throw new ApiError(404, "no_application", "no pending application for this identity");
    const expiresAt = new Date(
      Math.max(
        new Date(c.expires_at).getTime(),
        ctx.now.getTime() + ctx.vault.config.consentTtlDays * 86_400_000,
      ),
    );
    await tx.updateTable("consents").set({ attempts: 0, expires_at: expiresAt })
      .where("identity", "=", body.identity).execute();
    await _audit(tx, ctx, "admin.consent.reset", body.identity, "reset", { attempts: c.attempts });
    return { identity: body.identity, attempts: 0, consentExpiresAt: expiresAt.toISOString() };
  });
};

const adminAuditVerify: Handler<"admin.audit.verify"> = (ctx) => verifyAudit(ctx.vault.db);

const adminAudit: Handler<"admin.audit"> = async (ctx, body) => {
  const rows = await repo.auditEntries(ctx.vault.db, body.identity, body.limit ?? 100);
  return {
    entries: rows.map((r) => ({
      seq: r.seq === null ? null : Number(r.seq),
      at: new Date(r.at).toISOString(),
      actor: r.actor,
      op: r.op,
      identity: r.identity,
      outcome: r.outcome,
      details: JSON.parse(r.details),
    })),
  };
};

/** Every operation's handler. */
export const HANDLERS: { [N in OpName]: Handler<N> } = {
  "register.start": registerStart,
  apply,
  "application.get": applicationGet,
  consent,
  "login.start": loginStart,
  "login.finish": loginFinish,
  "registration.update": registrationUpdate,
  reregister,
  revoke,
  "admin.revoke": adminRevoke,
  "directory.get": directoryGet,
  "directory.history": directoryHistory,
  "ca.get": caGet,
  "ca.issueServer": caIssueServer,
  "crl.get": crlGet,
  "nonce.consume": nonceConsume,
  "admin.users": adminUsers,
  "admin.pending": adminPending,
  "admin.letters": adminLetters,
  "admin.letters.sent": adminLettersSent,
  "admin.consent.reset": adminConsentReset,
  "admin.audit.verify": adminAuditVerify,
  "admin.audit": adminAudit,
};

/** Runs an operation by name on a parsed body. */
export async function runOperation(ctx: OpContext, op: OpName, body: unknown): Promise<unknown> {
  const result = await (HANDLERS[op] as Handler<OpName>)(ctx, body as OpBody<OpName>);
  // An operation that opened no transaction (a read): record the nonce before answering.
  await _consumeRpcNonce(ctx.vault.db, ctx);
  return result;
}
