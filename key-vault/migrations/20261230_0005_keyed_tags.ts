/**
 * Keyed address and identity tags (docs/rate-limits.md): the guard state used to be
 * keyed by plain SHA-256 tags, which a dump reverses (all of IPv4 in a few CPU-hours).
 * The vault now tags with HMAC-SHA256 under its sealed `tag-key` (created on the next
 * start, key-vault/state.ts), which a migration cannot reach, so the rows holding old
 * tags are reset rather than re-tagged:
 *
 * - `rate_limits`: windows of at most an hour and backoffs of at most 5 minutes;
 * - `known_addresses`: each user's next sign-in from a usual address counts once as
 *   from a new address (the per-identity window), then the address is known again;
 * - `login_attempts`: sign-ins in flight (2 minutes) must start again.
 *
 * `audit_log` rows written before this migration keep their old `client` tags: the
 * log is append-only and hash-chained, and rewriting it would destroy exactly the
 * evidence it exists to keep (docs/audit.md). Rows from now on carry keyed tags.
 *
 * `down` resets the same tables (the old code cannot read the new tags either).
 *
 * @module
 */
import { type Kysely, sql } from "kysely";

async function _reset(db: Kysely<unknown>): Promise<void> {
  await sql`delete from rate_limits`.execute(db);
  await sql`delete from known_addresses`.execute(db);
  await sql`delete from login_attempts`.execute(db);
}

// deno-lint-ignore no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await _reset(db);
}

// deno-lint-ignore no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await _reset(db);
}
