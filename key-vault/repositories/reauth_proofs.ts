/**
 * The `reauth_proofs` table: logins finished for re-authentication, single use
 * (docs/lifecycle.md, "Re-authentication").
 *
 * @module
 */
import type { Q } from "./database.ts";

/** Deletes an identity's proofs that expired before `before`. */
export async function pruneReauthProofsOf(tx: Q, identity: string, before: Date): Promise<void> {
  await tx.deleteFrom("reauth_proofs").where("identity", "=", identity)
    .where("expires_at", "<", before).execute();
}

/** Stores the proof of a login finished with `reauth: true`. */
export async function insertReauthProof(
  tx: Q,
  p: { loginId: string; identity: string; createdAt: Date; expiresAt: Date },
): Promise<void> {
  await tx.insertInto("reauth_proofs").values({
    login_id: p.loginId,
    identity: p.identity,
    created_at: p.createdAt,
    expires_at: p.expiresAt,
    consumed_at: null,
    consumed_by: null,
  }).execute();
}

/** Whether `loginId` is a live, unused proof of `identity` at `now` (does not use it). */
export async function hasLiveReauthProof(
  db: Q,
  loginId: string,
  identity: string,
  now: Date,
): Promise<boolean> {
  const proof = await db.selectFrom("reauth_proofs").select("login_id")
    .where("login_id", "=", loginId).where("identity", "=", identity)
    .where("consumed_at", "is", null).where("expires_at", ">", now)
    .executeTakeFirst();
  return proof !== undefined;
}

/** Marks a live, unused proof of `identity` used by `op`; false when there is none. */
export async function consumeReauthProof(
  tx: Q,
  loginId: string,
  identity: string,
  op: string,
  now: Date,
): Promise<boolean> {
  const used = await tx.updateTable("reauth_proofs")
    .set({ consumed_at: now, consumed_by: op })
    .where("login_id", "=", loginId).where("identity", "=", identity)
    .where("consumed_at", "is", null).where("expires_at", ">", now)
    .returning("login_id").executeTakeFirst();
  return used !== undefined;
}
