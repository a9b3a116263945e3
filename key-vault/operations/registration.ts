/**
 * Registration (docs/architecture.md, DESIGN.md §2.3–2.4): register.start, apply,
 * application.get and consent.
 *
 * @module
 */
import * as opaque from "@serenity-kit/opaque";
import type { Transaction } from "kysely";
import {
  b64uDecode,
  b64uEncode,
  canonicalJson,
  canonicalRegistration,
  generateConsentPhrase,
  parseConsentPhrase,
  type Registration,
} from "../../protocol/mod.ts";
import { ApiError, type KeyRecord, ksfParamsOf, type OpBody } from "../../platform/mod.ts";
import {
  parseUserSpki,
  sha256,
  timingSafeEqual,
  unwrapUnderPhrase,
  wrapUnderPhrase,
} from "../crypto.ts";
import type { Database } from "../db.ts";
import { creditSuccess } from "../guard.ts";
import * as repo from "../repositories/mod.ts";
import { signStatement } from "../statements.ts";
import {
  audit,
  checkKeyRecord,
  consumeUserNonce,
  type Handler,
  inTransaction,
  iso,
  issueUserCertificate,
  opaqueCall,
  type OpContext,
  registrationOf,
  requireVaultKsf,
  verifySigned,
} from "./context.ts";
import { hex, idempotencyRequestSha256, noCheck, runIdempotent } from "./idempotency.ts";

// ── operations ──────────────────────────────────────────────────────────────────────

/**
 * `register.start` evaluates the OPRF under the identity's key, as `login.start` does, so
 * for an identity that exists it is no one's to ask (issue 15 item 6): an active identity
 * gets an answer only with a fresh re-authentication of it (the re-registration path;
 * checked here, consumed by `reregister`), a revoked one never. A pending identity may
 * apply again once its consent expired (`apply` decides). Refusals are audited by the
 * vault's refusal rows (key-vault/refusals.ts).
 */
async function _registerStartAllowed(
  ctx: OpContext,
  identity: string,
  reauthLoginId: string | undefined,
): Promise<void> {
  const user = await repo.findUser(ctx.vault.db, identity);
  if (!user || user.status === "pending") return;
  if (user.status === "active" && reauthLoginId) {
    if (await repo.hasLiveReauthProof(ctx.vault.db, reauthLoginId, identity, ctx.now)) return;
    throw new ApiError(
      403,
      "reauth_required",
      "enter your current pass phrase again (the re-authentication is unknown, expired, used or for someone else)",
    );
  }
  throw new ApiError(409, "identity_taken", "this identity is taken");
}

/**
 * The OPAQUE registration answer, signed with the vault's statement key over the
 * identity, the request's hash, the answer, the applet's session binding and the
 * stretching parameters the vault sets (`ksf`, from its configuration): the applet
 * checks it against its pinned key before it finishes the registration, so a relay
 * that answers with its own OPAQUE setup, or lowers the parameters, is refused
 * (docs/trust-anchors.md); `apply` and `reregister` then refuse a record stretched
 * otherwise (docs/lifecycle.md, "Stretching parameters").
 */
export const registerStart: Handler<"register.start"> = async (ctx, body) => {
  await _registerStartAllowed(ctx, body.identity, body.reauthLoginId);
  const { registrationResponse } = opaqueCall(() =>
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
    ksf: ctx.vault.config.ksf,
  });
  return { registrationResponse, vaultSignature, ksf: ctx.vault.config.ksf };
};

