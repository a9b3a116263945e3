/**
 * Repositories: plain functions over the vault's tables, one file per table, `db` (or a
 * transaction) first, returning typed rows. They hold no policy; key-vault/operations/
 * decides. Every SQL statement of the vault outside its migrations lives here
 * (docs/architecture.md, "Repositories return rows").
 *
 * @module
 */
export { advisoryXactLock, ping, type Prepared, type Q } from "./database.ts";
export * from "./audit_log.ts";
export * from "./certificates.ts";
export * from "./consents.ts";
export * from "./crl.ts";
export * from "./idempotency_keys.ts";
export * from "./key_records.ts";
export * from "./known_addresses.ts";
export * from "./login_attempts.ts";
export * from "./nonces.ts";
export * from "./opaque_records.ts";
export * from "./passkeys.ts";
export * from "./rate_limits.ts";
export * from "./reauth_proofs.ts";
export * from "./users.ts";
export * from "./vault_secrets.ts";
