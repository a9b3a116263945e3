/**
 * Client half of the session bootstrap and the KS(m,a) channel
 * (DESIGN.md §2.2, docs/session-channel.md): fetch the offer, check that the
 * confidentiality certificate chains to the CA pinned in the applet's anchors
 * (docs/trust-anchors.md), draw KS, send it wrapped under PUB(c,s), then carry every
 * request sealed with a sequence number that moves only on proof that the server used the
 * previous one up, so a refused request never breaks the session (docs/session-channel.md
 * "Sequence numbers after a refusal"). Runs in the applet's worker and in Deno.
 *
 * @module
 */
import { b64uEncode } from "../../protocol/mod.ts";
import { ERROR_MESSAGES, isErrorCode } from "../../protocol/mod.ts";
import { fromUtf8, utf8, utf8Length, wipe } from "../../protocol/mod.ts";
import {
  bindingOf,
  type ChannelBinding,
  type ChannelKeys,
  deriveChannelKeys,
  drawKs,
  ksLabel,
  open,
  openRefusal,
  requestNonce,
  RPC_BODY_MAX_BYTES,
  seal,
  type Sealed,
  type SessionOffer,
} from "../../protocol/mod.ts";
import { b64uDecode } from "../../protocol/mod.ts";
import {
  certificateDetails,
  KEY_USAGE,
  OID_SHA256_WITH_RSA,
  parseCertificate,
  pemDecode,
} from "../../protocol/mod.ts";
import type { Anchors } from "../../protocol/mod.ts";
import { sha256 } from "../../protocol/mod.ts";

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
  /** The deployment's trust anchors: the applet's are compiled into its worker. */
  anchors: Anchors;
  fetch?: typeof fetch;
  /** The clock for the certificate's validity (tests). */
  now?: () => number;
}

/** The subject CN the CA gives the web server's confidentiality certificate. */
export const CONFIDENTIALITY_SUBJECT = "roamsign confidentiality";

const _TOO_LARGE = "The request is larger than 256 KiB, so it was not sent.";

