/**
 * The `vault_secrets` table: the vault's secrets sealed under the master key (OPAQUE
 * server setup, CA key, statement key, tag key), with their public values.
 *
 * @module
 */
import type { Selectable, Transaction } from "kysely";
import type { Database, VaultSecretsTable } from "../db.ts";
import type { Q } from "./database.ts";

/** A sealed secret's row. */
export type VaultSecret = Selectable<VaultSecretsTable>;

/** A secret by name, or undefined. */
export function findVaultSecret(db: Q, name: string): Promise<VaultSecret | undefined> {
  return db.selectFrom("vault_secrets").selectAll().where("name", "=", name)
    .executeTakeFirst();
}

/** Stores a secret unless one of that name exists (several vaults starting: first wins). */
export async function insertVaultSecretIfAbsent(
  db: Q,
  s: { name: string; sealed: string; publicValue: string | null; createdAt: Date },
): Promise<void> {
  await db.insertInto("vault_secrets")
    .values({
      name: s.name,
      sealed: s.sealed,
      public_value: s.publicValue,
      created_at: s.createdAt,
    })
    .onConflict((oc) => oc.column("name").doNothing()).execute();
}

/** The public value stored with a secret (undefined: no such secret). */
export async function vaultSecretPublicValue(
  db: Q,
  name: string,
): Promise<{ public_value: string | null } | undefined> {
  return await db.selectFrom("vault_secrets").select("public_value")
    .where("name", "=", name).executeTakeFirst();
}

/** Every sealed secret, row-locked until the transaction ends (master-key rotation). */
export function lockSealedSecrets(tx: Transaction<Database>) {
  return tx.selectFrom("vault_secrets").select(["name", "sealed"])
    .where("sealed", "is not", null).forUpdate().execute();
}

/** Replaces a secret's sealed value (re-wrapped under a new master key). */
export async function setSealedSecret(tx: Q, name: string, sealed: string): Promise<void> {
  await tx.updateTable("vault_secrets").set({ sealed }).where("name", "=", name).execute();
}
