/**
 * The `idempotency_keys` table: one outcome per (identity, op, key) (docs/faults.md).
 *
 * @module
 */
import type { Selectable } from "kysely";
import type { IdempotencyKeysTable } from "../db.ts";
import type { Q } from "./database.ts";

/** An idempotency key's row. */
export type IdempotencyKey = Selectable<IdempotencyKeysTable>;

/** Claims a key (outcome still null); false when it exists already. */
export async function claimIdempotencyKey(
  tx: Q,
  k: { identity: string; op: string; key: string; requestSha256: string; now: Date },
): Promise<boolean> {
  const claimed = await tx.insertInto("idempotency_keys").values({
    identity: k.identity,
    op: k.op,
    key: k.key,
    request_sha256: k.requestSha256,
    outcome: null,
    signer_serial: null,
    created_at: k.now,
  }).onConflict((oc) => oc.doNothing()).returning("key").executeTakeFirst();
  return claimed !== undefined;
}

/** A key's row, or undefined. */
export function findIdempotencyKey(
  db: Q,
  identity: string,
  op: string,
  key: string,
): Promise<IdempotencyKey | undefined> {
  return db.selectFrom("idempotency_keys").selectAll()
    .where("identity", "=", identity).where("op", "=", op).where("key", "=", key)
    .executeTakeFirst();
}

/** Stores a claimed key's outcome (canonical JSON) and the signer's certificate serial. */
export async function setIdempotencyOutcome(
  tx: Q,
  k: { identity: string; op: string; key: string },
  outcome: string,
  signerSerial: string | null,
): Promise<void> {
  await tx.updateTable("idempotency_keys")
    .set({ outcome, signer_serial: signerSerial })
    .where("identity", "=", k.identity).where("op", "=", k.op).where("key", "=", k.key)
    .execute();
}

/** Deletes keys created before `before`; returns how many. */
export async function deleteIdempotencyKeysBefore(db: Q, before: Date): Promise<number> {
  const r = await db.deleteFrom("idempotency_keys").where("created_at", "<", before)
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
