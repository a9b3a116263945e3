/**
 * The document the `documents` suite signs: a PDF of exactly `size` bytes (10 MiB by
 * default, issue 17) made with the PDF library the documents code uses
 * (`@cantoo/pdf-lib`): four A4 pages of text and one attached file of random bytes —
 * the shape of a contract with a scan attached — stored uncompressed, so that its
 * length sets the file's size to the byte and no compressor shortens it.
 *
 * @module
 */
import { PDFDocument, PDFHexString, PDFName, PDFString, StandardFonts } from "@cantoo/pdf-lib";

/** 10 MiB. */
export const DOCUMENT_BENCH_BYTES = 10 * 1024 * 1024;

/** A PDF with `padding` random bytes in one uncompressed embedded-file stream. */
async function _pdf(padding: Uint8Array): Promise<Uint8Array> {
  const doc = await PDFDocument.create({ updateMetadata: false });
  doc.setTitle("roamsign benchmark contract");
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let i = 0; i < 4; i++) {
    const page = doc.addPage([595, 842]);
    page.drawText(`roamsign benchmark contract, page ${i + 1} of 4`, {
      x: 50,
      y: 780,
      size: 14,
      font,
    });
  }
  const ctx = doc.context;
  // An embedded file (ISO 32000-1 §7.11.4) whose stream is the padding, no filter.
  const stream = ctx.register(ctx.stream(padding, {
    Type: "EmbeddedFile",
    Subtype: "application/octet-stream",
    Params: { Size: padding.length },
  }));
  const spec = ctx.register(ctx.obj({
    Type: "Filespec",
    F: PDFString.of("scan.bin"),
    UF: PDFHexString.fromText("scan.bin"),
    EF: { F: stream },
  }));
  doc.catalog.set(
    PDFName.of("Names"),
    ctx.obj({ EmbeddedFiles: { Names: [PDFString.of("scan.bin"), spec] } }),
  );
  return await doc.save({ useObjectStreams: false });
}

/** A PDF of exactly `size` bytes (≥ 64 KiB), its padding random. */
export async function benchPdf(size = DOCUMENT_BENCH_BYTES): Promise<Uint8Array> {
  if (size < 65_536) throw new RangeError(`bench: a document of ${size} bytes is too small`);
  let padding = size - 8_192;
  for (let attempt = 0; attempt < 4; attempt++) {
    const pad = new Uint8Array(padding);
    for (let at = 0; at < pad.length; at += 65_536) {
      crypto.getRandomValues(pad.subarray(at, Math.min(pad.length, at + 65_536)));
    }
    const pdf = await _pdf(pad);
    if (pdf.length === size) return pdf;
    padding += size - pdf.length; // the rest of the file does not depend on the padding's bytes
  }
  throw new Error(`bench: could not make a PDF of exactly ${size} bytes`);
}
