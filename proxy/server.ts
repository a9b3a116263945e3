/**
 * The fire-wall (the patent's 137): the only path from the web server and the admin
 * CLI to the vault. For `POST /v1/<op>` it checks, in order, and refuses with a stable
 * code (docs/errors.md):
 *
 *   auth headers present and well formed (401 `unsigned`, `bad_auth_header`), timestamp
 *   within ±30 s (401 `stale_request`), known caller key (401 `unknown_key`), operation
 *   on the allow-list (404 `op_not_allowed`) and open to this caller (403
 *   `op_forbidden`), JSON content type (415), body within the operation's limit (413
 *   `body_too_large`), HMAC (401 `bad_signature`), JSON (400 `bad_json`), schema (400
 *   `invalid_request`, or the precheck's code).
 *
 * It then re-signs the same body with its own key, forwarding the caller's timestamp,
 * nonce and client address, and the vault applies the shared guard state (single-use
 * nonce: 401 `replayed_nonce`; rate limits: 429 `rate_limited` / `backoff`) in the same
 * round trip (docs/rate-limits.md). Vault down: 503 `vault_unavailable`. One JSON log
 * line per decision, without secrets; identities as tags.
 *
 * @module
 */
import { type Context, Hono } from "hono";
import { readBody } from "../platform/mod.ts";
import { ApiError, notFound, onError } from "../platform/mod.ts";
import {
  type AuthHeaders,
  type HmacKey,
  readAuthHeaders,
  sha256HexSync,
  signRequest,
  verifySignature,
} from "../platform/mod.ts";
import { identityTagSync, log } from "../platform/mod.ts";
import {
  httpCheck,
  httpMetrics,
  mountMetrics,
  mountReadiness,
  proxyDecisions,
} from "../platform/mod.ts";
import {
  type Caller,
  MAX_BODY,
  type OpSpec,
  opSpec,
  parseJsonBytes,
  parseOpBody,
  PROXY_KEY_ID,
} from "../platform/mod.ts";
import { postUpstream } from "../platform/mod.ts";

/** What the proxy needs. */
export interface ProxyOptions {
  vaultUrl: string;
  /** Caller keys by key id (`web`, `admin`). */
  callerKeys: Partial<Record<Caller, HmacKey>>;
  /** The proxy's key towards the vault. */
  vaultKey: HmacKey;
  /** Upstream timeout (default 10 s). */
  timeoutMs?: number;
}

/** One decision of the proxy, as it is logged and counted. */
interface Decision {
  op: string;
  started: number;
  caller?: string;
  identity?: string;
  status: number;
  code?: string;
  /** Who refused: the proxy itself, or the vault behind it. */
  where: "proxy" | "vault";
}

/** What the proxy checked before reading the body: the caller's key and the operation. */
interface Admitted {
  auth: AuthHeaders;
  key: HmacKey;
  spec: OpSpec;
}

/** Builds the proxy's hono app. */
export function createProxyApp(options: ProxyOptions): Hono {
  const vaultUrl = options.vaultUrl.replace(/\/+$/, "");
  const app = new Hono();
  app.onError(onError);
  app.notFound(notFound);

  app.get("/healthz", (c) => c.json({ ok: true, service: "proxy" }));
  // Operator view (docs/operations.md): counts by allow-listed op and code, no identities.
  app.use("*", httpMetrics());
  mountMetrics(app);
  mountReadiness(app, { vault: httpCheck(`${vaultUrl}/readyz`) });

  app.all("/v1/:op", _proxyRequestHandler({ ...options, vaultUrl }));
  return app;
}

/** The handler of `/v1/<op>`: admit, read and verify, forward; one decision logged. */
function _proxyRequestHandler(options: ProxyOptions) {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return async function proxyRequest(c: Context): Promise<Response> {
    const op = c.req.param("op") ?? "";
    const path = `/v1/${op}`;
    const d: Decision = { op, started: performance.now(), status: 500, where: "proxy" };
    try {
      const admitted = await _admit(c, options, op, d);
      const { bytes, bodyHash } = await _readVerified(c, admitted, path, d);
      d.where = "vault";
      const { upstream, text } = await _forward(
        options,
        timeoutMs,
        path,
        admitted,
        bytes,
        bodyHash,
      );
      d.status = upstream.status;
      if (d.status >= 400) d.code = _errorCodeOf(text);
      return new Response(text, {
        status: d.status,
        headers: {
          "content-type": upstream.headers.get("content-type") ?? "application/json",
          "cache-control": "no-store",
        },
      });
    } catch (err) {
      if (err instanceof ApiError) {
        d.status = err.status;
        d.code = err.code;
      }
      throw err;
    } finally {
      _recordDecision(d);
    }
  };
}

