/// <reference lib="dom" />
/**
 * The page's side of the applet worker: fetch the worker's bytes with Subresource
 * Integrity, start it from a `blob:` URL that a Trusted Types policy accepts and
 * nothing else, and call it with commands whose replies come back as promises.
 * The page holds no secret: pass phrases cross as transferred bytes.
 *
 * @module
 */
import type { Command, Reply, Results } from "../worker_api.ts";

const _WORKER_PATH = /^\/applet\/[0-9a-f]{64}\.js$/;
const _SRI_SHA384 = /^sha384-[A-Za-z0-9+/]{64}$/;
const _TAMPERED = "The applet's files do not match its build; it will not start.";
const _UNAVAILABLE = "The applet could not be loaded: check the connection and reload the page.";

/** A user-facing error: a stable code and, for the applet's own checks, its words. */
export class UiError extends Error {
  readonly code: string;
  readonly retryAfterMs?: number;
  readonly retryable: boolean;
  /** From the server (`attemptsLeft`, `fields`). */
  readonly details?: { attemptsLeft?: number; fields?: string[] };
  /** The logical field an applet-side check refused. */
  field?: string;
  /** True when the page itself refused (its words stand); false for a worker's reply. */
  readonly own: boolean;
  constructor(
    code: string,
    message: string,
    o: {
      retryAfterMs?: number;
      retryable?: boolean;
      details?: { attemptsLeft?: number; fields?: string[] };
      field?: string;
      own?: boolean;
    } = {},
  ) {
    super(message);
    this.own = o.own ?? true;
    this.code = code;
    this.retryAfterMs = o.retryAfterMs;
    this.retryable = o.retryable ?? false;
    this.details = o.details;
    this.field = o.field;
  }
}

interface _TrustedTypes {
  createPolicy(
    name: string,
    rules: { createScriptURL(url: string): string },
  ): { createScriptURL(url: string): unknown };
}

// ---- the worker -------------------------------------------------------------------------

/**
 * The worker's script URL while the page starts it: a `blob:` URL of bytes the page
 * fetched with Subresource Integrity ({@link _verifiedWorkerUrl}). The Trusted Types
 * policy accepts this one URL and nothing else, so no other code on the page can start
 * a worker from its own bytes.
 */
let _verifiedUrl: string | null = null;

const _policy = (globalThis as { trustedTypes?: _TrustedTypes }).trustedTypes?.createPolicy(
  "roamsign",
  {
    createScriptURL(url: string) {
      if (url !== _verifiedUrl) throw new TypeError("roamsign: not the verified applet worker");
      return url;
    },
  },
);

/** The worker and its pending calls. */
export class AppletWorker {
  readonly #worker: Worker;
  readonly #pending = new Map<
    number,
    { resolve(v: unknown): void; reject(e: Error): void; progress?: (p: number) => void }
  >();
  #next = 1;

  constructor(url: string) {
    const scriptUrl = _policy ? _policy.createScriptURL(url) : url;
    this.#worker = new Worker(scriptUrl as string, { type: "module", name: "roamsign-applet" });
    this.#worker.onmessage = (e: MessageEvent<Reply>) => this.#reply(e.data);
    this.#worker.onerror = (e) => {
      e.preventDefault();
      this.#failAll(
        new UiError("applet_error", "The applet could not be loaded or stopped unexpectedly."),
      );
    };
  }

  call<K extends Command["type"]>(
    command: Extract<Command, { type: K }>,
    transfer: Transferable[] = [],
    progress?: (p: number) => void,
  ): Promise<Results[K]> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, progress });
      this.#worker.postMessage({ ...command, id }, transfer);
    });
  }

  /** Asks the worker to wipe itself, then terminates it (at once if `wait` is false). */
  async end(wait: boolean): Promise<void> {
    const wiped = this.call({ type: "wipe" }).catch(() => undefined);
    if (wait) {
      await Promise.race([wiped, new Promise((r) => setTimeout(r, 2000))]);
    }
    this.#worker.terminate();
    this.#failAll(new UiError("applet_ended", "The applet ended."));
  }

  #reply(r: Reply): void {
    const p = this.#pending.get(r.id);
    if (!p) return;
    if ("progress" in r) {
      p.progress?.(r.progress);
      return;
    }
    this.#pending.delete(r.id);
    if (r.ok) p.resolve(r.result);
    else {
      const { code, message, ...o } = r.error;
      p.reject(new UiError(code, message, { ...o, own: false }));
    }
  }

  #failAll(err: Error): void {
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }
}

let _worker: AppletWorker | null = null;

/** The running worker, if any, without starting one. */
export function currentWorker(): AppletWorker | null {
  return _worker;
}

/** Forgets the running worker (the caller ends it). */
export function detachWorker(): AppletWorker | null {
  const w = _worker;
  _worker = null;
  return w;
}
let _starting: Promise<AppletWorker> | null = null;

/** The worker's URL path and SRI hash, from the page's `<meta name="roamsign-worker">`. */
function _workerSource(): { path: string; integrity: string } {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="roamsign-worker"]');
  const path = meta?.content ?? "";
  const integrity = meta?.dataset.integrity ?? "";
  if (!_WORKER_PATH.test(path) || !_SRI_SHA384.test(integrity)) {
    throw new UiError("applet_tampered", "The page does not name a valid applet worker.");
  }
  return { path, integrity };
}

/**
 * Fetches the worker with Subresource Integrity (`new Worker(url)` has none) and returns
 * a `blob:` URL of the verified bytes; the caller starts the worker from it and revokes
 * it. The browser rejects a body whose SHA-384 is not the page's; a second request
 * without integrity then tells a changed file (`applet_tampered`) from an unreachable
 * one (`applet_unavailable`).
 */
async function _verifiedWorkerUrl(): Promise<string> {
  const { path, integrity } = _workerSource();
  let res: Response;
  try {
    res = await fetch(path, { integrity, redirect: "error" });
  } catch {
    const reachable = await fetch(path, { method: "HEAD", redirect: "error" })
      .then((r) => r.ok, () => false);
    throw reachable
      ? new UiError("applet_tampered", _TAMPERED)
      : new UiError("applet_unavailable", _UNAVAILABLE);
  }
  if (!res.ok) throw new UiError("applet_unavailable", _UNAVAILABLE);
  const blob = new Blob([await res.arrayBuffer()], { type: "text/javascript" });
  return URL.createObjectURL(blob);
}

/** The running worker, starting (and verifying) one if there is none. */
export function worker(): Promise<AppletWorker> {
  if (_worker) return Promise.resolve(_worker);
  if (_starting) return _starting;
  _starting = (async () => {
    const url = await _verifiedWorkerUrl();
    _verifiedUrl = url;
    let w: AppletWorker;
    try {
      w = new AppletWorker(url);
    } catch (err) {
      URL.revokeObjectURL(url);
      throw err;
    } finally {
      _verifiedUrl = null;
    }
    try {
      // The worker has no base URL of its own (blob:), so it is told the page's origin.
      await w.call({ type: "init", origin: location.origin });
    } catch (err) {
      await w.end(false);
      throw err;
    } finally {
      URL.revokeObjectURL(url); // started (or failed): the bytes are not needed again
    }
    _worker = w;
    return w;
  })();
  _starting.catch(() => undefined).finally(() => (_starting = null));
  return _starting;
}
