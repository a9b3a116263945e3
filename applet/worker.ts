/// <reference lib="webworker" />
/**
 * The applet's worker: owns the wasm-crypto instance, the OPAQUE client, the
 * KS(m,a) session and, while signed in, SKu (wasm memory) and KEK (a
 * non-extractable CryptoKey). Before instantiating wasm-crypto or the OPAQUE client
 * it checks each module's bytes against the SHA-256 linked into this bundle
 * (the OPAQUE client's wasm is a file of its own, server/opaque_split.ts), and it
 * trusts only the anchors linked in with them (applet/linked.ts, docs/trust-anchors.md). On `wipe` it
 * destroys the key, zeroes wasm-crypto's memory, forgets the session and
 * answers; the page then terminates it.
 *
 * @module
 */
import * as opaque from "@serenity-kit/opaque";
import {
  initWasmCrypto,
  relaxedSimdSupported,
  WasmCryptoError,
  zeroizeMemory,
} from "../wasm-crypto/mod.ts";
import { toHex } from "../protocol/mod.ts";
import {
  applyToRegister,
  checkHostKeys,
  type DocumentSignRequest,
  fetchHostKeys,
  finishAddPasskey,
  finishPasskeySignIn,
  forget,
  giveConsent,
  listPasskeys,
  type PasskeyRequest,
  removePasskey,
  reregister,
  revokeKey,
  sendToHost,
  signAndSubmit,
  signDocumentAttributes,
  type SignedIn,
  signIn,
  startAddPasskey,
  startPasskeySignIn,
  updateRegistration,
  wasmSessionCrypto,
} from "./client/flows/mod.ts";
import { RpcError, Session } from "./client/session.ts";
import type { Reply, Request } from "./worker_api.ts";
import { type Linked, linked, type LinkedWasm } from "./linked.ts";
import { provideOpaqueWasm } from "./opaque_wasm.ts";

declare const self: DedicatedWorkerGlobalScope;

let ready: Promise<unknown> | null = null;
/**
 * The page's origin, from `init`: the worker runs from a `blob:` URL (the page starts it
 * from SRI-checked bytes), against which a path like `/api/session` does not resolve.
 */
let origin = "";
let session: Session | null = null;
/** A {@link Session.open} under way (one at a time), and when the session was last used. */
let opening: Promise<Session> | null = null;
let sessionUsedAt = 0;
/** True while the session was opened ahead and no command had used it before this one. */
let aheadUnused = false;
let onAhead = false;
/** How long a signed-out session may sit unused before a new one is opened (server: 10 min). */
const _FRESH_MS = 4 * 60_000;
let user: SignedIn | null = null;
/** A passkey being added (its vault challenge and re-authentication), between the steps. */
let addingPasskey: { challengeId: string; reauthLoginId: string } | null = null;
/** A passkey sign-in between its challenge and the assertion. */
let passkeySignIn: PasskeyRequest | null = null;

class _AppletError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  constructor(code: string, message: string, retryable = false) {
    super(message);
    this.code = code;
    this.retryable = retryable;
  }
}

const _SESSION_ENDED = "Your session ended (the server restarted, or it was idle too long): " +
  "sign in again.";

/**
 * The server forgot the session (it restarted, or the session expired): a signed-in
 * user must sign in again (`session_ended`; the key is wiped at once); otherwise the
 * next action opens a new session (`session_reset`, retryable).
 */
async function _sessionGuard<T>(req: Request, run: (req: Request) => Promise<T>): Promise<T> {
  onAhead = false;
  // A command on a session opened ahead keeps a copy of its request (the pass phrase in it
  // is wiped by its first run), wiped when the command ends.
  let spare: Request | null = !user && aheadUnused ? structuredClone(req) : null;
  try {
    return await run(req);
  } catch (err) {
    if (
      err instanceof RpcError && (err.code === "unknown_session" || err.code === "session_expired")
    ) {
      if (!user && onAhead && spare) {
        // The session opened ahead was forgotten before its first use (a server restart
        // while the page sat open): the web server refused before relaying anything, so
        // the command goes once more, on a new session.
        session = null;
        const again = spare;
        spare = null;
        try {
          return await run(again);
        } finally {
          _wipeRequest(again);
        }
      }
      if (user) {
        _wipe();
        throw new _AppletError("session_ended", _SESSION_ENDED);
      }
      session = null;
      throw new _AppletError(
        "session_reset",
        "The connection to the server was reset; try again.",
        true,
      );
    }
    throw err;
  } finally {
    _wipeRequest(spare);
  }
}

