/**
 * The `login_attempts` table: OPAQUE server state between login.start and login.finish.
 *
 * @module
 */
import type { Q } from "./database.ts";

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
