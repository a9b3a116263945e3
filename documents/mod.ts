/**
 * Documents (DESIGN.md §2.12, docs/documents.md): detached CMS signatures (RFC 5652) and
 * PAdES baseline B-B/B-T signatures (ETSI EN 319 142-1) over a file, RFC 3161 time-stamp
 * tokens, and their checks. Browser-safe (no Deno API): the applet's document bundle,
 * the vault's time-stamping authority and `deno task verify --document` all use it.
 *
 * @module
 */
export {
  AttributeSet,
  attributeSet,
  concatBytes,
  der,
  EssCertIdV2,
  OID,
  sameBytes,
  sha256,
  SigningCertificateV2,
} from "./asn1.ts";
export {
  buildSignedAttributes,
  buildSignedData,
  type DocumentAlg,
  oidValue,
  type SignedAttributesInput,
  type SignedDataInput,
} from "./cms.ts";
export { checkSignerInfo, rsaVerify, type SignerCheck } from "./signer.ts";
export {
  buildTimeStampToken,
  checkTimeStampToken,
  signedDataOf,
  type TimeStampCheck,
  type TimeStampInput,
} from "./tsp.ts";
export {
  byteRangeParts,
  CONTENTS_BYTES,
  embedCms,
  looksLikePdf,
  pdfPageCount,
  type PdfSignatureField,
  pdfSignatureFields,
  type PreparedPdf,
  preparePdf,
} from "./pades.ts";
export {
  checkDocumentSize,
  DOCUMENT_MAX_BYTES,
  DocumentError,
  type DocumentErrorCode,
} from "./errors.ts";
