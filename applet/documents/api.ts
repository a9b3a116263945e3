/**
 * Messages between the page and the document worker (`worker.ts`). The file goes to the
 * worker as a `File` (structured clone: a handle, read there in chunks); what comes back
 * is its hash, the signed attributes to be signed, and the finished signatures. Each
 * command's reply may be preceded by `{ id, progress }` (0–1) while a file is hashed.
 *
 * @module
 */

/** A signature as the signing worker returned it (applet/client/flows/document.ts). */
export interface SignedPart {
  signature: Uint8Array;
  timestampToken: Uint8Array | null;
}

/** Page → document worker. */
export type DocumentCommand =
  | { id: number; type: "init"; origin: string }
  | { id: number; type: "inspect"; file: File }
  | {
    id: number;
    type: "prepare";
    /** The signer's certificate (DER). */
    certificate: Uint8Array;
    /** Also sign it as a PDF (PAdES). */
    pdf: boolean;
  }
  | {
    id: number;
    type: "finish";
    alg: "pkcs1" | "pss";
    certificate: Uint8Array;
    caCertificate: Uint8Array;
    cades: SignedPart;
    pades?: SignedPart;
  };

/** What `inspect` found. */
export interface Inspection {
  name: string;
  size: number;
  /** Lower-case hex SHA-256 of the file. */
  sha256: string;
  /** The file is a PDF (by its first bytes) and loads; then its page count. */
  pdf: boolean;
  pages?: number;
}

/** Document worker → page. */
export type DocumentReply =
  | { id: number; progress: number }
  | { id: number; ok: true; inspection: Inspection }
  | { id: number; ok: true; cadesAttributes: Uint8Array; padesAttributes?: Uint8Array }
  | { id: number; ok: true; p7s: Uint8Array; pdf?: Uint8Array; genTime?: string }
  | { id: number; ok: true; ready: true }
  | { id: number; ok: false; code: string; message: string };
