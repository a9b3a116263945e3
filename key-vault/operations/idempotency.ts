/**
 * Idempotent retries (docs/faults.md): one outcome per idempotency key, replayed to a
 * retry of the same request, refused for a different one; and their retention.
 *
 * @module
 */
import type { Kysely, Transaction } from "kysely";
import { ApiError, identityTagSync, log } from "../../platform/mod.ts";
import { canonicalJson, type SignedOp, userRequestBytes } from "../../protocol/mod.ts";
import { certificateVerifyKey } from "../ca.ts";
import { sha256, verifyUserSignature } from "../crypto.ts";
import type { Database } from "../db.ts";
import * as repo from "../repositories/mod.ts";
import type { OpContext } from "./context.ts";

// ── idempotent retries (docs/faults.md) ─────────────────────────────────────────────

/** Fields that differ between retries of one logical request and so are not pinned. */
const _PER_ATTEMPT = new Set(["nonce", "signature", "pop"]);

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function idempotencyRequestSha256(
  op: string,
  body: Record<string, unknown>,
): Promise<string> {
  const pinned = Object.fromEntries(Object.entries(body).filter(([k]) => !_PER_ATTEMPT.has(k)));
  return hex(await sha256(new TextEncoder().encode(canonicalJson([op, pinned]))));
}

/** What an idempotent operation body may set besides its result. */
export interface IdemRun {
  /** Serial of the certificate whose key signed the request (signed operations). */
  signer?: string;
}

/**
 * Runs `run` at most once per `(identity, op, key)`. The key is claimed by the first
 * statement of the transaction: a retry that arrives while the first attempt is still
 * in flight waits on that row's lock and then sees its committed outcome (or, if it
 * rolled back, runs afresh). The outcome is stored in the same transaction as the
 * operation. A replay writes nothing (no audit row, the retry's nonce is not recorded)
 * and returns the stored outcome after `checkReplay` accepted the retry. Without a
 * key, `run` just runs.
 */
export async function runIdempotent<T>(
  tx: Transaction<Database>,
  ctx: OpContext,
  op: string,
  identity: string,
  key: string | undefined,
  requestSha256: string | undefined,
  checkReplay: (signerSerial: string | null) => Promise<void>,
  run: (meta: IdemRun) => Promise<T>,
): Promise<T> {
  if (!key || !requestSha256) return await run({});
  const claimed = await repo.claimIdempotencyKey(tx, {
    identity,
    op,
    key,
    requestSha256,
    now: ctx.now,
  });
  if (!claimed) {
    const row = await repo.findIdempotencyKey(tx, identity, op, key);
    if (!row || row.outcome === null) throw new Error("vault: idempotency key without outcome");
    if (row.request_sha256 !== requestSha256) {
      throw new ApiError(
        409,
        "idempotency_key_reused",
        "this idempotency key was used for a different request",
      );
    }
    await checkReplay(row.signer_serial);
    log("info", "idempotent_replay", { op, identity: identityTagSync(identity) });
    return JSON.parse(row.outcome) as T;
  }
  const meta: IdemRun = {};
  const result = await run(meta);
  await repo.setIdempotencyOutcome(
    tx,
    { identity, op, key },
    canonicalJson(result),
    meta.signer ?? null,
  );
  return result;
}

/** How long an idempotency key's outcome is kept: retries come within seconds, or a day. */
export const IDEMPOTENCY_RETENTION_MS = 7 * 86_400_000;

/** Deletes idempotency keys older than the retention; returns how many. */
export async function pruneIdempotencyKeys(
  db: Kysely<Database>,
  now = new Date(),
): Promise<number> {
  return await repo.deleteIdempotencyKeysBefore(
    db,
    new Date(now.getTime() - IDEMPOTENCY_RETENTION_MS),
  );
}

/** A retried signed request must be signed by the key that signed the first attempt. */
export function replaySignedBy(
  tx: Transaction<Database>,
  op: SignedOp,
  identity: string,
  body: { nonce: string; signature: string },
) {
  return async (serial: string | null) => {
    const cert = serial ? await repo.findCertificate(tx, serial) : undefined;
    const data = await userRequestBytes(op, identity, body.nonce, body);
    if (
      !cert ||
      !(await verifyUserSignature(await certificateVerifyKey(cert.pem), body.signature, data))
    ) {
      throw new ApiError(403, "signature_invalid", "signature by the user's key does not verify");
    }
  };
}

export const noCheck = () => Promise.resolve();
