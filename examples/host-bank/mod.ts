/**
 * The demo host application (DESIGN.md §1, §2.8; docs/host-bank.md): a bank that
 * acts on debit instructions its customers sign with roamsign and send end to end.
 *
 * @module
 */
export { createHostApp, type HostDeps, MAX_AGE_MS, MAX_SKEW_MS } from "./app.ts";
export { type HostKeyPairs, loadHostKeys } from "./keys.ts";
export { Ledger, type LedgerEntry, LedgerError, type LedgerState } from "./ledger.ts";
