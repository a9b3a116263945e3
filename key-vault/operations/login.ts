/**
 * Sign-in: login.start and login.finish (with the pending-login cache of this process
 * and the prepared statements of the hot path), the re-authentication record, and
 * nonce.consume for the web server's session nonces.
 *
 * @module
 */
import * as opaque from "@serenity-kit/opaque";
import { b64uEncode, canonicalJson } from "../../protocol/mod.ts";
import { ApiError, type KeyRecord, type OpBody } from "../../platform/mod.ts";
import * as repo from "../repositories/mod.ts";
import type { VaultState } from ".././state.ts";
import {
  audit,
  DEFAULT_KSF,
  type Handler,
  opaqueCall,
  opaqueFinishes,
  type OpContext,
  unconsumedNonce,
} from "./context.ts";

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

export const loginStart: Handler<"login.start"> = async (ctx, body) => {
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
  const { serverLoginState, loginResponse } = opaqueCall(() =>
    opaque.server.startLogin({
      serverSetup: ctx.vault.opaqueSetup,
      registrationRecord: opaqueRecord ?? null,
      startLoginRequest: body.startLoginRequest,
      userIdentifier: body.identity,
    })
  );
  const loginId = b64uEncode(crypto.getRandomValues(new Uint8Array(16)));
  const ksf = keyRecord ? (JSON.parse(keyRecord) as KeyRecord).kdf : DEFAULT_KSF;
  const nonce = unconsumedNonce(ctx);
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
  const ok = opaqueFinishes(pending.state, body.finishLoginRequest);
  const nonce = unconsumedNonce(ctx);
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
    pending.clientTag
      ? [`b:login:${ctx.vault.tags.identity(pending.identity)}:${pending.clientTag}`]
      : [],
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
  const nonce = unconsumedNonce(ctx);
  const expired = !row || new Date(row.expires_at) <= ctx.now;
  const ok = !expired && opaqueFinishes(row.state, body.finishLoginRequest);
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
      releasable && clientTag ? [`b:login:${ctx.vault.tags.identity(identity!)}:${clientTag}`] : [],
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