export const apply: Handler<"apply"> = async (ctx, body) => {
  const registration = registrationOf(body.registration);
  const identity = registration.identity;
  const pub = await parseUserSpki(body.spki);
  checkKeyRecord(body.keyRecord, identity, pub.spkiSha256, pub.bits);
  requireVaultKsf(body.keyRecord, canonicalJson(ctx.vault.config.ksf));
  if (b64uDecode(body.registrationRecord).length < 64) {
    throw new ApiError(400, "bad_opaque_message", "registrationRecord is too short");
  }
  await verifySigned("apply", identity, body.nonce, body, body.pop, pub.key, "pop_invalid");

  const record = new TextEncoder().encode(canonicalJson(body.keyRecord));
  const recordHash = Array.from(await sha256(record), (b) => b.toString(16).padStart(2, "0")).join(
    "",
  );
  const phrase = generateConsentPhrase();
  try {
    const wrapped = await wrapUnderPhrase(record, phrase.bytes, identity);
    const letter = await ctx.vault.letters.seal(identity, new TextEncoder().encode(phrase.text));
    const expiresAt = new Date(ctx.now.getTime() + ctx.vault.config.consentTtlDays * 86_400_000);
    const requestSha = body.idempotencyKey
      ? await idempotencyRequestSha256("apply", body)
      : undefined;
    // A replay needs no further check: `pop` (verified above) is by the key in `spki`,
    // which the request hash pins.
    const r = await inTransaction(
      ctx,
      (tx) =>
        runIdempotent(
          tx,
          ctx,
          "apply",
          identity,
          body.idempotencyKey,
          requestSha,
          noCheck,
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
  await consumeUserNonce(tx, body.nonce);
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
  await audit(tx, ctx, "apply", identity, "pending", {
    spkiSha256: pub.spkiSha256,
    bits: pub.bits,
  });
  return { status: "pending", consentExpiresAt: expiresAt.toISOString() };
}

export const applicationGet: Handler<"application.get"> = async (ctx, body) => {
  const user = await repo.findUser(ctx.vault.db, body.identity);
  if (!user) throw new ApiError(404, "unknown_identity", "no such identity");
  if (user.status === "pending") {
    const consent = await repo.findConsent(ctx.vault.db, body.identity);
    return {
      status: "pending",
      spki: consent?.spki ?? null,
      consentExpiresAt: iso(consent?.expires_at ?? null),
      locked: (consent?.attempts ?? 0) >= ctx.vault.config.consentMaxAttempts,
    };
  }
  const cert = await repo.latestCertificate(ctx.vault.db, body.identity);
  return { status: user.status, spkiSha256: cert?.spki_sha256 ?? null };
};

export const consent: Handler<"consent"> = async (ctx, body) => {
  const registration = registrationOf(body.registration);
  const identity = registration.identity;
  const phrase = parseConsentPhrase(body.phrase); // the proxy checked the format already
  const maxAttempts = ctx.vault.config.consentMaxAttempts;
  // The phrase is pinned by its bytes (its spelling may differ between retries); a
  // replay is thereby checked: only someone who knows the phrase has the same hash.
  const requestSha = body.idempotencyKey
    ? await idempotencyRequestSha256("consent", {
      registration: hex(canonicalRegistration(registration)),
      phrase: hex(phrase),
      idempotencyKey: body.idempotencyKey,
    })
    : undefined;
  try {
    const outcome = await inTransaction(
      ctx,
      (tx) =>
        runIdempotent(
          tx,
          ctx,
          "consent",
          identity,
          body.idempotencyKey,
          requestSha,
          noCheck,
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

/** The registration fields whose values differ (names as in {@link Registration}). */
function _differingFields(a: Registration, b: Registration): string[] {
  const keys = ["identity", "fullName", "accountNumber", "address"] as const;
  return keys.filter((k) => a[k].normalize("NFC").trim() !== b[k].normalize("NFC").trim());
}

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
  const applied = repo.registrationOf(user);
  const inner = await unwrapUnderPhrase(c.wrapped_record, phrase, identity);
  const hash = inner ? await sha256(inner) : new Uint8Array(32);
  const expected = Uint8Array.from(c.record_sha256.match(/../g)!.map((h) => parseInt(h, 16)));
  const phraseOk = inner !== null && timingSafeEqual(hash, expected);
  if (!timingSafeEqual(canonicalRegistration(applied), canonicalRegistration(registration))) {
    // Not counted, so that knowing an identity is not enough to burn its attempts. Which
    // fields differ is said only to the holder of the letter's phrase (docs/hostile-input.md).
    inner?.fill(0);
    throw new ApiError(
      400,
      "registration_mismatch",
      "registration data differ from the application",
      phraseOk ? { fields: _differingFields(applied, registration) } : undefined,
    );
  }
  if (!phraseOk) {
    const attempts = await repo.countConsentAttempt(tx, identity);
    await audit(tx, ctx, "consent", identity, "wrong_phrase", { attempts });
    return { ok: false as const, attemptsLeft: Math.max(0, maxAttempts - attempts) };
  }
  const record = new TextDecoder().decode(inner!);
  const spki = b64uDecode(c.spki);
  // The parameters `apply` checked against the vault's (they were the vault's then).
  const parsed = JSON.parse(record) as KeyRecord;
  const ksfParams = canonicalJson(ksfParamsOf(parsed));
  await repo.putKeyRecord(tx, identity, record, parsed.spkiSha256, ksfParams, ctx.now);
  const cert = await issueUserCertificate(tx, ctx, identity, spki);
  await repo.setUserStatus(tx, identity, "active", ctx.now);
  await repo.deleteConsent(tx, identity);
  await creditSuccess(tx, ctx.vault.tags, "consent", identity, ctx.clientTag, ctx.now);
  await audit(tx, ctx, "consent", identity, "active", { serial: cert.serial });
  return { ok: true as const, certificate: cert.pem };
}