/** Zeroes the byte arrays a request carries (pass phrases, a PRF output). */
function _wipeRequest(req: Request | null): void {
  for (const v of Object.values(req ?? {})) if (v instanceof Uint8Array) v.fill(0);
}

/**
 * Starts wasm-crypto and the OPAQUE client side by side, each module checked against
 * the SHA-256 compiled into this bundle (applet/linked.ts; never the manifest). `origin`
 * is the page's origin: a worker started from a blob URL has no base URL of its own.
 */
async function _init(origin: string): Promise<{ wasmSha256: string }> {
  const { wasm } = _linked();
  const [started] = await Promise.all([
    _initWasmCrypto(origin, wasm),
    _checkedWasm(origin, wasm.opaque).then((bytes) => {
      provideOpaqueWasm(bytes);
      return opaque.ready;
    }),
  ]);
  return started;
}

/**
 * wasm-crypto from the build that fits the engine: the relaxed build where the engine
 * has relaxed SIMD and fuses its multiply-add (initWasmCrypto refuses it otherwise), the
 * baseline build everywhere else.
 */
async function _initWasmCrypto(
  origin: string,
  wasm: Linked["wasm"],
): Promise<{ wasmSha256: string }> {
  if (relaxedSimdSupported()) {
    const bytes = await _checkedWasm(origin, wasm.relaxed);
    try {
      await initWasmCrypto(bytes);
      return { wasmSha256: wasm.relaxed.sha256 };
    } catch (e) {
      if (!(e instanceof WasmCryptoError && e.code === "init_failed")) throw e;
    }
  }
  const bytes = await _checkedWasm(origin, wasm.baseline);
  await initWasmCrypto(bytes);
  return { wasmSha256: wasm.baseline.sha256 };
}

function _linked(): Linked {
  try {
    return linked();
  } catch {
    throw new _AppletError(
      "applet_tampered",
      "The applet was built without its trust anchors; it will not start.",
    );
  }
}

/** The wasm file, fetched and checked against the SHA-256 linked into this worker. */
async function _checkedWasm(origin: string, file: LinkedWasm): Promise<Uint8Array> {
  const wasmRes = await fetch(new URL(file.path, origin));
  if (!wasmRes.ok) {
    throw new _AppletError("applet_unavailable", "The crypto module is unavailable.");
  }
  const bytes = new Uint8Array(await wasmRes.arrayBuffer());
  const actual = toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
  if (actual !== file.sha256) {
    throw new _AppletError(
      "applet_tampered",
      "The crypto module does not match the applet's build; the applet will not start.",
    );
  }
  return bytes;
}

/**
 * The session of the commands. The worker opens it as soon as it is ready, while the
 * person is still reading or typing, so that the first command does not wait for the
 * channel's set-up (two round trips and a key exchange). A session opened ahead and then
 * left alone while signed out for {@link _FRESH_MS} is replaced before use: the server
 * drops idle sessions (10 minutes), and a sign-in must not fail on one it forgot.
 */
async function _session(): Promise<Session> {
  if (opening) await opening.catch(() => undefined);
  if (session && !session.closed) {
    if (user || Date.now() - sessionUsedAt < _FRESH_MS) {
      sessionUsedAt = Date.now();
      onAhead ||= aheadUnused;
      aheadUnused = false;
      return session;
    }
    void session.close();
    session = null;
  }
  if (user) {
    // The server forgot the signed-in session: signing in again is the only way on.
    _wipe();
    throw new _AppletError("session_ended", _SESSION_ENDED);
  }
  opening ??= Session.open({
    baseUrl: origin,
    crypto: wasmSessionCrypto,
    anchors: _linked().anchors,
  }).finally(() => {
    opening = null;
  });
  session = await opening;
  sessionUsedAt = Date.now();
  return session;
}

function _wipe(): void {
  forget(user);
  user = null;
  addingPasskey = null;
  passkeySignIn = null;
  const s = session;
  session = null;
  void s?.close();
  zeroizeMemory();
}

