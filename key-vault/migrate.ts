/**
 * Applies the vault's migrations (timestamped, in `migrations/`, the same for PGlite
 * and PostgreSQL). Idempotent; kysely's lock table keeps two vaults starting together
 * from running them twice.
 *
 * @module
 */
import type { Kysely } from "kysely";
import { type Migration, type MigrationProvider, Migrator } from "kysely/migration";
import type { Database } from "./db.ts";
import * as initial from "./migrations/20261124_0001_initial.ts";
import * as crl from "./migrations/20261201_0002_crl.ts";
import * as idempotency from "./migrations/20261205_0003_idempotency.ts";
import * as reauth from "./migrations/20261224_0004_reauth.ts";
import * as keyedTags from "./migrations/20261230_0005_keyed_tags.ts";
import * as storedKsf from "./migrations/20261231_0006_stored_ksf.ts";
import * as pendingRecord from "./migrations/20270102_0007_pending_record.ts";
import * as passkeys from "./migrations/20270105_0008_passkeys.ts";

const _MIGRATIONS: Record<string, Migration> = {
  "20261124_0001_initial": initial,
  "20261201_0002_crl": crl,
  "20261205_0003_idempotency": idempotency,
  "20261224_0004_reauth": reauth,
  "20261230_0005_keyed_tags": keyedTags,
  "20261231_0006_stored_ksf": storedKsf,
  "20270102_0007_pending_record": pendingRecord,
  "20270105_0008_passkeys": passkeys,
};

class _StaticProvider implements MigrationProvider {
  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve(_MIGRATIONS);
  }
}

/** Brings the schema up to date; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new _StaticProvider() });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === "Error");
  if (error || failed) {
    throw new Error(
      `migrations: ${failed?.migrationName ?? "?"} failed: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}

/** Names of the migrations this code knows that the database has not applied yet. */
export async function pendingMigrations(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new _StaticProvider() });
  const all = await migrator.getMigrations();
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name);
}
