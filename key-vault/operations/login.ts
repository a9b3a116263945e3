/**
 * Sign-in: login.start and login.finish (with the pending-login cache of this process
 * and the prepared statements of the hot path), the re-authentication record, and
 * nonce.consume for the web server's session nonces.
 *
 * @module
 */
import * as opaque from "@serenity-kit/opaque";
import { b64uEncode, canonicalJson, type KsfParams } from "../../protocol/mod.ts";
import { ApiError, type KeyRecord, type OpBody } from "../../platform/mod.ts";
import * as repo from "../repositories/mod.ts";
import type { VaultState } from "../state.ts";
import {
  audit,
  type Handler,
  kdfOf,
  opaqueCall,
  opaqueFinishes,
  type OpContext,
  unconsumedNonce,
} from "./context.ts";
import { expectConfirm } from "./pending.ts";

export const loginStart: Handler<"login.start"> = async (ctx, body) => {
  // The hot path of every sign-in (bench/load.ts): two prepared statements, one read and
  // one atomic write, instead of three reads and a four-round-trip transaction.
  const user = await repo.loginStartRead(ctx.vault.query, body.identity);
  if (user?.status === "pending") {
    throw new ApiError(403, "account_pending", "consent has not been given yet");
  }
  if (user?.status === "revoked") throw new ApiError(403, "account_revoked", "the key was revoked");
  const opaqueRecord = user?.registration_record ?? undefined;
  // Unknown identity: OPAQUE answers with a fake response, so the caller learns nothing.
  const { serverLoginState, loginResponse } = opaqueCall(() =>
    opaque.server.startLogin({
      serverSetup: ctx.vault.opaqueSetup,
      registrationRecord: opaqueRecord ?? null,
      startLoginRequest: body.startLoginRequest,
      userIdentifier: body.identity,
    })
  );
  const loginId = b64uEncode(crypto.getRandomValues(new Uint8Array(16)));
  // The parameters the vault stored for this user, never the record's own `kdf`: a
  // record is written by a client (issue 15). An unknown identity gets the vault's
  // current ones, as a new registration would.
  const ksf = kdfOf(
    user?.ksf_params ? JSON.parse(user.ksf_params) as KsfParams : ctx.vault.config.ksf,
  );
  const nonce = unconsumedNonce(ctx);
  const fresh = await repo.loginStartWrite(ctx.vault.query, {
    nonce,
    id: loginId,
    identity: body.identity,
    state: serverLoginState,
    clientTag: ctx.clientTag,
    expiresAt: new Date(ctx.now.getTime() + ctx.vault.config.loginTtlMs),
    at: ctx.now,
    actor: ctx.actor,
    details: canonicalJson(ctx.clientTag ? { client: ctx.clientTag } : {}),
  });
  if (!fresh) throw new ApiError(401, "replayed_nonce", "request nonce already used");
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

/** login.finish when this process started the attempt: one prepared statement. */
async function _loginFinishHeld(
  ctx: OpContext,
  body: OpBody<"login.finish">,
  pending: _PendingLogin,
): Promise<unknown> {
  const sessionKey = opaqueFinishes(pending.state, body.finishLoginRequest);
  const nonce = unconsumedNonce(ctx);
  const row = await repo.loginFinishOne(ctx.vault.query, {
    nonce,
    loginId: body.loginId,
    verified: sessionKey !== null,
    identity: pending.identity,
    clearKeys: pending.clientTag
      ? [`b:login:${ctx.vault.tags.identity(pending.identity)}:${pending.clientTag}`]
      : [],
    addressTag: pending.clientTag,
    now: ctx.now,
    knownBefore: new Date(ctx.now.getTime() - 86_400_000),
    actor: ctx.actor,
    clientTag: ctx.clientTag,
  });
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
  return await _released(ctx, body, pending.identity, row, sessionKey!);
}

/**
 * What a successful login.finish answers: the current record, registration data and
 * certificate, and a pending update beside them (docs/lifecycle.md, "Pending key
 * record") for the applet to try first and confirm with `login.confirm`. A login for
 * re-authentication gets no pending record (the web server does not pass records on).
 */
async function _released(
  ctx: OpContext,
  body: OpBody<"login.finish">,
  identity: string,
  row: repo.ReleaseRow,
  sessionKey: string,
): Promise<Record<string, unknown>> {
  const answer: Record<string, unknown> = {
    keyRecord: JSON.parse(row.record!) as KeyRecord,
    registration: {
      identity,
      fullName: row.full_name!,
      accountNumber: row.account_number!,
      address: row.address!,
    },
    certificate: row.pem!,
  };
  if (row.pending_record && row.pending_registration && !body.reauth) {
    await expectConfirm(ctx, identity, body.loginId, row.pending_record, sessionKey);
    answer.pending = {
      keyRecord: JSON.parse(row.pending_record) as KeyRecord,
      registration: JSON.parse(row.pending_registration),
    };
  }
  return answer;
}

export const loginFinish: Handler<"login.finish"> = async (ctx, body) => {
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
  const row = await repo.loginFinishRead(ctx.vault.query, body.loginId);
  const nonce = unconsumedNonce(ctx);
  const expired = !row || new Date(row.expires_at) <= ctx.now;
  const sessionKey = !row || expired ? null : opaqueFinishes(row.state, body.finishLoginRequest);
  const ok = row !== undefined && sessionKey !== null;
  const releasable = ok && row.status === "active" && !!row.record && !!row.pem;
  const outcome = expired ? null : !ok ? "failed" : releasable ? "released" : "refused";
  const identity = row?.identity ?? null;
  const clientTag = row?.client_tag ?? "";
  const details = canonicalJson({
    client: ctx.clientTag || undefined,
    serial: releasable ? row.serial : undefined,
    status: outcome === "refused" ? row!.status ?? "none" : undefined,
  });
  const wrote = await repo.loginFinishWrite(ctx.vault.query, {
    nonce,
    loginId: body.loginId,
    clearKeys: releasable && clientTag
      ? [`b:login:${ctx.vault.tags.identity(identity!)}:${clientTag}`]
      : [],
    markKnown: releasable && clientTag !== "",
    identity,
    addressTag: clientTag,
    now: ctx.now,
    knownBefore: new Date(ctx.now.getTime() - 86_400_000),
    outcome,
    actor: ctx.actor,
    details,
  });
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
  return await _released(ctx, body, row.identity, row, sessionKey!);
};

async function _recordReauth(ctx: OpContext, loginId: string, identity: string) {
  const ttl = ctx.vault.config.reauthTtlMs ?? 120_000;
  await ctx.vault.db.transaction().execute(async (tx) => {
    // Old proofs of this identity are of no use to anyone: drop them as we go.
    await repo.pruneReauthProofsOf(tx, identity, new Date(ctx.now.getTime() - 86_400_000));
    await repo.insertReauthProof(tx, {
      loginId,
      identity,
      createdAt: ctx.now,
      expiresAt: new Date(ctx.now.getTime() + ttl),
    });
    await audit(tx, ctx, "login.finish", identity, "reauthenticated", {
      expiresAt: new Date(ctx.now.getTime() + ttl).toISOString(),
    });
  });
}

export const nonceConsume: Handler<"nonce.consume"> = async (ctx, body) => {
  const ok = await repo.consumeNonce(
    ctx.vault.db,
    "session",
    body.nonce,
    new Date(ctx.now.getTime() + 86_400_000),
  );
  if (!ok) throw new ApiError(409, "nonce_used", "this nonce was used before");
  return { consumed: true };
};
