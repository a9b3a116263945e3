/**
 * Passkeys (docs/passkeys.md): `passkeys`, one row per WebAuthn credential of an identity,
 * with its public key, signature counter, name, dates and its slot of the key record v2
 * (the data key wrapped under the KEK of the credential's PRF output; JSON); and
 * `passkey_challenges`, the single-use challenges the vault issued (for adding a passkey
 * or for a passkey sign-in), each bound to the applet's session binding and deleted when
 * used. Revocation and re-registration delete an identity's passkeys.
 *
 * Numbered 0008, after `20270102_0007_pending_record` (independent of it: new tables only;
 * kysely runs them in name order, so 0007 first on a fresh database and 0008 alone on one
 * that ran 0007 already). `down` drops both tables.
 *
 * @module
 */
import type { Kysely } from "kysely";

// deno-lint-ignore no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable("passkeys")
    .addColumn("credential_id", "text", (c) => c.primaryKey())
    .addColumn("identity", "text", (c) => c.notNull())
    .addColumn("public_key", "text", (c) => c.notNull())
    .addColumn("counter", "int8", (c) => c.notNull())
    .addColumn("transports", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("slot", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull())
    .addColumn("last_used_at", "timestamptz")
    .execute();
  await db.schema.createIndex("passkeys_identity").on("passkeys").column("identity").execute();
  await db.schema.createTable("passkey_challenges")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("purpose", "text", (c) => c.notNull())
    .addColumn("identity", "text")
    .addColumn("challenge", "text", (c) => c.notNull())
    .addColumn("binding", "text", (c) => c.notNull())
    .addColumn("client_tag", "text", (c) => c.notNull())
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("passkey_challenges_expiry").on("passkey_challenges")
    .column("expires_at").execute();
}

// deno-lint-ignore no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("passkey_challenges").ifExists().execute();
  await db.schema.dropTable("passkeys").ifExists().execute();
}
