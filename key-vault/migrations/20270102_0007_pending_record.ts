/**
 * The pending key record (issue 15; docs/lifecycle.md, "Pending key record"): a
 * `registration.update` no longer replaces the key record and the registration data at
 * once. It stores them beside the current ones (`pending_record`, canonical JSON of the
 * record; `pending_registration`, canonical JSON of the registration data), and they
 * become current only when the owner's applet has opened the pending record after a
 * sign-in and said so with a MAC under that login's OPAQUE session key
 * (`login.confirm`). Until then every sign-in releases both, and the current pair keeps
 * working: garbage stored by a stolen applet cannot lock the owner out.
 *
 * `pending_confirm` is the hex SHA-256 of the MAC the vault expects from the last
 * sign-in that released the pending record (never the MAC or the session key itself),
 * usable until `pending_confirm_expires_at`. Existing rows have no pending record.
 * `down` drops the columns (and with them any pending update).
 *
 * @module
 */
import type { Kysely } from "kysely";

const _COLUMNS = [
  ["pending_record", "text"],
  ["pending_registration", "text"],
  ["pending_at", "timestamptz"],
  ["pending_confirm", "text"],
  ["pending_confirm_expires_at", "timestamptz"],
] as const;

// deno-lint-ignore no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  for (const [name, type] of _COLUMNS) {
    await db.schema.alterTable("key_records").addColumn(name, type).execute();
  }
}

// deno-lint-ignore no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  for (const [name] of _COLUMNS) {
    await db.schema.alterTable("key_records").dropColumn(name).execute();
  }
}