/** Only the three fields of a `signDocument` command, whatever else the message holds. */
function _documentRequest(req: Extract<Request, { type: "signDocument" }>): DocumentSignRequest {
  return {
    signedAttributes: req.signedAttributes,
    alg: req.alg === "pss" ? "pss" : "pkcs1",
    timestamp: req.timestamp === true,
  };
}

async function _handle(req: Request): Promise<unknown> {
  if (req.type === "init") {
    origin = new URL(req.origin ?? self.location.origin).origin;
    ready = _init(origin);
    // The channel's set-up while the person reads or types (a failure here is retried by
    // the first command that needs the session, which reports it).
    void ready.then(async () => {
      if (session || opening) return;
      await _session();
      aheadUnused = true;
    }).catch(() => undefined);
    return await ready;
  }
  if (req.type === "wipe") {
    _wipe();
    return { wiped: true };
  }
  if (!ready) throw new _AppletError("not_ready", "The applet is not initialised.");
  await ready;
  if (req.type.startsWith("passkey")) return await _passkey(req as _PasskeyRequest);
  const open = await _handleOpen(req);
  if (open !== _NOT_OPEN) return open;
  if (!user) throw new _AppletError("not_signed_in", "Sign in first.");
  return await _handleSignedIn(req, user);
}

const _NOT_OPEN = Symbol("needs a signed-in user");

/** Commands that need no signed-in user. */
async function _handleOpen(req: Request): Promise<unknown> {
  switch (req.type) {
    case "apply":
      return await applyToRegister(await _session(), {
        registration: req.registration,
        passphrase: req.passphrase,
        bits: req.bits,
        onProgress: (p) => self.postMessage({ id: req.id, progress: p } satisfies Reply),
      });
    case "consent":
      return await giveConsent(await _session(), {
        registration: req.registration,
        phrase: req.phrase,
      });
    case "signIn": {
      forget(user);
      user = null;
      // Only these two fields: a `ksfFloor` (the test-only way below KSF_FLOOR that load
      // generators use) must not reach signIn from a message, whatever the message holds.
      user = await signIn(await _session(), { identity: req.identity, passphrase: req.passphrase });
      return {
        identity: user.identity,
        registration: user.registration,
        certificate: user.certificate,
      };
    }
    case "hostInfo": {
      // Signed out too: the bank's name, currency and pinned key are public.
      const host = await checkHostKeys(await fetchHostKeys(origin), _linked().anchors);
      return { name: host.name, currency: host.currency, fingerprint: host.fingerprint };
    }
    default:
      return _NOT_OPEN;
  }
}

/** Commands of a signed-in user. */
async function _handleSignedIn(req: Request, signedIn: SignedIn): Promise<unknown> {
  switch (req.type) {
    case "sign":
      return await signAndSubmit(await _session(), signedIn, req.message);
    case "signDocument":
      return await signDocumentAttributes(await _session(), signedIn, _documentRequest(req));
    case "update": {
      const r = await updateRegistration(
        await _session(),
        signedIn,
        req.registration,
        req.currentPassphrase,
      );
      // `pending`: takes effect at the vault at the next pass-phrase sign-in (docs/lifecycle.md).
      return { status: r.status, pending: r.pending === true, registration: signedIn.registration };
    }
    case "reregister": {
      const r = await reregister(await _session(), signedIn, {
        passphrase: req.passphrase,
        currentPassphrase: req.currentPassphrase,
        bits: req.bits,
        onProgress: (p) => self.postMessage({ id: req.id, progress: p } satisfies Reply),
      });
      const { serial, superseded, certificate, passkeysRewrapped } = r;
      return { serial, superseded, certificate, passkeysRewrapped };
    }
    case "revoke": {
      const r = await revokeKey(await _session(), signedIn, req.currentPassphrase);
      user = null; // revokeKey destroyed the key
      return r;
    }
    case "sendToHost": {
      const host = await checkHostKeys(await fetchHostKeys(origin), _linked().anchors);
      return await sendToHost(await _session(), signedIn, host, req.debit);
    }
  }
}

type _PasskeyRequest = Extract<Request, { type: `passkey${string}` }>;

