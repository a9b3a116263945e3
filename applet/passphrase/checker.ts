/// <reference lib="dom" />
/**
 * The page's handle on the strength worker, loaded on demand (docs/passphrase.md): the
 * first {@link assessPassphrase} or {@link suggestPassphrase} fetches the strength bundle
 * named by `<meta name="roamsign-strength">` with Subresource Integrity and starts it from
 * a `blob:` URL of the verified bytes, exactly as the page starts the signing worker
 * (`../verified_script.ts`). The first page load fetches nothing of it.
 *
 * Trusted Types: the CSP allows a second policy, `roamsign-strength`, which accepts only
 * the one `blob:` URL made here from verified bytes, for as long as the worker starts.
 *
 * The worker is ended once the phrase has been taken ({@link endStrengthChecker}), after
 * {@link IDLE_END_MS} unused, and on `pagehide`, so the strings zxcvbn made of typed
 * phrases do not outlive their use.
 *
 * @module
 */
import { scriptSource, verifiedScriptUrl, verifiedWorkerStarter } from "../verified_script.ts";
import type { Verdict } from "./policy.ts";
import type { StrengthCommand, StrengthReply } from "./strength_api.ts";

/** The `<meta>` that names the strength bundle and its SRI hash (written at link time). */
export const STRENGTH_META = "roamsign-strength";
/** An unused strength worker is ended after this long. */
export const IDLE_END_MS = 60_000;

const _newWorker = verifiedWorkerStarter("roamsign-strength", "strength worker");

/** A command without its `id` (which {@link _StrengthWorker.call} assigns), per variant. */
type _Command = _WithoutId<StrengthCommand>;
type _WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;

class _StrengthWorker {
  readonly #worker: Worker;
  readonly #pending = new Map<
    number,
    { resolve(r: StrengthReply): void; reject(e: Error): void }
  >();
  #next = 1;
  /** The `blob:` URL, revoked once the worker has answered or failed (its bytes are loaded). */
  #url: string | null;

  constructor(url: string, onFail: () => void) {
    this.#worker = _newWorker(url, "roamsign-strength");
    this.#url = url;
    this.#worker.onmessage = (e: MessageEvent<StrengthReply>) => {
      this.#revoke();
      const p = this.#pending.get(e.data.id);
      this.#pending.delete(e.data.id);
      p?.resolve(e.data);
    };
    this.#worker.onerror = (e) => {
      e.preventDefault();
      onFail();
      this.end();
    };
  }

  call(command: _Command, transfer: Transferable[] = []): Promise<StrengthReply> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...command, id }, transfer);
    });
  }

  #revoke(): void {
    if (this.#url) URL.revokeObjectURL(this.#url);
    this.#url = null;
  }

  end(): void {
    this.#revoke();
    this.#worker.terminate();
    for (const p of this.#pending.values()) p.reject(new Error("strength worker ended"));
    this.#pending.clear();
  }
}

let _running: Promise<_StrengthWorker> | null = null;
let _idle: ReturnType<typeof setTimeout> | null = null;

async function _start(): Promise<_StrengthWorker> {
  const { path, integrity } = scriptSource(STRENGTH_META);
  const url = await verifiedScriptUrl(path, integrity);
  try {
    return new _StrengthWorker(url, () => (_running = null));
  } catch (err) {
    URL.revokeObjectURL(url);
    throw err;
  }
}

/** The running worker (starting one if needed); every use re-arms the idle timer. */
function _ensure(): Promise<_StrengthWorker> {
  if (!_running) {
    const starting = _start();
    _running = starting;
    starting.catch(() => {
      if (_running === starting) _running = null;
    });
  }
  if (_idle !== null) clearTimeout(_idle);
  _idle = setTimeout(endStrengthChecker, IDLE_END_MS);
  return _running;
}

async function _call(command: _Command, transfer: Transferable[] = []): Promise<StrengthReply> {
  const w = await _ensure();
  const reply = await w.call(command, transfer);
  if (!reply.ok) throw new Error(`strength check failed: ${reply.message}`);
  return reply;
}

/** Starts fetching and starting the strength worker now (the first keystroke does), if not yet. */
export function preloadStrengthChecker(): void {
  _ensure().catch(() => undefined); // a failure shows when the check is asked for
}

/** Whether the strength worker has been requested (for tests and the page's own state). */
export function strengthCheckerLoaded(): boolean {
  return _running !== null;
}

/**
 * The policy's verdict on `phrase` (UTF-8). The bytes are transferred to the worker, which
 * wipes them: `phrase` is empty (detached) when this returns.
 */
export async function assessPassphrase(
  phrase: Uint8Array,
  userInputs: string[] = [],
): Promise<Verdict> {
  const reply = await _call({ type: "assess", phrase, userInputs }, [phrase.buffer]);
  if (!("verdict" in reply)) throw new Error("strength check failed: no verdict");
  return reply.verdict;
}

/** A generated pass phrase (six EFF words), as UTF-8 bytes the caller wipes. */
export async function suggestPassphrase(): Promise<Uint8Array> {
  const reply = await _call({ type: "suggest" });
  if (!("phrase" in reply)) throw new Error("strength check failed: no phrase");
  return reply.phrase;
}

/** Terminates the strength worker (it is started again when next needed). */
export function endStrengthChecker(): void {
  if (_idle !== null) clearTimeout(_idle);
  _idle = null;
  const running = _running;
  _running = null;
  running?.then((w) => w.end(), () => undefined);
}

addEventListener("pagehide", endStrengthChecker);
