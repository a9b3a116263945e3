/**
 * Client half of the session bootstrap and the KS(m,a) channel
 * (DESIGN.md §2.2, docs/session-channel.md): fetch the offer, check the
 * confidentiality certificate against the integrity certificate, draw KS, send
 * it wrapped under PUB(c,s), then carry every request sealed with a strictly
 * increasing sequence number. Runs in the applet's worker and in Deno.
 *
 * @module
 */
import { b64uEncode } from "./base64url.ts";
import { fromUtf8, utf8, wipe } from "./bytes.ts";
import {
  bindingOf,
  type ChannelBinding,
  type ChannelKeys,
  deriveChannelKeys,
  drawKs,
  ksLabel,
  open,
  requestNonce,
  seal,
  type Sealed,
  type SessionOffer,
} from "./channel.ts";
import { b64uDecode } from "./base64url.ts";
import { OID_SHA256_WITH_RSA, parseCertificate, pemDecode } from "./der.ts";

/** The RSA operations the session needs; the applet passes wasm-crypto's. */
export interface SessionCrypto {
  /** RSA-OAEP-SHA256 encryption of `plaintext` under the SPKI key, with `label`. */
  encryptOaep(
    spki: Uint8Array,
    plaintext: Uint8Array,
    label: Uint8Array,
  ): Uint8Array | Promise<Uint8Array>;
  /** RSASSA-PKCS1-v1_5 SHA-256 verification under the SPKI key. */
  verifyPkcs1v15(
    spki: Uint8Array,
    message: Uint8Array,
    signature: Uint8Array,
  ): boolean | Promise<boolean>;
}

/** An error the server (or the channel) answered with: stable `code`, HTTP `status`. */
export class RpcError extends Error {
  readonly code: string;
  readonly status: number;
  /** How long to wait before retrying, when the server said (429 `rate_limited` / `backoff`). */
  readonly retryAfterMs?: number;
  /**
   * True for a transient failure (503/504, `retryable: true` in the body, or no
   * answer at all): the same request may be sent again (docs/faults.md).
   */
  readonly retryable: boolean;
  /** The rest of the error body (e.g. `pow_required`'s `{ challenge, bits }`). */
  details?: Record<string, unknown>;
  constructor(
    code: string,
    message: string,
    status: number,
    retryAfterMs?: number,
    retryable = false,
  ) {
    super(message);
    this.name = "RpcError";
    this.code = code;
    this.status = status;
    this.retryAfterMs = retryAfterMs;
    this.retryable = retryable;
  }
}

/** Options of {@link Session.open}. */
export interface SessionOptions {
  /** Origin of the web server, e.g. `http://localhost:8000`; empty for same origin. */
  baseUrl?: string;
  crypto: SessionCrypto;
  fetch?: typeof fetch;
}

async function _json(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new RpcError("bad_response", `server answered ${res.status} without JSON`, res.status);
  }
}

function _raise(body: unknown, status: number): never {
  const e = (body as {
    error?: { code?: unknown; message?: unknown; retryAfterMs?: unknown; retryable?: unknown };
  } | null)
    ?.error;
  const code = typeof e?.code === "string" ? e.code : "http_error";
  const message = typeof e?.message === "string" ? e.message : `HTTP ${status}`;
  const retry = typeof e?.retryAfterMs === "number" && e.retryAfterMs > 0
    ? e.retryAfterMs
    : undefined;
  const retryable = e?.retryable === true || status === 503 || status === 504;
  const err = new RpcError(code, message, status, retry, retryable);
  err.details = e as Record<string, unknown> | undefined;
  throw err;
}

/** The request never got an answer (server down, connection cut). */
function _unreachable(): RpcError {
  return new RpcError(
    "server_unreachable",
    "The server cannot be reached right now; try again.",
    0,
    undefined,
    true,
  );
}

