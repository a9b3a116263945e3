/**
 * The `opaque_records` table: the OPAQUE registration record of an identity.
 *
 * @module
 */
import type { Q } from "./database.ts";

/** Stores (or replaces) the OPAQUE registration record. */
export async function putOpaqueRecord(tx: Q, identity: string, record: string, now: Date) {
  await tx.insertInto("opaque_records")
    .values({ identity, registration_record: record, updated_at: now })
    .onConflict((oc) =>
      oc.column("identity").doUpdateSet({ registration_record: record, updated_at: now })
    )
    .execute();
}

/** The OPAQUE registration record, or undefined. */
export async function getOpaqueRecord(db: Q, identity: string): Promise<string | undefined> {
  const row = await db.selectFrom("opaque_records").select("registration_record")
    .where("identity", "=", identity).executeTakeFirst();
  return row?.registration_record;
}

/** Deletes the OPAQUE registration record of an identity. */
export async function deleteOpaqueRecord(tx: Q, identity: string): Promise<void> {
  await tx.deleteFrom("opaque_records").where("identity", "=", identity).execute();
}
