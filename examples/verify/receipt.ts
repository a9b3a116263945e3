/**
 * A later check of a bank's receipt (docs/bank-receipt.md): the file the applet's
 * "Download receipt" gives (`roamsign/signed-receipt/v1`, protocol/host_receipt.ts) holds
 * the receipt text exactly as signed, the bank's RSASSA-PKCS1-v1_5 SHA-256 signature and
 * the bank's integrity certificate. The receipt is `valid` when
 *
 * 1. the certificate's key (SHA-256 of its SubjectPublicKeyInfo) is the bank's pinned
 *    key — the fingerprint the applet was built with (`DATA_DIR/anchors/host-bank.json`)
 *    or one the caller gives — so a file signed by any other key is `invalid`, however
 *    well it is signed; and
 * 2. that key verifies the signature over the receipt's UTF-8 bytes (WebCrypto).
 *
 * Without a pin the caller says which fingerprint it trusts and why (examples/verify/main.ts).
 *
 * @module
 */
import {
  HostProtocolError,
  parseCertificate,
  parseSignedReceipt,
  pemDecode,
  type Receipt,
  sha256,
  toHex,
  utf8,
} from "../../protocol/mod.ts";

/** What {@link verifyReceipt} found. */
export interface ReceiptResult {
  verdict: "valid" | "invalid";
  /** Why it is invalid (absent when valid). */
  reason?: string;
  /** The receipt, when the file has the right shape. */
  receipt?: Receipt;
  /** Hex SHA-256 of the SPKI of the certificate the file carries. */
  signerSpkiSha256?: string;
}

/** Checks a signed receipt file's text against the bank key fingerprint `pinned` (hex). */
export async function verifyReceipt(text: string, pinned: string): Promise<ReceiptResult> {
  let parsed;
  try {
    parsed = parseSignedReceipt(text);
  } catch (err) {
    if (err instanceof HostProtocolError) return { verdict: "invalid", reason: err.message };
    throw err;
  }
  const { file, receipt, signature } = parsed;
  let spki: Uint8Array;
  try {
    spki = parseCertificate(pemDecode(file.signerCertificate)).spki;
  } catch {
    return { verdict: "invalid", reason: "the bank's certificate does not parse", receipt };
  }
  const fingerprint = toHex(await sha256(spki));
  const result = { receipt, signerSpkiSha256: fingerprint };
  if (fingerprint !== pinned.toLowerCase()) {
    return {
      verdict: "invalid",
      reason: `signed with key ${fingerprint}, not the bank's key ${pinned.toLowerCase()}`,
      ...result,
    };
  }
  let ok = false;
  try {
    const key = await crypto.subtle.importKey(
      "spki",
      spki as BufferSource,
      { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
      false,
      ["verify"],
    );
    ok = await crypto.subtle.verify(
      "RSASSA-PKCS1-v1_5",
      key,
      signature as BufferSource,
      utf8(file.receipt) as BufferSource,
    );
  } catch {
    ok = false;
  }
  return ok ? { verdict: "valid", ...result } : {
    verdict: "invalid",
    reason: "the bank's signature does not verify over this receipt",
    ...result,
  };
}
