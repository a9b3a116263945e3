/// <reference lib="webworker" />
/**
 * Entry of the document bundle (server/build.ts, `entries.documents`; docs/documents.md):
 * a dedicated worker the page starts from SRI-checked bytes only when "Sign a document"
 * is opened (`client.ts`). It holds no key: it hashes the file with wasm-crypto's
 * streaming SHA-256 (`hashing.ts`), builds the CMS signed attributes and, for a PDF, the
 * PAdES incremental update (documents/), and wraps the signatures the signing worker
 * returns into a detached CMS (`.p7s`) and the signed PDF. The file never leaves the
 * browser: nothing here talks to the network except to fetch the wasm module.
 *
 * One document at a time: `inspect` reads it, `prepare` makes what is to be signed,
 * `finish` wraps the signatures; a new `inspect` forgets the previous one.
 *
 * @module
 */
import {
  buildSignedAttributes,
  buildSignedData,
  byteRangeParts,
  checkDocumentSize,
  checkTimeStampToken,
  DocumentError,
  embedCms,
  looksLikePdf,
  pdfPageCount,
  type PreparedPdf,
  preparePdf,
} from "../../documents/mod.ts";
import { toHex } from "../../protocol/mod.ts";
import type { DocumentCommand, DocumentReply, Inspection, SignedPart } from "./api.ts";
import { hashFile, hashParts, initHashing } from "./hashing.ts";

declare const self: DedicatedWorkerGlobalScope;

interface _Job {
  file: File;
  digest: Uint8Array;
  /** A PDF's bytes (parsed by pdf-lib), else absent. */
  bytes?: Uint8Array;
  prepared?: PreparedPdf;
  cadesAttributes?: Uint8Array;
  padesAttributes?: Uint8Array;
}

let _job: _Job | null = null;

function _progress(id: number): (p: number) => void {
  return (progress) => self.postMessage({ id, progress } satisfies DocumentReply);
}

async function _inspect(id: number, file: File): Promise<Inspection> {
  _job = null;
  checkDocumentSize(file.size);
  const head = new Uint8Array(await file.slice(0, 1024).arrayBuffer());
  const namedPdf = /\.pdf$/i.test(file.name) || file.type === "application/pdf";
  const pdf = looksLikePdf(head);
  if (namedPdf && !pdf) {
    throw new DocumentError("not_a_pdf", "The file is named .pdf but is not a PDF.");
  }
  const { digest, bytes } = await hashFile(file, pdf, _progress(id));
  const pages = bytes ? await pdfPageCount(bytes) : undefined; // refuses encrypted ones
  _job = { file, digest, bytes };
  return { name: file.name, size: file.size, sha256: toHex(digest), pdf, pages };
}

async function _prepare(id: number, certificate: Uint8Array, pdf: boolean) {
  const job = _job;
  if (!job) throw new DocumentError("bad_pdf", "Choose the document again.");
  const now = new Date();
  job.cadesAttributes = await buildSignedAttributes({
    digest: job.digest,
    certificate,
    signingTime: now,
  });
  if (pdf && job.bytes) {
    job.prepared = await preparePdf(job.bytes, now);
    const digest = hashParts(byteRangeParts(job.prepared), _progress(id));
    job.padesAttributes = await buildSignedAttributes({ digest, certificate });
  }
  return { cadesAttributes: job.cadesAttributes, padesAttributes: job.padesAttributes };
}

async function _wrap(
  attrs: Uint8Array,
  part: SignedPart,
  c: Extract<DocumentCommand, { type: "finish" }>,
): Promise<{ cms: Uint8Array; genTime?: string }> {
  let genTime: string | undefined;
  if (part.timestampToken) {
    const ts = await checkTimeStampToken(part.timestampToken, part.signature, c.caCertificate);
    if (!ts.valid) throw new Error(`The time-stamp token does not check out: ${ts.problem}.`);
    genTime = ts.genTime.toISOString();
  }
  const cms = buildSignedData({
    signedAttributes: attrs,
    signature: part.signature,
    alg: c.alg,
    certificate: c.certificate,
    chain: [c.caCertificate],
    timestampToken: part.timestampToken ?? undefined,
  });
  return { cms, genTime };
}

async function _finish(c: Extract<DocumentCommand, { type: "finish" }>) {
  const job = _job;
  if (!job?.cadesAttributes) throw new DocumentError("bad_pdf", "Choose the document again.");
  const cades = await _wrap(job.cadesAttributes, c.cades, c);
  let pdf: Uint8Array | undefined;
  if (c.pades && job.prepared && job.padesAttributes) {
    pdf = embedCms(job.prepared, (await _wrap(job.padesAttributes, c.pades, c)).cms);
  }
  return { p7s: cades.cms, pdf, genTime: cades.genTime };
}

async function _answer(c: DocumentCommand): Promise<DocumentReply> {
  switch (c.type) {
    case "init":
      await initHashing(c.origin);
      return { id: c.id, ok: true, ready: true };
    case "inspect":
      return { id: c.id, ok: true, inspection: await _inspect(c.id, c.file) };
    case "prepare":
      return { id: c.id, ok: true, ...(await _prepare(c.id, c.certificate, c.pdf)) };
    case "finish":
      return { id: c.id, ok: true, ...(await _finish(c)) };
  }
}

self.onmessage = async (e: MessageEvent<DocumentCommand>) => {
  const c = e.data;
  try {
    self.postMessage(await _answer(c));
  } catch (err) {
    const code = err instanceof DocumentError ? err.code : "document_failed";
    const message = err instanceof Error ? err.message : "The document could not be processed.";
    self.postMessage({ id: c.id, ok: false, code, message } satisfies DocumentReply);
  }
};
