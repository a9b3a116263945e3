/**
 * The `audit_log` table: append-only rows, chained by SHA-256 (key-vault/audit.ts).
 *
 * @module
 */
import { sql } from "kysely";
import type { AuditRow } from "../db.ts";
import type { Q } from "./database.ts";

/** Audit rows, newest first, optionally for one identity. */
export function auditEntries(db: Q, identity: string | undefined, limit: number) {
  let q = db.selectFrom("audit_log")
    .select(["id", "seq", "at", "actor", "op", "identity", "outcome", "details"]);
  if (identity !== undefined) q = q.where("identity", "=", identity);
  return q.orderBy("id", "desc").limit(limit).execute();
}

/** An unsealed audit row as an operation writes it. */
export interface NewAuditRow {
  at: Date;
  actor: string;
  op: string;
  identity: string | null;
  outcome: string;
  /** Canonical JSON. */
  details: string;
}

/** Inserts an unsealed row (no seq, no hashes). */
export async function insertAuditRow(db: Q, row: NewAuditRow): Promise<void> {
  await db.insertInto("audit_log").values({ ...row, seq: null, prev_hash: null, hash: null })
    .execute();
}

/** The head of the sealed chain (highest seq), or undefined for the empty chain. */
export function auditHead(tx: Q) {
  return tx.selectFrom("audit_log").select(["seq", "hash"])
    .where("seq", "is not", null).orderBy("seq", "desc").limit(1).executeTakeFirst();
}

/** Up to `limit` unsealed rows, in id order. */
export function unsealedAuditRows(tx: Q, limit: number): Promise<AuditRow[]> {
  return tx.selectFrom("audit_log").selectAll().where("seq", "is", null)
    .orderBy("id").limit(limit).execute();
}

/** Seals rows: one UPDATE setting each row's seq, prev_hash and hash (non-empty list). */
export async function sealAuditRows(
  tx: Q,
  rows: { id: string | number; seq: number; prevHash: string; hash: string }[],
): Promise<void> {
  const values = rows.map((r) =>
    sql`(${String(r.id)}::bigint, ${String(r.seq)}::bigint, ${r.prevHash}, ${r.hash})`
  );
  await sql`update audit_log as a set seq = v.seq, prev_hash = v.prev_hash, hash = v.hash
        from (values ${sql.join(values)}) as v(id, seq, prev_hash, hash)
        where a.id = v.id`.execute(tx);
}

/** Up to `limit` sealed rows with seq greater than `after`, in seq order. */
export function sealedAuditPage(db: Q, after: number, limit: number): Promise<AuditRow[]> {
  return db.selectFrom("audit_log").selectAll().where("seq", "is not", null)
    .where("seq", ">", String(after) as unknown as number).orderBy("seq").limit(limit).execute();
}

/** How many rows are not sealed yet. */
export async function countUnsealedAudit(db: Q): Promise<number> {
  const row = await db.selectFrom("audit_log").select(sql<string>`count(*)`.as("n"))
    .where("seq", "is", null).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The head sequence number of the sealed chain (0 when empty). */
export async function auditChainLength(db: Q): Promise<number> {
  const r = await sql<{ n: string | number }>`select coalesce(max(seq), 0) as n from audit_log
        where seq is not null`.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}
