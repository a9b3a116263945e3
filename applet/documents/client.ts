/// <reference lib="dom" />
/**
 * The page's handle on the document worker, loaded on demand (docs/documents.md): opening
 * "Sign a document" fetches the document bundle named by `<meta name="roamsign-documents">`
 * with Subresource Integrity and starts it from a `blob:` URL of the verified bytes
 * (`../verified_script.ts`), through its own Trusted Types policy `roamsign-documents`,
 * which accepts only that one URL while the worker starts. The first page load fetches
 * nothing of it. The worker is ended on sign-out and on `pagehide`.
 *
 * @module
 */
import { scriptSource, verifiedScriptUrl, verifiedWorkerStarter } from "../verified_script.ts";
import type { DocumentCommand, DocumentReply } from "./api.ts";

/** The `<meta>` that names the document bundle and its SRI hash (written at link time). */
export const DOCUMENTS_META = "roamsign-documents";

const _newWorker = verifiedWorkerStarter("roamsign-documents", "document worker");

/** A refusal from the document worker, with its stable code. */
export class DocumentWorkerError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

type _Command = DocumentCommand extends infer T ? T extends unknown ? Omit<T, "id"> : never
  : never;
type _Ok = Extract<DocumentReply, { ok: true }>;

/** The running document worker. */
export class DocumentWorker {
  readonly #worker: Worker;
  readonly #pending = new Map<
    number,
    { resolve(r: _Ok): void; reject(e: Error): void; progress?(p: number): void }
  >();
  #next = 1;

  constructor(url: string) {
    this.#worker = _newWorker(url, "roamsign-documents");
    this.#worker.onmessage = (e: MessageEvent<DocumentReply>) => {
      const r = e.data;
      const p = this.#pending.get(r.id);
      if (!p) return;
      if ("progress" in r) return p.progress?.(r.progress);
      this.#pending.delete(r.id);
      if (r.ok) p.resolve(r);
      else p.reject(new DocumentWorkerError(r.code, r.message));
    };
    this.#worker.onerror = (e) => {
      e.preventDefault();
      this.end();
    };
  }

  /** Sends a command; `progress` gets the fraction done while a file is hashed. */
  call<R extends _Ok>(command: _Command, progress?: (p: number) => void): Promise<R> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (r: _Ok) => void, reject, progress });
      this.#worker.postMessage({ ...command, id });
    });
  }

  end(): void {
    this.#worker.terminate();
    for (const p of this.#pending.values()) {
      p.reject(new DocumentWorkerError("document_failed", "The document worker ended."));
    }
    this.#pending.clear();
    if (_running) _running = null;
  }
}

let _running: Promise<DocumentWorker> | null = null;

async function _start(): Promise<DocumentWorker> {
  const { path, integrity } = scriptSource(DOCUMENTS_META);
  const url = await verifiedScriptUrl(path, integrity);
  let w: DocumentWorker;
  try {
    w = new DocumentWorker(url);
  } finally {
    URL.revokeObjectURL(url); // the worker has fetched its script from it, or failed
  }
  await w.call({ type: "init", origin: location.origin });
  return w;
}

/** The document worker, fetched and started on first use. */
export function documentWorker(): Promise<DocumentWorker> {
  if (!_running) {
    const starting = _start();
    _running = starting;
    starting.catch(() => {
      if (_running === starting) _running = null;
    });
  }
  return _running;
}

/** Whether the document bundle has been requested (for tests and the page's own state). */
export function documentsLoaded(): boolean {
  return _running !== null;
}

/** Ends the document worker (sign-out, `pagehide`); it starts again when next needed. */
export function endDocumentWorker(): void {
  const running = _running;
  _running = null;
  running?.then((w) => w.end(), () => undefined);
}

addEventListener("pagehide", endDocumentWorker);
