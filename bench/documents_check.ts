/**
 * Correctness first (docs/benchmarks.md): before the `documents` suite times anything, the
 * signed PDF and the `.p7s` that the page offers for download after its warm-up run are
 * checked with documents/ — the original bytes kept, the byte range covering the whole
 * file but `/Contents`, both CMS signatures valid over the right digest, each with a
 * time-stamp token over its signature value from a TSA under the stack's CA. A failure
 * throws, so the suite reports an error instead of figures.
 *
 * @module
 */
import type { Page } from "playwright-core";
import {
  checkSignerInfo,
  checkTimeStampToken,
  concatBytes,
  pdfSignatureFields,
  sameBytes,
  sha256,
  signedDataOf,
} from "../documents/mod.ts";

/** What the check found (all true, or it threw). */
export interface DocumentsCheck {
  signedPdfBytes: number;
  p7sBytes: number;
  /** The TSA's time in the PAdES signature's token. */
  genTime: string;
}

async function _download(page: Page, link: string, dir: string): Promise<Uint8Array> {
  const [dl] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: link, exact: true }).click(),
  ]);
  const path = `${dir}/${dl.suggestedFilename()}`;
  await dl.saveAs(path);
  const bytes = await Deno.readFile(path);
  await Deno.remove(path);
  return bytes;
}

/** A CMS signature over `digest` with a token from the CA's TSA; returns the token's time. */
async function _checkCms(what: string, cms: Uint8Array, digest: Uint8Array, ca: Uint8Array) {
  const s = await checkSignerInfo(signedDataOf(cms), digest);
  if (!s.valid) throw new Error(`bench: the ${what} signature is invalid: ${s.problem}`);
  if (!s.timestampToken) throw new Error(`bench: the ${what} signature has no time-stamp`);
  const ts = await checkTimeStampToken(s.timestampToken, s.signature, ca);
  if (!ts.valid) throw new Error(`bench: the ${what} time-stamp is invalid: ${ts.problem}`);
  return ts.genTime.toISOString();
}

/** Downloads what the page signed last and checks it against `original` (module doc). */
export async function checkSignedOutputs(
  page: Page,
  original: Uint8Array,
  caCertificate: Uint8Array,
  dir: string,
): Promise<DocumentsCheck> {
  const pdf = await _download(page, "Download signed PDF", dir);
  const p7s = await _download(page, "Download signature (.p7s)", dir);
  if (!sameBytes(pdf.subarray(0, original.length), original)) {
    throw new Error("bench: the signed PDF does not begin with the original bytes");
  }
  const field = (await pdfSignatureFields(pdf)).at(-1);
  if (!field) throw new Error("bench: the signed PDF has no signature");
  const [start, a, b, c] = field.byteRange;
  if (start !== 0 || b + c !== pdf.length || a < original.length) {
    throw new Error(`bench: the byte range ${field.byteRange} does not cover the file`);
  }
  const covered = await sha256(concatBytes(pdf.subarray(0, a), pdf.subarray(b, b + c)));
  const genTime = await _checkCms("PAdES", field.cms, covered, caCertificate);
  await _checkCms(".p7s", p7s, await sha256(original), caCertificate);
  return { signedPdfBytes: pdf.length, p7sBytes: p7s.length, genTime };
}