/** An open KS(m,a) channel to the web server. */
export class Session {
  readonly offer: SessionOffer;
  readonly binding: ChannelBinding;
  readonly #keys: ChannelKeys;
  readonly #base: string;
  readonly #fetch: typeof fetch;
  #seq = 0;
  /** A sequence number sent without an answer: the server may or may not have seen it. */
  #unanswered = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(
    offer: SessionOffer,
    binding: ChannelBinding,
    keys: ChannelKeys,
    base: string,
    f: typeof fetch,
  ) {
    this.offer = offer;
    this.binding = binding;
    this.#keys = keys;
    this.#base = base;
    this.#fetch = f;
  }

  /**
   * Bootstraps a session: `GET /api/session`, certificate check, KS drawn and
   * sent under PUB(c,s). KS itself is wiped before this returns; only the
   * non-extractable direction keys remain.
   */
  static async open(options: SessionOptions): Promise<Session> {
    const base = options.baseUrl ?? "";
    const f = options.fetch ?? fetch.bind(globalThis);
    const res = await f(`${base}/api/session`, { cache: "no-store" }).catch(() => {
      throw _unreachable();
    });
    const body = await _json(res);
    if (!res.ok) _raise(body, res.status);
    const offer = _checkOffer(body);
    const binding = bindingOf(offer);
    const confSpki = await _checkCertificates(offer, options.crypto);
    const ks = await drawKs(b64uDecode(offer.seed), binding);
    let keys: ChannelKeys;
    let wrapped: Uint8Array;
    try {
      wrapped = await options.crypto.encryptOaep(confSpki, ks, ksLabel(offer.sid));
      keys = await deriveChannelKeys(ks, binding);
    } finally {
      wipe(ks);
    }
    const keyRes = await f(`${base}/api/session/key`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sid: offer.sid, key: b64uEncode(wrapped) }),
      cache: "no-store",
    }).catch(() => {
      throw _unreachable();
    });
    const keyBody = await _json(keyRes);
    if (!keyRes.ok) _raise(keyBody, keyRes.status);
    return new Session(offer, binding, keys, base, f);
  }

  /** True once {@link close} ran or the server forgot the session. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends one sealed request and opens the sealed answer. `args` may be a
   * function of the request nonce (for signed requests, which must sign the
   * nonce bound to their own sequence number). Calls are serialised.
   */
  call<T = Record<string, unknown>>(
    op: string,
    args: Record<string, unknown> | ((nonce: string) => Promise<Record<string, unknown>>),
  ): Promise<T> {
    const run = this.#queue.then(() => this.#send<T>(op, args));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #send<T>(
    op: string,
    args: Record<string, unknown> | ((nonce: string) => Promise<Record<string, unknown>>),
  ): Promise<T> {
    if (this.#closed) throw new RpcError("session_closed", "session is closed", 0);
    const seq = ++this.#seq;
    const resolved = typeof args === "function"
      ? await args(await requestNonce(this.binding, seq))
      : args;
    const plaintext = utf8(JSON.stringify({ op, ts: Date.now(), args: resolved }));
    const sealed = await seal(this.#keys.c2s, "c2s", this.binding, seq, plaintext);
    wipe(plaintext);
    let res: Response;
    try {
      res = await this.#fetch(`${this.#base}/api/rpc`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sid: this.offer.sid, ...sealed }),
        cache: "no-store",
      });
    } catch {
      // No answer: the next request reuses this sequence number, since the server
      // refuses a skipped one (`out_of_order`); if it did see this one, it says
      // `replayed_request`, and the request goes again with the next number.
      this.#seq = seq - 1;
      this.#unanswered = seq;
      throw _unreachable();
    }
    const body = await _json(res);
    if (!res.ok) {
      const code = (body as { error?: { code?: string } })?.error?.code;
      if (code === "replayed_request" && this.#unanswered === seq) {
        this.#unanswered = 0;
        return await this.#send<T>(op, args);
      }
      if (code === "unknown_session" || code === "session_expired") this.#closed = true;
      _raise(body, res.status);
    }
    this.#unanswered = 0;
    const answer = body as Sealed;
    if (answer?.seq !== seq) throw new RpcError("bad_response", "answer for another request", 0);
    const bytes = await open(this.#keys.s2c, "s2c", this.binding, answer);
    try {
      return JSON.parse(fromUtf8(bytes)) as T;
    } finally {
      wipe(bytes);
    }
  }

  /** Tells the server to forget the session (best effort) and refuses further calls. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.call("session.close", {});
    } catch {
      // the server may already have dropped it; nothing else to do
    }
    this.#closed = true;
  }
}

function _checkOffer(body: unknown): SessionOffer {
  const o = body as Record<string, unknown> | null;
  if (
    typeof o !== "object" || o === null || typeof o.sid !== "string" ||
    typeof o.nonce !== "string" || typeof o.time !== "number" || typeof o.seed !== "string" ||
    typeof o.integrityCert !== "string" || typeof o.confidentialityCert !== "string"
  ) {
    throw new RpcError("bad_response", "session offer is malformed", 0);
  }
  return o as unknown as SessionOffer;
}

/**
 * The confidentiality certificate must be signed (sha256WithRSAEncryption) by
 * the integrity certificate's key; returns PUB(c,s) as SPKI DER.
 */
async function _checkCertificates(offer: SessionOffer, c: SessionCrypto): Promise<Uint8Array> {
  const integrity = parseCertificate(pemDecode(offer.integrityCert));
  const conf = parseCertificate(pemDecode(offer.confidentialityCert));
  if (conf.signatureAlgorithm !== OID_SHA256_WITH_RSA) {
    throw new RpcError("bad_certificate", "confidentiality certificate: unexpected algorithm", 0);
  }
  if (!await c.verifyPkcs1v15(integrity.spki, conf.tbs, conf.signature)) {
    throw new RpcError(
      "bad_certificate",
      "confidentiality certificate is not signed by the integrity key",
      0,
    );
  }
  return conf.spki;
}
