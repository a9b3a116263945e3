/**
 * PAdES baseline signatures (ETSI EN 319 142-1) as an incremental update of the PDF
 * (ISO 32000-1 §7.5.6, §12.8), with `@cantoo/pdf-lib` (a maintained pdf-lib fork that
 * parses a PDF and writes only the changed objects after the original bytes, which stay
 * untouched):
 *
 * 1. {@link preparePdf} appends a signature dictionary (`/Filter /Adobe.PPKLite`,
 *    `/SubFilter /ETSI.CAdES.detached`, `/M`), an invisible signature field on the
 *    first page (`/Rect [0 0 0 0]`, flags print + locked) and the catalog's
 *    `/AcroForm` with `/SigFlags 3`; `/Contents` is a run of zeros and `/ByteRange` a
 *    placeholder, which is then filled in place, same length, with the offsets of the
 *    bytes around `/Contents`.
 * 2. The caller hashes those two ranges and has a CMS made ({@link byteRangeParts}).
 * 3. {@link embedCms} writes the CMS's hex into `/Contents`.
 *
 * The objects of the update are written uncompressed with a classic cross-reference
 * section whose `/Prev` points at the original one (a signature dictionary must not go
 * into an object stream, where its bytes could not be left out of the hash).
 * {@link pdfSignatureFields} reads the signatures of a PDF back for checking.
 *
 * @module
 */
import {
  EncryptedPDFError,
  PDFArray,
  PDFDict,
  PDFDocument,
  PDFHexString,
  PDFName,
  PDFNumber,
  PDFRef,
  PDFString,
} from "@cantoo/pdf-lib";
import { concatBytes } from "./asn1.ts";
import { DocumentError } from "./errors.ts";

/** Bytes reserved for the CMS in `/Contents` (hex doubles it). */
export const CONTENTS_BYTES = 16_384;
const _BYTE_RANGE_PLACEHOLDER = "/ByteRange [ 0 /********** /********** /********** ]";
const _PDF_MAGIC = [0x25, 0x50, 0x44, 0x46, 0x2d]; // "%PDF-"

/** True when the bytes begin (within the first KiB, as readers allow) with `%PDF-`. */
export function looksLikePdf(head: Uint8Array): boolean {
  const n = Math.min(head.length, 1024) - _PDF_MAGIC.length;
  for (let i = 0; i <= n; i++) {
    if (_PDF_MAGIC.every((b, j) => head[i + j] === b)) return true;
  }
  return false;
}

/** Loads a PDF, refusing what is not one, an encrypted one and one without pages. */
export async function loadPdf(bytes: Uint8Array): Promise<PDFDocument> {
  if (!looksLikePdf(bytes.subarray(0, 1024))) {
    throw new DocumentError("not_a_pdf", "The file is named .pdf but is not a PDF.");
  }
  let doc: PDFDocument;
  try {
    doc = await PDFDocument.load(bytes, { updateMetadata: false });
  } catch (err) {
    if (err instanceof EncryptedPDFError || await _encrypted(bytes)) {
      throw new DocumentError(
        "encrypted_pdf",
        "The PDF is encrypted (password-protected); remove the protection, then sign it.",
      );
    }
    throw new DocumentError("bad_pdf", "The PDF could not be read; it may be damaged.");
  }
  let pages = 0;
  try {
    pages = doc.getPageCount();
  } catch { /* no page tree: refused below */ }
  if (pages < 1) throw new DocumentError("bad_pdf", "The PDF has no pages; it may be damaged.");
  return doc;
}

/** Whether a PDF that did not load names an /Encrypt dictionary in its trailer. */
async function _encrypted(bytes: Uint8Array): Promise<boolean> {
  try {
    return (await PDFDocument.load(bytes, { ignoreEncryption: true, updateMetadata: false }))
      .isEncrypted;
  } catch {
    return false;
  }
}

/** The page count of a PDF (throws {@link DocumentError} as {@link loadPdf}). */
export async function pdfPageCount(bytes: Uint8Array): Promise<number> {
  return (await loadPdf(bytes)).getPageCount();
}

/** A PDF with its signature placeholder, ready for the CMS. */
export interface PreparedPdf {
  bytes: Uint8Array;
  /** `[0, a, b, c]`: the signed bytes are `[0, a)` and `[b, b + c)`. */
  byteRange: [number, number, number, number];
}

