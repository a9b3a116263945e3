/**
 * The `login_attempts` table: OPAQUE server state between login.start and login.finish.
 *
 * @module
 */
import type { Prepared, Q } from "./database.ts";
import { RPC_NONCE_CTE, type RpcNonceParam, rpcNonceParams } from "./nonces.ts";

/** Stores the server state of an OPAQUE login between start and finish. */
export async function putLoginAttempt(
  tx: Q,
  a: { id: string; identity: string; state: string; clientTag: string; expiresAt: Date },
): Promise<void> {
  await tx.insertInto("login_attempts").values({
    id: a.id,
    identity: a.identity,
    state: a.state,
    client_tag: a.clientTag,
    expires_at: a.expiresAt,
  }).execute();
}

/** Takes (deletes and returns) a login attempt: each loginId finishes at most once. */
export function takeLoginAttempt(tx: Q, id: string) {
  return tx.deleteFrom("login_attempts").where("id", "=", id)
    .returning(["identity", "state", "client_tag", "expires_at"]).executeTakeFirst();
}

/** Deletes every pending login attempt of an identity (revocation, re-registration). */
export async function deleteLoginAttemptsOf(tx: Q, identity: string): Promise<void> {
  await tx.deleteFrom("login_attempts").where("identity", "=", identity).execute();
}

/**
 * login.start, statement 2, atomic: record the RPC nonce ($1 $2, when $3; the guard has
 * usually done so already), store the attempt ($4 … $8) and append its audit row (at $9,
 * actor $10, details $11) — all or nothing, one round trip and one commit.
 */
