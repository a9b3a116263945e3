/**
 * The `nonces` table: single-use values by scope (`rpc`, `session`, `user`, `pow`).
 *
 * @module
 */
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
