/**
 * The `key_records` table: the current key record of an active identity.
 *
 * @module
 */
import type { Q } from "./database.ts";
import { deleteLoginAttemptsOf } from "./login_attempts.ts";
import { deleteOpaqueRecord } from "./opaque_records.ts";

/**
 * Stores (or replaces) the current key record and the stretching parameters the vault
 * hands out for it (`ksfParams`, canonical JSON).
 */
export async function putKeyRecord(
  tx: Q,
  identity: string,
  record: string,
  spkiSha256: string,
  ksfParams: string,
  now: Date,
): Promise<void> {
  const row = { record, spki_sha256: spkiSha256, ksf_params: ksfParams, updated_at: now };
  await tx.insertInto("key_records")
    .values({ identity, ...row })
    .onConflict((oc) => oc.column("identity").doUpdateSet(row))
    .execute();
}

/** The stored stretching parameters (canonical JSON) of `identity`, or undefined. */
export async function getKsfParams(db: Q, identity: string): Promise<string | undefined> {
  const row = await db.selectFrom("key_records").select("ksf_params")
    .where("identity", "=", identity).executeTakeFirst();
  return row?.ksf_params;
}

/** The current key record text, or undefined. */
export async function getKeyRecord(db: Q, identity: string): Promise<string | undefined> {
  const row = await db.selectFrom("key_records").select("record").where("identity", "=", identity)
    .executeTakeFirst();
  return row?.record;
}

/** Erases the key record and the OPAQUE record (revocation: really gone, not flagged). */
export async function eraseRecords(tx: Q, identity: string): Promise<void> {
  await tx.deleteFrom("key_records").where("identity", "=", identity).execute();
  await deleteOpaqueRecord(tx, identity);
  await deleteLoginAttemptsOf(tx, identity);
}
