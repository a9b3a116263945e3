/**
 * The `key_records` table: the current key record of an active identity, and a pending
 * one from a `registration.update` until a sign-in confirms it (docs/lifecycle.md,
 * "Pending key record").
 *
 * @module
 */
import type { Q } from "./database.ts";
import { deleteLoginAttemptsOf } from "./login_attempts.ts";
import { deleteOpaqueRecord } from "./opaque_records.ts";

/**
 * Stores (or replaces) the current key record and the stretching parameters the vault
 * hands out for it (`ksfParams`, canonical JSON). Drops any pending record: consent and
 * re-registration make a new current one from scratch.
 */
export async function putKeyRecord(
  tx: Q,
  identity: string,
  record: string,
  spkiSha256: string,
  ksfParams: string,
  now: Date,
): Promise<void> {
  const row = {
    record,
    spki_sha256: spkiSha256,
    ksf_params: ksfParams,
    updated_at: now,
    ..._NO_PENDING,
  };
  await tx.insertInto("key_records")
    .values({ identity, ...row })
    .onConflict((oc) => oc.column("identity").doUpdateSet(row))
    .execute();
}

const _NO_PENDING = {
  pending_record: null,
  pending_registration: null,
  pending_at: null,
  pending_confirm: null,
  pending_confirm_expires_at: null,
} as const;

/**
 * Stores (or replaces) the pending record of an identity that has a current one, with
 * the registration data it was sealed with (both canonical JSON); forgets any expected
 * confirmation (it was for the record replaced). False when there is no current record.
 */
export async function putPendingRecord(
  tx: Q,
  identity: string,
  record: string,
  registration: string,
  now: Date,
): Promise<boolean> {
  const r = await tx.updateTable("key_records")
    .set({
      ..._NO_PENDING,
      pending_record: record,
      pending_registration: registration,
      pending_at: now,
    })
    .where("identity", "=", identity).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Records the confirmation a sign-in that released the pending record may send: the hex
 * SHA-256 of the expected MAC, until `expiresAt`; only while the pending record is still
 * `pendingRecord` (a later update in between wins). False when it is not.
 */
export async function expectPendingConfirm(
  db: Q,
  identity: string,
  pendingRecord: string,
  macSha256: string,
  expiresAt: Date,
): Promise<boolean> {
  const r = await db.updateTable("key_records")
    .set({ pending_confirm: macSha256, pending_confirm_expires_at: expiresAt })
    .where("identity", "=", identity).where("pending_record", "=", pendingRecord)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** The pending record of an identity with its expected confirmation, locked (`for update`). */
export function lockPendingRecord(tx: Q, identity: string) {
  return tx.selectFrom("key_records")
    .select([
      "pending_record",
      "pending_registration",
      "pending_confirm",
      "pending_confirm_expires_at",
      "spki_sha256",
      "ksf_params",
    ])
    .where("identity", "=", identity).forUpdate().executeTakeFirst();
}

/**
 * Makes `record` (the pending one, read under lock) the current record and drops the
 * pending state; its key and stretching parameters are the current ones.
 */
export async function promotePendingRecord(
  tx: Q,
  identity: string,
  record: string,
  now: Date,
): Promise<void> {
  await tx.updateTable("key_records").set({ record, updated_at: now, ..._NO_PENDING })
    .where("identity", "=", identity).execute();
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
