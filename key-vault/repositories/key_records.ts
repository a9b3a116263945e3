/**
 * The `key_records` table: the current key record of an active identity.
 *
 * @module
 */
import type { Q } from "./database.ts";
import { deleteLoginAttemptsOf } from "./login_attempts.ts";
import { deleteOpaqueRecord } from "./opaque_records.ts";

/** Stores (or replaces) the current key record. */
export async function putKeyRecord(
  tx: Q,
  identity: string,
  record: string,
  spkiSha256: string,
  now: Date,
): Promise<void> {
  await tx.insertInto("key_records")
    .values({ identity, record, spki_sha256: spkiSha256, updated_at: now })
    .onConflict((oc) =>
      oc.column("identity").doUpdateSet({ record, spki_sha256: spkiSha256, updated_at: now })
    )
    .execute();
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