/**
 * The checks before the body: POST, auth headers (401 `unsigned`, `bad_auth_header`,
 * `stale_request`), a known caller key, the operation on the allow-list and open to this
 * caller, a JSON content type.
 */
async function _admit(
  c: Context,
  options: ProxyOptions,
  op: string,
  d: Decision,
): Promise<Admitted> {
  if (c.req.method !== "POST") throw new ApiError(405, "method_not_allowed", "use POST");
  const auth = readAuthHeaders(c.req.raw.headers);
  d.caller = auth.keyId;
  const key = Object.hasOwn(options.callerKeys, auth.keyId)
    ? options.callerKeys[auth.keyId as Caller]
    : undefined;
  if (!key) throw new ApiError(401, "unknown_key", "unknown caller key");
  const spec = opSpec(op);
  if (!spec) {
    await c.req.raw.body?.cancel().catch(() => {});
    throw new ApiError(404, "op_not_allowed", "operation is not on the allow-list");
  }
  if (!spec.callers.includes(auth.keyId as Caller)) {
    throw new ApiError(403, "op_forbidden", "operation not allowed for this caller");
  }
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json(\s*;|$)/i.test(type)) {
    throw new ApiError(415, "unsupported_media_type", "send application/json");
  }
  return { auth, key, spec };
}

/** The body within the operation's limit, its HMAC, its JSON and its schema. */
async function _readVerified(
  c: Context,
  { auth, key, spec }: Admitted,
  path: string,
  d: Decision,
): Promise<{ bytes: Uint8Array<ArrayBuffer>; bodyHash: string }> {
  const bytes = await readBody(c.req.raw, Math.min(spec.maxBody, MAX_BODY));
  const bodyHash = sha256HexSync(bytes);
  await verifySignature(key, auth, "POST", path, bytes, bodyHash);
  const body = parseOpBody(spec, parseJsonBytes(bytes));
  d.identity = spec.identityOf?.(body as never);
  return { bytes, bodyHash };
}

/**
 * Re-signs the same body with the proxy's key (the caller's timestamp, nonce and client
 * address kept; none for the admin CLI) and posts it to the vault.
 */
async function _forward(
  options: ProxyOptions,
  timeoutMs: number,
  path: string,
  { auth }: Admitted,
  bytes: Uint8Array<ArrayBuffer>,
  bodyHash: string,
): Promise<{ upstream: Response; text: string }> {
  const headers = await signRequest({
    key: options.vaultKey,
    keyId: PROXY_KEY_ID,
    method: "POST",
    path,
    body: bytes,
    client: auth.keyId === "admin" ? "" : auth.client,
    ts: auth.ts,
    nonce: auth.nonce,
    bodyHash,
  });
  return await postUpstream(
    options.vaultUrl + path,
    headers,
    bytes,
    timeoutMs,
    async (res) => ({ upstream: res, text: await res.text() }),
    (timedOut) =>
      new ApiError(
        timedOut ? 504 : 503,
        timedOut ? "vault_timeout" : "vault_unavailable",
        timedOut ? "the vault did not answer in time" : "the vault is unavailable, retry later",
      ),
  );
}

/** The code of the vault's error envelope, if the answer is one. */
function _errorCodeOf(text: string): string | undefined {
  try {
    return JSON.parse(text)?.error?.code;
  } catch {
    return undefined;
  }
}

/** Counts the decision (by op and code) and logs it, without secrets; identities as tags. */
function _recordDecision(d: Decision): void {
  const allowed = d.status < 400;
  proxyDecisions.inc({
    op: opSpec(d.op) ? d.op : "(unknown)",
    decision: allowed ? "allow" : "deny",
    code: allowed ? "ok" : d.code ?? String(d.status),
  });
  log(allowed ? "info" : "warn", "decision", {
    decision: allowed ? "allow" : "deny",
    op: d.op.slice(0, 64),
    caller: d.caller,
    identity: d.identity ? identityTagSync(d.identity) : undefined,
    status: d.status,
    code: d.code,
    by: allowed ? undefined : d.where,
    ms: Math.round((performance.now() - d.started) * 100) / 100,
  });
}
