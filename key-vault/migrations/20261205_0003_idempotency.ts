/**
 * Idempotent retries (docs/faults.md): the outcome of every `apply`, `consent`,
 * `reregister` and `revoke` that carried an `idempotencyKey`, written in the same
 * transaction as the operation. A retry with the same key (its answer was lost to a
 * crash) gets the stored outcome instead of a second execution. `request_sha256`
 * pins the request the key was first used with; `signer_serial` is the certificate
 * whose key signed it (signed operations), so a retry is checked against that key.
 *
 * @module
 */
import type { Kysely } from "kysely";

// deno-lint-ignore no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable("idempotency_keys")
    .addColumn("identity", "text", (c) => c.notNull())
    .addColumn("op", "text", (c) => c.notNull())
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("request_sha256", "text", (c) => c.notNull())
    .addColumn("outcome", "text")
    .addColumn("signer_serial", "text")
    .addColumn("created_at", "timestamptz", (c) => c.notNull())
    .addPrimaryKeyConstraint("idempotency_keys_pk", ["identity", "op", "key"])
    .execute();
}

// deno-lint-ignore no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("idempotency_keys").ifExists().execute();
}
