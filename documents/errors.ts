/**
 * Why a document cannot be signed or checked: one error class with a stable code, shown
 * to the user in the applet (applet/ui/messages.ts) and by `deno task verify`.
 *
 * @module
 */

import { DOCUMENT_MAX_BYTES } from "../protocol/mod.ts";

export { DOCUMENT_MAX_BYTES };

/** Stable codes of {@link DocumentError}. */
export type DocumentErrorCode =
  | "empty_document"
  | "document_too_large"
  | "not_a_pdf"
  | "encrypted_pdf"
  | "bad_pdf"
  | "no_pdf_signature"
  | "bad_signature_file";

/** A document refused, with a plain message. */
export class DocumentError extends Error {
  readonly code: DocumentErrorCode;
  constructor(code: DocumentErrorCode, message: string) {
    super(message);
    this.name = "DocumentError";
    this.code = code;
  }
}

/** Refuses an empty file or one over {@link DOCUMENT_MAX_BYTES}, before any work. */
export function checkDocumentSize(size: number): void {
  if (size === 0) throw new DocumentError("empty_document", "The file is empty: nothing to sign.");
  if (size > DOCUMENT_MAX_BYTES) {
    throw new DocumentError(
      "document_too_large",
      `The file is ${(size / 1048576).toFixed(1)} MiB; documents up to 25 MiB can be signed.`,
    );
  }
}
