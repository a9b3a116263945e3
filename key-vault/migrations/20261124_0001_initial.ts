/**
 * The vault schema of DESIGN.md §4, plus the guard state of docs/rate-limits.md and the
 * sealed vault secrets. audit_log is append-only: a trigger refuses DELETE, TRUNCATE and
 * any UPDATE except the one-time sealing of a row's chain fields (key-vault/audit.ts).
 *
 * @module
 */
import { type Kysely, sql } from "kysely";

// deno-lint-ignore no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable("users")
    .addColumn("identity", "text", (c) => c.primaryKey())
    .addColumn("full_name", "text", (c) => c.notNull())
    .addColumn("account_number", "text", (c) => c.notNull())
    .addColumn("address", "text", (c) => c.notNull())
    .addColumn(
      "status",
      "text",
      (c) => c.notNull().check(sql`status in ('pending', 'active', 'revoked')`),
    )
    .addColumn("created_at", "timestamptz", (c) => c.notNull())
    .addColumn("updated_at", "timestamptz", (c) => c.notNull())
    .addColumn("activated_at", "timestamptz")
    .addColumn("revoked_at", "timestamptz")
    .execute();

  await db.schema.createTable("key_records")
    .addColumn("identity", "text", (c) => c.primaryKey().references("users.identity"))
    .addColumn("record", "text", (c) => c.notNull())
    .addColumn("spki_sha256", "text", (c) => c.notNull())
    .addColumn("updated_at", "timestamptz", (c) => c.notNull())
    .execute();

  await db.schema.createTable("opaque_records")
    .addColumn("identity", "text", (c) => c.primaryKey().references("users.identity"))
    .addColumn("registration_record", "text", (c) => c.notNull())
    .addColumn("updated_at", "timestamptz", (c) => c.notNull())
    .execute();

  await db.schema.createTable("consents")
    .addColumn("identity", "text", (c) => c.primaryKey().references("users.identity"))
    .addColumn("spki", "text", (c) => c.notNull())
    .addColumn("wrapped_record", "text", (c) => c.notNull())
    .addColumn("record_sha256", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .addColumn(
      "letter_status",
      "text",
      (c) => c.notNull().check(sql`letter_status in ('queued', 'sent')`),
    )
    .addColumn("letter_sealed", "text")
    .addColumn("letter_sent_at", "timestamptz")
    .addColumn("created_at", "timestamptz", (c) => c.notNull())
    .execute();

  await db.schema.createTable("certificates")
    .addColumn("serial", "text", (c) => c.primaryKey())
    .addColumn("identity", "text", (c) => c.references("users.identity"))
    .addColumn("kind", "text", (c) => c.notNull().check(sql`kind in ('user', 'server')`))
    .addColumn("subject", "text", (c) => c.notNull())
    .addColumn("spki_sha256", "text", (c) => c.notNull())
    .addColumn("pem", "text", (c) => c.notNull())
    .addColumn(
      "status",
      "text",
      (c) => c.notNull().check(sql`status in ('active', 'superseded', 'revoked')`),
    )
    .addColumn("not_before", "timestamptz", (c) => c.notNull())
    .addColumn("not_after", "timestamptz", (c) => c.notNull())
    .addColumn("issued_at", "timestamptz", (c) => c.notNull())
    .addColumn("status_changed_at", "timestamptz")
    .addColumn("revocation_reason", "text")
    .execute();
  // At most one active user certificate per identity.
  await sql`create unique index certificates_one_active on certificates (identity)
    where kind = 'user' and status = 'active'`.execute(db);
  await db.schema.createIndex("certificates_identity").on("certificates").columns([
    "identity",
    "issued_at",
  ]).execute();

  await db.schema.createTable("nonces")
    .addColumn("scope", "text", (c) => c.notNull())
    .addColumn("nonce", "text", (c) => c.notNull())
    .addColumn("expires_at", "timestamptz")
    .addPrimaryKeyConstraint("nonces_pk", ["scope", "nonce"])
    .execute();
  await sql`create index nonces_expiry on nonces (expires_at) where expires_at is not null`
    .execute(db);

  await db.schema.createTable("login_attempts")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("identity", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("client_tag", "text", (c) => c.notNull())
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("login_attempts_expiry").on("login_attempts").column("expires_at")
    .execute();

  await db.schema.createTable("rate_limits")
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("window_start", "timestamptz", (c) => c.notNull())
    .addColumn("hits", "integer", (c) => c.notNull())
    .addColumn("blocked_until", "timestamptz")
    .execute();

  await db.schema.createTable("known_addresses")
    .addColumn("identity", "text", (c) => c.notNull())
    .addColumn("address_tag", "text", (c) => c.notNull())
    .addColumn("last_success_at", "timestamptz", (c) => c.notNull())
    .addPrimaryKeyConstraint("known_addresses_pk", ["identity", "address_tag"])
    .execute();

  await db.schema.createTable("vault_secrets")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("sealed", "text")
    .addColumn("public_value", "text")
    .addColumn("created_at", "timestamptz", (c) => c.notNull())
    .execute();

  await db.schema.createTable("audit_log")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("at", "timestamptz", (c) => c.notNull())
    .addColumn("actor", "text", (c) => c.notNull())
    .addColumn("op", "text", (c) => c.notNull())
    .addColumn("identity", "text")
    .addColumn("outcome", "text", (c) => c.notNull())
    .addColumn("details", "text", (c) => c.notNull())
    .addColumn("seq", "bigint", (c) => c.unique())
    .addColumn("prev_hash", "text")
    .addColumn("hash", "text")
    .execute();
  await sql`create index audit_log_unsealed on audit_log (id) where seq is null`.execute(db);

  await sql`
    create function audit_log_append_only() returns trigger language plpgsql as $$
    begin
      if tg_op = 'UPDATE' and old.seq is null
         and new.id = old.id and new.at = old.at and new.actor = old.actor
         and new.op = old.op and new.identity is not distinct from old.identity
         and new.outcome = old.outcome and new.details = old.details then
        return new; -- sealing: the chain fields are written once
      end if;
      raise exception 'audit_log is append-only' using errcode = 'P0001';
    end $$`.execute(db);
  await sql`create trigger audit_log_append_only before update or delete on audit_log
    for each row execute function audit_log_append_only()`.execute(db);
  await sql`create trigger audit_log_no_truncate before truncate on audit_log
    for each statement execute function audit_log_append_only()`.execute(db);
}

// deno-lint-ignore no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger if exists audit_log_no_truncate on audit_log`.execute(db);
  await sql`drop trigger if exists audit_log_append_only on audit_log`.execute(db);
  await sql`drop function if exists audit_log_append_only()`.execute(db);
  for (
    const t of [
      "audit_log",
      "vault_secrets",
      "known_addresses",
      "rate_limits",
      "login_attempts",
      "nonces",
      "certificates",
      "consents",
      "opaque_records",
      "key_records",
      "users",
    ]
  ) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