/** The passkey commands: sign-in (signed out) and the account's (signed in). */
function _passkey(req: _PasskeyRequest): Promise<unknown> {
  return req.type === "passkeySignInStart" || req.type === "passkeySignInFinish"
    ? _passkeySignIn(req)
    : _passkeyAccount(req);
}

/** A passkey sign-in, before and after the page's ceremony (docs/passkeys.md). */
async function _passkeySignIn(
  req: Extract<Request, { type: "passkeySignInStart" | "passkeySignInFinish" }>,
): Promise<unknown> {
  if (req.type === "passkeySignInStart") {
    forget(user);
    user = null;
    passkeySignIn = await startPasskeySignIn(await _session(), req.identity);
    return passkeySignIn;
  }
  const pending = passkeySignIn;
  passkeySignIn = null;
  if (!pending) throw new _AppletError("not_ready", "Start the passkey sign-in again.");
  user = await finishPasskeySignIn(await _session(), pending, {
    response: req.response,
    prf: req.prf,
  });
  return {
    identity: user.identity,
    registration: user.registration,
    certificate: user.certificate,
  };
}

/** The signed-in user's passkey commands (docs/passkeys.md). */
type _PasskeyAccountRequest = Extract<
  Request,
  { type: "passkeyAddStart" | "passkeyAddFinish" | "passkeyList" | "passkeyRemove" }
>;

async function _passkeyAccount(req: _PasskeyAccountRequest): Promise<unknown> {
  if (!user) throw new _AppletError("not_signed_in", "Sign in first.");
  const s = await _session();
  switch (req.type) {
    case "passkeyAddStart": {
      addingPasskey = null;
      const r = await startAddPasskey(s, user, req.currentPassphrase);
      addingPasskey = { challengeId: r.creation.challengeId, reauthLoginId: r.reauthLoginId };
      return r.creation;
    }
    case "passkeyAddFinish": {
      const pending = addingPasskey;
      addingPasskey = null;
      if (!pending) throw new _AppletError("not_ready", "Start adding the passkey again.");
      return await finishAddPasskey(s, user, pending, {
        response: req.response,
        prf: req.prf,
        name: req.name,
      });
    }
    case "passkeyList":
      return { passkeys: await listPasskeys(s, user) };
    case "passkeyRemove":
      return await removePasskey(s, user, req.credentialId, req.currentPassphrase);
  }
}

/**
 * The parts of a server's error details the page may show: the consent attempts left
 * and which registration fields differ. Nothing else crosses to the page.
 */
function _shownDetails(d: unknown): { attemptsLeft?: number; fields?: string[] } | undefined {
  if (typeof d !== "object" || d === null) return undefined;
  const { attemptsLeft, fields } = d as { attemptsLeft?: unknown; fields?: unknown };
  const out: { attemptsLeft?: number; fields?: string[] } = {};
  if (typeof attemptsLeft === "number" && Number.isSafeInteger(attemptsLeft)) {
    out.attemptsLeft = attemptsLeft;
  }
  if (Array.isArray(fields) && fields.every((f) => typeof f === "string")) {
    out.fields = fields.slice(0, 4);
  }
  return Object.keys(out).length ? out : undefined;
}

self.onmessage = async (event: MessageEvent<Request>) => {
  const req = event.data;
  try {
    const result = await _sessionGuard(req, _handle);
    self.postMessage({ id: req.id, ok: true, result } satisfies Reply);
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown; name?: unknown };
    const code = typeof e?.code === "string" ? e.code : "applet_error";
    const message = typeof e?.message === "string" && typeof e.code === "string"
      ? e.message
      : "Something went wrong in the applet.";
    const retryAfterMs = typeof (e as { retryAfterMs?: unknown })?.retryAfterMs === "number"
      ? (e as { retryAfterMs: number }).retryAfterMs
      : undefined;
    const retryable = (e as { retryable?: unknown })?.retryable === true;
    const details = _shownDetails((e as { details?: unknown })?.details);
    self.postMessage(
      {
        id: req.id,
        ok: false,
        error: { code, message, retryAfterMs, retryable, details },
      } satisfies Reply,
    );
  } finally {
    if ("passphrase" in req) req.passphrase.fill(0);
    if ("currentPassphrase" in req) req.currentPassphrase.fill(0);
    if ("prf" in req) req.prf.fill(0);
  }
};
