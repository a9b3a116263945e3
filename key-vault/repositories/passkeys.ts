/**
 * The `passkeys` and `passkey_challenges` tables (docs/passkeys.md): an identity's
 * WebAuthn credentials with their key-record slots, and the vault's single-use
 * challenges.
 *
 * @module
 */
import type { Passkey, PasskeyChallenge } from "../db.ts";
import type { Q } from "./database.ts";

/** An identity's passkeys, oldest first. */
export function listPasskeys(db: Q, identity: string): Promise<Passkey[]> {
  return db.selectFrom("passkeys").selectAll().where("identity", "=", identity)
    .orderBy("created_at").orderBy("credential_id").execute();
}

/** How many passkeys an identity has. */
export async function countPasskeys(db: Q, identity: string): Promise<number> {
  const row = await db.selectFrom("passkeys")
    .select((eb) => eb.fn.countAll<string | number>().as("n"))
    .where("identity", "=", identity).executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** A passkey by credential id (any identity), locked for update in a transaction. */
export function findPasskey(db: Q, credentialId: string): Promise<Passkey | undefined> {
  return db.selectFrom("passkeys").selectAll().where("credential_id", "=", credentialId)
    .forUpdate().executeTakeFirst();
}

/** Stores a new passkey; false when the credential id exists already. */
export async function insertPasskey(
  tx: Q,
  p: {
    credentialId: string;
    identity: string;
    publicKey: string;
    counter: number;
    transports: string[];
    name: string;
    slot: string;
    now: Date;
  },
): Promise<boolean> {
  const r = await tx.insertInto("passkeys").values({
    credential_id: p.credentialId,
    identity: p.identity,
    public_key: p.publicKey,
    counter: p.counter,
    transports: JSON.stringify(p.transports),
    name: p.name,
    slot: p.slot,
    created_at: p.now,
    last_used_at: null,
  }).onConflict((oc) => oc.column("credential_id").doNothing())
    .returning("credential_id").executeTakeFirst();
  return r !== undefined;
}

/**
 * Records a verified assertion: the new counter and the time, only if the counter is
 * still `seen` (a concurrent assertion with the same counter loses). True when written.
 */
export async function usePasskey(
  tx: Q,
  credentialId: string,
  seen: number,
  counter: number,
  now: Date,
): Promise<boolean> {
  const r = await tx.updateTable("passkeys").set({ counter, last_used_at: now })
    .where("credential_id", "=", credentialId).where("counter", "=", seen)
    .returning("credential_id").executeTakeFirst();
  return r !== undefined;
}

/** Deletes one passkey of `identity`; false when there is none with that id. */
export async function deletePasskey(tx: Q, identity: string, credentialId: string) {
  const r = await tx.deleteFrom("passkeys").where("identity", "=", identity)
    .where("credential_id", "=", credentialId).returning("credential_id").executeTakeFirst();
  return r !== undefined;
}

/** An identity's passkeys locked for update, oldest first (a re-registration re-wraps them). */
export function lockPasskeysOf(tx: Q, identity: string): Promise<Passkey[]> {
  return tx.selectFrom("passkeys").selectAll().where("identity", "=", identity)
    .orderBy("created_at").orderBy("credential_id").forUpdate().execute();
}

/** Replaces one passkey's slot (a re-wrap to a new data key); false when there is none. */
export async function replacePasskeySlot(
  tx: Q,
  identity: string,
  credentialId: string,
  slot: string,
): Promise<boolean> {
  const r = await tx.updateTable("passkeys").set({ slot }).where("identity", "=", identity)
    .where("credential_id", "=", credentialId).returning("credential_id").executeTakeFirst();
  return r !== undefined;
}

/** Erases every passkey and pending passkey challenge of `identity`; how many passkeys. */
export async function erasePasskeysOf(tx: Q, identity: string): Promise<number> {
  await tx.deleteFrom("passkey_challenges").where("identity", "=", identity).execute();
  const rows = await tx.deleteFrom("passkeys").where("identity", "=", identity)
    .returning("credential_id").execute();
  return rows.length;
}

/** Stores a challenge the vault issues (and drops expired ones as it goes). */
export async function insertPasskeyChallenge(tx: Q, c: PasskeyChallenge, now: Date) {
  await tx.deleteFrom("passkey_challenges").where("expires_at", "<", now).execute();
  await tx.insertInto("passkey_challenges").values(c).execute();
}

/** Takes (deletes and returns) a challenge: single use, whatever the answer turns out to be. */
export function takePasskeyChallenge(
  tx: Q,
  id: string,
  purpose: PasskeyChallenge["purpose"],
): Promise<PasskeyChallenge | undefined> {
  return tx.deleteFrom("passkey_challenges").where("id", "=", id)
    .where("purpose", "=", purpose).returningAll().executeTakeFirst();
}
