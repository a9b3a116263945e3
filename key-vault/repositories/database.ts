/**
 * The handle every repository takes first, and the statements that concern the
 * database as a whole rather than one table.
 *
 * @module
 */
import { type Kysely, sql, type Transaction } from "kysely";
import type { Database, Db } from "../db.ts";

/** A database handle or an open transaction. */
export type Q = Kysely<Database> | Transaction<Database>;

/**
 * Runs one hot-path statement as a named prepared statement on PostgreSQL (a plain
 * query on PGlite): `VaultState.query`, see `Db.query` in key-vault/db.ts. The
 * repositories that take it keep each statement's name and text fixed: the server
 * parses and plans a name once per connection.
 */
export type Prepared = Db["query"];

/** Takes a transaction-scoped advisory lock (released at commit or rollback). */
export async function advisoryXactLock(tx: Transaction<Database>, key: number): Promise<void> {
  await sql`select pg_advisory_xact_lock(${key})`.execute(tx);
}

/** `select 1`: whether the database answers at all (readiness, metrics). */
export async function ping(db: Q): Promise<void> {
  await sql`select 1`.execute(db);
}
