/**
 * The vault's operator view (docs/operations.md): readiness checks and the gauges
 * read from the database at scrape time. Everything here is a count; no identity,
 * address or secret leaves through `/metrics` or `/readyz`.
 *
 * @module
 */
import * as repo from "./repositories/mod.ts";
import { type ReadinessCheck, scrapeGauge } from "../platform/mod.ts";
import { isUnavailable } from "./db.ts";
import { pendingMigrations } from "./migrate.ts";
import type { VaultState } from "./state.ts";

/**
 * `/readyz` of the vault: the database answers `select 1`, every migration is applied,
 * and the master key this process loaded still opens this database's secrets (the CA
 * certificate the vault holds is the one stored next to its sealed key).
 */
export function vaultReadiness(vault: VaultState): Record<string, ReadinessCheck> {
  // The driver's messages can name hosts and ports: answer with a fixed reason.
  const query = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      throw new Error(isUnavailable(err) ? "database unavailable" : "query failed");
    }
  };
  return {
    database: async () => {
      await query(() => repo.ping(vault.db));
    },
    migrations: async () => {
      const pending = await query(() => pendingMigrations(vault.db));
      if (pending.length) throw new Error(`pending: ${pending.join(", ")}`);
    },
    master_key: async () => {
      const row = await query(() => repo.vaultSecretPublicValue(vault.db, "ca-key"));
      if (!row) throw new Error("no sealed CA key in this database");
      if (row.public_value !== vault.ca.pem) {
        throw new Error("the database's CA is not the one this process unsealed");
      }
    },
  };
}

/**
 * Registers the scrape-time gauges: consent backlog (pending users whose consent has
 * not expired), letters waiting to be posted, expired consents waiting for an
 * operator, audit chain length (sealed rows) and rows not sealed yet (each one indexed
 * count or max), and the CA certificate's expiry (from memory).
 */
export function registerVaultGauges(vault: VaultState): void {
  scrapeGauge(
    "roamsign_consent_backlog",
    "Applicants waiting for consent whose consent phrase has not expired",
    () => repo.countConsentBacklog(vault.db),
  );
  scrapeGauge(
    "roamsign_consent_expired",
    "Applicants still pending whose consent phrase has expired (an operator must reset or drop)",
    () => repo.countConsentExpired(vault.db),
  );
  scrapeGauge(
    "roamsign_consent_letters_queued",
    "Consent letters waiting to be posted (deno task admin letters)",
    () => repo.countQueuedLetters(vault.db),
  );
  scrapeGauge(
    "roamsign_consent_letter_oldest_seconds",
    "Age of the oldest consent letter not yet posted (0 when none)",
    () => repo.oldestQueuedLetterSeconds(vault.db),
  );
  scrapeGauge(
    "roamsign_audit_chain_length",
    "Sealed rows in the audit hash chain (its head sequence number)",
    () => repo.auditChainLength(vault.db),
  );
  scrapeGauge(
    "roamsign_audit_unsealed_rows",
    "Audit rows written but not yet sealed into the chain (sealed every 250 ms)",
    () => repo.countUnsealedAudit(vault.db),
  );
  scrapeGauge(
    "roamsign_ca_expiry_timestamp_seconds",
    "When the CA certificate (the integrity key) expires, Unix seconds; it cannot be rotated in place",
    () => Promise.resolve(vault.ca.certificate.notAfter.getTime() / 1000),
  );
  scrapeGauge(
    "roamsign_vault_database_up",
    "1 when the vault's database answered this scrape",
    async () => {
      try {
        await repo.ping(vault.db);
        return 1;
      } catch {
        return 0;
      }
    },
  );
}
