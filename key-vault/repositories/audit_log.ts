/**
 * The `audit_log` table: append-only rows, chained by SHA-256 (key-vault/audit.ts).
 *
 * @module
 */
import type { Q } from "./database.ts";

/** Audit rows, newest first, optionally for one identity. */
export function auditEntries(db: Q, identity: string | undefined, limit: number) {
  let q = db.selectFrom("audit_log")
    .select(["id", "seq", "at", "actor", "op", "identity", "outcome", "details"]);
  if (identity !== undefined) q = q.where("identity", "=", identity);
  return q.orderBy("id", "desc").limit(limit).execute();
}