function _indexOf(hay: Uint8Array, needle: Uint8Array, from = 0): number {
  outer: for (let i = from; i <= hay.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function _fieldName(doc: PDFDocument): string {
  const names = new Set(doc.getForm().getFields().map((f) => f.getName()));
  let n = 1;
  while (names.has(`Signature${n}`)) n++;
  return `Signature${n}`;
}

/** Step 1 of the module doc: the incremental update with its placeholders. */
export async function preparePdf(original: Uint8Array, signingTime: Date): Promise<PreparedPdf> {
  const doc = await loadPdf(original);
  const fieldName = _fieldName(doc);
  const snapshot = doc.takeSnapshot();
  const ctx = doc.context;
  const sig = ctx.obj({
    Type: "Sig",
    Filter: "Adobe.PPKLite",
    SubFilter: "ETSI.CAdES.detached",
    ByteRange: [0, ...Array(3).fill(PDFName.of("**********"))],
    Contents: PDFHexString.of("0".repeat(CONTENTS_BYTES * 2)),
    M: PDFString.fromDate(signingTime),
  });
  const sigRef = ctx.register(sig);
  const page = doc.getPage(0);
  const widget = ctx.obj({
    Type: "Annot",
    Subtype: "Widget",
    FT: "Sig",
    Rect: [0, 0, 0, 0],
    V: sigRef,
    T: PDFString.of(fieldName),
    F: 132,
    P: page.ref,
  });
  const widgetRef = ctx.register(widget);
  page.node.addAnnot(widgetRef);
  const acroForm = doc.catalog.getOrCreateAcroForm();
  acroForm.addField(widgetRef);
  acroForm.dict.set(PDFName.of("SigFlags"), PDFNumber.of(3));
  snapshot.markRefsForSave([page.ref, doc.context.trailerInfo.Root as PDFRef]);
  const annots = page.node.get(PDFName.of("Annots"));
  if (annots instanceof PDFRef) snapshot.markRefForSave(annots);
  const formRef = doc.catalog.get(PDFName.of("AcroForm"));
  if (formRef instanceof PDFRef) snapshot.markRefForSave(formRef);
  const fields = acroForm.dict.get(PDFName.of("Fields"));
  if (fields instanceof PDFRef) snapshot.markRefForSave(fields);
  const update = await doc.saveIncremental(snapshot, { useObjectStreams: false });
  return _fillByteRange(concatBytes(original, update), original.length);
}

/** Writes the real `/ByteRange` over the placeholder, padded to the same length. */
function _fillByteRange(bytes: Uint8Array, from: number): PreparedPdf {
  const enc = new TextEncoder();
  const contents = enc.encode(`<${"0".repeat(CONTENTS_BYTES * 2)}>`);
  const c = _indexOf(bytes, contents, from);
  const r = _indexOf(bytes, enc.encode(_BYTE_RANGE_PLACEHOLDER), from);
  if (c < 0 || r < 0) throw new Error("pades: placeholders not found");
  const b = c + contents.length;
  const byteRange: PreparedPdf["byteRange"] = [0, c, b, bytes.length - b];
  const text = `/ByteRange [${byteRange.join(" ")}]`;
  if (text.length > _BYTE_RANGE_PLACEHOLDER.length) throw new Error("pades: file too large");
  bytes.set(enc.encode(text.padEnd(_BYTE_RANGE_PLACEHOLDER.length, " ")), r);
  return { bytes, byteRange };
}

/** The two signed parts of a prepared PDF (step 2). */
export function byteRangeParts(p: { bytes: Uint8Array; byteRange: number[] }): Uint8Array[] {
  const [a, l1, b, l2] = p.byteRange;
  return [p.bytes.subarray(a, a + l1), p.bytes.subarray(b, b + l2)];
}

/** Step 3: the signed PDF, the CMS (DER) written as hex into `/Contents`. */
export function embedCms(p: PreparedPdf, cms: Uint8Array): Uint8Array {
  if (cms.length > CONTENTS_BYTES) throw new Error("pades: the CMS does not fit /Contents");
  const hex = Array.from(cms, (x) => x.toString(16).padStart(2, "0")).join("");
  const out = p.bytes.slice();
  out.set(new TextEncoder().encode(hex), p.byteRange[1] + 1);
  return out;
}

/** One signature of a PDF, as {@link pdfSignatureFields} reads it. */
export interface PdfSignatureField {
  name: string;
  subFilter: string;
  byteRange: number[];
  /** The CMS (DER, the trailing zero padding taken off). */
  cms: Uint8Array;
}

/** The length of the DER element at the start of `b` (definite lengths). */
function _derLength(b: Uint8Array): number {
  if (b.length < 2) return b.length;
  const l = b[1];
  if (l < 0x80) return 2 + l;
  const n = l & 0x7f;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + (b[2 + i] ?? 0);
  return Math.min(b.length, 2 + n + len);
}

/** Every signature field of a PDF that has a value (throws {@link DocumentError}). */
export async function pdfSignatureFields(bytes: Uint8Array): Promise<PdfSignatureField[]> {
  const doc = await loadPdf(bytes);
  const out: PdfSignatureField[] = [];
  for (const field of doc.getForm().getFields()) {
    const v = field.acroField.dict.lookup(PDFName.of("V"));
    if (!(v instanceof PDFDict) || v.lookup(PDFName.of("Type"))?.toString() !== "/Sig") continue;
    const range = v.lookup(PDFName.of("ByteRange"), PDFArray).asArray()
      .map((n) => (n as PDFNumber).asNumber());
    const contents = v.lookup(PDFName.of("Contents"));
    const raw = contents instanceof PDFHexString || contents instanceof PDFString
      ? contents.asBytes()
      : new Uint8Array();
    out.push({
      name: field.getName(),
      subFilter: v.lookup(PDFName.of("SubFilter"))?.toString().replace(/^\//, "") ?? "",
      byteRange: range,
      cms: raw.slice(0, _derLength(raw)),
    });
  }
  return out;
}
