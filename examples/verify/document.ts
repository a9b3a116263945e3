/**
 * `deno task verify -- --document FILE.pdf` and `--document FILE --signature FILE.p7s`
 * (docs/documents.md): a third party's check of a document signature made in the applet.
 *
 * 1. Integrity: for a PDF, its last signature (PAdES, `ETSI.CAdES.detached`) must cover
 *    the whole file but its `/Contents` (a byte appended or changed after signing is
 *    `invalid`); for any file, the CMS's message digest must be the file's SHA-256 and its
 *    signature must verify with the certificate inside (documents/ `checkSignerInfo`).
 * 2. The signer: the certificate's CN names the identity; the signature over the signed
 *    attributes is then checked against the public directory exactly as a message
 *    signature is (mod.ts `verifySignature`: CA, history, CRL), which gives the verdict
 *    and the exit code: valid, revoked, signed-by-superseded-key, expired, invalid,
 *    unknown-identity.
 * 3. The time-stamp (B-T): the token must cover the signature value and come from a TSA
 *    certificate of the same CA (id-kp-timeStamping); its time says what the
 *    certificate's status was **at signing time** — a key revoked or superseded after the
 *    time-stamp was valid then — while the verdict is the status **now**. A token that
 *    does not check out makes the signature `invalid`.
 *
 * @module
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import {
  byteRangeParts,
  checkSignerInfo,
  checkTimeStampToken,
  concatBytes,
  DocumentError,
  looksLikePdf,
  pdfSignatureFields,
  sha256,
  signedDataOf,
} from "../../documents/mod.ts";
import { pemDecode } from "../../protocol/mod.ts";
import { type SignatureAlg, type Verdict, type VerifyResult, verifySignature } from "./mod.ts";

/** What {@link verifyDocument} checks. */
export interface DocumentRequest {
  server: string;
  document: Uint8Array;
  /** A detached CMS (DER, or PEM/base64 of it); absent: the document is a signed PDF. */
  signature?: Uint8Array;
  caPem?: string;
  fetch?: typeof fetch;
  now?: Date;
}

/** The outcome. */
export interface DocumentResult extends Partial<VerifyResult> {
  verdict: Verdict;
  kind: "pades" | "cms";
  /** Why it is invalid, when it is. */
  problem?: string;
  /** The trusted time of the signature (B-T), ISO 8601. */
  timestampedAt?: string;
  /** The certificate's status at the time-stamp: `valid`, or the verdict if it was already so. */
  atSigningTime?: Verdict | "unknown";
}

function _cmsBytes(raw: Uint8Array): Uint8Array {
  if (raw[0] === 0x30) return raw;
  const text = new TextDecoder().decode(raw);
  if (text.includes("-----BEGIN")) {
    return pemDecode(text, text.match(/-----BEGIN ([A-Z0-9 ]+)-----/)![1]);
  }
  return Uint8Array.from(atob(text.replace(/\s+/g, "")), (c) => c.charCodeAt(0));
}

/** The CMS and the SHA-256 of what it signs, for a PDF or a detached signature. */
async function _signed(req: DocumentRequest): Promise<
  { kind: "pades" | "cms"; cms: Uint8Array; digest: Uint8Array; problem?: string }
> {
  if (req.signature) {
    let cms: Uint8Array;
    try {
      cms = _cmsBytes(req.signature);
    } catch {
      throw new DocumentError("bad_signature_file", "the signature file is not a CMS signature");
    }
    return { kind: "cms", cms, digest: await sha256(req.document) };
  }
  if (!looksLikePdf(req.document)) {
    throw new DocumentError("not_a_pdf", "not a PDF: give the detached signature with --signature");
  }
  const fields = (await pdfSignatureFields(req.document)).filter((f) => f.cms.length > 0);
  const last = fields.at(-1);
  if (!last) throw new DocumentError("no_pdf_signature", "the PDF has no signature");
  const [a, , b, l2] = last.byteRange;
  const digest = await sha256(
    concatBytes(...byteRangeParts({ bytes: req.document, byteRange: last.byteRange })),
  );
  const problem = a !== 0 || b + l2 !== req.document.length
    ? "the file was changed after it was signed (the signature does not cover all of it)"
    : undefined;
  return { kind: "pades", cms: last.cms, digest, problem };
}

function _identityOf(cert: Uint8Array): string | undefined {
  try {
    const c = new x509.X509Certificate(cert as Uint8Array<ArrayBuffer>);
    return c.subjectName.getField("CN")[0];
  } catch {
    return undefined;
  }
}

/** Runs the check of the module doc. Throws {@link DocumentError} for unusable input. */
export async function verifyDocument(req: DocumentRequest): Promise<DocumentResult> {
  const s = await _signed(req);
  let signer;
  try {
    signer = await checkSignerInfo(signedDataOf(s.cms), s.digest);
  } catch {
    throw new DocumentError("bad_signature_file", "the signature is not a CMS SignedData");
  }
  const invalid = (problem: string): DocumentResult => ({
    verdict: "invalid",
    kind: s.kind,
    problem,
  });
  if (s.problem) return invalid(s.problem);
  if (!signer.valid) return invalid(signer.problem!);
  const identity = _identityOf(signer.certificate!);
  if (!identity || !signer.signedAttributes) {
    return invalid("the signer's certificate names no identity");
  }
  const alg: SignatureAlg = signer.alg === "pss" ? "RSA-PSS-SHA256" : "RSASSA-PKCS1-v1_5-SHA256";
  const r = await verifySignature({
    server: req.server,
    identity,
    message: signer.signedAttributes,
    signature: signer.signature,
    alg,
    caPem: req.caPem,
    fetch: req.fetch,
    now: req.now,
  });
  const out: DocumentResult = { ...r, kind: s.kind, atSigningTime: "unknown" };
  if (signer.timestampToken) {
    const f = req.fetch ?? fetch.bind(globalThis);
    const caPem = req.caPem ??
      await f(`${req.server.replace(/\/+$/, "")}/ca.pem`).then((x) => x.text(), () => "");
    const caDer = caPem.includes("BEGIN CERTIFICATE") ? pemDecode(caPem) : undefined;
    const ts = await checkTimeStampToken(signer.timestampToken, signer.signature, caDer);
    if (!ts.valid) return invalid(`the time-stamp: ${ts.problem}`);
    out.timestampedAt = ts.genTime.toISOString();
    const changed = r.statusChangedAt ? Date.parse(r.statusChangedAt) : NaN;
    out.atSigningTime = (r.verdict === "revoked" || r.verdict === "signed-by-superseded-key") &&
        ts.genTime.getTime() < changed
      ? "valid"
      : r.verdict;
  }
  return out;
}
