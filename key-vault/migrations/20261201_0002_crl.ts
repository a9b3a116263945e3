/**
 * The current CRL, kept so that every revocation (user or operator) and every
 * supersession re-signs it in its own transaction, and `crl.get` only reads it
 * (docs/lifecycle.md). One row: the CRL number (RFC 5280 §5.2.3, strictly
 * increasing), the PEM and its validity.
 *
 * @module
 */
import { type Kysely, sql } from "kysely";

// deno-lint-ignore no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable("crl")
    .addColumn("id", "integer", (c) => c.primaryKey().check(sql`id = 1`))
    .addColumn("number", "bigint", (c) => c.notNull())
    .addColumn("pem", "text", (c) => c.notNull())
    .addColumn("this_update", "timestamptz", (c) => c.notNull())
    .addColumn("next_update", "timestamptz", (c) => c.notNull())
    .execute();
}

// deno-lint-ignore no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("crl").ifExists().execute();
}
