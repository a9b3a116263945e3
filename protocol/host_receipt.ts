/**
 * The host's receipt (DESIGN.md §2.8, docs/host-bank.md, docs/bank-receipt.md): what the
 * host signs with PUB(i,h) when it has acted on an instruction, and the file a user keeps
 * to check that signature later.
 *
 * - {@link Receipt}: signed as the UTF-8 bytes of its canonical JSON ({@link receiptText}:
 *   keys sorted, no whitespace; protocol/user_request.ts `canonicalJson`), with
 *   RSASSA-PKCS1-v1_5 SHA-256.
 * - {@link SignedReceipt}: the download. The receipt text exactly as signed, the signature
 *   in standard base64 (so `base64 -d` reads it), the host's integrity certificate and the
 *   SHA-256 of its key that the applet pinned. The file carries its certificate so that it
 *   can be checked offline, but the certificate proves nothing by itself: a checker
 *   compares its key's fingerprint with the host's published one
 *   (`DATA_DIR/anchors/host-bank.json`, docs/trust-anchors.md).
 *
 * @module
 */
import { b64uDecode } from "./base64url.ts";
import { base64 } from "./der.ts";
import { HostProtocolError } from "./host.ts";
import { canonicalJson } from "./user_request.ts";

/** What the host signs when it has acted on an instruction. */
export interface Receipt {
  v: 2;
  host: string;
  receiptId: string;
  messageId: string;
  /** The instruction's idempotency key: one per payment (protocol/host.ts). */
  idempotencyKey: string;
  identity: string;
  /** Serial of the signer's certificate the signature was verified against. */
  serial: string;
  /** Hex SHA-256 of the signed instruction bytes. */
  messageSha256: string;
  status: "executed";
  debit: { to: string; amount: string; currency: string; reference: string };
  /** The debited account's balance afterwards, `875.00`. */
  balance: string;
  processedAt: string;
}

/** The bytes the host signs: UTF-8 of the canonical JSON of the receipt. */
export function receiptText(r: Receipt): string {
  return canonicalJson(r);
}

/** Parses receipt text (the signed form) and checks its shape. */
export function parseReceipt(text: string): Receipt {
  let r: Receipt;
  try {
    r = JSON.parse(text);
  } catch {
    throw new HostProtocolError("bad_receipt", "receipt is not JSON");
  }
  const ok = r && r.v === 2 && typeof r.host === "string" && typeof r.receiptId === "string" &&
    typeof r.messageId === "string" && typeof r.idempotencyKey === "string" &&
    typeof r.identity === "string" &&
    typeof r.serial === "string" && typeof r.messageSha256 === "string" &&
    r.status === "executed" && typeof r.debit === "object" && r.debit !== null &&
    typeof r.debit.to === "string" && typeof r.debit.amount === "string" &&
    typeof r.debit.currency === "string" && typeof r.debit.reference === "string" &&
    typeof r.balance === "string" && typeof r.processedAt === "string";
  if (!ok || receiptText(r) !== text) {
    throw new HostProtocolError("bad_receipt", "receipt has the wrong shape");
  }
  return r;
}

// ---- the file a user keeps ------------------------------------------------------------

/** Its `format` field. */
export const SIGNED_RECEIPT_FORMAT = "roamsign/signed-receipt/v1";

/** The downloadable receipt: everything needed to check the host's signature later. */
export interface SignedReceipt {
  format: typeof SIGNED_RECEIPT_FORMAT;
  /** The receipt exactly as signed ({@link receiptText}). */
  receipt: string;
  alg: "RSASSA-PKCS1-v1_5-SHA256";
  /** The host's signature over the receipt's UTF-8 bytes, standard base64. */
  signature: string;
  /** PUB(i,h)'s certificate, PEM. */
  signerCertificate: string;
  /** Lower-case hex SHA-256 of that certificate's SPKI: the fingerprint the applet pinned. */
  signerSpkiSha256: string;
}

/** The file's text: the fields above as indented JSON, ending in a newline. */
export function signedReceiptFile(
  parts: { receipt: string; signature: Uint8Array; certificate: string; spkiSha256: string },
): string {
  const file: SignedReceipt = {
    format: SIGNED_RECEIPT_FORMAT,
    receipt: parts.receipt,
    alg: "RSASSA-PKCS1-v1_5-SHA256",
    signature: base64(parts.signature),
    signerCertificate: parts.certificate,
    signerSpkiSha256: parts.spkiSha256,
  };
  return JSON.stringify(file, null, 2) + "\n";
}

/**
 * Reads a {@link SignedReceipt} file; checks its shape and the receipt's, and decodes the
 * signature. Checks no signature: that is the caller's (examples/verify/receipt.ts).
 */
export function parseSignedReceipt(
  text: string,
): { file: SignedReceipt; receipt: Receipt; signature: Uint8Array } {
  let f: SignedReceipt;
  try {
    f = JSON.parse(text);
  } catch {
    throw new HostProtocolError("bad_receipt", "the receipt file is not JSON");
  }
  const ok = f !== null && typeof f === "object" && f.format === SIGNED_RECEIPT_FORMAT &&
    typeof f.receipt === "string" && f.alg === "RSASSA-PKCS1-v1_5-SHA256" &&
    typeof f.signature === "string" && /^[A-Za-z0-9+/]+={0,2}$/.test(f.signature) &&
    typeof f.signerCertificate === "string" && typeof f.signerSpkiSha256 === "string" &&
    /^[0-9a-f]{64}$/.test(f.signerSpkiSha256);
  if (!ok) {
    throw new HostProtocolError("bad_receipt", `not a ${SIGNED_RECEIPT_FORMAT} file`);
  }
  let signature: Uint8Array;
  try {
    signature = b64uDecode(f.signature.replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_"));
  } catch {
    throw new HostProtocolError("bad_receipt", "the receipt's signature is not base64");
  }
  return { file: f, receipt: parseReceipt(f.receipt), signature };
}
