/**
 * The signing worker's part of a document signature (docs/documents.md): it signs the DER
 * SET of a CMS SignerInfo's signed attributes — never a bare hash — after checking that
 * they are exactly what roamsign builds for the signed-in user (domain separation,
 * protocol/signed_attributes.ts), and fetches an RFC 3161 token over the signature value
 * from the vault's TSA through the channel (`timestamp`). The document itself never
 * reaches this worker: it is hashed and wrapped by the document worker
 * (applet/documents/), which also checks the token.
 *
 * @module
 */
import { sha256 as wasmSha256, signPkcs1v15, signPss } from "../../../wasm-crypto/mod.ts";
import {
  b64uDecode,
  b64uEncode,
  checkSignedAttributes,
  pemDecode,
  SignedAttributesError,
} from "../../../protocol/mod.ts";
import type { Session } from "../session.ts";
import { FlowError, retrying } from "./common.ts";
import type { SignedIn } from "./sign_in.ts";

/** What {@link signDocumentAttributes} is asked. */
export interface DocumentSignRequest {
  /** The DER SET of signed attributes (documents/cms.ts `buildSignedAttributes`). */
  signedAttributes: Uint8Array;
  /** RSASSA-PKCS1-v1_5 (default) or RSA-PSS, both SHA-256 (PSS: MGF1-SHA-256, salt 32). */
  alg: "pkcs1" | "pss";
  /** Ask the vault's TSA for a token over the signature value (B-T). */
  timestamp: boolean;
}

/** The signature and what the document worker needs to wrap it. */
export interface DocumentSignature {
  signature: Uint8Array;
  /** RFC 3161 TimeStampToken (DER), when asked for. */
  timestampToken: Uint8Array | null;
  /** The signer's certificate (DER). */
  certificate: Uint8Array;
  /** The CA certificate (DER): the session's integrity certificate, checked against the pin. */
  caCertificate: Uint8Array;
}

/** Signs a document's signed attributes with SKu (module doc). */
export async function signDocumentAttributes(
  session: Session,
  user: SignedIn,
  req: DocumentSignRequest,
): Promise<DocumentSignature> {
  const certificate = pemDecode(user.certificate);
  try {
    await checkSignedAttributes(req.signedAttributes, certificate);
  } catch (err) {
    if (err instanceof SignedAttributesError) {
      throw new FlowError(
        "bad_signed_attributes",
        "The document signature was not prepared by this applet; nothing was signed.",
      );
    }
    throw err;
  }
  const signature = req.alg === "pss"
    ? signPss(user.key, "SHA-256", req.signedAttributes, 32)
    : signPkcs1v15(user.key, "SHA-256", req.signedAttributes);
  let timestampToken: Uint8Array | null = null;
  if (req.timestamp) {
    // Only the signature value's hash travels; the vault's clock and key make the token.
    const r = await retrying(() =>
      session.call<{ token?: unknown }>("timestamp", { imprint: b64uEncode(wasmSha256(signature)) })
    );
    if (typeof r.token !== "string") {
      throw new FlowError("timestamp_unavailable", "The time-stamping authority gave no token.");
    }
    timestampToken = b64uDecode(r.token);
  }
  return {
    signature,
    timestampToken,
    certificate,
    caCertificate: pemDecode(session.offer.integrityCert),
  };
}
