/**
 * The public directory, the CA and the CRL: directory.get / directory.history, ca.get,
 * ca.issueServer, crl.get, and the CRL refresh run inside a revocation's transaction.
 *
 * @module
 */
import type { Transaction } from "kysely";
import { b64uDecode, b64uEncode } from "../../protocol/mod.ts";
import { ApiError } from "../../platform/mod.ts";
import { issueCertificate, signCrl } from "../ca.ts";
import { sha256 } from "../crypto.ts";
import type { Database } from "../db.ts";
import * as repo from "../repositories/mod.ts";
import {
  audit,
  certificateRow,
  certView,
  type Handler,
  inTransaction,
  type OpContext,
} from "./context.ts";

const _CRL_LOCK = 72_710_002;
const _CRL_HOURS = 24;

/**
 * Re-signs the CRL inside the caller's transaction (after a certificate was
 * retired in it) with the next CRL number. The advisory lock orders concurrent
 * revocations, so each one's CRL includes every earlier one's.
 */
export async function refreshCrl(tx: Transaction<Database>, ctx: OpContext): Promise<string> {
  await repo.advisoryXactLock(tx, _CRL_LOCK);
  const current = await repo.getCrl(tx);
  const rows = await repo.retiredCertificates(tx);
  const number = Number(current?.number ?? 0) + 1;
  const pem = await signCrl(
    ctx.vault.ca,
    rows.map((r) => ({
      serial: r.serial,
      revokedAt: new Date(r.status_changed_at ?? ctx.now),
      reason: r.status === "superseded" ? "superseded" as const : "revoked" as const,
    })),
    _CRL_HOURS,
    ctx.now,
    number,
  );
  await repo.putCrl(tx, {
    number,
    pem,
    thisUpdate: ctx.now,
    nextUpdate: new Date(ctx.now.getTime() + _CRL_HOURS * 3_600_000),
  });
  return pem;
}

export const directoryGet: Handler<"directory.get"> = async (ctx, body) => {
  // One prepared statement: the web server asks for every submitted signature.
  const cert = await repo.directoryCertificate(ctx.vault.query, body.identity);
  if (!cert) throw new ApiError(404, "no_certificate", "no certificate for this identity");
  return {
    identity: body.identity,
    ...certView(cert),
    chain: [ctx.vault.ca.pem],
  };
};

export const directoryHistory: Handler<"directory.history"> = async (ctx, body) => {
  const certs = await repo.certificateHistory(ctx.vault.db, body.identity);
  if (certs.length === 0) {
    throw new ApiError(404, "no_certificate", "no certificate for this identity");
  }
  return { identity: body.identity, certificates: certs.map(certView) };
};

export const caGet: Handler<"ca.get"> = (ctx) => Promise.resolve({ certificate: ctx.vault.ca.pem });

export const caIssueServer: Handler<"ca.issueServer"> = async (ctx, body) => {
  const spki = b64uDecode(body.spki);
  const spkiSha256 = b64uEncode(await sha256(spki));
  const existing = await repo.activeServerCertificate(ctx.vault.db, spkiSha256, ctx.now);
  if (existing) return { certificate: existing.pem, caCertificate: ctx.vault.ca.pem };
  try {
    await crypto.subtle.importKey(
      "spki",
      spki as Uint8Array<ArrayBuffer>,
      { name: "RSA-OAEP", hash: "SHA-256" },
      false,
      ["encrypt"],
    );
  } catch {
    throw new ApiError(400, "bad_public_key", "spki: not an RSA public key");
  }
  return await inTransaction(ctx, async (tx) => {
    const issued = await issueCertificate(
      ctx.vault.ca,
      spki,
      "server-confidentiality",
      "roamsign confidentiality",
      ctx.vault.config.certValidityDays,
      ctx.now,
    );
    await repo.insertCertificate(tx, certificateRow(issued, null, "server", ctx.now));
    await audit(tx, ctx, "ca.issueServer", null, "issued", {
      serial: issued.serial,
      purpose: body.purpose,
    });
    return { certificate: issued.pem, caCertificate: ctx.vault.ca.pem };
  });
};

/**
 * The stored CRL. Revocations re-sign it in their own transaction; here it is only
 * re-signed (same list, next number) when it is missing or past half its validity.
 */
export const crlGet: Handler<"crl.get"> = async (ctx) => {
  const fresh = (c: Awaited<ReturnType<typeof repo.getCrl>>) =>
    c && new Date(c.next_update).getTime() - ctx.now.getTime() > (_CRL_HOURS / 2) * 3_600_000;
  let current = await repo.getCrl(ctx.vault.db);
  if (!fresh(current)) {
    current = await inTransaction(ctx, async (tx) => {
      await repo.advisoryXactLock(tx, _CRL_LOCK);
      const again = await repo.getCrl(tx);
      if (fresh(again)) return again;
      await refreshCrl(tx, ctx);
      await audit(tx, ctx, "crl.get", null, "resigned");
      return await repo.getCrl(tx);
    });
  }
  if (!current) throw new Error("vault: no CRL after signing one");
  return {
    crl: current.pem,
    number: Number(current.number),
    thisUpdate: new Date(current.this_update).toISOString(),
    nextUpdate: new Date(current.next_update).toISOString(),
  };
};
