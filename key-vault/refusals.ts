/**
 * Audit rows for refused operations (docs/hostile-input.md, "What is audited").
 *
 * An operation's own rows are written inside its transaction, so a refused operation
 * (a signature by a revoked or superseded key, a reused nonce, a key record for another
 * identity, a consent for an unknown identity, …) rolls back and would leave no trace.
 * After the rollback the vault appends one row of its own, outside any transaction:
 *
 *   op = the operation, identity = the identity the request names (if any),
 *   outcome = "refused", details = { client: <address tag>, code: <error code> }
 *
 * Nothing secret goes in: the code is one of docs/errors.md, the address is a keyed tag.
 *
 * Not audited here: requests that never reach the operation (bad HMAC, replayed RPC
 * nonce, rate limits, schema) — the proxy and the vault log those, and auditing them
 * would let anyone grow the append-only log at wire speed; pure reads (class `read`);
 * and refusals the operation already audited itself (a wrong consent phrase, a failed
 * OPAQUE finish).
 *
 * @module
 */
import { ApiError } from "../platform/mod.ts";
import { log } from "../platform/mod.ts";
import type { OpSpec } from "../platform/mod.ts";
import { appendAudit } from "./audit.ts";
import type { VaultState } from "./state.ts";

/** (op, code) pairs whose refusal the operation audits in its own transaction. */
const _SELF_AUDITED: ReadonlySet<string> = new Set([
  "consent wrong_phrase",
  "consent consent_locked/403",
  "login.finish login_failed",
  "login.finish account_revoked",
  "passkey.login.finish passkey_failed",
]);

/** True when a refusal of `op` with `err` gets a row from {@link auditRefusal}. */
export function refusalAudited(spec: OpSpec, err: unknown): err is ApiError {
  if (!(err instanceof ApiError) || err.status < 400 || err.status >= 500) return false;
  if (spec.rateClass === "read") return false;
  if (_SELF_AUDITED.has(`${spec.name} ${err.code}`)) return false;
  if (_SELF_AUDITED.has(`${spec.name} ${err.code}/${err.status}`)) return false;
  return true;
}

/**
 * Appends the refusal row (best effort: a database that cannot take it is logged,
 * and the caller still gets the original refusal).
 */
export async function auditRefusal(
  vault: VaultState,
  input: {
    spec: OpSpec;
    actor: "web" | "admin";
    identity?: string;
    clientTag: string;
    err: ApiError;
    now: Date;
  },
): Promise<void> {
  try {
    await appendAudit(vault.db, {
      actor: input.actor,
      op: input.spec.name,
      identity: input.identity ?? null,
      outcome: "refused",
      details: input.clientTag
        ? { client: input.clientTag, code: input.err.code }
        : { code: input.err.code },
    }, input.now);
  } catch (err) {
    log("error", "refusal_audit_failed", {
      op: input.spec.name,
      code: input.err.code,
      error: err instanceof Error ? err.name : typeof err,
    });
  }
}
