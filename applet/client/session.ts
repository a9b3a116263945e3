/**
 * Client half of the session bootstrap and the KS(m,a) channel
 * (DESIGN.md §2.2, docs/session-channel.md): fetch the offer, check that the
 * confidentiality certificate chains to the CA pinned in the applet's anchors
 * (docs/trust-anchors.md), draw KS, send it wrapped under PUB(c,s), then carry every request sealed with a strictly
 * increasing sequence number. Runs in the applet's worker and in Deno.
 *
 * @module
 */
import { b64uEncode } from "../../protocol/mod.ts";
import { fromUtf8, utf8, wipe } from "../../protocol/mod.ts";
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
  #seq = 0;
  /** A sequence number sent without an answer: the server may or may not have seen it. */
  #unanswered = 0;
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
