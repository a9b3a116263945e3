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
