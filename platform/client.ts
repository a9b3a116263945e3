/**
 * The client of the internal RPC (docs/architecture.md): signs `POST /v1/<op>` with an
 * HMAC key and returns the parsed JSON answer, or throws {@link ApiError} with the
 * upstream status and code. Used by the web server (key id `web`), the admin CLI
 * (`admin`), the proxy towards the vault (`proxy`), tests and benchmarks.
 *
 * @module
 */
import { b64uDecode } from "../protocol/mod.ts";
import { ApiError } from "./errors.ts";
import { type HmacKey, importHmacKey, signRequest } from "./hmac.ts";
import type { OpBody, OpName } from "./ops.ts";
import { postUpstream } from "./upstream.ts";

/** What {@link createProxyClient} needs. `secret`: raw key bytes or their base64url text. */
export interface ProxyClientOptions {
  url: string;
  keyId: string;
  secret: Uint8Array | string;
  /** Per-request timeout in milliseconds (default 10 000). */
  timeoutMs?: number;
}

/** Per-call options. */
export interface CallOptions {
  /** The end user's address as the caller saw it (signed; empty for operators). */
  clientAddress?: string;
  /** Override the timestamp / nonce (tests of stale and replayed requests only). */
  ts?: number;
  nonce?: string;
}

/** A signed RPC client. */
export interface ProxyClient {
  call<N extends OpName>(op: N, body: OpBody<N>, options?: CallOptions): Promise<unknown>;
  call(op: string, body: unknown, options?: CallOptions): Promise<unknown>;
}

const _encoder = new TextEncoder();

/** Creates a client; the key is imported once (its HMAC pad states, {@link HmacKey}). */
export function createProxyClient(options: ProxyClientOptions): ProxyClient {
  const base = options.url.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 10_000;
  const raw = typeof options.secret === "string"
    ? b64uDecode(options.secret.trim())
    : options.secret.slice();
  const keyPromise: Promise<HmacKey> = importHmacKey(raw).finally(() => raw.fill(0));

  async function call(op: string, body: unknown, callOptions: CallOptions = {}) {
    const path = `/v1/${op}`;
    const bytes = _encoder.encode(JSON.stringify(body ?? {}));
    const headers = await signRequest({
      key: await keyPromise,
      keyId: options.keyId,
      method: "POST",
      path,
      body: bytes,
      client: callOptions.clientAddress ?? "",
      ts: callOptions.ts,
      nonce: callOptions.nonce,
    });
    return await postUpstream(
      base + path,
      headers,
      bytes,
      timeoutMs,
      readResponse,
      (timedOut) =>
        new ApiError(
          timedOut ? 504 : 503,
          timedOut ? "upstream_timeout" : "upstream_unavailable",
          timedOut ? `no answer from ${base} in time` : `cannot reach ${base}`,
          { retryable: true },
        ),
    );
  }

  return { call } as ProxyClient;
}

/** Parses an RPC response: the JSON body on 2xx, else throws ApiError with the body's code. */
export async function readResponse(res: Response): Promise<unknown> {
  const text = await res.text();
  let json: unknown;
  try {
    json = text.length ? JSON.parse(text) : null;
  } catch {
    json = undefined;
  }
  if (res.ok) {
    if (json === undefined) throw new ApiError(502, "bad_upstream_response", "answer is not JSON");
    return json;
  }
  const error = (json as { error?: Record<string, unknown> } | undefined)?.error;
  if (error && typeof error.code === "string") {
    const { code, message, ...details } = error;
    throw new ApiError(
      res.status as 400,
      code,
      typeof message === "string" ? message : code,
      Object.keys(details).length ? details : undefined,
    );
  }
  throw new ApiError(
    res.status >= 500 ? 502 : res.status as 400,
    "bad_upstream_response",
    `HTTP ${res.status}`,
  );
}