const _LOGIN_START_WRITE = `
${RPC_NONCE_CTE}  attempt as (
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

/** What login.start stores, and the audit row it appends with it. */
export interface LoginStartWrite {
  nonce?: RpcNonceParam;
  id: string;
  identity: string;
  state: string;
  clientTag: string;
  expiresAt: Date;
  at: Date;
  actor: string;
  /** Canonical JSON of the audit row's details. */
  details: string;
}

/** login.start's write (prepared `login_start_write`); false when the nonce was a replay. */
export async function loginStartWrite(query: Prepared, w: LoginStartWrite): Promise<boolean> {
  const [row] = await query<{ fresh: boolean }>("login_start_write", _LOGIN_START_WRITE, [
    ...rpcNonceParams(w.nonce),
    w.id,
    w.identity,
    w.state,
    w.clientTag,
    w.expiresAt,
    w.at,
    w.actor,
    w.details,
  ]);
  return row.fresh;
}

/** What a success of login.finish releases (null fields: missing). */
export interface ReleaseRow {
  status: string | null;
  full_name: string | null;
  account_number: string | null;
  address: string | null;
  record: string | null;
  pem: string | null;
  serial: string | null;
  /** A pending `registration.update` (docs/lifecycle.md, "Pending key record"), if any. */
  pending_record: string | null;
  pending_registration: string | null;
}

/** login.finish, statement 1: the attempt and what a success would release. */
const _LOGIN_FINISH_READ = `
  select a.identity, a.state, a.client_tag, a.expires_at,
    u.status, u.full_name, u.account_number, u.address, k.record, c.pem, c.serial,
    k.pending_record, k.pending_registration
  from login_attempts a
  left join users u on u.identity = a.identity
  left join key_records k on k.identity = a.identity
  left join certificates c on c.identity = a.identity and c.kind = 'user' and c.status = 'active'
  where a.id = $1`;

/** A login attempt with what a success would release. */
export interface LoginFinishRow extends ReleaseRow {
  identity: string;
  state: string;
  client_tag: string;
  expires_at: Date;
}

/** login.finish's read (prepared `login_finish_read`); undefined: no such attempt. */
export async function loginFinishRead(
  query: Prepared,
  loginId: string,
): Promise<LoginFinishRow | undefined> {
  const [row] = await query<LoginFinishRow>("login_finish_read", _LOGIN_FINISH_READ, [loginId]);
  return row;
}

/**
 * login.finish, statement 2, atomic: record the RPC nonce ($1 $2, when $3), take the
 * attempt ($4), and when taken clear the backoff keys ($5), mark the address known
 * (when $6: identity $7, tag $8, now $9, rewrite only if older than $10) and append the
 * audit row (when $11 is not null: at $9, actor $12, outcome $11, details $13).
 */
const _LOGIN_FINISH_WRITE = `
${RPC_NONCE_CTE}  a as (
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

/** What login.finish's two-statement path writes. */
export interface LoginFinishWrite {
  nonce?: RpcNonceParam;
  loginId: string;
  /** Backoff keys cleared when the attempt is taken. */
  clearKeys: string[];
  markKnown: boolean;
  identity: string | null;
  addressTag: string;
  now: Date;
  /** The known-address row is rewritten only if older than this. */
  knownBefore: Date;
  /** The audit row's outcome; null: no audit row. */
  outcome: string | null;
  actor: string;
  details: string;
}

/** login.finish's write (prepared `login_finish_write`). */
export async function loginFinishWrite(
  query: Prepared,
  w: LoginFinishWrite,
): Promise<{ fresh: boolean; taken: boolean }> {
  const [row] = await query<{ fresh: boolean; taken: boolean }>(
    "login_finish_write",
    _LOGIN_FINISH_WRITE,
    [
      ...rpcNonceParams(w.nonce),
      w.loginId,
      w.clearKeys,
      w.markKnown,
      w.identity,
      w.addressTag,
      w.now,
      w.knownBefore,
      w.outcome,
      w.actor,
      w.details,
    ],
  );
  return row;
}

/**
 * login.finish in one statement, when this process holds the attempt (see
 * `_PendingLogin` in key-vault/operations/login.ts): record the RPC nonce ($1 $2, when $3), take the attempt ($4),
 * and when taken read what a success would release for identity $6 and decide the
 * outcome (OPAQUE verified: $5); on release clear the backoff keys ($7) and mark the
 * address known (tag $8 unless empty, now $9, rewrite only if older than $10); append
 * the audit row (actor $11, details with the request's client tag $12). The same
 * effects, rows and outcomes as {@link loginFinishRead} + {@link loginFinishWrite}.
 */
const _LOGIN_FINISH_ONE = `
${RPC_NONCE_CTE}  a as (
    delete from login_attempts where id = $4 and (select fresh from go) returning identity
  ),
  r as (
    select u.status, u.full_name, u.account_number, u.address, k.record, c.pem, c.serial,
      k.pending_record, k.pending_registration,
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

/** What login.finish's one-statement path needs. */
export interface LoginFinishOne {
  nonce?: RpcNonceParam;
  loginId: string;
  /** Whether the OPAQUE finish verified. */
  verified: boolean;
  identity: string;
  /** Backoff keys cleared on release. */
  clearKeys: string[];
  /** The address tag stored with the attempt ("" for none). */
  addressTag: string;
  now: Date;
  /** The known-address row is rewritten only if older than this. */
  knownBefore: Date;
  actor: string;
  /** The request's client tag, for the audit details. */
  clientTag: string;
}

/** The outcome of {@link loginFinishOne}. */
export interface LoginFinishOneRow extends ReleaseRow {
  fresh: boolean;
  taken: boolean;
  outcome: string | null;
}

/** login.finish in one statement (prepared `login_finish_one`). */
export async function loginFinishOne(
  query: Prepared,
  f: LoginFinishOne,
): Promise<LoginFinishOneRow> {
  const [row] = await query<LoginFinishOneRow>("login_finish_one", _LOGIN_FINISH_ONE, [
    ...rpcNonceParams(f.nonce),
    f.loginId,
    f.verified,
    f.identity,
    f.clearKeys,
    f.addressTag,
    f.now,
    f.knownBefore,
    f.actor,
    f.clientTag,
  ]);
  return row;
}

/** Deletes attempts that expired before `now`; returns how many. */
export async function deleteExpiredLoginAttempts(db: Q, now: Date): Promise<number> {
  const r = await db.deleteFrom("login_attempts").where("expires_at", "<", now).execute();
  return r.reduce((s, x) => s + Number(x.numDeletedRows), 0);
}
