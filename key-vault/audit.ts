/**
 * The audit log: one row per operation, append-only, chained by SHA-256.
 *
 * An operation inserts its row inside its own transaction (so a rolled-back operation
 * leaves no row). Chaining happens in a short, separate step, {@link sealAudit}: under
 * an advisory lock it takes the rows not yet sealed, in id order, and gives each the
 * next `seq`, the previous row's hash and its own
 *
 *   hash = hex(SHA-256(canonicalJson([seq, prevHash, at, actor, op, identity, outcome, details])))
 *
 * Sealing apart from the operation keeps operations from queueing on the chain head
 * (docs/audit.md). The vault seals every 250 ms and before every verification; a
 * database trigger refuses any other UPDATE, any DELETE and TRUNCATE.
 *
 * @module
 */
import type { Kysely, Transaction } from "kysely";
import { canonicalJson } from "../protocol/mod.ts";
import { sha256HexSync } from "../platform/mod.ts";
import type { AuditRow, Database } from "./db.ts";
import * as repo from "./repositories/mod.ts";

/** What an operation records. Nothing secret: no phrase, key, record or signature. */
export interface AuditEntry {
  actor: string;
  op: string;
  identity?: string | null;
  outcome: string;
  details?: Record<string, unknown>;
}

/** The hash of the empty chain. */
export const GENESIS_HASH = "0".repeat(64);

/** Appends a row (unsealed) inside the caller's transaction. */
export async function appendAudit(
  db: Kysely<Database> | Transaction<Database>,
  entry: AuditEntry,
  at: Date = new Date(),
): Promise<void> {
  await repo.insertAuditRow(db, {
    at,
    actor: entry.actor,
    op: entry.op,
    identity: entry.identity ?? null,
    outcome: entry.outcome,
    details: canonicalJson(entry.details ?? {}),
  });
}

/** The chain hash of a row given its seq and the previous hash. */
export function auditRowHash(
  row: Pick<AuditRow, "at" | "actor" | "op" | "identity" | "outcome" | "details">,
  seq: number,
  prevHash: string,
): string {
  const text = canonicalJson([
    seq,
    prevHash,
    new Date(row.at).toISOString(),
    row.actor,
    row.op,
    row.identity,
    row.outcome,
    row.details,
  ]);
  return sha256HexSync(text);
}

const _SEAL_LOCK = 72_710_001;
const _SEAL_BATCH = 2_000;

/** Chains every unsealed row; returns how many it sealed. Safe with several vaults. */
export async function sealAudit(db: Kysely<Database>): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await db.transaction().execute(async (tx) => {
      await repo.advisoryXactLock(tx, _SEAL_LOCK);
      const head = await repo.auditHead(tx);
      const rows = await repo.unsealedAuditRows(tx, _SEAL_BATCH);
      if (rows.length === 0) return 0;
      let seq = head ? Number(head.seq) : 0;
      let prev = head?.hash ?? GENESIS_HASH;
      const sealed = [];
      for (const row of rows) {
        seq += 1;
        const hash = auditRowHash(row, seq, prev);
        sealed.push({ id: row.id, seq, prevHash: prev, hash });
        prev = hash;
      }
      await repo.sealAuditRows(tx, sealed);
      return rows.length;
    });
    total += n;
    if (n < _SEAL_BATCH) return total;
  }
}

/** The outcome of {@link verifyAudit}. */
export interface AuditReport {
  ok: boolean;
  rows: number;
  headSeq: number;
  headHash: string;
  unsealed: number;
  problems: { seq: number; problem: string }[];
}

/**
 * Seals what is pending, then walks the chain: seq must run 1, 2, 3 …, each row's
 * prev_hash must be the previous row's hash and its hash must match its content.
 */
export async function verifyAudit(db: Kysely<Database>): Promise<AuditReport> {
  await sealAudit(db);
  const problems: AuditReport["problems"] = [];
  let expectedSeq = 1;
  let prev = GENESIS_HASH;
  let rows = 0;
  let after = 0;
  for (;;) {
    const page = await repo.sealedAuditPage(db, after, 5_000);
    if (page.length === 0) break;
    for (const row of page) {
      const seq = Number(row.seq);
      rows += 1;
      if (seq !== expectedSeq) {
        problems.push({ seq, problem: `expected seq ${expectedSeq}: rows missing` });
      }
      if (row.prev_hash !== prev) {
        problems.push({ seq, problem: "prev_hash does not match the previous row" });
      }
      const hash = auditRowHash(row, seq, row.prev_hash ?? "");
      if (hash !== row.hash) problems.push({ seq, problem: "row content does not match its hash" });
      prev = row.hash ?? "";
      expectedSeq = seq + 1;
      after = seq;
      if (problems.length >= 20) break;
    }
    if (problems.length >= 20) break;
  }
  const unsealed = await repo.countUnsealedAudit(db);
  return {
    ok: problems.length === 0,
    rows,
    headSeq: after,
    headHash: prev,
    unsealed,
    problems,
  };
}
