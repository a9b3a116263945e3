/**
 * The key-vault's public face (the patent's key server 138): its HTTP app, its
 * state and database, migrations, operations, the CA and the operator CLI.
 * The process itself is `main.ts`; only the proxy may call it.
 *
 * @module
 */
export { createVaultApp } from "./app.ts";
export { openVaultState, type VaultState } from "./state.ts";
export {
  type AuditRow,
  type Certificate,
  type CertificateStatus,
  type Database,
  type Db,
  type DbOptions,
  isUnavailable,
  openDb,
  type User,
  type UserStatus,
} from "./db.ts";
export { migrateToLatest } from "./migrate.ts";
export { HANDLERS, type OpContext, runOperation } from "./operations/mod.ts";
export { type Ca, createCa, loadCa, type NewCa, randomSerial } from "./ca.ts";
export { runAdmin } from "./admin.ts";
export { type VaultConfig, vaultConfigFromEnv } from "./config.ts";
