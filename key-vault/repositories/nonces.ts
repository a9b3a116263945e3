/**
 * The `nonces` table: single-use values by scope (`rpc`, `session`, `user`, `pow`).
 *
 * @module
 */
import { sql } from "kysely";
import type { Q } from "./database.ts";

/** Consumes a nonce in `scope`; false when it was used before. */
export async function consumeNonce(
  tx: Q,
  scope: string,
  nonce: string,
  expiresAt: Date | null,
): Promise<boolean> {
  const rows = await tx.insertInto("nonces").values({ scope, nonce, expires_at: expiresAt })
    .onConflict((oc) => oc.columns(["scope", "nonce"]).doNothing()).returning("nonce").execute();
  return rows.length === 1;
}

/**
 * The opening of the one-statement operations (key-vault/repositories/login_attempts.ts):
 * record the RPC nonce ($1, expiring at $2) when $3, and `go.fresh` says whether the
 * request may take effect (not a replay). Part of the prepared statements' texts.
 */
export const RPC_NONCE_CTE = `
  with n as (
    insert into nonces (scope, nonce, expires_at)
    select 'rpc', $1, $2::timestamptz where $3::boolean
    on conflict do nothing returning 1
  ),
  go as (select (exists (select 1 from n) or not $3::boolean) as fresh),
`;

/** The RPC nonce a one-statement operation records, when no statement did yet. */
export interface RpcNonceParam {
  nonce: string;
  expiresAt: Date;
}

/** The first three parameters of every statement that opens with {@link RPC_NONCE_CTE}. */
export function rpcNonceParams(n: RpcNonceParam | undefined): unknown[] {
  return [n?.nonce ?? null, n?.expiresAt ?? null, n !== undefined];
}

/** Records an RPC nonce (scope `rpc`); false when it was used before. */
export async function recordRpcNonce(db: Q, nonce: string, expiresAt: Date): Promise<boolean> {
  const r = await sql<{ ok: number }>`insert into nonces (scope, nonce, expires_at)
      values ('rpc', ${nonce}, ${expiresAt}) on conflict do nothing returning 1 as ok`
    .execute(db);
  return r.rows.length > 0;
}

/** Spends a proof-of-work challenge's `rand` (scope `pow`); false when spent before. */
export async function spendPowNonce(db: Q, rand: string, expiresAt: Date): Promise<boolean> {
  const r = await sql<{ ok: number }>`insert into nonces (scope, nonce, expires_at)
    values ('pow', ${rand}, ${expiresAt}) on conflict do nothing returning 1 as ok`
    .execute(db);
  return r.rows.length === 1;
}

/** Deletes nonces that expired before `now` (kept-for-good ones have no expiry); returns how many. */
export async function deleteExpiredNonces(db: Q, now: Date): Promise<number> {
  const r = await db.deleteFrom("nonces").where("expires_at", "<", now).execute();
  return r.reduce((s, x) => s + Number(x.numDeletedRows), 0);
}