/** The alert a user sees when the server's certificates do not check out. */
export const UNTRUSTED_SERVER_MESSAGE =
  "This server's identity could not be verified; nothing was sent.";

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
  /** The anchors this session was opened with; the flows check the vault's answers with them. */
  readonly anchors: Anchors;
  readonly #keys: ChannelKeys;
  readonly #base: string;
  readonly #fetch: typeof fetch;
  /** The last sequence number the server is known to have used up (0: none). */
  #seq = 0;
  /**
   * `#seq + 1` when it was sent without proof of its fate (no answer, or a refusal without
   * `ack`): the server may have used it up; else 0.
   */
  #maybeUsed = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(
    offer: SessionOffer,
    binding: ChannelBinding,
    anchors: Anchors,
    keys: ChannelKeys,
    base: string,
    f: typeof fetch,
  ) {
    this.offer = offer;
    this.binding = binding;
    this.anchors = anchors;
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
    const confSpki = await _checkCertificates(
      offer,
      options.crypto,
      options.anchors,
      (options.now ?? Date.now)(),
    );
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
    return new Session(offer, binding, options.anchors, keys, base, f);
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
    // `#seq` moves only on proof that the server used the number up (a sealed answer or
    // a refusal's `ack`): docs/session-channel.md "Sequence numbers after a refusal".
    const seq = this.#seq + 1;
    const resolved = typeof args === "function"
      ? await args(await requestNonce(this.binding, seq))
      : args;
    const plaintext = utf8(JSON.stringify({ op, ts: Date.now(), args: resolved }));
    const sealed = await seal(this.#keys.c2s, "c2s", this.binding, seq, plaintext);
    wipe(plaintext);
    const envelope = JSON.stringify({ sid: this.offer.sid, ...sealed });
    if (utf8Length(envelope) > RPC_BODY_MAX_BYTES) {
      throw new RpcError("body_too_large", _TOO_LARGE, 0); // nothing sent, `seq` still free
    }
    // Until proven used: if the server did see it (an answer lost or stripped), the next
    // request, sent with the same number, hears `replayed_request` and goes again.
    const sentBefore = this.#maybeUsed === seq;
    this.#maybeUsed = seq;
    let res: Response;
    try {
      res = await this.#fetch(`${this.#base}/api/rpc`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: envelope,
        cache: "no-store",
      });
    } catch {
      throw _unreachable();
    }
    const body = await _json(res);
    if (!res.ok) return await this.#refused<T>(op, args, seq, sentBefore, body, res.status);
    const answer = body as Sealed;
    if (answer?.seq !== seq) throw new RpcError("bad_response", "answer for another request", 0);
    const bytes = await open(this.#keys.s2c, "s2c", this.binding, answer);
    this.#used(seq);
    try {
      return JSON.parse(fromUtf8(bytes)) as T;
    } finally {
      wipe(bytes);
    }
  }

  /** The server answered request `seq` with an error: keep the counter in step, then throw. */
  async #refused<T>(
    op: string,
    args: Parameters<Session["call"]>[1],
    seq: number,
    sentBefore: boolean,
    body: unknown,
    status: number,
  ): Promise<T> {
    const e = (body as { error?: { code?: unknown; ack?: unknown } } | null)?.error;
    const proven = await openRefusal(this.#keys.s2c, this.binding, seq, e?.ack);
    if (proven !== null) {
      // Opened and refused: the number is used up; the sealed code is the one to trust.
      this.#used(seq);
      const message = isErrorCode(proven) ? ERROR_MESSAGES[proven] : `HTTP ${status}`;
      _raise(proven === e?.code ? body : { error: { code: proven, message } }, status);
    }
    if (e?.code === "replayed_request" && sentBefore) {
      // An earlier request with this number did reach the server: it is gone; this request
      // was not opened, so it goes again with the next number.
      this.#used(seq);
      return await this.#send<T>(op, args);
    }
    if (e?.code === "unknown_session" || e?.code === "session_expired") this.#closed = true;
    // Refused before it was opened (too large, malformed, out of turn): `seq` is still free,
    // and stays in `#maybeUsed` in case an `ack` was stripped on the way.
    _raise(body, status);
  }

  /** The server used up `seq`: the next request takes `seq + 1`. */
  #used(seq: number): void {
    this.#seq = seq;
    this.#maybeUsed = 0;
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
 * The integrity certificate must be the pinned CA (SHA-256 of its SPKI equals the
 * anchor), and the confidentiality certificate must be signed by it
 * (sha256WithRSAEncryption), be within its validity period, carry keyEncipherment and
 * name {@link CONFIDENTIALITY_SUBJECT}. Anything else is `untrusted_server`, before
 * anything is sent. Returns PUB(c,s) as SPKI DER.
 */
async function _checkCertificates(
  offer: SessionOffer,
  c: SessionCrypto,
  anchors: Anchors,
  now: number,
): Promise<Uint8Array> {
  const refuse = (why: string): never => {
    const err = new RpcError("untrusted_server", UNTRUSTED_SERVER_MESSAGE, 0);
    (err as RpcError & { reason: string }).reason = why; // for tests and logs, not for users
    throw err;
  };
  let integrity, conf, details;
  try {
    integrity = parseCertificate(pemDecode(offer.integrityCert));
    const confDer = pemDecode(offer.confidentialityCert);
    conf = parseCertificate(confDer);
    details = certificateDetails(confDer);
  } catch {
    return refuse("malformed certificate");
  }
  const caHash = b64uDecode(anchors.caSpkiSha256);
  const got = await sha256(integrity.spki);
  let diff = caHash.length ^ got.length;
  for (let i = 0; i < got.length; i++) diff |= got[i] ^ (caHash[i] ?? 0);
  if (diff !== 0) refuse("not the pinned CA");
  if (conf.signatureAlgorithm !== OID_SHA256_WITH_RSA) refuse("unexpected algorithm");
  if (!await c.verifyPkcs1v15(integrity.spki, conf.tbs, conf.signature)) {
    refuse("not signed by the pinned CA");
  }
  if (now < details.notBefore.getTime() || now > details.notAfter.getTime()) {
    refuse("outside its validity period");
  }
  if (details.keyUsage === null || !(details.keyUsage & KEY_USAGE.keyEncipherment)) {
    refuse("no keyEncipherment");
  }
  if (details.subjectCn !== CONFIDENTIALITY_SUBJECT) refuse("unexpected subject");
  return conf.spki;
}
