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
import {
  ScriptError,
  scriptSource,
  verifiedScriptUrl,
  verifiedWorkerStarter,
} from "../verified_script.ts";

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

// ---- the worker -------------------------------------------------------------------------

/**
 * Starts the worker from the `blob:` URL of bytes the page fetched with Subresource
 * Integrity ({@link _verifiedWorkerUrl}), through a Trusted Types policy that accepts
 * that one URL and nothing else, so no other code on the page can start a worker from
 * its own bytes.
 */
const _newWorker = verifiedWorkerStarter("roamsign", "applet worker");

/** The worker and its pending calls. */
export class AppletWorker {
  readonly #worker: Worker;
  readonly #pending = new Map<
    number,
    { resolve(v: unknown): void; reject(e: Error): void; progress?: (p: number) => void }
  >();
  #next = 1;

  constructor(url: string) {
    this.#worker = _newWorker(url, "roamsign-applet");
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

/** Forgets the running worker (the caller ends it). */
export function detachWorker(): AppletWorker | null {
  const w = _worker;
  _worker = null;
  return w;
}
let _starting: Promise<AppletWorker> | null = null;

/**
 * The signing worker's bytes, fetched with Subresource Integrity (`verified_script.ts`,
 * shared with the strength and document workers) as a `blob:` URL; a failure keeps its
 * code (`applet_tampered`, `applet_unavailable`), in the page's own words.
 */
async function _verifiedWorkerUrl(): Promise<string> {
  try {
    const { path, integrity } = scriptSource("roamsign-worker");
    return await verifiedScriptUrl(path, integrity);
  } catch (err) {
    if (!(err instanceof ScriptError)) throw err;
    throw new UiError(err.code, err.code === "applet_tampered" ? _TAMPERED : _UNAVAILABLE);
  }
}

/** The running worker, starting (and verifying) one if there is none. */
export function worker(): Promise<AppletWorker> {
  if (_worker) return Promise.resolve(_worker);
  if (_starting) return _starting;
  _starting = (async () => {
    const url = await _verifiedWorkerUrl();
    let w: AppletWorker;
    try {
      w = new AppletWorker(url);
    } catch (err) {
      URL.revokeObjectURL(url);
      throw err;
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
