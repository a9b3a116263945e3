/**
 * Re-authentication proofs (docs/lifecycle.md, "Re-authentication"): one row per OPAQUE
 * login that was finished *for* re-authentication (`login.finish` with `reauth: true`).
 * `reregister` and the user's `revoke` must name one in `reauthLoginId`: same identity,
 * not expired, not consumed. It is marked consumed in the operation's own transaction,
 * so it is single use and a rolled-back attempt leaves it usable.
 *
 * @module
 */
import type { Kysely } from "kysely";

// deno-lint-ignore no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable("reauth_proofs")
    .addColumn("login_id", "text", (c) => c.primaryKey())
    .addColumn("identity", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull())
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .addColumn("consumed_at", "timestamptz")
    .addColumn("consumed_by", "text")
    .execute();
  await db.schema.createIndex("reauth_proofs_identity").on("reauth_proofs")
    .columns(["identity", "expires_at"]).execute();
}

// deno-lint-ignore no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("reauth_proofs").ifExists().execute();
}
